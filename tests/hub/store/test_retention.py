"""Status history and dead letters pruned on real SQLite and PostgreSQL: old rows go, recent rows
and every kiosk's latest status stay, other kiosks' and units' rows are untouched by another's
cut-off."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from hailong.contract.messages import KioskStatusMessage
from hub.store.db import make_engine, session_factory
from hub.store.models import DeadLetterRow, KioskStatusHistoryRow, KioskStatusRow, ReturnOfferRow
from hub.store.ratings import save_kiosk_status, store_dead_letter
from hub.store.retention import prune_dead_letters, prune_return_offers, prune_status_history

NOW = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)


def test_old_history_goes_and_the_latest_status_stays(database_url: str) -> None:
    sessions = session_factory(make_engine(database_url))
    with sessions.begin() as session:
        for unit, kiosk in [("U1", "kiosk-q1"), ("U1", "kiosk-q2"), ("U2", "kiosk-q1")]:
            for days_ago in (200, 91, 89, 1):
                status = KioskStatusMessage(kiosk=kiosk, online=True, buffer_depth=days_ago)
                save_kiosk_status(session, unit, status, NOW - timedelta(days=days_ago))

    with sessions.begin() as session:
        assert prune_status_history(session, NOW, keep_days=90) == 6
    with sessions.begin() as session:
        assert prune_status_history(session, NOW, keep_days=90) == 0  # nothing left to cut
        left = session.execute(
            select(KioskStatusHistoryRow.unit, KioskStatusHistoryRow.buffer_depth).order_by(
                KioskStatusHistoryRow.unit, KioskStatusHistoryRow.buffer_depth
            )
        ).all()
        assert left == [("U1", 1), ("U1", 1), ("U1", 89), ("U1", 89), ("U2", 1), ("U2", 89)]
        assert session.scalar(select(func.count()).select_from(KioskStatusRow)) == 3


def test_dead_letters_past_their_retention_go_per_kiosk(database_url: str) -> None:
    sessions = session_factory(make_engine(database_url))
    topics = [
        "hailong/v1/U1/kiosk-q1/ratings",
        "hailong/v1/U1/kiosk-q2/status",
        "not/a/kiosk/topic",  # kept with no kiosk
    ]
    with sessions.begin() as session:
        for topic in topics:
            for days_ago in (181, 179):
                received = NOW - timedelta(days=days_ago)
                store_dead_letter(session, topic, b"junk", f"{days_ago}", received)
    with sessions.begin() as session:
        assert prune_dead_letters(session, NOW, keep_days=180) == 3
    with sessions.begin() as session:
        assert prune_dead_letters(session, NOW, keep_days=180) == 0
        left = session.execute(select(DeadLetterRow.kiosk, DeadLetterRow.reason)).all()
    assert sorted(left, key=str) == sorted(
        [("kiosk-q1", "179"), ("kiosk-q2", "179"), (None, "179")], key=str
    )


def test_published_or_expired_return_offers_past_their_retention_go(database_url: str) -> None:
    """One row per recorded return: an offer older than the retention goes once published or
    expired; a recent one, and an old one still waiting to be published, stay."""
    sessions = session_factory(make_engine(database_url))
    offers = {
        # name: (days ago offered, published, expires this long after the offer)
        "published-old": (31, True, timedelta(minutes=2)),
        "expired-old": (31, False, timedelta(minutes=2)),
        "published-recent": (29, True, timedelta(minutes=2)),
        "expired-recent": (29, False, timedelta(minutes=2)),
        "waiting-old": (31, False, timedelta(days=40)),  # not expired: still the outbox's
        "at-the-bound": (30, True, timedelta(minutes=2)),  # exactly 30 days: kept
    }
    with sessions.begin() as session:
        for name, (days_ago, published, lifetime) in offers.items():
            offered = NOW - timedelta(days=days_ago)
            session.add(
                ReturnOfferRow(
                    id=name,
                    unit="U1",
                    dossier_code=f"U1-261125-{name}"[:40],
                    counter="Q1",
                    officer="CB002",
                    offered_at=offered,
                    expires_at=offered + lifetime,
                    published_at=offered + timedelta(seconds=1) if published else None,
                    kiosks="kiosk-q1" if published else None,
                )
            )
    with sessions.begin() as session:
        assert prune_return_offers(session, NOW, keep_days=30) == 2
    with sessions.begin() as session:
        assert prune_return_offers(session, NOW, keep_days=30) == 0
        left = set(session.scalars(select(ReturnOfferRow.id)))
    assert left == {"published-recent", "expired-recent", "waiting-old", "at-the-bound"}
