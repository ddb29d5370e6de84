"""The kiosk's log tells its link's story (finding 7 of issue 15): connected, lost with the reason,
unreachable while the broker is down (once, not at every retry), connected again."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from kiosk.outbox import Outbox
from kiosk.uplink import Uplink
from tests.conftest import UNIT_CODE, Broker
from tests.kiosk.test_uplink import wait_for

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def outbox(tmp_path: Path) -> Iterator[Outbox]:
    box = Outbox(tmp_path / "outbox.db")
    yield box
    box.close()


def _messages(caplog: pytest.LogCaptureFixture, level: int) -> list[str]:
    return [
        r.getMessage() for r in caplog.records if r.name == "kiosk.uplink" and r.levelno == level
    ]


def test_the_kiosk_logs_connecting_losing_and_regaining_the_broker(
    broker: Broker, outbox: Outbox, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="kiosk.uplink")
    uplink = Uplink(broker.mqtt_settings("kiosk-q1"), UNIT_CODE, "kiosk-q1", outbox)
    uplink.start()
    where = f"127.0.0.1:{broker.port}"
    try:
        wait_for(lambda: uplink.connected)
        assert _messages(caplog, logging.INFO) == [
            f"kiosk kiosk-q1 connected to the broker at {where}"
        ]
        broker.process.stop()
        wait_for(lambda: not uplink.connected)
        # paho retries every 1-2 s at first: wait for a few failed attempts.
        wait_for(lambda: len(_messages(caplog, logging.DEBUG)) >= 2, timeout=20)
        warnings = _messages(caplog, logging.WARNING)
        assert warnings[0].startswith(f"kiosk kiosk-q1 lost the broker at {where} (")
        assert "reconnecting" in warnings[0]
        # The outage is one warning (or two: lost, then unreachable), not one per retry.
        assert len(warnings) <= 2
        assert all("cannot reach the broker" in m for m in _messages(caplog, logging.DEBUG))
        broker.process.start()
        wait_for(lambda: uplink.connected, timeout=40)
        assert (
            _messages(caplog, logging.INFO)[-1]
            == f"kiosk kiosk-q1 connected to the broker at {where}"
        )
    finally:
        uplink.stop()
    assert (
        _messages(caplog, logging.INFO)[-1]
        == "kiosk kiosk-q1 disconnected from the broker (stopping)"
    )
