"""Backlog drain: a kiosk that was offline with a full outbox reconnects and empties it, every rating
committed by the hub and acknowledged, against Mosquitto's own C clients as the baseline.

    python bench/backlog.py [--quick] [--count N] [--hub-batch 1000] [--resend-after 30] [--dir DIR]

* The backlog: ``--count`` ratings (100,000 by default) of kiosk ``kiosk-q1``, each with its own
  verified receipt, in a real :class:`kiosk.outbox.Outbox` file, as if appended while offline.
  ``Outbox.append`` commits each rating with an fsync (it must: the citizen is thanked only once the
  rating is on disk), so 100,000 appends would take minutes; the file is filled with one bulk insert
  that writes exactly the rows ``Outbox.append`` would. That is checked on every run: the first few
  ratings go through ``Outbox.append`` into a reference file, and its tables must equal what the
  bulk insert writes for the same ratings, row for row.
* The drain: a real :class:`kiosk.uplink.Uplink` in this process connects to a real Mosquitto and
  publishes the outbox; a real :class:`hub.service.HubService` on SQLite, in its own process
  (``bench/ingest.py --worker``, so the kiosk and the hub do not share a GIL), commits and
  acknowledges. The time runs from ``Uplink.start()`` to "outbox depth 0": a rating leaves the
  outbox only on the hub's ack, so depth 0 means every rating was committed and acknowledged. The
  hub's database must then hold exactly ``--count`` ratings of this kiosk, each seq once.
* While it drains, this process's main thread plays the kiosk's UI thread: every 20 ms it makes the
  outbox call a scan makes (``has_rated``) and records how long it waited (GIL and outbox lock).
* The baseline: the same payloads published with ``mosquitto_pub -l`` (C, QoS 1) as the kiosk's
  user and received by ``mosquitto_sub`` (C, QoS 1) as the hub's user: the broker's and the C
  clients' ceiling on this machine, with no database and no acknowledgement.

The goal (issue 5) is 100,000 drained in under 20 s.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, TYPE_CHECKING

import _common
import _fleet
import ingest

if TYPE_CHECKING:
    from hailong.contract.messages import RatingMessage
    from hailong.provision import SecretsLayout

GOAL_COUNT = 100_000
GOAL_SECONDS = 20.0
KIOSK = _common.KIOSK_ID
FILL_CHUNK = 5_000
EQUIVALENCE_ROWS = 5
UI_PROBE_EVERY_S = 0.02
PUBLISHER_LINES = 50_000  # below mosquitto_pub's message-id wrap (see baseline)


# -- the backlog ---------------------------------------------------------------------------------------


def backlog_ratings(count: int) -> Iterator[RatingMessage]:
    """``count`` valid ratings of the kiosk, seq 1..count, each with its own verified receipt."""
    start = datetime(2026, 11, 25, 7, 30, tzinfo=UTC)
    for seq in range(1, count + 1):
        yield _fleet.make_rating(KIOSK, seq, start + timedelta(seconds=seq))


def _sqlite_datetime(value: datetime) -> str:
    """How SQLAlchemy's SQLite ``DateTime`` stores a value (the outbox writes UTC)."""
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def bulk_append(path: Path, ratings: Iterable[RatingMessage], lines: IO[bytes] | None) -> int:
    """Append ``ratings`` (seq 1, 2, ... in order) to an outbox file whose schema ``Outbox`` created,
    in one transaction, writing the rows ``Outbox.append`` writes per rating; their payloads also go
    to ``lines``, one a line (the baseline publishes the very same bytes). Returns the last seq."""
    conn = sqlite3.connect(path, isolation_level=None)
    last = 0
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("BEGIN")
        outbox_rows: list[tuple[str, int, bytes, str, str]] = []
        rated_rows: list[tuple[str, str]] = []

        def write() -> None:
            conn.executemany(
                "INSERT INTO outbox (id, seq, payload, created_at, state) VALUES (?, ?, ?, ?, ?)",
                outbox_rows,
            )
            conn.executemany(
                "INSERT OR IGNORE INTO rated_receipts (dossier_code, stage) VALUES (?, ?)",
                rated_rows,
            )
            outbox_rows.clear()
            rated_rows.clear()

        for rating in ratings:
            if rating.seq != last + 1:
                raise ValueError(f"seq {rating.seq} after {last}: the outbox numbers without gaps")
            last = rating.seq
            payload = rating.to_bytes()
            if lines is not None:
                lines.write(payload + b"\n")
            created = _sqlite_datetime(rating.rated_at)
            outbox_rows.append((str(rating.id), rating.seq, payload, created, "pending"))
            if rating.receipt:
                rated_rows.append((rating.receipt.code, rating.stage.value))
            if len(outbox_rows) >= FILL_CHUNK:
                write()
        write()
        conn.execute("DELETE FROM kiosk_state WHERE key = 'last_seq'")
        conn.execute(
            "INSERT INTO kiosk_state (key, value) VALUES ('last_seq', ?)", (str(last).encode(),)
        )
        conn.execute("COMMIT")
    finally:
        conn.close()
    return last


def dump_tables(path: Path, max_seq: int) -> dict[str, list[tuple[object, ...]]]:
    """The rows of the outbox's tables that the ratings with seq up to ``max_seq`` account for."""
    conn = sqlite3.connect(path)
    try:
        rows = conn.execute("SELECT * FROM outbox WHERE seq <= ? ORDER BY seq", (max_seq,))
        outbox = rows.fetchall()
        codes = {json.loads(row[2]).get("receipt", {}).get("code") for row in outbox}
        rated = sorted(
            row for row in conn.execute("SELECT * FROM rated_receipts") if row[0] in codes
        )
        state = conn.execute("SELECT * FROM kiosk_state ORDER BY key").fetchall()
        return {"outbox": outbox, "rated_receipts": rated, "kiosk_state": state}
    finally:
        conn.close()


def fill_outbox(root: Path, count: int) -> tuple[Path, Path, float]:
    """The backlog's outbox file, a file of its payloads in seq order (one a line), and the seconds
    the fill took.

    Raises if the bulk insert's rows differ from those ``Outbox.append`` writes for the same ratings.
    """
    from kiosk.outbox import Outbox

    sample = list(backlog_ratings(min(EQUIVALENCE_ROWS, count)))
    # The reference: the same ratings through Outbox.append, one committed transaction each.
    reference = root / "reference-outbox.db"
    box = Outbox(reference)
    for rating in sample:
        box.append(lambda seq, rating=rating: _expect_seq(rating, seq))
    box.close()
    expected = dump_tables(reference, len(sample))
    # The same ratings through the bulk insert, into a fresh file: every table equal.
    probe = root / "probe-outbox.db"
    Outbox(probe).close()
    bulk_append(probe, sample, None)
    if dump_tables(probe, len(sample)) != expected:
        raise RuntimeError("the bulk insert does not write what Outbox.append writes")

    started = time.monotonic()
    path = root / "outbox.db"
    Outbox(path).close()  # the schema, exactly as the kiosk creates it
    payload_file = root / "payloads.jsonl"
    rest = itertools.islice(backlog_ratings(count), len(sample), None)
    with payload_file.open("wb") as lines:
        bulk_append(path, itertools.chain(sample, rest), lines)
    seconds = time.monotonic() - started
    # The real file starts with the very same ratings as the reference: same rows (last_seq aside).
    head = dump_tables(path, len(sample))
    if head["outbox"] != expected["outbox"] or head["rated_receipts"] != expected["rated_receipts"]:
        raise RuntimeError("the backlog's first rows differ from what Outbox.append wrote")
    if head["kiosk_state"] != [("last_seq", str(count).encode())]:
        raise RuntimeError(f"the backlog's last_seq is {head['kiosk_state']}, not {count}")
    return path, payload_file, seconds


def _expect_seq(rating: RatingMessage, seq: int) -> RatingMessage:
    if rating.seq != seq:
        raise RuntimeError(f"Outbox.append gave seq {seq}, the sample rating has {rating.seq}")
    return rating


# -- the baseline --------------------------------------------------------------------------------------


def split_lines(path: Path, per_part: int) -> list[Path]:
    """``path`` cut into files of at most ``per_part`` lines each, in order."""
    parts: list[Path] = []
    with path.open("rb") as source:
        while chunk := list(itertools.islice(source, per_part)):
            parts.append(path.with_name(f"{path.stem}-{len(parts) + 1}{path.suffix}"))
            parts[-1].write_bytes(b"".join(chunk))
    return parts


def baseline(layout: SecretsLayout, port: int, payload_file: Path, count: int) -> float:
    """Seconds for ``mosquitto_sub`` (hub user, QoS 1) to receive the backlog's payloads published
    by ``mosquitto_pub -l`` (QoS 1) as the kiosk's user.

    ``mosquitto_pub -l`` stops once the broker acknowledges a message id equal to its last one, and
    ids wrap at 65,535: fed more lines than that it quits early. So the payloads go in parts of
    50,000 lines, one ``mosquitto_pub`` after the other (one connection at a time, like the kiosk).
    The subscriber's persistent session is removed afterwards, so the broker does not keep queueing
    the drain's ratings for it.
    """
    from hailong.contract import topics

    client_id = f"bench-backlog-baseline-{os.getpid()}"
    hub_password = layout.mqtt_password_file("hub").read_text().strip()
    kiosk_password = layout.mqtt_password_file(KIOSK).read_text().strip()
    server = ["-h", "127.0.0.1", "-p", str(port)]
    login = [*server, "-u", "hub", "-P", hub_password, "-i", client_id]
    common = [*login, "-q", "1", "-c", "-t", topics.RATINGS_SUBSCRIPTION]
    publish = [*server, "-u", KIOSK, "-P", kiosk_password, "-i", KIOSK]
    publish += ["-q", "1", "-t", topics.ratings(_common.UNIT_CODE, KIOSK), "-l"]
    parts = split_lines(payload_file, PUBLISHER_LINES)
    # Subscribed first (-E: exit on SUBACK) with a persistent session, so nothing can be missed.
    subprocess.run(["mosquitto_sub", *common, "-E"], check=True, timeout=10)
    sub = subprocess.Popen(["mosquitto_sub", *common, "-C", str(count)], stdout=subprocess.DEVNULL)
    time.sleep(0.3)
    start = time.monotonic()
    for part in parts:
        with part.open("rb") as lines:
            pub = subprocess.Popen(
                ["mosquitto_pub", *publish], stdin=lines, stdout=subprocess.DEVNULL
            )
            ingest.wait_all([pub], 600, "mosquitto_pub")
    ingest.wait_all([sub], 600, "mosquitto_sub")
    seconds = time.monotonic() - start
    # A clean-session connection with the same id discards the persistent session.
    clean = [*login, "-q", "1", "-t", topics.RATINGS_SUBSCRIPTION, "-E"]
    subprocess.run(["mosquitto_sub", *clean], check=True, timeout=10)
    return seconds


# -- the drain -----------------------------------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a process has used so far (``/proc/<pid>/stat``), 0 if gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat.rsplit(")", 1)[1].split()  # after "pid (comm)": state is field 3
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def pid_running(conf: Path) -> int | None:
    """The pid of the process started with ``conf`` on its command line (our broker)."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            if str(conf).encode() in (entry / "cmdline").read_bytes():
                return int(entry.name)
    return None


@dataclass
class Drain:
    count: int
    seconds: float
    connect_seconds: float
    depth_left: int
    rejected: int
    ui_waits_ms: list[float]
    rss_before_mb: float
    rss_peak_mb: float
    # CPU seconds used during the drain: this process (the kiosk) and the others by name.
    cpu: dict[str, float]

    @property
    def rate(self) -> float:
        return self.count / self.seconds if self.seconds > 0 else 0.0


def drain(
    layout: SecretsLayout,
    port: int,
    outbox_path: Path,
    count: int,
    resend: float,
    timeout: float,
    others: dict[str, int],
) -> Drain:
    """Connect a real Uplink to the full outbox and wait until the hub acknowledged every rating
    (or ``timeout`` seconds passed: the figures then show what was left). ``others`` names the
    processes (hub, broker) whose CPU time during the drain is reported too."""
    from hailong.contract.scale import Stage
    from kiosk.outbox import Outbox
    from kiosk.uplink import Uplink

    outbox = Outbox(outbox_path)
    if outbox.depth() != count:
        raise RuntimeError(f"the outbox holds {outbox.depth()} pending ratings, not {count}")
    uplink = Uplink(
        _common.mqtt_settings(layout, port, user=KIOSK),
        _common.UNIT_CODE,
        KIOSK,
        outbox,
        resend_after=resend,
    )
    rss_before = _common.vm_rss_kib() / 1024
    rss_peak = rss_before
    waits: list[float] = []
    connect_seconds = 0.0
    next_depth_check = 0.0
    depth = count
    cpu_before = {name: cpu_seconds(pid) for name, pid in others.items()}
    cpu_before["kiosk"] = time.process_time()
    start = time.monotonic()
    uplink.start()
    try:
        deadline = start + timeout
        while time.monotonic() < deadline:
            _common.check_stop()
            time.sleep(UI_PROBE_EVERY_S)
            # What a scan asks the outbox on the UI thread: its wait is the UI's wait.
            asked = time.perf_counter()
            outbox.has_rated("000.00.20.H41-000101-0001", Stage.RECEPTION)
            waits.append((time.perf_counter() - asked) * 1000)
            now = time.monotonic()
            if not connect_seconds and uplink.connected:
                connect_seconds = now - start
            if now >= next_depth_check:
                next_depth_check = now + 0.1
                rss_peak = max(rss_peak, _common.vm_rss_kib() / 1024)
                depth = outbox.depth()
                if depth == 0:
                    break
        seconds = time.monotonic() - start
        cpu = {name: cpu_seconds(pid) - cpu_before[name] for name, pid in others.items()}
        cpu["kiosk"] = time.process_time() - cpu_before["kiosk"]
        rejected = outbox.rejected_count()
    finally:
        uplink.stop()
        outbox.close()
    return Drain(count, seconds, connect_seconds, depth, rejected, waits, rss_before, rss_peak, cpu)


@dataclass
class HubRows:
    rows: int
    distinct_ids: int
    distinct_seqs: int
    min_seq: int
    max_seq: int


def hub_rows(database_url: str) -> HubRows:
    from sqlalchemy import create_engine, func, select

    from hub.store.models import RatingRow

    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            row = conn.execute(
                select(
                    func.count(),
                    func.count(func.distinct(RatingRow.id)),
                    func.count(func.distinct(RatingRow.seq)),
                    func.min(RatingRow.seq),
                    func.max(RatingRow.seq),
                ).where(RatingRow.kiosk == KIOSK)
            ).one()
    finally:
        engine.dispose()
    return HubRows(*(int(v or 0) for v in row))


# -- main ----------------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3,000 ratings instead of 100,000")
    parser.add_argument("--count", type=int, help="ratings in the backlog (overrides --quick)")
    parser.add_argument("--hub-batch", type=int, default=1000, help="the hub's max_batch")
    parser.add_argument(
        "--resend-after", type=float, default=30.0, help="the kiosk's resend_after_seconds"
    )
    parser.add_argument(
        "--timeout", type=float, help="give up draining after this many seconds (default: scaled)"
    )
    parser.add_argument("--dir", type=Path, help="where the files go (default: temp folder)")
    args = parser.parse_args()
    count = args.count or (3_000 if args.quick else GOAL_COUNT)
    if count < 1:
        parser.error("--count must be at least 1")
    if not shutil.which("mosquitto_pub") or not shutil.which("mosquitto_sub"):
        print("mosquitto_pub and mosquitto_sub are needed (apt-get install mosquitto-clients)")
        return 2
    _common.sigterm_as_interrupt()
    with contextlib.ExitStack() as stack:
        root = stack.enter_context(_common.temp_dir("hailong-bench-backlog-", args.dir))
        layout = _common.throwaway_secrets(root / "secrets")
        print(
            f"# backlog: {count} ratings buffered at {KIOSK} while offline; Mosquitto "
            f"{ingest.mosquitto_version()} (QoS 1, loopback), {os.cpu_count()} CPUs"
        )
        print(f"# files in {root} ({_common.filesystem_of(root)})")
        outbox_path, payload_file, fill_seconds = fill_outbox(root, count)
        size = payload_file.stat().st_size / count - 1
        print(
            f"# outbox filled by bulk insert in {fill_seconds:.1f} s; rows equal to "
            f"Outbox.append's for the first {min(EQUIVALENCE_ROWS, count)} ratings: yes; "
            f"one rating is {size:.0f} bytes of JSON"
        )
        broker = stack.enter_context(_common.mosquitto(root, layout))
        base_seconds = baseline(layout, broker.port, payload_file, count)
        base_rate = count / base_seconds
        print(
            f"baseline (mosquitto_pub -l -> mosquitto_sub, C, QoS 1, no database, no ack): "
            f"n={count} seconds={base_seconds:.2f} rate_per_s={base_rate:.0f}",
            flush=True,
        )
        database_url = ingest.fresh_sqlite(root, "hub")
        with ingest.hub_workers(layout.root, broker.port, database_url, 1, args.hub_batch) as procs:
            timeout = args.timeout or max(60.0, count / 500)
            others = {"hub": procs[0].pid}
            broker_pid = pid_running(broker.files.conf)
            if broker_pid is not None:
                others["broker"] = broker_pid
            result = drain(
                layout, broker.port, outbox_path, count, args.resend_after, timeout, others
            )
        reports = ingest.worker_reports(procs)
        hub = hub_rows(database_url)
    report = reports[0] if reports else {}
    batches = int(report.get("batches", 0))
    stored = int(report.get("stored", 0))
    duplicates = int(report.get("duplicates", 0))
    waits = result.ui_waits_ms or [0.0]
    acked = count - result.depth_left - result.rejected
    print(
        f"drain (Outbox -> Uplink -> Mosquitto -> HubService sqlite -> ack -> Outbox): "
        f"n={count} seconds={result.seconds:.2f} rate_per_s={result.rate:.0f} "
        f"connect_s={result.connect_seconds:.2f} acked={acked} depth_left={result.depth_left} "
        f"rejected={result.rejected}"
    )
    print(
        f"  hub: stored={stored} duplicates={duplicates} batches={batches} "
        f"mean_batch={stored / batches if batches else 0:.0f} "
        f"commit_failures={int(report.get('commit_failures', 0))} "
        f"batch_seconds_total={float(report.get('batch_seconds', 0.0)):.2f} "
        f"rows={hub.rows} distinct_ids={hub.distinct_ids} distinct_seqs={hub.distinct_seqs} "
        f"seq_range={hub.min_seq}..{hub.max_seq}"
    )
    print(
        f"  kiosk: rss_before_mb={result.rss_before_mb:.0f} rss_peak_mb={result.rss_peak_mb:.0f} "
        f"ui_outbox_wait_p50_ms={_common.percentile(waits, 50):.1f} "
        f"ui_outbox_wait_p99_ms={_common.percentile(waits, 99):.1f} "
        f"ui_outbox_wait_max_ms={max(waits):.1f}"
    )
    print(
        "  cpu seconds during the drain: "
        + " ".join(f"{name}={seconds:.1f}" for name, seconds in sorted(result.cpu.items()))
    )
    print(
        f"ratio drain/baseline: rate={_common.ratio(result.rate, base_rate)} "
        f"seconds={_common.ratio(result.seconds, base_seconds)}"
    )
    if count == GOAL_COUNT:
        verdict = "met" if result.seconds < GOAL_SECONDS and acked == count else "NOT met"
    else:
        projected = GOAL_COUNT / result.rate if result.rate else float("inf")
        verdict = f"n/a at n={count} (at this rate 100,000 would take {projected:.1f} s)"
    print(f"goal: 100,000 drained in < {GOAL_SECONDS:.0f} s -> {verdict}")
    complete = (
        result.depth_left == 0
        and result.rejected == 0
        and hub.rows == count
        and hub.distinct_ids == count
        and hub.distinct_seqs == count
        and (hub.min_seq, hub.max_seq) == (1, count)
    )
    if not complete:
        print("ERROR: the hub does not hold every rating exactly once, or the outbox is not empty")
        return 1
    return 0


if __name__ == "__main__":
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
