// The console works without this file; it only adds "select all on this page" checkboxes.
document.addEventListener("change", (event) => {
  const box = event.target;
  const name = box instanceof HTMLInputElement ? box.dataset.selectAll : undefined;
  if (!name) return;
  for (const other of box.form.querySelectorAll(`input[name="${name}"]`)) {
    other.checked = box.checked;
  }
});
