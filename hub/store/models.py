"""The hub's tables.

``ratings.id`` is the rating's own UUID, so a redelivered rating cannot be stored twice. Payloads
that break the contract are kept in ``dead_letters`` with the reason, within bounds (their first
bytes, a quota per kiosk, a retention: :class:`DeadLetterRow`).

The ``*_rollups`` tables count the stored ratings per local day or month and key; they are written
in the same transaction as the ratings and read by every summary, both in :mod:`hub.store.rollups`
only. A dimension the rating has no value for (a walk-in with no counter, say) is keyed as
:data:`NO_VALUE`, never NULL, so it can be part of the primary key.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Text,
    event,
    false,
    text,
    true,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, MappedColumn, mapped_column

from hailong.contract.clock import DEFAULT_ZONE_NAME
from hub.store.types import UtcDateTime


class Base(DeclarativeBase):
    pass


class RatingRow(Base):
    __tablename__ = "ratings"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    unit: Mapped[str] = mapped_column(String(40))
    kiosk: Mapped[str] = mapped_column(String(40))
    seq: Mapped[int] = mapped_column(Integer)
    dossier_code: Mapped[str | None] = mapped_column(String(40), index=True)
    receipt_verified: Mapped[bool] = mapped_column(Boolean, default=False)
    # True when the hub's receipt register knows the dossier code (issued or registered here).
    receipt_known: Mapped[bool] = mapped_column(Boolean, default=False)
    stage: Mapped[str] = mapped_column(String(16))
    counter: Mapped[str | None] = mapped_column(String(40))
    officer: Mapped[str | None] = mapped_column(String(40))
    procedure: Mapped[str | None] = mapped_column(String(40))
    field: Mapped[str | None] = mapped_column(String(40))
    score: Mapped[int] = mapped_column(SmallInteger)
    reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Survey answers per SIPAS factor ({"officer": 4, ...}); empty when no survey was offered.
    factors: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    # Survey questions answered "không áp dụng" (["feedback"]): in no factor's count; NULL: none.
    not_applicable: Mapped[list[str] | None] = mapped_column(JSON)
    comment: Mapped[str | None] = mapped_column(Text)
    # Personal data: present only with the citizen's consent; shown only to the unit's follow-up staff.
    callback_phone: Mapped[str | None] = mapped_column(String(16))
    lang: Mapped[str] = mapped_column(String(8))
    channel: Mapped[str] = mapped_column(String(16))
    rated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    received_at: Mapped[datetime] = mapped_column(UtcDateTime())
    duration_ms: Mapped[int | None] = mapped_column(Integer)
    # Since revision 0008 (hub.domain.register): whether the rating is in the headline figures
    # (the rollups). False for a code the register does not know (unless the unit counts those)
    # and for a suspect one; such ratings are kept and shown apart.
    counted: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    # A receipt-less or unverified rating of a kiosk too close to another (unverified_min_interval_s).
    suspect: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # The fields the kiosk claimed that the register contradicts ("counter,officer"), for admins.
    claim_mismatch: Mapped[str | None] = mapped_column(String(80))
    # Since revision 0011 (hub.paper.desk): the staff login (user name) that keyed a paper form,
    # or that helped the citizen and recorded their answers (``assisted``); None for the ratings
    # citizens make themselves (kiosk, button box, online). Staff, never the citizen.
    entered_by: Mapped[str | None] = mapped_column(String(40))
    # Given with a helper's assistance (Decree 61, Article 29); the helper is ``entered_by``.
    assisted: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    __table_args__ = (
        Index("ix_ratings_kiosk_seq", "kiosk", "seq"),
        Index("ix_ratings_unit_rated_at", "unit", "rated_at"),
        # Since revision 0013: the dossier feed reads in storing order (hub.store.feed).
        Index("ix_ratings_received_at_id", "received_at", "id"),
        # One rating per receipt and stage. NULL dossier codes (walk-ins) never collide.
        Index("uq_ratings_receipt_stage", "unit", "dossier_code", "stage", unique=True),
    )


class DeadLetterRow(Base):
    """A payload the hub refused (or a second rating of a receipt), kept for inspection.

    Bounded since revision 0007 (hub.store.ratings.store_dead_letter): only the first bytes of the
    payload are kept (``size`` and ``sha256`` are the whole payload's), at most a quota of rows per
    kiosk, for ``[hub] dead_letter_days`` (hub.store.retention). Rows from before 0007 keep their
    whole payload.
    """

    __tablename__ = "dead_letters"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    topic: Mapped[str] = mapped_column(String(200))
    payload: Mapped[bytes] = mapped_column(LargeBinary)
    reason: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime())
    # The kiosk the topic names (the broker's ACL vouches for it); None for a topic that does not
    # parse. The quota and the retention go per kiosk.
    kiosk: Mapped[str | None] = mapped_column(String(40))
    # The machine reason (hub.domain.ingest: "malformed", "bounds", "stale", "conflict", ...).
    code: Mapped[str] = mapped_column(String(32))
    # The payload as received: its length in bytes and SHA-256 (hex), whatever part is kept.
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    # The rating's seq when it could be read within the contract's bounds (the gap report).
    seq: Mapped[int | None] = mapped_column(Integer)

    __table_args__ = (Index("ix_dead_letters_kiosk_received_at", "kiosk", "received_at"),)


class AbandonedSessionRow(Base):
    """A kiosk session that began with a receipt and ended without a face (revision 0010;
    :mod:`hub.store.abandoned`). ``id`` is the kiosk's UUID for it, so a resend is stored once;
    ``seq`` is in the kiosk's one sequence with its ratings (the gap report reads both). Not
    unique per receipt: a dossier abandoned twice, or abandoned then rated, keeps every record.
    Attributed from the receipt register like a rating; nothing of the citizen is kept."""

    __tablename__ = "abandoned_sessions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    unit: Mapped[str] = mapped_column(String(40))
    kiosk: Mapped[str] = mapped_column(String(40))
    seq: Mapped[int] = mapped_column(Integer)
    dossier_code: Mapped[str] = mapped_column(String(40), index=True)
    # The kiosk checked the slip's signature and the register holds the code (as ratings).
    receipt_verified: Mapped[bool] = mapped_column(Boolean)
    receipt_known: Mapped[bool] = mapped_column(Boolean)
    stage: Mapped[str] = mapped_column(String(16))
    counter: Mapped[str | None] = mapped_column(String(40))
    officer: Mapped[str | None] = mapped_column(String(40))
    procedure: Mapped[str | None] = mapped_column(String(40))
    field: Mapped[str | None] = mapped_column(String(40))
    # Why it ended: "timeout", "next_scan" or "closed" (hailong.contract.messages.AbandonReason).
    reason: Mapped[str] = mapped_column(String(16))
    scanned_at: Mapped[datetime] = mapped_column(UtcDateTime())
    ended_at: Mapped[datetime] = mapped_column(UtcDateTime())
    received_at: Mapped[datetime] = mapped_column(UtcDateTime())

    __table_args__ = (
        Index("ix_abandoned_sessions_unit_scanned_at", "unit", "scanned_at"),
        Index("ix_abandoned_sessions_kiosk_seq", "kiosk", "seq"),
        # A receipt's sessions at a stage (coverage, revision 0015): without it SQLite, which
        # keeps no statistics here, looked a code up through the unit's scan-time index.
        Index("ix_abandoned_sessions_receipt", "unit", "dossier_code", "stage"),
    )


class ReceiptRow(Base):
    """The receipt register: every dossier code this hub issued (Giấy tiếp nhận hồ sơ)."""

    __tablename__ = "receipts"

    dossier_code: Mapped[str] = mapped_column(String(40), primary_key=True)
    unit: Mapped[str] = mapped_column(String(40))
    procedure: Mapped[str] = mapped_column(String(40))
    counter: Mapped[str] = mapped_column(String(40))
    officer: Mapped[str] = mapped_column(String(40))
    key_id: Mapped[str] = mapped_column(String(40))
    url: Mapped[str] = mapped_column(String(400))
    issued_at: Mapped[datetime] = mapped_column(UtcDateTime())
    promised_on: Mapped[date | None] = mapped_column(Date)
    printed: Mapped[bool] = mapped_column(Boolean, default=False)
    # issued: the hub allocated the code; registered: another system's receipt, signed here.
    origin: Mapped[str] = mapped_column(String(16), default="issued")
    # Personal data, optional: shown to counter staff only, never sent to kiosks.
    citizen_name: Mapped[str | None] = mapped_column(String(120))
    citizen_contact: Mapped[str | None] = mapped_column(String(120))
    # Return of result (trả kết quả): ratings after this moment are for the return stage.
    returned_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    returned_by: Mapped[str | None] = mapped_column(String(40))
    # The hub has told the kiosks about the return (hailong/v1/<unit>/returned).
    return_announced: Mapped[bool] = mapped_column(Boolean, default=False)
    # Coverage (hub.domain.coverage), kept as it happens (revision 0015, hub.store.coverage): a
    # counted reception rating of this unit names the code; an abandoned session at the
    # reception names it. Set by the writers of ratings and abandoned sessions with UPDATE ...
    # RETURNING, whose row lock makes two workers agree on who counts the receipt.
    rated: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    abandoned: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    # The period's receipts of a unit: the indices, coverage and reports (revision 0014).
    __table_args__ = (
        Index("ix_receipts_unit_issued_at", "unit", "issued_at"),
        # Each counter's last receipt, the printer card's (revision 0019): one probe per counter.
        Index("ix_receipts_unit_counter_issued_at", "unit", "counter", "issued_at"),
        # The printer card's count of unprinted receipts (revision 0017): only those rows.
        Index(
            "ix_receipts_unprinted",
            "unit",
            "counter",
            postgresql_where=text("printed IS false"),
            sqlite_where=text("printed IS false"),
        ),
    )


class ReturnOfferRow(Base):
    """A rating offered at the return (revision 0023, :mod:`hub.store.return_offers`).

    The officer recorded "trả kết quả" and the hub offers that dossier's rating to the kiosks of
    the counter (``hailong/v1/<unit>/<kiosk>/offers``). One row per recorded return: the
    outbox of the offers (``published_at`` once the service has handed them to the broker; never,
    if it expired first) and the record of who caused an offer, when and to which kiosks. An offer
    carries no score and stores none: the citizen's tap does.
    """

    __tablename__ = "return_offers"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    unit: Mapped[str] = mapped_column(String(40))
    dossier_code: Mapped[str] = mapped_column(String(40))
    counter: Mapped[str] = mapped_column(String(40))
    officer: Mapped[str] = mapped_column(String(40))
    offered_at: Mapped[datetime] = mapped_column(UtcDateTime())
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())
    published_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # The kiosks it was published to, comma-separated (the counter's, from the catalogue then).
    kiosks: Mapped[str | None] = mapped_column(String(400))

    # The service's poll: a unit's offers not yet published.
    # The retention's delete (hub.store.retention.prune_return_offers, revision 0024).
    __table_args__ = (
        Index("ix_return_offers_unit_published_at", "unit", "published_at"),
        Index("ix_return_offers_offered_at", "offered_at"),
    )


class DossierSequenceRow(Base):
    """Last sequence number used per unit and reception day, so codes never repeat."""

    __tablename__ = "dossier_sequences"

    unit: Mapped[str] = mapped_column(String(40), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    last: Mapped[int] = mapped_column(Integer, default=0)


class KioskStatusRow(Base):
    """The last status each kiosk reported: link, buffer depth, version, refusals per reason,
    last ack, oldest pending seq, devices."""

    __tablename__ = "kiosk_status"

    unit: Mapped[str] = mapped_column(String(40), primary_key=True)
    kiosk: Mapped[str] = mapped_column(String(40), primary_key=True)
    online: Mapped[bool] = mapped_column(Boolean)
    buffer_depth: Mapped[int | None] = mapped_column(Integer)
    version: Mapped[str | None] = mapped_column(String(40))
    refusals: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    reported_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    received_at: Mapped[datetime] = mapped_column(UtcDateTime())
    # Since revision 0003 (None for statuses received before it, or from older kiosks).
    last_ack_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    oldest_pending_seq: Mapped[int | None] = mapped_column(Integer)
    devices: Mapped[dict[str, str] | None] = mapped_column(JSON)
    last_scan_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


NO_VALUE = ""  # the rollup key of a dimension without a value (codes are never empty)


# -- the rollups: stored ratings counted per key, written and read by hub.store.rollups only -------
# Every table's primary key is the unit, the local ``day`` (or ``month``: the first day of the
# local month), the dimensions its reads need, then its own columns; ``n`` is the count. A year
# reads ~30 times fewer monthly rows than daily ones.


def _key(kind: Any, order: int = 0) -> MappedColumn[Any]:
    """A primary key column; ``order`` < 0 puts the shared ones (the mixins') before the table's
    own, in the order migrations 0002-0006 made them."""
    return mapped_column(kind, primary_key=True, sort_order=order)


class _Rollup:
    unit: Mapped[str] = _key(String(40), -3)
    n: Mapped[int] = mapped_column(Integer, sort_order=1)

    # SQLite keeps the rows in the primary key's b-tree: a unit's days are read in one range scan.
    __table_args__: tuple[Any, ...] = ({"sqlite_with_rowid": False},)


class _Daily(_Rollup):
    day: Mapped[date] = _key(Date, -2)  # the unit's local date


class _Monthly(_Rollup):
    month: Mapped[date] = _key(Date, -2)  # the first day of the unit's local month


class _Dimensions:
    """The rating's stage, counter, officer, procedure and field (:data:`NO_VALUE` if none)."""

    stage: Mapped[str] = _key(String(16), -1)
    counter: Mapped[str] = _key(String(40), -1)
    officer: Mapped[str] = _key(String(40), -1)
    procedure: Mapped[str] = _key(String(40), -1)
    field: Mapped[str] = _key(String(40), -1)


class RatingRollupRow(_Daily, _Dimensions, Base):
    """Stored ratings per unit, local day, stage, counter, officer, procedure, field and score."""

    __tablename__ = "rating_rollups"
    score: Mapped[int] = _key(SmallInteger)


class FactorRollupRow(_Daily, _Dimensions, Base):
    """Survey answers per SIPAS factor, with the same key as ``rating_rollups`` plus the factor."""

    __tablename__ = "factor_rollups"
    factor: Mapped[str] = _key(String(16))
    score: Mapped[int] = _key(SmallInteger)


class ReasonRollupRow(_Daily, _Dimensions, Base):
    """Ratings citing each reason (a rating counts once per reason), same key minus the score."""

    __tablename__ = "reason_rollups"
    reason: Mapped[str] = _key(String(40))


class HourRollupRow(_Daily, Base):
    """Stored ratings per unit, local day, local hour of the day (0-23) and score: the dashboard's
    hour-by-weekday heat map (the weekday is the day's)."""

    __tablename__ = "hour_rollups"
    hour: Mapped[int] = _key(SmallInteger)
    score: Mapped[int] = _key(SmallInteger)


class RatingMonthRollupRow(_Monthly, _Dimensions, Base):
    """``rating_rollups`` per local month instead of day."""

    __tablename__ = "rating_month_rollups"
    # A unit's months read from the index alone (revision 0020): PostgreSQL otherwise fetches a
    # provincial centre's quarter, ~8,000 rows, from ~6,000 pages (42 ms; 11 ms from the index).
    __table_args__ = (
        Index(
            "ix_rating_month_rollups_covering",
            *("unit", "month", "stage", "counter", "officer", "procedure", "field", "score", "n"),
        ),
        {"sqlite_with_rowid": False},
    )
    score: Mapped[int] = _key(SmallInteger)


class FactorMonthRollupRow(_Monthly, Base):
    """``factor_rollups`` per local month, keyed by officer only: the factor table is read for the
    unit or one officer, never per counter, procedure or field, and the full key kept a year of a
    busy unit at ~100,000 rows (the dashboard's slowest query)."""

    __tablename__ = "factor_month_rollups"
    officer: Mapped[str] = _key(String(40))
    factor: Mapped[str] = _key(String(16))
    score: Mapped[int] = _key(SmallInteger)


class ReasonMonthRollupRow(_Monthly, _Dimensions, Base):
    """``reason_rollups`` per local month instead of day."""

    __tablename__ = "reason_month_rollups"
    reason: Mapped[str] = _key(String(40))


class HourMonthRollupRow(_Monthly, Base):
    """``hour_rollups`` per local month, keeping the weekday (0 = Monday) the day gave: the heat
    map is per weekday, and a month has each weekday four or five times."""

    __tablename__ = "hour_month_rollups"
    weekday: Mapped[int] = _key(SmallInteger)  # local, 0 = Monday
    hour: Mapped[int] = _key(SmallInteger)  # local, 0-23
    score: Mapped[int] = _key(SmallInteger)


class _ChannelKey:
    """The rating's channel (the contract's ``Channel``) and whether it was assisted."""

    channel: Mapped[str] = _key(String(16))
    assisted: Mapped[bool] = _key(Boolean)
    score: Mapped[int] = _key(SmallInteger)


class ChannelRollupRow(_Daily, _ChannelKey, Base):
    """Stored ratings per unit, local day, channel, assisted and score (revision 0016): every
    channel in one count, each still visible (Decree 61, Article 29). Kept apart from
    ``rating_rollups`` (whose key would grow by two columns for every read) and small: a unit has
    a handful of rows a day."""

    __tablename__ = "channel_rollups"


class ChannelMonthRollupRow(_Monthly, _ChannelKey, Base):
    """``channel_rollups`` per local month instead of day."""

    __tablename__ = "channel_month_rollups"


class FieldMonthRollupRow(_Monthly, Base):
    """``rating_month_rollups`` per unit, month, field and score only (revision 0018): the
    province page's fields across 150 units read a few rows per unit and month, where the full
    key (one row per officer x procedure x score) grows with the ratings."""

    __tablename__ = "field_month_rollups"
    field: Mapped[str] = _key(String(40))
    score: Mapped[int] = _key(SmallInteger)


class UnitFactorMonthRollupRow(_Monthly, Base):
    """``factor_month_rollups`` per unit, month, factor and score, without the officer
    (revision 0018): the province page's SIPAS table of every unit."""

    __tablename__ = "unit_factor_month_rollups"
    factor: Mapped[str] = _key(String(16))
    score: Mapped[int] = _key(SmallInteger)


class _CoverageKey:
    """What a receipt counts as (hub.domain.coverage.Outcome, or ``issued``): ``n`` is a count
    of receipts issued on the local ``day``, or of those rated, or abandoned and not rated."""

    outcome: Mapped[str] = _key(String(16))


class CoverageRollupRow(_Daily, _CoverageKey, Base):
    """Receipts per unit, local issue day, counter, officer, procedure and outcome (revision
    0015): the coverage tables of a unit or an officer without reading ``receipts``."""

    __tablename__ = "coverage_rollups"
    # A unit's period read from the index alone (revision 0019): PostgreSQL otherwise fetches
    # the rows of ~90 days from all over the table (a provincial centre's quarter: 8,000 pages).
    __table_args__ = (
        Index(
            "ix_coverage_rollups_covering",
            *("unit", "day", "counter", "officer", "procedure", "outcome", "n"),
        ),
        {"sqlite_with_rowid": False},
    )
    counter: Mapped[str] = _key(String(40), -1)
    officer: Mapped[str] = _key(String(40), -1)
    procedure: Mapped[str] = _key(String(40), -1)


class CoverageDayRollupRow(_Daily, _CoverageKey, Base):
    """``coverage_rollups`` per unit, local issue day and outcome alone: a unit's totals (the
    province view, the dashboard's headline periods) read a few rows a day, not one per group."""

    __tablename__ = "coverage_day_rollups"


class CoverageMonthRollupRow(_Monthly, _CoverageKey, Base):
    """``coverage_rollups`` per local issue month instead of day (revision 0020): a unit's
    coverage tables for whole months read ~4 times fewer rows (a provincial centre's quarter:
    ~5,700, not ~21,600), from the index alone as 0019's."""

    __tablename__ = "coverage_month_rollups"
    __table_args__ = (
        Index(
            "ix_coverage_month_rollups_covering",
            *("unit", "month", "counter", "officer", "procedure", "outcome", "n"),
        ),
        {"sqlite_with_rowid": False},
    )
    counter: Mapped[str] = _key(String(40), -1)
    officer: Mapped[str] = _key(String(40), -1)
    procedure: Mapped[str] = _key(String(40), -1)


class CoverageUnitMonthRollupRow(_Monthly, _CoverageKey, Base):
    """``coverage_day_rollups`` per local issue month (revision 0020): a province's year of 150
    units reads ~5,400 rows, not ~76,000."""

    __tablename__ = "coverage_unit_month_rollups"


# Every receipt and abandoned session the ORM inserts is counted in the coverage rollups in its
# own flush, whoever adds it (the register's issue and registration, the tests' fixtures); the
# hot paths that insert with Core (``store_abandoned``, ``store_batch``) call the counting
# themselves. Imported late: hub.store.coverage reads these models.


@event.listens_for(ReceiptRow, "before_insert")
def _count_receipt(_mapper: Any, _connection: Any, target: ReceiptRow) -> None:
    from hub.store.coverage import count_receipt

    count_receipt(target)


@event.listens_for(AbandonedSessionRow, "before_insert")
def _count_abandoned(_mapper: Any, _connection: Any, target: AbandonedSessionRow) -> None:
    from hub.store.coverage import count_abandoned_row

    count_abandoned_row(target)


class KioskStatusHistoryRow(Base):
    """Every status a kiosk reported, as received (``kiosk_status`` keeps only the latest)."""

    __tablename__ = "kiosk_status_history"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    unit: Mapped[str] = mapped_column(String(40))
    kiosk: Mapped[str] = mapped_column(String(40))
    at: Mapped[datetime] = mapped_column(UtcDateTime())  # received by the hub (UTC)
    online: Mapped[bool] = mapped_column(Boolean)
    buffer_depth: Mapped[int | None] = mapped_column(Integer)
    version: Mapped[str | None] = mapped_column(String(40))
    refusals: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)  # as reported
    reported_at: Mapped[datetime | None] = mapped_column(UtcDateTime())  # kiosk clock

    __table_args__ = (Index("ix_kiosk_status_history_unit_kiosk_at", "unit", "kiosk", "at"),)


class FollowUpRow(Base):
    """The follow-up of a dissatisfied rating (see :mod:`hub.domain.followup`), created on its
    first action: a dissatisfied rating without a row is open. ``state`` and the assignee are
    what the trail in ``follow_up_events`` says; they are kept here to list and filter quickly."""

    __tablename__ = "follow_ups"

    rating_id: Mapped[str] = mapped_column(String(36), ForeignKey("ratings.id"), primary_key=True)
    unit: Mapped[str] = mapped_column(String(40))
    state: Mapped[str] = mapped_column(String(16))
    assignee: Mapped[str | None] = mapped_column(String(40))  # the officer's user name
    assignee_officer: Mapped[str | None] = mapped_column(String(40))  # their officer code
    opened_at: Mapped[datetime] = mapped_column(UtcDateTime())  # the rating arrived
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())  # the last action
    version: Mapped[int] = mapped_column(Integer)  # events in the trail: a stale form is refused

    __table_args__ = (
        Index("ix_follow_ups_unit_state", "unit", "state"),
        Index("ix_follow_ups_unit_updated_at", "unit", "updated_at"),
        Index("ix_follow_ups_assignee", "assignee"),
    )


class FollowUpEventRow(Base):
    """The audit trail of a follow-up: who did what, when, with which note. Only ever appended."""

    __tablename__ = "follow_up_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    rating_id: Mapped[str] = mapped_column(String(36), ForeignKey("follow_ups.rating_id"))
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    actor: Mapped[str] = mapped_column(String(40))  # user name
    action: Mapped[str] = mapped_column(String(16))
    assignee: Mapped[str | None] = mapped_column(String(40))  # assign and reopen only
    assignee_officer: Mapped[str | None] = mapped_column(String(40))
    note: Mapped[str] = mapped_column(Text, default="")

    __table_args__ = (Index("ix_follow_up_events_rating_id_id", "rating_id", "id"),)


class TargetRow(Base):
    """A yearly MĐHL target (chỉ tiêu, %) the province set for a unit, or for itself (revision
    0012; read and written by :mod:`hub.store.targets` only). A unit without a row is held to the
    nearest target above it, else its catalogue's ``target_rate`` (:mod:`hub.domain.trends`).
    No foreign key to ``units``: a hub on unit files has no rows there."""

    __tablename__ = "targets"

    unit: Mapped[str] = mapped_column(String(40), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    rate: Mapped[float] = mapped_column(Float)  # %, 0-100
    set_by: Mapped[str] = mapped_column(String(40))  # the admin's user name
    set_at: Mapped[datetime] = mapped_column(UtcDateTime())


# --- the catalogue (revision 0009): units and what each one has ---------------------------------


class UnitRow(Base):
    """A unit the hub serves (``[hub] catalogue = "database"``), with its parent: a province over
    its communes and departments (:mod:`hub.domain.units`). Written only by
    :mod:`hub.store.catalogue`, which rebuilds the same validated ``Unit`` a unit file gives."""

    __tablename__ = "units"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(16))
    parent: Mapped[str | None] = mapped_column(String(40), ForeignKey("units.code"), index=True)
    target_rate: Mapped[float] = mapped_column(Float)
    # The unit's IANA time zone (revision 0021; hailong.contract.clock), checked when it is read.
    time_zone: Mapped[str] = mapped_column(
        String(64), default=DEFAULT_ZONE_NAME, server_default=DEFAULT_ZONE_NAME
    )
    kiosk_policy: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    register_policy: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Whatever else the unit file says (sections later issues add), kept as it is.
    extra: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # One more at every import or edit: how a running hub sees which units changed.
    revision: Mapped[int] = mapped_column(Integer, default=1)


class _UnitEntry:
    """One entry of a unit's list, in the order the unit lists it (``position``)."""

    unit: Mapped[str] = mapped_column(String(40), ForeignKey("units.code"), primary_key=True)
    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(Text)


class UnitFieldRow(_UnitEntry, Base):
    __tablename__ = "unit_fields"


class UnitCounterRow(_UnitEntry, Base):
    __tablename__ = "unit_counters"


class UnitOfficerRow(_UnitEntry, Base):
    __tablename__ = "unit_officers"

    counter: Mapped[str | None] = mapped_column(String(40))


class UnitProcedureRow(_UnitEntry, Base):
    __tablename__ = "unit_procedures"

    field: Mapped[str] = mapped_column(String(40))


class UnitReasonRow(_UnitEntry, Base):
    __tablename__ = "unit_reasons"

    name_en: Mapped[str] = mapped_column(Text)
    factor: Mapped[str] = mapped_column(String(16))
    # The pictogram the unit names for it (hailong.contract.pictograms); NULL: its code's default.
    icon: Mapped[str | None] = mapped_column(String(32))


class UnitKioskRow(Base):
    """A kiosk of a unit. Its id is its MQTT user name, so it is unique across all units."""

    __tablename__ = "unit_kiosks"

    unit: Mapped[str] = mapped_column(String(40), ForeignKey("units.code"), primary_key=True)
    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    position: Mapped[int] = mapped_column(Integer)
    counter: Mapped[str | None] = mapped_column(String(40))

    __table_args__ = (Index("ux_unit_kiosks_code", "code", unique=True),)
