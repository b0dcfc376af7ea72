// The billing lists' selection: tick every row of the page at once, and say how many are ticked.
// Without JavaScript each box is ticked by hand and the server checks the rest.
(function () {
  "use strict";
  document.querySelectorAll("[data-selection]").forEach(function (form) {
    var boxes = Array.prototype.slice.call(form.querySelectorAll('input[name="p"]'));
    var pickPage = form.querySelector("[data-pick-page]");
    var text = form.querySelector("[data-selected-text]");
    var format = new Intl.NumberFormat(document.documentElement.lang || undefined);

    function show() {
      var n = boxes.filter(function (box) { return box.checked; }).length;
      if (text) text.textContent = n ? text.dataset.some.replace("%(n)s", format.format(n)) : text.dataset.none;
      if (pickPage) pickPage.checked = boxes.length > 0 && n === boxes.length;
    }

    form.addEventListener("change", function (event) {
      if (event.target === pickPage) {
        boxes.forEach(function (box) { box.checked = pickPage.checked; });
      }
      show();
    });
    show();
  });
})();
