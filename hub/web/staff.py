"""The counter officer's page: issue and print, register another system's receipt, record a
return, reprint. Built for speed at the counter: one form each, the procedure list grouped by field,
the scanner's Enter submits, and the result (or the printer's problem) shows at once."""

from __future__ import annotations

import base64
import io
from datetime import date, timedelta
from typing import Annotated
from urllib.parse import urlencode

import qrcode
from fastapi import APIRouter, Depends, Form, HTTPException, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from hailong.settings import Unit
from hub.receipts.desk import IssueRequest, Printed, ReceiptDesk
from hub.receipts.issuing import ReceiptIssueError, UnknownReceiptError
from hub.store.models import ReceiptRow
from hub.web.accounts import Account
from hub.web.pages import check_csrf, render

router = APIRouter(prefix="/staff", include_in_schema=False)
COUNTER_ROLES = ("officer", "admin")


def _account(request: Request) -> Account:
    username = request.session.get("user")
    account = request.app.state.accounts.get(username) if username else None
    if account is None:
        raise HTTPException(
            status.HTTP_303_SEE_OTHER, "login required", headers={"Location": "/staff/login"}
        )
    if account.role not in COUNTER_ROLES:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "this page is for counter officers")
    return account  # type: ignore[no-any-return]


Staff = Annotated[Account, Depends(_account)]


def _desk(request: Request) -> ReceiptDesk:
    desk: ReceiptDesk = request.app.state.desk
    return desk


@router.get("/login")
def login_page(request: Request, error: str = "") -> HTMLResponse:
    return render(request, "login.html", error=error)


@router.post("/login")
def login(
    request: Request,
    username: Annotated[str, Form(max_length=40)],
    password: Annotated[str, Form(max_length=200)],
    csrf: Annotated[str, Form()],
) -> Response:
    check_csrf(request, csrf)
    now = request.app.state.clock()
    account = request.app.state.accounts.login(username, password, now)
    if account is None:
        locked = request.app.state.accounts.locked(username, now)
        reason = "locked" if locked else "wrong"
        return RedirectResponse(f"/staff/login?error={reason}", status.HTTP_303_SEE_OTHER)
    request.session.clear()
    request.session["user"] = account.username
    home = "/staff" if account.role in COUNTER_ROLES else "/dashboard"
    return RedirectResponse(home, status.HTTP_303_SEE_OTHER)


@router.post("/logout")
def logout(request: Request, csrf: Annotated[str, Form()]) -> Response:
    check_csrf(request, csrf)
    request.session.clear()
    return RedirectResponse("/staff/login", status.HTTP_303_SEE_OTHER)


@router.get("")
def desk_page(request: Request, account: Staff, message: str = "", error: str = "") -> HTMLResponse:
    unit: Unit = request.app.state.unit
    officer = _officer(unit, account, None)
    counter = _counter_of(unit, officer)
    return render(
        request,
        "staff.html",
        account=account,
        officer=officer,
        counter=counter,
        recent=_recent(request, counter),
        fields={f.code: f.name for f in unit.fields},
        procedures={p.code: p.name for p in unit.procedures},
        message=message,
        error=error,
    )


@router.post("/issue")
def issue(
    request: Request,
    account: Staff,
    csrf: Annotated[str, Form()],
    procedure: Annotated[str, Form(max_length=40)],
    counter: Annotated[str, Form(max_length=40)],
    officer: Annotated[str, Form(max_length=40)] = "",
    promised_on: Annotated[str, Form(max_length=10)] = "",
    citizen_name: Annotated[str, Form(max_length=120)] = "",
    citizen_contact: Annotated[str, Form(max_length=120)] = "",
) -> Response:
    check_csrf(request, csrf)
    unit: Unit = request.app.state.unit
    ask = IssueRequest(
        counter,
        _officer(unit, account, officer),
        procedure,
        _date(promised_on),
        citizen_name,
        citizen_contact,
    )
    try:
        printed = _desk(request).issue(ask)
    except ReceiptIssueError as exc:
        return _back(error=str(exc))
    return _to_receipt(request, printed)


@router.post("/register")
def register(
    request: Request,
    account: Staff,
    csrf: Annotated[str, Form()],
    scanned: Annotated[str, Form(max_length=2048)],
    procedure: Annotated[str, Form(max_length=40)],
    counter: Annotated[str, Form(max_length=40)],
    officer: Annotated[str, Form(max_length=40)] = "",
    promised_on: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    check_csrf(request, csrf)
    unit: Unit = request.app.state.unit
    ask = IssueRequest(counter, _officer(unit, account, officer), procedure, _date(promised_on))
    try:
        printed = _desk(request).register(scanned, ask)
    except ReceiptIssueError as exc:
        return _back(error=str(exc))
    return _to_receipt(request, printed)


@router.post("/return")
def record_return(
    request: Request,
    account: Staff,
    csrf: Annotated[str, Form()],
    scanned: Annotated[str, Form(max_length=2048)],
    officer: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    check_csrf(request, csrf)
    unit: Unit = request.app.state.unit
    try:
        record = _desk(request).record_return(scanned, _officer(unit, account, officer))
    except (ReceiptIssueError, UnknownReceiptError) as exc:
        return _back(error=str(exc))
    when = record.returned_at.astimezone().strftime("%H:%M %d/%m/%Y")
    note = " (đã ghi trước đó / recorded before)" if record.already else ""
    return _back(message=f"Đã trả kết quả hồ sơ {record.code} lúc {when}{note}")


@router.post("/receipts/{code}/reprint")
def reprint(request: Request, account: Staff, code: str, csrf: Annotated[str, Form()]) -> Response:
    check_csrf(request, csrf)
    try:
        printed = _desk(request).reprint(code)
    except UnknownReceiptError as exc:
        return _back(error=str(exc))
    return _to_receipt(request, printed)


@router.get("/receipts/{code}")
def receipt_page(request: Request, account: Staff, code: str) -> HTMLResponse:
    with request.app.state.sessions() as session:
        row = session.scalars(select(ReceiptRow).where(ReceiptRow.dossier_code == code)).first()
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no receipt {code}")
    problem = request.session.pop("printer_problem", None)
    unit: Unit = request.app.state.unit
    procedure = unit.procedure(row.procedure)
    return render(
        request,
        "receipt.html",
        account=account,
        row=row,
        procedure_name=procedure.name if procedure else row.procedure,
        qr=_qr_data_uri(row.url),
        problem=problem,
    )


def _to_receipt(request: Request, printed: Printed) -> Response:
    """Show the receipt; a printer problem travels there in the session (a flash message)."""
    if printed.error is not None:
        request.session["printer_problem"] = [printed.error.message_vi, printed.error.message_en]
    elif printed.printer is None:
        request.session["printer_problem"] = [
            "Quầy này chưa có máy in. Giấy hẹn đã được lưu.",
            "This counter has no printer. The receipt is kept.",
        ]
    return RedirectResponse(f"/staff/receipts/{printed.receipt.code}", status.HTTP_303_SEE_OTHER)


def _back(*, message: str = "", error: str = "") -> Response:
    query = urlencode({k: v for k, v in (("message", message), ("error", error)) if v})
    return RedirectResponse(f"/staff?{query}", status.HTTP_303_SEE_OTHER)


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


def _recent(request: Request, counter: str) -> list[ReceiptRow]:
    since = request.app.state.clock() - timedelta(days=1)
    with request.app.state.sessions() as session:
        return list(
            session.scalars(
                select(ReceiptRow)
                .where(ReceiptRow.counter == counter, ReceiptRow.issued_at >= since)
                .order_by(ReceiptRow.issued_at.desc())
                .limit(20)
            )
        )


def _qr_data_uri(url: str) -> str:
    image = qrcode.make(url, box_size=6, border=2)
    buffer = io.BytesIO()
    image.save(buffer)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()
