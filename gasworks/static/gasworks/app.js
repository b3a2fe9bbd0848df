/* Gasworks: behaviour every page shares. No inline script or handler anywhere: the
   Content-Security-Policy (script-src 'self') blocks them, so pages declare data-* attributes and
   this file acts on them. htmx.onLoad runs for the page and for every piece htmx swaps in. */
(function () {
  "use strict";

  function init(root) {
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

  // A form sent once: its submit button is disabled once it is on its way.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.matches && form.matches("form[data-submit-once]")) {
      form.querySelectorAll("button[type=submit]").forEach(function (button) { button.disabled = true; });
    }
  });

  if (window.htmx) {
    window.htmx.onLoad(init);
  } else {
    document.addEventListener("DOMContentLoaded", function () { init(document); });
  }
})();
