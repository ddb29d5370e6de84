"""A kiosk killed on every screen after the face keeps that face and what was answered.

A real child process (tests/kiosk/crash_child.py) runs the real kiosk offscreen on an outbox file,
is driven through the controller to a screen, and is SIGKILLed there: no clean stop, no Python
clean-up, as in a crash or a power cut (the outbox commits with ``synchronous=FULL``, so what is
committed is what a power cut leaves). The kiosk is then started again on the same file, with its
uplink to a real Mosquitto, and the hub's side must receive the rating once, closed, with the
answers given before the kill.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from hailong.contract.messages import RatingMessage
from hailong.contract.receipt import KeyRing
from hailong.contract.scale import Score
from hailong.settings import ReceiptKeys, Unit
from kiosk.app import build_kiosk
from tests.conftest import REPO, Broker
from tests.kiosk.conftest import kiosk_settings, signed_url
from tests.kiosk.crash_child import SCREENS, Expected
from tests.kiosk.test_uplink import HubPeer, wait_for

pytestmark = pytest.mark.timeout(90)


def _content(rating: RatingMessage) -> Expected:
    factors = {str(f): int(s) for f, s in rating.factors.items()}
    return (rating.score, rating.reasons, rating.comment, rating.callback_phone, factors)


def _expected(where: str) -> Expected:
    """What crash_child.answer_up_to says it answered (mirrored here to catch it drifting)."""
    if where == "rating":
        return None
    if where in ("survey-high", "thanks"):
        return (Score.SATISFIED, (), None, None, {})  # no reasons; the survey skipped
    if where in ("reasons", "comment"):
        return (Score.DISSATISFIED, ("tre-hen",), None, None, {})
    asked = int(where.split("-")[1]) - 1
    factors = {name: 3 for name in ("access", "procedure", "officer", "result")[:asked:2]}
    return (Score.DISSATISFIED, ("tre-hen",), "chờ lâu", "0912345678", factors)


def _kill_at(where: str, spec: dict[str, str]) -> None:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(REPO)}
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.kiosk.crash_child", json.dumps({**spec, "where": where})],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        line = child.stdout.readline()
        if line.strip() != "ready":
            child.kill()
            _, err = child.communicate(timeout=30)
            pytest.fail(f"the kiosk process did not get to {where}: {line!r}\n{err[-3000:]}")
        child.send_signal(signal.SIGKILL)
        assert child.wait(timeout=30) == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(timeout=30)
        for stream in (child.stdout, child.stderr):
            if stream is not None:
                stream.close()


@pytest.mark.parametrize("where", SCREENS)
def test_a_kill_on_any_screen_keeps_the_face_and_the_answers_given(
    qtbot: QtBot,
    tmp_path: Path,
    receipt_keys: ReceiptKeys,
    keyring: KeyRing,
    broker: Broker,
    unit: Unit,
    where: str,
) -> None:
    """Fails on the code before issue 15 for every screen after the face but the last: the
    rating was written only when the flow ended, so a kill there lost it."""
    settings = kiosk_settings(tmp_path, receipt_keys, broker.mqtt_settings("kiosk-q1"))
    config = unit.to_message()
    config = config.model_copy(
        update={"policy": config.policy.model_copy(update={"survey_share": 1.0})}
    )
    spec = {
        "settings": settings.model_dump_json(),
        "config": config.to_bytes().hex(),
        "receipt": signed_url(keyring, sequence=1),
    }
    _kill_at(where, spec)
    hub = HubPeer(broker)
    again = build_kiosk(settings)  # the restart, with its uplink to the broker
    try:
        expected = _expected(where)
        if expected is None:  # killed before a face: there was no rating to keep
            wait_for(lambda: again.uplink is not None and again.uplink.connected)
            assert (again.outbox.depth(), again.outbox.open_count()) == (0, 0)
            assert hub.ratings == []
            return
        wait_for(lambda: again.outbox.depth() == 0 and len(hub.ratings) >= 1, timeout=20)
        (rating,) = {r.id: r for r in hub.ratings}.values()  # one rating (a resend is a copy)
        assert all(copy == rating for copy in hub.ratings)
        assert _content(rating) == expected
        assert rating.seq == 1
        assert rating.receipt is not None
        assert rating.receipt.code == "000.00.20.H41-261125-0001"
        assert again.outbox.open_count() == 0
        # The receipt stays rated on this kiosk, and the next rating takes the next number.
        again.controller.submit_code(signed_url(keyring, sequence=1))
        assert "đã được đánh giá" in again.window.message.headline.text()
    finally:
        again.close()
        hub.close()
