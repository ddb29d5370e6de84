"""The kiosk's screens, by name: what the session decides and the window shows.

In a module of its own, with nothing but the standard library, so the window can be drawn
before the session (and the settings and contract it reads) has been imported (kiosk/launch.py).
"""

from __future__ import annotations

from enum import StrEnum


class Screen(StrEnum):
    ATTRACT = "attract"
    RATING = "rating"
    REASONS = "reasons"
    COMMENT = "comment"
    SURVEY_INVITE = "survey_invite"
    SURVEY = "survey"
    SAVING = "saving"
    THANKS = "thanks"
    MESSAGE = "message"
