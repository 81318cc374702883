/* The notice board's only script: filtering and searching the index, and unfolding
   the technical details for printing. Without it every notice is shown and the
   details fold open by hand; it makes no request. The filters also start from the
   address: index.html?system=core-banking&env=prod&q=interest */
(function () {
  "use strict";

  function text(value) {
    return (value || "").toLowerCase();
  }

  function setUpFilters(form) {
    var rows = Array.prototype.slice.call(document.querySelectorAll("tr[data-rg-row]"));
    var none = document.getElementById("rg-no-match");
    var count = document.getElementById("rg-count");
    var total = count ? count.textContent : "";
    var fields = form.elements;

    function apply() {
      var system = fields.system.value;
      var env = fields.env.value;
      var words = text(fields.q.value).split(/\s+/).filter(Boolean);
      var shown = 0;
      rows.forEach(function (row) {
        var haystack = row.getAttribute("data-search");
        var visible = (!system || row.getAttribute("data-system") === system) &&
          (env === "*" || row.getAttribute("data-env") === env) &&
          words.every(function (word) { return haystack.indexOf(word) !== -1; });
        row.hidden = !visible;
        shown += visible ? 1 : 0;
      });
      if (none) {
        none.hidden = shown !== 0;
      }
      if (count) {
        count.textContent = shown === rows.length ? total :
          count.getAttribute("data-shown-template").replace("{shown}", String(shown));
      }
    }

    function choose(select, value) {
      for (var i = 0; i < select.options.length; i += 1) {
        if (select.options[i].value === value) {
          select.value = value;
        }
      }
    }

    var params = new URLSearchParams(window.location.search);
    choose(fields.system, params.get("system") || "");
    choose(fields.env, params.has("env") ? params.get("env") : "*");
    fields.q.value = params.get("q") || "";
    form.addEventListener("input", apply);
    form.addEventListener("change", apply);
    form.addEventListener("submit", function (event) { event.preventDefault(); });
    form.hidden = false;
    apply();
  }

  function unfoldForPrinting() {
    var unfolded = [];
    window.addEventListener("beforeprint", function () {
      document.querySelectorAll("details:not([open])").forEach(function (details) {
        details.open = true;
        unfolded.push(details);
      });
    });
    window.addEventListener("afterprint", function () {
      unfolded.forEach(function (details) { details.open = false; });
      unfolded = [];
    });
  }

  var form = document.getElementById("rg-filters");
  if (form) {
    setUpFilters(form);
  }
  unfoldForPrinting();
}());
