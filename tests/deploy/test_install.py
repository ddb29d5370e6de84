"""Each role installs only what it runs, from locks that pin the versions the tests ran.

``hailong[hub]`` has no Qt, ``hailong[kiosk]`` no web stack, ``hailong[bridge]`` neither: the
locks in requirements/ say so for the whole dependency tree, and a fresh interpreter that imports
every module of a role (and runs its command) must load nothing that its lock leaves out, which is
what a venv with only that role would fail on. The locks carry hashes, agree with pyproject.toml
(a dependency changed without `make lock` fails here) and agree with each other.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

REPO = Path(__file__).resolve().parents[2]
LOCKS = REPO / "requirements"
PROJECT = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
# The interpreters the locks serve: the whole suite runs on 3.11, a Raspberry Pi runs 3.13.
PYTHONS = ("3.11.7", "3.13.0")
QT = {"pyside6", "pyside6-essentials", "pyside6-addons", "shiboken6"}
WEB = {"fastapi", "starlette", "uvicorn", "jinja2", "python-multipart", "itsdangerous"}
# Imported when present, done without when not: mako (alembic's templates) highlights with it.
OPTIONAL = ["pygments"]
# Each role's lock: the extras it installs; the packages whose modules it imports; its command.
ROLES = {
    "hub": (("hub", "postgresql"), ("hub", "hailong"), "hub"),
    "kiosk": (("kiosk",), ("kiosk", "firmware_bridge", "hailong"), "kiosk"),
    "bridge": (("bridge",), ("firmware_bridge",), "bridge"),
}


def _pins(lock: str) -> list[tuple[Requirement, int]]:
    """Each requirement of a lock file with the number of hashes it carries."""
    pins: list[tuple[Requirement, int]] = []
    for line in (LOCKS / f"{lock}.txt").read_text(encoding="utf-8").splitlines():
        text = line.strip().removesuffix("\\").strip()
        if text.startswith("--hash="):
            requirement, hashes = pins[-1]
            pins[-1] = (requirement, hashes + 1)
        elif text and not text.startswith("#"):
            pins.append((Requirement(text), 0))
    return pins


def _versions(lock: str, python: str) -> dict[str, Version]:
    """What pip installs from a lock on Linux with that Python."""
    env = {"python_version": python[:4], "python_full_version": python, "sys_platform": "linux"}
    return {
        canonicalize_name(req.name): Version(next(iter(req.specifier)).version)
        for req, _ in _pins(lock)
        if req.marker is None or req.marker.evaluate(env)
    }


def _declared(extras: tuple[str, ...]) -> list[Requirement]:
    """The project's base dependencies and those of the extras, self-references followed."""
    found = [Requirement(text) for text in PROJECT["dependencies"]]
    todo = list(extras)
    while todo:
        for text in PROJECT["optional-dependencies"][todo.pop()]:
            requirement = Requirement(text)
            if requirement.name == PROJECT["name"]:
                todo += sorted(requirement.extras)
            else:
                found.append(requirement)
    return found


def _lock_extras(lock: str) -> tuple[str, ...]:
    return ROLES[lock][0] if lock in ROLES else (lock,)


def test_no_role_installs_another_roles_stack() -> None:
    for role, unwanted in {"hub": QT, "kiosk": WEB, "bridge": QT | WEB}.items():
        assert not {canonicalize_name(r.name) for r in _declared((role,))} & unwanted, role
        for python in PYTHONS:  # nor anything they depend on
            assert not set(_versions(role, python)) & unwanted, (role, python)


@pytest.mark.parametrize("lock", ["test", "all", "hub", "kiosk", "bridge"])
def test_a_lock_pins_every_declared_dependency_with_hashes(lock: str) -> None:
    for requirement, hashes in _pins(lock):
        assert len(requirement.specifier) == 1, requirement
        assert next(iter(requirement.specifier)).operator == "==", requirement
        assert hashes > 0, f"{requirement} has no hash"
    for python in PYTHONS:
        pinned = _versions(lock, python)
        env = {"python_version": python[:4], "python_full_version": python}
        for requirement in _declared(_lock_extras(lock)):
            if requirement.marker is not None and not requirement.marker.evaluate(env):
                continue
            version = pinned.get(canonicalize_name(requirement.name))
            assert version is not None, f"{requirement} is not in {lock}.txt: run `make lock`"
            assert requirement.specifier.contains(version, prereleases=True), (
                f"{lock}.txt pins {requirement.name} {version}, pyproject.toml wants "
                f"{requirement}: run `make lock`"
            )


@pytest.mark.parametrize("lock", ["all", "hub", "kiosk", "bridge"])
def test_a_role_ships_the_versions_the_tests_ran(lock: str) -> None:
    for python in PYTHONS:
        tested = _versions("test", python)
        for name, version in _versions(lock, python).items():
            assert tested.get(name) == version, (
                f"{lock}.txt: {name} {version}, tested {tested.get(name)}"
            )


def test_the_qt_pin_holds_only_where_its_crash_exists() -> None:
    """PySide6 6.12.0 crashes a kiosk under Python 3.11 (tests/kiosk/ui/test_qt_binding.py)."""
    assert _versions("kiosk", "3.11.7")["pyside6-essentials"] < Version("6.12")
    for text in PROJECT["optional-dependencies"]["kiosk"]:
        requirement = Requirement(text)
        if canonicalize_name(requirement.name) in QT and "6.12" in str(requirement.specifier):
            assert requirement.marker == Marker("python_version < '3.12'"), requirement


_PROBE = """
import importlib, json, pkgutil, re, sys
from importlib.metadata import packages_distributions
packages, command, shipped = json.loads(sys.argv[1])
for name in packages:
    for module in pkgutil.walk_packages(importlib.import_module(name).__path__, name + "."):
        if not {"demo", "__main__", "migrations"} & set(module.name.split(".")):
            importlib.import_module(module.name)
from hailong.cli import cli
try:  # the command imports what it runs, then stops at the missing configuration
    cli([command, "--config", "/nonexistent/hailong.toml"], standalone_mode=False)
except Exception as error:
    print(f"{command}: {error}", file=sys.stderr)
# Every venv has pip and setuptools; the project's own packages are what is being checked.
shipped = set(shipped) | {"pip", "setuptools", "hailong"}
print(json.dumps(sorted(
    module for module, dists in packages_distributions().items()
    if module in sys.modules and not shipped & {re.sub(r"[-_.]+", "-", d).lower() for d in dists}
)))
"""


@pytest.mark.parametrize("role", sorted(ROLES))
def test_a_role_imports_only_what_its_lock_installs(role: str) -> None:
    _, packages, command = ROLES[role]
    python = f"{sys.version_info.major}.{sys.version_info.minor}.{sys.version_info.micro}"
    shipped = sorted(_versions(role, python)) + OPTIONAL
    probe = subprocess.run(
        [sys.executable, "-c", _PROBE, json.dumps([packages, command, shipped])],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
    )
    assert probe.returncode == 0, probe.stderr
    assert json.loads(probe.stdout) == [], f"{role} imports what hailong[{role}] lacks"
    assert "/nonexistent/hailong.toml" in probe.stderr, probe.stderr


def test_a_command_of_a_role_not_installed_says_which_to_install() -> None:
    """``hailong kiosk`` on a hub: no Qt there (None in sys.modules makes an import fail)."""
    run = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; sys.modules.update(PySide6=None, shiboken6=None);"
            "from hailong.cli import main; main()",
            "kiosk",
            "--config",
            "config/kiosk.toml",
        ],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
    )
    assert run.returncode == 2
    assert run.stderr.split()[:3] in (["PySide6", "is", "not"], ["shiboken6", "is", "not"])
    assert "pip install 'hailong[hub]', 'hailong[kiosk]' or 'hailong[bridge]'" in run.stderr
