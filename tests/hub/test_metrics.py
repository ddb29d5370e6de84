"""The Prometheus text, read back with prometheus_client's own parser (an independent reader)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from prometheus_client.parser import text_string_to_metric_families

from hub.domain.fleet import Flag, KioskHealth
from hub.fleet_report import PrinterState
from hub.metrics import IngestFigures, MetricsSnapshot, render

NOW = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)


def _samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def _snapshot() -> MetricsSnapshot:
    kiosks = (
        KioskHealth("kiosk-q1", frozenset(), NOW, 0),
        KioskHealth("kiosk-q2", frozenset({Flag.BACKLOGGED}), NOW, 250),
        KioskHealth('kiosk-"q3"', frozenset({Flag.OFFLINE}), None, None),
    )
    ingest = IngestFigures(
        received=1200, stored=1150, duplicates=40, already_rated=6, dead_letters=4,
        commit_failures=1, acks_published=1196, lag=17, connected=True,
        batch_buckets=((0.01, 3), (0.1, 9), (float("inf"), 10)),
        batch_seconds_sum=0.42, batch_count=10,
    )  # fmt: skip
    printers = (
        PrinterState("Q1", True, NOW, 0),
        PrinterState("Q2", False, NOW, 3),
        PrinterState("Q3", None, None, 0),
    )
    return MetricsSnapshot("000.00.20.H41", 10, kiosks, ingest, printers)


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
    assert samples[("hailong_batch_seconds_bucket", frozenset({unit, ("le", "+Inf")}))] == 10
    assert samples[("hailong_batch_seconds_count", frozenset({unit}))] == 10
    assert samples[("hailong_printer_ok", frozenset({unit, ("counter", "Q2")}))] == 0
    assert ("hailong_printer_ok", frozenset({unit, ("counter", "Q3")})) not in samples
    assert samples[("hailong_receipts_unprinted", frozenset({unit, ("counter", "Q2")}))] == 3


def test_without_an_ingest_worker_only_the_database_figures_are_shown() -> None:
    snapshot = _snapshot()
    text = render(MetricsSnapshot(snapshot.unit, 0, snapshot.kiosks))
    names = {family.name for family in text_string_to_metric_families(text)}
    assert "hailong_dead_letters" in names
    assert not any(name.startswith("hailong_ratings") for name in names)


def test_register_verdicts_are_counted_by_verdict() -> None:
    """What the receipt register refused or flagged (hub.domain.register), one series each."""
    from dataclasses import replace

    from hub.domain.register import VERDICTS

    snapshot = _snapshot()
    assert snapshot.ingest is not None
    verdicts = tuple((v, 3 if v == "receipt_not_issued_yet" else 0) for v in VERDICTS)
    ingest = replace(snapshot.ingest, register_verdicts=verdicts)
    samples = _samples(render(replace(snapshot, ingest=ingest)))
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
    assert base.ingest is not None
    ingest = replace(
        base.ingest,
        worker_up=False,
        network_up=True,
        worker_restarts=2,
        batches_split=5,
        dead_letters_by_code=(("bounds", 3), ("conflict", 1), ("stale", 2)),
        dead_letters_dropped=(("malformed", 7),),
        conflicts=1,
        statuses_rejected=4,
        broker_disconnects=1,
    )
    snapshot = replace(
        base, ingest=ingest, dead_letters_kept_by_code=(("already_rated", 6), ("bounds", 4))
    )
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
