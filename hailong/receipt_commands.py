"""``hailong receipt`` and ``hailong keys``: receipts at the counter and the keys that sign them.

Part of the command line (registered by :mod:`hailong.cli`); the work is in :mod:`hub.receipts`
and :mod:`hailong.provision`, imported inside each command.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from hailong.cli_support import hub_option, load_hub_unit, served_unit, unit_option
from hailong.contract.clock import unit_time
from hailong.settings import ConfigError, HubSettings, Unit

if TYPE_CHECKING:
    from hub.receipts.desk import Printed, ReceiptDesk


@click.group()
def receipt() -> None:
    """Issue and check receipts (Giấy tiếp nhận hồ sơ và hẹn trả kết quả)."""


def _desk(config_path: Path, unit_code: str | None) -> tuple[HubSettings, Unit, ReceiptDesk]:
    """The receipt desk of the unit ``--unit`` names (default: the home unit), which reaches
    that unit's receipts only."""
    from hub.receipts.desk import ReceiptDesk
    from hub.store.db import make_engine, session_factory

    settings, home = load_hub_unit(config_path)
    unit = served_unit(settings, home, unit_code)
    sessions = session_factory(make_engine(settings.hub.database_url))
    return settings, unit, ReceiptDesk(settings, unit, sessions)


def _report_print(printed: Printed) -> None:
    code = printed.receipt.code
    click.echo(f"Mã hồ sơ / dossier code: {code}")
    click.echo(f"QR: {printed.receipt.url}")
    if printed.printer is None:
        click.echo(
            f"chưa cấu hình máy in cho quầy / no printer for counter {printed.receipt.claims.counter}; receipt kept, not printed"
        )
    elif printed.error is not None:
        raise click.ClickException(
            f"{printed.error.message_vi} / {printed.error.message_en} — "
            f"giấy hẹn {code} vẫn được lưu, in lại bằng / the receipt is kept, reprint it with: "
            f"hailong receipt reprint {code}"
        )
    else:
        click.echo(f"đã in / printed on {printed.printer}")


def _issue_options(command: Callable[..., None]) -> Callable[..., None]:
    for option in reversed(
        [
            click.option("--counter", required=True, help="Counter code, e.g. Q1."),
            click.option("--officer", required=True, help="Officer's code, e.g. CB001."),
            click.option(
                "--procedure", required=True, help="National procedure code, e.g. 1.001193."
            ),
            click.option(
                "--promised",
                type=click.DateTime(["%Y-%m-%d"]),
                help="Promised date of the result (YYYY-MM-DD).",
            ),
        ]
    ):
        command = option(command)
    return command


@receipt.command("issue")
@hub_option
@unit_option
@_issue_options
@click.option("--citizen-name", help="Citizen's name (personal data; optional).")
@click.option("--contact", help="Citizen's phone or e-mail (personal data; optional).")
@click.option("--png", type=click.Path(path_type=Path), help="Also save the slip as a PNG.")
def receipt_issue(
    config_path: Path,
    unit_code: str | None,
    counter: str,
    officer: str,
    procedure: str,
    promised: datetime | None,
    citizen_name: str | None,
    contact: str | None,
    png: Path | None,
) -> None:
    """Issue a receipt and print it on the counter's printer."""
    from hub.receipts.desk import IssueRequest
    from hub.receipts.issuing import ReceiptIssueError
    from hub.receipts.slip import render_slip

    settings, unit, desk = _desk(config_path, unit_code)
    request = IssueRequest(
        counter, officer, procedure, promised.date() if promised else None, citizen_name, contact
    )
    try:
        printed = desk.issue(request)
    except ReceiptIssueError as exc:
        raise click.ClickException(str(exc)) from exc
    if png is not None:
        printer = settings.printers.get(counter)
        width = printer.paper_width_mm if printer else 80
        render_slip(printed.receipt, unit, paper_width_mm=width).save(png)
        click.echo(f"slip image: {png}")
    _report_print(printed)


@receipt.command("register")
@hub_option
@unit_option
@click.argument("scanned")
@_issue_options
def receipt_register(
    config_path: Path,
    unit_code: str | None,
    scanned: str,
    counter: str,
    officer: str,
    procedure: str,
    promised: datetime | None,
) -> None:
    """Sign another system's receipt (its dossier code) and print a slip with our QR."""
    from hub.receipts.desk import IssueRequest
    from hub.receipts.issuing import ReceiptIssueError

    _settings, _unit, desk = _desk(config_path, unit_code)
    request = IssueRequest(counter, officer, procedure, promised.date() if promised else None)
    try:
        printed = desk.register(scanned, request)
    except ReceiptIssueError as exc:
        raise click.ClickException(str(exc)) from exc
    _report_print(printed)


@receipt.command("reprint")
@hub_option
@unit_option
@click.argument("code")
def receipt_reprint(config_path: Path, unit_code: str | None, code: str) -> None:
    """Print a receipt again (after paper out, a jam, a lost slip)."""
    from hub.receipts.issuing import UnknownReceiptError

    _settings, _unit, desk = _desk(config_path, unit_code)
    try:
        printed = desk.reprint(code)
    except UnknownReceiptError as exc:
        raise click.ClickException(str(exc)) from exc
    _report_print(printed)


@receipt.command("return")
@hub_option
@unit_option
@click.argument("scanned")
@click.option("--officer", required=True, help="The officer handing back the result, e.g. CB002.")
@click.option(
    "--counter", default=None, help="Where (its kiosks offer the rating); default: the officer's."
)
def receipt_return(
    config_path: Path, unit_code: str | None, scanned: str, officer: str, counter: str | None
) -> None:
    """Record the return of the result (trả kết quả): later ratings are for the return stage."""
    from hub.receipts.issuing import ReceiptIssueError, UnknownReceiptError

    _settings, unit, desk = _desk(config_path, unit_code)
    try:
        record = desk.record_return(scanned, officer, counter=counter)
    except (ReceiptIssueError, UnknownReceiptError) as exc:
        raise click.ClickException(str(exc)) from exc
    when = unit_time(record.returned_at, unit.zone).strftime("%d/%m/%Y %H:%M")
    again = " (đã ghi trước đó / recorded before)" if record.already else ""
    click.echo(f"Đã trả kết quả / returned: {record.code} by {record.returned_by} at {when}{again}")
    if record.offered_to:
        kiosks = ", ".join(record.offered_to)
        click.echo(f"Mời đánh giá tại / rating offered at: {kiosks}")


@receipt.command("verify")
@hub_option
@unit_option
@click.argument("text")
def receipt_verify(config_path: Path, unit_code: str | None, text: str) -> None:
    """Say whether a scanned text is a valid receipt of this unit (or ``--unit``'s), and why."""
    from hub.receipts.verification import describe_scan

    settings, home = load_hub_unit(config_path)
    unit = served_unit(settings, home, unit_code)
    today = unit_time(datetime.now(UTC), unit.zone).date()  # a slip's age: the unit's days
    ok, message = describe_scan(
        text, settings.receipts.keyring(), unit.unit.code, today=today, book=unit.code_book()
    )
    click.echo(message)
    sys.exit(0 if ok else 1)


@click.group()
def keys() -> None:
    """Receipt signing keys (khóa ký giấy hẹn)."""


@keys.command("rotate")
@hub_option
@click.option(
    "--grace-days",
    type=click.IntRange(min=0),
    default=90,
    show_default=True,
    help="Days the previous key still verifies the receipts it signed.",
)
def keys_rotate(config_path: Path, grace_days: int) -> None:
    """Make a new receipt key active; the previous one verifies GRACE_DAYS more days."""
    from hailong.provision import SecretsLayout, rotate_receipt_key

    settings, _unit = load_hub_unit(config_path)
    layout = SecretsLayout(settings.receipts.key_dir.parent)
    r = rotate_receipt_key(layout, grace_days, active_key=settings.receipts.active_key)
    if not r.rotated:
        click.echo(
            f"Khóa {r.active} đã được tạo hôm nay, không thay đổi gì. / "
            f"Key {r.active} was already made today; nothing changed."
        )
        return
    click.echo(f"created {r.key_file}")
    until = f"{unit_time(r.valid_until, _unit.zone):%H:%M:%S %d/%m/%Y}" if r.valid_until else "?"
    click.echo(
        f"Khóa {r.active} ký từ nay; khóa {r.retired} còn hiệu lực đến {until}. / "
        f"Key {r.active} signs from now on; key {r.retired} verifies until {until}. "
        f"Copy {layout.receipt_public_keys} (public keys only) to every kiosk."
    )


@keys.command("revoke")
@hub_option
@click.argument("key_id")
def keys_revoke(config_path: Path, key_id: str) -> None:
    """Refuse KEY_ID's receipts from now on, at the hub and (through the unit config) at kiosks."""
    from hailong.provision import SecretsLayout, revoke_receipt_key

    settings, _unit = load_hub_unit(config_path)
    layout = SecretsLayout(settings.receipts.key_dir.parent)
    try:
        r = revoke_receipt_key(layout, key_id, active_key=settings.receipts.active_key)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc
    when = f"{unit_time(r.revoked_at, _unit.zone):%H:%M:%S %d/%m/%Y}"
    if r.already:
        click.echo(f"Khóa {key_id} đã bị thu hồi lúc {when}. / Key {key_id} was revoked at {when}.")
        return
    if r.rotation is not None:
        click.echo(
            f"Khóa mới {r.rotation.active} ký từ nay. / New key {r.rotation.active} signs from now "
            f"on: copy {layout.receipt_public_keys} to every kiosk."
        )
    click.echo(
        f"Đã thu hồi khóa {key_id} lúc {when}: giấy hẹn ký bằng khóa này bị từ chối ngay. / "
        f"Key {key_id} revoked at {when}: its receipts are refused at once (the running hub "
        "tells the kiosks through the unit config)."
    )
