/* Gasworks: behaviour every page shares. No inline script or handler anywhere: the
   Content-Security-Policy (script-src 'self') blocks them, so pages declare data-* attributes and
   this file acts on them. htmx.onLoad runs for the page and for every piece htmx swaps in. */
(function () {
  "use strict";

  // Sortable tables: a click on a column header of a table[data-sortable] orders its rows by
  // that column (a cell's data-sort if it has one, else its text; numbers and money as numbers),
  // ascending, then descending; the header says which in aria-sort.
  var collator = new Intl.Collator(document.documentElement.lang || undefined, { numeric: true });

  function sortKey(cell) {
    var text = (cell && (cell.dataset.sort || cell.textContent) || "").trim();
    var number = text.replace(/[¥,\s]/g, "");
    return /^-?\d+(\.\d+)?$/.test(number) ? { n: parseFloat(number) } : { t: text };
  }

  function compare(a, b) {
    if ("n" in a && "n" in b) { return a.n - b.n; }
    return collator.compare(String("n" in a ? a.n : a.t), String("n" in b ? b.n : b.t));
  }

  function sortBy(header) {
    var table = header.closest("table"), body = table.tBodies[0];
    var column = Array.prototype.indexOf.call(header.parentNode.children, header);
    var ascending = header.getAttribute("aria-sort") !== "ascending";
    var rows = Array.prototype.filter.call(body.rows, function (row) { return row.cells.length > column; });
    if (rows.length < 2) { return; }
    rows.sort(function (a, b) {
      var order = compare(sortKey(a.cells[column]), sortKey(b.cells[column]));
      return ascending ? order : -order;
    });
    rows.forEach(function (row) { body.appendChild(row); });
    header.parentNode.querySelectorAll("th").forEach(function (th) { th.removeAttribute("aria-sort"); });
    header.setAttribute("aria-sort", ascending ? "ascending" : "descending");
  }

  document.addEventListener("click", function (event) {
    var header = event.target.closest && event.target.closest("table[data-sortable] thead th");
    if (header && !event.target.closest("a, button, input, select")) { sortBy(header); }
  });
  document.addEventListener("keydown", function (event) {
    var header = event.target.closest && event.target.closest("table[data-sortable] thead th");
    if (header && (event.key === "Enter" || event.key === " ")) { event.preventDefault(); sortBy(header); }
  });

  function init(root) {
    root.querySelectorAll("table[data-sortable] thead th").forEach(function (th) {
      th.tabIndex = 0;
      th.classList.add("gw-sortable");
    });
    // <progress>-like bars: the width comes from data-progress (a style="" attribute is blocked).
    root.querySelectorAll("[data-progress]").forEach(function (bar) {
      bar.style.width = Math.max(0, Math.min(100, parseFloat(bar.dataset.progress) || 0)) + "%";
    });
  }

  // A select that submits its form when changed (filters, the language switch).
  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target.matches && target.matches("select[data-autosubmit]") && target.form) {
      target.form.requestSubmit ? target.form.requestSubmit() : target.form.submit();
    }
  });

  // "Cancel": back to where the user came from (a javascript: link is blocked); else its href.
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a[data-back]");
    if (link && window.history.length > 1) {
      event.preventDefault();
      window.history.back();
    }
  });

  // A form sent once: its submit button is disabled once it is on its way.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.matches && form.matches("form[data-submit-once]")) {
      form.querySelectorAll("button[type=submit]").forEach(function (button) { button.disabled = true; });
    }
  });

  // A print button (report print layouts): the browser's print dialog.
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-print]");
    if (button) { event.preventDefault(); window.print(); }
  });

  if (window.htmx) {
    window.htmx.onLoad(init);
  } else {
    document.addEventListener("DOMContentLoaded", function () { init(document); });
  }
})();
