"""``hailong export dossiers`` and ``hailong db readonly-role`` as an operator runs them, on real
databases: a run writes the feed and its cursor, the next sends nothing again; what cannot be
done is refused with a clear message; the role's password is kept in a private file, never
printed."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from hailong.cli import cli
from hailong.contract.dossier_feed import decode_record
from hailong.settings import load_hub
from hub.store.db import make_engine, session_factory
from tests.hailong.test_db_commands import hub_config
from tests.support.dossier_feed import seed


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.output


def test_export_to_files_then_nothing_new(tmp_path: Path) -> None:
    config = hub_config(tmp_path, f"sqlite:///{tmp_path / 'hub.db'}")
    seeded = seed(session_factory(make_engine(f"sqlite:///{tmp_path / 'hub.db'}")))
    out = tmp_path / "feed"
    status, output = run("export", "dossiers", "--config", config, "--to", f"file:{out}")
    assert status == 0, output
    assert f"sent {len(seeded.feed_ids)} records in 1 batches" in output
    (written,) = out.iterdir()
    ids = [str(decode_record(line).id) for line in written.read_text().splitlines()]
    assert ids == seeded.feed_ids
    cursors = list((tmp_path / "var" / "export").iterdir())
    assert [json.loads(c.read_text())["destination"] for c in cursors] == [f"file:{out}"]
    status, output = run("export", "dossiers", "--config", config, "--to", f"file:{out}")
    assert (status, "sent 0 records") == (0, output[:14])
    status, output = run(
        "export",
        "dossiers",
        "--config",
        config,
        "--to",
        f"file:{tmp_path / 'late'}",
        "--since",
        "2026-11-21",
    )
    assert "sent 3 records" in output  # the three rated on 25/11; the rest on 20/11


@pytest.mark.parametrize(
    ("destination", "message"),
    [
        ("http://igate.example.gov.vn/feed", "use https"),
        ("s3://bucket/feed", "expected file:FOLDER or an https:// URL"),
    ],
)
def test_a_destination_that_cannot_be_used_is_refused(
    tmp_path: Path, destination: str, message: str
) -> None:
    config = hub_config(tmp_path, f"sqlite:///{tmp_path / 'hub.db'}")
    status, output = run("export", "dossiers", "--config", config, "--to", destination)
    assert status == 1
    assert message in output


def test_a_missing_token_file_is_named(tmp_path: Path) -> None:
    config = hub_config(tmp_path, f"sqlite:///{tmp_path / 'hub.db'}")
    Path(config).write_text(
        Path(config)
        .read_text()
        .replace("[export]", '[export]\ntoken_file = "../var/secrets/export/token"', 1)
    )
    result = CliRunner().invoke(
        cli, ["export", "dossiers", "--config", config, "--to", "https://igate.example.gov.vn/x"]
    )
    assert "export.token_file" in str(result.exception)


def test_readonly_role_is_refused_on_sqlite(tmp_path: Path) -> None:
    config = hub_config(tmp_path, f"sqlite:///{tmp_path / 'hub.db'}")
    status, output = run("db", "readonly-role", "--config", config)
    assert status == 1
    assert "SQLite has no database users or roles" in output


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_readonly_role_keeps_its_password_in_a_private_file(
    tmp_path: Path, database_url: str
) -> None:
    import psycopg
    from sqlalchemy.engine import make_url

    config = hub_config(tmp_path, database_url)
    role = "hailong_bi_cli"
    try:
        status, output = run("db", "readonly-role", "--config", config, "--name", role)
        assert status == 0, output
        secret = Path(load_hub(config).receipts.key_dir.parent / "db" / f"{role}.password")
        assert stat.S_IMODE(secret.stat().st_mode) == 0o600
        assert secret.read_text().strip() not in output
        assert f"role {role}: SELECT on v_ratings" in output
        again_status, again = run("db", "readonly-role", "--config", config, "--name", role)
        assert again_status == 0
        assert "created" not in again  # the same password file, kept
    finally:
        owner = make_url(database_url).set(drivername="postgresql").render_as_string(False)
        with psycopg.connect(owner, autocommit=True) as admin:
            admin.execute(f"DROP OWNED BY {role}")
            admin.execute(f"DROP ROLE IF EXISTS {role}")
