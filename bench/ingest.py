"""Hub ingest through a real Mosquitto: ratings published by the kiosks' users until every one is
committed and its ack is back at the kiosk, against Mosquitto's own C clients as the baseline.

    python bench/ingest.py [--quick] [--count N] [--pairs N] [--workers 3] [--postgres URL]

All runs publish the same ratings (valid, each with its own verified receipt) with
``mosquitto_pub -l`` (C, QoS 1), one process per kiosk user, as fast as the broker takes them.
Every hub database starts with those receipts in its register, issued ten minutes before they
are rated, as the counters would have: the hub attributes each rating from its register.

* baseline: ``mosquitto_sub -C N`` (C, QoS 1) logged in as the hub drains them: the broker's and the
  C client's ceiling on this machine.
* python client floor: ``hailong.mqtt.Client`` logged in as the hub takes each message off its
  read buffer and acknowledges it, nothing more (``--drain``): what the hub's MQTT client costs
  without validation, the database or the acks back to the kiosks; then paho's own client the same
  way (``on_message`` and ``ack``).
* hub: ``HubService`` processes (this script with ``--worker``) commit them to a fresh database and
  acknowledge after each commit; an ack collector (``--collect-acks``, paho, logged in as each
  kiosk) counts the acknowledged rating ids. The time is from the first publish to the last ack:
  every rating committed *and* acknowledged. One worker is the default deployment (a persistent
  session); "3 workers" share the ratings through ``$share/hub/...``.
* fast path against stock paho: the single worker on ``hailong.mqtt.Client`` and on paho's own
  client (``[hub] mqtt_fast_path = false``), ``--pairs`` times each, in turns; their rates, the
  hub process's CPU time a rating, and the ratios (docs/scaling.md keeps the override only while it
  buys the whole hub at least 20 %).

* poisoned: the single hub again, with ``--poison`` (default 1 %) of the ratings replaced by ones
  a stolen kiosk would send to hurt it (a ``seq`` past 64 bits, ``rated_at`` in year 1 or 9999):
  each must be dead-lettered and acknowledged "rejected" alone, every other rating stored, at
  about the rate of the clean run.

The figures are printed with the ratio to the baseline; the goals are informational (no pass/fail).
With ``--postgres URL`` the hub runs are repeated on PostgreSQL in a throwaway schema (created and
dropped; the database itself is left alone).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import _common
from _ingest_roles import password, run_collector, run_drain, run_worker

if TYPE_CHECKING:
    from hailong.provision import SecretsLayout

HERE = Path(__file__).resolve()
ISSUED_BEFORE_NOW = timedelta(minutes=20)  # the register's receipts; rated a minute ago
GOAL_RATE = 10_000.0
GOAL_RATIO = 0.5
KIOSKS = ("kiosk-q1", "kiosk-q2", "kiosk-q3")  # the example unit's kiosks (config/unit.toml)
COUNTERS = {"kiosk-q1": "Q1", "kiosk-q2": "Q2", "kiosk-q3": "Q3"}


# -- the ratings -----------------------------------------------------------------------------------


def rating_payloads(kiosk: str, count: int, first_seq: int = 1) -> list[bytes]:
    """``count`` valid ratings of ``kiosk`` (seq from ``first_seq``), each with its own receipt."""
    from hailong.contract.messages import RatingMessage, ReceiptRef
    from hailong.contract.receipt import DossierCode
    from hailong.contract.scale import Score

    index = KIOSKS.index(kiosk) if kiosk in KIOSKS else 9
    # Just made: the hub refuses a rated_at too far from its own clock.
    rated_at = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)
    out = []
    for seq in range(first_seq, first_seq + count):
        # A different reception day per 9,999 ratings and per kiosk: never the same dossier.
        day = date(2020, 1, 1) + timedelta(days=index * 400 + (seq - 1) // 9999)
        code = DossierCode(_common.UNIT_CODE, day, (seq - 1) % 9999 + 1)
        rating = RatingMessage(
            id=uuid.uuid4(),
            unit=_common.UNIT_CODE,
            kiosk=kiosk,
            seq=seq,
            receipt=ReceiptRef(code=str(code), verified=True),
            counter=COUNTERS.get(kiosk, "Q1"),
            officer="CB001",
            procedure="1.001193",
            score=Score(seq % 5 + 1),
            rated_at=rated_at,
            duration_ms=12_000,
        )
        out.append(rating.to_bytes())
    return out


def register_receipts(database_url: str, files: dict[str, Path]) -> None:
    """The register of a fresh hub database: every rating's receipt, as its counter issued it (20 minutes ago)."""
    from sqlalchemy import create_engine, insert

    from hub.store.models import ReceiptRow

    issued_at = datetime.now(UTC) - ISSUED_BEFORE_NOW
    rows = []
    for path in files.values():
        for line in path.read_bytes().splitlines():
            rating = json.loads(line)
            code = rating["receipt"]["code"]
            rows.append(
                {
                    "dossier_code": code,
                    "unit": rating["unit"],
                    "procedure": rating["procedure"],
                    "counter": rating["counter"],
                    "officer": rating["officer"],
                    "key_id": "k1",
                    "url": f"{_common.BASE_URL}/r/{code}",
                    "issued_at": issued_at,
                    "printed": True,
                    "origin": "issued",
                }
            )
    engine = create_engine(database_url)
    try:
        with engine.begin() as conn:
            conn.execute(insert(ReceiptRow), rows)
    finally:
        engine.dispose()


# Values a database cannot hold or no clock explains, each in an otherwise valid rating. The
# first and last leave no seq the contract can carry back, so the hub dead-letters them without
# an answer (a kiosk never numbers that far); the others are acknowledged "rejected".
POISONS: tuple[dict[str, object], ...] = (
    {"seq": 2**63},
    {"rated_at": "9999-12-31T23:59:59+00:00"},
    {"rated_at": "0001-01-01T00:00:00+00:00"},
    {"seq": 2**64 + 1},
)


@dataclass(frozen=True)
class Poisoned:
    files: dict[str, Path]
    count: int  # poisoned ratings
    unanswerable: int  # of them, those whose seq cannot be acknowledged


def poisoned(files: dict[str, Path], share: float) -> Poisoned:
    """Copies of the publishers' files with every ``1/share``-th rating poisoned (its id kept, so
    the kiosk is told "rejected" where the seq can be carried back)."""
    every = max(1, round(1 / share))
    out: dict[str, Path] = {}
    n = unanswerable = 0
    for kiosk, path in files.items():
        lines = path.read_bytes().splitlines()
        for i in range(every - 1, len(lines), every):
            data = json.loads(lines[i])
            poison = POISONS[n % len(POISONS)]
            data.update(poison)
            lines[i] = json.dumps(data).encode()
            n += 1
            unanswerable += "seq" in poison
        out[kiosk] = path.with_name(f"{path.stem}-poisoned.jsonl")
        out[kiosk].write_bytes(b"\n".join(lines) + b"\n")
    return Poisoned(out, n, unanswerable)


def split(count: int, parts: int) -> list[int]:
    return [count // parts + (1 if i < count % parts else 0) for i in range(parts)]


# -- Mosquitto's C clients ---------------------------------------------------------------------------


def c_publishers(
    layout: SecretsLayout, port: int, files: dict[str, Path]
) -> list[subprocess.Popen[bytes]]:
    """One ``mosquitto_pub -l`` per kiosk user, each sending its file's lines (QoS 1)."""
    from hailong.contract import topics

    procs = []
    for kiosk, path in files.items():
        with path.open("rb") as lines:
            procs.append(
                subprocess.Popen(
                    [
                        "mosquitto_pub",
                        *("-h", "127.0.0.1", "-p", str(port)),
                        *("-u", kiosk, "-P", password(layout, kiosk)),
                        # The broker binds each kiosk user to its own client id.
                        *("-i", kiosk, "-q", "1"),
                        *("-t", topics.ratings(_common.UNIT_CODE, kiosk), "-l"),
                    ],
                    stdin=lines,
                    stdout=subprocess.DEVNULL,
                )
            )
    return procs


def wait_all(procs: Sequence[subprocess.Popen[Any]], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    for proc in procs:
        try:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            for other in procs:
                other.kill()
            raise RuntimeError(f"{what} did not finish in {timeout:.0f} s") from None
        if proc.returncode != 0:
            raise RuntimeError(f"{what} exited with {proc.returncode}")


def baseline(layout: SecretsLayout, port: int, files: dict[str, Path], count: int) -> float:
    """Seconds for ``mosquitto_sub`` (hub user, QoS 1) to receive ``count`` published messages."""
    from hailong.contract import topics

    client_id = f"bench-baseline-{os.getpid()}"
    common = [
        *("-h", "127.0.0.1", "-p", str(port), "-u", "hub", "-P", password(layout, "hub")),
        *("-i", client_id, "-q", "1", "-c"),
        *("-t", topics.RATINGS_SUBSCRIPTION),
    ]
    # A persistent session subscribed first (-E: exit on SUBACK), so no message can be missed.
    subprocess.run(["mosquitto_sub", *common, "-E"], check=True, timeout=10)
    sub = subprocess.Popen(["mosquitto_sub", *common, "-C", str(count)], stdout=subprocess.DEVNULL)
    time.sleep(0.3)  # connected; anything published from now on is queued or delivered
    start = time.monotonic()
    pubs = c_publishers(layout, port, files)
    wait_all(pubs, 300, "mosquitto_pub")
    wait_all([sub], 300, "mosquitto_sub")
    seconds = time.monotonic() - start
    # Otherwise the broker would go on queueing every later run's ratings for this session.
    purge_session(layout.root, port, client_id)
    return seconds


def python_floor(
    layout: SecretsLayout, port: int, files: dict[str, Path], count: int, stock: bool = False
) -> float:
    """Seconds for the hub's MQTT client (hub user, QoS 1) to take and acknowledge ``count``
    published messages and do nothing else: ``hailong.mqtt.Client``, or paho's own (``stock``)."""
    drain = _child(
        "--drain",
        *("--secrets", str(layout.root), "--port", str(port), "--count", str(count)),
        *(["--stock"] if stock else []),
    )
    _expect_ready(drain, "the Python drain")
    start = time.monotonic()
    wait_all(c_publishers(layout, port, files), 300, "mosquitto_pub")
    wait_all([drain], 300, "the Python drain")
    return time.monotonic() - start


# -- hub workers and the ack collector (child processes of this script) -------------------------------


def _child(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(HERE), *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )


def _expect_ready(proc: subprocess.Popen[str], what: str) -> str:
    assert proc.stdout is not None
    line = proc.stdout.readline().strip()
    if not line.startswith("ready"):
        proc.kill()
        raise RuntimeError(f"{what} did not start: {line!r}")
    return line


@contextlib.contextmanager
def hub_workers(
    layout_root: Path,
    port: int,
    database_url: str,
    workers: int,
    batch: int,
    files: dict[str, Path] | None = None,
    stock: bool = False,
) -> Iterator[list[subprocess.Popen[str]]]:
    """``workers`` HubService processes (a shared subscription when more than one), on a register
    holding the receipts of the ratings in ``files``; ``stock``: on paho's own client."""
    from hub.store.db import make_engine

    make_engine(database_url).dispose()  # the schema, once, before the workers open it
    if files:
        register_receipts(database_url, files)
    group = "hub" if workers > 1 else None
    # The single hub keeps a persistent session, as in production. Its own id per run, purged
    # afterwards: otherwise the broker keeps queueing the next runs' ratings for it, and a later
    # single-worker run would receive them twice.
    single_id = f"bench-hub-single-{uuid.uuid4().hex[:8]}"
    procs: list[subprocess.Popen[str]] = []
    try:
        for n in range(workers):
            args = ["--worker", "--secrets", str(layout_root), "--port", str(port)]
            args += ["--db", database_url, "--batch", str(batch), *(["--stock"] if stock else [])]
            if group:
                args += ["--group", group, "--client-id", f"bench-hub-{n + 1}"]
            else:
                args += ["--client-id", single_id]
            procs.append(_child(*args))
        for n, proc in enumerate(procs):
            _expect_ready(proc, f"hub worker {n + 1}")
        yield procs
    finally:
        for proc in procs:
            if proc.poll() is None and proc.stdin is not None:
                with contextlib.suppress(BrokenPipeError):
                    proc.stdin.close()
        for proc in procs:
            try:
                proc.wait(timeout=40)
            except subprocess.TimeoutExpired:
                proc.kill()
        if group is None:
            purge_session(layout_root, port, single_id)


def purge_session(layout_root: Path, port: int, client_id: str) -> None:
    """Connect once with a clean session under ``client_id``: the broker drops the old one."""
    from hailong.contract import topics
    from hailong.provision import SecretsLayout

    secret = password(SecretsLayout(layout_root), "hub")
    subprocess.run(
        ["mosquitto_sub", "-h", "127.0.0.1", "-p", str(port), "-u", "hub", "-P", secret,
         "-i", client_id, "-t", topics.RATINGS_SUBSCRIPTION, "-E"],
        check=False, timeout=10, stdout=subprocess.DEVNULL,
    )  # fmt: skip


def worker_reports(procs: Sequence[subprocess.Popen[str]]) -> list[dict[str, float]]:
    reports = []
    for proc in procs:
        assert proc.stdout is not None
        out = proc.stdout.read().strip().splitlines()
        reports.append(json.loads(out[-1]) if out else {})
    return reports


@dataclass
class HubRun:
    name: str
    count: int
    seconds: float
    acked: int
    acked_twice: int
    stored: int
    duplicates: int
    commit_failures: int
    rows: int
    poisoned: int = 0  # of ``count``: each must be a dead letter, not a row
    dead_letters: int = 0
    unanswerable: int = 0  # of the poisoned: dead-lettered without an ack
    cpu_seconds: float = 0.0  # the hub processes' CPU time, their waiting excluded

    @property
    def rate(self) -> float:
        return self.count / self.seconds

    @property
    def cpu_per_rating(self) -> float:
        """Microseconds of the hub's CPU a rating: steadier than the rate on a shared machine."""
        return self.cpu_seconds / self.count * 1e6

    def line(self) -> str:
        return (
            f"{self.name}: n={self.count} seconds={self.seconds:.2f} rate_per_s={self.rate:.0f} "
            f"acked={self.acked} acked_twice={self.acked_twice} stored={self.stored} "
            f"duplicates={self.duplicates} commit_failures={self.commit_failures} "
            f"rows={self.rows} poisoned={self.poisoned} unanswerable={self.unanswerable} "
            f"dead_letters={self.dead_letters} hub_cpu_us_per_rating={self.cpu_per_rating:.1f}"
        )

    @property
    def complete(self) -> bool:
        """Every rating acknowledged, every clean one stored, every poisoned one dead-lettered."""
        return (
            self.acked == self.count - self.unanswerable
            and self.rows == self.count - self.poisoned
            and self.dead_letters == self.poisoned
        )


def count_rows(database_url: str) -> tuple[int, int]:
    """(ratings, dead letters) in the hub's database."""
    from sqlalchemy import create_engine, func, select

    from hub.store.models import DeadLetterRow, RatingRow

    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            rows, dead = (
                int(conn.execute(select(func.count()).select_from(table)).scalar() or 0)
                for table in (RatingRow, DeadLetterRow)
            )
            return rows, dead
    finally:
        engine.dispose()


def hub_run(
    name: str,
    layout: SecretsLayout,
    port: int,
    files: dict[str, Path],
    count: int,
    database_url: str,
    workers: int,
    batch: int,
    poison: Poisoned | None = None,
    stock: bool = False,
) -> HubRun:
    answered = count - (poison.unanswerable if poison else 0)
    with hub_workers(layout.root, port, database_url, workers, batch, files, stock) as procs:
        collector = _child(
            "--collect-acks",
            *("--secrets", str(layout.root), "--port", str(port), "--count", str(answered)),
            *("--kiosks", ",".join(files)),
        )
        _expect_ready(collector, "ack collector")
        start = time.monotonic()
        pubs = c_publishers(layout, port, files)
        wait_all(pubs, 600, "mosquitto_pub")
        assert collector.stdout is not None
        summary_line = collector.stdout.readline()
        seconds = time.monotonic() - start
        collector.wait(timeout=10)
        if collector.returncode != 0:
            raise RuntimeError(f"{name}: not every rating was acknowledged: {summary_line}")
        summary = json.loads(summary_line)
    reports = worker_reports(procs)
    rows, dead = count_rows(database_url)
    return HubRun(
        name,
        count,
        seconds,
        int(summary["acked"]),
        int(summary["acked_twice"]),
        int(sum(r.get("stored", 0) for r in reports)),
        int(sum(r.get("duplicates", 0) for r in reports)),
        int(sum(r.get("commit_failures", 0) for r in reports)),
        rows,
        poison.count if poison else 0,
        dead,
        poison.unanswerable if poison else 0,
        sum(r.get("cpu_seconds", 0.0) for r in reports),
    )


@contextlib.contextmanager
def postgres_schema(url: str) -> Iterator[str]:
    """A throwaway schema in the given database; yields a URL whose search_path is that schema."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    schema = f"hailong_bench_{os.getpid()}_{int(time.time())}"
    admin = create_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        parsed = make_url(url)
        scoped = parsed.update_query_dict({"options": f"-csearch_path={schema}"})
        yield scoped.render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def fresh_sqlite(root: Path, name: str) -> str:
    path = root / f"{name}.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return f"sqlite:///{path}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2,000 ratings instead of 100,000")
    parser.add_argument("--count", type=int, help="ratings per run (overrides --quick)")
    parser.add_argument("--workers", type=int, default=3, help="workers of the shared run")
    parser.add_argument("--batch", type=int, default=1000, help="the hub's max_batch")
    parser.add_argument(
        "--pairs", type=int, default=1, help="runs of the single hub on each MQTT client"
    )
    parser.add_argument("--postgres", metavar="URL", help="also run on this PostgreSQL database")
    parser.add_argument(
        "--poison", type=float, default=0.01, help="share of poisoned ratings in the poisoned run"
    )
    parser.add_argument("--dir", type=Path, help="where the databases go (default: temp folder)")
    # Child process roles (used by this script and bench/backlog.py).
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--collect-acks", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--drain", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--stock", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--secrets", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    parser.add_argument("--group", help=argparse.SUPPRESS)
    parser.add_argument("--client-id", help=argparse.SUPPRESS)
    parser.add_argument("--kiosks", help=argparse.SUPPRESS)
    parser.add_argument("--timeout", type=float, default=600, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return run_worker(args)
    if args.collect_acks:
        return run_collector(args)
    if args.drain:
        return run_drain(args)
    return run_bench(args)


def mosquitto_version() -> str:
    out = subprocess.run(["mosquitto", "-h"], capture_output=True, text=True, check=False)
    first = (out.stdout or out.stderr).splitlines()
    return first[0].replace("mosquitto version ", "") if first else "?"


def run_bench(args: argparse.Namespace) -> int:
    count = args.count or (2_000 if args.quick else 100_000)
    if not shutil.which("mosquitto_pub") or not shutil.which("mosquitto_sub"):
        print("mosquitto_pub and mosquitto_sub are needed (apt-get install mosquitto-clients)")
        return 2
    _common.sigterm_as_interrupt()
    runs: list[HubRun] = []
    with contextlib.ExitStack() as stack:
        root = stack.enter_context(_common.temp_dir("hailong-bench-ingest-", args.dir))
        layout = _common.throwaway_secrets(root / "secrets")
        print(
            f"# ingest: {count} ratings from {len(KIOSKS)} kiosk users through Mosquitto "
            f"{mosquitto_version()} (QoS 1, loopback), {os.cpu_count()} CPUs"
        )
        print(f"# databases in {root} ({_common.filesystem_of(root)}); hub max_batch={args.batch}")
        files: dict[str, Path] = {}
        for kiosk, n in zip(KIOSKS, split(count, len(KIOSKS)), strict=True):
            files[kiosk] = root / f"{kiosk}.jsonl"
            files[kiosk].write_bytes(b"\n".join(rating_payloads(kiosk, n)) + b"\n")
        size = sum(p.stat().st_size for p in files.values()) / count
        print(f"# one rating is {size:.0f} bytes of JSON; publishers: mosquitto_pub -l per kiosk")
        broker = stack.enter_context(_common.mosquitto(root, layout))
        base_seconds = baseline(layout, broker.port, files, count)
        base_rate = count / base_seconds
        print(
            f"baseline (mosquitto_pub -l -> mosquitto_sub, C, QoS 1): n={count} "
            f"seconds={base_seconds:.2f} rate_per_s={base_rate:.0f}"
        )
        floor_seconds = python_floor(layout, broker.port, files, count)
        print(
            f"python client floor (hailong.mqtt.Client take + PUBACK, no hub work): n={count} "
            f"seconds={floor_seconds:.2f} rate_per_s={count / floor_seconds:.0f}"
        )
        stock_floor = python_floor(layout, broker.port, files, count, stock=True)
        print(
            f"python client floor, stock paho (on_message + ack, no hub work): n={count} "
            f"seconds={stock_floor:.2f} rate_per_s={count / stock_floor:.0f}"
        )
        # The same hub on both clients, in turns (fast first, then stock first, ...): a machine
        # shared with other work slows whichever runs during a busy spell.
        by_client: dict[bool, list[HubRun]] = {False: [], True: []}
        for n in range(args.pairs):
            for stock in (False, True) if n % 2 == 0 else (True, False):
                name = "hub sqlite 1 worker" + (", stock paho" if stock else "")
                name += f" #{n + 1}" if n else ""
                url = fresh_sqlite(root, f"sqlite1-{stock}-{n}")
                run = hub_run(
                    name, layout, broker.port, files, count, url, 1, args.batch, stock=stock
                )
                by_client[stock].append(run)
                runs.append(run)
                print(run.line(), flush=True)
        name = f"hub sqlite {args.workers} workers (shared subscription)"
        url = fresh_sqlite(root, "sqliteN")
        runs.append(hub_run(name, layout, broker.port, files, count, url, args.workers, args.batch))
        print(runs[-1].line(), flush=True)
        bad = poisoned(files, args.poison)
        name = f"hub sqlite 1 worker, {args.poison:.0%} poisoned"
        url = fresh_sqlite(root, "poisoned")
        runs.append(
            hub_run(name, layout, broker.port, bad.files, count, url, 1, args.batch, poison=bad)
        )
        print(runs[-1].line(), flush=True)
        if args.postgres:
            for name, workers in (
                ("hub postgresql 1 worker", 1),
                (f"hub postgresql {args.workers} workers (shared subscription)", args.workers),
            ):
                with postgres_schema(args.postgres) as url:
                    run = hub_run(name, layout, broker.port, files, count, url, workers, args.batch)
                runs.append(run)
                print(run.line(), flush=True)
    print(
        f"ratio python client floor/baseline: rate={_common.ratio(count / floor_seconds, base_rate)}"
    )
    for run in runs:
        print(f"ratio {run.name}/baseline: rate={_common.ratio(run.rate, base_rate)}")
    (fast_rate, fast_cpu), (stock_rate, stock_cpu) = (
        (
            sum(r.count for r in rs) / sum(r.seconds for r in rs),
            sum(r.cpu_seconds for r in rs) / sum(r.count for r in rs) * 1e6,
        )
        for rs in by_client.values()
    )
    print(
        f"hub sqlite 1 worker, {args.pairs} run(s) each: fast path rate_per_s={fast_rate:.0f} "
        f"hub_cpu_us_per_rating={fast_cpu:.1f}, stock paho rate_per_s={stock_rate:.0f} "
        f"hub_cpu_us_per_rating={stock_cpu:.1f}; ratio fast path/stock paho (whole hub): "
        f"rate={_common.ratio(fast_rate, stock_rate)} cpu={_common.ratio(fast_cpu, stock_cpu)}"
    )
    clean, dirty = runs[0], next(r for r in runs if r.poisoned)
    print(f"ratio poisoned/clean (sqlite 1 worker): rate={_common.ratio(dirty.rate, clean.rate)}")
    single = runs[0]
    verdict_rate = "met" if single.rate >= GOAL_RATE else "NOT met"
    verdict_ratio = "met" if single.rate / base_rate >= GOAL_RATIO else "NOT met"
    print(
        f"goal: sqlite 1 worker >= {GOAL_RATE:.0f} ratings/s committed and acknowledged -> "
        f"{verdict_rate}; ratio >= {GOAL_RATIO} -> {verdict_ratio} (informational)"
    )
    lost = [r.name for r in runs if not r.complete]
    if lost:
        print(f"ERROR: ratings missing in {', '.join(lost)}")
        return 1
    return 0


if __name__ == "__main__":
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
