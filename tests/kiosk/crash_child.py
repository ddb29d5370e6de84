"""A kiosk process to kill: the real kiosk (window, controller, session, outbox) offscreen, driven
to a screen after the face, then left waiting for its SIGKILL (tests/kiosk/test_crash.py).

Run as ``python -m tests.kiosk.crash_child SPEC_JSON``; prints ``ready`` once every answer has been
handed to the controller (each write is on disk by then: the controller writes before it returns).
"""

from __future__ import annotations

import json
import os
import sys
import time

from hailong.contract.messages import decode_unit_config
from hailong.contract.scale import Factor, Score
from hailong.settings import KioskSettings
from kiosk.controller import KioskController
from kiosk.domain.screen import Screen

# The screens a kiosk can be killed on, in the order a citizen meets them: before the face
# (nothing to keep), the reasons (a reason ticked), the comment (after the reasons), each survey
# question after a low score (comment and phone sent, every other question answered), the
# survey after a high score, and the thank-you screen (the rating already closed).
SCREENS = (
    "rating",
    "reasons",
    "comment",
    "survey-1",
    "survey-2",
    "survey-3",
    "survey-4",
    "survey-5",
    "survey-high",
    "thanks",
)
# What the rating holds: score, reasons, comment, call-back phone, factors (by name).
Expected = tuple[Score, tuple[str, ...], str | None, str | None, dict[str, int]] | None


def answer_up_to(controller: KioskController, receipt_url: str, where: str) -> Expected:
    """Scan, tap a face and answer up to ``where`` through the controller, as the screens do;
    returns what the rating must hold (None: no face was tapped)."""

    def screen() -> Screen:
        return controller.session.screen

    controller.submit_code(receipt_url)
    assert screen() is Screen.RATING, screen()
    if where == "rating":
        return None
    if where in ("survey-high", "thanks"):
        controller.rate(Score.SATISFIED)
        assert screen() is Screen.SURVEY_INVITE, screen()
        if where == "thanks":
            controller.skip_survey()  # one tap skips every question
            assert screen() is Screen.THANKS, screen()
        else:
            controller.start_survey()
            assert screen() is Screen.SURVEY, screen()
        return (Score.SATISFIED, (), None, None, {})
    controller.rate(Score.DISSATISFIED)
    controller.toggle_reason("tre-hen")
    assert screen() is Screen.REASONS, screen()
    if where == "reasons":
        return (Score.DISSATISFIED, ("tre-hen",), None, None, {})
    controller.finish_reasons()
    assert screen() is Screen.COMMENT, screen()
    if where == "comment":
        return (Score.DISSATISFIED, ("tre-hen",), None, None, {})
    controller.comment_done("chờ lâu", "0912 345 678", True)
    controller.start_survey()
    factors: dict[str, int] = {}
    for index in range(int(where.split("-")[1]) - 1):
        answer = Score.NEUTRAL if index % 2 == 0 else None
        controller.answer_survey(answer)
        if answer is not None:
            factors[str(list(Factor)[index])] = int(answer)
    assert screen() is Screen.SURVEY, screen()
    return (Score.DISSATISFIED, ("tre-hen",), "chờ lâu", "0912345678", factors)


def main(spec_json: str) -> None:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from kiosk.app import build_kiosk  # Qt after the platform is chosen

    spec = json.loads(spec_json)
    settings = KioskSettings.model_validate_json(spec["settings"])
    kiosk = build_kiosk(settings, start_uplink=False)
    kiosk.controller.use_config(decode_unit_config(bytes.fromhex(spec["config"])))
    kiosk.controller.session.draw = lambda: 0.0  # this citizen is offered the survey
    answer_up_to(kiosk.controller, spec["receipt"], spec["where"])
    print("ready", flush=True)
    time.sleep(120)  # the test kills us long before this


if __name__ == "__main__":
    main(sys.argv[1])
