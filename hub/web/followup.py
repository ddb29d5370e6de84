"""Follow-up of dissatisfied ratings (tiếp nhận, xử lý phản ánh): the list, live through a small
JSON feed, and one follow-up with its audit trail and the actions the viewer may take.

Every page is about one unit (``?unit=``, within the login's scope: :func:`hub.web.pages.unit_page`;
another unit's follow-up is "not found") and goes through that unit's
:class:`hub.followups.desk.FollowUpDesk`, which decides on the server, on every request, who
reaches what: a unit head or an administrator sees the unit's follow-ups and
assigns, answers, closes and reopens them; an officer sees only those assigned to them (anything
else is "not found", whatever id is typed) and may answer them. The rules themselves are
:mod:`hub.domain.followup`; every action also checks the form's CSRF token and the version of the
follow-up the form was made from, so a stale or replayed form does nothing. This module only
says how it looks: names from the catalogue, local times, which personal data the viewer sees.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, tzinfo
from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Path, Query, Request, status
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from hailong.contract.scale import Channel, Score, Stage
from hailong.settings import Unit
from hub.domain.followup import (
    Action,
    Actor,
    FollowUp,
    FollowUpError,
    NotPermitted,
    State,
    allowed,
)
from hub.domain.periods import as_utc
from hub.followups.desk import NotFound, is_manager, may_see, may_see_phone
from hub.store.followups import Conflict, Cursor, FollowUpItem
from hub.web.accounts import Account
from hub.web.context import HubContext
from hub.web.pages import Here, check_csrf, render

router = APIRouter(prefix="/follow-up", include_in_schema=False)
COMMENT_PREVIEW = 160
RatingId = Annotated[str, Path(max_length=64)]

CHANNELS = {
    Channel.KIOSK.value: ("Ki-ốt", "kiosk"),
    Channel.ONLINE.value: ("Trực tuyến", "online"),
    Channel.BUTTON_BOX.value: ("Hộp nút bấm", "button box"),
    Channel.PAPER.value: ("Phiếu giấy", "paper form"),
}
STAGES = {
    Stage.RECEPTION.value: ("Tiếp nhận hồ sơ", "reception"),
    Stage.RETURN.value: ("Trả kết quả", "return of the result"),
}


def _actor(account: Account) -> Actor:
    return Actor(account.username, account.role, account.officer)


def _local(value: datetime, zone: tzinfo, seconds: bool = False) -> str:
    """``value`` on the unit's clock (``zone``: its ``time_zone``)."""
    return value.astimezone(zone).strftime("%d/%m/%Y %H:%M" + (":%S" if seconds else ""))


class _Names:
    """Codes to the unit catalogue's names (a code the catalogue lost is shown as is), and the
    unit's clock for its times."""

    def __init__(self, unit: Unit) -> None:
        self.zone = unit.zone
        self.counters = {c.code: c.name for c in unit.counters}
        self.officers = {o.code: o.name for o in unit.officers}
        self.procedures = {p.code: p.name for p in unit.procedures}
        self.fields = {f.code: f.name for f in unit.fields}
        self.reasons = {r.code: (r.name, r.name_en) for r in unit.reasons}

    def officer(self, code: str | None) -> str | None:
        return self.officers.get(code, code) if code else None


def _same(path: str) -> str:
    return path


def _view(
    item: FollowUpItem, viewer: Actor, names: _Names, here: Callable[[str], str] = _same
) -> dict[str, Any]:
    """What the list (and the live feed, as JSON) shows of one follow-up; ``here`` keeps the
    page's unit in its link."""
    score = Score(item.score)
    state = item.state
    personal = may_see(viewer, item)
    comment = item.comment if personal and item.comment else None
    if comment and len(comment) > COMMENT_PREVIEW:
        comment = comment[: COMMENT_PREVIEW - 1] + "…"
    return {
        "id": item.rating_id,
        "url": here(f"/follow-up/{item.rating_id}"),
        "rated_at": _local(item.rated_at, names.zone),
        "score": int(score),
        "score_vi": score.label_vi,
        "score_en": score.label_en,
        "state": state.value,
        "state_vi": state.label_vi,
        "state_en": state.label_en,
        "where": " · ".join(
            part
            for part in (
                names.counters.get(item.counter, item.counter) if item.counter else None,
                names.officer(item.officer),
                names.procedures.get(item.procedure, item.procedure) if item.procedure else None,
            )
            if part
        ),
        "reasons": [names.reasons.get(code, (code, code))[0] for code in item.reasons],
        "comment": comment,
        "callback": bool(item.callback_phone) and may_see_phone(viewer, item),
        "assignee": names.officer(item.assignee_officer),
    }


@router.get("")
def follow_up_list(
    request: Request,
    page: Here,
    state: Annotated[State | None, Query()] = None,
    before: Annotated[str, Query(max_length=80)] = "",
) -> HTMLResponse:
    """Newest first, a page at a time; the first page updates itself (static/followup.js).
    The follow-ups of the unit the page is about (``?unit=``, within the login's scope)."""
    ctx, account = page.ctx, page.account
    cursor = Cursor.decode(before) if before else None
    if before and cursor is None:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "bad page cursor")
    viewer, desk = _actor(account), ctx.follow_ups
    found = desk.page(viewer, state=state, before=cursor)
    names = _Names(ctx.unit)
    return render(
        request,
        "follow_up.html",
        account=account,
        officer=account.officer,
        items=[_view(item, viewer, names, page.link) for item in found.items],
        state=state,
        states=list(State),
        tally=found.tally,
        total=sum(found.tally.values()),
        older=found.older.encode() if found.older else None,
        live=cursor is None,
        feed_cursor=found.as_of.astimezone(UTC).isoformat(),
        threshold=Score(desk.threshold),
    )


@router.get("/feed")
def feed(
    page: Here,
    after: Annotated[str, Query(max_length=40)],
) -> JSONResponse:
    """Follow-ups that arrived or changed after ``after`` (the ``cursor`` of the previous answer,
    or the page's); the viewer's own, as on the list. Personal data as on the list."""
    try:
        since = as_utc(datetime.fromisoformat(after))
    except ValueError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "bad cursor") from exc
    viewer = _actor(page.account)
    found = page.ctx.follow_ups.changes(viewer, since)
    names = _Names(page.unit)
    tally = found.tally
    return JSONResponse(
        {
            "cursor": found.cursor.astimezone(UTC).isoformat(),
            "items": [_view(item, viewer, names, page.link) for item in found.items],
            "counts": {s.value: n for s, n in tally.items()} if tally is not None else None,
        },
        headers={"Cache-Control": "no-store"},
    )


def _visible(ctx: HubContext, account: Account, rating_id: str) -> tuple[FollowUpItem, FollowUp]:
    """The follow-up, if the viewer may see it; 404 otherwise (the same answer whether it does
    not exist or belongs to someone else, so ids cannot be probed)."""
    try:
        return ctx.follow_ups.view(_actor(account), rating_id)
    except NotFound as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such follow-up") from exc


def _trail(ctx: HubContext, item: FollowUpItem, follow_up: FollowUp) -> list[dict[str, str]]:
    """The audit trail as shown: the rating's arrival, then every event, oldest first."""
    names = _Names(ctx.unit)
    lines = [
        {
            "at": _local(item.received_at, names.zone, seconds=True),
            "who": "Hệ thống / System",
            "what": "Tiếp nhận đánh giá / Rating received",
            "note": "",
        }
    ]
    for event in follow_up.events:
        who = event.actor
        account = ctx.accounts.get(event.actor)
        if account is not None and account.officer:
            who = f"{event.actor} ({names.officer(account.officer)})"
        what = f"{event.action.label_vi} / {event.action.label_en}"
        if event.assignee_officer:
            what += f" → {names.officer(event.assignee_officer)} ({event.assignee})"
        lines.append(
            {
                "at": _local(event.at, names.zone, seconds=True),
                "who": who,
                "what": what,
                "note": event.note,
            }
        )
    return lines


def _detail(
    request: Request,
    ctx: HubContext,
    account: Account,
    rating_id: str,
    here: Callable[[str], str],
    *,
    error: tuple[str, str] | None = None,
    done: Action | None = None,
    status_code: int = status.HTTP_200_OK,
) -> HTMLResponse:
    item, follow_up = _visible(ctx, account, rating_id)
    viewer, names = _actor(account), _Names(ctx.unit)
    response = render(
        request,
        "follow_up_detail.html",
        account=account,
        officer=account.officer,
        item=item,
        view=_view(item, viewer, names, here),
        follow_up=follow_up,
        score=Score(item.score),
        personal=may_see(viewer, item),
        # The dossier code leads back to the citizen through the register: for the unit's
        # follow-up managers, not for an officer (who may be the one the rating is about).
        manager=is_manager(viewer),
        phone=item.callback_phone if may_see_phone(viewer, item) else None,
        channel=CHANNELS.get(item.channel, (item.channel, item.channel)),
        stage=STAGES.get(item.stage, (item.stage, item.stage)),
        field=names.fields.get(item.field, item.field) if item.field else None,
        reasons=[names.reasons.get(code, (code, code)) for code in item.reasons],
        assignee=names.officer(item.assignee_officer),
        trail=_trail(ctx, item, follow_up),
        actions=allowed(follow_up, viewer),
        officers=[(a, names.officers[a.officer]) for a in ctx.follow_ups.assignable()],
        error=error,
        done=done,
    )
    response.status_code = status_code
    return response


@router.get("/{rating_id}")
def follow_up_detail(
    request: Request, page: Here, rating_id: RatingId, done: Action | None = None
) -> HTMLResponse:
    """One follow-up of the page's unit (404 for another unit's, as for none)."""
    return _detail(request, page.ctx, page.account, rating_id, page.link, done=done)


@router.post("/{rating_id}/{action}")
def follow_up_action(
    request: Request,
    page: Here,
    rating_id: RatingId,
    action: Annotated[str, Path(max_length=16)],
    csrf: Annotated[str, Form()],
    version: Annotated[int, Form(ge=0)],
    note: Annotated[str, Form(max_length=4000)] = "",
    assignee: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    check_csrf(request, csrf)
    ctx, account = page.ctx, page.account
    try:
        chosen = Action(action)
    except ValueError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such action") from exc
    try:
        ctx.follow_ups.act(
            _actor(account), rating_id, chosen, version=version, note=note, assignee=assignee
        )
    except NotFound as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such follow-up") from exc
    except Conflict:
        error = (
            "Phản ánh vừa được người khác cập nhật; xem lại rồi thao tác lại.",
            "Someone else has just updated this follow-up; check it, then try again.",
        )
        return _detail(request, ctx, account, rating_id, page.link, error=error, status_code=409)
    except FollowUpError as exc:
        code = 403 if isinstance(exc, NotPermitted) else 400
        return _detail(
            request, ctx, account, rating_id, page.link, error=(exc.vi, exc.en), status_code=code
        )
    return RedirectResponse(
        page.link(f"/follow-up/{rating_id}?done={chosen.value}"), status.HTTP_303_SEE_OTHER
    )
