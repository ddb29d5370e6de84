"""``hailong db current|upgrade|backup`` on real SQLite and PostgreSQL: a receipt issued through
the command line comes back out of the backup once it is restored."""

from __future__ import annotations

import re
import shutil
import sqlite3
import subprocess
from pathlib import Path

import psycopg
from click.testing import CliRunner
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from hailong.broker import free_port
from hailong.cli import cli
from hub.store.backup import head_revision

CONFIG = Path(__file__).resolve().parents[2] / "config"


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def hub_config(tmp_path: Path, database_url: str) -> str:
    """config/ copied beside a fresh var/, its hub on ``database_url``."""
    shutil.copytree(CONFIG, tmp_path / "config")
    hub_toml = tmp_path / "config" / "hub.toml"
    body = re.sub(
        r"(?m)^database_url = .*$", f'database_url = "{database_url}"', hub_toml.read_text()
    )
    hub_toml.write_text(body)
    return str(hub_toml)


def _restored_receipt_codes(database_url: str, backup: Path) -> list[str]:
    """The receipts in the backup, read back the way an operator restores it."""
    if database_url.startswith("sqlite"):
        with sqlite3.connect(backup) as restored:
            return [row[0] for row in restored.execute("SELECT dossier_code FROM receipts")]
    url = make_url(database_url)
    admin = url.set(drivername="postgresql", database="postgres").render_as_string(False)
    copy = f"{url.database}_restored"
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f"CREATE DATABASE {copy}")
    try:
        target = url.set(drivername="postgresql", database=copy).render_as_string(False)
        subprocess.run(
            ["pg_restore", "--no-owner", f"--dbname={target}", str(backup)],
            check=True,
            capture_output=True,
        )
        with psycopg.connect(target) as connection:
            return [row[0] for row in connection.execute("SELECT dossier_code FROM receipts")]
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f"DROP DATABASE {copy} WITH (FORCE)")


def test_current_upgrade_and_a_backup_that_restores(tmp_path: Path, database_url: str) -> None:
    config = hub_config(tmp_path, database_url)
    head = head_revision()
    code, out = run("db", "current", "--config", config)
    assert code == 1
    if database_url.startswith("sqlite"):  # not created by looking at it
        assert "no SQLite database at" in out
        assert not Path(make_url(database_url).database or "").exists()
    else:
        assert f"revision none; head is {head}: not migrated" in out

    code, out = run("db", "upgrade", "--config", config)
    assert (code, out) == (0, f"revision {head} (head)\n")
    assert run("db", "current", "--config", config) == (0, f"revision {head} (head)\n")
    engine = create_engine(database_url)
    with engine.begin() as connection:  # as if made by an older release
        connection.execute(text("UPDATE alembic_version SET version_num = '0001'"))
    assert run("db", "current", "--config", config) == (
        1,
        f"revision 0001; head is {head}: not migrated\n",
    )
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = :head"), {"head": head})
    engine.dispose()

    assert run("init", "--config", config)[0] == 0
    code, out = run(
        "receipt", "issue", "--config", config,
        "--counter", "Q1", "--officer", "CB001", "--procedure", "1.001193",
    )  # fmt: skip
    assert code == 0, out
    issued = re.search(r"dossier code: (\S+)", out)
    assert issued is not None

    code, out = run("db", "backup", "--config", config)
    assert code == 0, out
    found = re.fullmatch(r"backup (\S+) \((\d+) bytes\)\n", out)
    assert found is not None, out
    backup = Path(found.group(1))
    assert backup.parent == tmp_path / "var" / "backups"
    suffix = r"sqlite3" if database_url.startswith("sqlite") else r"dump"
    assert re.fullmatch(rf"hailong-\d{{8}}T\d{{6}}Z\.{suffix}", backup.name)
    assert backup.stat().st_mode & 0o777 == 0o600  # citizens' data
    assert int(found.group(2)) == backup.stat().st_size > 0
    assert list(backup.parent.iterdir()) == [backup]  # no .partial left behind
    assert _restored_receipt_codes(database_url, backup) == [issued.group(1)]


def test_a_backup_of_a_missing_database_says_so(tmp_path: Path) -> None:
    config = hub_config(tmp_path, f"sqlite:///{tmp_path / 'none.db'}")
    code, out = run("db", "backup", "--config", config, "--to", str(tmp_path / "out"))
    assert code == 1
    assert f"no SQLite database at {tmp_path / 'none.db'}" in out
    assert list((tmp_path / "out").iterdir()) == []


def test_a_database_out_of_reach_is_one_line_without_the_password(tmp_path: Path) -> None:
    url = f"postgresql+psycopg://hub:s3cret@127.0.0.1:{free_port()}/hailong"
    config = hub_config(tmp_path, url)
    for command in (["current"], ["upgrade"], ["backup", "--to", str(tmp_path / "out")]):
        code, out = run("db", *command, "--config", config)
        assert code == 1
        assert out.startswith("Error: ")
        assert "Connection refused" in out
        assert "s3cret" not in out
