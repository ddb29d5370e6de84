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
    settings = load_hub(path)
    return settings, load_unit(settings.hub.unit_file)


def _init_secrets(settings: HubSettings, unit: Unit) -> list[Path]:
    """The base's secrets, then the web side's own (logins, cookie key, API token): composed
    here, as ``hailong`` below the command line imports no app."""
    from hailong.provision import init_all
    from hub.web.accounts import init_web_secrets

    created = init_all(settings, unit)
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
            unit, layout, out, settings.mqtt.port, settings.broker, supervised=True
        )

    settings, unit = _load_hub(config_path)
    files = write_files()
    process = MosquittoProcess(
        files, settings.mqtt.port, BrokerLog(kiosk_reads(unit)), flush_login=settings.mqtt
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


def _desk(config_path: Path) -> tuple[HubSettings, Unit, ReceiptDesk]:
    from hub.receipts.desk import ReceiptDesk
    from hub.store.db import make_engine, session_factory

    settings, unit = _load_hub(config_path)
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
@_issue_options
@click.option("--citizen-name", help="Citizen's name (personal data; optional).")
@click.option("--contact", help="Citizen's phone or e-mail (personal data; optional).")
@click.option("--png", type=click.Path(path_type=Path), help="Also save the slip as a PNG.")
def receipt_issue(
    config_path: Path,
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

    settings, unit, desk = _desk(config_path)
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
@click.argument("scanned")
@_issue_options
def receipt_register(
    config_path: Path,
    scanned: str,
    counter: str,
    officer: str,
    procedure: str,
    promised: datetime | None,
) -> None:
    """Sign another system's receipt (its dossier code) and print a slip with our QR."""
    from hub.receipts.desk import IssueRequest
    from hub.receipts.issuing import ReceiptIssueError

    _settings, _unit, desk = _desk(config_path)
    request = IssueRequest(counter, officer, procedure, promised.date() if promised else None)
    try:
        printed = desk.register(scanned, request)
    except ReceiptIssueError as exc:
        raise click.ClickException(str(exc)) from exc
    _report_print(printed)


@receipt.command("reprint")
@hub_option
@click.argument("code")
def receipt_reprint(config_path: Path, code: str) -> None:
    """Print a receipt again (after paper out, a jam, a lost slip)."""
    from hub.receipts.issuing import UnknownReceiptError

    _settings, _unit, desk = _desk(config_path)
    try:
        printed = desk.reprint(code)
    except UnknownReceiptError as exc:
        raise click.ClickException(str(exc)) from exc
    _report_print(printed)


@receipt.command("return")
@hub_option
@click.argument("scanned")
@click.option("--officer", required=True, help="The officer handing back the result, e.g. CB002.")
def receipt_return(config_path: Path, scanned: str, officer: str) -> None:
    """Record the return of the result (trả kết quả): later ratings are for the return stage."""
    from hub.receipts.issuing import ReceiptIssueError, UnknownReceiptError

    _settings, _unit, desk = _desk(config_path)
    try:
        record = desk.record_return(scanned, officer)
    except (ReceiptIssueError, UnknownReceiptError) as exc:
        raise click.ClickException(str(exc)) from exc
    when = unit_time(record.returned_at).strftime("%d/%m/%Y %H:%M")
    again = " (đã ghi trước đó / recorded before)" if record.already else ""
    click.echo(f"Đã trả kết quả / returned: {record.code} by {record.returned_by} at {when}{again}")


@receipt.command("verify")
@hub_option
@click.argument("text")
def receipt_verify(config_path: Path, text: str) -> None:
    """Say whether a scanned text is a valid receipt of this unit, and why."""
    from hub.receipts.verification import describe_scan

    settings, unit = _load_hub(config_path)
    ok, message = describe_scan(text, settings.receipts.keyring(), unit.unit.code)
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
def staff() -> None:
    """Staff logins for the hub's web page."""


@staff.command("add")
@hub_option
@click.argument("username")
@click.option("--role", type=click.Choice(["officer", "head", "admin"]), required=True)
@click.option("--officer", "officer_code", help="For an officer: their code, e.g. CB001.")
@click.password_option(help="At least 10 characters (prompted when not given).")
def staff_add(
    config_path: Path, username: str, role: str, officer_code: str | None, password: str
) -> None:
    """Create or update a login (the password is stored as an argon2 hash)."""
    from hub.web.accounts import AccountError, Accounts

    settings, unit = _load_hub(config_path)
    if settings.web is None:
        raise click.ClickException(f"{config_path}: no [web] section")
    if officer_code and officer_code not in {o.code for o in unit.officers}:
        raise click.ClickException(f"unknown officer {officer_code!r}")
    try:
        Accounts(settings.web.accounts_file).add(username, password, role, officer_code)  # type: ignore[arg-type]
    except AccountError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"saved {username} ({role})")


@cli.group()
def report() -> None:
    """Reports for unit heads."""


@report.command("summary")
@hub_option
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]), help="First day (YYYY-MM-DD).")
@click.option("--until", type=click.DateTime(["%Y-%m-%d"]), help="Day after the last.")
def report_summary(config_path: Path, since: datetime | None, until: datetime | None) -> None:
    """MĐHL (%, n, 95 % CI) per counter, officer, procedure and field."""
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
    click.echo(format_summary(unit, tables, apart))


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
