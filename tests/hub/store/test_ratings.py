"""Storing ratings on real SQLite and PostgreSQL databases: idempotent on the rating id."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from hailong.contract.messages import KioskStatusMessage, RatingMessage, ReceiptRef
from hailong.contract.scale import Factor, Score, Stage
from hub.domain.ingest import Attribution
from hub.store.db import SchemaError, make_engine, session_factory
from hub.store.models import (
    DeadLetterRow,
    FactorRollupRow,
    KioskStatusHistoryRow,
    KioskStatusRow,
    RatingRollupRow,
    RatingRow,
    ReasonRollupRow,
)
from hub.store.ratings import (
    DeadLetterLimits,
    dropped_dead_letters,
    save_kiosk_status,
    store_batch,
    store_dead_letter,
)
from tests.hailong.contract.test_messages import make_rating

NOW = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)
ATTR = Attribution("Q1", "CB001", "1.001193", "ho-tich", receipt_known=True)
RETURN_ATTR = Attribution(
    "Q1", "CB002", "1.001193", "ho-tich", receipt_known=True, stage=Stage.RETURN
)


@pytest.fixture
def sessions(database_url: str) -> sessionmaker[Session]:
    return session_factory(make_engine(database_url))


def _rating(seq: int, **overrides: object) -> RatingMessage:
    """A rating of its own receipt (one rating per receipt and stage)."""
    receipt = ReceiptRef(code=f"000.00.20.H41-261125-{seq:04d}", verified=True)
    return make_rating(seq=seq, receipt=receipt, **overrides)


def _count(sessions: sessionmaker[Session]) -> int:
    with sessions() as session:
        return int(session.scalar(select(func.count()).select_from(RatingRow)) or 0)


def test_new_ratings_are_stored(sessions: sessionmaker[Session]) -> None:
    ratings = [_rating(i) for i in range(1, 4)]
    with sessions.begin() as session:
        outcomes = store_batch(session, [(r, ATTR) for r in ratings], NOW)
    assert [o.outcome for o in outcomes] == ["stored"] * 3
    assert _count(sessions) == 3
    with sessions() as session:
        row = session.get(RatingRow, str(ratings[0].id))
        assert row is not None
        assert (row.field, row.score, row.receipt_verified) == ("ho-tich", 4, True)


def test_duplicates_across_and_within_batches(sessions: sessionmaker[Session]) -> None:
    first, second = _rating(1), _rating(2)
    with sessions.begin() as session:
        store_batch(session, [(first, ATTR)], NOW)
    with sessions.begin() as session:
        outcomes = store_batch(session, [(first, ATTR), (second, ATTR), (second, ATTR)], NOW)
    assert [o.outcome for o in outcomes] == ["duplicate", "stored", "duplicate"]
    assert _count(sessions) == 2


def test_dead_letters_keep_the_payload(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        store_dead_letter(session, "hailong/v1/x/y/ratings", b"\xff garbage", "not UTF-8 JSON", NOW)
    with sessions() as session:
        row = session.scalars(select(DeadLetterRow)).one()
    assert (row.payload, row.reason) == (b"\xff garbage", "not UTF-8 JSON")


def test_survey_answers_and_consented_phone_are_kept(sessions: sessionmaker[Session]) -> None:
    rating = _rating(
        1,
        score=Score.DISSATISFIED,
        reasons=("late",),
        factors={Factor.OFFICER: Score.NEUTRAL, Factor.RESULT: Score.DISSATISFIED},
        callback_phone="0912345678",
    )
    with sessions.begin() as session:
        store_batch(session, [(rating, ATTR)], NOW)
    with sessions() as session:
        row = session.get(RatingRow, str(rating.id))
        assert row is not None
        assert (row.reasons, row.factors, row.callback_phone) == (
            ["late"],
            {"officer": 3, "result": 2},
            "0912345678",
        )


def test_a_second_rating_of_a_receipt_is_kept_aside_not_counted(
    sessions: sessionmaker[Session],
) -> None:
    first = _rating(1)
    again_elsewhere = _rating(1, kiosk="kiosk-q2", score=Score.VERY_DISSATISFIED)
    same_batch = _rating(1, kiosk="kiosk-q3")
    return_stage = _rating(1, stage=Stage.RETURN)
    with sessions.begin() as session:
        store_batch(session, [(first, ATTR)], NOW)
    with sessions.begin() as session:
        outcomes = store_batch(
            session,
            [(again_elsewhere, ATTR), (return_stage, RETURN_ATTR), (same_batch, ATTR)],
            NOW,
        )
    assert [o.outcome for o in outcomes] == ["already_rated", "stored", "already_rated"]
    assert outcomes[0].reason is not None
    assert str(first.id) in outcomes[0].reason
    assert _count(sessions) == 2
    with sessions() as session:
        kept = session.scalars(select(DeadLetterRow).order_by(DeadLetterRow.id)).all()
    assert [row.topic for row in kept] == [
        "hailong/v1/000.00.20.H41/kiosk-q2/ratings",
        "hailong/v1/000.00.20.H41/kiosk-q3/ratings",
    ]
    assert b'"score":1' in kept[0].payload


def test_walk_ins_without_a_receipt_never_collide(sessions: sessionmaker[Session]) -> None:
    walk_ins = [make_rating(seq=i, receipt=None) for i in range(1, 4)]
    with sessions.begin() as session:
        outcomes = store_batch(session, [(r, ATTR) for r in walk_ins], NOW)
    assert [o.outcome for o in outcomes] == ["stored"] * 3


def test_an_older_database_is_refused_at_start_naming_the_missing_columns(
    database_url: str,
) -> None:
    url = database_url
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP VIEW v_receipts")  # it names the column (revision 0013)
        conn.exec_driver_sql("ALTER TABLE receipts DROP COLUMN origin")
    engine.dispose()
    with pytest.raises(SchemaError, match=r"missing receipts\.origin"):
        make_engine(url)


def _rollups(
    sessions: sessionmaker[Session], model: type, *columns: str
) -> dict[tuple[object, ...], int]:
    with sessions() as session:
        rows = session.scalars(select(model)).all()
    return {tuple(getattr(row, c) for c in columns): row.n for row in rows}


def test_only_stored_ratings_are_counted_per_local_day(sessions: sessionmaker[Session]) -> None:
    hanoi = timezone(timedelta(hours=7))
    early = datetime(2026, 11, 25, 1, 30, tzinfo=hanoi)  # still 24 November in UTC
    first, second = _rating(1, rated_at=early), _rating(2, score=Score.VERY_SATISFIED)
    walk_in = make_rating(seq=3, receipt=None, counter=None, officer=None, procedure=None)
    no_one = Attribution(None, None, None, None, receipt_known=False)
    with sessions.begin() as session:
        store_batch(session, [(first, ATTR), (second, ATTR), (walk_in, no_one)], NOW)
    again = _rating(1, kiosk="kiosk-q2")  # the same receipt: kept aside, not counted
    with sessions.begin() as session:
        outcomes = store_batch(session, [(first, ATTR), (again, ATTR), (second, ATTR)], NOW)
    assert [o.outcome for o in outcomes] == ["duplicate", "already_rated", "duplicate"]
    day = date(2026, 11, 25)
    key = ("reception", "Q1", "CB001", "1.001193", "ho-tich")
    assert _rollups(
        sessions,
        RatingRollupRow,
        "day",
        "stage",
        "counter",
        "officer",
        "procedure",
        "field",
        "score",
    ) == {
        (day, *key, 4): 1,
        (day, *key, 5): 1,
        (day, "reception", "", "", "", "", 4): 1,
    }


def test_survey_answers_and_reasons_are_rolled_up(sessions: sessionmaker[Session]) -> None:
    low = {"score": Score.DISSATISFIED, "factors": {Factor.OFFICER: Score.NEUTRAL}}
    ratings = [
        _rating(1, reasons=("late", "rude", "late"), **low),
        _rating(2, reasons=("late",), **low),
        _rating(3, factors={Factor.OFFICER: Score.SATISFIED, Factor.RESULT: Score.SATISFIED}),
    ]
    with sessions.begin() as session:
        store_batch(session, [(r, ATTR) for r in ratings[:2]], NOW)
    with sessions.begin() as session:
        store_batch(session, [(ratings[2], ATTR)], NOW)
    assert _rollups(sessions, FactorRollupRow, "factor", "score") == {
        ("officer", 3): 2,
        ("officer", 4): 1,
        ("result", 4): 1,
    }
    # A rating counts once per reason it cites.
    assert _rollups(sessions, ReasonRollupRow, "reason") == {("late",): 2, ("rude",): 1}


def test_a_nul_in_a_comment_does_not_block_the_batch(sessions: sessionmaker[Session]) -> None:
    """Valid JSON may carry \\u0000, which PostgreSQL's text refuses: the hub must not retry forever."""
    rating = _rating(1, comment="xin chào\x00!")
    with sessions.begin() as session:
        store_batch(session, [(rating, ATTR)], NOW)
        store_dead_letter(session, "hailong/v1/x/y/ratings", b"{}", "bad \x00 value", NOW)
    with sessions() as session:
        row = session.get(RatingRow, str(rating.id))
        assert row is not None
        assert row.comment == "xin chào\ufffd!"
        assert session.scalars(select(DeadLetterRow.reason)).one() == "bad \ufffd value"


def test_kiosk_statuses_keep_the_latest_and_a_history(sessions: sessionmaker[Session]) -> None:
    reports = [
        KioskStatusMessage(kiosk="kiosk-q1", online=True, buffer_depth=3, refusals={"forged": 2}),
        KioskStatusMessage(kiosk="kiosk-q1", online=True, buffer_depth=0, version="v" * 60),
        KioskStatusMessage(kiosk="kiosk-q1", online=False),  # the last will
    ]
    for minute, status in enumerate(reports):
        with sessions.begin() as session:
            save_kiosk_status(session, "000.00.20.H41", status, NOW + timedelta(minutes=minute))
    with sessions() as session:
        latest = session.get(KioskStatusRow, ("000.00.20.H41", "kiosk-q1"))
        history = session.scalars(
            select(KioskStatusHistoryRow).order_by(KioskStatusHistoryRow.at)
        ).all()
    assert latest is not None
    assert (latest.online, latest.refusals) == (False, {})
    assert [(h.online, h.buffer_depth, h.refusals) for h in history] == [
        (True, 3, {"forged": 2}),
        (True, 0, {}),
        (False, None, {}),
    ]
    assert history[1].version == "v" * 40  # a longer version string would fail on PostgreSQL
    assert history[2].at.replace(tzinfo=history[2].at.tzinfo or UTC) == NOW + timedelta(minutes=2)


def test_repeated_statuses_add_history_only_on_change_or_hourly(
    sessions: sessionmaker[Session],
) -> None:
    same = KioskStatusMessage(kiosk="kiosk-q1", online=True, buffer_depth=0, version="1.0")
    busy = KioskStatusMessage(kiosk="kiosk-q1", online=True, buffer_depth=7, version="1.0")
    # A report a minute for 2 hours; the depth changes at minutes 30 and 31.
    for minute in range(120):
        status = busy if minute == 30 else same
        # Two shared workers receive every status; both save it.
        for _worker in range(2):
            with sessions.begin() as session:
                save_kiosk_status(session, "000.00.20.H41", status, NOW + timedelta(minutes=minute))
    with sessions() as session:
        history = session.execute(
            select(KioskStatusHistoryRow.at, KioskStatusHistoryRow.buffer_depth).order_by(
                KioskStatusHistoryRow.at
            )
        ).all()
        latest = session.get(KioskStatusRow, ("000.00.20.H41", "kiosk-q1"))
    minutes = [
        (round((at.replace(tzinfo=at.tzinfo or UTC) - NOW).total_seconds() / 60), d)
        for at, d in history
    ]
    assert minutes == [(0, 0), (30, 7), (31, 0), (91, 0)]  # changes, then an hour after the last
    assert latest is not None
    assert latest.received_at.replace(tzinfo=latest.received_at.tzinfo or UTC) == NOW + timedelta(
        minutes=119
    )


def test_the_last_will_keeps_what_the_kiosk_last_said_of_acks_devices_and_scans(
    sessions: sessionmaker[Session],
) -> None:
    acked, scanned = NOW - timedelta(minutes=3), NOW - timedelta(hours=2)
    online = KioskStatusMessage(
        kiosk="kiosk-q1",
        online=True,
        buffer_depth=4,
        last_ack_at=acked,
        oldest_pending_seq=118,
        devices={"scanner": "ok"},
        last_scan_at=scanned,
    )
    for minute, status in enumerate([online, KioskStatusMessage(kiosk="kiosk-q1", online=False)]):
        with sessions.begin() as session:
            save_kiosk_status(session, "000.00.20.H41", status, NOW + timedelta(minutes=minute))
    with sessions() as session:
        row = session.get(KioskStatusRow, ("000.00.20.H41", "kiosk-q1"))
    assert row is not None
    assert row.online is False
    assert (row.oldest_pending_seq, row.devices) == (118, {"scanner": "ok"})
    assert row.last_ack_at is not None
    assert row.last_ack_at.replace(tzinfo=row.last_ack_at.tzinfo or UTC) == acked
    assert row.last_scan_at is not None
    assert row.last_scan_at.replace(tzinfo=row.last_scan_at.tzinfo or UTC) == scanned


def test_a_database_the_hub_does_not_support_is_refused_at_start_up() -> None:
    with pytest.raises(
        ValueError, match=r"\[hub\] database_url: the hub runs on sqlite or postgresql"
    ):
        make_engine("mysql://hub:secret@db.example/hailong")


# -- dead letters bounded, conflicts visible (issue 15) ---------------------------------------------


def test_a_dead_letter_keeps_its_first_bytes_size_hash_kiosk_code_and_seq(
    sessions: sessionmaker[Session],
) -> None:
    import hashlib
    import json

    data = json.loads(make_rating(seq=41).to_bytes())
    data["comment"] = "x" * 9000
    payload = json.dumps(data).encode()
    limits = DeadLetterLimits(payload_bytes=2048)
    with sessions.begin() as session:
        kept = store_dead_letter(
            session,
            "hailong/v1/000.00.20.H41/kiosk-q1/ratings",
            payload,
            "comment: too long",
            NOW,
            code="bounds",
            limits=limits,
        )
    assert kept
    with sessions() as session:
        row = session.scalars(select(DeadLetterRow)).one()
    assert row.payload == payload[:2048]
    assert (row.size, row.sha256) == (len(payload), hashlib.sha256(payload).hexdigest())
    assert (row.kiosk, row.code, row.seq) == ("kiosk-q1", "bounds", 41)


def test_past_a_kiosks_quota_dead_letters_are_counted_not_kept(
    sessions: sessionmaker[Session],
) -> None:
    limits = DeadLetterLimits(per_kiosk=3)
    q1, q2 = (
        "hailong/v1/000.00.20.H41/kiosk-q1/ratings",
        "hailong/v1/000.00.20.H41/kiosk-q2/ratings",
    )
    with sessions.begin() as session:
        kept = [store_dead_letter(session, q1, b"junk", "x", NOW, limits=limits) for _ in range(2)]
    with sessions.begin() as session:  # the quota counts what earlier transactions kept
        kept += [
            store_dead_letter(session, q1, b"junk", "x", NOW, code="malformed", limits=limits)
            for _ in range(3)
        ]
        kept.append(store_dead_letter(session, q2, b"junk", "x", NOW, limits=limits))
        dropped = dropped_dead_letters(session)
    assert kept == [True, True, True, False, False, True]
    assert dropped == {"malformed": 2}
    with sessions() as session:
        per_kiosk = dict(
            session.execute(
                select(DeadLetterRow.kiosk, func.count()).group_by(DeadLetterRow.kiosk)
            ).all()
        )
    assert per_kiosk == {"kiosk-q1": 3, "kiosk-q2": 1}


def test_the_same_id_with_other_content_is_a_conflict_not_a_duplicate(
    sessions: sessionmaker[Session],
) -> None:
    """Old code acknowledged the second copy "duplicate": the conflict was invisible."""
    first = _rating(1)
    with sessions.begin() as session:
        store_batch(session, [(first, ATTR)], NOW)
    changed = first.model_copy(update={"score": Score.VERY_DISSATISFIED})
    same = first.model_copy()
    with sessions.begin() as session:
        outcomes = store_batch(session, [(changed, ATTR), (same, ATTR)], NOW)
    assert [o.outcome for o in outcomes] == ["rejected", "duplicate"]
    assert outcomes[0].reason is not None
    assert outcomes[0].reason.startswith("conflict:")
    assert "score" in outcomes[0].reason
    with sessions() as session:
        row = session.scalars(select(DeadLetterRow)).one()
        stored = session.get(RatingRow, str(first.id))
    assert row.code == "conflict"
    assert stored is not None
    assert stored.score == int(first.score)  # the stored rating stands
    assert _count(sessions) == 1


def test_a_conflict_inside_one_batch_is_caught_too(sessions: sessionmaker[Session]) -> None:
    first = _rating(1)
    other = first.model_copy(update={"comment": "khác"})
    with sessions.begin() as session:
        outcomes = store_batch(session, [(first, ATTR), (other, ATTR), (first, ATTR)], NOW)
    assert [o.outcome for o in outcomes] == ["stored", "rejected", "duplicate"]
    assert _count(sessions) == 1


def test_a_replay_that_changes_the_not_applicable_answers_is_a_conflict(
    sessions: sessionmaker[Session],
) -> None:
    """The "không áp dụng" answers are part of what the citizen said: a replay under the same id
    that adds, drops or changes them is refused, the stored answers stand; an equal replay (in
    another order) is a duplicate."""
    first = _rating(1, factors={Factor.OFFICER: 4}, not_applicable=(Factor.FEEDBACK, Factor.ACCESS))
    with sessions.begin() as session:
        store_batch(session, [(first, ATTR)], NOW)
    reordered = first.model_copy(update={"not_applicable": (Factor.ACCESS, Factor.FEEDBACK)})
    dropped = first.model_copy(update={"not_applicable": None})
    other = first.model_copy(update={"not_applicable": (Factor.RESULT,)})
    with sessions.begin() as session:
        outcomes = store_batch(session, [(reordered, ATTR), (dropped, ATTR), (other, ATTR)], NOW)
    assert [o.outcome for o in outcomes] == ["duplicate", "rejected", "rejected"]
    assert all("not_applicable" in (o.reason or "") for o in outcomes[1:])
    with sessions() as session:
        stored = session.get(RatingRow, str(first.id))
    assert stored is not None
    assert sorted(stored.not_applicable or ()) == ["access", "feedback"]
    unanswered = _rating(2)
    with sessions.begin() as session:
        store_batch(session, [(unanswered, ATTR)], NOW)
    added = unanswered.model_copy(update={"not_applicable": (Factor.FEEDBACK,)})
    with sessions.begin() as session:
        (outcome,) = store_batch(session, [(added, ATTR)], NOW)
    assert outcome.outcome == "rejected"
    assert "not_applicable" in (outcome.reason or "")


def test_an_attribution_the_register_changed_is_still_a_duplicate(
    sessions: sessionmaker[Session],
) -> None:
    """Only what the kiosk sent identifies the content; the hub's attribution may differ."""
    first = _rating(1)
    with sessions.begin() as session:
        store_batch(session, [(first, ATTR)], NOW)
    other_attr = Attribution("Q2", "CB003", "2.000815", "chung-thuc", receipt_known=True)
    with sessions.begin() as session:
        outcomes = store_batch(session, [(first, other_attr)], NOW + timedelta(hours=1))
    assert [o.outcome for o in outcomes] == ["duplicate"]


def test_dead_letters_kept_before_revision_0007_are_kept_whole_and_filled_in(
    database_url: str,
) -> None:
    """Revision 0007 keeps every existing row, whole, and derives its kiosk, code, size, hash
    and seq from what it holds."""
    import hashlib

    from alembic import command
    from sqlalchemy import text

    from hub.store.db import _alembic_config

    engine = make_engine(database_url)
    with engine.begin() as connection:
        command.downgrade(_alembic_config(connection), "0006")
    big = make_rating(seq=9, comment="y" * 990).to_bytes() + b" " * 3000  # past any cut
    rows = [
        ("hailong/v1/000.00.20.H41/kiosk-q1/ratings", big, "already rated: x by rating y"),
        ("hailong/v1/000.00.20.H41/kiosk-q2/ratings", b"\xff junk", "not UTF-8 JSON: ..."),
        ("garbage", b"{}", "topic: not a kiosk topic"),
    ]
    with engine.begin() as connection:
        for topic, payload, reason in rows:
            connection.execute(
                text(
                    "INSERT INTO dead_letters (topic, payload, reason, received_at) "
                    "VALUES (:t, :p, :r, :at)"
                ),
                {"t": topic, "p": payload, "r": reason, "at": NOW},
            )
    engine.dispose()
    sessions = session_factory(make_engine(database_url))  # upgrades to the head
    with sessions() as session:
        kept = session.scalars(select(DeadLetterRow).order_by(DeadLetterRow.id)).all()
        got = [(r.kiosk, r.code, r.size, r.sha256, r.seq, bytes(r.payload)) for r in kept]
    assert got == [
        ("kiosk-q1", "already_rated", len(big), hashlib.sha256(big).hexdigest(), 9, big),
        ("kiosk-q2", "malformed", 6, hashlib.sha256(b"\xff junk").hexdigest(), None, b"\xff junk"),
        (None, "topic", 2, hashlib.sha256(b"{}").hexdigest(), None, b"{}"),
    ]
