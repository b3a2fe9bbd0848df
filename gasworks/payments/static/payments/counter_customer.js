/* The counter's payment form: the change for cash, F1–F3 pick the method, Escape goes back. */
(function () {
  const amount = document.getElementById("id_amount"), tendered = document.getElementById("id_tendered");
  const change = document.getElementById("change"), cashBox = document.getElementById("cash-box");
  const radios = document.querySelectorAll("input[name=method]");
  // Whole fen arithmetic: no float rounding surprises in the change shown.
  const fen = (v) => { const m = /^\s*(\d+)(?:\.(\d{0,2}))?\s*$/.exec(v || ""); return m ? parseInt(m[1], 10) * 100 + parseInt((m[2] || "").padEnd(2, "0") || "0", 10) : null; };
  function update() {
    const method = document.querySelector("input[name=method]:checked");
    cashBox.hidden = !method || method.value !== "cash";
    const a = fen(amount.value), t = fen(tendered.value);
    change.textContent = (a !== null && t !== null && t >= a) ? "¥" + ((t - a) / 100).toFixed(2) : "¥0.00";
  }
  [amount, tendered].forEach((el) => el.addEventListener("input", update));
  radios.forEach((el) => el.addEventListener("change", update));
  document.addEventListener("keydown", function (e) {
    const n = ["F1", "F2", "F3"].indexOf(e.key);
    if (n >= 0 && radios[n]) { e.preventDefault(); radios[n].checked = true; update(); (radios[n].value === "cash" ? tendered : amount).focus(); }
    if (e.key === "Escape") { window.location = document.getElementById("pay-form").dataset.escapeTo; }
  });
  update();
})();
