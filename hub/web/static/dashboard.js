// The dashboard without inline script (the Content-Security-Policy allows none): the period
// picker submits on change, and each bar takes its width from data-width (a percentage).
"use strict";
for (const select of document.querySelectorAll("select[data-autosubmit]")) {
  select.addEventListener("change", () => select.form.submit());
}
for (const bar of document.querySelectorAll("[data-width]")) {
  const percent = Number.parseFloat(bar.dataset.width);
  if (Number.isFinite(percent)) bar.style.width = `${Math.max(0, Math.min(100, percent))}%`;
}
