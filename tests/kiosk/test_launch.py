"""The kiosk's start-up (kiosk/launch.py): the start screen from a few unvalidated values first,
then, after its first paint, the settings validated and everything else built in one go."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pytestqt.qtbot import QtBot

from hailong.settings import KioskSection, ReceiptKeys
from kiosk.domain.screen import Screen
from kiosk.launch import (
    DEFAULT_SCANNER_POSITION,
    EXIT_CONFIG,
    FINISH_FALLBACK_MS,
    FirstScreen,
    Launch,
    main,
    read_first_screen,
    run,
)
from kiosk.outbox import Outbox
from kiosk.ui.window import KioskWindow
from tests.conftest import UNIT_CODE, Unit

REPO = Path(__file__).resolve().parents[2]


def write_config(folder: Path, receipt_keys: ReceiptKeys, kiosk_lines: str = "") -> Path:
    """A kiosk config as an installer writes one, relative paths and all."""
    (folder / "kiosk.password").write_text("unused\n")
    config = folder / "kiosk.toml"
    config.write_text(
        f"""[kiosk]
id = "kiosk-q1"
unit = "{UNIT_CODE}"
counter = "Q1"
outbox_path = "var/outbox.db"
{kiosk_lines}
[mqtt]
host = "127.0.0.1"
port = 1
username = "kiosk-q1"
password_file = "kiosk.password"

[receipts]
key_dir = "{receipt_keys.public_dir}"
""",
        encoding="utf-8",
    )
    (folder / "var").mkdir(exist_ok=True)
    return config


def cache_walk_ins(outbox_path: Path, unit: Unit, allowed: bool) -> None:
    config = unit.to_message()
    policy = config.policy.model_copy(update={"allow_walk_in": allowed})
    outbox = Outbox(outbox_path)
    outbox.save_unit_config(config.model_copy(update={"policy": policy}).to_bytes())
    outbox.close()


# -- the start screen's values, before validation -------------------------------------------


def test_the_defaults_are_the_settings_defaults() -> None:
    assert KioskSection.model_fields["scanner_position"].default == DEFAULT_SCANNER_POSITION
    assert FirstScreen() == FirstScreen(DEFAULT_SCANNER_POSITION, allow_walk_in=False)


def test_the_start_screen_reads_the_scanner_position_and_the_cached_walk_in_policy(
    tmp_path: Path, receipt_keys: ReceiptKeys, unit: Unit
) -> None:
    config = write_config(tmp_path, receipt_keys, 'scanner_position = "right"\n')
    assert read_first_screen(config) == FirstScreen("right", allow_walk_in=False)
    # The outbox path is relative to the config's folder, as the settings resolve it.
    cache_walk_ins(tmp_path / "var" / "outbox.db", unit, allowed=True)
    assert read_first_screen(config) == FirstScreen("right", allow_walk_in=True)
    cache_walk_ins(tmp_path / "var" / "outbox.db", unit, allowed=False)
    assert read_first_screen(config).allow_walk_in is False


@pytest.mark.parametrize(
    "text",
    [
        "",  # empty
        "[kiosk",  # not TOML
        "kiosk = 3\n",  # not a table
        "[kiosk]\nscanner_position = 7\noutbox_path = 3\n",  # wrong types
        "[kiosk]\noutbox_path = ''\n",
        b"\xff\xfe[kiosk]".decode("latin-1"),  # not UTF-8 once written as latin-1
    ],
)
def test_anything_unreadable_gives_the_defaults(tmp_path: Path, text: str) -> None:
    config = tmp_path / "kiosk.toml"
    config.write_text(text, encoding="latin-1")
    assert read_first_screen(config) == FirstScreen()
    assert read_first_screen(tmp_path / "missing.toml") == FirstScreen()


_VALUES = st.one_of(
    st.text(max_size=30).map(lambda t: json.dumps(t, ensure_ascii=False)),  # a TOML string
    st.integers(-(2**63), 2**63 - 1).map(str),
    st.sampled_from(["true", "false", "1.5", "nan", "[]", "[1, 'a']", "{}", "1979-05-27"]),
)


@given(
    position=_VALUES,
    outbox=_VALUES,
    junk=st.text(max_size=80),
)
@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_any_config_file_gives_a_start_screen_never_an_error(
    tmp_path: Path, position: str, outbox: str, junk: str
) -> None:
    """Whatever the file holds (the full load reports it right after), the start screen shows."""
    config = tmp_path / "kiosk.toml"
    for text in (
        f"[kiosk]\nscanner_position = {position}\noutbox_path = {outbox}\n",
        f"[kiosk]\n{junk}",
        junk,
    ):
        config.write_text(text, encoding="utf-8", errors="surrogatepass")
        first = read_first_screen(config)
        assert isinstance(first.scanner_position, str)
        assert isinstance(first.allow_walk_in, bool)


@given(content=st.binary(max_size=4096))
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_any_outbox_file_gives_an_answer_never_an_error(
    tmp_path: Path, receipt_keys: ReceiptKeys, content: bytes
) -> None:
    config = write_config(tmp_path, receipt_keys)
    (tmp_path / "var" / "outbox.db").write_bytes(b"SQLite format 3\x00" + content)
    assert read_first_screen(config).allow_walk_in is False


@pytest.mark.parametrize("content", [b"", b"not a database at all" * 100])
def test_an_outbox_that_cannot_be_read_gives_no_walk_in(
    tmp_path: Path, receipt_keys: ReceiptKeys, content: bytes
) -> None:
    config = write_config(tmp_path, receipt_keys)
    (tmp_path / "var" / "outbox.db").write_bytes(content)
    assert read_first_screen(config) == FirstScreen()
    # A real outbox with no configuration cached yet, and one whose cached JSON is broken.
    (tmp_path / "var" / "outbox.db").unlink()
    outbox = Outbox(tmp_path / "var" / "outbox.db")
    assert read_first_screen(config).allow_walk_in is False
    outbox.save_unit_config(b"{not json")
    outbox.close()
    assert read_first_screen(config).allow_walk_in is False


# -- the two steps ----------------------------------------------------------------------------


def test_the_start_screen_shows_first_and_the_kiosk_is_built_after_its_first_paint(
    qtbot: QtBot, tmp_path: Path, receipt_keys: ReceiptKeys, unit: Unit
) -> None:
    config = write_config(tmp_path, receipt_keys, 'scanner_position = "left"\n')
    cache_walk_ins(tmp_path / "var" / "outbox.db", unit, allowed=True)
    launch = Launch(config, windowed=True)
    window = launch.show()
    try:
        qtbot.addWidget(window)
        # Drawn from the file and the cache alone: nothing else is built yet.
        assert launch.kiosk is None
        assert not window.is_complete
        assert window.current is Screen.ATTRACT
        assert window.isVisible()
        assert window.attract.scanner_hint.position == "left"
        assert window.attract.walk_in_button.isVisibleTo(window)
        qtbot.waitUntil(lambda: launch.kiosk is not None, timeout=20_000)
        kiosk = launch.kiosk
        assert kiosk is not None
        assert kiosk.window is window
        assert window.is_complete
        assert kiosk.controller.settings.kiosk.scanner_position == "left"
        assert kiosk.controller.session.policy.allow_walk_in
        assert window.current is Screen.ATTRACT
        assert launch.exit_code == 0
        # The other screens are sized for the window as if built with it.
        twin = KioskWindow()
        qtbot.addWidget(twin)
        twin.apply_scale(window.width(), window.height())
        size = window.message.back_button.font().pixelSize()
        assert size == twin.message.back_button.font().pixelSize() > 0
        assert window.reasons.columns == twin.reasons.columns == 2
        qtbot.waitUntil(lambda: getattr(kiosk.outbox, "is_open", False), timeout=10_000)
    finally:
        launch.close()


def test_a_window_that_is_never_painted_is_built_all_the_same(
    qtbot: QtBot, tmp_path: Path, receipt_keys: ReceiptKeys
) -> None:
    """No display to paint on: the uplink must still send what the outbox holds."""
    launch = Launch(write_config(tmp_path, receipt_keys), windowed=True)
    window = launch.show()
    window.hide()  # before its first paint
    try:
        qtbot.waitUntil(lambda: launch.kiosk is not None, timeout=FINISH_FALLBACK_MS + 10_000)
        assert launch.kiosk is not None
        assert launch.kiosk.uplink is not None
    finally:
        launch.close()


def test_a_config_that_fails_validation_stops_the_kiosk_naming_file_and_key(
    qtbot: QtBot,
    tmp_path: Path,
    receipt_keys: ReceiptKeys,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = write_config(tmp_path, receipt_keys, "idle_reset_seconds = -1\n")
    assert run(config, windowed=True) == EXIT_CONFIG
    err = capsys.readouterr().err
    assert str(config) in err
    assert "kiosk.idle_reset_seconds" in err


def test_a_missing_config_is_said_before_any_window_opens(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--config", str(tmp_path / "nowhere.toml")]) == EXIT_CONFIG
    assert "nowhere.toml: file not found" in capsys.readouterr().err


def test_the_start_screen_is_painted_before_the_settings_and_the_rest_are_imported(
    tmp_path: Path, receipt_keys: ReceiptKeys
) -> None:
    """What start-up loads before the first paint, in a fresh interpreter (this test process has
    imported everything already): not pydantic, SQLAlchemy, paho or the controller."""
    config = write_config(tmp_path, receipt_keys)
    probe = f"""
import json, sys
from pathlib import Path
from PySide6.QtWidgets import QApplication
from kiosk.launch import Launch
launch = Launch(Path({str(config)!r}), windowed=True)
window = launch.show()
heavy = ("pydantic", "sqlalchemy", "paho", "kiosk.controller", "hailong.settings", "cryptography")
at_paint = []
from kiosk.ui.after_paint import after_first_paint
after_first_paint(window, lambda: at_paint.extend(m for m in heavy if m in sys.modules))
while launch.kiosk is None and not launch.exit_code:
    QApplication.processEvents()
ready = [m for m in heavy if m in sys.modules]
print(json.dumps({{"at_paint": at_paint, "ready": ready, "code": launch.exit_code}}))
launch.close()
"""
    out = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
    )
    assert out.returncode == 0, out.stderr
    seen = json.loads(out.stdout.strip().splitlines()[-1])
    assert seen["code"] == 0
    assert seen["at_paint"] == []
    assert set(seen["ready"]) >= {"pydantic", "kiosk.controller", "hailong.settings"}


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_stop_signal_closes_the_kiosk_cleanly(
    tmp_path: Path, receipt_keys: ReceiptKeys, signum: int
) -> None:
    """systemd's stop (SIGTERM) and Ctrl-C end the loop: the kiosk closes and says STOPPING=1."""
    config = write_config(tmp_path, receipt_keys)
    listening = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    listening.bind(str(tmp_path / "notify"))
    listening.settimeout(60)
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "NOTIFY_SOCKET": str(tmp_path / "notify")}
    command = [str(Path(sys.executable).parent / "hailong-kiosk"), "--config", str(config)]
    kiosk = subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True, cwd=tmp_path)
    try:
        assert "READY=1" in listening.recv(4096).decode()
        kiosk.send_signal(signum)
        assert kiosk.wait(timeout=30) == 0
        said = []
        with contextlib.suppress(TimeoutError):
            listening.settimeout(2)
            while True:
                said.append(listening.recv(4096).decode())
        assert any("STOPPING=1" in message for message in said), said
        assert kiosk.stderr is not None
        assert "KeyboardInterrupt" not in kiosk.stderr.read()
    finally:
        if kiosk.poll() is None:
            kiosk.kill()
            kiosk.wait()
        listening.close()
