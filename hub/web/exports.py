"""Exports of the dashboard (CSV, XLSX) and the quarterly PDF report, made in the background.

The same rules as the dashboard (:mod:`hub.web.dashboard`), for the unit the page is about
(``?unit=``, within the login's scope: :func:`hub.web.pages.unit_page`): a unit head or an
administrator gets the unit's tables; an officer gets their own line only. The quarterly report is for unit heads and
administrators: ``POST /reports/quarterly`` starts a job on a worker thread and answers at once
(202), ``GET /reports/jobs/{id}`` tells its progress, ``GET /reports/jobs/{id}/file`` gives the
PDF when it is done. A job is visible only to the login that started it.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request, status
from fastapi.responses import JSONResponse, RedirectResponse, Response

from hailong.settings.loading import ConfigError
from hub.domain.access import reach
from hub.domain.indices import parse_period
from hub.domain.periods import LOCAL, PeriodKind, local_today, period
from hub.exports import pdf
from hub.exports.csv_xlsx import (
    CSV_MEDIA_TYPE,
    XLSX_MEDIA_TYPE,
    official_xlsx,
    to_csv,
    to_xlsx,
)
from hub.exports.gather import Progress, dashboard_export, quarterly
from hub.exports.jobs import TooManyJobs
from hub.exports.official import Letterhead, Scope, letterhead, place_of, report_filename
from hub.exports.official_gather import ReportDesk
from hub.exports.official_pdf import report_pdf
from hub.exports.tables import Export, quarter_period
from hub.indices import load_criteria
from hub.report import Dimension
from hub.web.accounts import Account
from hub.web.context import Ctx, HubContext
from hub.web.pages import Here, UnitPage, check_csrf, render, signed_in

router = APIRouter(include_in_schema=False)

Shown = Annotated[PeriodKind, Query(alias="period")]
Breakdown = Annotated[Literal["all"] | Dimension, Query()]


def _head(page: Here) -> UnitPage:
    """The unit page (``?unit=``, within the scope) of a head or an administrator."""
    if page.account.role not in ("head", "admin"):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "unit heads and administrators only")
    return page


Head = Annotated[UnitPage, Depends(_head)]


def _any_unit(request: Request) -> Account:
    """A login of any unit the hub serves (a commune's, the province's): a report's own checks
    of reach follow, and a job is its starter's alone. Not signed in: to the login page."""
    account = signed_in(request, any_unit=True)
    if account is None:
        raise HTTPException(
            status.HTTP_303_SEE_OTHER, "login required", headers={"Location": "/staff/login"}
        )
    return account


AnyLogin = Annotated[Account, Depends(_any_unit)]


def _export(
    ctx: HubContext, account: Account, shown: PeriodKind, dimension: Literal["all"] | Dimension
) -> Export:
    zone = ctx.unit.zone  # the unit's clock
    selected = period(shown, local_today(ctx.clock(), zone), zone)
    wanted = None if dimension == "all" else dimension
    # An officer account without an officer code matches no line (not the "unknown" one).
    own = (account.officer or "") if account.role == "officer" else None
    with ctx.sessions() as session:
        return dashboard_export(session, ctx.unit, selected, wanted, only_officer=own)


def _download(content: bytes, media_type: str, filename: str) -> Response:
    headers = {
        "Content-Disposition": f'attachment; filename="{filename}"',
        "Cache-Control": "no-store",  # figures with names in them: not for shared caches
    }
    return Response(content, media_type=media_type, headers=headers)


@router.get("/dashboard/export.csv")
def export_csv(page: Here, shown: Shown = "month", dimension: Breakdown = "all") -> Response:
    export = _export(page.ctx, page.account, shown, dimension)
    return _download(to_csv(export), CSV_MEDIA_TYPE, export.filename("csv"))


@router.get("/dashboard/export.xlsx")
def export_xlsx(page: Here, shown: Shown = "month", dimension: Breakdown = "all") -> Response:
    export = _export(page.ctx, page.account, shown, dimension)
    return _download(to_xlsx(export), XLSX_MEDIA_TYPE, export.filename("xlsx"))


@router.post("/reports/quarterly")
def start_quarterly(
    request: Request,
    page: Head,
    csrf: Annotated[str, Form()],
    quarter: Annotated[str, Form()] = "current",
) -> JSONResponse:
    """Start the quarterly report of ``quarter`` (current, previous or 2026-Q4) of the page's
    unit; 202 at once."""
    check_csrf(request, csrf)
    ctx, account = page.ctx, page.account
    unit, sessions, now = ctx.unit, ctx.sessions, ctx.clock()
    try:
        chosen = quarter_period(quarter, local_today(now, unit.zone)).on(unit.zone)
    except ValueError as error:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(error)) from error
    number = (chosen.first.month - 1) // 3 + 1
    filename = f"bao-cao-mdhl-{unit.unit.code}-{chosen.first.year}-Q{number}.pdf"

    def work(progress: Progress) -> bytes:  # on a worker thread, with its own session
        figures = quarterly(sessions, unit, chosen, now, progress)
        return pdf.quarterly_pdf(figures, progress)

    try:
        job = ctx.jobs.submit(account.username, filename, pdf.MEDIA_TYPE, work)
    except TooManyJobs as error:
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            "báo cáo trước vẫn đang được lập / earlier reports are still being made",
        ) from error
    return JSONResponse(
        job.status(),
        status_code=status.HTTP_202_ACCEPTED,
        headers={"Location": f"/reports/jobs/{job.id}"},
    )


def _not_found() -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, "no such report job")


@router.get("/reports/jobs/{job_id}")
def job_status(ctx: Ctx, account: AnyLogin, job_id: str) -> JSONResponse:
    found = ctx.jobs.status(job_id, account.username)
    if found is None:
        raise _not_found()
    return JSONResponse(found, headers={"Cache-Control": "no-store"})


@router.get("/reports/jobs/{job_id}/file")
def job_file(ctx: Ctx, account: AnyLogin, job_id: str) -> Response:
    job = ctx.jobs.get(job_id, account.username)
    if job is None:
        raise _not_found()
    if job.state != "done" or job.result is None:
        raise HTTPException(status.HTTP_409_CONFLICT, f"the report is {job.state}, not done")
    return _download(job.result, job.media_type, job.filename)


# -- the quarterly and yearly report sent upward (hub.exports.official) ----------------------------


def _reporter(account: Annotated[Account, Depends(_any_unit)]) -> Account:
    if account.role not in ("head", "admin"):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "unit heads and administrators only")
    return account


Reporter = Annotated[Account, Depends(_reporter)]


def report_desk(ctx: HubContext) -> ReportDesk:
    """The reports over the units this hub serves. The criteria are read from ``criteria/``
    beside the unit file (as the command line reads them beside the hub's configuration); when
    there are none the report leaves the official indices out and says so."""
    folder = ctx.settings.hub.unit_file.parent / "criteria"
    try:
        criteria = load_criteria(folder)
    except ConfigError:
        criteria = None
    return ReportDesk(ctx.units, ctx.catalogue_of, ctx.sessions, criteria)


@router.get("/reports/official")
def official_form(request: Request, ctx: Ctx, account: Reporter) -> Response:
    """The form: which period, for which unit (or the province), and the letterhead."""
    seen = reach(account.role, account.scope(ctx.unit.unit.code), account.officer, ctx.units)
    roots = ctx.units.roots()
    province = roots[0] if roots and seen.sees(roots[0].code) and len(ctx.units) > 1 else None
    today = local_today(ctx.clock(), ctx.unit.zone)
    return render(
        request,
        "reports_official.html",
        account=account,
        units=[n for n in ctx.units if seen.sees(n.code)],
        province=province,
        quarter=f"{today.year}Q{(today.month - 1) // 3 + 1}",
    )


def _official_head(
    desk: ReportDesk, code: str, day: date, form: dict[str, str], recipients: str
) -> Letterhead:
    node = desk.tree.get(code)
    assert node is not None  # checked by the caller
    return letterhead(
        issuer=node.name,
        symbol=form["symbol"],
        place=form["place"] or place_of(node.name),
        day=day,
        signer_title=form["signer"],
        authority=desk.authority(code),
        number=form["number"],
        recipients=recipients.splitlines(),
        signer_for=form["signer_for"],
    )


@router.post("/reports/official")
def start_official(
    request: Request,
    ctx: Ctx,
    account: Reporter,
    csrf: Annotated[str, Form()],
    span: Annotated[str, Form(alias="period", max_length=8)],
    scope: Annotated[Scope, Form()] = "unit",
    unit: Annotated[str, Form(max_length=40)] = "",
    fmt: Annotated[Literal["pdf", "xlsx"], Form(alias="format")] = "pdf",
    number: Annotated[str, Form(max_length=6)] = "",
    symbol: Annotated[str, Form(max_length=34)] = "BC-UBND",
    place: Annotated[str, Form(max_length=60)] = "",
    recipients: Annotated[str, Form(max_length=2000)] = "",
    signer: Annotated[str, Form(max_length=80)] = "Chủ tịch",
    signer_for: Annotated[str, Form(max_length=5)] = "",
) -> Response:
    """Start the report as a background job and go to its page (303)."""
    check_csrf(request, csrf)
    now = ctx.clock()
    desk = report_desk(ctx)
    seen = reach(account.role, account.scope(ctx.unit.unit.code), account.officer, ctx.units)
    if scope == "province":
        roots = ctx.units.roots()
        code = roots[0].code if roots else ""
    else:
        code = unit or account.scope(ctx.unit.unit.code)
    if code not in ctx.units or not seen.sees(code):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "not a unit this login may report on")
    form = {
        "symbol": symbol,
        "place": place,
        "signer": signer,
        "number": number,
        "signer_for": signer_for,
    }
    try:
        node = ctx.units.get(code)
        zone = node.zone if node is not None else LOCAL  # the report's unit's clock
        chosen = parse_period(span).on(zone)
        if chosen.first > local_today(now, zone):
            raise ValueError(f"{span!r}: kỳ chưa bắt đầu / the period has not begun")
        head = _official_head(desk, code, local_today(now, zone), form, recipients)
    except ValueError as error:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(error)) from error

    def work(progress: Progress) -> bytes:  # on a worker thread, with its own session
        report = desk.report(scope, code, chosen, now, head, progress)
        return report_pdf(report, progress) if fmt == "pdf" else official_xlsx(report)

    media = pdf.MEDIA_TYPE if fmt == "pdf" else XLSX_MEDIA_TYPE
    filename = report_filename(scope, code, chosen, fmt)
    try:
        job = ctx.jobs.submit(account.username, filename, media, work)
    except TooManyJobs as error:
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            "báo cáo trước vẫn đang được lập / earlier reports are still being made",
        ) from error
    return RedirectResponse(f"/reports/official/jobs/{job.id}", status.HTTP_303_SEE_OTHER)


@router.get("/reports/official/jobs/{job_id}")
def official_job(request: Request, ctx: Ctx, account: AnyLogin, job_id: str) -> Response:
    """The job's progress (the page reloads itself until done), then the download link."""
    found = ctx.jobs.status(job_id, account.username)
    if found is None:
        raise _not_found()
    if found["state"] == "done":
        found["file"] = f"/reports/official/jobs/{job_id}/file"
    response = render(request, "reports_official_job.html", account=account, job=found)
    response.headers["Cache-Control"] = "no-store"
    return response


@router.get("/reports/official/jobs/{job_id}/file")
def official_file(ctx: Ctx, account: AnyLogin, job_id: str) -> Response:
    """The finished file, for the login that started the job (any unit's)."""
    job = ctx.jobs.get(job_id, account.username)
    if job is None:
        raise _not_found()
    if job.state != "done" or job.result is None:
        raise HTTPException(status.HTTP_409_CONFLICT, f"the report is {job.state}, not done")
    return _download(job.result, job.media_type, job.filename)
