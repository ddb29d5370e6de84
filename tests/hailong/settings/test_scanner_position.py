"""``[kiosk] scanner_position``: where the start screen's arrow points. Every allowed value loads,
the shipped files set one, and anything else fails naming the file, the key and the choices."""

from __future__ import annotations

import re
from pathlib import Path
from typing import get_args

import pytest

from hailong.settings import ConfigError, load_kiosk
from hailong.settings.services import ScannerPosition
from tests.conftest import REPO

CONFIG = REPO / "config" / "kiosk.toml"
ALLOWED = ("bottom", "bottom-left", "bottom-right", "left", "right", "top", "none")


def _with(tmp_path: Path, line: str | None) -> Path:
    """config/kiosk.toml with its scanner_position line replaced by ``line`` (None: removed)."""
    text = re.sub(
        r"(?m)^scanner_position = .*\n", "" if line is None else line + "\n", CONFIG.read_text()
    )
    path = tmp_path / "kiosk.toml"
    path.write_text(text)
    return path


def test_the_choices_are_the_documented_ones() -> None:
    assert get_args(ScannerPosition) == ALLOWED


@pytest.mark.parametrize("position", ALLOWED)
def test_every_allowed_position_loads(tmp_path: Path, position: str) -> None:
    settings = load_kiosk(_with(tmp_path, f'scanner_position = "{position}"'))
    assert settings.kiosk.scanner_position == position


def test_unset_it_is_below_the_screen_and_the_shipped_files_set_it(tmp_path: Path) -> None:
    assert load_kiosk(_with(tmp_path, None)).kiosk.scanner_position == "bottom"
    for shipped in (CONFIG, REPO / "deploy" / "raspberry-pi" / "kiosk.toml"):
        assert re.search(r'(?m)^scanner_position = "bottom"$', shipped.read_text()), shipped


@pytest.mark.parametrize(
    "value",
    ['"Bottom"', '"bottom "', '"bottom_left"', '"left-bottom"', '"below"', '""', "3", "true"],
)
def test_anything_else_names_the_file_the_key_and_the_choices(tmp_path: Path, value: str) -> None:
    path = _with(tmp_path, f"scanner_position = {value}")
    with pytest.raises(ConfigError) as excinfo:
        load_kiosk(path)
    message = str(excinfo.value)
    assert message.startswith(f"{path}: key `kiosk.scanner_position`: ")
    assert "'bottom', 'bottom-left', 'bottom-right', 'left', 'right', 'top' or 'none'" in message
    assert "(got " in message
