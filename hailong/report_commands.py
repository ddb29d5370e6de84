"""``hailong report``: reports for unit heads, from the summary to the official quarterly report.

Part of the command line (registered by :mod:`hailong.cli`); the work is in :mod:`hub.report`,
:mod:`hub.indices` and :mod:`hub.exports`, imported inside each command.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import click

from hailong.cli_support import hub_option, load_hub_unit
from hailong.contract.clock import unit_time


@click.group()
def report() -> None:
    """Reports for unit heads."""


@report.command("summary")
@hub_option
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]), help="First day (YYYY-MM-DD).")
@click.option("--until", type=click.DateTime(["%Y-%m-%d"]), help="Day after the last.")
def report_summary(config_path: Path, since: datetime | None, until: datetime | None) -> None:
    """MĐHL (%, n, 95 % CI) per counter, officer, procedure and field; per channel (kiosk,
    button box, online, paper, the assisted apart); and the response: receipts issued in the
    period, rated, abandoned and not reached."""
    from hub.channels import channel_figures
    from hub.coverage import coverage_report, format_coverage
    from hub.domain.channels import format_channels
    from hub.report import DIMENSIONS, Scope, format_summary, summary, uncounted_totals
    from hub.store.db import make_engine, session_factory

    settings, unit = load_hub_unit(config_path)
    sessions = session_factory(make_engine(settings.hub.database_url))
    # The dates an officer types are the unit's dates (its time_zone), as the rollups' days are.
    start = since.replace(tzinfo=unit.zone) if since else None
    end = until.replace(tzinfo=unit.zone) if until else None
    with sessions() as session:
        tables = {dim: summary(session, Scope(unit, start, end), dim) for dim in DIMENSIONS}
        apart = uncounted_totals(session, Scope(unit, start, end))
        covered = coverage_report(session, Scope(unit, start, end))
        channels = channel_figures(session, Scope(unit, start, end))
    click.echo(format_summary(unit, tables, apart))
    click.echo("")
    click.echo(format_channels(channels))
    click.echo("")
    click.echo(format_coverage(covered, tables))


@report.command("kiosks")
@hub_option
def report_kiosks(config_path: Path) -> None:
    """Each kiosk's last status: link, buffered ratings, version, receipts refused per reason."""
    from hub.fleet_report import format_kiosks, kiosk_statuses
    from hub.store.db import make_engine, session_factory

    settings, unit = load_hub_unit(config_path)
    sessions = session_factory(make_engine(settings.hub.database_url))
    with sessions() as session:
        click.echo(format_kiosks(unit, kiosk_statuses(session, unit)))


@report.command("gaps")
@hub_option
def report_gaps(config_path: Path) -> None:
    """Ratings each kiosk sent that never arrived: gaps in its seq numbers."""
    from hub.fleet_report import format_gaps
    from hub.store.db import make_engine, session_factory
    from hub.store.gaps import find_gaps

    settings, unit = load_hub_unit(config_path)
    sessions = session_factory(make_engine(settings.hub.database_url))
    with sessions() as session:
        click.echo(format_gaps(unit, find_gaps(session, unit.unit.code)))


@report.command("indices")
@hub_option
@click.option("--quarter", help="A quarter, e.g. 2026Q3.")
@click.option("--year", help="A year, e.g. 2026.")
@click.option(
    "--criteria",
    "criteria_dir",
    type=click.Path(path_type=Path),
    help="Criteria folder (default: criteria/ beside the hub configuration).",
)
@click.option("--unit", "unit_codes", multiple=True, help="Unit code (repeat; default: the hub's).")
@click.option(
    "--as-of",
    type=click.DateTime(["%Y-%m-%d"]),
    help="Judge lateness as on this day (YYYY-MM-DD; default: today).",
)
def report_indices(
    config_path: Path,
    quarter: str | None,
    year: str | None,
    criteria_dir: Path | None,
    unit_codes: tuple[str, ...],
    as_of: datetime | None,
) -> None:
    """Official indices (TT 01/2018/TT-VPCP, QĐ 766): officers and units, with their bands."""
    from datetime import UTC, time

    from hub.domain.indices import parse_period
    from hub.indices import (
        IndicesDesk,
        NoCriteria,
        criteria_folder,
        format_indices,
        load_criteria,
    )
    from hub.store.db import make_engine, session_factory

    if (quarter is None) == (year is None):
        raise click.UsageError("give --quarter (e.g. 2026Q3) or --year (e.g. 2026)")
    kind, text = ("quarter", quarter) if quarter is not None else ("year", year)
    try:
        span = parse_period(text or "")
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint=f"--{kind}") from exc
    if span.kind != kind:
        raise click.BadParameter(f"{text!r} is not a {kind}", param_hint=f"--{kind}")
    settings, unit = load_hub_unit(config_path)
    span = span.on(unit.zone)  # the quarter's days on the unit's clock
    book = load_criteria(criteria_dir or criteria_folder(config_path))
    now = datetime.now(UTC) if as_of is None else datetime.combine(as_of, time(12), unit.zone)
    desk = IndicesDesk(session_factory(make_engine(settings.hub.database_url)), book)
    try:
        indices = desk.report(unit_codes or (unit.unit.code,), span, now)
    except NoCriteria as exc:
        raise click.ClickException(str(exc)) from exc
    names = {unit.unit.code: unit.unit.name, **{o.code: o.name for o in unit.officers}}
    click.echo(format_indices(indices, names))


def _official_options(command: Callable[..., None]) -> Callable[..., None]:
    """The options the quarterly and yearly reports share: what, for whom, the letterhead."""
    options = [
        click.option("--unit", "unit_code", help="A unit's report (default: the hub's unit)."),
        click.option("--province", is_flag=True, help="The province's report: every unit."),
        click.option("--pdf", "pdf_path", type=click.Path(path_type=Path), help="Write the PDF."),
        click.option(
            "--xlsx", "xlsx_path", type=click.Path(path_type=Path), help="Write the XLSX."
        ),
        click.option("--number", default="", help="Số (digits); empty: left for the clerk."),
        click.option("--symbol", default="BC-UBND", show_default=True, help="Ký hiệu: BC-…"),
        click.option("--place", default="", help="Địa danh of the date line (default: from name)."),
        click.option("--recipient", "recipients", multiple=True, help="Nơi nhận (repeat)."),
        click.option("--signer", default="Chủ tịch", show_default=True, help="Chức vụ người ký."),
        click.option("--signer-for", default="", help="TM., KT., Q., TL. or TUQ."),
        click.option("--criteria", "criteria_dir", type=click.Path(path_type=Path)),
        click.option("--as-of", type=click.DateTime(["%Y-%m-%d"]), help="Report's day."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _official(config_path: Path, span_text: str, kind: str, **given: object) -> None:
    """Build the official report of ``span_text`` and write the files asked for."""
    from datetime import UTC, time
    from typing import Literal

    from hailong.contract.clock import UNIT_ZONE
    from hub.catalogue import Catalogue, UnitFile
    from hub.domain.indices import parse_period
    from hub.exports.csv_xlsx import official_xlsx
    from hub.exports.official import letterhead, place_of
    from hub.exports.official_gather import ReportDesk, UnknownUnit
    from hub.exports.official_pdf import report_pdf
    from hub.indices import criteria_folder, load_criteria
    from hub.store.db import make_engine, session_factory

    try:
        span = parse_period(span_text)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint=f"--{kind}") from exc
    if span.kind != kind:
        raise click.BadParameter(f"{span_text!r} is not a {kind}", param_hint=f"--{kind}")
    pdf_path, xlsx_path = given["pdf_path"], given["xlsx_path"]
    if pdf_path is None and xlsx_path is None:
        raise click.UsageError("give --pdf and/or --xlsx")
    if given["province"] and given["unit_code"]:
        raise click.UsageError("give --unit or --province, not both")
    settings, unit = load_hub_unit(config_path)
    sessions = session_factory(make_engine(settings.hub.database_url))
    catalogue = Catalogue(settings, sessions, unit, UnitFile(settings.hub.unit_file))
    folder = given["criteria_dir"] or criteria_folder(config_path)
    book = load_criteria(folder) if isinstance(folder, Path) and folder.is_dir() else None
    desk = ReportDesk(catalogue.tree(), catalogue.unit, sessions, book)
    as_of = given["as_of"]
    now = (
        datetime.combine(as_of, time(12), UNIT_ZONE)
        if isinstance(as_of, datetime)
        else datetime.now(UTC)
    )
    scope: Literal["unit", "province"] = "province" if given["province"] else "unit"
    code = (
        desk.province_code() if scope == "province" else str(given["unit_code"] or unit.unit.code)
    )
    node = desk.tree.get(code)
    if node is None:
        raise click.BadParameter(f"{code!r}: not a unit this hub serves", param_hint="--unit")
    if isinstance(as_of, datetime):  # the report's day, at noon on its unit's clock
        now = datetime.combine(as_of, time(12), node.zone)
    span = span.on(node.zone)
    try:
        head = letterhead(
            issuer=node.name,
            symbol=str(given["symbol"]),
            place=str(given["place"]) or place_of(node.name),
            day=unit_time(now, node.zone).date(),
            signer_title=str(given["signer"]),
            authority=desk.authority(code),
            number=str(given["number"]),
            recipients=[str(r) for r in given["recipients"]],  # type: ignore[attr-defined]
            signer_for=str(given["signer_for"]),
        )
        report = desk.report(scope, code, span, now, head)
    except (ValueError, UnknownUnit) as exc:
        raise click.ClickException(str(exc)) from exc
    if isinstance(pdf_path, Path):
        pdf_path.write_bytes(report_pdf(report))
        click.echo(f"PDF: {pdf_path}")
    if isinstance(xlsx_path, Path):
        xlsx_path.write_bytes(official_xlsx(report))
        click.echo(f"XLSX: {xlsx_path}")
    for what in report.left_out:
        click.echo(f"chưa có số liệu / left out: {what}")


@report.command("quarterly")
@hub_option
@click.option("--quarter", required=True, help="A quarter, e.g. 2026Q3.")
@_official_options
def report_quarterly(config_path: Path, quarter: str, **given: object) -> None:
    """The quarterly report as sent upward (PDF in the official layout, XLSX, same tables)."""
    _official(config_path, quarter, "quarter", **given)


@report.command("yearly")
@hub_option
@click.option("--year", required=True, help="A year, e.g. 2026.")
@_official_options
def report_yearly(config_path: Path, year: str, **given: object) -> None:
    """The yearly report as sent upward (PDF in the official layout, XLSX, same tables)."""
    _official(config_path, year, "year", **given)
