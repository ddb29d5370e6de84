"""The HTTP API for the unit's one-stop software: issue, register, reprint, return, look up.

Authentication is a bearer token per client system (``hailong init`` creates one for
``one-stop``). Errors are JSON ``{"detail": ...}`` with Vietnamese and English text where an
officer will read it. Personal data (citizen name, contact) can be written but is never read back.
The signed rating URL is in the answer to the issue or registration only (the one-stop software
prints it then); a lookup, reprint or return never gives it again. The token belongs to a system,
not an officer: pass ``officer`` (the officer at the one-stop software's keyboard) to a lookup or a
reprint and the hub answers only for receipts that officer issued, as the staff page does.

A token acts in one unit (:class:`hub.web.accounts.ApiClient`; default the hub's home unit, so a
token file from before units works unchanged). On a hub serving many units every endpoint works
in the token's unit: its catalogue checks the counter, officer and procedure codes, its receipts
are the only ones reached (another unit's receipt is 404, as an unknown code), and a token whose
unit the hub does not serve with counters (no catalogue; a province) is refused with 403.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field

from hailong.contract.scale import Stage
from hub.domain.paper import FormRefused, Keyer, PaperForm
from hub.receipts.desk import IssueRequest, Printed, ReceiptDesk, ReceiptView
from hub.receipts.issuing import ReceiptIssueError, UnknownReceiptError
from hub.web import paper
from hub.web.accounts import ApiClient
from hub.web.context import Ctx, HubContext

router = APIRouter(prefix="/api/v1", tags=["receipts"])
_bearer = HTTPBearer(auto_error=False)

Code = Annotated[str, Field(pattern=r"^[A-Za-z0-9._-]{1,40}$")]
# The officer a lookup or reprint is made for; absent: the system's own, every receipt.
ForOfficer = Annotated[str | None, Query(pattern=r"^[A-Za-z0-9._-]{1,40}$")]


def client(
    ctx: Ctx,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> ApiClient:
    """The calling system and the unit it acts in, from its bearer token."""
    found = ctx.tokens.client(credentials.credentials) if credentials else None
    if found is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "a valid bearer token is required",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return found


Client = Annotated[ApiClient, Depends(client)]


def unit_context(ctx: Ctx, caller: Client) -> HubContext:
    """The context of the token's unit, whose desks reach that unit's receipts only; 403 for a
    unit this hub holds no catalogue of (a unit since removed) or one without counters (a
    province: its communes' one-stop systems act with their own units' tokens), as the unit
    pages take a unit with counters of its own (:mod:`hub.web.pages`)."""
    scoped = ctx.for_unit(caller.scope(ctx.home.unit.code))
    if scoped is None or not scoped.unit.counters:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            "Mã truy cập này thuộc đơn vị không có quầy một cửa trên hub này. / "
            "This token's unit is not one this hub serves with counters.",
        )
    return scoped


UnitCtx = Annotated[HubContext, Depends(unit_context)]


def _desk(ctx: UnitCtx) -> ReceiptDesk:
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
    # Where the result is handed back (its kiosks are offered the rating); default: the officer's.
    counter: Code | None = None


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
    # In the answer to a return only: the kiosks now offering the citizen the rating.
    offered_to: list[str] | None = None


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
def issue(body: IssueIn, desk: Desk) -> ReceiptOut:
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
def register(body: RegisterIn, desk: Desk) -> ReceiptOut:
    """Sign a receipt your system already printed, so its citizen can rate it."""
    ask = IssueRequest(body.counter, body.officer, body.procedure, body.promised_on)
    try:
        return _out(desk.register(body.code, ask, print_slip=body.print), with_url=True)
    except ReceiptIssueError as exc:
        raise _bad(exc) from exc


@router.post("/receipts/{code}/reprint")
def reprint(code: str, desk: Desk, officer: ForOfficer = None) -> ReceiptOut:
    """Print the slip again (the rating URL is not given again)."""
    try:
        return _out(desk.reprint(code, issued_by=officer), with_url=False)
    except UnknownReceiptError as exc:
        raise _bad(exc) from exc


@router.post("/receipts/{code}/return")
def record_return(code: str, body: ReturnIn, desk: Desk) -> ReceiptOut:
    """The result was handed back: later ratings of this receipt are for the return stage."""
    try:
        record = desk.record_return(code, body.officer, counter=body.counter)
    except (ReceiptIssueError, UnknownReceiptError) as exc:
        raise _bad(exc) from exc
    return lookup(code, desk).model_copy(update={"offered_to": list(record.offered_to)})


@router.get("/receipts/{code}")
def lookup(code: str, desk: Desk, officer: ForOfficer = None) -> ReceiptOut:
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


class PaperFormIn(_In):
    """One paper survey form (or an assisted rating) keyed at the one-stop software: the same
    rules as the staff page (:mod:`hub.domain.paper`). The token is the system's, so the body
    names the person at its keyboard (``entered_by``, stored with the rating) and, when they are
    an officer, their officer code: the hub refuses a form of a dossier the receipt names them on.
    """

    code: Annotated[str, Field(max_length=2048)]  # the dossier code, or a scan of our QR
    filled_on: date  # the date on the form (an assisted rating: today)
    score: Annotated[int, Field(strict=True)]  # 1-5, checked by the desk
    factors: dict[str, Annotated[int, Field(strict=True)]] = Field(default_factory=dict)
    # Factors marked "không áp dụng" on the form (never also in ``factors``; checked by the desk).
    not_applicable: Annotated[tuple[Code, ...], Field(max_length=5)] = ()
    reasons: Annotated[tuple[Code, ...], Field(max_length=40)] = ()
    stage: Stage = Stage.RECEPTION
    entered_by: Code
    officer: Code | None = None
    assisted: bool = False


class PaperFormOut(BaseModel):
    rating_id: str
    code: str
    stage: Stage
    rated_at: datetime
    receipt_known: bool  # the register knows the code (else: the unit's register policy)
    counted: bool  # in the headline figures
    assisted: bool


# Refusals that are not a bad body: the dossier already rated, an officer's own dossier.
_PAPER_STATUS = {
    "already_rated": status.HTTP_409_CONFLICT,
    "own_dossier": status.HTTP_403_FORBIDDEN,
    "not_clerk": status.HTTP_403_FORBIDDEN,
}


def _keyer(ctx: Ctx, body: PaperFormIn) -> Keyer:
    """Who keys, as the hub's accounts say: the officer named (``officer``, or the officer login
    ``entered_by`` names when no code is given) keys only if a login of theirs in this unit is a
    designated paper clerk; a person who is no officer (``nhap-lieu``, a volunteer) is none."""
    named = ctx.accounts.get(body.entered_by)
    officer = body.officer or (named.officer if named and named.role == "officer" else None)
    unit, home = ctx.unit.unit.code, ctx.home.unit.code
    clerk = officer is not None and ctx.accounts.paper_clerk(officer, unit, home)
    return Keyer(body.entered_by, officer, clerk)


@router.post("/paper-forms", status_code=status.HTTP_201_CREATED, tags=["paper"])
def enter_paper_form(body: PaperFormIn, ctx: UnitCtx) -> PaperFormOut:
    """Store a paper survey form (channel ``paper``), or with ``assisted`` the answers a helper
    recorded for a citizen today. 409 when the dossier is already rated for that stage, 403 when
    ``officer`` is named on the receipt or is not a designated paper clerk, 422 for answers or
    dates out of bounds. The form is the token's unit's: a dossier of another unit is refused."""
    form = PaperForm(
        code=paper.scanned_code(body.code, ctx.unit.code_book()),
        filled_on=body.filled_on,
        score=body.score,
        factors=dict(body.factors),
        reasons=body.reasons,
        stage=body.stage.value,
        not_applicable=body.not_applicable,
    )
    keyer = _keyer(ctx, body)
    desk = paper.desk(ctx)
    try:
        if body.assisted:
            entered = desk.record_assisted(form, keyer)
        else:
            entered = desk.enter_paper_form(form, keyer)
    except FormRefused as exc:
        code = _PAPER_STATUS.get(exc.code, status.HTTP_422_UNPROCESSABLE_CONTENT)
        raise HTTPException(code, str(exc)) from exc
    ctx.rated(entered.code, entered.stage)  # the token's unit's kiosks refuse its scan now
    return PaperFormOut(
        rating_id=entered.rating_id,
        code=entered.code,
        stage=entered.stage,
        rated_at=entered.rated_at,
        receipt_known=entered.receipt_known,
        counted=entered.counted,
        assisted=entered.assisted,
    )
