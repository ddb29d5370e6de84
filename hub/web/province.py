"""The province's pages: units ranked by MĐHL (/province), drill-down to a unit, a counter and an
officer (/province/unit/{code}), trends against last year (/trends) and the yearly targets
(/targets).

Every handler works out the login's reach (:func:`hub.domain.access.reach`: heads and admins see
their unit and every unit under it, officers themselves) and hands it to
:class:`hub.province.ProvinceDesk`, which refuses a unit outside it: the page answers 404, the
same as for a unit the hub does not serve, so a refusal does not tell which units exist.
Officers see no unit pages (403); the trend page shows them their own ratings only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import tzinfo
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse

from hub.domain.access import Reach, reach, sees_units
from hub.domain.periods import LABELS, LOCAL, PERIODS, PeriodKind, local_today, period
from hub.domain.province import RANK_MIN_RATINGS
from hub.domain.satisfaction import SMALL_SAMPLE
from hub.domain.trends import parse_target_rate
from hub.province import (
    FIRST_TARGET_YEAR,
    LAST_TARGET_YEAR,
    NotAllowed,
    NotVisible,
    TrendView,
    bare_unit,
)
from hub.web.accounts import Account
from hub.web.context import Ctx, HubContext
from hub.web.pages import check_csrf, csrf_token, signed_in

router = APIRouter(include_in_schema=False)

CODE = r"^[0-9A-Z][0-9A-Z.]{2,19}$"  # a unit code, as hailong.settings.UnitInfo.code
KEY = r"^[A-Za-z0-9_.-]{1,40}$"  # a counter or officer code


def _account(request: Request) -> Account:
    account = signed_in(request, any_unit=True)
    if account is None:
        raise HTTPException(
            status.HTTP_303_SEE_OTHER, "login required", headers={"Location": "/staff/login"}
        )
    return account


Login = Annotated[Account, Depends(_account)]


def _reach(ctx: HubContext, account: Account) -> Reach:
    return reach(account.role, account.scope(ctx.unit.unit.code), account.officer, ctx.units)


def _unit_viewer(ctx: HubContext, account: Account) -> Reach:
    """Heads and admins only: an officer sees no unit's figures but their own."""
    if not sees_units(account.role, account.scope(ctx.unit.unit.code), ctx.units):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "not for this login")
    return _reach(ctx, account)


def _not_found(code: str) -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, f"no unit {code} here for this login")


def _zone(ctx: HubContext, code: str) -> tzinfo:
    """The clock of the unit a page is about (its ``time_zone``): the day "this quarter" means."""
    node = ctx.units.get(code)
    return node.zone if node is not None else LOCAL


def render(
    request: Request, ctx: HubContext, seen: Reach, template: str, **values: Any
) -> HTMLResponse:
    """As :func:`hub.web.pages.render`, but the header names the highest unit the login sees
    (the home unit's name would tell another unit's head about a unit that is not theirs)."""
    home = ctx.unit.unit.code
    top = ctx.units.get(ctx.province.home(seen) or home)
    unit = ctx.unit if top is None or top.code == home else bare_unit(top)
    values |= {"csrf": csrf_token(request), "unit": unit, "home": seen.sees(home)}
    response: HTMLResponse = ctx.templates.TemplateResponse(request, template, values)
    return response


def _periods() -> list[tuple[PeriodKind, tuple[str, str]]]:
    return [(kind, LABELS[kind]) for kind in PERIODS]


@router.get("/province")
def province_view(
    request: Request,
    ctx: Ctx,
    account: Login,
    unit: Annotated[str | None, Query(pattern=CODE)] = None,
    shown: Annotated[PeriodKind, Query(alias="period")] = "quarter",
) -> HTMLResponse:
    seen = _unit_viewer(ctx, account)
    code = unit or ctx.province.home(seen)
    if code is None:
        raise _not_found("-")
    zone = _zone(ctx, code)
    selected = period(shown, local_today(ctx.clock(), zone), zone)
    try:
        view = ctx.province.overview(seen, code, selected)
    except NotVisible:
        raise _not_found(code) from None
    return render(
        request,
        ctx,
        seen,
        "province.html",
        account=account,
        view=view,
        periods=_periods(),
        selected=selected,
        minimum=RANK_MIN_RATINGS,
        small=SMALL_SAMPLE,
        tab="province",
    )


@router.get("/province/unit/{code}")
def unit_view(
    request: Request,
    ctx: Ctx,
    account: Login,
    code: str,
    shown: Annotated[PeriodKind, Query(alias="period")] = "quarter",
    counter: Annotated[str | None, Query(pattern=KEY)] = None,
    officer: Annotated[str | None, Query(pattern=KEY)] = None,
) -> HTMLResponse:
    seen = _unit_viewer(ctx, account)
    zone = _zone(ctx, code)
    selected = period(shown, local_today(ctx.clock(), zone), zone)
    try:
        view = ctx.province.unit_view(seen, code, selected, counter, officer)
    except NotVisible:
        raise _not_found(code) from None
    return render(
        request,
        ctx,
        seen,
        "province_unit.html",
        account=account,
        view=view,
        path=ctx.province.path(seen, view.unit),
        periods=_periods(),
        selected=selected,
        small=SMALL_SAMPLE,
        tab="province",
    )


@router.get("/trends")
def trends_view(
    request: Request,
    ctx: Ctx,
    account: Login,
    unit: Annotated[str | None, Query(pattern=CODE)] = None,
    year: Annotated[int | None, Query(ge=FIRST_TARGET_YEAR, le=LAST_TARGET_YEAR)] = None,
) -> HTMLResponse:
    seen = _reach(ctx, account)
    code = unit or ctx.province.home(seen)
    if code is None:
        raise _not_found("-")
    shown_year = year or local_today(ctx.clock(), _zone(ctx, code)).year
    try:
        view = ctx.province.trends(seen, code, shown_year)
    except NotVisible:
        raise _not_found(code) from None
    choices = [n for n in ctx.units if seen.sees(n.code)] if seen.officer is None else []
    return render(
        request,
        ctx,
        seen,
        "trends.html",
        account=account,
        view=view,
        choices=choices,
        chart=trend_chart(view),
        this_year=local_today(ctx.clock(), _zone(ctx, code)).year,
        tab="trends",
    )


@router.get("/targets")
def targets_view(
    request: Request,
    ctx: Ctx,
    account: Login,
    year: Annotated[int | None, Query(ge=FIRST_TARGET_YEAR, le=LAST_TARGET_YEAR)] = None,
    error: str = "",
    done: str = "",
) -> HTMLResponse:
    seen = _unit_viewer(ctx, account)
    shown_year = year or local_today(ctx.clock()).year
    scope = account.scope(ctx.unit.unit.code)
    try:
        lines = ctx.province.targets(seen, account.role, scope, shown_year)
    except NotVisible:
        raise _not_found(scope) from None
    return render(
        request,
        ctx,
        seen,
        "targets.html",
        account=account,
        lines=lines,
        year=shown_year,
        error=error,
        done=done,
        tab="targets",
    )


@router.post("/targets")
def set_target(
    request: Request,
    ctx: Ctx,
    account: Login,
    csrf: Annotated[str, Form()],
    unit: Annotated[str, Form()],
    year: Annotated[int, Form()],
    rate: Annotated[str, Form()] = "",
) -> RedirectResponse:
    """Set a unit's target for a year (empty: clear it, so the target above holds)."""
    check_csrf(request, csrf)
    _unit_viewer(ctx, account)
    scope = account.scope(ctx.unit.unit.code)
    shown = {"year": year} if FIRST_TARGET_YEAR <= year <= LAST_TARGET_YEAR else {}
    try:
        value = parse_target_rate(rate)
        ctx.province.set_target(account.role, scope, account.username, unit, year, value)
    except NotVisible:
        raise _not_found(unit) from None
    except NotAllowed:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "not for this login") from None
    except ValueError:
        message = (
            f"Chỉ tiêu là số phần trăm từ 0 đến 100, năm từ {FIRST_TARGET_YEAR} đến "
            f"{LAST_TARGET_YEAR} / a target is a percentage from 0 to 100, the year from "
            f"{FIRST_TARGET_YEAR} to {LAST_TARGET_YEAR}"
        )
        where = urlencode({**shown, "error": message})
        return RedirectResponse(f"/targets?{where}", status.HTTP_303_SEE_OTHER)
    return RedirectResponse(
        f"/targets?{urlencode({**shown, 'done': unit})}", status.HTTP_303_SEE_OTHER
    )


@dataclass(frozen=True)
class Chart:
    """The trend page's SVG, worked out here (the page's policy allows no inline style): the
    rate axis from ``floor`` to 100 %, this year's line and last year's, the target's."""

    width: int
    height: int
    left: int
    right: int
    grid: tuple[tuple[int, float], ...]
    months: tuple[tuple[str, float], ...]
    target: float | None
    lines: tuple[tuple[tuple[tuple[float, float], ...], str, int], ...]


def trend_chart(view: TrendView, width: int = 680, height: int = 250) -> Chart:
    left, right, top, bottom = 44, width - 16, 10, height - 28
    rates = [
        r for row in view.months for r in (row.now.rate, row.year_before.rate) if r is not None
    ]
    floor = 50 if all(r >= 50 for r in rates) else 0

    def y(rate: float) -> float:
        return round(top + (100 - rate) * (bottom - top) / (100 - floor), 1)

    def x(index: int) -> float:
        return round(left + index * (right - left) / 11, 1)

    def line(which: str) -> tuple[tuple[float, float], ...]:
        return tuple(
            (x(i), y(rate))
            for i, row in enumerate(view.months)
            if (rate := getattr(row, which).rate) is not None
        )

    target = view.target.rate
    return Chart(
        width=width,
        height=height,
        left=left,
        right=right,
        grid=tuple((level, y(level)) for level in range(floor, 101, 10)),
        months=tuple((row.label, x(i)) for i, row in enumerate(view.months)),
        target=y(target) if target is not None and target >= floor else None,
        lines=((line("year_before"), "#90a4ae", 2), (line("now"), "#1a237e", 3)),
    )
