// The alert queue: the header's box ticks or clears every incident on the page (the bulk form posts the ticked).
document.addEventListener("DOMContentLoaded", () => {
  const all = document.querySelector("input[data-select-all]");
  if (!all) return;
  all.addEventListener("change", () => {
    document.querySelectorAll('input[type="checkbox"][name="incident"]').forEach((box) => { box.checked = all.checked; });
  });
});
