// Pier web UI: the only script. Copy buttons, and a confirmation before destructive forms.
// Everything works without it (the server checks every action).
document.addEventListener("click", (e) => {
  const b = e.target.closest("button.copy");
  if (!b) return;
  const el = document.getElementById(b.dataset.copy);
  if (el && navigator.clipboard) {
    navigator.clipboard.writeText(el.textContent.trim()).then(() => {
      b.textContent = "Copied";
      setTimeout(() => (b.textContent = "Copy"), 1500);
    });
  }
});
document.addEventListener("submit", (e) => {
  const f = e.target.closest("form.confirm");
  if (f && f.dataset.confirm && !window.confirm(f.dataset.confirm)) e.preventDefault();
});
