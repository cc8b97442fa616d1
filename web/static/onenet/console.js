// Console behaviour that needs a script, kept out of the pages: the Content-Security-Policy forbids inline script.
document.addEventListener("change", (event) => {
  if (event.target.matches("select[data-submit-on-change]")) event.target.form.submit();
});
