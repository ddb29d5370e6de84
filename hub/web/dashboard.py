"""The unit head's dashboard (MĐHL by period and by counter, officer, procedure, field; by stage
and SIPAS factor, the 5 levels, the reasons for dissatisfaction, the hour-by-weekday heat map; the
kiosk fleet) and the public summary a unit links from its website. Roles are checked here, on the
server: a unit head sees the unit, an officer only their own figures, the public page no names.
The dashboard is about the unit ``?unit=`` names, within the login's scope (its own by default:
:func:`hub.web.pages.unit_page`), held to the target it has this year (:func:`_target`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request, status
from fastapi.responses import HTMLResponse

from hub.channels import channel_figures
from hub.coverage import Coverage, coverage_report, spans_coverage
from hub.domain.periods import LABELS, PERIODS, Period, PeriodKind, local_today, period
from hub.domain.satisfaction import SMALL_SAMPLE, GroupSummary, satisfaction_rate, wilson_interval
from hub.domain.trends import target_for
from hub.fleet_report import kiosk_statuses, printer_states
from hub.report import (
    WEEKDAYS,
    Dimension,
    Scope,
    analysis,
    figures,
    summary,
    unit_totals,
)
from hub.store.targets import targets_of
from hub.web.accounts import Account
from hub.web.context import Ctx, HubContext
from hub.web.pages import Here, render, signed_in

router = APIRouter(include_in_schema=False)

TITLES: dict[Dimension, tuple[str, str]] = {
    "counter": ("Theo quầy", "By counter"),
    "officer": ("Theo công chức", "By officer"),
    "procedure": ("Theo thủ tục", "By procedure"),
    "field": ("Theo lĩnh vực", "By field"),
}


def _viewer(request: Request) -> Account:
    account = signed_in(request)
    if account is None:
        raise HTTPException(
            status.HTTP_303_SEE_OTHER, "login required", headers={"Location": "/staff/login"}
        )
    return account


Viewer = Annotated[Account, Depends(_viewer)]


@dataclass(frozen=True)
class Headline:
    """MĐHL of a period, with its interval, the target and the change since the period before."""

    label: tuple[str, str]
    n: int
    rate: float | None
    ci: tuple[float, float]
    change: float | None
    meets_target: bool | None
    # The period's receipts rated at reception (hub.coverage): how many the rate speaks for.
    response: Coverage | None = None


def _overall(tables: list[GroupSummary]) -> tuple[int, int]:
    return sum(s.n for s in tables), sum(s.satisfied for s in tables)


def _target(ctx: HubContext, year: int) -> float | None:
    """The target the unit is held to in ``year``: its own from the targets table, else the
    nearest unit's above it, else its catalogue's (:func:`hub.domain.trends.target_for`)."""
    code = ctx.unit.unit.code
    chain = [code, *(above.code for above in ctx.units.ancestors(code))]
    with ctx.sessions() as session:
        stored = {(t.unit, t.year): t.rate for t in targets_of(session, chain, [year])}
    return target_for(code, year, stored, ctx.units, ctx.unit.unit.target_rate).rate


def _headline(
    ctx: HubContext,
    current: Period,
    response: Coverage | None = None,
    target: float | None = None,
) -> Headline:
    """``target``: the rate the unit is held to (None: the catalogue's)."""
    unit = ctx.unit
    goal = unit.unit.target_rate if target is None else target
    with ctx.sessions() as session:
        now_n, now_ok = unit_totals(session, Scope(unit, *current.bounds()))
        was_n, was_ok = unit_totals(session, Scope(unit, *current.previous().bounds()))
    rate = satisfaction_rate(now_ok, now_n)
    before = satisfaction_rate(was_ok, was_n)
    change = rate - before if rate is not None and before is not None else None
    meets = rate >= goal if rate is not None else None
    return Headline(
        LABELS[current.kind], now_n, rate, wilson_interval(now_ok, now_n), change, meets, response
    )


@router.get("/dashboard")
def dashboard(
    request: Request,
    page: Here,
    shown: Annotated[PeriodKind, Query(alias="period")] = "month",
) -> HTMLResponse:
    """The dashboard of the unit the page is about (``?unit=``, within the login's scope)."""
    ctx, account = page.ctx, page.account
    unit = ctx.unit
    today = local_today(ctx.clock())
    selected = period(shown, today)
    cards = [period(kind, today) for kind in PERIODS]
    target = _target(ctx, today.year)
    with ctx.sessions() as session:  # every headline's response in one pass over the register
        responses = spans_coverage(session, unit, [p.bounds() for p in cards])
    headlines = [_headline(ctx, p, r, target) for p, r in zip(cards, responses, strict=True)]
    with ctx.sessions() as session:
        shown_scope = Scope(unit, *selected.bounds())
        # The tables and the analysis from one read of the rating rollups (hub.report.figures).
        unit_figures = figures(session, shown_scope)
        tables = unit_figures.tables
        fleet = kiosk_statuses(session, unit) if account.role != "officer" else []
        printers = printer_states(session, unit) if account.role != "officer" else []
        # An officer's analysis counts their own ratings only, and has no heat map.
        mine = (account.officer or "") if account.role == "officer" else None
        analysed = (
            unit_figures.analysis
            if mine is None
            else analysis(session, Scope(unit, *selected.bounds(), officer=mine))
        )
        # Receipts issued, rated, abandoned beside every rate; an officer's are their own only.
        covered = coverage_report(session, Scope(unit, *selected.bounds(), officer=mine))
        # Every channel in one count, each visible: the unit's (the channel rollups have no
        # officer), so not on an officer's page, whose analysis is their own ratings only.
        channels = channel_figures(session, shown_scope) if mine is None else None
    if account.role == "officer":
        # An officer sees the unit's headline figures and their own line, nobody else's.
        tables = {"officer": [s for s in tables["officer"] if s.key == account.officer]}
    return render(
        request,
        "dashboard.html",
        account=account,
        headlines=headlines,
        selected=selected,
        periods=[(kind, LABELS[kind]) for kind in PERIODS],
        tables=tables,
        titles=TITLES,
        small=SMALL_SAMPLE,
        flag_below=unit.unit.target_rate if target is None else target,
        target=target,
        fleet=fleet,
        printers=printers,
        kiosk_ids=[k.id for k in unit.kiosks],
        analysis=analysed,
        weekdays=WEEKDAYS,
        coverage=covered,
        channels=channels,
    )


@router.get("/public")
def public_summary(request: Request, ctx: Ctx) -> HTMLResponse:
    """What a unit publishes: MĐHL this quarter and by field. No officers, no comments."""
    unit = ctx.unit
    quarter = period("quarter", local_today(ctx.clock()))
    with ctx.sessions() as session:
        fields = summary(session, Scope(unit, *quarter.bounds()), "field")
    n, satisfied = _overall(fields)
    return render(
        request,
        "public.html",
        quarter=quarter,
        n=n,
        rate=satisfaction_rate(satisfied, n),
        ci=wilson_interval(satisfied, n),
        fields=sorted(fields, key=lambda s: s.name),
    )
