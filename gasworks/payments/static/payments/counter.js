/* The counter's search: "/" focuses it, the down arrow moves to the first result. */
document.addEventListener("keydown", function (e) {
  if (e.key === "/" && document.activeElement.tagName !== "INPUT") { e.preventDefault(); document.getElementById("q").focus(); }
  if (e.key === "ArrowDown" && document.activeElement.id === "q") {
    const first = document.querySelector("#results a"); if (first) { e.preventDefault(); first.focus(); }
  }
});
