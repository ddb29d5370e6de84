"""``hailong catalogue import|list`` as a province's operator runs them, then the commands of a
hub switched to ``[hub] catalogue = "database"`` (its own unit and every unit's kiosk secrets
come from the tables), on a copy of the example config."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from hailong.cli import cli
from hailong.settings import load_hub, load_unit
from hub.store.catalogue import load_unit as load_stored
from hub.store.db import make_engine, session_factory

CONFIG = Path(__file__).resolve().parents[2] / "config"
PROVINCE = """
fields = []
counters = []
officers = []
procedures = []

[unit]
code = "000.00.00.H41"
name = "Tỉnh Mẫu"
"""


@pytest.fixture
def config(tmp_path: Path) -> Path:
    target = tmp_path / "config"
    shutil.copytree(CONFIG, target)
    (target / "province.toml").write_text(PROVINCE, encoding="utf-8")
    ward_b = (target / "unit.toml").read_text(encoding="utf-8")
    ward_b = ward_b.replace("000.00.20.H41", "000.00.21.H41").replace('id = "kiosk-', 'id = "b-')
    (target / "ward-b.toml").write_text(ward_b, encoding="utf-8")
    return target / "hub.toml"


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.output


def test_import_list_and_serve_from_the_tables(config: Path) -> None:
    folder = config.parent
    hub = ("--config", str(config))
    code, out = run("catalogue", "list", *hub)
    assert (code, out.strip()) == (
        0,
        "no unit in the database: `hailong catalogue import config/unit.toml`",
    )
    code, out = run(
        "catalogue", "import", *hub, str(folder / "unit.toml"), "--parent", "000.00.00.H41"
    )
    assert code == 1
    assert "The parent “000.00.00.H41” of “000.00.20.H41” is not in the catalogue" in out
    for args in (
        (str(folder / "province.toml"), "--kind", "province"),
        (str(folder / "unit.toml"), "--parent", "000.00.00.H41"),
        (str(folder / "ward-b.toml"), "--parent", "000.00.00.H41"),
        (str(folder / "unit.toml"), "--parent", "000.00.00.H41"),  # again: the same
    ):
        code, out = run("catalogue", "import", *hub, *args)
        assert code == 0, out
    assert out.startswith("imported 000.00.20.H41 (Trung tâm Phục vụ hành chính công")
    code, out = run("catalogue", "list", *hub)
    assert code == 0, out
    lines = out.splitlines()
    assert (
        lines[0]
        == "000.00.00.H41  Tỉnh Mẫu [province]  0 counters, 0 officers, 0 procedures, 0 kiosks"
    )
    assert [line.split()[0] for line in lines[1:]] == ["000.00.20.H41", "000.00.21.H41"]
    assert all(line.startswith("  ") and "[commune]" in line for line in lines[1:])
    settings = load_hub(config)
    with session_factory(make_engine(settings.hub.database_url))() as session:
        assert load_stored(session, "000.00.20.H41") == load_unit(folder / "unit.toml")

    # The hub switched to the tables: its commands find its own unit and every unit's kiosks.
    text = config.read_text(encoding="utf-8")
    config.write_text(
        text.replace("[hub]\n", '[hub]\ncatalogue = "database"\nunit = "000.00.21.H41"\n', 1),
        encoding="utf-8",
    )
    code, out = run("init", *hub)
    assert code == 0, out
    secrets = folder.parent / "var" / "secrets"
    assert (secrets / "mqtt" / "b-q1.password").exists()
    assert (secrets / "mqtt" / "kiosk-q1.password").exists()
    code, out = run("report", "gaps", *hub)
    assert code == 0, out
    assert "  b-q1: chưa có đánh giá / no ratings yet" in out
    assert "kiosk-q1" not in out
