"""Proof under faults: every rating a kiosk committed reaches the hub's database exactly once, and
every kiosk outbox drains to empty, whatever breaks on the way.

    python bench/faults.py [--short] [--only N[,N...]] [--dir DIR]

Real processes throughout (``bench/_fleet.py``): Mosquitto with the unit's users and ACLs, the hub
(``HubService`` on SQLite, ``_fleet.py --hub``, a child process that can be SIGKILLed) and
kiosks (real ``Outbox`` + ``Uplink``, ``_fleet.py --kiosk``, one child process hosting one or
more kiosks). A kiosk child prints the id of each rating once ``Outbox.append`` returned (the rating
is committed on its disk); those ids are "sent". At the end of a scenario the hub's ``ratings`` rows
of the scenario's kiosks are compared with them:

* stored: sent ids present in the hub; lost: sent ids absent; duplicated: rows beyond one per
  (kiosk, seq), plus dead letters (a second copy refused as ``already_rated`` or any refusal);
* outbox left: rows still in the kiosks' outbox files (pending or rejected) once they drained: must
  be 0, so no kiosk holds a rating the hub stored and never acknowledged;
* time to recover: seconds from the end of the fault (the restart, the heal) until the hub held
  every rating the kiosks had committed by then (the run goes on until every outbox is empty).

Scenarios (each with its own kiosks, on one broker and one hub database):

1. the hub SIGKILLed inside a batch's open transaction (rows inserted, not committed), restarted;
   and SIGKILLed after a commit, before its acks were published, restarted;
2. the broker restarted gracefully (``persistence true``), and SIGKILLed then started with
   ``persistence false`` (every session and queued message gone);
3. the network between kiosks and broker (``bench/_faultproxy.py``): broker->kiosk traffic stalled
   (publishes reach the hub, PUBACKs and acks are held), then every connection cut while refusing
   new ones (a cut between a publish and its ack), then healed;
4. a kiosk SIGKILLed while appending to its outbox as fast as it can, then restarted;
5. the hub database locked by another connection (``BEGIN EXCLUSIVE``) longer than the hub's busy
   timeout, under load: the hub's commits fail and are retried;
6. many kiosks with a full outbox reconnecting at once (100 x 1,000; ``--short``: 20 x 100);
7. a kiosk's disk full (SQLite ``max_page_count`` on its outbox), offline: appends fail (the
   citizen-facing error path of ``kiosk.controller``), the committed ones must all arrive;
8. a stolen kiosk's password poisoning the hub's batches (``Hostile``): ratings a database cannot
   store (a ``seq`` past 64 bits, ``rated_at`` in year 1 or 9999) mixed into the honest kiosks'
   traffic; each must be dead-lettered alone, never costing an honest rating its commit;
9. a poisoned status (an integer past 64 bits, a timestamp in year 1) left *retained* by a stolen
   kiosk, then the hub SIGKILLed and restarted, so it meets the poison at start-up.

Rows 8 and 9 judge the honest kiosks as every other row does, and say in their notes what became
of the poison (``poison: sent / dead-lettered / stored``): every poisoned rating must be in the
dead letters, none in ``ratings``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import _common
from _faultproxy import FaultProxy
from _fleet import UNIT_CODE, Broker, Hostile, Hub, Kiosks, make_rating, spawn_child

if TYPE_CHECKING:
    from hailong.provision import SecretsLayout

STORM_OUTAGE = timedelta(hours=8)  # scenario 6: how long the kiosks were buffering
SPARE_KIOSKS = 200  # fault kiosks added to the example unit: k-001 .. k-200


@dataclass(frozen=True)
class Sizes:
    per_kiosk: int  # ratings each kiosk commits during a scenario
    kiosks: int  # kiosks per scenario (1-5)
    rate: float  # ratings per second per kiosk while appending
    resend_after: float
    burst_kiosks: int
    burst_each: int
    stall_s: float
    cut_s: float
    lock_s: float  # > the hub's SQLite busy timeout (10 s), so commits really fail
    drain_timeout: float


FULL = Sizes(600, 3, 100.0, 3.0, 100, 1000, 3.0, 5.0, 14.0, 300.0)
SHORT = Sizes(120, 2, 60.0, 2.0, 20, 100, 1.0, 1.5, 10.5, 40.0)


@dataclass
class Row:
    scenario: str
    sent: int
    stored: int
    duplicated: int
    lost: int
    outbox_left: int
    recover_s: float | None
    notes: str = ""
    problem: str = ""  # what else went wrong (row 8: the poison itself was stored)

    @property
    def ok(self) -> bool:
        return (
            self.lost == 0 and self.duplicated == 0 and self.outbox_left == 0 and not self.problem
        )


class Bench:
    def __init__(self, root: Path, sizes: Sizes) -> None:
        self.root = root
        self.sizes = sizes
        self.layout, self.unit_file = self._unit()
        self.broker = Broker(root, self.layout, self.unit_file)
        self.broker.start()
        self.hub = Hub(root, self.layout, self.broker.port, self.unit_file)
        from hub.store.db import make_engine

        make_engine(self.hub.url).dispose()  # the schema, before any hub opens it
        self.hub.start()
        self._next_kiosk = 1
        self._marked = (0, 0)
        self.folders: dict[str, Path] = {}  # where each kiosk's outbox is
        self.children: list[Kiosks] = []
        self.rows: list[Row] = []

    def _unit(self) -> tuple[SecretsLayout, Path]:
        """The example unit plus ``SPARE_KIOSKS`` kiosks, and its secrets."""
        from hailong.provision import SecretsLayout, init_secrets
        from hailong.settings import load_unit

        text = (_common.REPO / "config" / "unit.toml").read_text()
        extra = "".join(
            f'\n[[kiosks]]\nid = "k-{n:03d}"\ncounter = "Q1"\n' for n in range(1, SPARE_KIOSKS + 1)
        )
        unit_file = self.root / "unit.toml"
        unit_file.write_text(text + extra)
        layout = SecretsLayout(self.root / "secrets")
        init_secrets(load_unit(unit_file), layout)
        return layout, unit_file

    def new_kiosks(self, n: int) -> list[str]:
        ids = [f"k-{i:03d}" for i in range(self._next_kiosk, self._next_kiosk + n)]
        self._next_kiosk += n
        return ids

    def spawn(
        self,
        ids: list[str],
        *,
        count: int,
        rate: float,
        port: int | None = None,
        max_pages: int = 0,
        folder: Path | None = None,
        resend_after: float | None = None,
    ) -> Kiosks:
        folder = folder or self.root / "kiosks"
        folder.mkdir(exist_ok=True)
        self.folders.update(dict.fromkeys(ids, folder))
        args = ["--kiosk", "--secrets", str(self.layout.root), "--ids", ",".join(ids)]
        args += ["--port", str(port or self.broker.port), "--dir", str(folder)]
        args += ["--count", str(count), "--rate", str(rate)]
        resend = resend_after or self.sizes.resend_after
        args += ["--resend-after", str(resend), "--max-pages", str(max_pages)]
        kiosks = Kiosks(spawn_child(args, self.root / "kiosks.log"))
        self.children.append(kiosks)
        threading.Thread(target=kiosks.read, daemon=True).start()
        if not kiosks.ready.wait(60):
            raise RuntimeError("the kiosk process did not start")
        return kiosks

    def outbox_rows(self, ids: list[str]) -> int:
        total = 0
        for k in ids:
            path = self.folders.get(k, self.root / "kiosks") / f"{k}.db"
            if not path.exists():
                continue
            conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
            try:
                total += int(conn.execute("SELECT count(*) FROM outbox").fetchone()[0])
            finally:
                conn.close()
        return total

    def hub_ids(self, ids: list[str]) -> set[str]:
        marks = ",".join("?" * len(ids))
        with contextlib.closing(sqlite3.connect(self.hub.db_path, timeout=30)) as conn:
            query = f"SELECT id FROM ratings WHERE kiosk IN ({marks})"
            return {str(row[0]) for row in conn.execute(query, ids)}

    def wait_drained(
        self,
        ids: list[str],
        procs: list[Kiosks],
        since: float,
        extra_sent: dict[str, set[str]] | None = None,
    ) -> float | None:
        """The time to recover: seconds from ``since`` (the end of the fault) until the hub held
        every rating committed by then. Returns once, in addition, the kiosks appended all their
        ratings and every outbox is empty (None: not within the drain timeout)."""
        snapshot = sent_ids(procs, extra_sent)
        recovered: float | None = None
        deadline = time.monotonic() + self.sizes.drain_timeout
        while time.monotonic() < deadline:
            now = time.monotonic()
            if recovered is None and snapshot <= self.hub_ids(ids):
                recovered = now - since
            if (
                recovered is not None
                and all(p.appended.is_set() for p in procs)
                and self.outbox_rows(ids) == 0
            ):
                return recovered
            time.sleep(0.1 if len(snapshot) < 10_000 else 1.0)
        return None

    def mark(self) -> None:
        """Start of a scenario: what the hub had counted so far."""
        self._marked = self.hub.totals()

    def judge(
        self,
        name: str,
        ids: list[str],
        procs: list[Kiosks],
        recover: float | None,
        notes: str = "",
        extra_sent: dict[str, set[str]] | None = None,
    ) -> Row:
        for p in procs:
            p.stop()
        time.sleep(0.3)  # the hub's next counters line
        duplicates, failures = (a - b for a, b in zip(self.hub.totals(), self._marked, strict=True))
        notes += f"; hub answered {duplicates} resent copies 'duplicate'"
        if failures:
            notes += f", {failures} failed commits retried"
        sent = sent_ids(procs, extra_sent)
        marks = ",".join("?" * len(ids))
        conn = sqlite3.connect(self.hub.db_path, timeout=30)
        try:
            rows = conn.execute(
                f"SELECT id, kiosk, seq FROM ratings WHERE kiosk IN ({marks})", ids
            ).fetchall()
            dead = sum(
                int(
                    conn.execute(
                        "SELECT count(*) FROM dead_letters WHERE topic = ?",
                        (f"hailong/v1/{UNIT_CODE}/{k}/ratings",),
                    ).fetchone()[0]
                )
                for k in ids
            )
        finally:
            conn.close()
        hub_ids = {str(r[0]) for r in rows}
        per_seq = {(r[1], r[2]) for r in rows}
        unreported = len(hub_ids - sent)
        if unreported:
            notes += f"; {unreported} stored but not reported committed (killed before printing)"
        row = Row(
            scenario=name,
            sent=len(sent),
            stored=len(sent & hub_ids),
            duplicated=len(rows) - len(per_seq) + dead,
            lost=len(sent - hub_ids),
            outbox_left=self.outbox_rows(ids),
            recover_s=recover,
            notes=notes.strip("; "),
        )
        self.rows.append(row)
        print(format_row(row), flush=True)
        return row

    def dead_letters(self, kiosk: str, kind: str = "ratings") -> int:
        """Dead letters that arrived on one kiosk's ``kind`` topic."""
        topic = f"hailong/v1/{UNIT_CODE}/{kiosk}/{kind}"
        with contextlib.closing(sqlite3.connect(self.hub.db_path, timeout=30)) as conn:
            query = "SELECT count(*) FROM dead_letters WHERE topic = ?"
            return int(conn.execute(query, (topic,)).fetchone()[0])

    def close(self) -> None:
        for kiosks in self.children:
            kiosks.kill()
        self.hub.stop()
        self.broker.stop()

    # -- the scenarios -------------------------------------------------------------------------

    def _load(self, **kw: Any) -> tuple[list[str], Kiosks]:
        ids = self.new_kiosks(self.sizes.kiosks)
        procs = self.spawn(ids, count=self.sizes.per_kiosk, rate=self.sizes.rate, **kw)
        return ids, procs

    def hub_crashes(self) -> None:
        self.hub_killed("in-batch")
        self.hub_killed("before-acks")

    def broker_restarts(self) -> None:
        self.broker_restart(persistence=True)
        self.broker_restart(persistence=False)

    def hub_killed(self, where: str) -> None:
        self.mark()
        flag = "--pause-in-batch" if where == "in-batch" else "--pause-before-acks"
        self.hub.stop()
        self.hub.start(flag, "0.5")
        ids, procs = self._load()
        self.hub.wait_event(where, 60, nth=2)
        self.hub.kill()
        killed = time.monotonic()
        self.hub.start()
        recover = self.wait_drained(ids, [procs], killed)
        label = (
            "inside a batch's transaction" if where == "in-batch" else "after commit, before acks"
        )
        self.judge(f"1. hub SIGKILL {label}", ids, [procs], recover, "restarted at once")

    def broker_restart(self, *, persistence: bool) -> None:
        self.mark()
        ids, procs = self._load()
        wait_committed(procs, len(ids) * self.sizes.per_kiosk // 3)
        if persistence:
            self.broker.stop()
            self.broker.start()
            name = "2. broker restart (persistence true)"
        else:
            self.broker.kill()
            self.broker.start(persistence=False)
            name = "2. broker SIGKILL, restart (persistence false)"
        recover = self.wait_drained(ids, [procs], time.monotonic())
        self.judge(name, ids, [procs], recover)

    def network(self) -> None:
        self.mark()
        with FaultProxy(self.broker.port) as proxy:
            ids, procs = self._load(port=proxy.port)
            wait_committed(procs, len(ids) * self.sizes.per_kiosk // 5)
            proxy.stall()  # both ways, connections kept: then traffic flows again
            time.sleep(self.sizes.stall_s)
            proxy.resume()
            wait_committed(procs, len(ids) * self.sizes.per_kiosk // 2)
            proxy.stall(up=False, down=True)  # publishes go through; PUBACKs and acks are held
            time.sleep(self.sizes.stall_s)
            proxy.cut()  # ... and are dropped with every connection; reconnects refused
            time.sleep(self.sizes.cut_s)
            proxy.heal()
            recover = self.wait_drained(ids, [procs], time.monotonic())
            self.judge(
                "3. network: stall; acks held then cut; healed",
                ids,
                [procs],
                recover,
                f"{self.sizes.stall_s:.1f} s stall both ways; {self.sizes.stall_s:.1f} s stall "
                f"broker->kiosk, then {proxy.connections_cut} connections cut for "
                f"{self.sizes.cut_s:.1f} s",
            )

    def kiosk_killed(self) -> None:
        self.mark()
        ids = self.new_kiosks(1)
        first = self.spawn(ids, count=self.sizes.per_kiosk * 10, rate=0)
        deadline = time.monotonic() + 30
        while (
            sum(len(v) for v in first.committed.values()) < self.sizes.per_kiosk // 2
            or not first.writing
        ):
            if time.monotonic() > deadline:
                raise RuntimeError("the kiosk committed nothing")
            time.sleep(0.001)
        first.kill()  # an append had started and not returned
        time.sleep(0.2)  # the reader thread takes the last lines the kiosk printed
        before = sum(len(v) for v in first.committed.values())
        with contextlib.closing(sqlite3.connect(self.root / "kiosks" / f"{ids[0]}.db")) as conn:
            integrity = conn.execute("PRAGMA integrity_check").fetchone()[0]
        killed = time.monotonic()
        second = self.spawn(ids, count=self.sizes.per_kiosk // 4, rate=self.sizes.rate)
        first.appended.set()  # it appends no more
        recover = self.wait_drained(ids, [first, second], killed)
        self.judge(
            "4. kiosk SIGKILL while appending, restarted",
            ids,
            [first, second],
            recover,
            f"killed during append #{before + 1}; outbox integrity_check after: {integrity}",
        )

    def database_locked(self) -> None:
        self.mark()
        ids, procs = self._load()
        time.sleep(0.5)
        conn = sqlite3.connect(self.hub.db_path, isolation_level=None, timeout=30)
        conn.execute("BEGIN EXCLUSIVE")
        time.sleep(self.sizes.lock_s)
        conn.execute("ROLLBACK")
        conn.close()
        released = time.monotonic()
        recover = self.wait_drained(ids, [procs], released)
        self.judge(
            "5. hub database locked (BEGIN EXCLUSIVE)",
            ids,
            [procs],
            recover,
            f"locked {self.sizes.lock_s:.1f} s (the hub's busy timeout is 10 s)",
        )

    def reconnect_storm(self) -> None:
        self.mark()
        from backlog import bulk_append

        from kiosk.outbox import Outbox

        n, each = self.sizes.burst_kiosks, self.sizes.burst_each
        ids = self.new_kiosks(n)
        folder = self.root / "kiosks"
        folder.mkdir(exist_ok=True)
        sent: dict[str, set[str]] = {}
        # Buffered over a working day offline (a thousand ratings a kiosk is that much): the
        # hub announces only the last minutes' receipts to the unit's kiosks, not the backlog.
        end = datetime.now(UTC)
        step = STORM_OUTAGE / each
        for k in ids:
            path = folder / f"{k}.db"
            Outbox(path).close()
            ratings = [make_rating(k, seq, end - (each - seq) * step) for seq in range(1, each + 1)]
            bulk_append(path, ratings, None)
            sent[k] = {str(r.id) for r in ratings}
        per_process = 25
        start = time.monotonic()
        groups = [ids[i : i + per_process] for i in range(0, n, per_process)]
        # The shipped resend_after (30 s): a hub busy with 100,000 ratings is slow to ack, not gone,
        # and the 2-3 s of the other scenarios would have every kiosk send its backlog again and
        # again while the hub works through it.
        procs = [self.spawn(group, count=0, rate=0, resend_after=30.0) for group in groups]
        recover = self.wait_drained(ids, procs, start, sent)
        self.judge(
            f"6. {n} kiosks x {each} buffered reconnect at once",
            ids,
            procs,
            recover,
            f"{len(procs)} kiosk processes; ratings made over {STORM_OUTAGE} offline; "
            "time from their start",
            extra_sent=sent,
        )

    def disk_full(self) -> None:
        """A real tiny filesystem when this process may mount one (root), and always SQLite's
        ``max_page_count`` (a database that may not grow), both with the kiosk offline."""
        tiny = self.root / "tinyfs"
        tiny.mkdir()
        mounted = os.geteuid() == 0 and (
            subprocess.run(
                ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(tiny)],
                capture_output=True,
                check=False,
            ).returncode
            == 0
        )
        if mounted:
            # Something else (logs, say) leaves the kiosk 384 KiB; an operator deletes it later.
            ballast = tiny / "other-files"
            ballast.write_bytes(b"\0" * (1024 - 384) * 1024)
            try:
                self._disk_full(
                    "7. kiosk disk full (1 MiB tmpfs), offline, then space freed",
                    folder=tiny,
                    ballast=ballast,
                )
            finally:
                subprocess.run(["umount", "-l", str(tiny)], check=False)
        self._disk_full("7. kiosk disk full (SQLite max_page_count), offline", max_pages=8)

    def _disk_full(
        self,
        name: str,
        *,
        folder: Path | None = None,
        max_pages: int = 0,
        ballast: Path | None = None,
    ) -> None:
        self.mark()
        with FaultProxy(self.broker.port) as proxy:
            proxy.cut()  # offline: the outbox only grows
            ids = self.new_kiosks(1)
            procs = self.spawn(
                ids,
                count=self.sizes.per_kiosk,
                rate=0,
                port=proxy.port,
                max_pages=max_pages,
                folder=folder,
            )
            if not procs.appended.wait(120):
                raise RuntimeError("the kiosk did not finish appending")
            proxy.heal()
            notes = ""
            if ballast is not None:
                # Online with the disk still full: acks arrive and cannot be applied.
                time.sleep(2 * self.sizes.resend_after)
                notes = f"; online {2 * self.sizes.resend_after:.0f} s with the disk full"
                notes += f" ({self.outbox_rows(ids)} still in the outbox), then space freed"
                ballast.unlink()
            recover = self.wait_drained(ids, [procs], time.monotonic())
            committed = sum(len(v) for v in procs.committed.values())
            self.judge(
                name,
                ids,
                [procs],
                recover,
                f"{committed} committed, {procs.failed} appends refused (the citizen sees "
                f"store_failed){notes}",
            )

    def poisoned_batches(self) -> None:
        """Row 8: poisoned ratings interleaved with the honest kiosks' (batches mix both)."""
        self.mark()
        (thief,) = self.new_kiosks(1)
        hostile = Hostile(self.layout, self.broker.port, thief)
        try:
            ids, procs = self._load()
            count = max(20, self.sizes.per_kiosk // 6)
            hostile.poison_ratings(count, rate=20.0)
            recover = self.wait_drained(ids, [procs], time.monotonic())
            deadline = time.monotonic() + 10  # the last poison commits with its batch
            while self.dead_letters(thief) < hostile.sent and time.monotonic() < deadline:
                time.sleep(0.1)
            notes = f"20 poisoned ratings a second from {thief}; " + self._poison_notes(hostile)
            row = self.judge(
                "8. poisoned ratings inside honest batches", ids, [procs], recover, notes
            )
            if self.dead_letters(thief) < hostile.sent or hostile.ids & self.hub_ids([thief]):
                row.problem = "poison stored or not dead-lettered"
        finally:
            hostile.close()

    def poisoned_retained_status(self) -> None:
        """Row 9: a retained poisoned status waiting for the hub when it (re)starts."""
        self.mark()
        (thief,) = self.new_kiosks(1)
        hostile = Hostile(self.layout, self.broker.port, thief)
        try:
            hostile.poison_status()
            self.hub.kill()
            self.hub.start()  # meets the retained poison while subscribing
            restarted = time.monotonic()
            ids, procs = self._load()
            recover = self.wait_drained(ids, [procs], restarted)
            notes = "hub SIGKILLed and restarted after the poison was retained; "
            notes += f"status dead letters: {self.dead_letters(thief, 'status')}"
            self.judge("9. poisoned retained status at hub start", ids, [procs], recover, notes)
        finally:
            hostile.close()

    def _poison_notes(self, hostile: Hostile, kind: str = "ratings") -> str:
        stored = len(hostile.ids & self.hub_ids([hostile.kiosk]))
        dead = self.dead_letters(hostile.kiosk, kind)
        return f"poison: {hostile.sent} sent / {dead} dead-lettered / {stored} stored"


def sent_ids(procs: list[Kiosks], extra: dict[str, set[str]] | None = None) -> set[str]:
    """Ids of every rating the kiosks reported committed (and ``extra``: bulk-filled outboxes)."""
    sent: set[str] = set()
    for p in procs:
        for found in p.committed.values():
            sent |= found
    for found in (extra or {}).values():
        sent |= found
    return sent


def wait_committed(procs: Kiosks, count: int, timeout: float = 120) -> None:
    """Until the kiosks reported ``count`` committed ratings (the fault then hits live traffic)."""
    deadline = time.monotonic() + timeout
    while sum(len(v) for v in procs.committed.values()) < count:
        if time.monotonic() > deadline:
            raise RuntimeError(f"the kiosks did not commit {count} ratings")
        time.sleep(0.01)


def format_row(row: Row) -> str:
    recover = f"{row.recover_s:.1f}" if row.recover_s is not None else "NOT DRAINED"
    notes = f"{row.notes}; ERROR: {row.problem}" if row.problem else row.notes
    return (
        f"| {row.scenario} | {row.sent} | {row.stored} | {row.duplicated} | {row.lost} "
        f"| {row.outbox_left} | {recover} | {notes} |"
    )


HEADER = (
    "| scenario | ratings sent | stored | duplicated | lost | outbox left | time to recover (s) "
    "| notes |\n|---|---|---|---|---|---|---|---|"
)


SCENARIOS: dict[int, Callable[[Bench], None]] = {
    1: Bench.hub_crashes,
    2: Bench.broker_restarts,
    3: Bench.network,
    4: Bench.kiosk_killed,
    5: Bench.database_locked,
    6: Bench.reconnect_storm,
    7: Bench.disk_full,
    8: Bench.poisoned_batches,
    9: Bench.poisoned_retained_status,
}


@contextlib.contextmanager
def bench(root: Path, sizes: Sizes) -> Iterator[Bench]:
    b = Bench(root, sizes)
    try:
        yield b
    finally:
        b.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--short", action="store_true", help="small numbers: under 90 s")
    parser.add_argument("--only", help="scenario numbers, e.g. 1,3")
    parser.add_argument("--dir", type=Path, help="where the files go (default: temp folder)")
    args = parser.parse_args()
    sizes = SHORT if args.short else FULL
    chosen = sorted(SCENARIOS) if not args.only else [int(n) for n in args.only.split(",")]
    _common.sigterm_as_interrupt()
    started = time.monotonic()
    with _common.temp_dir("hailong-bench-faults-", args.dir) as root:
        print(f"# faults ({'short' if args.short else 'full'}): files in {root}", flush=True)
        with bench(root, sizes) as b:
            for number in chosen:
                SCENARIOS[number](b)
        print(f"\n# all scenarios in {time.monotonic() - started:.1f} s\n")
        print(HEADER)
        for row in b.rows:
            print(format_row(row))
        bad = [row.scenario for row in b.rows if not row.ok or row.recover_s is None]
        if bad:
            print(f"ERROR: loss, duplication or an undrained outbox in: {'; '.join(bad)}")
            return 1
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
