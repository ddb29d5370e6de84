// The quarterly report button: start the job, show its progress, then offer the PDF.
// Without JavaScript the form still starts the job (the answer is the job's JSON).
"use strict";
for (const form of document.querySelectorAll("form[data-report-job]")) {
  const button = form.querySelector("button[type=submit]");
  const bar = form.querySelector("progress");
  const stage = form.querySelector("[data-stage]");
  const link = form.querySelector("a[data-file]");
  const show = (job) => {
    bar.hidden = false;
    bar.value = job.progress;
    stage.textContent = `${job.progress} % · ${job.stage}`;
  };
  const fail = (text) => {
    stage.textContent = text;
    stage.classList.add("error-text");
    button.disabled = false;
  };
  const poll = async (url) => {
    const response = await fetch(url, { headers: { Accept: "application/json" } });
    if (!response.ok) return fail(`Lỗi / Error ${response.status}`);
    const job = await response.json();
    show(job);
    if (job.state === "done") {
      link.href = job.file;
      link.download = job.filename;
      link.hidden = false;
      button.disabled = false;
    } else if (job.state === "failed") {
      fail(`${job.stage} (${job.error})`);
    } else {
      setTimeout(() => poll(url), 700);
    }
  };
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    button.disabled = true;
    link.hidden = true;
    stage.classList.remove("error-text");
    const response = await fetch(form.action, { method: "POST", body: new FormData(form) });
    if (response.status !== 202) {
      let detail = `Lỗi / Error ${response.status}`;
      try { detail = (await response.json()).detail || detail; } catch (_) { /* not JSON */ }
      return fail(detail);
    }
    const job = await response.json();
    show(job);
    poll(response.headers.get("Location") || `/reports/jobs/${job.id}`);
  });
}
