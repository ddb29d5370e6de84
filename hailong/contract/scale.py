"""The SIPAS satisfaction scale and the vocabulary a rating is described with.

Ratings are always stored on the 5-level scale, whatever faces a kiosk shows, so that every unit's
figures are comparable with the Ministry of Home Affairs' SIPAS survey.
"""

from __future__ import annotations

from enum import IntEnum, StrEnum


class Score(IntEnum):
    """One answer on the SIPAS 5-level scale."""

    VERY_DISSATISFIED = 1
    DISSATISFIED = 2
    NEUTRAL = 3
    SATISFIED = 4
    VERY_SATISFIED = 5

    @property
    def is_satisfied(self) -> bool:
        """MĐHL counts "satisfied" and "very satisfied" answers only."""
        return self >= Score.SATISFIED

    @property
    def label_vi(self) -> str:
        return _LABELS_VI[self]

    @property
    def label_en(self) -> str:
        return _LABELS_EN[self]


_LABELS_VI = {
    Score.VERY_DISSATISFIED: "Rất không hài lòng",
    Score.DISSATISFIED: "Không hài lòng",
    Score.NEUTRAL: "Bình thường",
    Score.SATISFIED: "Hài lòng",
    Score.VERY_SATISFIED: "Rất hài lòng",
}
_LABELS_EN = {
    Score.VERY_DISSATISFIED: "Very dissatisfied",
    Score.DISSATISFIED: "Dissatisfied",
    Score.NEUTRAL: "Neutral",
    Score.SATISFIED: "Satisfied",
    Score.VERY_SATISFIED: "Very satisfied",
}


class Stage(StrEnum):
    """A dossier has two service moments, possibly served by different officers."""

    RECEPTION = "reception"  # tiếp nhận hồ sơ
    RETURN = "return"  # trả kết quả


class Channel(StrEnum):
    """Where a rating was given; later issues add the online page and the button box."""

    KIOSK = "kiosk"
    ONLINE = "online"
    BUTTON_BOX = "button_box"
