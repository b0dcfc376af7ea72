// An import being applied: ask how far it got every two seconds, move the bar, and show the
// result when it is done. Without JavaScript the page's "Refresh" link does the same.
(function () {
  "use strict";
  var box = document.querySelector("[data-import-progress]");
  if (!box || !window.fetch) return;
  var bar = box.querySelector("[data-bar]");
  var done = box.querySelector("[data-done]");
  var percent = box.querySelector("[data-percent]");

  function poll() {
    fetch(box.dataset.url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (state) {
        if (!state) return setTimeout(poll, 5000);
        if (state.finished) return window.location.reload();
        bar.value = state.percent;
        bar.textContent = state.percent + "%";
        done.textContent = state.rows_done;
        percent.textContent = state.percent;
        setTimeout(poll, 2000);
      })
      .catch(function () { setTimeout(poll, 5000); });
  }
  setTimeout(poll, 1000);
})();
