// The import page while the worker checks or applies the file: the bar follows the job, and
// the page reloads to show the report once the job is done. Without JavaScript the page
// refreshes itself (a <noscript> refresh) instead.
(function () {
  "use strict";
  var panel = document.querySelector("[data-progress-url]");
  if (!panel) { return; }
  var bar = document.getElementById("import-bar");
  var percent = document.getElementById("import-percent");
  var title = document.getElementById("progress-title");
  var url = panel.getAttribute("data-progress-url");
  var status = null;

  function poll() {
    fetch(url, { headers: { "Accept": "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (job) {
        if (!job) { return window.setTimeout(poll, 3000); }
        if (!job.working) { return window.location.reload(); }
        status = job.status;
        // No figure yet (a job just claimed, or one applied where the database reports at the end
        // only): the bar moves without a value, so the page is seen to be working.
        if (job.percent > 0) { bar.value = job.percent; } else { bar.removeAttribute("value"); }
        bar.textContent = job.percent + "%";
        percent.textContent = job.percent;
        title.textContent = job.label + "…";
        window.setTimeout(poll, 700);
      })
      .catch(function () { window.setTimeout(poll, 3000); });
  }
  window.setTimeout(poll, 500);
})();
