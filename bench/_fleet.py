"""The real processes the fault and soak benches drive: Mosquitto with the unit's users and ACLs,
the hub as a child process that can be SIGKILLed (``--hub``), and kiosk children hosting real
``Outbox`` + ``Uplink`` pairs (``--kiosk``), and a stolen kiosk's client sending poison
(:class:`Hostile`); this file is also those children's entry point.

A kiosk child prints the id of each rating once ``Outbox.append`` returned (committed on its
disk): the benches compare those ids with the hub's ``ratings`` rows.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import _common

if TYPE_CHECKING:
    from hailong.broker import BrokerFiles
    from hailong.contract.messages import AckOutcome, RatingMessage
    from hailong.provision import SecretsLayout
    from hailong.settings import Unit
    from kiosk.outbox import Outbox
    from kiosk.uplink import Uplink

HERE = Path(__file__).resolve()
UNIT_CODE = _common.UNIT_CODE
DOSSIER_START = date(2021, 1, 1)
DOSSIER_DAYS = (date(2099, 12, 31) - DOSSIER_START).days + 1


def kiosk_uplink(
    layout: SecretsLayout,
    port: int,
    kiosk: str,
    outbox: Outbox,
    resend_after: float,
    on_acked: Callable[[tuple[AckOutcome, ...]], None] | None = None,
    unit: str = UNIT_CODE,
) -> Uplink:
    """A simulated kiosk's uplink with the shipped keepalive (30 s), not the benches' 5 s: dozens
    of kiosks in one process on 2 busy cores would otherwise miss pings and reconnect, and every
    reconnection sends the whole backlog again. ``unit``: the unit code in its topics."""
    from kiosk.uplink import Uplink

    settings = _common.mqtt_settings(layout, port, user=kiosk)
    return Uplink(
        settings.model_copy(update={"keepalive": 30}),
        unit,
        kiosk,
        outbox,
        resend_after=resend_after,
        on_acked=on_acked,
    )


def kiosk_number(kiosk: str) -> int:
    return int(kiosk.rsplit("-", 1)[1]) if kiosk.startswith("k-") else 0


def make_rating(kiosk: str, seq: int, rated_at: datetime, unit: str = UNIT_CODE) -> RatingMessage:
    """A valid rating of ``kiosk`` (of ``unit``) with its own verified receipt, a dossier of that
    unit (never another kiosk's dossier)."""
    from hailong.contract.messages import RatingMessage, ReceiptRef
    from hailong.contract.receipt import DossierCode
    from hailong.contract.scale import Score

    # 30 days of 9,999 dossiers per kiosk from 2021, wrapping before 2100 (a code's yymmdd ends
    # there): kiosks 961 numbers apart share days, never a problem unless they share a unit too.
    days = (kiosk_number(kiosk) * 30 + (seq - 1) // 9999) % DOSSIER_DAYS
    day = DOSSIER_START + timedelta(days=days)
    code = DossierCode(unit, day, (seq - 1) % 9999 + 1)
    return RatingMessage(
        id=uuid.uuid4(),
        unit=unit,
        kiosk=kiosk,
        seq=seq,
        receipt=ReceiptRef(code=str(code), verified=True),
        counter="Q1",
        officer="CB001",
        procedure="1.001193",
        score=Score(seq % 5 + 1),
        rated_at=rated_at,
        duration_ms=9000,
    )


# -- child: the hub --------------------------------------------------------------------------------


_SAY = threading.Lock()


def _say(line: str) -> None:
    """One whole line to the parent: the counters thread and a paused batch both speak, and two
    bare ``print`` calls can interleave their text and newline ("counters 3 0 0in-batch 2")."""
    with _SAY:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


def run_hub(args: argparse.Namespace) -> int:
    """``--hub``: one HubService until stdin closes (or a SIGKILL). With ``--pause-in-batch`` each
    batch waits inside its open transaction after inserting its rows (and says "in-batch"); with
    ``--pause-before-acks`` it waits after the commit, before publishing the acks."""
    import hub.batch_commit as batch_mod
    import hub.service as service_mod
    from hailong.provision import SecretsLayout
    from hailong.settings import HubSection, HubSettings, load_unit
    from hub.store.db import make_engine, session_factory

    layout = SecretsLayout(args.secrets)
    settings = HubSettings(
        hub=HubSection(
            unit_file=args.unit_file, database_url=args.db, public_base_url=_common.BASE_URL
        ),
        mqtt=_common.mqtt_settings(layout, args.port, user="hub"),
        receipts=_common.receipt_keys(layout.receipt_keys),
    )
    if args.pause_in_batch:
        store_batch = getattr(batch_mod, "store_batch")  # noqa: B009

        def paused_store(*a: Any, **kw: Any) -> Any:
            out = store_batch(*a, **kw)
            _say(f"in-batch {len(out)}")
            time.sleep(args.pause_in_batch)
            return out

        setattr(batch_mod, "store_batch", paused_store)  # noqa: B010
    if args.pause_before_acks:
        publish_acks = service_mod.HubService._publish_acks

        def paused_acks(self: Any, acks: Any) -> None:
            _say(f"before-acks {sum(len(v) for v in acks.values())}")
            time.sleep(args.pause_before_acks)
            publish_acks(self, acks)

        service_mod.HubService._publish_acks = paused_acks  # type: ignore[method-assign]
    unit = load_unit(args.unit_file)
    sessions = session_factory(make_engine(args.db))
    service = service_mod.HubService(settings, unit, sessions, client_id="hailong-hub")
    service.start()
    if not service.ready.wait(30):
        print("not ready", flush=True)
        return 1
    _say(f"ready pid={os.getpid()}")

    def report() -> None:
        while True:
            c = service.counters
            _say(f"counters {c.stored} {c.duplicates} {c.commit_failures}")
            time.sleep(0.2)

    threading.Thread(target=report, daemon=True).start()
    sys.stdin.read()
    service.stop(timeout=30)
    c = service.counters
    _say(f"counters {c.stored} {c.duplicates} {c.commit_failures}")
    return 0


# -- child: kiosks ---------------------------------------------------------------------------------


def limit_pages(outbox: Any, path: Path, extra_pages: int) -> None:
    """A full disk, simulated: the outbox file may grow by ``extra_pages`` pages, no more."""
    from sqlalchemy import event

    with sqlite3.connect(path) as conn:
        pages = int(conn.execute("PRAGMA page_count").fetchone()[0])
    limit = pages + extra_pages

    def on_connect(dbapi: Any, _record: Any) -> None:
        dbapi.execute(f"PRAGMA max_page_count={limit}")

    engine = outbox._engine
    event.listen(engine, "connect", on_connect)
    engine.dispose()  # every later connection gets the limit


def run_kiosks(args: argparse.Namespace) -> int:
    """``--kiosk``: real outboxes and uplinks for ``--ids``; each kiosk commits ``--count`` ratings
    at ``--rate`` per second ("c <kiosk> <id>" once committed, "f <kiosk>" when the append failed),
    then "appended"; runs until stdin closes."""
    from hailong.provision import SecretsLayout
    from kiosk.outbox import Outbox

    layout = SecretsLayout(args.secrets)
    ids = args.ids.split(",")
    outboxes = {k: Outbox(args.dir / f"{k}.db") for k in ids}
    if args.max_pages:
        for k, box in outboxes.items():
            limit_pages(box, args.dir / f"{k}.db", args.max_pages)
    uplinks = {
        k: kiosk_uplink(layout, args.port, k, box, args.resend_after) for k, box in outboxes.items()
    }
    for up in uplinks.values():
        up.start()
    print("ready", flush=True)
    out = sys.stdout
    step = 1.0 / args.rate if args.rate > 0 else 0.0
    started = time.monotonic()
    for n in range(args.count):
        for k in ids:
            out.write(f"w {k}\n")
            out.flush()
            try:
                rating = outboxes[k].append(
                    lambda seq, k=k: make_rating(k, seq, datetime.now(UTC))  # type: ignore[misc]
                )
            except Exception as exc:  # what kiosk.controller catches: OutboxError
                out.write(f"f {k} {type(exc).__name__}\n")
                continue
            out.write(f"c {k} {rating.id}\n")
            uplinks[k].notify_new()
        out.flush()
        if step:
            time.sleep(max(0.0, started + (n + 1) * step - time.monotonic()))
    print("appended", flush=True)
    sys.stdin.read()
    for up in uplinks.values():
        up.stop()
    for box in outboxes.values():
        box.close()
    return 0


# -- the parent: processes -------------------------------------------------------------------------


def end_child(proc: subprocess.Popen[Any] | None, timeout: float) -> None:
    """Close a child's stdin (its cue to finish) and wait; killed if it takes over ``timeout``."""
    if proc is None or proc.poll() is not None or not proc.stdin:
        return
    with contextlib.suppress(BrokenPipeError):
        proc.stdin.close()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        kill_child(proc)


def kill_child(proc: subprocess.Popen[Any] | None) -> None:
    """SIGKILL and reap, if still running."""
    if proc is not None and proc.poll() is None:
        proc.kill()
        proc.wait(timeout=10)


def spawn_child(args: list[str], log: Path) -> subprocess.Popen[str]:
    with log.open("a") as err:
        return subprocess.Popen(
            [sys.executable, str(HERE), *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
        )


def add_units(files: BrokerFiles, layout: SecretsLayout, units: Sequence[Unit]) -> None:
    """Let the kiosks of more ``units`` in: ``write_broker_files`` serves one unit, so append each
    other unit's kiosk users to its password file, and their ACLs (``acl_text`` of that unit,
    without the hub's block, already there) to its ACL file. Secrets from ``init_secrets``."""
    from hailong.broker import acl_text, password_hash
    from hailong.settings import read_secret

    passwd = files.conf.parent / "passwd"
    acl = files.conf.parent / "acl"
    entries, rules = [], []
    for unit in units:
        for kiosk in unit.kiosks:
            secret = read_secret(
                layout.mqtt_password_file(kiosk.id), f"mqtt password of {kiosk.id}"
            )
            entries.append(f"{kiosk.id}:{password_hash(secret)}\n")
        hub_block = acl_text(unit.model_copy(update={"kiosks": ()}))
        text = acl_text(unit)
        assert text.startswith(hub_block), "acl_text no longer starts with the hub's block"
        rules.append(text.removeprefix(hub_block))
    with passwd.open("a") as out:
        out.write("".join(entries))
    with acl.open("a") as out:
        out.write("\n" + "".join(rules))


class Broker:
    """Mosquitto from ``hailong.broker``'s files, which this bench can SIGKILL and restart; the
    users and ACLs of the unit in ``unit_file`` and of any ``more_units`` (see :func:`add_units`)."""

    def __init__(
        self, root: Path, layout: SecretsLayout, unit_file: Path, more_units: Sequence[Unit] = ()
    ) -> None:
        from hailong import broker
        from hailong.settings import load_unit

        self.port = broker.free_port()
        self.files = broker.write_broker_files(
            load_unit(unit_file), layout, root / "broker", self.port
        )
        if more_units:
            add_units(self.files, layout, more_units)
        self.template = self.files.conf.read_text()
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, *, persistence: bool = True) -> None:
        from hailong import broker

        conf = self.template
        if not persistence:
            conf = conf.replace("persistence true", "persistence false")
            for saved in self.files.conf.parent.glob("data/*"):
                saved.unlink()
        self.files.conf.write_text(conf)
        with (self.files.conf.parent / "stderr.log").open("a") as err:
            self.proc = subprocess.Popen(["mosquitto", "-c", str(self.files.conf)], stderr=err)
        broker.wait_for_port(self.port, timeout=10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)

    def kill(self) -> None:
        kill_child(self.proc)


class Hub:
    def __init__(self, root: Path, layout: SecretsLayout, port: int, unit_file: Path) -> None:
        self.db_path = root / "hub.db"
        self.url = f"sqlite:///{self.db_path}"
        self.base = ["--hub", "--secrets", str(layout.root), "--port", str(port)]
        self.base += ["--db", self.url, "--unit-file", str(unit_file)]
        self.log = root / "hub.log"
        self.proc: subprocess.Popen[str] | None = None
        self.events: list[str] = []
        self._seen = threading.Condition()
        # Copies the hub answered "duplicate" and commits that failed: earlier runs + this one.
        self._earlier = (0, 0)
        self._current = (0, 0)

    def start(self, *extra: str) -> None:
        with self._seen:
            self._earlier = self.totals()
            self._current = (0, 0)
            self.events = []
        self.proc = spawn_child([*self.base, *extra], self.log)
        threading.Thread(target=self._read, args=(self.proc.stdout,), daemon=True).start()
        self.wait_event("ready", 60)

    def _read(self, stream: IO[str]) -> None:
        for line in stream:
            with self._seen:
                if line.startswith("counters "):
                    _stored, duplicates, failures = (int(v) for v in line.split()[1:])
                    self._current = (duplicates, failures)
                    continue
                self.events.append(line.strip())
                self._seen.notify_all()

    def totals(self) -> tuple[int, int]:
        """(copies answered "duplicate", failed commits) over every run of the hub so far."""
        return (self._earlier[0] + self._current[0], self._earlier[1] + self._current[1])

    def wait_event(self, prefix: str, timeout: float, nth: int = 1) -> None:
        deadline = time.monotonic() + timeout
        with self._seen:
            while sum(1 for e in self.events if e.startswith(prefix)) < nth:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise RuntimeError(f"hub: no {prefix!r} #{nth} in {timeout} s: {self.events}")
                self._seen.wait(left)

    def kill(self) -> None:
        kill_child(self.proc)

    def stop(self) -> None:
        end_child(self.proc, timeout=40)


class Hostile:
    """A stolen kiosk: its own MQTT password and topics, and payloads chosen to hurt the hub."""

    # Each is a valid rating but for one value no database column holds, or no clock explains.
    POISONS: tuple[dict[str, Any], ...] = (
        {"seq": 2**63},
        {"seq": 2**64 + 1},
        {"rated_at": "9999-12-31T23:59:59+00:00"},
        {"rated_at": "0001-01-01T00:00:00+00:00"},
        {"seq": 2**31},
    )

    def __init__(self, layout: SecretsLayout, port: int, kiosk: str) -> None:
        import paho.mqtt.client as mqtt
        from paho.mqtt.enums import CallbackAPIVersion

        from hailong.mqtt import log_in

        self.kiosk = kiosk
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=kiosk)
        log_in(self.client, _common.mqtt_settings(layout, port, user=kiosk))
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        self.sent = 0
        self.ids: set[str] = set()

    def rating(self, n: int) -> bytes:
        rating = make_rating(self.kiosk, n + 1, datetime.now(UTC))
        data = json.loads(rating.to_bytes())
        data.update(self.POISONS[n % len(self.POISONS)])
        self.ids.add(data["id"])
        return json.dumps(data).encode()

    def poison_ratings(self, count: int, rate: float) -> None:
        from hailong.contract import topics

        topic = topics.ratings(UNIT_CODE, self.kiosk)
        for n in range(count):
            self.client.publish(topic, self.rating(n), qos=1).wait_for_publish(10)
            self.sent += 1
            time.sleep(1 / rate)

    def poison_status(self) -> None:
        from hailong.contract import topics

        status = {
            "v": 1,
            "kiosk": self.kiosk,
            "online": True,
            "buffer_depth": 2**70,
            "at": "0001-01-01T00:00:00+00:00",
            "refusals": {"bad_signature": 2**65},
        }
        topic = topics.status(UNIT_CODE, self.kiosk)
        self.client.publish(topic, json.dumps(status), qos=1, retain=True).wait_for_publish(10)
        self.sent += 1

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


@dataclass
class Kiosks:
    """One kiosk child process (one or more kiosks) and what it reported."""

    proc: subprocess.Popen[str]
    committed: dict[str, set[str]] = field(default_factory=dict)
    failed: int = 0
    ready: threading.Event = field(default_factory=threading.Event)
    appended: threading.Event = field(default_factory=threading.Event)
    appended_at: float = 0.0  # time.monotonic() when the last rating was committed
    writing: bool = False  # an append started and has not returned yet

    def read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            parts = line.split()
            if not parts:
                continue
            if parts[0] == "w":
                self.writing = True
            elif parts[0] == "c":
                self.committed.setdefault(parts[1], set()).add(parts[2])
                self.writing = False
            elif parts[0] == "f":
                self.failed += 1
                self.writing = False
            elif parts[0] == "ready":
                self.ready.set()
            elif parts[0] == "appended":
                self.appended_at = time.monotonic()
                self.appended.set()

    def kill(self) -> None:
        kill_child(self.proc)

    def stop(self) -> None:
        end_child(self.proc, timeout=30)


def child_main() -> int:
    """``--hub`` or ``--kiosk``: the child processes :class:`Hub` and :class:`Kiosks` start."""
    parser = argparse.ArgumentParser(description="a bench's hub or kiosk child process")
    parser.add_argument("--hub", action="store_true")
    parser.add_argument("--kiosk", action="store_true")
    parser.add_argument("--secrets", type=Path)
    parser.add_argument("--port", type=int)
    parser.add_argument("--db")
    parser.add_argument("--unit-file", type=Path)
    parser.add_argument("--pause-in-batch", type=float, default=0.0)
    parser.add_argument("--pause-before-acks", type=float, default=0.0)
    parser.add_argument("--ids")
    parser.add_argument("--dir", type=Path)
    parser.add_argument("--count", type=int, default=0)
    parser.add_argument("--rate", type=float, default=0.0)
    parser.add_argument("--resend-after", type=float, default=3.0)
    parser.add_argument("--max-pages", type=int, default=0)
    args = parser.parse_args()
    return run_hub(args) if args.hub else run_kiosks(args)


if __name__ == "__main__":
    # SIGPIPE stays ignored (Python's default): with SIG_DFL, as the other benches set it, a hub or
    # kiosk child writing to a socket the broker just closed dies silently instead of reconnecting.
    sys.exit(child_main())
