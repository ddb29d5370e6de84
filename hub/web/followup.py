"""Follow-up of dissatisfied ratings (tiếp nhận, xử lý phản ánh): the list, live through a small
JSON feed, and one follow-up with its audit trail and the actions the viewer may take.

Roles are checked here, on the server, on every request: a unit head or an administrator sees
the unit's follow-ups and assigns, answers, closes and reopens them; an officer sees only those
assigned to them (anything else is "not found", whatever id is typed) and may answer them. The
rules themselves are :mod:`hub.domain.followup`; every action also checks the form's CSRF token
and the version of the follow-up the form was made from, so a stale or replayed form does nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Path, Query, Request, status
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from hailong.contract.scale import Channel, Score, Stage
from hailong.settings import Unit
from hub.domain.followup import (
    MANAGERS,
    Action,
    Actor,
    Assignee,
    FollowUp,
    FollowUpError,
    NotPermitted,
    State,
    act,
    allowed,
)
from hub.store import followups as store
from hub.store.followups import Conflict, Cursor, FollowUpItem
from hub.store.ratings import LOCAL_ZONE
from hub.web.accounts import Account
from hub.web.dashboard import Viewer
from hub.web.pages import check_csrf, render

router = APIRouter(prefix="/follow-up", include_in_schema=False)
# A rating stored a little before the feed's cursor (a batch committed late, clocks a little apart)
# is still found: the feed looks back this far, and the page ignores items it already shows.
OVERLAP = timedelta(seconds=5)
COMMENT_PREVIEW = 160
RatingId = Annotated[str, Path(max_length=64)]

CHANNELS = {
    Channel.KIOSK.value: ("Ki-ốt", "kiosk"),
    Channel.ONLINE.value: ("Trực tuyến", "online"),
    Channel.BUTTON_BOX.value: ("Hộp nút bấm", "button box"),
}
STAGES = {
    Stage.RECEPTION.value: ("Tiếp nhận hồ sơ", "reception"),
    Stage.RETURN.value: ("Trả kết quả", "return of the result"),
}


def _threshold(request: Request) -> int:
    unit: Unit = request.app.state.unit
    return unit.kiosk_policy.reasons_at_or_below


def _actor(account: Account) -> Actor:
    return Actor(account.username, account.role, account.officer)


def _is_manager(account: Account) -> bool:
    return account.role in MANAGERS


def _may_see(account: Account, item: FollowUpItem) -> bool:
    return _is_manager(account) or (account.role == "officer" and item.assignee == account.username)


def _may_see_phone(account: Account, item: FollowUpItem) -> bool:
    """Heads and admins; the assigned officer until the follow-up is closed."""
    return _is_manager(account) or (_may_see(account, item) and item.state is not State.CLOSED)


def _local(value: datetime, seconds: bool = False) -> str:
    aware = value if value.tzinfo else value.replace(tzinfo=UTC)
    return aware.astimezone(LOCAL_ZONE).strftime("%d/%m/%Y %H:%M" + (":%S" if seconds else ""))


class _Names:
    """Codes to the unit catalogue's names (a code the catalogue lost is shown as is)."""

    def __init__(self, unit: Unit) -> None:
        self.counters = {c.code: c.name for c in unit.counters}
        self.officers = {o.code: o.name for o in unit.officers}
        self.procedures = {p.code: p.name for p in unit.procedures}
        self.fields = {f.code: f.name for f in unit.fields}
        self.reasons = {r.code: (r.name, r.name_en) for r in unit.reasons}

    def officer(self, code: str | None) -> str | None:
        return self.officers.get(code, code) if code else None


def _view(item: FollowUpItem, account: Account, names: _Names) -> dict[str, Any]:
    """What the list (and the live feed, as JSON) shows of one follow-up."""
    score = Score(item.score)
    state = item.state
    personal = _may_see(account, item)
    comment = item.comment if personal and item.comment else None
    if comment and len(comment) > COMMENT_PREVIEW:
        comment = comment[: COMMENT_PREVIEW - 1] + "…"
    return {
        "id": item.rating_id,
        "url": f"/follow-up/{item.rating_id}",
        "rated_at": _local(item.rated_at),
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
        "callback": bool(item.callback_phone) and _may_see_phone(account, item),
        "assignee": names.officer(item.assignee_officer),
    }


def _changed(items: list[FollowUpItem], since: datetime) -> datetime:
    return max([since, *(item.changed_at for item in items)])


@router.get("")
def follow_up_list(
    request: Request,
    account: Viewer,
    state: Annotated[State | None, Query()] = None,
    before: Annotated[str, Query(max_length=80)] = "",
) -> HTMLResponse:
    """Newest first, a page at a time; the first page updates itself (static/followup.js)."""
    unit: Unit = request.app.state.unit
    cursor = Cursor.decode(before) if before else None
    if before and cursor is None:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "bad page cursor")
    mine = None if _is_manager(account) else account.username
    now = request.app.state.clock()
    with request.app.state.sessions() as session:
        items = store.list_follow_ups(
            session,
            unit.unit.code,
            _threshold(request),
            state=state,
            assignee=mine,
            before=cursor,
            limit=store.PAGE_SIZE,
        )
        tally = store.counts(session, unit.unit.code, _threshold(request), assignee=mine)
    names = _Names(unit)
    older = (
        Cursor(items[-1].rated_at, items[-1].rating_id).encode()
        if len(items) == store.PAGE_SIZE
        else None
    )
    return render(
        request,
        "follow_up.html",
        account=account,
        officer=account.officer,
        items=[_view(item, account, names) for item in items],
        state=state,
        states=list(State),
        tally=tally,
        total=sum(tally.values()),
        older=older,
        live=cursor is None,
        feed_cursor=now.astimezone(UTC).isoformat(),
        threshold=Score(_threshold(request)),
    )


@router.get("/feed")
def feed(
    request: Request,
    account: Viewer,
    after: Annotated[str, Query(max_length=40)],
) -> JSONResponse:
    """Follow-ups that arrived or changed after ``after`` (the ``cursor`` of the previous answer,
    or the page's); the viewer's own, as on the list. Personal data as on the list."""
    try:
        since = datetime.fromisoformat(after)
    except ValueError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "bad cursor") from exc
    if since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    unit: Unit = request.app.state.unit
    mine = None if _is_manager(account) else account.username
    with request.app.state.sessions() as session:
        items = store.changes(
            session,
            unit.unit.code,
            _threshold(request),
            since=since - OVERLAP,
            now=request.app.state.clock(),
            assignee=mine,
        )
        tally = (
            store.counts(session, unit.unit.code, _threshold(request), assignee=mine)
            if items
            else None
        )
    names = _Names(unit)
    return JSONResponse(
        {
            "cursor": _changed(items, since).astimezone(UTC).isoformat(),
            "items": [_view(item, account, names) for item in items],
            "counts": {s.value: n for s, n in tally.items()} if tally is not None else None,
        },
        headers={"Cache-Control": "no-store"},
    )


def _visible(request: Request, account: Account, rating_id: str) -> tuple[FollowUpItem, FollowUp]:
    """The follow-up, if the viewer may see it; 404 otherwise (the same answer whether it does
    not exist or belongs to someone else, so ids cannot be probed)."""
    unit: Unit = request.app.state.unit
    with request.app.state.sessions() as session:
        found = store.load(session, unit.unit.code, _threshold(request), rating_id)
    if found is None or not _may_see(account, found[0]):
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such follow-up")
    return found


def _assignable(request: Request) -> list[tuple[Account, str]]:
    """Officer accounts of the unit's officers, with the officer's name."""
    names = _Names(request.app.state.unit)
    return [
        (a, names.officers[a.officer])
        for a in request.app.state.accounts.all()
        if a.role == "officer" and a.officer in names.officers
    ]


def _trail(request: Request, item: FollowUpItem, follow_up: FollowUp) -> list[dict[str, str]]:
    """The audit trail as shown: the rating's arrival, then every event, oldest first."""
    names = _Names(request.app.state.unit)
    accounts = request.app.state.accounts
    lines = [
        {
            "at": _local(item.received_at, seconds=True),
            "who": "Hệ thống / System",
            "what": "Tiếp nhận đánh giá / Rating received",
            "note": "",
        }
    ]
    for event in follow_up.events:
        who = event.actor
        account = accounts.get(event.actor)
        if account is not None and account.officer:
            who = f"{event.actor} ({names.officer(account.officer)})"
        what = f"{event.action.label_vi} / {event.action.label_en}"
        if event.assignee_officer:
            what += f" → {names.officer(event.assignee_officer)} ({event.assignee})"
        lines.append(
            {"at": _local(event.at, seconds=True), "who": who, "what": what, "note": event.note}
        )
    return lines


def _detail(
    request: Request,
    account: Account,
    item: FollowUpItem,
    follow_up: FollowUp,
    *,
    error: tuple[str, str] | None = None,
    done: Action | None = None,
    status_code: int = status.HTTP_200_OK,
) -> HTMLResponse:
    unit: Unit = request.app.state.unit
    names = _Names(unit)
    response = render(
        request,
        "follow_up_detail.html",
        account=account,
        officer=account.officer,
        item=item,
        view=_view(item, account, names),
        follow_up=follow_up,
        score=Score(item.score),
        personal=_may_see(account, item),
        # The dossier code leads back to the citizen through the register: for the unit's
        # follow-up managers, not for an officer (who may be the one the rating is about).
        manager=_is_manager(account),
        phone=item.callback_phone if _may_see_phone(account, item) else None,
        channel=CHANNELS.get(item.channel, (item.channel, item.channel)),
        stage=STAGES.get(item.stage, (item.stage, item.stage)),
        field=names.fields.get(item.field, item.field) if item.field else None,
        reasons=[names.reasons.get(code, (code, code)) for code in item.reasons],
        assignee=names.officer(item.assignee_officer),
        trail=_trail(request, item, follow_up),
        actions=allowed(follow_up, _actor(account)),
        officers=_assignable(request),
        error=error,
        done=done,
    )
    response.status_code = status_code
    return response


@router.get("/{rating_id}")
def follow_up_detail(
    request: Request, account: Viewer, rating_id: RatingId, done: Action | None = None
) -> HTMLResponse:
    item, follow_up = _visible(request, account, rating_id)
    return _detail(request, account, item, follow_up, done=done)


@router.post("/{rating_id}/{action}")
def follow_up_action(
    request: Request,
    account: Viewer,
    rating_id: RatingId,
    action: Annotated[str, Path(max_length=16)],
    csrf: Annotated[str, Form()],
    version: Annotated[int, Form(ge=0)],
    note: Annotated[str, Form(max_length=4000)] = "",
    assignee: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    check_csrf(request, csrf)
    try:
        chosen = Action(action)
    except ValueError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such action") from exc
    item, before = _visible(request, account, rating_id)

    def refuse(vi: str, en: str, code: int) -> HTMLResponse:
        shown = _visible(request, account, rating_id) if code == status.HTTP_409_CONFLICT else None
        current, follow_up = shown or (item, before)
        return _detail(request, account, current, follow_up, error=(vi, en), status_code=code)

    if version != item.version:
        return refuse(
            "Phản ánh vừa được người khác cập nhật; xem lại rồi thao tác lại.",
            "Someone else has just updated this follow-up; check it, then try again.",
            status.HTTP_409_CONFLICT,
        )
    target = None
    if assignee:
        officers = {a.username: a for a, _name in _assignable(request)}
        if assignee not in officers:
            return refuse(
                "Không có cán bộ này.", "There is no such officer.", status.HTTP_400_BAD_REQUEST
            )
        target = Assignee(assignee, officers[assignee].officer or "")
    now = request.app.state.clock()
    try:
        after = act(before, _actor(account), chosen, now, note=note, assignee=target)
    except NotPermitted as exc:
        return refuse(exc.vi, exc.en, status.HTTP_403_FORBIDDEN)
    except FollowUpError as exc:
        return refuse(exc.vi, exc.en, status.HTTP_400_BAD_REQUEST)
    unit: Unit = request.app.state.unit
    try:
        with request.app.state.sessions.begin() as session:
            # Read again in the write's transaction: the version check in record() is what
            # stops two people acting on the same version.
            fresh = store.load(session, unit.unit.code, _threshold(request), rating_id)
            if fresh is None or fresh[1] != before:
                raise Conflict(rating_id)
            store.record(session, item, before, after)
    except Conflict:
        return refuse(
            "Phản ánh vừa được người khác cập nhật; xem lại rồi thao tác lại.",
            "Someone else has just updated this follow-up; check it, then try again.",
            status.HTTP_409_CONFLICT,
        )
    return RedirectResponse(
        f"/follow-up/{rating_id}?done={chosen.value}", status.HTTP_303_SEE_OTHER
    )
