"""What the command groups share: the ``--config`` and ``--unit`` options, and the hub's unit(s).

Part of the command line (used by :mod:`hailong.cli` and the command groups it registers); the
catalogue tables are imported inside each helper, so a command that does not need them does not
pay for SQLAlchemy.
"""

from __future__ import annotations

from pathlib import Path

import click

from hailong.settings import ConfigError, HubSettings, Unit, load_hub, load_unit

DEFAULT_HUB = Path("config/hub.toml")

hub_option = click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path),
    default=DEFAULT_HUB,
    show_default=True,
    help="Hub configuration file.",
)

unit_option = click.option(
    "--unit",
    "unit_code",
    help="The unit to act in (default: the hub's home unit), on a hub serving many units. "
    "Only that unit's receipts are reached; another unit's answers as an unknown code.",
)


def load_hub_unit(path: Path) -> tuple[HubSettings, Unit]:
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


def served_units(settings: HubSettings, unit: Unit) -> list[Unit]:
    """Every unit the hub serves: its own from a unit file, or every unit in the tables (their
    kiosks all get MQTT users and ACLs)."""
    if settings.hub.catalogue == "file":
        return [unit]
    from hub.store.catalogue import load_units
    from hub.store.db import make_engine, session_factory

    sessions = session_factory(make_engine(settings.hub.database_url))
    with sessions() as session:
        return list(load_units(session).values())


def served_unit(settings: HubSettings, home: Unit, unit_code: str | None) -> Unit:
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
