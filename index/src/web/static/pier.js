// Pier web UI: the only script. Copy buttons, a confirmation before destructive forms,
// and the token-flow page's periodic reload.
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
const live = document.querySelector("[data-live]");
if (live) setTimeout(() => location.reload(), 1000 * Number(live.dataset.live));
