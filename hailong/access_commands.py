"""``hailong token`` and ``hailong staff``: who may use the hub's API and its web page.

Part of the command line (registered by :mod:`hailong.cli`); the work is in
:mod:`hub.web.accounts`, imported inside each command.
"""

from __future__ import annotations

from pathlib import Path

import click

from hailong.cli_support import hub_option, load_hub_unit, served_unit, unit_option
from hailong.settings import HubSettings, Unit


@click.group()
def token() -> None:
    """Bearer tokens for other systems' use of the receipt API (a unit's one-stop software)."""


def _tokens(config_path: Path) -> tuple[HubSettings, Unit, Path]:
    settings, home = load_hub_unit(config_path)
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
    unit = served_unit(settings, home, unit_code)
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


@click.group()
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

    settings, unit = load_hub_unit(config_path)
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
