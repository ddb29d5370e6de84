"""sd_notify without libsystemd: what the environment says, and datagrams on a real unix socket."""

from __future__ import annotations

import contextlib
import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from PySide6.QtCore import QObject
from pytestqt.qtbot import QtBot

from kiosk.service_notify import (
    NotifyEnvironmentError,
    ServiceNotifier,
    socket_address,
    start_notifying,
    watchdog_seconds,
)


@pytest.fixture
def listener(tmp_path: Path) -> Iterator[tuple[socket.socket, str]]:
    """A datagram socket standing in for systemd's notify socket."""
    path = str(tmp_path / "notify")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.settimeout(5)
    yield sock, path
    sock.close()


def test_a_path_and_an_abstract_name_are_addresses() -> None:
    assert socket_address("/run/systemd/notify") == "/run/systemd/notify"
    assert socket_address("@hailong") == "\0hailong"


@pytest.mark.parametrize("value", ["", "relative/notify", "/run/a\0b"])
def test_anything_else_is_refused(value: str) -> None:
    with pytest.raises(NotifyEnvironmentError):
        socket_address(value)


@given(st.text())
def test_socket_address_answers_or_refuses(value: str) -> None:
    try:
        address = socket_address(value)
    except NotifyEnvironmentError:
        return
    assert "\0" not in value
    assert address == value if value.startswith("/") else address == "\0" + value[1:]


def test_the_watchdog_is_for_the_kiosk_or_the_compositor_it_runs_under() -> None:
    env = {"WATCHDOG_USEC": "30000000"}
    assert watchdog_seconds(env, 10, 1) == 30.0
    assert watchdog_seconds({**env, "WATCHDOG_PID": "10"}, 10, 1) == 30.0
    assert watchdog_seconds({**env, "WATCHDOG_PID": "9"}, 10, 9) == 30.0  # cage, the parent
    assert watchdog_seconds({**env, "WATCHDOG_PID": "11"}, 10, 9) is None
    assert watchdog_seconds({}, 10, 9) is None
    assert watchdog_seconds({"WATCHDOG_USEC": "1"}, 10, 9) == 0.000001


@pytest.mark.parametrize(
    "env",
    [
        {"WATCHDOG_USEC": "0"},
        {"WATCHDOG_USEC": "-5"},
        {"WATCHDOG_USEC": "30s"},
        {"WATCHDOG_USEC": "30", "WATCHDOG_PID": "x"},
    ],
    ids=["zero", "negative", "unit", "bad-pid"],
)
def test_a_watchdog_that_cannot_be_read_is_refused(env: dict[str, str]) -> None:
    with pytest.raises(NotifyEnvironmentError):
        watchdog_seconds(env, 10, 9)


@given(st.dictionaries(st.sampled_from(["WATCHDOG_USEC", "WATCHDOG_PID"]), st.text()))
def test_watchdog_seconds_answers_or_refuses(env: dict[str, str]) -> None:
    try:
        seconds = watchdog_seconds(env, 10, 9)
    except NotifyEnvironmentError:
        return
    assert seconds is None or seconds > 0


def test_outside_systemd_there_is_no_notifier() -> None:
    assert ServiceNotifier.from_environment({}) is None
    # A broken environment is logged, and the kiosk runs on unsupervised.
    assert ServiceNotifier.from_environment({"NOTIFY_SOCKET": "notify"}) is None


def test_states_arrive_as_datagrams(listener: tuple[socket.socket, str]) -> None:
    sock, path = listener
    env = {"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "4000000", "WATCHDOG_PID": str(os.getpid())}
    notifier = ServiceNotifier.from_environment(env)
    assert notifier == ServiceNotifier(path, 4.0)
    assert notifier.ready()
    ready = sock.recv(4096).decode().split("\n")
    assert ready[0] == "READY=1"
    assert ready[1].startswith("STATUS=")
    assert notifier.alive()
    assert sock.recv(4096) == b"WATCHDOG=1"


def test_a_missing_socket_is_not_the_citizens_problem(tmp_path: Path) -> None:
    assert not ServiceNotifier(str(tmp_path / "gone")).alive()


def test_the_event_loop_says_ready_then_pings(
    qtbot: QtBot, listener: tuple[socket.socket, str]
) -> None:
    sock, path = listener
    owner = QObject()
    timer = start_notifying(ServiceNotifier(path, watchdog=0.1), owner)
    assert timer is not None
    assert timer.interval() == 50
    received: list[bytes] = []

    def two_pings() -> bool:
        sock.settimeout(0.01)
        with contextlib.suppress(TimeoutError):
            received.append(sock.recv(4096))
        return received.count(b"WATCHDOG=1") >= 2

    qtbot.waitUntil(two_pings, timeout=5000)
    assert received[0].startswith(b"READY=1\n")
    timer.stop()


def test_without_a_watchdog_only_ready_is_sent(
    qtbot: QtBot, listener: tuple[socket.socket, str]
) -> None:
    sock, path = listener
    assert start_notifying(ServiceNotifier(path), QObject()) is None
    qtbot.wait(20)
    assert sock.recv(4096).startswith(b"READY=1\n")
