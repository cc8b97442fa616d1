// One interface's graphs with a range picker: traffic in/out (with its speed and 95th percentiles, labelled) and
// errors and discards per second, from series.json (web/static/onenet/chart-common.js draws what the charts share).
(function () {
  "use strict";
  var box = document.getElementById("chart");
  var errorsBox = document.getElementById("chart-errors");
  if (!box || !errorsBox || !window.echarts || !window.OneNetChart) { return; }
  var C = window.OneNetChart;
  var traffic = echarts.init(box);
  var errors = echarts.init(errorsBox);
  echarts.connect([traffic, errors]);  // zooming one zooms the other
  var label = box.dataset, errorLabel = errorsBox.dataset;
  var fixed = C.fixedIn(label.unit, 1), rate = C.fixedIn(errorLabel.unit, 2);
  function column(points, wall, index, scale) {
    return points.map(function (p) { return [wall(p[0]), scale ? scale(p[index]) : p[index]]; });
  }
  function load(range) {
    C.fetchSeries(box, range).then(function (data) {
      var wall = C.wallClock(data.utc_offsets);
      var lines = [];
      if (data.speed_bps) { lines.push(C.line(label.capacity, C.mbps(data.speed_bps), "#c23531", fixed)); }
      if (data.p95_in_bps !== null) { lines.push(C.line(label.p95 + " " + label.in, C.mbps(data.p95_in_bps), "#d48265", fixed)); }
      if (data.p95_out_bps !== null) { lines.push(C.line(label.p95 + " " + label.out, C.mbps(data.p95_out_bps), "#91c7ae", fixed)); }
      var options = C.layout(data, wall);
      options.tooltip = {trigger: "axis", valueFormatter: fixed};
      options.legend = {top: 0, data: [label.in, label.out]};
      // The speed line is drawn to scale once the traffic reaches half of it; below that it would flatten the traffic.
      options.yAxis = {type: "value", name: label.unit, max: function (v) {
        var speed = C.mbps(data.speed_bps);
        return speed && v.max >= speed / 2 ? Math.max(v.max, speed) : null;
      }};
      options.series = [
        {name: label.in, type: "line", showSymbol: false, data: column(data.points, wall, 1, C.mbps),
         areaStyle: {opacity: 0.15}, markLine: {symbol: "none", silent: true, data: lines}},
        {name: label.out, type: "line", showSymbol: false, data: column(data.points, wall, 2, C.mbps)}];
      traffic.setOption(options, true);
      var names = [errorLabel.inErrors, errorLabel.outErrors, errorLabel.inDiscards, errorLabel.outDiscards];
      var more = C.layout(data, wall);
      more.tooltip = {trigger: "axis", valueFormatter: rate};
      more.legend = {top: 0, data: names};
      more.yAxis = {type: "value", name: errorLabel.unit, minInterval: 0.01};
      more.series = names.map(function (name, i) {
        return {name: name, type: "line", showSymbol: false, data: column(data.points, wall, i + 3)};
      });
      errors.setOption(more, true);
      C.note(label, data);
    });
  }
  C.rangePicker(load);
  window.addEventListener("resize", function () { traffic.resize(); errors.resize(); });
  load(box.dataset.range);
})();
