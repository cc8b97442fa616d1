// What the link and the interface charts share (both drawn by ECharts, served locally): bit/s in Mbit/s, times at
// the configured zone's wall clock, labelled horizontal lines, the layout that keeps the legend off the zoom slider,
// the note under the chart and the range picker. Every word comes translated from the template's data- attributes.
window.OneNetChart = (function () {
  "use strict";
  function mbps(v) { return v === null || v === undefined ? null : v / 1e6; }
  function fixedIn(unit, digits) {
    return function (v) { return v === null || v === undefined ? "–" : v.toFixed(digits) + " " + unit; };
  }
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
  function line(name, value, colour, format) {
    return {name: name, yAxis: value, lineStyle: {color: colour, type: "dashed"},
            label: {show: true, position: "insideEndTop", formatter: name + ": " + format(value)}};
  }
  // The legend at the top, the zoom slider at the bottom, the grid's margins between them.
  function layout(data, wall) {
    return {useUTC: true, grid: {top: 48, bottom: 72, left: 64, right: 24},
            xAxis: {type: "time", min: wall(data.start), max: wall(data.end)},
            dataZoom: [{type: "inside"}, {type: "slider", bottom: 8, height: 24}]};
  }
  function note(label, data) {
    var source = data.source === "samples" ? label.sourceSamples : label.sourceHourly;
    document.getElementById("chart-note").textContent = data.points.length ? label.note
      .replace("{points}", data.points.length).replace("{source}", source).replace("{zone}", data.time_zone)
      : label.none;
  }
  // The range links: each reloads the chart (and the address) without leaving the page.
  function rangePicker(load) {
    document.querySelectorAll(".ranges a").forEach(function (a) {
      a.addEventListener("click", function (event) {
        event.preventDefault();
        document.querySelectorAll(".ranges a").forEach(function (b) { b.classList.remove("active"); });
        a.classList.add("active");
        history.replaceState(null, "", "?range=" + a.dataset.range);
        load(a.dataset.range);
      });
    });
  }
  function fetchSeries(box, range) {
    return fetch(box.dataset.series + "?range=" + encodeURIComponent(range), {credentials: "same-origin"})
      .then(function (r) { return r.json(); });
  }
  return {mbps: mbps, fixedIn: fixedIn, wallClock: wallClock, line: line, layout: layout, note: note,
          rangePicker: rangePicker, fetchSeries: fetchSeries};
})();
