"""The ``hailong`` command: one entry point for every part, so operators learn one tool.

Heavy imports (Qt, SQLAlchemy, paho) happen inside each command, so ``hailong receipt verify`` does
not pay for the kiosk's start-up. This module holds the root group and the service commands
(init, broker, hub, kiosk, bridge, demo) and registers the command groups, each in its own module
(``hailong.*_commands``; what they share is in :mod:`hailong.cli_support`).
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from pathlib import Path

import click

from hailong import __version__
from hailong.access_commands import staff, token
from hailong.catalogue_commands import catalogue
from hailong.cli_support import hub_option, load_hub_unit, served_units
from hailong.db_commands import db
from hailong.export_commands import export_group
from hailong.receipt_commands import keys, receipt
from hailong.report_commands import report
from hailong.settings import (
    ConfigError,
    HubSettings,
    Unit,
    load_bridge,
    load_kiosk,
    load_unit,
)

DEFAULT_KIOSK = Path("config/kiosk.toml")
DEFAULT_BRIDGE = Path("config/button-box.toml")


def _init_secrets(settings: HubSettings, unit: Unit) -> list[Path]:
    """The base's secrets, then the web side's own (logins, cookie key, API token): composed
    here, as ``hailong`` below the command line imports no app."""
    from hailong.provision import init_all
    from hub.web.accounts import init_web_secrets

    created = init_all(settings, served_units(settings, unit))
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
    settings, unit = load_hub_unit(config_path)
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
        settings, unit = load_hub_unit(config_path)
        _init_secrets(settings, unit)
        layout = SecretsLayout(settings.receipts.key_dir.parent)
        out = var_dir(settings) / "broker"
        return write_broker_files(
            served_units(settings, unit),
            layout,
            out,
            settings.mqtt.port,
            settings.broker,
            supervised=True,
        )

    settings, unit = load_hub_unit(config_path)
    files = write_files()
    reads = kiosk_reads(served_units(settings, unit))
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

    settings, unit = load_hub_unit(config_path)
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
@click.option(
    "--list-prompts",
    is_flag=True,
    help="Print the spoken lines a unit may record (docs/voice.md) as a table, then exit.",
)
def kiosk(config_path: Path, windowed: bool, screenshots: Path | None, list_prompts: bool) -> None:
    """Run the kiosk (or render its screens with --screenshots)."""
    if list_prompts:  # no config needed: the texts ship with the kiosk
        from kiosk.prompts import record_table

        click.echo(record_table(), nl=False)
        return
    if screenshots is None:
        # The start screen first, the settings validated right after it (kiosk/launch.py).
        from kiosk.launch import run

        if not config_path.is_file():
            raise ConfigError(f"{config_path}: file not found")

        sys.exit(run(config_path, windowed=windowed))
    from kiosk.app import render_screenshots

    # No pydantic plugins in a kiosk: without this, its first validator scans every installed
    # package's entry points for one (~4 ms of CPU here, ~20 ms on a Pi; docs/kiosk.md).
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    settings = load_kiosk(config_path)
    # Off-line there is no configuration from the hub: use the unit file beside the config.
    unit_file = config_path.parent / "unit.toml"
    catalogue = load_unit(unit_file).to_message() if unit_file.exists() else None
    paths = render_screenshots(settings, screenshots, catalogue)
    click.echo(f"{len(paths)} screenshots in {screenshots}")


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


@cli.command()
@hub_option
@click.option("--kiosk-config", type=click.Path(path_type=Path), default=DEFAULT_KIOSK)
@click.option(
    "--every",
    type=click.FloatRange(min=1.0),
    default=20.0,
    show_default=True,
    help="Seconds between receipts (at least); the counter waits while the kiosk is in use.",
)
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


cli.add_command(receipt)
cli.add_command(keys)
cli.add_command(token)
cli.add_command(staff)
cli.add_command(report)
cli.add_command(catalogue)
cli.add_command(export_group)
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
        missing = (exc.name or "a package").partition(".")[0]  # PySide6, not PySide6.QtCore
        click.echo(
            f"{missing} is not installed: this command needs a role not installed here: "
            "pip install 'hailong[hub]', 'hailong[kiosk]' or 'hailong[bridge]'",
            err=True,
        )
        sys.exit(2)
