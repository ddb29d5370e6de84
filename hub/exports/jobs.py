"""Long exports off the request thread: each job runs on its own worker thread (at most
``workers`` at once), reports its progress, and keeps its file in memory for a while.

A job belongs to the login that started it; anyone else asking for it is told it does not exist.
Jobs live in the hub's process only: a restart forgets them (starting one again is cheap).
"""

from __future__ import annotations

import logging
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Literal

from hub.exports.gather import Progress

log = logging.getLogger(__name__)

State = Literal["queued", "running", "done", "failed"]
Work = Callable[[Progress], bytes]
QUEUED = "Đang chờ đến lượt / Waiting for its turn"
DONE = "Xong / Done"
FAILED = "Không lập được báo cáo / The report could not be made"


class TooManyJobs(RuntimeError):
    """The user already has as many jobs waiting or running as allowed."""


@dataclass
class Job:
    id: str
    owner: str
    filename: str
    media_type: str
    created_at: datetime
    state: State = "queued"
    progress: int = 0  # percent, never goes back
    stage: str = QUEUED
    finished_at: datetime | None = None
    error: str | None = None
    result: bytes | None = field(default=None, repr=False)

    def status(self) -> dict[str, object]:
        """What ``GET /reports/jobs/{id}`` answers."""
        return {
            "id": self.id,
            "state": self.state,
            "progress": self.progress,
            "stage": self.stage,
            "filename": self.filename,
            "file": f"/reports/jobs/{self.id}/file" if self.state == "done" else None,
            "error": self.error,
        }


class Jobs:
    def __init__(
        self,
        workers: int = 2,
        per_owner: int = 3,
        keep: timedelta = timedelta(hours=2),
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._slots = threading.BoundedSemaphore(workers)
        self._per_owner = per_owner
        self._keep = keep
        self._clock = clock
        self._lock = threading.Lock()
        self._jobs: dict[str, Job] = {}

    def submit(self, owner: str, filename: str, media_type: str, work: Work) -> Job:
        """Start ``work`` on a worker thread and return at once; the job starts ``queued``."""
        with self._lock:
            self._forget_old()
            pending = [
                j
                for j in self._jobs.values()
                if j.owner == owner and j.state in ("queued", "running")
            ]
            if len(pending) >= self._per_owner:
                raise TooManyJobs(f"{owner} has {len(pending)} reports in progress")
            job = Job(secrets.token_urlsafe(18), owner, filename, media_type, self._clock())
            self._jobs[job.id] = job
        # A daemon thread per job, throttled by the semaphore: nothing to shut down, and a hub
        # stopping mid-report does not wait for it (the job is in memory only anyway).
        threading.Thread(
            target=self._run, args=(job, work), name=f"report-{job.id[:6]}", daemon=True
        ).start()
        return job

    def get(self, job_id: str, owner: str) -> Job | None:
        """The job, if ``owner`` started it; else None, as if it did not exist."""
        with self._lock:
            job = self._jobs.get(job_id)
            return job if job is not None and secrets.compare_digest(job.owner, owner) else None

    def status(self, job_id: str, owner: str) -> dict[str, object] | None:
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None or not secrets.compare_digest(job.owner, owner):
                return None
            return job.status()

    def _run(self, job: Job, work: Work) -> None:
        with self._slots:
            self._update(job, 1, "Đang bắt đầu / Starting", state="running")
            try:
                result = work(lambda percent, stage: self._update(job, percent, stage))
            except Exception as error:
                log.exception("report job %s failed", job.id)
                with self._lock:
                    job.state = "failed"
                    job.stage = FAILED
                    job.error = f"{type(error).__name__}: {error}"
                    job.finished_at = self._clock()
                return
            with self._lock:
                job.result = result
                job.progress = 100
                job.stage = DONE
                job.state = "done"
                job.finished_at = self._clock()

    def _update(self, job: Job, percent: int, stage: str, state: State | None = None) -> None:
        with self._lock:
            job.progress = max(job.progress, min(int(percent), 99))  # 100 only when done
            job.stage = stage
            if state is not None:
                job.state = state

    def _forget_old(self) -> None:
        """Drop finished jobs older than ``keep`` (their files with them). Lock held."""
        horizon = self._clock() - self._keep
        for job_id, job in list(self._jobs.items()):
            if job.finished_at is not None and job.finished_at < horizon:
                del self._jobs[job_id]
