"""The unit head's dashboard (MĐHL by period and by counter, officer, procedure, field; by stage
and SIPAS factor, the 5 levels, the reasons for dissatisfaction, the hour-by-weekday heat map; the
kiosk fleet) and the public summary a unit links from its website. Roles are checked here, on the
server: a unit head sees the unit, an officer only their own figures, the public page no names.
The dashboard is about the unit ``?unit=`` names, within the login's scope (its own by default:
:func:`hub.web.pages.unit_page`), held to the target it has this year (:func:`_target`)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request, status
from fastapi.responses import HTMLResponse
from markupsafe import Markup, escape

from hailong.settings import Unit
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
    unit_totals_of_spans,
)
from hub.store.targets import StoredTarget, targets_of
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


_NO_RECEIPT = Markup(
    '<span class="small" title="không cấp biên nhận trong kỳ / issued no receipt in the period">'
    "—</span>"
)


def response_cell(c: Coverage | None) -> Markup:
    """The response beside a rate (receipts rated of issued, the response rate, the note when
    it is low or on few receipts), as HTML. Written here, not as a Jinja macro: a provincial
    centre's dashboard writes one per table row (~400), and the macro calls cost ~5 ms a page."""
    if c is None:
        return _NO_RECEIPT
    rate = "" if c.rate is None else f" · {c.rate:.0f} %"
    html = (
        f'<span title="{c.issued} biên nhận / receipts: {c.rated} đã đánh giá / rated, '
        f"{c.abandoned} bỏ dở / abandoned, {c.not_reached} chưa đánh giá / not reached"
        f'">{c.rated}/{c.issued}{rate}</span>'
    )
    if c.label[0]:
        kind = "error-text low-response" if c.low else "few-receipts"
        warning = "⚠ " if c.low else ""
        vi, en = escape(c.label[0]), escape(c.label[1])
        html += f' <small class="{kind}">{warning}{vi} / {en}</small>'
    # Safe: integers, a formatted number, fixed text and the escaped labels (Markup.format
    # would escape each value itself, but through string.Formatter: slower than the macro).
    return Markup(html)  # noqa: S704


def _overall(tables: list[GroupSummary]) -> tuple[int, int]:
    return sum(s.n for s in tables), sum(s.satisfied for s in tables)


def _chain(ctx: HubContext) -> list[str]:
    """The unit's code and its ancestors', nearest first: whose targets may hold it."""
    code = ctx.unit.unit.code
    return [code, *(above.code for above in ctx.units.ancestors(code))]


def _target(ctx: HubContext, year: int, targets: Iterable[StoredTarget]) -> float | None:
    """The target the unit is held to in ``year``: its own from ``targets`` (the targets table's
    rows of :func:`_chain`), else the nearest unit's above it, else its catalogue's
    (:func:`hub.domain.trends.target_for`)."""
    code = ctx.unit.unit.code
    stored = {(t.unit, t.year): t.rate for t in targets}
    return target_for(code, year, stored, ctx.units, ctx.unit.unit.target_rate).rate


def _headline(
    unit: Unit,
    current: Period,
    totals: tuple[tuple[int, int], tuple[int, int]],
    response: Coverage | None = None,
    target: float | None = None,
) -> Headline:
    """``totals``: (ratings, satisfied) of ``current`` and of the period before it (read by the
    caller in the page's one session: a round trip per session saved). ``target``: the rate the
    unit is held to (None: the catalogue's)."""
    goal = unit.unit.target_rate if target is None else target
    (now_n, now_ok), (was_n, was_ok) = totals
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
    today = local_today(ctx.clock(), unit.zone)  # the unit's clock, its periods' days
    selected = period(shown, today, unit.zone)
    cards = [period(kind, today, unit.zone) for kind in PERIODS]
    with ctx.sessions() as session:  # the whole page from one session: fewer round trips
        target = _target(ctx, today.year, targets_of(session, _chain(ctx), [today.year]))
        # Every headline's response in one pass over the register.
        responses = spans_coverage(session, unit, [p.bounds() for p in cards])
        # The ten headline totals (each period and the one before) from one statement.
        spans = [b for p in cards for b in (p.bounds(), p.previous().bounds())]
        read = unit_totals_of_spans(session, unit, spans)
        totals = list(zip(read[::2], read[1::2], strict=True))
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
    headlines = [
        _headline(unit, p, t, r, target) for p, t, r in zip(cards, totals, responses, strict=True)
    ]
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
        response=response_cell,
        channels=channels,
    )


@router.get("/public")
def public_summary(request: Request, ctx: Ctx) -> HTMLResponse:
    """What a unit publishes: MĐHL this quarter and by field. No officers, no comments."""
    unit = ctx.unit
    quarter = period("quarter", local_today(ctx.clock(), unit.zone), unit.zone)
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
