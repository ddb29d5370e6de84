"""The counter officer's page: issue and print, register another system's receipt, record a
return, reprint. Built for speed at the counter: one form each, the procedure list grouped by field,
the scanner's Enter submits, and the result (or the printer's problem) shows at once.

An officer sees and reprints only the receipts they issued (the desk decides, see
:mod:`hub.receipts.desk`); the signed QR is on the screen once, on the page that answers the issue,
and never on a later view of the receipt. Logging in, out and changing one's password are here too.

The page works in the unit it is about (``?unit=``, within the login's scope:
:func:`hub.web.pages.unit_page`): an officer in their own unit only, as the officer of that unit's
catalogue; an administrator in any unit of their scope. A receipt of another unit is "not found".
"""

from __future__ import annotations

import base64
import io
import math
import threading
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Annotated
from urllib.parse import urlencode

import qrcode
from fastapi import APIRouter, Depends, Form, HTTPException, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from hailong.contract.clock import unit_time
from hailong.contract.receipt import DossierCode, ReceiptRefused
from hailong.settings import Unit
from hub.receipts.desk import IssueRequest, Printed, ReceiptView, dossier_code_of
from hub.receipts.issuing import ReceiptIssueError, UnknownReceiptError
from hub.web.accounts import Account, AccountError
from hub.web.context import Ctx, HubContext
from hub.web.pages import Here, UnitPage, check_csrf, client_address, render, signed_in

router = APIRouter(prefix="/staff", include_in_schema=False)
COUNTER_ROLES = ("officer", "admin")


def _signed(request: Request) -> Account:
    """Any live staff session, of any unit the hub serves (its own password is everyone's)."""
    account = signed_in(request, any_unit=True)
    if account is None:
        raise HTTPException(
            status.HTTP_303_SEE_OTHER, "login required", headers={"Location": "/staff/login"}
        )
    return account


Viewer = Annotated[Account, Depends(_signed)]


def _counter_page(page: Here) -> UnitPage:
    """The counter page of the page's unit, for its officers and administrators; an officer
    whose code is not in that unit's catalogue acts nowhere (403)."""
    account = page.account
    if account.role not in COUNTER_ROLES:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "this page is for counter officers")
    if account.role == "officer" and all(o.code != account.officer for o in page.unit.officers):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "this officer is not in the unit's list")
    return page


Staff = Annotated[UnitPage, Depends(_counter_page)]
FRESH_FOR = timedelta(minutes=10)


@dataclass(frozen=True)
class _Fresh:
    code: str
    url: str
    until: datetime


class FreshReceipts:
    """The signed URL of a receipt just issued, waiting for the one page view that shows its QR.

    Held by the server, per session, and taken by that view: reloading the page, opening it from
    the list later, or replaying an old cookie finds nothing, so the QR is on screen once."""

    def __init__(self, capacity: int = 1000) -> None:
        self._lock = threading.Lock()
        self._waiting: dict[str, _Fresh] = {}
        self.capacity = capacity

    def give(self, sid: str, code: str, url: str, now: datetime) -> None:
        with self._lock:
            self._waiting = {k: v for k, v in self._waiting.items() if v.until > now}
            while len(self._waiting) >= self.capacity:
                del self._waiting[next(iter(self._waiting))]
            self._waiting[sid] = _Fresh(code, url, now + FRESH_FOR)

    def take(self, sid: str, code: str, now: datetime) -> str | None:
        with self._lock:
            fresh = self._waiting.get(sid)
            if fresh is None or fresh.code != code:
                return None
            del self._waiting[sid]
            return fresh.url if fresh.until > now else None


def _scope(account: Account) -> str | None:
    """Whose receipts the account reaches: an officer their own (an officer account without a
    code reaches none), an administrator every one."""
    return (account.officer or "") if account.role == "officer" else None


@router.get("/login")
def login_page(request: Request, error: str = "", wait: int = 0) -> HTMLResponse:
    return render(request, "login.html", error=error, wait=max(1, min(wait, 24 * 60)))


@router.post("/login")
def login(
    request: Request,
    ctx: Ctx,
    username: Annotated[str, Form(max_length=40)],
    password: Annotated[str, Form(max_length=200)],
    csrf: Annotated[str, Form()],
) -> Response:
    check_csrf(request, csrf)
    now = ctx.clock()
    result = ctx.accounts.login(username, password, client_address(request), now)
    if result.account is None:
        if result.locked_until is not None:
            wait = math.ceil((result.locked_until - now).total_seconds() / 60)
            query = urlencode({"error": "locked", "wait": wait})
        else:
            query = "error=wrong"
        return RedirectResponse(f"/staff/login?{query}", status.HTTP_303_SEE_OTHER)
    account: Account = result.account
    _start_session(request, ctx, account, now)
    home = "/staff" if account.role in COUNTER_ROLES else "/dashboard"
    return RedirectResponse(home, status.HTTP_303_SEE_OTHER)


def _start_session(request: Request, ctx: HubContext, account: Account, now: datetime) -> None:
    """A new session (never the one the browser came with: no fixation), known to the server."""
    request.session.clear()
    request.session["user"] = account.username
    request.session["sid"] = ctx.accounts.open_session(account.username, now)


@router.post("/logout")
def logout(request: Request, ctx: Ctx, csrf: Annotated[str, Form()]) -> Response:
    check_csrf(request, csrf)
    sid = request.session.get("sid")
    if isinstance(sid, str):
        ctx.accounts.close_session(sid)  # a copy of the cookie dies with it
    request.session.clear()
    return RedirectResponse("/staff/login", status.HTTP_303_SEE_OTHER)


@router.get("/password")
def password_page(
    request: Request, account: Viewer, error: str = "", done: bool = False
) -> HTMLResponse:
    return render(request, "password.html", account=account, error=error, done=done)


@router.post("/password")
def change_password(
    request: Request,
    ctx: Ctx,
    account: Viewer,
    csrf: Annotated[str, Form()],
    current: Annotated[str, Form(max_length=200)],
    new: Annotated[str, Form(max_length=200)],
    again: Annotated[str, Form(max_length=200)],
) -> Response:
    """A new password ends every session of the account (other browsers, copied cookies); this
    browser gets a new one."""
    check_csrf(request, csrf)
    if new != again:
        return RedirectResponse("/staff/password?error=mismatch", status.HTTP_303_SEE_OTHER)
    try:
        changed = ctx.accounts.change_password(account.username, current, new)
    except AccountError:
        return RedirectResponse("/staff/password?error=short", status.HTTP_303_SEE_OTHER)
    if not changed:
        return RedirectResponse("/staff/password?error=wrong", status.HTTP_303_SEE_OTHER)
    _start_session(request, ctx, account, ctx.clock())
    return RedirectResponse("/staff/password?done=true", status.HTTP_303_SEE_OTHER)


@router.get("")
def desk_page(request: Request, page: Staff, message: str = "", error: str = "") -> HTMLResponse:
    ctx, account = page.ctx, page.account
    unit = ctx.unit
    officer = _officer(unit, account, None)
    counter = _counter_of(unit, officer)
    return render(
        request,
        "staff.html",
        account=account,
        officer=officer,
        counter=counter,
        recent=_recent(page, counter),
        fields={f.code: f.name for f in unit.fields},
        procedures={p.code: p.name for p in unit.procedures},
        message=message,
        error=error,
    )


@router.post("/issue")
def issue(
    request: Request,
    page: Staff,
    csrf: Annotated[str, Form()],
    procedure: Annotated[str, Form(max_length=40)],
    counter: Annotated[str, Form(max_length=40)],
    officer: Annotated[str, Form(max_length=40)] = "",
    promised_on: Annotated[str, Form(max_length=10)] = "",
    citizen_name: Annotated[str, Form(max_length=120)] = "",
    citizen_contact: Annotated[str, Form(max_length=120)] = "",
) -> Response:
    check_csrf(request, csrf)
    ctx, account = page.ctx, page.account
    ask = IssueRequest(
        counter,
        _officer(ctx.unit, account, officer),
        procedure,
        _date(promised_on),
        citizen_name,
        citizen_contact,
    )
    try:
        printed = ctx.receipts.issue(ask)
    except ReceiptIssueError as exc:
        return _back(page, error=str(exc))
    return _to_receipt(request, page, printed)


@router.post("/register")
def register(
    request: Request,
    page: Staff,
    csrf: Annotated[str, Form()],
    scanned: Annotated[str, Form(max_length=2048)],
    procedure: Annotated[str, Form(max_length=40)],
    counter: Annotated[str, Form(max_length=40)],
    officer: Annotated[str, Form(max_length=40)] = "",
    promised_on: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    check_csrf(request, csrf)
    ctx, account = page.ctx, page.account
    ask = IssueRequest(counter, _officer(ctx.unit, account, officer), procedure, _date(promised_on))
    try:
        printed = ctx.receipts.register(scanned, ask)
    except ReceiptIssueError as exc:
        return _back(page, error=str(exc))
    return _to_receipt(request, page, printed)


@router.post("/return")
def record_return(
    request: Request,
    page: Staff,
    csrf: Annotated[str, Form()],
    scanned: Annotated[str, Form(max_length=2048)],
    officer: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    check_csrf(request, csrf)
    ctx, account = page.ctx, page.account
    try:
        _of_unit(page, dossier_code_of(scanned, page.unit.code_book()))
        record = ctx.receipts.record_return(scanned, _officer(ctx.unit, account, officer))
    except (ReceiptIssueError, UnknownReceiptError) as exc:
        return _back(page, error=str(exc))
    when = unit_time(record.returned_at, ctx.unit.zone).strftime("%H:%M %d/%m/%Y")
    note = " (đã ghi trước đó / recorded before)" if record.already else ""
    if record.offered_to:
        kiosks = ", ".join(record.offered_to)
        note += f". Máy {kiosks} đang mời công dân đánh giá / {kiosks} now offers the rating"
    return _back(page, message=f"Đã trả kết quả hồ sơ {record.code} lúc {when}{note}")


@router.post("/receipts/{code}/reprint")
def reprint(request: Request, page: Staff, code: str, csrf: Annotated[str, Form()]) -> Response:
    check_csrf(request, csrf)
    try:
        _of_unit(page, code)
        printed = page.ctx.receipts.reprint(code, issued_by=_scope(page.account))
    except UnknownReceiptError as exc:
        return _back(page, error=str(exc))
    return _to_receipt(request, page, printed, fresh=False)


@router.get("/receipts/{code}")
def receipt_page(request: Request, page: Staff, code: str) -> HTMLResponse:
    """The receipt, if the account reaches it (404 for another officer's or another unit's, as
    for none); the QR only on the first view after its issue."""
    ctx, account = page.ctx, page.account
    try:
        _of_unit(page, code)
        view = ctx.receipts.view(code, issued_by=_scope(account))
    except UnknownReceiptError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no receipt {code}") from exc
    problem = request.session.pop("printer_problem", None)
    sid = request.session.get("sid")
    url = ctx.fresh_receipts.take(sid, view.code, ctx.clock()) if isinstance(sid, str) else None
    procedure = ctx.unit.procedure(view.procedure)
    return render(
        request,
        "receipt.html",
        account=account,
        row=view,
        procedure_name=procedure.name if procedure else view.procedure,
        qr=_qr_data_uri(url) if url else None,
        problem=problem,
    )


def _ours(page: UnitPage, code: str) -> bool:
    """Whether dossier ``code`` is the page's unit's (read with its own spellings too)."""
    try:
        return DossierCode.parse(code, page.unit.code_book()).unit == page.code
    except (ReceiptRefused, ValueError):
        return False


def _of_unit(page: UnitPage, code: str) -> None:
    """Refuse (as unknown) a dossier code that is not the page's unit's: the register is the
    province's, and an officer code may be the same in two units."""
    if not _ours(page, code):
        raise UnknownReceiptError(f"no receipt {code} in the register")


def _to_receipt(
    request: Request, page: UnitPage, printed: Printed, *, fresh: bool = True
) -> Response:
    """Show the receipt; a printer problem travels there in the session (a flash message), and a
    receipt just issued or registered leaves its URL for the one view that shows its QR."""
    ctx = page.ctx
    sid = request.session.get("sid")
    if fresh and isinstance(sid, str):
        ctx.fresh_receipts.give(sid, str(printed.receipt.code), printed.receipt.url, ctx.clock())
    if printed.error is not None:
        request.session["printer_problem"] = [printed.error.message_vi, printed.error.message_en]
    elif printed.printer is None:
        request.session["printer_problem"] = [
            "Quầy này chưa có máy in. Giấy hẹn đã được lưu.",
            "This counter has no printer. The receipt is kept.",
        ]
    where = page.link(f"/staff/receipts/{printed.receipt.code}")
    return RedirectResponse(where, status.HTTP_303_SEE_OTHER)


def _back(page: UnitPage, *, message: str = "", error: str = "") -> Response:
    query = urlencode({k: v for k, v in (("message", message), ("error", error)) if v})
    return RedirectResponse(page.link(f"/staff?{query}"), status.HTTP_303_SEE_OTHER)


def _officer(unit: Unit, account: Account, chosen: str | None) -> str:
    """Officers act as themselves; an admin may act for the officer chosen in the form."""
    if account.role == "officer" and account.officer:
        return account.officer
    if chosen:
        return chosen
    return unit.officers[0].code


def _counter_of(unit: Unit, officer: str) -> str:
    for entry in unit.officers:
        if entry.code == officer and entry.counter:
            return entry.counter
    return unit.counters[0].code


def _date(text: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_ENTITY, "promised date: YYYY-MM-DD"
        ) from exc


def _recent(page: UnitPage, counter: str) -> list[ReceiptView]:
    """An officer's own receipts of the last day; an administrator's view is the counter's; of
    the page's unit only (counter and officer codes repeat across a province's units)."""
    ctx = page.ctx
    since = ctx.clock() - timedelta(days=1)
    scope = _scope(page.account)
    found = ctx.receipts.recent(since, issued_by=scope, counter=counter if scope is None else None)
    return [row for row in found if _ours(page, row.code)]


def _qr_data_uri(url: str) -> str:
    image = qrcode.make(url, box_size=6, border=2)
    buffer = io.BytesIO()
    image.save(buffer)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()
