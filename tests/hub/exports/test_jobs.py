"""Report jobs: run off the caller's thread, progress only forwards, owners only, failures kept."""

from __future__ import annotations

import threading
import time

import pytest

from hub.exports.gather import Progress
from hub.exports.jobs import Job, Jobs, TooManyJobs


def _wait(jobs: Jobs, job: Job, owner: str = "head") -> dict[str, object]:
    deadline = time.monotonic() + 10
    while True:
        status = jobs.status(job.id, owner)
        assert status is not None
        if status["state"] in ("done", "failed"):
            return status
        assert time.monotonic() < deadline, status
        time.sleep(0.01)


def test_a_job_runs_on_another_thread_and_reports_progress() -> None:
    jobs = Jobs()
    release = threading.Event()
    seen: list[str] = []

    def work(progress: Progress) -> bytes:
        seen.append(threading.current_thread().name)
        progress(40, "half / half")
        progress(30, "a split flowable counted twice")  # never shown as going back
        assert release.wait(5)
        progress(120, "over")  # 100 is kept for "done"
        return b"%PDF-1.4 ..."

    job = jobs.submit("head", "q.pdf", "application/pdf", work)
    assert job.state in ("queued", "running")  # submit returned while the work waits
    deadline = time.monotonic() + 5
    while (jobs.status(job.id, "head") or {}).get("progress") != 40:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    status = jobs.status(job.id, "head")
    assert status is not None
    assert status["state"] == "running"
    assert status["file"] is None
    release.set()
    done = _wait(jobs, job)
    assert done["progress"] == 100
    assert done["state"] == "done"
    assert done["file"] == f"/reports/jobs/{job.id}/file"
    assert seen
    assert seen[0] != threading.current_thread().name  # not the caller's thread
    found = jobs.get(job.id, "head")
    assert found is not None
    assert found.result == b"%PDF-1.4 ..."


def test_a_job_is_only_its_owners() -> None:
    jobs = Jobs()
    job = jobs.submit("head", "q.pdf", "application/pdf", lambda _progress: b"x")
    _wait(jobs, job)
    assert jobs.get(job.id, "other") is None
    assert jobs.status(job.id, "other") is None
    assert jobs.status("no-such-job", "head") is None


def test_a_failed_job_says_why() -> None:
    jobs = Jobs()

    def work(_progress: Progress) -> bytes:
        raise RuntimeError("the database went away")

    status = _wait(jobs, jobs.submit("head", "q.pdf", "application/pdf", work))
    assert status["state"] == "failed"
    assert status["error"] == "RuntimeError: the database went away"
    assert status["file"] is None


def test_one_user_cannot_queue_without_limit() -> None:
    jobs = Jobs(workers=1, per_owner=2)
    release = threading.Event()

    def work(_progress: Progress) -> bytes:
        release.wait(5)
        return b"x"

    first = jobs.submit("head", "a.pdf", "application/pdf", work)
    second = jobs.submit("head", "b.pdf", "application/pdf", work)
    with pytest.raises(TooManyJobs):
        jobs.submit("head", "c.pdf", "application/pdf", work)
    jobs.submit("admin", "d.pdf", "application/pdf", lambda _progress: b"y")  # others may
    release.set()
    assert _wait(jobs, first)["state"] == "done"
    assert _wait(jobs, second)["state"] == "done"
