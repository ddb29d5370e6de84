"""The dossier feed end to end: records read from a real database, sent to a real HTTP server on
this machine that checks every batch against the committed JSON Schema (and fails, and comes
back), and written to files read back and checked; the cursor loses nothing and sends nothing
twice."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from hailong.contract.dossier_feed import DossierBatch, decode_record
from hub.exports.feed import (
    ExportError,
    ExportFailed,
    ExportRefused,
    FileExporter,
    HttpExporter,
    check_url,
    cursor_for,
    export_dossiers,
    exporter_for,
)
from hub.store.db import make_engine, session_factory
from hub.store.feed import feed_after
from tests.support.dossier_feed import PERSONAL, STORED, Seeded, schema_errors, seed

TOKEN = "feed-token-for-the-test"


@pytest.fixture(scope="module")
def seeded_sqlite(tmp_path_factory: pytest.TempPathFactory) -> tuple[sessionmaker[Session], Seeded]:
    """One seeded database for the module: an export only reads it (each test its own cursor)."""
    folder = tmp_path_factory.mktemp("feed")
    sessions = session_factory(make_engine(f"sqlite:///{folder / 'hub.db'}"))
    return sessions, seed(sessions)


def _after_all(seeded: Seeded) -> dict[str, object]:
    return {"now": seeded.last_stored + timedelta(hours=1), "settle": timedelta(minutes=2)}


# -- reading -------------------------------------------------------------------------------------


def test_the_feed_reads_dossier_ratings_in_storing_order_without_personal_data(
    database_url: str,
) -> None:
    sessions = session_factory(make_engine(database_url))
    seeded = seed(sessions)
    with sessions() as session:
        rows = feed_after(session, None, settled_before=seeded.last_stored + timedelta(1), limit=99)
    records = [record for _, record in rows]
    assert [str(r.id) for r in records] == seeded.feed_ids
    assert seeded.walk_in not in seeded.feed_ids  # no dossier: not in the feed
    text = "\n".join(r.model_dump_json() for r in records)
    for secret in (*PERSONAL, "SIGNATURE", "nhanvien1"):
        assert secret not in text
    by_id = {str(r.id): r for r in records}
    unknown, suspect, assisted = (
        by_id[i] for i in (seeded.unknown_code, seeded.suspect, seeded.assisted)
    )
    assert (unknown.known, unknown.counted, unknown.receipt) == (False, False, None)
    assert (suspect.suspect, suspect.counted) == (True, False)
    assert (assisted.assisted, assisted.channel.value, assisted.kiosk) == (True, "paper", "paper")
    returned = [r for r in records if r.stage.value == "return" and not r.assisted]
    assert len(returned) == 4
    assert all(r.receipt and r.receipt.returned_at and r.officer == "CB002" for r in returned)
    first = records[0]
    assert first.receipt is not None
    assert first.receipt.promised_on is not None
    assert (first.score, first.satisfied, first.factors) == (1, False, {"officer": 4, "access": 2})
    assert by_id[seeded.not_applicable].not_applicable == ("feedback",)
    assert {r.not_applicable for r in records} == {(), ("feedback",)}
    assert all(schema_errors("record", json.loads(r.model_dump_json())) == [] for r in records)


def test_the_settle_window_and_the_position_bound_what_is_read(
    seeded_sqlite: tuple[sessionmaker[Session], Seeded],
) -> None:
    sessions, seeded = seeded_sqlite
    with sessions() as session:
        early = feed_after(session, None, settled_before=STORED + timedelta(seconds=3), limit=99)
        assert [str(r.id) for _, r in early] == seeded.feed_ids[:3]
        tied = feed_after(session, None, settled_before=STORED + timedelta(seconds=11), limit=11)
        # the 11th and 12th share an instant: the position (time, id) splits them exactly
        rest = feed_after(session, tied[-1][0], settled_before=STORED + timedelta(1), limit=99)
        assert [str(r.id) for _, r in tied + rest] == seeded.feed_ids
        assert tied[-1][0].received_at == rest[0][0].received_at


# -- the file exporter ---------------------------------------------------------------------------


def test_the_file_exporter_writes_one_file_a_run_read_back_and_checked(
    seeded_sqlite: tuple[sessionmaker[Session], Seeded], tmp_path: Path
) -> None:
    sessions, seeded = seeded_sqlite
    out = tmp_path / "out"
    exporter = FileExporter(out)
    cursor = cursor_for(tmp_path / "cursors", exporter.describe(), None)
    run = export_dossiers(sessions, exporter, cursor, batch_size=5000, **_after_all(seeded))
    assert (run.records, run.batches) == (len(seeded.feed_ids), 1)
    (written,) = out.iterdir()
    lines = written.read_text("utf-8").splitlines()
    assert [str(decode_record(line).id) for line in lines] == seeded.feed_ids
    assert all(schema_errors("record", json.loads(line)) == [] for line in lines)
    assert written.name.startswith("hailong-dossiers-20261120T020000Z-")
    # Nothing new: a second run writes nothing and leaves the cursor where it is.
    again = export_dossiers(sessions, exporter, cursor, batch_size=5000, **_after_all(seeded))
    assert (again.records, again.batches, again.position) == (0, 0, run.position)
    assert len(list(out.iterdir())) == 1
    assert json.loads(cursor.path.read_text())["id"] == seeded.feed_ids[-1]


def test_a_version_1_destination_gets_version_1_records(
    seeded_sqlite: tuple[sessionmaker[Session], Seeded], tmp_path: Path
) -> None:
    sessions, seeded = seeded_sqlite
    exporter = FileExporter(tmp_path / "out")
    cursor = cursor_for(tmp_path / "cursors", exporter.describe(), None)
    run = export_dossiers(
        sessions, exporter, cursor, batch_size=5000, version=1, **_after_all(seeded)
    )
    assert run.records == len(seeded.feed_ids)
    (written,) = exporter.folder.iterdir()
    lines = [json.loads(line) for line in written.read_text("utf-8").splitlines()]
    assert {line["v"] for line in lines} == {1}
    assert all("not_applicable" not in line for line in lines)
    assert all(schema_errors("record-v1", line) == [] for line in lines)


class CrashAfter(FileExporter):
    """Delivers ``good`` batches, then dies as a power cut would (after writing, before return)."""

    def __init__(self, folder: Path, good: int) -> None:
        super().__init__(folder)
        self.good = good

    def send(self, batch: DossierBatch) -> None:
        super().send(batch)
        if self.good == 0:
            raise ExportFailed("the machine stopped")
        self.good -= 1


def test_a_crash_mid_run_resends_the_unacknowledged_batch_and_loses_nothing(
    seeded_sqlite: tuple[sessionmaker[Session], Seeded], tmp_path: Path
) -> None:
    sessions, seeded = seeded_sqlite
    out = tmp_path / "out"
    cursor = cursor_for(tmp_path / "cursors", f"file:{out}", None)
    with pytest.raises(ExportFailed):
        export_dossiers(
            sessions, CrashAfter(out, good=2), cursor, batch_size=5, **_after_all(seeded)
        )
    kept = cursor.load()
    assert kept is not None
    assert kept.id == seeded.feed_ids[9]
    run = export_dossiers(sessions, FileExporter(out), cursor, batch_size=5, **_after_all(seeded))
    assert run.records == len(seeded.feed_ids) - 10
    # The third batch was written before the crash and again after it: same records, same
    # batch id, same file name: replaced, not doubled.
    ids = [
        str(decode_record(line).id)
        for f in sorted(out.iterdir())
        for line in f.read_text().splitlines()
    ]
    assert sorted(ids) == sorted(seeded.feed_ids)
    assert len(ids) == len(set(ids))


def test_since_and_unit_narrow_the_feed(
    seeded_sqlite: tuple[sessionmaker[Session], Seeded], tmp_path: Path
) -> None:
    sessions, seeded = seeded_sqlite
    other = cursor_for(tmp_path, "file:x", "000.00.99.H41")
    nothing = export_dossiers(
        sessions,
        FileExporter(tmp_path / "a"),
        other,
        batch_size=50,
        unit="000.00.99.H41",
        **_after_all(seeded),
    )
    assert nothing.records == 0
    later = cursor_for(tmp_path, "file:y", None)
    run = export_dossiers(
        sessions,
        FileExporter(tmp_path / "b"),
        later,
        batch_size=50,
        rated_since=STORED + timedelta(hours=1),
        **_after_all(seeded),
    )
    assert run.records == len(seeded.feed_ids) - 12  # the return stage and the extras
    assert cursor_for(tmp_path, "file:x", None).path != cursor_for(tmp_path, "file:y", None).path


# -- the HTTP exporter against a real server -----------------------------------------------------


@dataclass
class Receiver:
    """An HTTP receiver on 127.0.0.1 that checks each batch against the committed schema and
    stores it once per Idempotency-Key. ``script``: what to do with the next requests (an HTTP
    status to answer without storing, "slow": store then answer too late), then 200s."""

    url: str = ""
    script: list[int | str] = field(default_factory=list)
    requests: int = 0
    stored: dict[str, list[str]] = field(default_factory=dict)  # batch id -> record ids
    problems: list[str] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)

    @property
    def record_ids(self) -> list[str]:
        return [i for ids in self.stored.values() for i in ids]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            return

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            with lock:
                state.requests += 1
                action = state.script.pop(0) if state.script else 200
            if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                self._answer(401, b'{"error": "bad token"}')
                return
            if action == "redirect":
                self.send_response(307)
                self.send_header("Location", "/elsewhere")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            if isinstance(action, int) and action != 200:
                self._answer(action, b'{"error": "scripted"}')
                return
            document = json.loads(body)
            errors = schema_errors("batch", document)
            key = self.headers.get("Idempotency-Key")
            if errors or key != document["batch_id"]:
                state.problems.extend(errors or [f"key {key} != {document['batch_id']}"])
                self._answer(422, json.dumps(errors).encode())
                return
            with lock:
                state.stored.setdefault(key, [r["id"] for r in document["records"]])
            if action == "slow":
                state.release.wait(5)  # the client has given up by then
            self._answer(200, b'{"ok": true}')

        def _answer(self, status: int, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hailong/feed"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield state
    finally:
        state.release.set()
        server.shutdown()
        server.server_close()


def _http(receiver: Receiver, waits: list[float], **options: object) -> HttpExporter:
    settings: dict[str, object] = {"token": TOKEN, "timeout": 2.0, "attempts": 4, "backoff": 0.5}
    settings.update(options)
    return HttpExporter(receiver.url, sleep=waits.append, **settings)  # type: ignore[arg-type]


def test_a_receiver_that_fails_then_recovers_gets_everything_once(
    seeded_sqlite: tuple[sessionmaker[Session], Seeded], receiver: Receiver, tmp_path: Path
) -> None:
    sessions, seeded = seeded_sqlite
    receiver.script = [200, 503, 500, 200, 502]  # batch 2 takes three tries, batch 3 two
    waits: list[float] = []
    cursor = cursor_for(tmp_path, receiver.url, None)
    run = export_dossiers(
        sessions,
        _http(receiver, waits),
        cursor,
        batch_size=5,
        source="https://hub",
        **_after_all(seeded),
    )
    assert (run.records, run.batches) == (len(seeded.feed_ids), 4)
    assert receiver.problems == []
    assert receiver.record_ids == seeded.feed_ids  # all of them, in order, none twice
    assert waits == [0.5, 1.0, 0.5]  # doubling per batch
    assert receiver.requests == 7


def test_a_receiver_down_for_good_fails_the_run_and_the_next_run_resumes(
    seeded_sqlite: tuple[sessionmaker[Session], Seeded], receiver: Receiver, tmp_path: Path
) -> None:
    sessions, seeded = seeded_sqlite
    receiver.script = [200, 503, 503, 503]
    cursor = cursor_for(tmp_path, receiver.url, None)
    with pytest.raises(ExportFailed, match=r"after 3 attempts .*HTTP 503"):
        export_dossiers(
            sessions, _http(receiver, [], attempts=3), cursor, batch_size=5, **_after_all(seeded)
        )
    assert receiver.record_ids == seeded.feed_ids[:5]
    run = export_dossiers(sessions, _http(receiver, []), cursor, batch_size=5, **_after_all(seeded))
    assert run.records == len(seeded.feed_ids) - 5
    assert receiver.record_ids == seeded.feed_ids


def test_a_lost_answer_resends_the_same_batch_id_and_the_receiver_keeps_it_once(
    seeded_sqlite: tuple[sessionmaker[Session], Seeded], receiver: Receiver, tmp_path: Path
) -> None:
    sessions, seeded = seeded_sqlite
    receiver.script = ["slow"]  # stored, but the answer comes after the client's timeout
    cursor = cursor_for(tmp_path, receiver.url, None)
    exporter = _http(receiver, [], timeout=0.3)
    run = export_dossiers(sessions, exporter, cursor, batch_size=50, **_after_all(seeded))
    assert run.records == len(seeded.feed_ids)
    assert receiver.requests == 2  # sent twice ...
    assert receiver.record_ids == seeded.feed_ids  # ... kept once: the same Idempotency-Key


@pytest.mark.parametrize("status", [400, 404, 422])
def test_a_4xx_stops_at_once_with_the_receivers_reason_and_keeps_the_cursor(
    seeded_sqlite: tuple[sessionmaker[Session], Seeded],
    receiver: Receiver,
    tmp_path: Path,
    status: int,
) -> None:
    sessions, seeded = seeded_sqlite
    receiver.script = [200, status]
    cursor = cursor_for(tmp_path, receiver.url, None)
    with pytest.raises(ExportRefused, match=f"HTTP {status} .*scripted"):
        export_dossiers(sessions, _http(receiver, []), cursor, batch_size=5, **_after_all(seeded))
    assert receiver.requests == 2  # no retry
    kept = cursor.load()
    assert kept is not None
    assert kept.id == seeded.feed_ids[4]


def test_a_redirect_is_not_followed(
    seeded_sqlite: tuple[sessionmaker[Session], Seeded], receiver: Receiver, tmp_path: Path
) -> None:
    sessions, seeded = seeded_sqlite
    receiver.script = ["redirect"]
    cursor = cursor_for(tmp_path, receiver.url, None)
    with pytest.raises(ExportRefused, match="HTTP 307"):
        export_dossiers(sessions, _http(receiver, []), cursor, batch_size=5, **_after_all(seeded))
    assert receiver.requests == 1  # the token never went to /elsewhere
    assert cursor.load() is None


def test_a_wrong_token_is_refused_and_no_token_is_sent_when_none_is_set(
    seeded_sqlite: tuple[sessionmaker[Session], Seeded], receiver: Receiver, tmp_path: Path
) -> None:
    sessions, seeded = seeded_sqlite
    cursor = cursor_for(tmp_path, receiver.url, None)
    for token in ("wrong", None):
        with pytest.raises(ExportRefused, match="HTTP 401"):
            export_dossiers(
                sessions,
                _http(receiver, [], token=token),
                cursor,
                batch_size=5,
                **_after_all(seeded),
            )
    assert receiver.stored == {}
    assert cursor.load() is None


def test_nobody_listening_is_retried_then_fails(
    seeded_sqlite: tuple[sessionmaker[Session], Seeded], tmp_path: Path
) -> None:
    from hailong.broker import free_port

    sessions, seeded = seeded_sqlite
    waits: list[float] = []
    exporter = HttpExporter(
        f"http://127.0.0.1:{free_port()}/", attempts=3, backoff=0.1, sleep=waits.append
    )
    with pytest.raises(ExportFailed, match="after 3 attempts"):
        export_dossiers(
            sessions, exporter, cursor_for(tmp_path, "x", None), batch_size=5, **_after_all(seeded)
        )
    assert waits == [0.1, 0.2]


@pytest.mark.parametrize(
    "url",
    [
        "http://hub.example.gov.vn/feed",
        "http://10.0.0.5/feed",
        "ftp://127.0.0.1/",
        "https://",
        "nothing",
    ],
)
def test_only_https_or_this_machine_is_a_destination(url: str) -> None:
    with pytest.raises(ExportError):
        check_url(url)


def test_destinations_are_parsed_and_the_token_read_only_for_a_url(tmp_path: Path) -> None:
    asked: list[str] = []

    def token() -> str:
        asked.append("token")
        return TOKEN

    options: dict[str, object] = {"timeout": 1.0, "attempts": 1, "backoff": 0.0, "ca_file": None}
    assert isinstance(exporter_for(f"file:{tmp_path}", token=token, **options), FileExporter)  # type: ignore[arg-type]
    assert asked == []
    assert isinstance(
        exporter_for("https://igate.example.gov.vn/api/hailong", token=token, **options),
        HttpExporter,
    )  # type: ignore[arg-type]
    assert asked == ["token"]
    for wrong in ("file:", "s3://bucket", "var/out"):
        with pytest.raises(ExportError):
            exporter_for(wrong, token=token, **options)  # type: ignore[arg-type]
