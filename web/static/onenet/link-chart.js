// A link's time series with a range picker: data from series.json, drawn by ECharts (served locally).
(function () {
  "use strict";
  var box = document.getElementById("chart");
  if (!box || !window.echarts) { return; }
  var chart = echarts.init(box);
  var label = box.dataset;
  function mbps(v) { return v === null ? null : v / 1e6; }
  // Times show in the console's configured zone (data.time_zone), whatever the browser's: each instant is moved to
  // its wall clock in that zone (data.utc_offsets: [[from ms, offset ms], ...]) and the chart formats it as UTC.
  function wallClock(offsets) {
    return function (ms) {
      var offset = offsets[0][1];
      for (var i = 1; i < offsets.length && offsets[i][0] <= ms; i++) { offset = offsets[i][1]; }
      return ms + offset;
    };
  }
  function load(range) {
    fetch(box.dataset.series + "?range=" + encodeURIComponent(range), {credentials: "same-origin"})
      .then(function (r) { return r.json(); })
      .then(function (data) {
        var wall = wallClock(data.utc_offsets);
        var down = data.points.map(function (p) { return [wall(p[0]), mbps(p[1])]; });
        var up = data.points.map(function (p) { return [wall(p[0]), mbps(p[2])]; });
        chart.setOption({
          useUTC: true,
          tooltip: {trigger: "axis", valueFormatter: function (v) { return v === null ? "–" : v.toFixed(1) + " Mbit/s"; }},
          legend: {data: [label.down, label.up]},
          xAxis: {type: "time", min: wall(data.start), max: wall(data.end)},
          yAxis: {type: "value", name: "Mbit/s", max: function (v) { return Math.max(v.max, data.capacity_bps / 1e6); }},
          dataZoom: [{type: "inside"}, {type: "slider"}],
          series: [
            {name: label.down, type: "line", showSymbol: false, data: down, areaStyle: {opacity: 0.15},
             markLine: {symbol: "none", data: [
               {name: label.capacity, yAxis: data.capacity_bps / 1e6, label: {formatter: label.capacity}},
               {name: label.p95, yAxis: mbps(data.p95_down_bps), label: {formatter: label.p95}}]}},
            {name: label.up, type: "line", showSymbol: false, data: up}
          ]
        }, true);
        document.getElementById("chart-note").textContent = data.points.length + " points (" + data.source + "; " + data.time_zone + ")";
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
