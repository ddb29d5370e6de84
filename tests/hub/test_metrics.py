"""The Prometheus text, read back with prometheus_client's own parser (an independent reader)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import Metric
from prometheus_client.parser import text_string_to_metric_families

from hailong.contract.clock import unit_day
from hailong.contract.messages import ReceiptRef
from hailong.settings import Unit
from hub.domain.fleet import Flag, KioskHealth
from hub.fleet_report import PrinterState
from hub.ingest_counters import IngestCounters
from hub.metrics import Snapshot, Worker, families
from hub.store.db import make_engine, session_factory
from hub.store.models import ReceiptRow
from tests.conftest import UNIT_CODE
from tests.hailong.contract.test_abandoned_message import make_abandoned
from tests.hailong.contract.test_messages import make_rating
from tests.hub.test_abandoned_ingest import Hub

NOW = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)


class _Fixed:
    """One snapshot's families, as a collector for a registry of the test's own."""

    def __init__(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot

    def collect(self) -> Iterator[Metric]:
        return families(self.snapshot)


def render(snapshot: Snapshot) -> str:
    """The text the hub serves: prometheus-client's, from the same families."""
    registry = CollectorRegistry()
    registry.register(_Fixed(snapshot))
    return generate_latest(registry).decode()


def _samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def _snapshot() -> Snapshot:
    kiosks = (
        KioskHealth("kiosk-q1", frozenset(), NOW, 0),
        KioskHealth("kiosk-q2", frozenset({Flag.BACKLOGGED}), NOW, 250),
        KioskHealth('kiosk-"q3"', frozenset({Flag.OFFLINE}), None, None),
    )
    counters = IngestCounters(
        received=1200, stored=1150, duplicates=40, already_rated=6, dead_letters=4,
        commit_failures=1, acks_published=1196,
    )  # fmt: skip
    for seconds in (0.001, 0.002, 0.003, 0.02, 0.03, 0.04, 0.05, 0.06, 0.07, 0.2):
        counters.batch_seconds.observe(seconds)
    printers = (
        PrinterState("Q1", True, NOW, 0),
        PrinterState("Q2", False, NOW, 3),
        PrinterState("Q3", None, None, 0),
    )
    kept = (("already_rated", 6), ("malformed", 4))
    return Snapshot("000.00.20.H41", kept, kiosks, printers, worker=Worker(counters, 17, True))


def test_every_figure_parses_back_with_its_labels() -> None:
    samples = _samples(render(_snapshot()))
    unit = ("unit", "000.00.20.H41")
    assert samples[("hailong_dead_letters", frozenset({unit}))] == 10
    assert samples[("hailong_kiosks_online", frozenset({unit}))] == 2
    assert samples[("hailong_kiosks_backlogged", frozenset({unit}))] == 1
    assert samples[("hailong_kiosk_buffer_depth", frozenset({unit, ("kiosk", "kiosk-q2")}))] == 250
    assert samples[("hailong_kiosk_up", frozenset({unit, ("kiosk", 'kiosk-"q3"')}))] == 0
    assert samples[("hailong_ratings_stored_total", frozenset({unit}))] == 1150
    assert samples[("hailong_ingest_lag_ratings", frozenset({unit}))] == 17
    assert samples[("hailong_broker_connected", frozenset({unit}))] == 1
    assert samples[("hailong_batch_seconds_bucket", frozenset({unit, ("le", "0.1")}))] == 9
    assert samples[("hailong_batch_seconds_bucket", frozenset({unit, ("le", "+Inf")}))] == 10
    assert samples[("hailong_batch_seconds_count", frozenset({unit}))] == 10
    assert samples[("hailong_printer_ok", frozenset({unit, ("counter", "Q2")}))] == 0
    assert ("hailong_printer_ok", frozenset({unit, ("counter", "Q3")})) not in samples
    assert samples[("hailong_receipts_unprinted", frozenset({unit, ("counter", "Q2")}))] == 3


def test_without_an_ingest_worker_only_the_database_figures_are_shown() -> None:
    snapshot = _snapshot()
    text = render(Snapshot(snapshot.unit, (), snapshot.kiosks))
    names = {family.name for family in text_string_to_metric_families(text)}
    assert "hailong_dead_letters" in names
    assert not any(name.startswith("hailong_ratings") for name in names)


def test_register_verdicts_are_counted_by_verdict() -> None:
    """What the receipt register refused or flagged (hub.domain.register), one series each."""
    from hub.domain.register import VERDICTS

    snapshot = _snapshot()
    assert snapshot.worker is not None
    snapshot.worker.counters.register_verdicts["receipt_not_issued_yet"] = 3
    samples = _samples(render(snapshot))
    unit = ("unit", "000.00.20.H41")
    name = "hailong_register_verdicts_total"
    assert samples[(name, frozenset({unit, ("verdict", "receipt_not_issued_yet")}))] == 3
    assert samples[(name, frozenset({unit, ("verdict", "claim_mismatch")}))] == 0
    assert {labels for (n, labels) in samples if n == name} == {
        frozenset({unit, ("verdict", v)}) for v in VERDICTS
    }


def test_supervision_and_dead_letters_by_reason_are_exported() -> None:
    """Issue 15: a dead worker, restarts, batches split and dead letters per reason show."""
    base = _snapshot()
    assert base.worker is not None
    counters = replace(
        base.worker.counters,
        worker_restarts=2,
        batches_split=5,
        dead_letters_by_code=Counter({"bounds": 3, "conflict": 1, "stale": 2}),
        dead_letters_dropped=Counter({"malformed": 7}),
        conflicts=1,
        statuses_rejected=4,
        broker_disconnects=1,
    )
    worker = Worker(counters, 0, True, worker_up=False, network_up=True)
    snapshot = replace(base, worker=worker)
    samples = _samples(render(snapshot))
    unit = ("unit", "000.00.20.H41")
    assert samples[("hailong_ingest_worker_up", frozenset({unit}))] == 0
    assert samples[("hailong_mqtt_loop_up", frozenset({unit}))] == 1
    assert samples[("hailong_ingest_worker_restarts_total", frozenset({unit}))] == 2
    assert samples[("hailong_batches_split_total", frozenset({unit}))] == 5
    assert samples[("hailong_commit_failures_total", frozenset({unit}))] == 1
    assert samples[("hailong_rating_conflicts_total", frozenset({unit}))] == 1
    assert samples[("hailong_statuses_rejected_total", frozenset({unit}))] == 4
    assert samples[("hailong_broker_disconnects_total", frozenset({unit}))] == 1
    reason = frozenset({unit, ("reason", "stale")})
    assert samples[("hailong_dead_letters_reason_total", reason)] == 2
    dropped = frozenset({unit, ("reason", "malformed")})
    assert samples[("hailong_dead_letters_dropped_total", dropped)] == 7
    kept = frozenset({unit, ("reason", "already_rated")})
    assert samples[("hailong_dead_letters_kept", kept)] == 6


def test_abandoned_sessions_and_ratings_are_counted_per_kiosk_as_stored(
    database_url: str, unit: Unit
) -> None:
    """Through the real batch commit: each kiosk's stored ratings and abandoned sessions (issue
    17), a resend counted once, so Prometheus can take each kiosk's abandoned share."""
    now = datetime.now(UTC).replace(microsecond=0)
    code = f"{UNIT_CODE}-{unit_day(now):%y%m%d}-0001"
    hub = Hub(session_factory(make_engine(database_url)), unit)
    with hub.sessions.begin() as session:
        session.add(
            ReceiptRow(dossier_code=code, unit=UNIT_CODE, procedure="1.001193", counter="Q1",
                       officer="CB001", key_id="k1", url=f"https://hub/r/{code}",
                       issued_at=now - timedelta(minutes=10))
        )  # fmt: skip
    receipt = ReceiptRef(code=code, verified=True)
    left = make_abandoned(seq=1, receipt=receipt, scanned_at=now - timedelta(minutes=2),
                          ended_at=now - timedelta(minutes=1))  # fmt: skip
    rating = make_rating(seq=2, receipt=receipt, rated_at=now)
    hub.ingest(left.to_bytes(), rating.to_bytes())
    hub.ingest(left.to_bytes())  # a resend: a duplicate, not a second session
    snapshot = replace(_snapshot(), unit=UNIT_CODE, worker=Worker(hub.counters, 0, True))
    samples = _samples(render(snapshot))
    kiosk = frozenset({("unit", UNIT_CODE), ("kiosk", "kiosk-q1")})
    assert samples[("hailong_abandoned_sessions_stored_total", kiosk)] == 1
    assert samples[("hailong_kiosk_ratings_stored_total", kiosk)] == 1
    assert [n for n, _ in samples if n == "hailong_abandoned_sessions_stored_total"] == [
        "hailong_abandoned_sessions_stored_total"
    ]
    assert hub.counters.stored == 1
