// A link's time series with a range picker: down and up from series.json, with the capacity and the 95th
// percentiles as labelled lines (web/static/onenet/chart-common.js draws what the charts share).
(function () {
  "use strict";
  var box = document.getElementById("chart");
  if (!box || !window.echarts || !window.OneNetChart) { return; }
  var C = window.OneNetChart;
  var chart = echarts.init(box);
  var label = box.dataset;
  var fixed = C.fixedIn(label.unit, 1);
  function load(range) {
    C.fetchSeries(box, range).then(function (data) {
      var wall = C.wallClock(data.utc_offsets);
      var down = data.points.map(function (p) { return [wall(p[0]), C.mbps(p[1])]; });
      var up = data.points.map(function (p) { return [wall(p[0]), C.mbps(p[2])]; });
      var lines = [C.line(label.capacity, C.mbps(data.capacity_bps), "#c23531", fixed)];
      if (data.p95_down_bps !== null) { lines.push(C.line(label.p95 + " ↓", C.mbps(data.p95_down_bps), "#d48265", fixed)); }
      if (data.p95_up_bps !== null) { lines.push(C.line(label.p95 + " ↑", C.mbps(data.p95_up_bps), "#91c7ae", fixed)); }
      var options = C.layout(data, wall);
      options.tooltip = {trigger: "axis", valueFormatter: fixed};
      options.legend = {top: 0, data: [label.down, label.up]};
      options.yAxis = {type: "value", name: label.unit, max: function (v) { return Math.max(v.max, data.capacity_bps / 1e6); }};
      options.series = [
        {name: label.down, type: "line", showSymbol: false, data: down, areaStyle: {opacity: 0.15},
         markLine: {symbol: "none", silent: true, data: lines}},
        {name: label.up, type: "line", showSymbol: false, data: up}
      ];
      chart.setOption(options, true);
      C.note(label, data);
    });
  }
  C.rangePicker(load);
  window.addEventListener("resize", function () { chart.resize(); });
  load(box.dataset.range);
})();
