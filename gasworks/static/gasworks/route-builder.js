// The reading-route builder: drag a stop to reorder (the new order is posted and kept by the
// server), and "select all" for the meters found. Without JavaScript the arrows still work.
document.addEventListener("DOMContentLoaded", () => {
  for (const box of document.querySelectorAll("[data-select-all]")) {
    box.addEventListener("change", () => {
      const form = box.closest("form");
      for (const item of form.querySelectorAll(`input[name="${box.dataset.selectAll}"]:not(:disabled)`)) {
        item.checked = box.checked;
      }
    });
  }
  const list = document.getElementById("route-stops");
  const form = document.getElementById("route-order-form");
  if (!list || !form) return;
  let dragged = null;
  let moved = false;
  list.addEventListener("dragstart", (event) => {
    dragged = event.target.closest("li[data-meter]");
    moved = false;
    if (dragged) {
      event.dataTransfer.effectAllowed = "move";
      dragged.classList.add("opacity-50");
    }
  });
  list.addEventListener("dragover", (event) => {
    const over = event.target.closest("li[data-meter]");
    if (!dragged || !over || over === dragged) return;
    event.preventDefault();
    const box = over.getBoundingClientRect();
    const after = event.clientY > box.top + box.height / 2;
    list.insertBefore(dragged, after ? over.nextSibling : over);
    moved = true;
  });
  list.addEventListener("drop", (event) => event.preventDefault());
  list.addEventListener("dragend", () => {
    if (!dragged) return;
    dragged.classList.remove("opacity-50");
    dragged = null;
    if (!moved) return;
    for (const item of list.querySelectorAll("li[data-meter]")) {
      const input = document.createElement("input");
      input.type = "hidden";
      input.name = "meter";
      input.value = item.dataset.meter;
      form.appendChild(input);
    }
    form.submit();
  });
});
