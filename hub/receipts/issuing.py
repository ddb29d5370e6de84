"""The receipt register: issue (allocate, sign, store), register another system's receipt, and
record the return of the result.

The dossier code is ``<unit>-<yymmdd>-<sequence>`` with a per-unit, per-day sequence kept in
``dossier_sequences``. Allocation and the receipt row are written in one transaction, so a code is
never handed out without being in the register, and two officers issuing at the same second never
get the same code: the sequence row is bumped with ``UPDATE ... SET last = last + 1 RETURNING``,
which takes the row's write lock (SQLite serialises writers; PostgreSQL locks the row), and the
first receipt of a day inserts the row, retrying if a concurrent first receipt won the insert.

The reception day is the hub's *local* date: a slip received at 06:30 in Hà Nội belongs to that
day even though it is still the previous day in UTC. The register stores ``issued_at`` in UTC.

Every receipt added here is also counted as issued in the coverage rollups, in the same
transaction, by the ORM's ``before_insert`` on ``ReceiptRow``
(:func:`hub.store.coverage.count_receipt`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo
from typing import Any, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from hailong.contract.clock import UNIT_ZONE, unit_time
from hailong.contract.dossier_codes import NATIONAL_TEMPLATE, CodeBook
from hailong.contract.receipt import DossierCode, KeyRing, ReceiptClaims, ReceiptRefused, sign
from hailong.settings import Unit
from hub.store.coverage import use_zone
from hub.store.models import DossierSequenceRow, ReceiptRow

MAX_SEQUENCE = 999_999  # the code format allows up to six digits per day
_INSERT_ATTEMPTS = 5


class ReceiptIssueError(ValueError):
    """A receipt that cannot be issued; the message names the bad value and what is valid."""


class UnknownReceiptError(LookupError):
    """A dossier code that is not in this hub's receipt register."""


@dataclass(frozen=True)
class IssuedReceipt:
    """A receipt as issued: what the signature vouches for, and what the slip shows."""

    claims: ReceiptClaims
    key_id: str
    url: str
    issued_at: datetime
    promised_on: date | None = None
    citizen_name: str | None = None
    citizen_contact: str | None = None
    origin: str = "issued"  # or "registered": another system's code, signed here

    @property
    def code(self) -> DossierCode:
        return self.claims.code


def issue_receipt(
    sessions: sessionmaker[Session],
    unit: Unit,
    keyring: KeyRing,
    base_url: str,
    *,
    counter: str,
    officer: str,
    procedure: str,
    now: datetime,
    promised_on: date | None = None,
    citizen_name: str | None = None,
    citizen_contact: str | None = None,
) -> IssuedReceipt:
    """Allocate the next dossier code for today, sign it and store it (not yet printed).

    ``now`` may be aware (any zone) or naive (UTC); the code carries the unit's day then.
    """
    check_attribution(unit, counter=counter, officer=officer, procedure=procedure)
    issued_at = unit_time(now, unit.zone)
    day = issued_at.date()
    _check_promise(promised_on, day)
    citizen = _citizen(citizen_name, citizen_contact)
    for attempt in range(_INSERT_ATTEMPTS):
        try:
            with sessions.begin() as session:
                sequence = _next_sequence(session, unit.unit.code, day)
                claims = ReceiptClaims(
                    DossierCode(unit.unit.code, day, sequence), procedure, counter, officer
                )
                signed = sign(claims, keyring)
                issued = IssuedReceipt(
                    claims, signed.key_id, signed.url(base_url), issued_at, promised_on, *citizen
                )
                use_zone(session, unit.unit.code, unit.zone)  # coverage's issue day
                session.add(_to_row(issued))
            return issued
        except IntegrityError:
            # Only the first receipt of a day can collide (two inserts of the sequence row).
            if attempt == _INSERT_ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def register_receipt(
    sessions: sessionmaker[Session],
    unit: Unit,
    keyring: KeyRing,
    base_url: str,
    *,
    code: str,
    counter: str,
    officer: str,
    procedure: str,
    now: datetime,
    promised_on: date | None = None,
) -> IssuedReceipt:
    """Sign a receipt another system printed, so its citizen can rate the real dossier.

    The code must be this unit's in the national spelling or one of the unit's own patterns
    (``[receipt_codes] external_patterns``), dated no later than today on the unit's clock. A
    national code raises the day's sequence past it, so a code this hub issues later never
    collides with a registered one; another spelling is another system's numbering and leaves
    the hub's alone.
    """
    check_attribution(unit, counter=counter, officer=officer, procedure=procedure)
    dossier = _external_code(unit, code)
    if dossier.unit != unit.unit.code:
        raise ReceiptIssueError(
            f"Mã hồ sơ {dossier} thuộc đơn vị {dossier.unit}, không phải {unit.unit.code}. / "
            f"{dossier} belongs to unit {dossier.unit}, not {unit.unit.code}"
        )
    today = unit_time(now, unit.zone).date()
    if dossier.received_on > today:
        raise ReceiptIssueError(
            f"Mã hồ sơ {dossier} mang ngày {dossier.received_on:%d/%m/%Y}, sau hôm nay "
            f"({today:%d/%m/%Y}). / {dossier} is dated {dossier.received_on:%d/%m/%Y}, "
            f"after today ({today:%d/%m/%Y})"
        )
    _check_promise(promised_on, dossier.received_on)
    claims = ReceiptClaims(dossier, procedure, counter, officer)
    signed = sign(claims, keyring)
    issued = IssuedReceipt(
        claims, signed.key_id, signed.url(base_url), unit_time(now, unit.zone), promised_on,
        origin="registered",
    )  # fmt: skip
    try:
        with sessions.begin() as session:
            if session.get(ReceiptRow, str(dossier)) is not None:
                raise ReceiptIssueError(f"{dossier} is already in the register")
            if dossier.national:
                _raise_sequence(session, dossier)
            use_zone(session, unit.unit.code, unit.zone)  # coverage's issue day
            session.add(_to_row(issued))
    except IntegrityError as exc:  # registered concurrently by another officer
        raise ReceiptIssueError(f"{dossier} is already in the register") from exc
    return issued


@dataclass(frozen=True)
class ReturnRecord:
    code: str
    returned_at: datetime
    returned_by: str
    already: bool  # the return had been recorded before (a second scan changes nothing)
    # The kiosks offered this dossier's rating now (hub.store.return_offers): the counter's; none
    # when it has no kiosk or the dossier's return is already rated.
    offered_to: tuple[str, ...] = ()


def mark_returned(
    sessions: sessionmaker[Session], unit: Unit, code: str, *, officer: str, now: datetime
) -> ReturnRecord:
    """Record that the result was handed back: later ratings of this receipt are for the return.

    Only a receipt of ``unit``: on a hub serving many units another unit's receipt answers as a
    code that does not exist (its officers' codes may repeat here, and nothing should leak)."""
    _require("officer", officer, [o.code for o in unit.officers])
    with sessions.begin() as session:
        row = session.get(ReceiptRow, code)
        if row is None or row.unit != unit.unit.code:
            raise UnknownReceiptError(f"no receipt {code} in the register")
        if row.returned_at is not None and row.returned_by is not None:
            return ReturnRecord(code, row.returned_at, row.returned_by, already=True)
        row.returned_at = now.astimezone(UTC)
        row.returned_by = officer
        row.return_announced = False
        return ReturnRecord(code, row.returned_at, officer, already=False)


def _external_code(unit: Unit, code: str) -> DossierCode:
    """``code`` read with the unit's patterns, or an error listing the spellings it accepts."""
    book = unit.code_book()
    try:
        return DossierCode.parse(code.strip().upper(), book)
    except ReceiptRefused as exc:
        accepted = ", ".join((NATIONAL_TEMPLATE, *book.templates))
        shown = code.strip()[:60]
        raise ReceiptIssueError(
            f"Mã hồ sơ {shown!r} không đúng mẫu mã hồ sơ đơn vị chấp nhận ({accepted}). / "
            f"{shown!r} is not a dossier code in a pattern this unit accepts ({accepted}): "
            f"{exc.message_en}"
        ) from exc


def _check_promise(promised_on: date | None, day: date) -> None:
    if promised_on is not None and promised_on < day:
        raise ReceiptIssueError(
            f"promised date {promised_on:%d/%m/%Y} is before the reception date {day:%d/%m/%Y}"
        )


def _citizen(name: str | None, contact: str | None) -> tuple[str | None, str | None]:
    """Optional personal data, trimmed and bounded; empty means absent."""
    clean = [(value or "").strip()[:120] or None for value in (name, contact)]
    return clean[0], clean[1]


def _raise_sequence(session: Session, dossier: DossierCode) -> None:
    row = session.get(DossierSequenceRow, (dossier.unit, dossier.received_on))
    if row is None:
        session.add(
            DossierSequenceRow(unit=dossier.unit, day=dossier.received_on, last=dossier.sequence)
        )
    elif row.last < dossier.sequence:
        row.last = dossier.sequence


def check_attribution(unit: Unit, *, counter: str, officer: str, procedure: str) -> None:
    """Refuse codes that are not in the unit catalogue, listing the valid ones."""
    _require("counter", counter, [c.code for c in unit.counters])
    _require("officer", officer, [o.code for o in unit.officers])
    _require("procedure", procedure, [p.code for p in unit.procedures])


def _require(what: str, value: str, valid: list[str]) -> None:
    if value not in valid:
        raise ReceiptIssueError(
            f"unknown {what} {value!r} for this unit; valid {what}s: {', '.join(valid)}"
        )


def _next_sequence(session: Session, unit_code: str, day: date) -> int:
    """Bump and return the day's sequence inside the caller's transaction."""
    bumped = session.execute(
        update(DossierSequenceRow)
        .where(DossierSequenceRow.unit == unit_code, DossierSequenceRow.day == day)
        .values(last=DossierSequenceRow.last + 1)
        .returning(DossierSequenceRow.last)
    ).scalar_one_or_none()
    if bumped is None:
        session.add(DossierSequenceRow(unit=unit_code, day=day, last=1))
        session.flush()  # surfaces a concurrent first insert as IntegrityError now
        return 1
    if bumped > MAX_SEQUENCE:
        raise ReceiptIssueError(f"more than {MAX_SEQUENCE} receipts on {day:%d/%m/%Y}")
    return int(bumped)


def _to_row(issued: IssuedReceipt) -> ReceiptRow:
    claims = issued.claims
    return ReceiptRow(
        dossier_code=str(claims.code),
        unit=claims.code.unit,
        procedure=claims.procedure,
        counter=claims.counter,
        officer=claims.officer,
        key_id=issued.key_id,
        url=issued.url,
        issued_at=issued.issued_at.astimezone(UTC),
        promised_on=issued.promised_on,
        printed=False,
        origin=issued.origin,
        citizen_name=issued.citizen_name,
        citizen_contact=issued.citizen_contact,
    )


def mark_printed(sessions: sessionmaker[Session], code: DossierCode | str) -> None:
    """Record that the slip came out of the printer, so it is not offered for reprint."""
    with sessions.begin() as session:
        result = session.execute(
            update(ReceiptRow).where(ReceiptRow.dossier_code == str(code)).values(printed=True)
        )
        if cast("CursorResult[Any]", result).rowcount == 0:
            raise UnknownReceiptError(f"no receipt {code} in the register")


def require_registered(sessions: sessionmaker[Session], claims: ReceiptClaims, key_id: str) -> None:
    """Refuse an old HMAC receipt unless the register holds it as signed.

    Every kiosk held the HMAC key, so a stolen kiosk could have minted HMAC receipts that pass
    the MAC. During the grace period the hub therefore takes one only if it issued it: the same
    code, procedure, counter, officer and key id in its register.
    """
    with sessions() as session:
        row = session.get(ReceiptRow, str(claims.code))
    registered = row is not None and (
        (row.procedure, row.counter, row.officer, row.key_id)
        == (claims.procedure, claims.counter, claims.officer, key_id)
    )
    if not registered:
        raise ReceiptRefused("bad_signature", f"HMAC receipt {claims.code} is not in the register")


def load_issued(
    sessions: sessionmaker[Session],
    code: DossierCode | str,
    book: CodeBook | None = None,
    *,
    unit: str | None = None,
    zone: tzinfo = UNIT_ZONE,
) -> IssuedReceipt | None:
    """Rebuild an issued receipt from the register, e.g. to reprint a slip that failed; a code
    registered in one of the unit's own patterns needs the unit's ``book`` to be read back. With
    ``unit`` (a unit code), None for another unit's receipt, as for an unknown code. The time of
    issue is given on the unit's clock, ``zone``, as the slip prints it."""
    query = select(ReceiptRow).where(ReceiptRow.dossier_code == str(code))
    if unit is not None:
        query = query.where(ReceiptRow.unit == unit)
    with sessions() as session:
        row = session.scalars(query).first()
    if row is None:
        return None
    claims = ReceiptClaims(
        DossierCode.parse(row.dossier_code, book), row.procedure, row.counter, row.officer
    )
    return IssuedReceipt(
        claims,
        row.key_id,
        row.url,
        unit_time(row.issued_at, zone),
        row.promised_on,
        row.citizen_name,
        row.citizen_contact,
        row.origin,
    )
