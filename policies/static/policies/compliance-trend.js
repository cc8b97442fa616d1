// The Compliance page's daily score per region: data from the page's JSON block (json_script), drawn by ECharts
// (served locally). No inline script: the Content-Security-Policy forbids it.
(function () {
  "use strict";
  var box = document.getElementById("compliance-trend");
  var source = document.getElementById("compliance-trend-data");
  if (!box || !source || !window.echarts) { return; }
  var data = JSON.parse(source.textContent);
  function escape(text) {
    return String(text).replace(/[&<>"']/g, function (c) {
      return {"&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&quot;", "'": "&#39;"}[c];
    });
  }
  var chart = echarts.init(box);
  chart.setOption({
    animationDuration: 300,
    tooltip: {
      trigger: "axis",
      formatter: function (items) {
        var lines = [escape(items.length ? items[0].axisValue : "")];
        items.forEach(function (item) {
          var value = item.value === null || item.value === undefined ? "–" : item.value + "%";
          lines.push(item.marker + escape(item.seriesName) + ": " + escape(value));
        });
        return lines.join("<br>");
      }
    },
    legend: {type: "scroll", data: data.series.map(function (s) { return s.name; })},
    grid: {left: 50, right: 30, top: 50, bottom: 60},
    xAxis: {type: "category", data: data.dates},
    yAxis: {type: "value", name: data.label, min: 0, max: 100},
    dataZoom: [{type: "inside"}, {type: "slider"}],
    series: data.series.map(function (s) {
      return {name: s.name, type: "line", data: s.data, connectNulls: false, showSymbol: data.dates.length <= 31,
              lineStyle: {width: s.scope ? 3 : 1.5}, emphasis: {focus: "series"}};
    })
  });
  window.addEventListener("resize", function () { chart.resize(); });
})();
