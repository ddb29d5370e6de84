"""An installed hub gets the official indices' criteria: ``deploy/hub/install-criteria.sh`` puts
the shipped versions where the hub reads them (``criteria/`` beside ``/etc/hailong/hub.toml``, the
configuration its systemd unit runs with), never changes an installed version in place, and the
result loads as the hub loads it."""

from __future__ import annotations

import shlex
import subprocess
from pathlib import Path

from hub.indices import criteria_folder, load_criteria
from tests.deploy.test_systemd_units import parse

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "deploy" / "hub" / "install-criteria.sh"
SHIPPED = REPO / "config" / "criteria"
# The criteria versions the project ships: a new one is added here on purpose, with its file.
SHIPPED_VERSIONS = {"tt01-2018"}


def install(etc: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(SCRIPT), str(etc)], capture_output=True, text=True, check=False, timeout=30
    )


def test_the_shipped_criteria_are_the_versions_the_project_means_to_ship() -> None:
    assert {p.stem for p in SHIPPED.glob("*.toml")} == SHIPPED_VERSIONS
    assert {s.version for s in load_criteria(SHIPPED).sets} == SHIPPED_VERSIONS


def test_the_script_installs_them_where_the_installed_hub_reads_them(tmp_path: Path) -> None:
    exec_start = parse(REPO / "deploy" / "hub" / "hailong-hub.service")["Service"]["ExecStart"]
    argv = shlex.split(exec_start)
    config = Path(argv[argv.index("--config") + 1])
    assert config == Path("/etc/hailong/hub.toml")
    assert criteria_folder(config) == Path("/etc/hailong/criteria")
    assert "ETC=${1:-/etc/hailong}" in SCRIPT.read_text()  # the script's default is that folder
    etc = tmp_path / "etc" / "hailong"
    done = install(etc)
    assert done.returncode == 0, done.stderr
    folder = criteria_folder(etc / "hub.toml")
    assert {p.name for p in folder.iterdir()} == {f"{v}.toml" for v in SHIPPED_VERSIONS}
    for path in folder.iterdir():
        assert path.read_bytes() == (SHIPPED / path.name).read_bytes()
        assert path.stat().st_mode & 0o777 == 0o644
    assert load_criteria(folder) == load_criteria(SHIPPED)
    again = install(etc)  # after an upgrade: nothing to do
    assert again.returncode == 0, again.stderr
    assert "up to date" in again.stdout
    assert again.stderr == ""


def test_an_installed_version_is_never_changed_in_place_and_local_ones_stay(
    tmp_path: Path,
) -> None:
    etc = tmp_path / "hailong"
    assert install(etc).returncode == 0
    folder = etc / "criteria"
    edited = folder / "tt01-2018.toml"
    text = edited.read_text(encoding="utf-8") + "\n# edited here\n"
    edited.write_text(text, encoding="utf-8")
    own = folder / "province-2027.toml"
    own.write_text("# the province's own version\n", encoding="utf-8")
    done = install(etc)
    assert done.returncode == 0
    assert "WARNING" in done.stderr
    assert "tt01-2018.toml differs" in done.stderr
    assert edited.read_text(encoding="utf-8") == text
    assert own.read_text(encoding="utf-8") == "# the province's own version\n"


def test_the_script_refuses_a_copy_without_criteria(tmp_path: Path) -> None:
    fake = tmp_path / "repo"
    (fake / "deploy" / "hub").mkdir(parents=True)
    (fake / "config" / "criteria").mkdir(parents=True)
    script = fake / "deploy" / "hub" / "install-criteria.sh"
    script.write_bytes(SCRIPT.read_bytes())
    run = subprocess.run(
        ["bash", str(script), str(tmp_path / "etc")], capture_output=True, text=True, check=False
    )
    assert run.returncode == 1
    assert "no criteria file" in run.stderr
    assert not (tmp_path / "etc").exists()


def test_the_hub_box_recipe_runs_the_script_at_install_and_upgrade() -> None:
    text = (REPO / "deploy" / "hub" / "README.md").read_text(encoding="utf-8")
    steps = [line for line in text.splitlines() if line.startswith("sudo ")]
    runs = [i for i, line in enumerate(steps) if "deploy/hub/install-criteria.sh" in line]
    enable = next(i for i, line in enumerate(steps) if "enable --now" in line)
    assert runs[0] < enable  # installed before the hub first starts
    assert any("restart hailong-hub.target" in steps[i] for i in runs)  # and at every upgrade
