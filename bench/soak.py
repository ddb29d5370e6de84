"""Soak: a fleet of simulated kiosks on real MQTT connections for minutes, with random disconnects.
Does the hub's memory stay flat, does ingest keep up, and how long from a tap to its ack?

    python bench/soak.py [--kiosks 1000] [--minutes 10] [--per-process 50] [--rate 20]
                         [--kiosks-per-unit 10] [--drop-every 2] [--quick] [--dir DIR]

Real processes from ``bench/_fleet.py``, shared with the fault bench: Mosquitto with every unit's
users and ACLs, the hub (``HubService`` on SQLite, ``_fleet.py --hub``) and kiosk children (this
script with ``--kiosk``), each hosting ``--per-process`` kiosks, each kiosk a real ``Outbox`` (its
own file) and a real ``Uplink`` (its own MQTT connection and user).

* units: as in a province, the fleet is spread over many units, ``--kiosks-per-unit`` kiosks each
  (default 10; docs/scaling.md counts about 3 per unit, 10 is a busy centre and keeps the hub's
  per-unit "already rated" fan-out, each notice to every kiosk of the unit, on the heavy side):
  ``k-0001`` .. ``k-0010`` in unit ``001.00.00.H41``, the next ten in ``001.00.01.H41``, and so on.
  The central hub subscribes to every unit's ratings; it is started with the example unit's file
  (its catalogue, and the baseline kiosk ``k-0000``), stores the other units' ratings and publishes
  their acks and "already rated" notices on their own topics. One unit of 1,000 kiosks would send
  every notice to all 1,000, which no province has and which saturates the kiosks' machine;
* taps: a Poisson process per kiosk, ``--rate`` ratings per second for the whole fleet; a tap is
  ``Outbox.append`` + ``Uplink.notify_new`` as the kiosk's controller does it;
* tap to ack: ``time.monotonic()`` before the append and when the hub's ack (``on_acked``) first
  names the rating; the kiosk applies the ack (deletes the row) before the hook runs;
* random disconnects: every ``--drop-every`` seconds (on average, fleet-wide) one connected kiosk
  has its socket shut down under paho, as a dropped link would; paho reconnects on its own (1 s
  back-off) and the uplink's first pass on the new connection republishes what is unacknowledged;
* memory: VmRSS of the hub and of the broker every 10 s (``--quick``: every 2 s); the slope is a
  least-squares fit over the second half of the soak, when start-up allocations are done, and
  the hub's counts as flat at ``FLAT_MIB_PER_MIN`` or less (informational, no pass/fail);
* baseline, same run, same broker and hub: the tap-to-ack p99 of a single kiosk alone, before the
  fleet starts;
* at the end tapping stops, the run waits until every outbox is empty and compares the ids the
  kiosks committed with the hub's ``ratings`` rows: lost and duplicated must both be 0.
"""

from __future__ import annotations

import argparse
import contextlib
import random
import resource
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING

import _common
import _fleet

if TYPE_CHECKING:
    from hailong.contract.messages import AckOutcome, RatingMessage
    from hailong.provision import SecretsLayout
    from hailong.settings import Unit

HERE = Path(__file__).resolve()
UNIT_CODE = _common.UNIT_CODE
BASELINE_KIOSK = "k-0000"
# "Flat": the second half's slope stays under this (6 MiB an hour, a leak a day would show).
FLAT_MIB_PER_MIN = 0.1


def raise_fd_limit() -> int:
    """Soft open-files limit up to the hard one: a kiosk holds a socket and its SQLite files (WAL,
    shm, pooled connections), so 100 per process, or the hub's broker with 1,000 clients, outgrow
    the usual 1,024. Children inherit the raised limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        soft = hard
    return int(soft)


def vm_rss_mib(pid: int) -> float:
    """Resident memory of another process (``/proc/<pid>/status``); 0 once it has gone."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0
    for line in text.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def slope_per_minute(samples: list[tuple[float, float]]) -> float:
    """Least-squares slope of (seconds, MiB) samples, in MiB per minute (0 for < 2 samples)."""
    if len(samples) < 2:
        return 0.0
    n = len(samples)
    mean_t = sum(t for t, _ in samples) / n
    mean_v = sum(v for _, v in samples) / n
    var = sum((t - mean_t) ** 2 for t, _ in samples)
    if var == 0:
        return 0.0
    cov = sum((t - mean_t) * (v - mean_v) for t, v in samples)
    return cov / var * 60.0


# -- provisioning ---------------------------------------------------------------------------------


def unit_code(n: int) -> str:
    """The code of soak unit ``n`` (0, 1, ...): ``001.00.00.H41``, ``001.00.01.H41``, ... valid
    electronic codes (``DossierCode``'s pattern, topic segments) never equal to the example unit's
    ``000.00.20.H41``."""
    return f"{1 + n // 10000:03d}.{n // 100 % 100:02d}.{n % 100:02d}.H41"


def unit_of(kiosk: str, per_unit: int) -> str:
    """The unit of a kiosk: the baseline ``k-0000`` is in the example unit, ``k-0001`` ..
    ``k-<per_unit>`` in soak unit 0, the next ``per_unit`` in soak unit 1, and so on."""
    n = _fleet.kiosk_number(kiosk)
    return UNIT_CODE if n == 0 else unit_code((n - 1) // per_unit)


def provision(root: Path, kiosks: int, per_unit: int) -> tuple[SecretsLayout, Path, list[Unit]]:
    """The example unit plus the baseline kiosk ``k-0000`` (the hub's catalogue), the soak units
    of ``per_unit`` kiosks each, ``k-0001`` .. ``k-<kiosks>`` (copies of the example unit with
    another code and those kiosks), and everyone's secrets.

    Named ``k-NNNN`` so ``_fleet.make_rating`` gives every kiosk its own dossier days (two kiosks
    sharing a receipt would be refused as ``already_rated``)."""
    from hailong.provision import SecretsLayout, init_secrets
    from hailong.settings import KioskEntry, load_unit

    text = (_common.REPO / "config" / "unit.toml").read_text()
    unit_file = root / "unit.toml"
    unit_file.write_text(text + f'\n[[kiosks]]\nid = "{BASELINE_KIOSK}"\ncounter = "Q1"\n')
    example = load_unit(unit_file)
    layout = SecretsLayout(root / "secrets")
    init_secrets(example, layout)
    members: dict[str, list[KioskEntry]] = {}
    for i in range(1, kiosks + 1):
        kiosk = f"k-{i:04d}"
        members.setdefault(unit_of(kiosk, per_unit), []).append(KioskEntry(id=kiosk, counter="Q1"))
    units = [
        example.model_copy(
            update={"unit": example.unit.model_copy(update={"code": code}), "kiosks": tuple(ks)}
        )
        for code, ks in members.items()
    ]
    for unit in units:
        init_secrets(unit, layout)
    return layout, unit_file, units


# -- child: kiosks --------------------------------------------------------------------------------


def drop_link(client: object) -> bool:
    """Shut the kiosk's socket down under paho: the broker and paho both see the link die, paho
    reconnects by itself, exactly as after a real network cut (``disconnect()`` would instead be a
    clean goodbye that also ends paho's loop thread)."""
    sock = client.socket()  # type: ignore[attr-defined]
    if sock is None:
        return False
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
        return True
    return False


def run_kiosks(args: argparse.Namespace) -> int:
    """``--kiosk``: outboxes and uplinks for ``--ids``; taps at ``--rate`` per second (this
    process's share) from a "go" line on stdin to a "stop" line, then says "appended"; runs until
    stdin closes.

    Prints "c <kiosk> <id>" once a rating is committed, "a <id> <seconds>" on its first ack
    (tap to ack), "d <kiosk>" per dropped link."""
    from hailong.provision import SecretsLayout
    from kiosk.outbox import Outbox

    layout = SecretsLayout(args.secrets)
    ids = args.ids.split(",")
    out = sys.stdout
    out_lock = threading.Lock()
    # Rating id -> monotonic time of the tap, until its first ack. The tap loop holds the lock from
    # before the append until the id is recorded, so even an ack that beats the recording finds it;
    # later acks of resent copies ("duplicate") find nothing and are not timed.
    taps: dict[str, float] = {}
    taps_lock = threading.Lock()

    def emit(line: str) -> None:
        with out_lock:
            out.write(line)
            out.flush()

    def on_acked(results: tuple[AckOutcome, ...]) -> None:
        now = time.monotonic()
        lines = []
        with taps_lock:
            for result in results:
                key = str(result.id)
                tapped = taps.pop(key, None)
                if tapped is not None:
                    lines.append(f"a {key} {now - tapped:.6f}\n")
        if lines:
            emit("".join(lines))

    units = {k: unit_of(k, args.kiosks_per_unit) for k in ids}
    outboxes = {k: Outbox(args.dir / f"{k}.db") for k in ids}
    uplinks = {
        k: _fleet.kiosk_uplink(layout, args.port, k, box, args.resend_after, on_acked, units[k])
        for k, box in outboxes.items()
    }
    for up in uplinks.values():
        up.start()
    deadline = time.monotonic() + 120
    while not all(up.connected for up in uplinks.values()):
        if time.monotonic() > deadline:
            emit("not connected\n")
            return 1
        time.sleep(0.05)
    emit("ready\n")

    stop = threading.Event()
    rng = random.Random()

    def dropper() -> None:
        while args.drop_rate > 0 and not stop.wait(rng.expovariate(args.drop_rate)):
            k = rng.choice(ids)
            if uplinks[k].connected and drop_link(uplinks[k]._client):
                emit(f"d {k}\n")

    # "go" once the whole fleet is connected (the clock starts for every process at once), then
    # "stop".
    sys.stdin.readline()
    threading.Thread(target=dropper, name="dropper", daemon=True).start()

    def stop_on_line() -> None:
        sys.stdin.readline()
        stop.set()

    threading.Thread(target=stop_on_line, daemon=True).start()

    # Tap times on an absolute Poisson schedule: a slow append (fsync on a busy disk) delays the
    # next tap but does not lower the offered rate, unless appends cannot keep up at all.
    next_tap = time.monotonic()
    while args.rate > 0:
        next_tap += rng.expovariate(args.rate)
        if stop.wait(max(0.0, next_tap - time.monotonic())):
            break
        k = rng.choice(ids)

        def build(seq: int, k: str = k) -> RatingMessage:
            return _fleet.make_rating(k, seq, datetime.now(UTC), units[k])

        with taps_lock:
            tapped = time.monotonic()
            rating = outboxes[k].append(build)
            key = str(rating.id)
            taps[key] = tapped
        emit(f"c {k} {key}\n")
        uplinks[k].notify_new()
    stop.set()
    emit("appended\n")
    sys.stdin.read()
    for up in uplinks.values():
        up.stop()
    for box in outboxes.values():
        box.close()
    return 0


# -- the parent -----------------------------------------------------------------------------------


@dataclass
class Fleet:
    """One kiosk child process and what it reported."""

    proc: subprocess.Popen[str]
    ids: list[str]
    committed: set[str] = field(default_factory=set)
    latencies: list[float] = field(default_factory=list)
    drops: int = 0
    ready: threading.Event = field(default_factory=threading.Event)
    appended: threading.Event = field(default_factory=threading.Event)

    def read(self, stream: IO[str]) -> None:
        for line in stream:
            parts = line.split()
            if not parts:
                continue
            if parts[0] == "c":
                self.committed.add(parts[2])
            elif parts[0] == "a":
                self.latencies.append(float(parts[2]))
            elif parts[0] == "d":
                self.drops += 1
            elif parts[0] == "ready":
                self.ready.set()
            elif parts[0] == "appended":
                self.appended.set()

    def say(self, word: str) -> None:
        """ "go" (start tapping) or "stop" (tap no more) to the child."""
        if self.proc.stdin and self.proc.poll() is None:
            with contextlib.suppress(BrokenPipeError):
                self.proc.stdin.write(word + "\n")
                self.proc.stdin.flush()

    def close(self) -> None:
        _fleet.end_child(self.proc, timeout=60)


@dataclass
class Soak:
    root: Path
    layout: SecretsLayout
    broker: _fleet.Broker
    hub: _fleet.Hub
    per_unit: int
    fleets: list[Fleet] = field(default_factory=list)

    def spawn(self, ids: list[str], rate: float, drop_rate: float, resend_after: float) -> Fleet:
        folder = self.root / "kiosks"
        folder.mkdir(exist_ok=True)
        args = [sys.executable, str(HERE), "--kiosk", "--secrets", str(self.layout.root)]
        args += ["--ids", ",".join(ids), "--port", str(self.broker.port), "--dir", str(folder)]
        args += ["--rate", str(rate), "--drop-rate", str(drop_rate)]
        args += ["--resend-after", str(resend_after), "--kiosks-per-unit", str(self.per_unit)]
        with (self.root / "kiosks.log").open("a") as err:
            proc = subprocess.Popen(
                args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err, text=True
            )
        fleet = Fleet(proc, ids)
        assert proc.stdout is not None
        threading.Thread(target=fleet.read, args=(proc.stdout,), daemon=True).start()
        self.fleets.append(fleet)
        return fleet

    def outbox_rows(self, ids: list[str]) -> int:
        total = 0
        for k in ids:
            path = self.root / "kiosks" / f"{k}.db"
            if path.exists():
                with contextlib.closing(
                    sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
                ) as conn:
                    total += int(conn.execute("SELECT count(*) FROM outbox").fetchone()[0])
        return total

    def wait_drained(self, fleets: list[Fleet], timeout: float) -> float | None:
        """Seconds until every kiosk stopped tapping and every outbox is empty (None: timeout)."""
        start = time.monotonic()
        ids = [k for f in fleets for k in f.ids]
        while time.monotonic() - start < timeout:
            if all(f.appended.is_set() for f in fleets) and self.outbox_rows(ids) == 0:
                return time.monotonic() - start
            time.sleep(0.5)
        return None

    def judge(self, fleets: list[Fleet]) -> tuple[int, int, int, int, int]:
        """(committed, stored, lost, duplicated, units with stored ratings) of these kiosks, from
        the hub's database; a row whose unit is not its kiosk's counts as duplicated."""
        sent = set().union(*(f.committed for f in fleets))
        ids = [k for f in fleets for k in f.ids]
        marks = ",".join("?" * len(ids))
        with contextlib.closing(sqlite3.connect(self.hub.db_path, timeout=30)) as conn:
            rows = conn.execute(
                f"SELECT id, kiosk, seq, unit FROM ratings WHERE kiosk IN ({marks})", ids
            ).fetchall()
            topics = [f"hailong/v1/{unit_of(k, self.per_unit)}/{k}/ratings" for k in ids]
            dead = int(
                conn.execute(
                    f"SELECT count(*) FROM dead_letters WHERE topic IN ({marks})", topics
                ).fetchone()[0]
            )
        hub_ids = {str(r[0]) for r in rows}
        per_seq = {(r[1], r[2]) for r in rows}
        misfiled = sum(1 for r in rows if r[3] != unit_of(r[1], self.per_unit))
        units = len({r[3] for r in rows})
        doubled = len(rows) - len(per_seq) + dead + misfiled
        return len(sent), len(sent & hub_ids), len(sent - hub_ids), doubled, units


class PatientHub(_fleet.Hub):
    """``_fleet.Hub`` with room to start: on a loaded 2-core machine a hub took 18 s to report
    ready, over the 60 s ``faults.py`` allows on a busier one."""

    def wait_event(self, prefix: str, timeout: float, nth: int = 1) -> None:
        super().wait_event(prefix, max(timeout, 300.0), nth)


@contextlib.contextmanager
def soak_setup(root: Path, kiosks: int, per_unit: int) -> Iterator[Soak]:
    layout, unit_file, units = provision(root, kiosks, per_unit)
    broker = _fleet.Broker(root, layout, unit_file, units)
    broker.start()
    hub = PatientHub(root, layout, broker.port, unit_file)
    soak = Soak(root, layout, broker, hub, per_unit)
    try:
        from hub.store.db import make_engine

        make_engine(hub.url).dispose()  # the schema, before the hub opens it
        hub.start()
        yield soak
    finally:
        for fleet in soak.fleets:
            _fleet.kill_child(fleet.proc)
        hub.stop()
        broker.stop()


def pcts(values: list[float]) -> str:
    if not values:
        return "p50_ms=nan p95_ms=nan p99_ms=nan max_ms=nan"
    p = _common.percentile
    return (
        f"p50_ms={p(values, 50) * 1000:.1f} p95_ms={p(values, 95) * 1000:.1f} "
        f"p99_ms={p(values, 99) * 1000:.1f} max_ms={max(values) * 1000:.1f}"
    )


def baseline(soak: Soak, seconds: float, resend_after: float) -> list[float]:
    """Tap-to-ack of one kiosk alone (5 taps/s, no drops) on the same broker and hub."""
    started = time.monotonic()
    fleet = soak.spawn([BASELINE_KIOSK], rate=5.0, drop_rate=0.0, resend_after=resend_after)
    if not fleet.ready.wait(60):
        raise RuntimeError("the baseline kiosk did not connect")
    print(f"baseline kiosk connected in {time.monotonic() - started:.1f} s", flush=True)
    fleet.say("go")
    time.sleep(seconds)
    fleet.say("stop")
    if soak.wait_drained([fleet], 60) is None:
        raise RuntimeError("the baseline kiosk did not drain")
    fleet.close()
    return fleet.latencies


def run(args: argparse.Namespace, root: Path) -> int:
    fd_limit = raise_fd_limit()
    n, per, per_unit = args.kiosks, args.per_process, args.kiosks_per_unit
    units = -(-n // per_unit)
    duration = args.minutes * 60.0
    sample_every = 2.0 if args.quick else 10.0
    print(
        f"# soak: kiosks={n} kiosks_per_unit={per_unit} units={units} minutes={args.minutes:g} "
        f"per_process={per} rate={args.rate:g}/s "
        f"drop_every={args.drop_every:g}s fd_limit={fd_limit} files in {root}",
        flush=True,
    )
    with soak_setup(root, n, per_unit) as soak:
        base = baseline(soak, 5.0 if args.quick else 15.0, args.resend_after)
        print(f"baseline (1 kiosk alone, taps={len(base)}): {pcts(base)}", flush=True)

        ids = [f"k-{i:04d}" for i in range(1, n + 1)]
        groups = [ids[i : i + per] for i in range(0, n, per)]
        drop_rate = 1.0 / args.drop_every if args.drop_every > 0 else 0.0
        started = time.monotonic()
        fleets = [
            soak.spawn(
                g,
                rate=args.rate * len(g) / n,
                drop_rate=drop_rate * len(g) / n,
                resend_after=args.resend_after,
            )
            for g in groups
        ]
        for f in fleets:
            if not f.ready.wait(180):
                raise RuntimeError("a kiosk process did not connect all its kiosks")
        connected_s = time.monotonic() - started
        print(f"fleet connected: {len(fleets)} processes in {connected_s:.1f} s", flush=True)
        for f in fleets:
            f.say("go")

        assert soak.hub.proc is not None
        assert soak.broker.proc is not None
        hub_pid, broker_pid = soak.hub.proc.pid, soak.broker.proc.pid
        hub_rss: list[tuple[float, float]] = []
        broker_rss: list[tuple[float, float]] = []
        t0 = time.monotonic()
        while (elapsed := time.monotonic() - t0) < duration:
            hub_rss.append((elapsed, vm_rss_mib(hub_pid)))
            broker_rss.append((elapsed, vm_rss_mib(broker_pid)))
            acked = sum(len(f.latencies) for f in fleets)
            committed = sum(len(f.committed) for f in fleets)
            print(
                f"  t={elapsed:5.0f}s committed={committed} acked={acked} "
                f"hub_rss_mib={hub_rss[-1][1]:.1f} broker_rss_mib={broker_rss[-1][1]:.1f} "
                f"drops={sum(f.drops for f in fleets)}",
                flush=True,
            )
            time.sleep(min(sample_every, max(0.0, duration - elapsed)))
        tapping_s = time.monotonic() - t0
        hub_rss.append((tapping_s, vm_rss_mib(hub_pid)))
        broker_rss.append((tapping_s, vm_rss_mib(broker_pid)))
        for f in fleets:
            f.say("stop")
        drain_s = soak.wait_drained(fleets, 300)
        committed, stored, lost, duplicated, units_stored = soak.judge(fleets)
        for f in fleets:  # every child winds down at once, not one after the other
            if f.proc.stdin and f.proc.poll() is None:
                with contextlib.suppress(BrokenPipeError):
                    f.proc.stdin.close()
        for f in fleets:
            f.close()
        latencies = [x for f in fleets for x in f.latencies]
        drops = sum(f.drops for f in fleets)

    def second_half(samples: list[tuple[float, float]]) -> list[tuple[float, float]]:
        return [s for s in samples if s[0] >= tapping_s / 2]

    def memory(name: str, samples: list[tuple[float, float]]) -> str:
        values = [v for _, v in samples]
        half = second_half(samples)
        return (
            f"{name}: first_mib={values[0]:.1f} last_mib={values[-1]:.1f} max_mib={max(values):.1f} "
            f"slope_mib_per_min={slope_per_minute(half):+.2f} (second half, {len(half)} samples)"
        )

    soak_p99 = _common.percentile(latencies, 99) if latencies else float("nan")
    base_p99 = _common.percentile(base, 99) if base else 0.0
    print()
    print(
        f"soak: kiosks={n} units={units} processes={len(groups)} minutes={tapping_s / 60:.2f} "
        f"ratings={committed} stored={stored} units_stored={units_stored} lost={lost} "
        f"duplicated={duplicated} drops={drops}"
    )
    print(
        f"ingest: offered_per_s={committed / tapping_s:.1f} acked={len(latencies)} "
        f"drain_after_stop_s={'NOT DRAINED' if drain_s is None else f'{drain_s:.1f}'}"
    )
    print(f"tap->ack: {pcts(latencies)}")
    print(f"baseline tap->ack (1 kiosk alone): {pcts(base)}")
    print(f"p99 ratio soak/baseline={_common.ratio(soak_p99, base_p99)}")
    print(memory("hub rss", hub_rss))
    print(memory("broker rss", broker_rss))
    hub_slope = slope_per_minute(second_half(hub_rss))
    verdict = "flat" if hub_slope <= FLAT_MIB_PER_MIN else "NOT flat"
    print(f"goal: hub memory flat (second-half slope <= {FLAT_MIB_PER_MIN} MiB/min) -> {verdict}")
    if lost or duplicated or drain_s is None:
        print("ERROR: ratings lost, duplicated or left in an outbox")
        return 1
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kiosks", type=int, default=1000)
    parser.add_argument("--minutes", type=float, default=10.0)
    # 50: on 2 cores, 1,000 kiosks at 25, 50 and 100 per process all kept up (2 minutes, quiet
    # machine); 50 had the lowest tap-to-ack p99. 100 uplinks (~200 threads) per process once
    # thrashed on the GIL (500+ runnable threads, 65% system time, missed keepalives) while
    # another benchmark shared the machine.
    parser.add_argument("--per-process", type=int, default=50, help="kiosks per child process")
    parser.add_argument(
        "--kiosks-per-unit",
        type=int,
        default=10,
        help="kiosks of one unit (they share its 'already rated' notices)",
    )
    parser.add_argument("--rate", type=float, default=20.0, help="taps per second, whole fleet")
    parser.add_argument(
        "--drop-every", type=float, default=2.0, help="seconds between dropped links (mean)"
    )
    parser.add_argument(
        "--resend-after", type=float, default=30.0, help="the uplink's resend_after (shipped: 30)"
    )
    parser.add_argument("--quick", action="store_true", help="30 kiosks for 15 s")
    parser.add_argument("--dir", type=Path, help="where the files go (default: temp folder)")
    # Children.
    parser.add_argument("--kiosk", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--secrets", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--ids", help=argparse.SUPPRESS)
    parser.add_argument("--drop-rate", type=float, default=0.0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.kiosk:
        return run_kiosks(args)
    if args.quick:
        args.kiosks, args.minutes, args.per_process = 30, 0.25, 15
    if args.kiosks_per_unit < 1:
        parser.error("--kiosks-per-unit must be 1 or more")
    _common.sigterm_as_interrupt()
    with _common.temp_dir("hailong-bench-soak-", args.dir) as root:
        return run(args, root)


if __name__ == "__main__":
    # SIGPIPE stays ignored (Python's default), as in faults.py: a kiosk writing to a socket the
    # broker just closed must reconnect, not die.
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
