// One interface's graphs with a range picker: traffic in/out (with its speed and 95th percentiles, labelled) and
// errors and discards per second, from series.json, drawn by ECharts (served locally). The words come translated
// from the template's data- attributes; the legend sits at the top, the zoom slider at the bottom.
(function () {
  "use strict";
  var box = document.getElementById("chart");
  var errorsBox = document.getElementById("chart-errors");
  if (!box || !errorsBox || !window.echarts) { return; }
  var traffic = echarts.init(box);
  var errors = echarts.init(errorsBox);
  echarts.connect([traffic, errors]);  // zooming one zooms the other
  var label = box.dataset, errorLabel = errorsBox.dataset;
  function mbps(v) { return v === null || v === undefined ? null : v / 1e6; }
  function fixed(v) { return v === null || v === undefined ? "–" : v.toFixed(1) + " " + label.unit; }
  function rate(v) { return v === null || v === undefined ? "–" : v.toFixed(2) + " " + errorLabel.unit; }
  function wallClock(offsets) {
    return function (ms) {
      var offset = offsets[0][1];
      for (var i = 1; i < offsets.length && offsets[i][0] <= ms; i++) { offset = offsets[i][1]; }
      return ms + offset;
    };
  }
  function line(name, value, colour) {
    return {name: name, yAxis: value, lineStyle: {color: colour, type: "dashed"},
            label: {show: true, position: "insideEndTop", formatter: name + ": " + fixed(value)}};
  }
  function column(points, wall, index, scale) {
    return points.map(function (p) { return [wall(p[0]), scale ? scale(p[index]) : p[index]]; });
  }
  function layout(data, wall) {
    return {useUTC: true, grid: {top: 48, bottom: 72, left: 64, right: 24},
            xAxis: {type: "time", min: wall(data.start), max: wall(data.end)},
            dataZoom: [{type: "inside"}, {type: "slider", bottom: 8, height: 24}]};
  }
  function load(range) {
    fetch(box.dataset.series + "?range=" + encodeURIComponent(range), {credentials: "same-origin"})
      .then(function (r) { return r.json(); })
      .then(function (data) {
        var wall = wallClock(data.utc_offsets);
        var lines = [];
        if (data.speed_bps) { lines.push(line(label.capacity, mbps(data.speed_bps), "#c23531")); }
        if (data.p95_in_bps !== null) { lines.push(line(label.p95 + " " + label.in, mbps(data.p95_in_bps), "#d48265")); }
        if (data.p95_out_bps !== null) { lines.push(line(label.p95 + " " + label.out, mbps(data.p95_out_bps), "#91c7ae")); }
        var options = layout(data, wall);
        options.tooltip = {trigger: "axis", valueFormatter: fixed};
        options.legend = {top: 0, data: [label.in, label.out]};
        // The speed line is drawn to scale once the traffic reaches half of it; below that it would flatten the traffic.
        options.yAxis = {type: "value", name: label.unit, max: function (v) {
          var speed = mbps(data.speed_bps);
          return speed && v.max >= speed / 2 ? Math.max(v.max, speed) : null;
        }};
        options.series = [
          {name: label.in, type: "line", showSymbol: false, data: column(data.points, wall, 1, mbps),
           areaStyle: {opacity: 0.15}, markLine: {symbol: "none", silent: true, data: lines}},
          {name: label.out, type: "line", showSymbol: false, data: column(data.points, wall, 2, mbps)}];
        traffic.setOption(options, true);
        var names = [errorLabel.inErrors, errorLabel.outErrors, errorLabel.inDiscards, errorLabel.outDiscards];
        var more = layout(data, wall);
        more.tooltip = {trigger: "axis", valueFormatter: rate};
        more.legend = {top: 0, data: names};
        more.yAxis = {type: "value", name: errorLabel.unit, minInterval: 0.01};
        more.series = names.map(function (name, i) {
          return {name: name, type: "line", showSymbol: false, data: column(data.points, wall, i + 3)};
        });
        errors.setOption(more, true);
        var source = data.source === "samples" ? label.sourceSamples : label.sourceHourly;
        document.getElementById("chart-note").textContent = data.points.length ? label.note
          .replace("{points}", data.points.length).replace("{source}", source).replace("{zone}", data.time_zone)
          : label.none;
      });
  }
  document.querySelectorAll(".ranges a").forEach(function (a) {
    a.addEventListener("click", function (event) {
      event.preventDefault();
      document.querySelectorAll(".ranges a").forEach(function (b) { b.classList.remove("active"); });
      a.classList.add("active");
      history.replaceState(null, "", "?range=" + a.dataset.range);
      load(a.dataset.range);
    });
  });
  window.addEventListener("resize", function () { traffic.resize(); errors.resize(); });
  load(box.dataset.range);
})();
