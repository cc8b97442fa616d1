// The change page follows a change while it moves (the dry run, the roll-out, confirmations): it asks the change's
// progress (JSON) every few seconds and updates each device's status and outcome in place. When the change itself
// moves on, or a device now waits for a decision, the page reloads so that its diffs and buttons are current.
// Device text goes in as text (textContent), never as HTML. Without this script the page has a plain reload link.
(function () {
  "use strict";
  const live = document.getElementById("change-live");
  if (!live || !window.fetch) return;
  const url = live.dataset.progressUrl;
  const shownStatus = live.dataset.status;
  const DECISIONS = ["awaiting_confirm", "needs_attention"];
  const EVERY_MS = 2000;
  let delay = EVERY_MS;

  function setText(row, selector, text) {
    const cell = row.querySelector(selector);
    if (cell && cell.textContent !== text) cell.textContent = text;
  }

  // Returns whether to keep following.
  function show(progress) {
    if (progress.status !== shownStatus) {
      window.location.reload();
      return false;
    }
    let reload = false;
    for (const task of progress.tasks) {
      const row = document.querySelector('tr[data-task="' + Number(task.id) + '"]');
      if (!row) {
        reload = true;
        continue;
      }
      if (row.dataset.status !== task.status && DECISIONS.indexOf(task.status) >= 0) reload = true;
      row.dataset.status = task.status;
      setText(row, ".task-status", task.status_label);
      setText(row, ".task-reason", task.reason);
      setText(row, ".task-deadline", task.confirm_deadline);
    }
    if (reload) {
      window.location.reload();
      return false;
    }
    return progress.live;
  }

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.json();
      })
      .then(function (progress) {
        delay = EVERY_MS;
        if (show(progress)) window.setTimeout(poll, delay);
      })
      .catch(function () {
        delay = Math.min(delay * 2, 30000); // the console or the link is slow: ask less often
        window.setTimeout(poll, delay);
      });
  }

  window.setTimeout(poll, delay);
})();
