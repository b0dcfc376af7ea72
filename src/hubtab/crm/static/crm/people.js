// The people list: the condition builder's value fields, the selection and its actions.
// Everything here also works without JavaScript, one page load at a time.
(function () {
  "use strict";
  var filter = document.getElementById("people-filter");
  var templates = document.getElementById("value-templates");

  function valueFor(takes) {
    var source = templates && templates.content.querySelector('[data-takes="' + takes + '"]');
    return source ? source.cloneNode(true).innerHTML : '<input name="v">';
  }

  if (filter) {
    filter.addEventListener("change", function (event) {
      var kind = event.target.closest("[data-kind]");
      if (!kind) return;
      var option = kind.options[kind.selectedIndex];
      var row = kind.closest("[data-condition]");
      row.querySelector("[data-value]").innerHTML = valueFor(option.dataset.takes || "text");
      var first = row.querySelector("[data-value] input:not([type=hidden]), [data-value] select");
      if (first) first.focus();
    });
    filter.addEventListener("click", function (event) {
      var remove = event.target.closest("[data-remove]");
      if (!remove) return;
      var row = remove.closest("[data-condition]");
      row.querySelector("[data-kind]").value = "";
      row.querySelector("[data-value]").innerHTML = valueFor("text");
      filter.submit();
    });
  }

  var selection = document.querySelector("[data-selection]");
  if (!selection) return;
  var boxes = Array.prototype.slice.call(selection.querySelectorAll('input[name="p"]'));
  var pickPage = selection.querySelector("[data-pick-page]");
  var all = selection.querySelector("[data-all]");
  var selectAll = selection.querySelector("[data-select-all]");
  var clear = selection.querySelector("[data-clear]");
  var text = selection.querySelector("[data-selected-text]");
  var result = selection.querySelector("[data-copy-result]");
  var bar = selection.querySelector("[data-bulk-bar]");
  var pill = selection.querySelector("[data-selection-pill]");
  var barInView = true;
  var total = Number(selectAll ? selectAll.dataset.total : 0);
  var format = new Intl.NumberFormat(document.documentElement.lang || undefined);
  var plural = new Intl.PluralRules(document.documentElement.lang || undefined);
  // A word comes in the language's plural forms ({one, other}); say it for n.
  function say(word, n) {
    return (word[plural.select(n)] || word.other).replace("%(n)s", format.format(n));
  }
  var words = JSON.parse(document.getElementById("people-words").textContent);

  function chosen() {
    return boxes.filter(function (box) { return box.checked; }).length;
  }

  function show() {
    var n = all.value === "1" ? total : chosen();
    selection.classList.toggle("has-selection", n > 0);
    text.textContent = n > 0 ? say(all.value === "1" ? words.all : words.some, n) : words.none;
    clear.hidden = n === 0;
    selectAll.hidden = all.value === "1" || total <= boxes.length && n === total;
    // On a phone the bar stays above the list: a pill at the bottom says how many are selected
    // and leads back to the actions.
    if (pill) {
      pill.hidden = n === 0 || barInView;
      pill.querySelector("[data-pill-count]").textContent = text.textContent;
    }
    if (pickPage) pickPage.checked = boxes.length > 0 && chosen() === boxes.length;
  }

  if (pill && bar && window.IntersectionObserver) {
    new IntersectionObserver(function (entries) {
      barInView = entries[0].isIntersecting;
      show();
    }).observe(bar);
  } else {
    barInView = false;
  }

  selection.addEventListener("change", function (event) {
    if (event.target === pickPage) {
      boxes.forEach(function (box) { box.checked = pickPage.checked; });
    }
    if (event.target.name === "p" || event.target === pickPage) {
      if (!event.target.checked) all.value = "0";
    }
    show();
  });
  selectAll.addEventListener("click", function () {
    all.value = "1";
    boxes.forEach(function (box) { box.checked = true; });
    show();
  });
  clear.addEventListener("click", function () {
    all.value = "0";
    boxes.forEach(function (box) { box.checked = false; });
    show();
  });

  selection.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-confirm]");
    if (button && !window.confirm(button.dataset.confirm)) event.preventDefault();
  });

  var copy = selection.querySelector("[data-copy-emails]");
  copy.addEventListener("click", function (event) {
    event.preventDefault();
    var data = new FormData(selection);
    data.set("format", "text");
    fetch(copy.getAttribute("formaction"), { method: "POST", body: data, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) throw new Error(String(response.status));
        var count = Number(response.headers.get("X-Count") || 0);
        var leftOut = Number(response.headers.get("X-Left-Out") || 0);
        var withoutConsent = Number(response.headers.get("X-Without-Consent") || 0);
        return response.text().then(function (emails) {
          return { emails: emails, count: count, leftOut: leftOut, withoutConsent: withoutConsent };
        });
      })
      .then(function (got) {
        // Say how many of the selection have not agreed to marketing emails: left out, or copied.
        var consent = got.leftOut ? say(words.left_out, got.leftOut)
          : got.withoutConsent ? say(words.not_agreed, got.withoutConsent) : "";
        var said = say(words.copied, got.count) + (consent ? " " + consent : "");
        result.hidden = false;
        result.textContent = "";
        var done = function () { result.textContent = said; };
        var fallback = function () {
          var area = document.createElement("textarea");
          area.className = "emails";
          area.rows = 6;
          area.readOnly = true;
          area.value = got.emails;
          var note = document.createElement("p");
          note.textContent = say(words.copy_yourself, got.count) + (consent ? " " + consent : "");
          result.appendChild(note);
          result.appendChild(area);
          area.focus();
          area.select();
        };
        if (navigator.clipboard && window.isSecureContext) {
          navigator.clipboard.writeText(got.emails).then(done, fallback);
        } else {
          fallback();
        }
      })
      .catch(function () {
        selection.action = copy.getAttribute("formaction");
        selection.submit();
      });
  });
  show();
})();

(function () {
  "use strict";
  document.querySelectorAll("[data-select-on-focus]").forEach(function (area) {
    area.addEventListener("focus", function () { area.select(); });
    area.focus();
  });
  document.querySelectorAll("form[data-confirm-form]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.dataset.confirmForm)) event.preventDefault();
    });
  });
})();
