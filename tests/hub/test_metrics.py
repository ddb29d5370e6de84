"""The Prometheus text, read back with prometheus_client's own parser (an independent reader)."""

from __future__ import annotations

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
