"""``hailong db upgrade|current|backup``: the hub's database as an operator looks after it.

Part of the command line (registered by :mod:`hailong.cli`); the work is in
:mod:`hub.store.backup`, imported inside each command so other commands do not pay for Alembic.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from hailong.settings import load_hub

config_option = click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path),
    default=Path("config/hub.toml"),
    show_default=True,
    help="Hub configuration file.",
)


@click.group()
def db() -> None:
    """The hub's database: migrations and backups (cơ sở dữ liệu)."""


@db.command("upgrade")
@config_option
def upgrade(config_path: Path) -> None:
    """Migrate the database to this version's schema (every hub process also does it at start)."""
    from hub.store.backup import MaintenanceError, upgrade_database

    try:
        revision = upgrade_database(load_hub(config_path).hub.database_url)
    except MaintenanceError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"revision {revision.current} (head)")


@db.command("current")
@config_option
def current(config_path: Path) -> None:
    """Print the database's revision and whether it is this version's head (exit status 1 when
    it is not: `hailong db upgrade`, or start the hub, to migrate)."""
    from hub.store.backup import MaintenanceError, current_revision

    try:
        revision = current_revision(load_hub(config_path).hub.database_url)
    except MaintenanceError as exc:
        raise click.ClickException(str(exc)) from exc
    if revision.at_head:
        click.echo(f"revision {revision.current} (head)")
        return
    click.echo(f"revision {revision.current or 'none'}; head is {revision.head}: not migrated")
    sys.exit(1)


@db.command("backup")
@config_option
@click.option(
    "--to",
    "folder",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for the backup file  [default: var/backups beside var/secrets].",
)
def backup(config_path: Path, folder: Path | None) -> None:
    """A consistent copy of the database, named by the time: SQLite's online backup, or pg_dump's
    custom format for PostgreSQL (restore it with pg_restore)."""
    from hailong.provision import var_dir
    from hub.store.backup import MaintenanceError, backup_database

    settings = load_hub(config_path)
    try:
        path = backup_database(settings.hub.database_url, folder or var_dir(settings) / "backups")
    except MaintenanceError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"backup {path} ({path.stat().st_size} bytes)")


@db.command("readonly-role")
@config_option
@click.option(
    "--name", default="hailong_bi", show_default=True, help="The PostgreSQL role to create."
)
@click.option(
    "--password-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The role's password (made, mode 0600, if missing)  "
    "[default: var/secrets/db/<name>.password].",
)
def readonly_role(config_path: Path, name: str, password_file: Path | None) -> None:
    """A PostgreSQL role for a BI tool (Grafana, Metabase): SELECT on the v_* views only, which
    hold no personal data; no table, no write (docs/data-out.md). The password is never printed."""
    from hailong.provision import var_dir
    from hailong.settings import read_secret
    from hub.store.readonly import ReadonlyRoleError, create_readonly_role

    settings = load_hub(config_path)
    if not settings.hub.database_url.startswith("postgresql"):
        raise click.ClickException(
            "SQLite has no database users or roles: a read-only role needs the hub on "
            "PostgreSQL. The views (v_ratings, ...) are in the SQLite file too: give a BI tool "
            "a copy of it (`hailong db backup`); see docs/data-out.md"
        )
    path = password_file or var_dir(settings) / "secrets" / "db" / f"{name}.password"
    if not path.exists():
        import os
        import secrets

        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(24) + "\n")
        click.echo(f"created {path} (the password; give it to the BI tool, never print it)")
    try:
        notes = create_readonly_role(
            settings.hub.database_url, name, read_secret(path, "--password-file")
        )
    except ReadonlyRoleError as exc:
        raise click.ClickException(str(exc)) from exc
    for note in notes:
        click.echo(note)
    click.echo(f"password: in {path}")
