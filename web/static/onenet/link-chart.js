// A link's time series with a range picker: data from series.json, drawn by ECharts (served locally).
// Every word the chart shows (legend, tooltip unit, line labels, the note) comes translated from the template's
// data- attributes. Layout: the legend at the top, the zoom slider at the bottom, the grid's margins between them,
// so the legend never covers the slider.
(function () {
  "use strict";
  var box = document.getElementById("chart");
  if (!box || !window.echarts) { return; }
  var chart = echarts.init(box);
  var label = box.dataset;
  function mbps(v) { return v === null || v === undefined ? null : v / 1e6; }
  function fixed(v) { return v === null || v === undefined ? "–" : v.toFixed(1) + " " + label.unit; }
  // Times show in the console's configured zone (data.time_zone), whatever the browser's: each instant is moved to
  // its wall clock in that zone (data.utc_offsets: [[from ms, offset ms], ...]) and the chart formats it as UTC.
  function wallClock(offsets) {
    return function (ms) {
      var offset = offsets[0][1];
      for (var i = 1; i < offsets.length && offsets[i][0] <= ms; i++) { offset = offsets[i][1]; }
      return ms + offset;
    };
  }
  // A labelled horizontal line (capacity, 95th percentile): its name and value written on it.
  function line(name, value, colour) {
    return {name: name, yAxis: value, lineStyle: {color: colour, type: "dashed"},
            label: {show: true, position: "insideEndTop", formatter: name + ": " + fixed(value)}};
  }
  function note(data) {
    var source = data.source === "samples" ? label.sourceSamples : label.sourceHourly;
    document.getElementById("chart-note").textContent = data.points.length ? label.note
      .replace("{points}", data.points.length).replace("{source}", source).replace("{zone}", data.time_zone)
      : label.none;
  }
  function load(range) {
    fetch(box.dataset.series + "?range=" + encodeURIComponent(range), {credentials: "same-origin"})
      .then(function (r) { return r.json(); })
      .then(function (data) {
        var wall = wallClock(data.utc_offsets);
        var down = data.points.map(function (p) { return [wall(p[0]), mbps(p[1])]; });
        var up = data.points.map(function (p) { return [wall(p[0]), mbps(p[2])]; });
        var lines = [line(label.capacity, mbps(data.capacity_bps), "#c23531")];
        if (data.p95_down_bps !== null) { lines.push(line(label.p95 + " ↓", mbps(data.p95_down_bps), "#d48265")); }
        if (data.p95_up_bps !== null) { lines.push(line(label.p95 + " ↑", mbps(data.p95_up_bps), "#91c7ae")); }
        chart.setOption({
          useUTC: true,
          grid: {top: 48, bottom: 72, left: 64, right: 24},
          tooltip: {trigger: "axis", valueFormatter: fixed},
          legend: {top: 0, data: [label.down, label.up]},
          xAxis: {type: "time", min: wall(data.start), max: wall(data.end)},
          yAxis: {type: "value", name: label.unit, max: function (v) { return Math.max(v.max, data.capacity_bps / 1e6); }},
          dataZoom: [{type: "inside"}, {type: "slider", bottom: 8, height: 24}],
          series: [
            {name: label.down, type: "line", showSymbol: false, data: down, areaStyle: {opacity: 0.15},
             markLine: {symbol: "none", silent: true, data: lines}},
            {name: label.up, type: "line", showSymbol: false, data: up}
          ]
        }, true);
        note(data);
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
  window.addEventListener("resize", function () { chart.resize(); });
  load(box.dataset.range);
})();
