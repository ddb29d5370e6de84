"""``hailong catalogue``: the catalogue in the database tables (danh mục).

Part of the command line (registered by :mod:`hailong.cli`); the work is in
:mod:`hub.store.catalogue`, imported inside each command.
"""

from __future__ import annotations

from pathlib import Path

import click

from hailong.cli_support import hub_option
from hailong.settings import load_hub, load_unit


@click.group()
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
