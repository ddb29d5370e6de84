"""Loading a config file (hailong/settings/loading.py): the shipped examples load as they are;
errors name the file, key and expectation; paths are relative to the file."""

from __future__ import annotations

from pathlib import Path

import pytest

from hailong.settings import ConfigError, load_hub, load_kiosk, load_unit
from tests.conftest import REPO

CONFIG = REPO / "config"


def test_example_configs_load() -> None:
    unit = load_unit(CONFIG / "unit.toml")
    assert len(unit.counters) == 3
    assert len(unit.officers) == 5
    assert len(unit.procedures) == 10
    assert unit.procedure("1.001193") is not None
    hub = load_hub(CONFIG / "hub.toml")
    assert hub.hub.unit_file == CONFIG / "unit.toml"
    assert hub.hub.database_url.startswith("sqlite:////")
    assert set(hub.printers) == {"Q1", "Q2", "Q3"}
    kiosk = load_kiosk(CONFIG / "kiosk.toml")
    assert kiosk.kiosk.unit == unit.unit.code
    assert kiosk.kiosk.id in {k.id for k in unit.kiosks}


def test_error_names_file_key_and_expectation(tmp_path: Path) -> None:
    text = (CONFIG / "kiosk.toml").read_text().replace('id = "kiosk-q1"', 'id = "kiosk q1"')
    path = tmp_path / "kiosk.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as excinfo:
        load_kiosk(path)
    message = str(excinfo.value)
    assert str(path) in message
    assert "kiosk.id" in message
    assert "pattern" in message


def test_missing_section_is_named(tmp_path: Path) -> None:
    path = tmp_path / "hub.toml"
    path.write_text('[hub]\nunit_file = "unit.toml"\n')
    with pytest.raises(ConfigError) as excinfo:
        load_hub(path)
    assert "key `mqtt`: Field required" in str(excinfo.value)
    assert "hub.database_url" in str(excinfo.value)


def test_broken_reference_in_catalogue(tmp_path: Path) -> None:
    text = (CONFIG / "unit.toml").read_text().replace('field = "kinh-doanh"', 'field = "nope"', 1)
    path = tmp_path / "unit.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match="is not a field"):
        load_unit(path)


def test_invalid_toml_and_missing_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[kiosk\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_kiosk(bad)
    with pytest.raises(ConfigError, match="file not found"):
        load_kiosk(tmp_path / "absent.toml")


def test_missing_secret_tells_how_to_create_it(tmp_path: Path) -> None:
    kiosk = load_kiosk(CONFIG / "kiosk.toml")
    settings = kiosk.mqtt.model_copy(update={"password_file": tmp_path / "none.password"})
    with pytest.raises(ConfigError, match="hailong init"):
        settings.password()
    keys = kiosk.receipts.model_copy(update={"key_dir": tmp_path / "none"})
    with pytest.raises(ConfigError, match="hailong init"):
        keys.keyring()


def test_every_path_in_a_config_file_is_relative_to_that_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``[broker] certfile``/``keyfile`` were left relative to the shell's folder while the
    example config writes them relative to the file (the old rule went by the key's suffix)."""
    text = (CONFIG / "hub.toml").read_text()
    text = text.replace(
        '# certfile = "../var/secrets/tls/broker.crt"', 'certfile = "tls/broker.crt"'
    )
    text = text.replace('# keyfile = "../var/secrets/tls/broker.key"', 'keyfile = "tls/broker.key"')
    folder = tmp_path / "etc"
    folder.mkdir()
    path = folder / "hub.toml"
    path.write_text(text)
    monkeypatch.chdir(tmp_path)  # somewhere else than the config's folder
    hub = load_hub(path)
    assert hub.broker.certfile == folder / "tls" / "broker.crt"
    assert hub.broker.keyfile == folder / "tls" / "broker.key"
    assert hub.hub.unit_file == (folder / "unit.toml").resolve()
    assert hub.mqtt.password_file.is_relative_to(tmp_path)  # "../var/..." from etc/
    assert hub.hub.database_url == f"sqlite:///{(folder / '../var/hub/hailong.db').resolve()}"


def test_a_path_built_in_python_is_taken_as_it_is() -> None:
    """Without a config file there is no folder to resolve against (tests, the demo)."""
    mqtt = load_kiosk(CONFIG / "kiosk.toml").mqtt
    relative = mqtt.model_validate({**mqtt.model_dump(), "password_file": "x.pw"})
    assert relative.password_file == Path("x.pw")
