"""The paper-form page: staff key the survey forms handed out with the receipt, and a helper
records the answers of a citizen they assist (Decree 61, Article 29). Both on
:class:`hub.paper.desk.PaperDesk`, as the API's ``POST /api/v1/paper-forms`` is.

Who may key: a head, an administrator, or an officer designated a paper clerk (the account's
``paper_clerk``: :attr:`hub.web.accounts.Account.keys_paper`; any other officer gets 403),
of the unit the page is about (``?unit=``,
within their scope: :func:`hub.web.pages.unit_page`; an officer their own unit only); the desk refuses
an officer the receipt names, so nobody keys a rating of their own dossier. A refused form comes
back with every value the clerk typed and the reason, in Vietnamese and English: nothing is lost,
nothing is stored. The page lists the login's own last forms without their answers (the raters
stay confidential), and to heads and administrators the month's count per channel.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, HTTPException, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from hailong.contract.clock import unit_time
from hailong.contract.dossier_codes import CodeBook
from hailong.contract.scale import Factor, Score, Stage
from hub.domain.paper import FormRefused, Keyer, PaperForm
from hub.paper.desk import Entered, PaperDesk
from hub.receipts.desk import dossier_code_of
from hub.receipts.issuing import ReceiptIssueError
from hub.web.accounts import Account
from hub.web.context import HubContext
from hub.web.followup import CHANNELS
from hub.web.pages import Here, UnitPage, check_csrf, render

router = APIRouter(prefix="/staff/paper", include_in_schema=False)
PAPER_ROLES = ("officer", "head", "admin")
MANAGERS = ("head", "admin")  # who sees the unit's count per channel
MODES = ("paper", "assisted")
# A factor's answer "không áp dụng" on the form (a level is "1".."5", no answer "").
NOT_APPLICABLE = "na"


def _keying(page: Here) -> UnitPage:
    if page.account.role not in PAPER_ROLES:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "this page is for the unit's staff")
    if not page.account.keys_paper:  # the desk refuses it too (hub.domain.paper.check_clerk)
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            "Chỉ công chức được giao nhập phiếu mới dùng được trang này."
            " / Only officers designated as paper clerks may key forms.",
        )
    return page


Keying = Annotated[UnitPage, Depends(_keying)]


def desk(ctx: HubContext) -> PaperDesk:
    """The desk on the context's unit, database and clock (cheap: built per request, so an
    edited catalogue or a test's clock counts at once)."""
    return PaperDesk(ctx.unit, ctx.sessions, ctx.clock)


@router.get("")
def paper_page(
    request: Request, page: Keying, message: str = "", mode: str = "paper"
) -> HTMLResponse:
    chosen = mode if mode in MODES else "paper"
    return _page(request, page.ctx, page.account, message=message, mode=chosen)


@router.post("")
def enter(
    request: Request,
    page: Keying,
    csrf: Annotated[str, Form()],
    code: Annotated[str, Form(max_length=2048)],
    score: Annotated[str, Form(max_length=2)] = "",
    mode: Annotated[str, Form(pattern="^(paper|assisted)$")] = "paper",
    filled_on: Annotated[str, Form(max_length=10)] = "",
    stage: Annotated[str, Form(max_length=16)] = Stage.RECEPTION.value,
    reasons: Annotated[list[str] | None, Form(max_length=40)] = None,
    access: Annotated[str, Form(max_length=2)] = "",
    procedure: Annotated[str, Form(max_length=2)] = "",
    officer: Annotated[str, Form(max_length=2)] = "",
    result: Annotated[str, Form(max_length=2)] = "",
    feedback: Annotated[str, Form(max_length=2)] = "",
) -> Response:
    check_csrf(request, csrf)
    ctx, account = page.ctx, page.account
    answers = {"access": access, "procedure": procedure, "officer": officer}
    answers |= {"result": result, "feedback": feedback}
    # What the clerk typed, shown again with a refusal so nothing has to be keyed twice.
    typed: dict[str, Any] = {"code": code, "score": score, "filled_on": filled_on}
    typed |= {"stage": stage, "reasons": reasons or [], "factors": answers}
    today = unit_time(ctx.clock(), ctx.unit.zone).date()
    try:
        form = PaperForm(
            code=scanned_code(code, ctx.unit.code_book()),
            filled_on=today if mode == "assisted" else _date(filled_on),
            score=_level(score, "Mức hài lòng chung", "The overall answer"),
            factors={
                name: _level(value, Factor(name).label_vi, Factor(name).label_en)
                for name, value in answers.items()
                if value and value != NOT_APPLICABLE
            },
            not_applicable=tuple(n for n, value in answers.items() if value == NOT_APPLICABLE),
            reasons=tuple(reasons or ()),
            stage=stage,
        )
        keyer = Keyer(account.username, account.officer, account.paper_clerk)
        papers = desk(ctx)
        if mode == "assisted":
            entered = papers.record_assisted(form, keyer)
        else:
            entered = papers.enter_paper_form(form, keyer)
    except FormRefused as exc:
        refused = _page(request, ctx, account, mode=mode, error=exc, typed=typed)
        refused.status_code = status.HTTP_422_UNPROCESSABLE_CONTENT
        return refused
    ctx.rated(entered.code, entered.stage)  # the unit's kiosks refuse this receipt's scan now
    query = urlencode({"message": _confirmation(entered), "mode": mode})
    return RedirectResponse(page.link(f"/staff/paper?{query}"), status.HTTP_303_SEE_OTHER)


def _page(
    request: Request,
    ctx: HubContext,
    account: Account,
    *,
    mode: str,
    message: str = "",
    error: FormRefused | None = None,
    typed: dict[str, Any] | None = None,
) -> HTMLResponse:
    papers = desk(ctx)
    now = ctx.clock()
    today = unit_time(now, ctx.unit.zone).date()
    counts = None
    if account.role in MANAGERS:
        month_start = datetime.combine(today.replace(day=1), time.min, ctx.unit.zone)
        counts = [
            (CHANNELS.get(c.channel, (c.channel, c.channel)), c.assisted, c.n)
            for c in papers.channel_counts(month_start)
        ]
    return render(
        request,
        "paper.html",
        account=account,
        officer=account.officer,
        mode=mode,
        message=message,
        error=error,
        typed=typed or {"factors": {}, "reasons": [], "stage": "reception"},
        today=today,
        scores=[(s.value, s.label_vi, s.label_en) for s in sorted(Score, reverse=True)],
        factors=list(Factor),
        recent=papers.recent(account.username),
        counts=counts,
    )


def _confirmation(entered: Entered) -> str:
    returned = entered.stage is Stage.RETURN
    stage_vi, stage_en = ("trả kết quả", "return") if returned else ("tiếp nhận", "reception")
    helped = entered.assisted
    kind_vi, kind_en = ("đánh giá có hỗ trợ", "assisted rating") if helped else ("phiếu", "form")
    text = f"Đã lưu {kind_vi} của hồ sơ {entered.code} ({stage_vi})"
    text += f" / Saved the {kind_en} of dossier {entered.code} ({stage_en})."
    if not entered.counted:  # a code the register does not know, under the unit's policy
        text += (
            " Chưa tính vào kết quả: mã hồ sơ không có trong sổ."
            " / Not in the figures: the register does not know this code."
        )
    return text


def scanned_code(text: str, book: CodeBook | None = None) -> str:
    """The code typed, or the one in a scanned QR URL, in the national spelling or one of the
    unit's own (``book``); what reads as neither is left to the register's judgement (a clear
    refusal)."""
    try:
        return dossier_code_of(text.strip(), book)
    except ReceiptIssueError:
        return text.strip()


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise FormRefused(
            "date", "Nhập ngày trên phiếu (ngày/tháng/năm).", "Enter the date on the form."
        ) from None


def _level(text: str, what_vi: str, what_en: str) -> int:
    if not text.strip().isdigit():
        raise FormRefused(
            "score",
            f"{what_vi}: chọn một mức từ 1 đến 5.",
            f"{what_en}: choose a level from 1 to 5.",
        )
    return int(text)
