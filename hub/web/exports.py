"""Exports of the dashboard (CSV, XLSX) and the quarterly PDF report, made in the background.

The same rules as the dashboard (:mod:`hub.web.dashboard`): a unit head or an administrator gets
the unit's tables; an officer gets their own line only. The quarterly report is for unit heads and
administrators: ``POST /reports/quarterly`` starts a job on a worker thread and answers at once
(202), ``GET /reports/jobs/{id}`` tells its progress, ``GET /reports/jobs/{id}/file`` gives the
PDF when it is done. A job is visible only to the login that started it.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request, status
from fastapi.responses import JSONResponse, Response

from hub.domain.periods import PeriodKind, local_today, period
from hub.exports import pdf
from hub.exports.csv_xlsx import CSV_MEDIA_TYPE, XLSX_MEDIA_TYPE, to_csv, to_xlsx
from hub.exports.gather import Progress, dashboard_export, quarterly
from hub.exports.jobs import TooManyJobs
from hub.exports.tables import Export, quarter_period
from hub.report import Dimension
from hub.web.accounts import Account
from hub.web.context import Ctx, HubContext
from hub.web.dashboard import Viewer
from hub.web.pages import check_csrf

router = APIRouter(include_in_schema=False)

Shown = Annotated[PeriodKind, Query(alias="period")]
Breakdown = Annotated[Literal["all"] | Dimension, Query()]


def _head(account: Viewer) -> Account:
    if account.role not in ("head", "admin"):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "unit heads and administrators only")
    return account


Head = Annotated[Account, Depends(_head)]


def _export(
    ctx: HubContext, account: Account, shown: PeriodKind, dimension: Literal["all"] | Dimension
) -> Export:
    selected = period(shown, local_today(ctx.clock()))
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
def export_csv(
    ctx: Ctx, account: Viewer, shown: Shown = "month", dimension: Breakdown = "all"
) -> Response:
    export = _export(ctx, account, shown, dimension)
    return _download(to_csv(export), CSV_MEDIA_TYPE, export.filename("csv"))


@router.get("/dashboard/export.xlsx")
def export_xlsx(
    ctx: Ctx, account: Viewer, shown: Shown = "month", dimension: Breakdown = "all"
) -> Response:
    export = _export(ctx, account, shown, dimension)
    return _download(to_xlsx(export), XLSX_MEDIA_TYPE, export.filename("xlsx"))


@router.post("/reports/quarterly")
def start_quarterly(
    request: Request,
    ctx: Ctx,
    account: Head,
    csrf: Annotated[str, Form()],
    quarter: Annotated[str, Form()] = "current",
) -> JSONResponse:
    """Start the quarterly report of ``quarter`` (current, previous or 2026-Q4); 202 at once."""
    check_csrf(request, csrf)
    unit, sessions, now = ctx.unit, ctx.sessions, ctx.clock()
    try:
        chosen = quarter_period(quarter, local_today(now))
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
def job_status(ctx: Ctx, account: Viewer, job_id: str) -> JSONResponse:
    found = ctx.jobs.status(job_id, account.username)
    if found is None:
        raise _not_found()
    return JSONResponse(found, headers={"Cache-Control": "no-store"})


@router.get("/reports/jobs/{job_id}/file")
def job_file(ctx: Ctx, account: Viewer, job_id: str) -> Response:
    job = ctx.jobs.get(job_id, account.username)
    if job is None:
        raise _not_found()
    if job.state != "done" or job.result is None:
        raise HTTPException(status.HTTP_409_CONFLICT, f"the report is {job.state}, not done")
    return _download(job.result, job.media_type, job.filename)
