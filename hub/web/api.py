"""The HTTP API for the unit's one-stop software: issue, register, reprint, return, look up.

Authentication is a bearer token per client system (``hailong init`` creates one for
``one-stop``). Errors are JSON ``{"detail": ...}`` with Vietnamese and English text where an
officer will read it. Personal data (citizen name, contact) can be written but is never read back.
The signed rating URL is in the answer to the issue or registration only (the one-stop software
prints it then); a lookup, reprint or return never gives it again. The token belongs to a system,
not an officer: pass ``officer`` (the officer at the one-stop software's keyboard) to a lookup or a
reprint and the hub answers only for receipts that officer issued, as the staff page does.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field

from hub.receipts.desk import IssueRequest, Printed, ReceiptDesk, ReceiptView
from hub.receipts.issuing import ReceiptIssueError, UnknownReceiptError
from hub.web.context import Ctx

router = APIRouter(prefix="/api/v1", tags=["receipts"])
_bearer = HTTPBearer(auto_error=False)

Code = Annotated[str, Field(pattern=r"^[A-Za-z0-9._-]{1,40}$")]
# The officer a lookup or reprint is made for; absent: the system's own, every receipt.
ForOfficer = Annotated[str | None, Query(pattern=r"^[A-Za-z0-9._-]{1,40}$")]


def client(
    ctx: Ctx,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> str:
    """The calling system's name, from its bearer token."""
    name = ctx.tokens.check(credentials.credentials) if credentials else None
    if name is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "a valid bearer token is required",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return str(name)


Client = Annotated[str, Depends(client)]


def _desk(ctx: Ctx) -> ReceiptDesk:
    return ctx.receipts


Desk = Annotated[ReceiptDesk, Depends(_desk)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class IssueIn(_In):
    counter: Code
    officer: Code
    procedure: Code
    promised_on: date | None = None
    citizen_name: Annotated[str, Field(max_length=120)] | None = None
    citizen_contact: Annotated[str, Field(max_length=120)] | None = None
    print: bool = True


class RegisterIn(_In):
    code: Annotated[str, Field(max_length=2048)]  # the dossier code, or a scan of our QR
    counter: Code
    officer: Code
    procedure: Code
    promised_on: date | None = None
    print: bool = True


class ReturnIn(_In):
    officer: Code


class PrinterProblem(BaseModel):
    vi: str
    en: str


class ReceiptOut(BaseModel):
    code: str
    url: str | None = None  # the signed rating URL: in the answer to an issue or registration only
    procedure: str
    counter: str
    officer: str
    issued_at: datetime
    promised_on: date | None
    origin: str
    printed: bool
    printer_error: PrinterProblem | None = None
    returned_at: datetime | None = None
    returned_by: str | None = None


def _out(printed: Printed, *, with_url: bool) -> ReceiptOut:
    receipt = printed.receipt
    error = printed.error
    return ReceiptOut(
        code=str(receipt.code),
        url=receipt.url if with_url else None,
        procedure=receipt.claims.procedure,
        counter=receipt.claims.counter,
        officer=receipt.claims.officer,
        issued_at=receipt.issued_at,
        promised_on=receipt.promised_on,
        origin=receipt.origin,
        printed=printed.ok,
        printer_error=PrinterProblem(vi=error.message_vi, en=error.message_en) if error else None,
    )


def _bad(exc: Exception) -> HTTPException:
    if isinstance(exc, UnknownReceiptError):
        return HTTPException(status.HTTP_404_NOT_FOUND, str(exc))
    return HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc))


@router.post("/receipts", status_code=status.HTTP_201_CREATED)
def issue(body: IssueIn, desk: Desk, _client: Client) -> ReceiptOut:
    """Issue a receipt (and print it on the counter's printer unless ``print`` is false)."""
    ask = IssueRequest(
        body.counter,
        body.officer,
        body.procedure,
        body.promised_on,
        body.citizen_name,
        body.citizen_contact,
    )
    try:
        return _out(desk.issue(ask, print_slip=body.print), with_url=True)
    except ReceiptIssueError as exc:
        raise _bad(exc) from exc


@router.post("/receipts/register", status_code=status.HTTP_201_CREATED)
def register(body: RegisterIn, desk: Desk, _client: Client) -> ReceiptOut:
    """Sign a receipt your system already printed, so its citizen can rate it."""
    ask = IssueRequest(body.counter, body.officer, body.procedure, body.promised_on)
    try:
        return _out(desk.register(body.code, ask, print_slip=body.print), with_url=True)
    except ReceiptIssueError as exc:
        raise _bad(exc) from exc


@router.post("/receipts/{code}/reprint")
def reprint(code: str, desk: Desk, _client: Client, officer: ForOfficer = None) -> ReceiptOut:
    """Print the slip again (the rating URL is not given again)."""
    try:
        return _out(desk.reprint(code, issued_by=officer), with_url=False)
    except UnknownReceiptError as exc:
        raise _bad(exc) from exc


@router.post("/receipts/{code}/return")
def record_return(code: str, body: ReturnIn, desk: Desk, _client: Client) -> ReceiptOut:
    """The result was handed back: later ratings of this receipt are for the return stage."""
    try:
        desk.record_return(code, body.officer)
    except (ReceiptIssueError, UnknownReceiptError) as exc:
        raise _bad(exc) from exc
    return lookup(code, desk, _client)


@router.get("/receipts/{code}")
def lookup(code: str, desk: Desk, _client: Client, officer: ForOfficer = None) -> ReceiptOut:
    """The receipt as the register has it: no rating URL, no personal data."""
    try:
        view = desk.view(code, issued_by=officer)
    except UnknownReceiptError as exc:
        raise _bad(exc) from exc
    return _view_out(view)


def _view_out(view: ReceiptView) -> ReceiptOut:
    return ReceiptOut(
        code=view.code,
        procedure=view.procedure,
        counter=view.counter,
        officer=view.officer,
        issued_at=view.issued_at,
        promised_on=view.promised_on,
        origin=view.origin,
        printed=view.printed,
        returned_at=view.returned_at,
        returned_by=view.returned_by,
    )
