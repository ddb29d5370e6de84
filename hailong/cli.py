"""The ``hailong`` command: one entry point for every part, so operators learn one tool.

Heavy imports (Qt, SQLAlchemy, paho) happen inside each command, so ``hailong receipt verify`` does
not pay for the kiosk's start-up.
"""

from __future__ import annotations

import contextlib
import logging
import sys
from datetime import UTC, datetime
from pathlib import Path

import click

from hailong import __version__
from hailong.settings import ConfigError, HubSettings, Unit, load_hub, load_kiosk, load_unit

DEFAULT_HUB = Path("config/hub.toml")
DEFAULT_KIOSK = Path("config/kiosk.toml")

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


@click.group()
@click.version_option(__version__)
@click.option("-v", "--verbose", is_flag=True, help="Log debug messages.")
def cli(verbose: bool) -> None:
    """Hài Lòng: đánh giá mức độ hài lòng tại Bộ phận Một cửa / satisfaction ratings."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


@cli.command()
@hub_option
def init(config_path: Path) -> None:
    """Create missing secrets (receipt key, MQTT passwords) under var/secrets."""
    from hailong.provision import SecretsLayout, init_secrets

    settings, unit = _load_hub(config_path)
    layout = SecretsLayout(settings.receipts.key_dir.parent)
    created = init_secrets(unit, layout, settings.receipts.active_key)
    for path in created:
        click.echo(f"created {path}")
    click.echo(f"secrets ready in {layout.root} ({len(created)} new)")


@cli.command()
@hub_option
def broker(config_path: Path) -> None:
    """Write the unit's Mosquitto config (users, ACLs) and run the broker in the foreground."""
    from hailong.demo import prepare_broker

    settings, unit = _load_hub(config_path)
    process = prepare_broker(settings, unit)
    click.echo(f"mosquitto on 127.0.0.1:{settings.mqtt.port}, config {process.files.conf}")
    with process:
        _wait_forever()


@cli.command()
@hub_option
def hub(config_path: Path) -> None:
    """Run the hub: ingest ratings, acknowledge after commit, publish unit configuration."""
    from hub.service import HubService
    from hub.store.db import make_engine, session_factory

    settings, unit = _load_hub(config_path)
    service = HubService(settings, unit, session_factory(make_engine(settings.hub.database_url)))
    service.start()
    click.echo(f"hub running for {unit.unit.code} ({unit.unit.name}); Ctrl-C to stop")
    try:
        _wait_forever()
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


@cli.group()
def receipt() -> None:
    """Issue and check receipts (Giấy tiếp nhận hồ sơ và hẹn trả kết quả)."""


@receipt.command("issue")
@hub_option
@click.option("--counter", required=True, help="Counter code, e.g. Q1.")
@click.option("--officer", required=True, help="Receiving officer's code, e.g. CB001.")
@click.option("--procedure", required=True, help="National procedure code, e.g. 1.001193.")
@click.option("--png", type=click.Path(path_type=Path), help="Also save the slip as a PNG.")
def receipt_issue(
    config_path: Path, counter: str, officer: str, procedure: str, png: Path | None
) -> None:
    """Issue a receipt and print it on the counter's printer."""
    from hub.receipts.issuing import ReceiptIssueError, issue_receipt
    from hub.receipts.printer import PrinterError, print_receipt
    from hub.receipts.slip import render_slip
    from hub.store.db import make_engine, session_factory

    settings, unit = _load_hub(config_path)
    sessions = session_factory(make_engine(settings.hub.database_url))
    try:
        issued = issue_receipt(
            sessions,
            unit,
            settings.receipts.keyring(),
            settings.hub.public_base_url,
            counter=counter,
            officer=officer,
            procedure=procedure,
            now=datetime.now(UTC),
        )
    except ReceiptIssueError as exc:
        raise click.ClickException(str(exc)) from exc
    code = issued.claims.code
    click.echo(f"Mã hồ sơ / dossier code: {code}")
    click.echo(f"QR: {issued.url}")
    printer = settings.printers.get(counter)
    if png is not None:
        width = printer.paper_width_mm if printer else 80
        render_slip(issued, unit, paper_width_mm=width).save(png)
        click.echo(f"slip image: {png}")
    if printer is None:
        click.echo(f"no printer configured for counter {counter}; receipt kept, not printed")
        return
    try:
        print_receipt(issued, unit, printer, sessions=sessions)
    except PrinterError as exc:
        raise click.ClickException(
            f"{exc.message_vi} / {exc.message_en} — the receipt {code} is kept; reprint it later"
        ) from exc
    click.echo(f"printed on {counter} ({printer.kind})")


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
def report() -> None:
    """Reports for unit heads."""


@report.command("summary")
@hub_option
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]), help="First day (YYYY-MM-DD).")
@click.option("--until", type=click.DateTime(["%Y-%m-%d"]), help="Day after the last.")
def report_summary(config_path: Path, since: datetime | None, until: datetime | None) -> None:
    """MĐHL (%, n, 95 % CI) per counter, officer, procedure and field."""
    from hub.report import DIMENSIONS, format_summary, summary
    from hub.store.db import make_engine, session_factory

    settings, unit = _load_hub(config_path)
    sessions = session_factory(make_engine(settings.hub.database_url))
    start = since.replace(tzinfo=UTC) if since else None
    end = until.replace(tzinfo=UTC) if until else None
    with sessions() as session:
        tables = {dim: summary(session, unit, dim, start, end) for dim in DIMENSIONS}
    click.echo(format_summary(unit, tables))


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
