"""What the kiosk says on each screen, as a sequence of prompt keys (texts in ``kiosk.prompts``).

A blind citizen hears a screen in the order a sighted one reads it: what to do, then the choices
in the order they are laid out (faces left to right in a row, top to bottom in a column; reasons
row by row), then how to go on. Pure: the controller tells what is on screen, the player
(``kiosk.audio``) turns keys into sound.

When to speak is decided here too (:func:`speaks`): every screen as it appears when the unit
switched "always speak" on for the kiosk, or once a citizen asked (♪, or a press of a hardware
button where it cannot rate); the citizen's wish ends with the citizen.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Final

from hailong.contract.scale import Factor, Score
from kiosk.domain.session import ALREADY_RATED, NOT_SAVED, Notice
from kiosk.domain.wording import question

REASON_PREFIX: Final = "reason-"
"""Keys of the unit's reasons (``reason-<code>``): recorded per unit, never shipped."""
# Screens read by one line named as the screen.
_ONE_LINE: Final = frozenset({"comment", "thanks"})


def face_key(score: Score) -> str:
    """The line that names one face."""
    return f"face-{int(score)}"


def question_key(factor: Factor) -> str:
    """The line that reads one survey question."""
    return f"question-{factor.value}"


def reason_key(code: str) -> str:
    """The line that reads one of the unit's reasons (a file the unit provides)."""
    return f"{REASON_PREFIX}{code}"


@dataclass(frozen=True)
class OnScreen:
    """What the citizen has in front of them, as far as the voice needs it."""

    screen: str  # a kiosk.domain.session.Screen value
    notice: Notice | None = None
    faces: Sequence[Score] = ()  # as laid out: first is leftmost (row) or topmost (column)
    portrait: bool = False  # faces in a column, reasons in one column
    factor: Factor | None = None  # the survey question shown
    first_question: bool = False  # the survey's first question: say how to answer, and the faces
    reasons: Sequence[str] = ()  # reason codes as laid out (row by row in landscape)
    voiced: Collection[str] = field(default_factory=frozenset)  # reason codes with a recording
    scanner: str = "none"  # where the kiosk's scanner stands (``kiosk.scanner_position``)


def speaks(*, always: bool, asked: bool) -> bool:
    """Whether a screen speaks as it appears."""
    return always or asked


def lines(view: OnScreen) -> tuple[str, ...]:
    """The prompt keys that read ``view`` aloud, in order; empty for a screen with nothing to say
    (saving, maintenance)."""
    screen = view.screen
    if screen == "attract":
        if view.notice is not None:
            return ("refused",)
        return ("attract", *_scanner(view.scanner))
    if screen == "message":
        if view.notice == ALREADY_RATED:
            return ("already_rated",)
        return ("not_saved",) if view.notice == NOT_SAVED else ()
    if screen == "rating":
        return ("rating", *_faces(view))
    if screen == "reasons":
        return _reasons(view)
    if screen == "survey" and view.factor is not None:
        said: list[str] = []
        if view.first_question:
            said += ["survey", *_faces(view)]
        said.append(question_key(view.factor))
        if question(view.factor).may_not_apply:
            said.append("not_applicable")
        return tuple(said)
    if screen == "survey_invite":
        return ("survey_invite", "survey_invite_how")
    if screen in _ONE_LINE or screen == "survey":  # the survey: no question known yet
        return (screen,)
    return ()


def _scanner(position: str) -> tuple[str, ...]:
    """The line saying where the scanner is: none where the kiosk has none (``"none"``)."""
    return () if position == "none" else (f"scanner_{position.replace('-', '_')}",)


def _faces(view: OnScreen) -> tuple[str, ...]:
    if not view.faces:
        return ()
    intro = "faces_column" if view.portrait else "faces_row"
    return (intro, *(face_key(score) for score in view.faces))


def _reasons(view: OnScreen) -> tuple[str, ...]:
    said = ["reasons"]
    voiced = [code for code in view.reasons if code in view.voiced]
    if voiced:
        said.append("reasons_column" if view.portrait else "reasons_row")
        said += [reason_key(code) for code in voiced]
    if len(voiced) < len(view.reasons):
        said.append("reasons_unvoiced")
    return tuple(said)
