"""Missing seqs found in real SQLite and PostgreSQL databases: holes from one window query, refused
ratings (dead letters) taken out, the same answer as the pure computation over every seq."""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session, sessionmaker

from hailong.contract import topics
from hailong.contract.messages import KioskStatusMessage, RatingMessage
from hailong.settings import Unit
from hub.domain import gaps as domain
from hub.domain.gaps import SeqRange
from hub.domain.ingest import Attribution
from hub.fleet_report import format_gaps
from hub.store.db import make_engine, session_factory
from hub.store.gaps import find_gaps, pending_seqs
from hub.store.ratings import save_kiosk_status, store_batch, store_dead_letter
from tests.hailong.contract.test_messages import make_rating

NOW = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)
ATTR = Attribution("Q1", "CB001", "1.001193", "ho-tich", receipt_known=False)
UNIT = "000.00.20.H41"
OTHER_UNIT = "000.00.20.H42"


def _walk_in(unit: str, kiosk: str, seq: int) -> RatingMessage:
    """A rating without a receipt, so any number of them can be stored."""
    return make_rating(unit=unit, kiosk=kiosk, seq=seq, receipt=None)


def _store(sessions: sessionmaker[Session], unit: str, kiosk: str, seqs: list[int]) -> None:
    with sessions.begin() as session:
        store_batch(session, [(_walk_in(unit, kiosk, seq), ATTR) for seq in seqs], NOW)


def test_holes_less_dead_letters_per_kiosk(database_url: str, unit: Unit) -> None:
    sessions = session_factory(make_engine(database_url))
    _store(sessions, UNIT, "kiosk-q1", [13, 3, 4, 5])  # batches arrive in any order
    _store(sessions, UNIT, "kiosk-q1", [7, 8, 12])  # holes: 1–2, 6, 9–11
    _store(sessions, UNIT, "kiosk-q2", [1, 2, 3, 4, 5])
    _store(sessions, OTHER_UNIT, "kiosk-q1", [1, 4])  # same kiosk id in another unit
    q1 = topics.ratings(UNIT, "kiosk-q1")
    with sessions.begin() as session:
        # Refused but arrived: seq 10 is not lost.
        refused = _walk_in(UNIT, "kiosk-q1", 10).to_bytes()
        store_dead_letter(session, q1, refused, "already rated", NOW)
        # None of these says anything about kiosk-q1's seq 9.
        nine = _walk_in(UNIT, "kiosk-q1", 9).to_bytes()
        store_dead_letter(session, "hailong/v1/bad topic/kiosk-q1/ratings", nine, "topic", NOW)
        store_dead_letter(session, topics.ratings(UNIT, "kiosk-q2"), nine, "elsewhere", NOW)
        store_dead_letter(session, q1.replace("/ratings", "/status"), nine, "a status", NOW)
        store_dead_letter(session, q1, b"\xff not JSON", "not UTF-8 JSON", NOW)

    with sessions() as session:
        found = find_gaps(session, UNIT)
        everywhere = find_gaps(session)
        capped = find_gaps(session, UNIT, max_ranges=1)
        pending = find_gaps(session, UNIT, pending_from={(UNIT, "kiosk-q1"): 9})

    assert [(g.kiosk, g.missing, g.ranges, g.highest) for g in found] == [
        ("kiosk-q1", 5, (SeqRange(1, 2), SeqRange(6, 6), SeqRange(9, 9), SeqRange(11, 11)), 13),
        ("kiosk-q2", 0, (), 5),
    ]
    assert [(g.unit, g.kiosk, g.missing) for g in everywhere] == [
        (UNIT, "kiosk-q1", 5),
        (UNIT, "kiosk-q2", 0),
        (OTHER_UNIT, "kiosk-q1", 2),
    ]
    assert (capped[0].ranges, capped[0].missing, capped[0].more_ranges) == ((SeqRange(1, 2),), 5, 3)
    assert (pending[0].ranges, pending[0].missing) == ((SeqRange(1, 2), SeqRange(6, 6)), 3)

    report = format_gaps(unit, found).splitlines()
    assert report == [
        f"Đánh giá bị thiếu của {unit.unit.name} / Missing ratings of {UNIT}",
        "  kiosk-q1: thiếu 5 / 5 missing: 1–2, 6, 9, 11",
        "  kiosk-q2: không thiếu / no gaps (1–5)",
        "  kiosk-q3: chưa có đánh giá / no ratings yet",
    ]
    assert "(+3 khoảng khác / more ranges)" in format_gaps(unit, capped)


def test_seqs_still_in_the_outbox_per_the_kiosks_status(database_url: str, unit: Unit) -> None:
    sessions = session_factory(make_engine(database_url))
    _store(sessions, UNIT, "kiosk-q1", [1, 3, 7])
    _store(sessions, UNIT, "kiosk-q2", [1, 2, 4])
    with sessions.begin() as session:
        status = KioskStatusMessage(kiosk="kiosk-q1", online=True, oldest_pending_seq=5)
        save_kiosk_status(session, UNIT, status, NOW)
        save_kiosk_status(session, UNIT, KioskStatusMessage(kiosk="kiosk-q2", online=True), NOW)
        # The last will says nothing of the outbox: what the kiosk said before stands.
        save_kiosk_status(session, UNIT, KioskStatusMessage(kiosk="kiosk-q1", online=False), NOW)
    with sessions() as session:
        assert pending_seqs(session, UNIT) == {(UNIT, "kiosk-q1"): 5}
        found = find_gaps(session, UNIT)
        told = find_gaps(session, UNIT, pending_from={})  # the caller's word wins
    assert [(g.kiosk, g.ranges, g.pending_from) for g in found] == [
        ("kiosk-q1", (SeqRange(2, 2), SeqRange(4, 4)), 5),  # 5–6 are on their way
        ("kiosk-q2", (SeqRange(3, 3),), None),
    ]
    assert [g.missing for g in told] == [4, 1]
    assert format_gaps(unit, found).splitlines()[1:3] == [
        "  kiosk-q1: thiếu 2 / 2 missing: 2, 4 (từ 5 còn chờ gửi / from 5 still queued)",
        "  kiosk-q2: thiếu 1 / 1 missing: 3",
    ]


def test_an_empty_database_has_no_gaps(database_url: str) -> None:
    sessions = session_factory(make_engine(database_url))
    with sessions() as session:
        assert find_gaps(session, UNIT) == []


_units = itertools.count()


@pytest.fixture
def sessions(database_url: str) -> sessionmaker[Session]:
    """One database for all of a test's examples; each example rates a unit of its own."""
    return session_factory(make_engine(database_url))


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    kiosks=st.dictionaries(
        st.sampled_from(["k1", "k2", "k3"]),
        st.sets(st.integers(1, 60), min_size=1, max_size=40),
        min_size=1,
    ),
    refused=st.lists(st.tuples(st.sampled_from(["k1", "k2", "k3"]), st.integers(1, 60))),
)
def test_the_window_query_agrees_with_every_seq_read(
    sessions: sessionmaker[Session], kiosks: dict[str, set[int]], refused: list[tuple[str, int]]
) -> None:
    """What the store finds from holes alone equals the pure computation over all the seqs."""
    code = f"T{next(_units):05d}.{uuid.uuid4().hex[:6].upper()}"  # a unit of its own per example
    for kiosk, seqs in kiosks.items():
        _store(sessions, code, kiosk, sorted(seqs))
    with sessions.begin() as session:
        for kiosk, seq in refused:
            payload = _walk_in(code, kiosk, seq).to_bytes()
            store_dead_letter(session, topics.ratings(code, kiosk), payload, "refused", NOW)
    arrived: dict[tuple[str, str], list[int]] = {}
    for kiosk, seq in refused:
        arrived.setdefault((code, kiosk), []).append(seq)
    expected = domain.find_gaps(
        {(code, kiosk): sorted(seqs) for kiosk, seqs in kiosks.items()},
        arrived=arrived,
        max_ranges=None,
    )
    with sessions() as session:
        assert find_gaps(session, code, max_ranges=None) == expected
