"""The architecture is checked, not only described (docs/architecture.md, "Who imports whom").

import-linter's contracts (``[tool.importlinter]`` in pyproject.toml) must hold on the tree, and
each must have teeth: on a copy of the packages, one import planted against a contract breaks that
contract, named in the report. The real tree is never touched.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REPO

PACKAGES = ("hailong", "kiosk", "hub", "firmware_bridge")
# lint-imports puts the folder it runs in first on the import path: a copy there is what it reads.
LINT = "from importlinter.cli import lint_imports_command; lint_imports_command()"


def lint(root: Path, *contracts: str) -> subprocess.CompletedProcess[str]:
    """``lint-imports`` on the packages in ``root``, with its ``pyproject.toml``, no cache."""
    limit = [arg for contract in contracts for arg in ("--contract", contract)]
    return subprocess.run(
        [sys.executable, "-c", LINT, "--no-cache", "--no-logo", *limit, "pyproject.toml"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_tree_keeps_every_contract() -> None:
    result = lint(REPO)
    assert result.returncode == 0, result.stdout + result.stderr
    assert " BROKEN" not in result.stdout


@pytest.fixture(scope="module")
def copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("tree")
    for package in PACKAGES:
        shutil.copytree(
            REPO / package, root / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    shutil.copy(REPO / "pyproject.toml", root)
    return root


# (contract id, where the planted module goes, the import it makes)
PLANTED = [
    ("contract-alone", "hailong/contract/planted.py", "import hailong.settings"),
    ("pure-domains", "hub/domain/planted.py", "import sqlalchemy"),
    ("pure-domains", "kiosk/domain/planted.py", "import PySide6"),
    ("hailong-base", "hailong/planted.py", "import kiosk"),
    ("cli-on-top", "hailong/planted.py", "import hailong.demo"),
    ("kiosk-domain", "kiosk/domain/planted.py", "import kiosk.outbox"),
    ("kiosk-hub-apart", "kiosk/planted.py", "import hub"),
    ("device-library", "firmware_bridge/planted.py", "import kiosk"),
    ("ui-no-outbox", "kiosk/ui/planted.py", "import kiosk.uplink"),
    ("hub-layers", "hub/store/planted.py", "import hub.web"),
    ("web-no-sql", "hub/web/planted.py", "import sqlalchemy"),
]


@pytest.fixture
def planted(copy: Path, request: pytest.FixtureRequest) -> Iterator[tuple[str, str]]:
    contract, where, line = request.param
    module = copy / where
    module.write_text(f'"""Planted against {contract}."""\n\n{line}\n')
    try:
        yield contract, where.removesuffix(".py").replace("/", ".")
    finally:
        module.unlink()


@pytest.mark.parametrize("planted", PLANTED, indirect=True, ids=[p[0] for p in PLANTED])
def test_a_planted_import_breaks_its_contract(copy: Path, planted: tuple[str, str]) -> None:
    contract, module = planted
    result = lint(copy, contract)
    assert result.returncode == 1, result.stdout + result.stderr
    assert " BROKEN" in result.stdout
    assert f"{module} ->" in result.stdout  # the planted import is the one reported


def test_every_contract_has_a_planted_violation() -> None:
    """A contract added without a planted import here would be unchecked."""
    config = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["importlinter"]
    assert {c["id"] for c in config["contracts"]} == {p[0] for p in PLANTED}
