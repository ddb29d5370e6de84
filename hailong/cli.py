"""The ``hailong`` command: one entry point for every part, so operators learn one tool.

Heavy imports (Qt, SQLAlchemy, paho) happen inside each command, so ``hailong receipt verify`` does
not pay for the kiosk's start-up.
"""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from hailong import __version__
from hailong.contract.clock import unit_time
from hailong.db_commands import db
from hailong.settings import (
    ConfigError,
    HubSettings,
    Unit,
    load_bridge,
    load_hub,
    load_kiosk,
    load_unit,
)

if TYPE_CHECKING:
    from hub.receipts.desk import Printed, ReceiptDesk

DEFAULT_HUB = Path("config/hub.toml")
DEFAULT_KIOSK = Path("config/kiosk.toml")
DEFAULT_BRIDGE = Path("config/button-box.toml")

hub_option = click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path),
    default=DEFAULT_HUB,
    show_default=True,
    help="Hub configuration file.",
)


def _load_hub(path: Path) -> tuple[HubSettings, Unit]:
    """The settings and the hub's own unit: from ``unit_file``, or with ``[hub] catalogue =
    "database"`` from the catalogue tables (``[hub] unit``)."""
    settings = load_hub(path)
    if settings.hub.catalogue == "file":
        return settings, load_unit(settings.hub.unit_file)
    from hub.store.catalogue import CatalogueStoreError, home_unit
    from hub.store.db import make_engine, session_factory

    sessions = session_factory(make_engine(settings.hub.database_url))
    try:
        with sessions() as session:
            return settings, home_unit(session, settings.hub.unit)
    except CatalogueStoreError as exc:
        raise ConfigError(f'[hub] catalogue = "database": {exc}') from exc


def _served_units(settings: HubSettings, unit: Unit) -> list[Unit]:
    """Every unit the hub serves: its own from a unit file, or every unit in the tables (their
    kiosks all get MQTT users and ACLs)."""
    if settings.hub.catalogue == "file":
        return [unit]
    from hub.store.catalogue import load_units
    from hub.store.db import make_engine, session_factory

    sessions = session_factory(make_engine(settings.hub.database_url))
    with sessions() as session:
        return list(load_units(session).values())


def _init_secrets(settings: HubSettings, unit: Unit) -> list[Path]:
    """The base's secrets, then the web side's own (logins, cookie key, API token): composed
    here, as ``hailong`` below the command line imports no app."""
    from hailong.provision import init_all
    from hub.web.accounts import init_web_secrets

    created = init_all(settings, _served_units(settings, unit))
    if (web := settings.web) is not None:
        created += init_web_secrets(web.accounts_file, web.api_tokens_file, web.session_key_file)
    return created


@click.group()
@click.version_option(__version__)
@click.option("-v", "--verbose", is_flag=True, help="Log debug messages.")
def cli(verbose: bool) -> None:
    """Hài Lòng: đánh giá mức độ hài lòng tại Bộ phận Một cửa / satisfaction ratings."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if not verbose:  # migrations, and python-escpos (on the root logger), narrate every step
        logging.getLogger("alembic").setLevel(logging.WARNING)
        for handler in logging.getLogger().handlers:
            handler.addFilter(
                lambda record: record.name != "root" or record.levelno >= logging.WARNING
            )


@cli.command()
@hub_option
def init(config_path: Path) -> None:
    """Create missing secrets (receipt key, MQTT passwords, PINs, web logins) under var/secrets."""
    settings, unit = _load_hub(config_path)
    created = _init_secrets(settings, unit)
    for path in created:
        click.echo(f"created {path}")
    click.echo(f"secrets ready in {settings.receipts.key_dir.parent} ({len(created)} new)")


@cli.command()
@hub_option
def broker(config_path: Path) -> None:
    """Write the unit's Mosquitto config (users, ACLs, client ids) and run the broker in the
    foreground. Refused logins, publishes and subscriptions are logged as warnings; if Mosquitto
    dies the command exits with status 1, so systemd restarts it. SIGHUP (systemctl reload)
    writes the files again from the configuration and has Mosquitto reread them."""
    from hailong.broker import (
        BrokerFiles,
        MosquittoProcess,
        kiosk_reads,
        run_supervised,
        write_broker_files,
    )
    from hailong.broker_log import BrokerLog
    from hailong.provision import SecretsLayout, var_dir

    def write_files() -> BrokerFiles:
        """From the configuration as it is now: at start, and again on SIGHUP (systemctl reload)."""
        settings, unit = _load_hub(config_path)
        _init_secrets(settings, unit)
        layout = SecretsLayout(settings.receipts.key_dir.parent)
        out = var_dir(settings) / "broker"
        return write_broker_files(
            _served_units(settings, unit),
            layout,
            out,
            settings.mqtt.port,
            settings.broker,
            supervised=True,
        )

    settings, unit = _load_hub(config_path)
    files = write_files()
    reads = kiosk_reads(_served_units(settings, unit))
    process = MosquittoProcess(
        files, settings.mqtt.port, BrokerLog(reads), flush_login=settings.mqtt
    )
    click.echo(f"mosquitto on {settings.broker.bind}:{settings.mqtt.port}, config {files.conf}")
    sys.exit(run_supervised(process, files.bindings, rewrite=write_files))


@cli.command()
@hub_option
@click.option("--no-web", is_flag=True, help="Do not serve the staff page and the API.")
def hub(config_path: Path, no_web: bool) -> None:
    """Run the hub: ingest ratings, acknowledge after commit, serve the staff page and the API."""
    from hub.service import HubService
    from hub.store.db import make_engine, session_factory

    settings, unit = _load_hub(config_path)
    sessions = session_factory(make_engine(settings.hub.database_url))
    service = HubService(settings, unit, sessions)
    service.start()
    click.echo(f"hub running for {unit.unit.code} ({unit.unit.name}); Ctrl-C to stop")
    try:
        if settings.web is None or no_web:
            _wait_forever()
        else:
            import uvicorn

            from hub.web.app import create_app

            web = settings.web
            click.echo(f"staff page: http://{web.bind}:{web.port}/staff")
            app = create_app(
                settings, unit, sessions, on_rated=service.announce_rated, ingest=service
            )
            proxies = [str(proxy) for proxy in web.trusted_proxies]
            uvicorn.run(
                app, host=web.bind, port=web.port, proxy_headers=True, forwarded_allow_ips=proxies
            )
    finally:
        service.stop()


@cli.command()
@click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path),
    default=DEFAULT_KIOSK,
    show_default=True,
)
@click.option("--windowed", is_flag=True, help="A normal window instead of full screen.")
@click.option(
    "--screenshots",
    type=click.Path(path_type=Path),
    help="Render every screen at every size to PNG files in this folder, then exit.",
)
def kiosk(config_path: Path, windowed: bool, screenshots: Path | None) -> None:
    """Run the kiosk (or render its screens with --screenshots)."""
    from kiosk.app import render_screenshots, run_kiosk

    settings = load_kiosk(config_path)
    if screenshots is not None:
        # Off-line there is no configuration from the hub: use the unit file beside the config.
        unit_file = config_path.parent / "unit.toml"
        catalogue = load_unit(unit_file).to_message() if unit_file.exists() else None
        paths = render_screenshots(settings, screenshots, catalogue)
        click.echo(f"{len(paths)} screenshots in {screenshots}")
        return
    sys.exit(run_kiosk(settings, windowed=windowed))


@cli.command()
@click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path),
    default=DEFAULT_BRIDGE,
    show_default=True,
)
def bridge(config_path: Path) -> None:
    """Run a serial button box (scan, press, light) as a counter without a screen."""
    from kiosk.button_box import run_bridge

    sys.exit(run_bridge(load_bridge(config_path)))


@cli.group()
def receipt() -> None:
    """Issue and check receipts (Giấy tiếp nhận hồ sơ và hẹn trả kết quả)."""


unit_option = click.option(
    "--unit",
    "unit_code",
    help="The unit to act in (default: the hub's home unit), on a hub serving many units. "
    "Only that unit's receipts are reached; another unit's answers as an unknown code.",
)


def _served_unit(settings: HubSettings, home: Unit, unit_code: str | None) -> Unit:
    """The catalogue of ``unit_code`` (a unit the hub serves and holds a catalogue of), or the
    home unit's when none is given; a usage error for any other code."""
    if unit_code is None or unit_code == home.unit.code:
        return home
    from hub.catalogue import Catalogue, UnitFile
    from hub.store.db import make_engine, session_factory

    sessions = session_factory(make_engine(settings.hub.database_url))
    catalogue = Catalogue(settings, sessions, home, UnitFile(settings.hub.unit_file))
    found = catalogue.unit(unit_code) if unit_code in catalogue.tree() else None
    if found is None:
        raise click.BadParameter(f"{unit_code!r}: not a unit this hub serves", param_hint="--unit")
    return found


def _desk(config_path: Path, unit_code: str | None) -> tuple[HubSettings, Unit, ReceiptDesk]:
    """The receipt desk of the unit ``--unit`` names (default: the home unit), which reaches
    that unit's receipts only."""
    from hub.receipts.desk import ReceiptDesk
    from hub.store.db import make_engine, session_factory

    settings, home = _load_hub(config_path)
    unit = _served_unit(settings, home, unit_code)
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
def receipt_return(config_path: Path, unit_code: str | None, scanned: str, officer: str) -> None:
    """Record the return of the result (trả kết quả): later ratings are for the return stage."""
    from hub.receipts.issuing import ReceiptIssueError, UnknownReceiptError

    _settings, _unit, desk = _desk(config_path, unit_code)
    try:
        record = desk.record_return(scanned, officer)
    except (ReceiptIssueError, UnknownReceiptError) as exc:
        raise click.ClickException(str(exc)) from exc
    when = unit_time(record.returned_at).strftime("%d/%m/%Y %H:%M")
    again = " (đã ghi trước đó / recorded before)" if record.already else ""
    click.echo(f"Đã trả kết quả / returned: {record.code} by {record.returned_by} at {when}{again}")


@receipt.command("verify")
@hub_option
@unit_option
@click.argument("text")
def receipt_verify(config_path: Path, unit_code: str | None, text: str) -> None:
    """Say whether a scanned text is a valid receipt of this unit (or ``--unit``'s), and why."""
    from hub.receipts.verification import describe_scan

    settings, home = _load_hub(config_path)
    unit = _served_unit(settings, home, unit_code)
    ok, message = describe_scan(
        text, settings.receipts.keyring(), unit.unit.code, book=unit.code_book()
    )
    click.echo(message)
    sys.exit(0 if ok else 1)


@cli.group()
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

    settings, _unit = _load_hub(config_path)
    layout = SecretsLayout(settings.receipts.key_dir.parent)
    r = rotate_receipt_key(layout, grace_days, active_key=settings.receipts.active_key)
    if not r.rotated:
        click.echo(
            f"Khóa {r.active} đã được tạo hôm nay, không thay đổi gì. / "
            f"Key {r.active} was already made today; nothing changed."
        )
        return
    click.echo(f"created {r.key_file}")
    until = f"{unit_time(r.valid_until):%H:%M:%S %d/%m/%Y}" if r.valid_until else "?"
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

    settings, _unit = _load_hub(config_path)
    layout = SecretsLayout(settings.receipts.key_dir.parent)
    try:
        r = revoke_receipt_key(layout, key_id, active_key=settings.receipts.active_key)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc
    when = f"{unit_time(r.revoked_at):%H:%M:%S %d/%m/%Y}"
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


@cli.group()
def token() -> None:
    """Bearer tokens for other systems' use of the receipt API (a unit's one-stop software)."""


def _tokens(config_path: Path) -> tuple[HubSettings, Unit, Path]:
    settings, home = _load_hub(config_path)
    if settings.web is None:
        raise click.ClickException(f"{config_path}: no [web] section")
    return settings, home, settings.web.api_tokens_file


@token.command("add")
@hub_option
@unit_option
@click.argument("name")
def token_add(config_path: Path, unit_code: str | None, name: str) -> None:
    """Create (or replace) NAME's token, acting in --unit (default: the home unit), and print it
    once: the hub keeps only its SHA-256."""
    from hub.web.accounts import AccountError, ApiTokens

    settings, home, path = _tokens(config_path)
    unit = _served_unit(settings, home, unit_code)
    if not unit.counters:  # a province: its systems act through their communes' tokens
        raise click.BadParameter(
            f"{unit.unit.code!r} has no counters: give a unit whose receipts the token handles",
            param_hint="--unit",
        )
    scope = None if unit is home else unit.unit.code
    try:
        made = ApiTokens(path).create(name, scope)
    except AccountError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(made)
    click.echo(
        f"mã truy cập của {name}, đơn vị {unit.unit.code}: chỉ hiện một lần / "
        f"{name}'s token for unit {unit.unit.code}: shown once",
        err=True,
    )


@token.command("list")
@hub_option
def token_list(config_path: Path) -> None:
    """Each token's name and unit (the tokens themselves are not kept)."""
    from hub.web.accounts import ApiTokens

    _settings, home, path = _tokens(config_path)
    for found in ApiTokens(path).all():
        click.echo(f"{found.name}\t{found.scope(home.unit.code)}")


@token.command("revoke")
@hub_option
@click.argument("name")
def token_revoke(config_path: Path, name: str) -> None:
    """Forget NAME's token: it stops working at once."""
    from hub.web.accounts import ApiTokens

    _settings, _home, path = _tokens(config_path)
    if not ApiTokens(path).revoke(name):
        raise click.ClickException(f"no token named {name!r}")
    click.echo(f"đã thu hồi / revoked: {name}")


@cli.group()
def staff() -> None:
    """Staff logins for the hub's web page."""


@staff.command("add")
@hub_option
@click.argument("username")
@click.option("--role", type=click.Choice(["officer", "head", "admin"]), required=True)
@click.option("--officer", "officer_code", help="For an officer: their code, e.g. CB001.")
@click.option(
    "--unit",
    "unit_code",
    help="The unit the login is scoped to (default: the hub's home unit); a province "
    "account's is the province's code. Heads and admins see that unit and every unit under it.",
)
@click.option(
    "--paper-clerk",
    is_flag=True,
    help="For an officer: may key paper survey forms and assisted ratings (never for their own "
    "dossiers). Heads and admins always may; other officers may not. Give it again with every "
    "update of the login, or the designation is taken away.",
)
@click.password_option(help="At least 10 characters (prompted when not given).")
def staff_add(
    config_path: Path,
    username: str,
    role: str,
    officer_code: str | None,
    unit_code: str | None,
    paper_clerk: bool,
    password: str,
) -> None:
    """Create or update a login (the password is stored as an argon2 hash)."""
    from hub.web.accounts import AccountError, Accounts

    settings, unit = _load_hub(config_path)
    if settings.web is None:
        raise click.ClickException(f"{config_path}: no [web] section")
    scoped = unit
    if unit_code is not None and unit_code != unit.unit.code:
        # Another unit: one the hub serves (the catalogue in the database), with its officers.
        from hub.catalogue import Catalogue, UnitFile
        from hub.store.db import make_engine, session_factory

        sessions = session_factory(make_engine(settings.hub.database_url))
        catalogue = Catalogue(settings, sessions, unit, UnitFile(settings.hub.unit_file))
        found = catalogue.unit(unit_code) if unit_code in catalogue.tree() else None
        if found is None:
            raise click.BadParameter(
                f"{unit_code!r}: not a unit this hub serves", param_hint="--unit"
            )
        scoped = found
    if officer_code and officer_code not in {o.code for o in scoped.officers}:
        raise click.ClickException(f"unknown officer {officer_code!r}")
    try:
        Accounts(settings.web.accounts_file).add(
            username,
            password,
            role,  # type: ignore[arg-type]
            officer_code,
            unit_code,
            paper_clerk=paper_clerk,
        )
    except AccountError as exc:
        raise click.ClickException(str(exc)) from exc
    scope = unit_code or unit.unit.code
    clerk = ", nhập phiếu / paper clerk" if paper_clerk else ""
    click.echo(f"saved {username} ({role}{clerk}, đơn vị / unit {scope})")


@cli.group()
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

    settings, unit = _load_hub(config_path)
    sessions = session_factory(make_engine(settings.hub.database_url))
    from hub.store.ratings import LOCAL_ZONE

    # The dates an officer types are Hà Nội dates, as the rollups' days are.
    start = since.replace(tzinfo=LOCAL_ZONE) if since else None
    end = until.replace(tzinfo=LOCAL_ZONE) if until else None
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

    settings, unit = _load_hub(config_path)
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

    settings, unit = _load_hub(config_path)
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

    from hailong.contract.clock import UNIT_ZONE
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
    settings, unit = _load_hub(config_path)
    book = load_criteria(criteria_dir or criteria_folder(config_path))
    now = datetime.now(UTC) if as_of is None else datetime.combine(as_of, time(12), UNIT_ZONE)
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
    settings, unit = _load_hub(config_path)
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
    try:
        head = letterhead(
            issuer=node.name,
            symbol=str(given["symbol"]),
            place=str(given["place"]) or place_of(node.name),
            day=unit_time(now).date(),
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


@cli.group()
def catalogue() -> None:
    """The catalogue in the database (danh mục): units, their parents and lists."""


@catalogue.command("import")
@hub_option
@click.argument("unit_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--parent", help="The code of the unit it belongs to (a province, say).")
@click.option(
    "--kind",
    type=click.Choice(["province", "commune", "department"]),
    default="commune",
    show_default=True,
    help="What the unit is.",
)
def catalogue_import(config_path: Path, unit_file: Path, parent: str | None, kind: str) -> None:
    """Put a unit file's catalogue into the database tables (again: replaces that unit's lists)."""
    from hub.store.catalogue import CatalogueStoreError, import_unit
    from hub.store.db import make_engine, session_factory

    settings = load_hub(config_path)
    unit = load_unit(unit_file)
    sessions = session_factory(make_engine(settings.hub.database_url))
    try:
        with sessions.begin() as session:
            import_unit(session, unit, parent, kind)
    except CatalogueStoreError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(
        f"imported {unit.unit.code} ({unit.unit.name}): {len(unit.counters)} counters, "
        f"{len(unit.officers)} officers, {len(unit.procedures)} procedures, "
        f"{len(unit.kiosks)} kiosks"
    )


@catalogue.command("list")
@hub_option
def catalogue_list(config_path: Path) -> None:
    """The units in the database, each under its parent."""
    from hub.store.catalogue import summaries
    from hub.store.db import make_engine, session_factory

    settings = load_hub(config_path)
    sessions = session_factory(make_engine(settings.hub.database_url))
    with sessions() as session:
        rows = summaries(session)
    if not rows:
        click.echo("no unit in the database: `hailong catalogue import config/unit.toml`")
        return
    depth: dict[str, int] = {}
    for row in rows:
        depth[row.code] = depth[row.parent] + 1 if row.parent is not None else 0
        click.echo(
            f"{'  ' * depth[row.code]}{row.code}  {row.name} [{row.kind}]  "
            f"{row.counters} counters, {row.officers} officers, {row.procedures} procedures, "
            f"{row.kiosks} kiosks"
        )


@cli.command()
@hub_option
@click.option("--kiosk-config", type=click.Path(path_type=Path), default=DEFAULT_KIOSK)
@click.option("--every", type=float, default=20.0, show_default=True, help="Seconds per receipt.")
@click.option(
    "--autopilot/--no-autopilot",
    default=None,
    help="Let a simulated citizen tap a face (default: on when there is no display).",
)
@click.option("--duration", type=float, help="Stop after this many seconds.")
def demo(
    config_path: Path,
    kiosk_config: Path,
    every: float,
    autopilot: bool | None,
    duration: float | None,
) -> None:
    """Run everything: broker, hub, a kiosk and a simulated counter issuing receipts."""
    from hailong.demo import run_demo

    sys.exit(run_demo(config_path, kiosk_config, every, autopilot, duration))


@cli.group("export")
def export_group() -> None:
    """Data out: the dossier feed to a one-stop system (docs/data-out.md)."""


@export_group.command("dossiers")
@hub_option
@click.option(
    "--to",
    "destination",
    required=True,
    help="file:FOLDER (JSON Lines, a file per run) or an https:// URL (JSON POST per batch).",
)
@click.option(
    "--since",
    type=click.DateTime(["%Y-%m-%d"]),
    help="Leave out ratings given before this day (the unit's date, YYYY-MM-DD).",
)
@click.option("--unit", "unit_code", help="Only this unit's ratings (default: every unit).")
@click.option("--max-batches", type=click.IntRange(min=1), help="Stop after this many batches.")
def export_dossiers(
    config_path: Path,
    destination: str,
    since: datetime | None,
    unit_code: str | None,
    max_batches: int | None,
) -> None:
    """Send the ratings of dossiers stored since the last run (scores, channel, times; no
    personal data). Resumable: the cursor moves only past what the destination took."""
    from datetime import UTC, timedelta

    from hailong.contract.clock import UNIT_ZONE
    from hailong.provision import var_dir
    from hub.exports.feed import (
        ExportError,
        ExportRun,
        FileExporter,
        cursor_for,
        export_dossiers,
        exporter_for,
    )
    from hub.store.db import make_engine, session_factory
    from hub.store.feed import FeedRowError

    settings = load_hub(config_path)
    options = settings.export
    try:
        exporter = exporter_for(
            destination,
            token=options.token,
            timeout=options.timeout_seconds,
            attempts=options.attempts,
            backoff=options.backoff_seconds,
            ca_file=options.ca_file,
        )
    except ExportError as exc:
        raise click.ClickException(str(exc)) from exc
    folder = options.cursor_dir or var_dir(settings) / "export"
    cursor = cursor_for(folder, exporter.describe(), unit_code)
    sessions = session_factory(make_engine(settings.hub.database_url))

    def report(run: ExportRun) -> None:
        click.echo(f"{exporter.describe()}: {run.records} records in {run.batches} batches")

    try:
        run = export_dossiers(
            sessions,
            exporter,
            cursor,
            now=datetime.now(UTC),
            # A file per run (up to 5000 records); a POST per [export] batch_size.
            batch_size=5000 if isinstance(exporter, FileExporter) else options.batch_size,
            settle=timedelta(seconds=options.settle_seconds),
            rated_since=since.replace(tzinfo=UNIT_ZONE) if since else None,
            unit=unit_code,
            source=settings.hub.public_base_url,
            max_batches=max_batches,
            progress=report,
        )
    except (ExportError, FeedRowError) as exc:
        raise click.ClickException(f"{exc} (cursor kept: {cursor.path})") from exc
    click.echo(f"sent {run.records} records in {run.batches} batches; cursor {cursor.path}")


cli.add_command(db)


def _wait_forever() -> None:
    import signal
    import threading

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with contextlib.suppress(KeyboardInterrupt):
        stop.wait()


def main() -> None:
    try:
        cli(standalone_mode=True)
    except ConfigError as exc:
        click.echo(f"Configuration error:\n{exc}", err=True)
        sys.exit(2)
    except ModuleNotFoundError as exc:
        # A machine installs its role only (README, "Installing one role"): a hub has no Qt.
        click.echo(
            f"{exc.name} is not installed: this command needs a role not installed here: "
            "pip install 'hailong[hub]', 'hailong[kiosk]' or 'hailong[bridge]'",
            err=True,
        )
        sys.exit(2)
