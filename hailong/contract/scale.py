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
    """Where a rating was given: the reports count each channel apart (Decree 61, Article 29).

    ``online`` and ``paper`` are made by the hub alone (its online page; its paper-form page, where
    staff key the survey forms handed out with the receipt, or a helper records the answers of a
    citizen they assist): the hub refuses either from a kiosk.
    """

    KIOSK = "kiosk"
    ONLINE = "online"
    BUTTON_BOX = "button_box"
    PAPER = "paper"  # phiếu khảo sát: keyed by staff (``ratings.entered_by``), never from MQTT


class Factor(StrEnum):
    """The SIPAS service factors (yếu tố), each with its own MĐHL."""

    ACCESS = "access"  # Tiếp cận dịch vụ
    PROCEDURE = "procedure"  # Thủ tục hành chính
    OFFICER = "officer"  # Công chức giải quyết công việc
    RESULT = "result"  # Kết quả dịch vụ
    FEEDBACK = "feedback"  # Tiếp nhận, xử lý phản ánh kiến nghị

    @property
    def label_vi(self) -> str:
        return _FACTOR_VI[self]

    @property
    def label_en(self) -> str:
        return _FACTOR_EN[self]


_FACTOR_VI = {
    Factor.ACCESS: "Tiếp cận dịch vụ",
    Factor.PROCEDURE: "Thủ tục hành chính",
    Factor.OFFICER: "Công chức giải quyết công việc",
    Factor.RESULT: "Kết quả dịch vụ",
    Factor.FEEDBACK: "Tiếp nhận, xử lý phản ánh kiến nghị",
}
_FACTOR_EN = {
    Factor.ACCESS: "Access to the service",
    Factor.PROCEDURE: "The administrative procedure",
    Factor.OFFICER: "The officer who handled it",
    Factor.RESULT: "The result",
    Factor.FEEDBACK: "Handling of feedback and complaints",
}

# How a kiosk showing fewer faces maps them onto the 5-level scale (stored value).
FACE_SETS: dict[int, tuple[Score, ...]] = {
    5: (
        Score.VERY_SATISFIED,
        Score.SATISFIED,
        Score.NEUTRAL,
        Score.DISSATISFIED,
        Score.VERY_DISSATISFIED,
    ),
    4: (Score.VERY_SATISFIED, Score.SATISFIED, Score.DISSATISFIED, Score.VERY_DISSATISFIED),
    3: (Score.VERY_SATISFIED, Score.NEUTRAL, Score.VERY_DISSATISFIED),
}
