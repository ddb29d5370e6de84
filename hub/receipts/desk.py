"""The counter desk: the one code path behind the CLI, the staff page and the HTTP API.

Each action writes the register first and prints second. A printer that fails (paper out, cover
open, offline) never loses a receipt: the result says what went wrong, in Vietnamese and English,
and the receipt stays in the register unprinted until it is reprinted.

Officer scope is decided here, once for every caller: given ``issued_by`` (an officer's code),
:meth:`ReceiptDesk.view`, :meth:`ReceiptDesk.reprint` and :meth:`ReceiptDesk.recent` reach only the
receipts that officer issued, and another officer's code answers exactly as a code that does not
exist, so codes cannot be probed. The signed rating URL leaves the desk once, in the result of
:meth:`issue` or :meth:`register`; a later :class:`ReceiptView` never carries it, and carries the
citizen's name and contact only for the officer who issued the receipt. Without ``issued_by``
(an administrator, the command line, the one-stop software's token) every receipt is reachable,
still without the URL or personal data.

Unit scope is decided here too: a desk is built on one unit, and on a hub serving many units
(a province) it reaches only that unit's receipts. Officer codes such as CB001 repeat across
units, so another unit's receipt answers exactly as an unknown code, to every caller (the staff
page, a unit's API token, the command line with ``--unit``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from hailong.contract.dossier_codes import CodeBook
from hailong.contract.receipt import ReceiptRefused, SignedReceipt, TypedCode, parse_scan
from hailong.contract.return_offer import DEFAULT_OFFER_SECONDS
from hailong.settings import HubSettings, Unit
from hub.receipts.issuing import (
    IssuedReceipt,
    ReceiptIssueError,
    ReturnRecord,
    UnknownReceiptError,
    issue_receipt,
    load_issued,
    mark_returned,
    register_receipt,
)
from hub.receipts.printer import PrinterError, print_receipt
from hub.store.models import ReceiptRow
from hub.store.return_offers import rated_at_return, record_offer


@dataclass(frozen=True)
class Printed:
    """The outcome of one print: ``error`` is None when the slip came out."""

    receipt: IssuedReceipt
    printer: str | None  # the counter whose printer was used; None when it has no printer
    error: PrinterError | None = None

    @property
    def ok(self) -> bool:
        return self.printer is not None and self.error is None


@dataclass(frozen=True)
class IssueRequest:
    counter: str
    officer: str
    procedure: str
    promised_on: date | None = None
    citizen_name: str | None = None
    citizen_contact: str | None = None


@dataclass(frozen=True)
class ReceiptView:
    """A receipt looked up after its issue: never the signed URL; the citizen's name and contact
    only for the officer who issued it (None otherwise)."""

    code: str
    procedure: str
    counter: str
    officer: str
    issued_at: datetime
    promised_on: date | None
    printed: bool
    origin: str
    returned_at: datetime | None
    returned_by: str | None
    citizen_name: str | None = None
    citizen_contact: str | None = None


def _view(row: ReceiptRow, issued_by: str | None) -> ReceiptView:
    personal = issued_by is not None and row.officer == issued_by
    return ReceiptView(
        row.dossier_code,
        row.procedure,
        row.counter,
        row.officer,
        row.issued_at,
        row.promised_on,
        row.printed,
        row.origin,
        row.returned_at,
        row.returned_by,
        row.citizen_name if personal else None,
        row.citizen_contact if personal else None,
    )


class ReceiptDesk:
    def __init__(
        self,
        settings: HubSettings,
        unit: Unit,
        sessions: sessionmaker[Session],
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.settings, self.unit, self.sessions, self.clock = settings, unit, sessions, clock

    def issue(self, request: IssueRequest, *, print_slip: bool = True) -> Printed:
        issued = issue_receipt(
            self.sessions,
            self.unit,
            self.settings.receipts.keyring(),
            self.settings.hub.public_base_url,
            counter=request.counter,
            officer=request.officer,
            procedure=request.procedure,
            now=self.clock(),
            promised_on=request.promised_on,
            citizen_name=request.citizen_name,
            citizen_contact=request.citizen_contact,
        )
        return self._print(issued) if print_slip else Printed(issued, None)

    def register(self, scanned: str, request: IssueRequest, *, print_slip: bool = True) -> Printed:
        """Sign another system's receipt (its dossier code, typed or scanned) and print our QR."""
        try:
            code = dossier_code_of(scanned, self.unit.code_book())
        except ReceiptIssueError:
            if "/r/" in scanned:
                raise
            code = scanned  # refused below, naming the patterns the unit accepts
        issued = register_receipt(
            self.sessions,
            self.unit,
            self.settings.receipts.keyring(),
            self.settings.hub.public_base_url,
            code=code,
            counter=request.counter,
            officer=request.officer,
            procedure=request.procedure,
            now=self.clock(),
            promised_on=request.promised_on,
        )
        return self._print(issued) if print_slip else Printed(issued, None)

    def reprint(self, code: str, *, issued_by: str | None = None) -> Printed:
        """Print the slip again; with ``issued_by``, only a receipt that officer issued."""
        issued = load_issued(self.sessions, code, self.unit.code_book(), unit=self._code)
        if issued is None or (issued_by is not None and issued.claims.officer != issued_by):
            raise UnknownReceiptError(f"no receipt {code} in the register")
        return self._print(issued)

    def view(self, code: str, *, issued_by: str | None = None) -> ReceiptView:
        """The receipt as its page shows it later; with ``issued_by``, only that officer's."""
        with self.sessions() as session:
            row = session.scalars(
                select(ReceiptRow).where(
                    ReceiptRow.dossier_code == code, ReceiptRow.unit == self._code
                )
            ).first()
        if row is None or (issued_by is not None and row.officer != issued_by):
            raise UnknownReceiptError(f"no receipt {code} in the register")
        return _view(row, issued_by)

    def recent(
        self,
        since: datetime,
        *,
        issued_by: str | None = None,
        counter: str | None = None,
        limit: int = 20,
    ) -> list[ReceiptView]:
        """The newest receipts of the desk's unit since ``since``: an officer's own, or a
        counter's (admins)."""
        query = select(ReceiptRow).where(
            ReceiptRow.unit == self._code, ReceiptRow.issued_at >= since
        )
        if issued_by is not None:
            query = query.where(ReceiptRow.officer == issued_by)
        if counter is not None:
            query = query.where(ReceiptRow.counter == counter)
        with self.sessions() as session:
            rows = session.scalars(query.order_by(ReceiptRow.issued_at.desc()).limit(limit))
            # Lists never show personal data, even the officer's own.
            return [_view(row, None) for row in rows]

    def record_return(
        self, scanned: str, officer: str, *, counter: str | None = None
    ) -> ReturnRecord:
        """The officer scans the receipt when handing back the result; the kiosks of the counter
        (``counter``, else the officer's own) are offered the dossier's rating at once, so a
        citizen whose slip the officer keeps can still rate (docs/return-offers.md).

        A second record of the same return offers it again (the citizen may have missed the
        first); a dossier whose return the hub already holds a rating for is not offered. The
        offer names the dossier, never a score: the citizen's tap on the kiosk makes the rating.
        """
        if counter is None:
            counter = next((o.counter for o in self.unit.officers if o.code == officer), None)
        elif counter not in {c.code for c in self.unit.counters}:
            raise ReceiptIssueError(f"Không có quầy {counter!r} / unknown counter {counter!r}")
        now = self.clock()
        record = mark_returned(
            self.sessions,
            self.unit,
            dossier_code_of(scanned, self.unit.code_book()),
            officer=officer,
            now=now,
        )
        return replace(record, offered_to=self._offer(record.code, officer, counter, now))

    def _offer(
        self, code: str, officer: str, counter: str | None, now: datetime
    ) -> tuple[str, ...]:
        kiosks = tuple(k.id for k in self.unit.kiosks if counter and k.counter == counter)
        if counter is None or not kiosks:
            return ()
        with self.sessions.begin() as session:
            if rated_at_return(session, self._code, code):
                return ()
            record_offer(
                session,
                unit=self._code,
                code=code,
                counter=counter,
                officer=officer,
                now=now,
                lifetime=timedelta(seconds=DEFAULT_OFFER_SECONDS),
            )
        return kiosks

    @property
    def _code(self) -> str:
        """The desk's unit code: the one unit whose receipts it reaches."""
        return self.unit.unit.code

    def _print(self, issued: IssuedReceipt) -> Printed:
        counter = issued.claims.counter
        printer = self.settings.printers.get(counter)
        if printer is None:
            return Printed(issued, None)
        try:
            print_receipt(issued, self.unit, printer, sessions=self.sessions)
        except PrinterError as exc:
            return Printed(issued, counter, exc)
        return Printed(issued, counter)


def dossier_code_of(scanned: str, book: CodeBook | None = None) -> str:
    """The dossier code in a scan: our QR URL (signature not needed: the register is here) or a
    bare code, e.g. from another system's slip, in the national spelling or one of the unit's
    own (``book``)."""
    try:
        parsed: SignedReceipt | TypedCode = parse_scan(scanned, book)
    except ReceiptRefused as exc:
        raise ReceiptIssueError(f"{exc.message_vi} / {exc.message_en}") from exc
    return str(parsed.claims.code if isinstance(parsed, SignedReceipt) else parsed.code)
