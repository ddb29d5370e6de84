"""The dossier feed out of the hub: ``hailong export dossiers`` (docs/data-out.md).

A run reads the records stored since the destination's cursor (:func:`hub.store.feed.feed_after`),
hands them to an :class:`Exporter` a batch at a time, and moves the cursor past a batch only
once the exporter returned: a crash, a refusal or a receiver that stays down leaves the cursor on
the last batch delivered, and the next run sends the rest again (never skipping one). A batch
resent after a lost answer has the same ``batch_id`` (it is derived from its records), so the
receiver can store it once; the file exporter names its file by it, so a resend replaces it.

Two exporters to start: :class:`FileExporter` (JSON Lines, written atomically) and
:class:`HttpExporter` (a JSON POST with a bearer token, timeouts, retries with backoff). Another
destination is a class with ``send(batch)`` and ``describe()``.
"""

from __future__ import annotations

import contextlib
import hashlib
import ipaddress
import json
import logging
import os
import ssl
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import Message
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit

from sqlalchemy.orm import Session, sessionmaker

from hailong.contract.dossier_feed import (
    VERSION,
    DossierBatch,
    FeedVersion,
    encode_batch,
    encode_record,
    make_batch,
)
from hub.store.feed import FeedPosition, feed_after

log = logging.getLogger(__name__)


class ExportError(RuntimeError):
    """The export stopped; the cursor stays on the last batch delivered."""


class ExportRefused(ExportError):
    """The receiver refused the batch (HTTP 4xx): sending it again will not help."""


class ExportFailed(ExportError):
    """The receiver did not take the batch after every attempt (5xx, timeouts, no connection)."""


class Exporter(Protocol):
    """Where the records go. ``send`` returns only once the batch is delivered (or raises)."""

    def send(self, batch: DossierBatch) -> None: ...

    def describe(self) -> str: ...


# -- the file exporter ----------------------------------------------------------------------------


class FileExporter:
    """One JSON Lines file per batch (per run, up to the batch size) in ``folder``: one record
    a line, as :class:`hailong.contract.dossier_feed.DossierRating`. The file is written beside
    its final name, synced, then renamed: a reader never sees half a file."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def describe(self) -> str:
        return f"file:{self.folder}"

    def path_for(self, batch: DossierBatch) -> Path:
        first = batch.records[0].received_at.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
        return self.folder / f"hailong-dossiers-{first}-{batch.batch_id}.jsonl"

    def send(self, batch: DossierBatch) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        body = "".join(encode_record(record) + "\n" for record in batch.records)
        _write_atomically(self.path_for(batch), body.encode())


def _write_atomically(path: Path, data: bytes) -> None:
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)  # the rename itself survives a power cut
    finally:
        os.close(directory)


# -- the HTTP exporter ----------------------------------------------------------------------------

# Answers worth waiting for: the receiver is busy or down, not refusing this batch.
_RETRY_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})
_MAX_WAIT = 300.0  # seconds: a Retry-After longer than this is not waited for


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is an error: a POST (and its token) must go to the configured URL only."""

    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def check_url(url: str) -> str:
    """``url`` if it is fit to send records (and a token) to: https, or http to this machine."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ExportError(f"{url!r}: expected an https:// URL")
    if parts.scheme == "http" and not _loopback(parts.hostname):
        raise ExportError(
            f"{url}: plain http sends the records and the token in clear text; "
            "use https (http is allowed to this machine only)"
        )
    return url


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class HttpExporter:
    """``POST`` each batch as JSON to ``url`` with ``Authorization: Bearer <token>`` and
    ``Idempotency-Key: <batch_id>``.

    2xx: delivered. 408, 425, 429, 5xx, a timeout or no connection: tried again after
    ``backoff``, doubling each time (or the receiver's ``Retry-After``), ``attempts`` times in
    all, then :class:`ExportFailed`. Any other answer (a 4xx, a redirect): :class:`ExportRefused`
    at once, with the receiver's explanation.
    """

    def __init__(
        self,
        url: str,
        *,
        token: str | None = None,
        timeout: float = 15.0,
        attempts: int = 5,
        backoff: float = 2.0,
        ca_file: Path | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.url = check_url(url)
        self._token = token
        self._timeout = timeout
        self._attempts = max(1, attempts)
        self._backoff = backoff
        self._sleep = sleep
        context = ssl.create_default_context(cafile=str(ca_file) if ca_file else None)
        self._opener = urllib.request.build_opener(
            _NoRedirects(), urllib.request.HTTPSHandler(context=context)
        )

    def describe(self) -> str:
        return self.url

    def send(self, batch: DossierBatch) -> None:
        body = encode_batch(batch)
        headers = {
            "Content-Type": "application/json",
            "Idempotency-Key": batch.batch_id,
            "User-Agent": "hailong-export/1",
        }
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        wait = self._backoff
        for attempt in range(1, self._attempts + 1):
            # The scheme is checked (check_url): https, or http to this machine.
            request = urllib.request.Request(self.url, body, headers, method="POST")  # noqa: S310
            try:
                with self._opener.open(request, timeout=self._timeout) as answer:
                    answer.read(65536)  # what a receiver says on success is not needed
                    return
            except urllib.error.HTTPError as error:
                status, detail = error.code, _detail(error)
                if status not in _RETRY_STATUSES:
                    raise ExportRefused(
                        f"{self.url} refused batch {batch.batch_id} "
                        f"({len(batch.records)} records): HTTP {status} {detail}"
                    ) from error
                problem = f"HTTP {status} {detail}"
                wait = max(wait, _retry_after(error.headers))
            except (urllib.error.URLError, TimeoutError, ConnectionError, OSError) as error:
                reason = getattr(error, "reason", error)
                problem = f"{type(reason).__name__}: {reason}"
            if attempt == self._attempts:
                raise ExportFailed(
                    f"{self.url} did not take batch {batch.batch_id} after {attempt} attempts "
                    f"(last: {problem}); the next run sends it again"
                )
            log.warning("export to %s: %s; again in %.1f s", self.url, problem, wait)
            self._sleep(min(wait, _MAX_WAIT))
            wait *= 2


def _detail(error: urllib.error.HTTPError) -> str:
    """The first 300 characters of the receiver's explanation, on one line."""
    try:
        text = error.read(2048).decode("utf-8", "replace")
    except OSError:
        text = ""
    return " ".join(f"{error.reason} {text}".split())[:300]


def _retry_after(headers: Message | None) -> float:
    value = headers.get("Retry-After") if headers is not None else None
    try:
        return max(0.0, float(value)) if value else 0.0
    except ValueError:
        return 0.0  # an HTTP date: keep the backoff


# -- the cursor -----------------------------------------------------------------------------------


class FileCursor:
    """The last record a destination took, in a small JSON file (written atomically)."""

    def __init__(self, path: Path, destination: str) -> None:
        self.path = path
        self.destination = destination

    def load(self) -> FeedPosition | None:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            raise ExportError(f"{self.path}: not a cursor this version can read ({exc})") from exc
        try:
            at = datetime.fromisoformat(data["received_at"])
            position = FeedPosition(at.astimezone(UTC), str(data["id"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise ExportError(f"{self.path}: not a cursor this version can read ({exc})") from exc
        if at.utcoffset() is None:
            raise ExportError(f"{self.path}: received_at has no time zone")
        return position

    def save(self, position: FeedPosition, sent: int) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        data = {
            "destination": self.destination,
            "received_at": position.received_at.astimezone(UTC).isoformat(),
            "id": position.id,
            "sent_this_run": sent,
            "saved_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        _write_atomically(self.path, (json.dumps(data, indent=2) + "\n").encode())


def cursor_for(folder: Path, destination: str, unit: str | None) -> FileCursor:
    """One cursor per destination (and unit): two receivers each get every record."""
    key = f"{destination}\n{unit or '*'}"
    name = f"dossiers-{hashlib.sha256(key.encode()).hexdigest()[:16]}.json"
    return FileCursor(folder / name, destination)


# -- a run ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExportRun:
    """What a run did: records and batches delivered, where the cursor now stands."""

    records: int
    batches: int
    position: FeedPosition | None


def export_dossiers(
    sessions: sessionmaker[Session],
    exporter: Exporter,
    cursor: FileCursor,
    *,
    now: datetime,
    batch_size: int,
    settle: timedelta = timedelta(minutes=2),
    rated_since: datetime | None = None,
    unit: str | None = None,
    source: str | None = None,
    max_batches: int | None = None,
    progress: Callable[[ExportRun], None] | None = None,
    version: FeedVersion = VERSION,
) -> ExportRun:
    """Send everything stored since the cursor (up to ``max_batches`` batches), batch by batch.

    The cursor moves after each delivered batch, so an :class:`ExportError` (or a crash) loses
    nothing: the run raises it after saving what was delivered before. ``version``: the feed
    version the destination takes (``[export] feed_version``); records are sent as that version.
    """
    position = cursor.load()
    records = batches = 0
    while max_batches is None or batches < max_batches:
        with sessions() as session:
            rows = feed_after(
                session,
                position,
                settled_before=now - settle,
                limit=batch_size,
                rated_since=rated_since,
                unit=unit,
            )
        if not rows:
            break
        exporter.send(make_batch([record for _, record in rows], source, version))
        position = rows[-1][0]
        records += len(rows)
        batches += 1
        cursor.save(position, records)
        if progress is not None:
            progress(ExportRun(records, batches, position))
        if len(rows) < batch_size:
            break
    return ExportRun(records, batches, position)


def exporter_for(
    destination: str,
    *,
    token: Callable[[], str | None],
    timeout: float,
    attempts: int,
    backoff: float,
    ca_file: Path | None,
) -> Exporter:
    """``file:PATH`` (a folder) or an ``https://`` URL. The token is read only for a URL."""
    if destination.startswith("file:"):
        folder = destination.removeprefix("file:")
        if not folder:
            raise ExportError("file: needs a folder, e.g. file:var/export/out")
        return FileExporter(Path(folder).resolve())  # one cursor per folder, whatever the cwd
    if destination.startswith(("https://", "http://")):
        return HttpExporter(
            destination,
            token=token(),
            timeout=timeout,
            attempts=attempts,
            backoff=backoff,
            ca_file=ca_file,
        )
    raise ExportError(f"{destination!r}: expected file:FOLDER or an https:// URL")


__all__ = [
    "ExportError",
    "ExportFailed",
    "ExportRefused",
    "ExportRun",
    "Exporter",
    "FileCursor",
    "FileExporter",
    "HttpExporter",
    "check_url",
    "cursor_for",
    "export_dossiers",
    "exporter_for",
]
