"""The short survey in the words a citizen uses, not the SIPAS factor names.

The SIPAS factor names ("Tiếp cận dịch vụ") are the report's words; a farmer at the counter is
asked what each factor means in plain words ("Có dễ tìm thông tin, có chỗ ngồi chờ không?").
The survey screen shows these, the voice reads them (``kiosk.prompts``), and the answers are
still stored per :class:`~hailong.contract.scale.Factor`, so the figures stay comparable.

``may_not_apply`` marks the factors a citizen may rightly have no view of (most have never filed a
complaint): the screen offers "Không áp dụng" for them, which is neither a score nor a skip.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from hailong.contract.scale import Factor


@dataclass(frozen=True)
class Question:
    """One survey question: what is shown and read, in both languages."""

    factor: Factor
    vi: str
    en: str
    may_not_apply: bool = False


QUESTIONS: Final[dict[Factor, Question]] = {
    Factor.ACCESS: Question(
        Factor.ACCESS,
        "Có dễ tìm thông tin, có chỗ ngồi chờ không?",
        "Was it easy to find information, and was there somewhere to sit and wait?",
    ),
    Factor.PROCEDURE: Question(
        Factor.PROCEDURE,
        "Giấy tờ phải nộp có đơn giản, dễ hiểu không?",
        "Were the papers you had to bring simple and easy to understand?",
    ),
    Factor.OFFICER: Question(
        Factor.OFFICER,
        "Cán bộ có lịch sự, hướng dẫn rõ ràng không?",
        "Was the officer polite, and did they explain clearly?",
    ),
    Factor.RESULT: Question(
        Factor.RESULT,
        "Kết quả có đúng hẹn và đúng như ông/bà cần không?",
        "Was the result on time and what you needed?",
        may_not_apply=True,
    ),
    Factor.FEEDBACK: Question(
        Factor.FEEDBACK,
        "Nếu ông/bà đã góp ý hay khiếu nại, có được trả lời thỏa đáng không?",
        "If you made a suggestion or complaint, was it answered well?",
        may_not_apply=True,
    ),
}

NOT_APPLICABLE: Final = ("Không áp dụng", "Does not apply")
"""The answer for a factor the citizen has no view of (not counted in that factor's MĐHL)."""

SURVEY_INVITE: Final = ("5 câu ngắn nữa — bỏ qua được", "5 more short questions — you may skip")
"""The line of the screen between the rating and the survey, which also offers to skip them all."""

SURVEY_WHY: Final = (
    "Để cơ quan phục vụ tốt hơn. Mỗi câu chỉ cần chạm một mặt.",
    "To help the office serve you better. Each takes one tap on a face.",
)
"""The invitation's second line: what the questions are for and how little they ask."""

SURVEY_START: Final = ("Trả lời", "Answer")
"""The invitation's button that starts the questions."""

SURVEY_SKIP_ALL: Final = ("Bỏ qua hết", "Skip them all")
"""The invitation's button that ends the visit with the rating as it stands."""

SKIP_QUESTION: Final = ("Bỏ qua câu này", "Skip this question")
"""Leaves one question unanswered (not the same as "Không áp dụng": nothing reaches the hub)."""


def step(index: int, total: int) -> tuple[str, str]:
    """The survey's progress line, e.g. "Câu 2/5"."""
    return f"Câu {index + 1}/{total}", f"Question {index + 1} of {total}"


def question(factor: Factor) -> Question:
    """The plain-words question for ``factor``."""
    return QUESTIONS[factor]
