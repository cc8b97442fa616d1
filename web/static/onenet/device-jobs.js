// The device page follows its "back up now" / "poll now" jobs: the status JSON every few seconds, each job's line
// updated in place (text only: the server's words, never HTML), and the page reloaded once they have all ended so
// the new rates, tables and config version show.
(function () {
  "use strict";
  var box = document.getElementById("device-jobs");
  if (!box || !box.dataset.open) { return; }
  var list = box.querySelector(".jobs");
  function show(jobs) {
    list.textContent = "";
    jobs.forEach(function (job) {
      var item = document.createElement("li");
      item.className = "job job-" + job.kind + " run-" + job.status + (job.open ? " progress" : "");
      item.dataset.kind = job.kind;
      item.textContent = job.text;
      list.appendChild(item);
    });
  }
  function check() {
    fetch(box.dataset.status, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (r) { return r.json(); })
      .then(function (data) {
        show(data.jobs);
        if (data.open) { setTimeout(check, 3000); } else { window.location.reload(); }
      })
      .catch(function () { setTimeout(check, 10000); });
  }
  setTimeout(check, 2000);
})();
