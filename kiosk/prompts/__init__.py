"""The kiosk's spoken prompts: the one place their texts live.

Each key maps to (Vietnamese, English). ``scripts/render_prompts.sh`` reads :func:`listing` and
renders every text to ``<key>-<lang>.wav`` beside this module; ``kiosk.audio`` plays those files.
Change a text here, then run the script again and commit the WAV files it writes.

Three kinds of line, all here:

* The screens' own prompts, written below.
* Lines whose words the screen already shows elsewhere, taken from there so they cannot disagree:
  the faces' names (:class:`hailong.contract.scale.Score`) and the survey's plain-words questions
  (:mod:`kiosk.domain.wording`), made fit to be heard by :func:`hearable`.
* The unit's own reasons (``reason-<code>``): their texts come from the unit's configuration, so
  no file can ship for them. A unit records or renders ``reason-<code>-<lang>.wav`` into its
  prompts folder (``kiosk.prompts_dir``, docs/voice.md); a reason without a file is skipped and
  the ``reasons_unvoiced`` line says so.

A unit may replace any shipped file with a recorded human voice: a file of the same name in its
prompts folder wins, per key and language. :func:`record_table` is the list of lines to record.

The texts are written to be heard by older listeners: short sentences, one idea each, no slashes
("ông bà", not "ông/bà"), and button names said exactly as the screen shows them.
"""

from __future__ import annotations

import re
from typing import Final

from hailong.contract.scale import FACE_SETS
from kiosk.domain.speech import REASON_PREFIX, face_key, question_key, reason_key
from kiosk.domain.wording import NOT_APPLICABLE, QUESTIONS, SURVEY_INVITE

__all__ = [
    "LANGS",
    "PROMPTS",
    "REASON_PREFIX",
    "face_key",
    "file_name",
    "hearable",
    "is_known",
    "listing",
    "question_key",
    "reason_key",
    "record_table",
    "text",
]

LANGS: Final = ("vi", "en")
"""Languages a prompt is rendered in; the first is the fallback."""


def hearable(text: str) -> str:
    """``text`` as it should be spoken: no slash or dash for the voice to stumble on, and a full
    stop at the end so that the rendered file ends on a falling tone and a pause."""
    spoken = re.sub(r"(?<=\w)/(?=\w)", " ", text)  # "ông/bà" -> "ông bà"
    spoken = re.sub(r"\s*[/—–]\s*", ", ", spoken)  # "vi / en", a dash: a short pause
    spoken = re.sub(r"^[\s,]+|[\s,]+$", "", spoken)
    spoken = re.sub(r"\s+", " ", spoken).strip()
    return spoken if spoken.endswith((".", "?", "!")) else f"{spoken}."


_SCREENS: Final[dict[str, tuple[str, str]]] = {
    "attract": (
        "Xin mời ông bà đánh giá mức độ hài lòng. "
        "Hãy quét mã QR trên giấy hẹn. "
        "Hoặc chạm vào nút Nhập mã. "
        "Nếu không có giấy hẹn, xin hỏi cán bộ tại quầy.",
        "Please rate the service. Scan the QR code on your receipt. Or touch Type the code. "
        "If you have no receipt, please ask the officer at the counter.",
    ),
    "rating": (
        "Xin ông bà chạm vào khuôn mặt đúng với mức độ hài lòng.",
        "Please touch the face that matches how satisfied you are.",
    ),
    "faces_row": (
        "Các khuôn mặt, từ trái sang phải, là:",
        "The faces, from left to right, are:",
    ),
    "faces_column": (
        "Các khuôn mặt, từ trên xuống dưới, là:",
        "The faces, from top to bottom, are:",
    ),
    "reasons": (
        "Xin ông bà chọn những lý do chưa hài lòng. Rồi chạm vào nút Tiếp tục, ở dưới cùng.",
        "Please choose the reasons you were not satisfied. Then touch Continue, at the bottom.",
    ),
    "reasons_row": (
        "Các lý do, đọc theo từng hàng, từ trái sang phải, là:",
        "The reasons, row by row, from left to right, are:",
    ),
    "reasons_column": (
        "Các lý do, từ trên xuống dưới, là:",
        "The reasons, from top to bottom, are:",
    ),
    "reasons_unvoiced": (
        "Có lý do chưa được ghi âm. Ông bà có thể nhờ cán bộ đọc giúp.",
        "Some reasons have no recording yet. You may ask an officer to read them.",
    ),
    "comment": (
        "Ông bà có thể góp ý, và để lại số điện thoại. "
        "Số điện thoại chỉ được lưu khi ông bà đồng ý. "
        "Hoặc chạm vào nút Bỏ qua.",
        "You may leave a comment and a phone number. "
        "Your number is kept only with your consent. Or touch Skip.",
    ),
    "survey": (
        "Xin ông bà trả lời vài câu hỏi ngắn. Mỗi câu, chạm vào một khuôn mặt, "
        "hoặc chạm vào nút Bỏ qua câu này.",
        "Please answer a few short questions. For each one, touch a face, "
        "or touch Skip this question.",
    ),
    "not_applicable": (
        f"Nếu câu này không đúng với ông bà, chạm vào nút {NOT_APPLICABLE[0]}.",
        f"If this question does not fit you, touch {NOT_APPLICABLE[1]}.",
    ),
    "survey_invite": (hearable(SURVEY_INVITE[0]), hearable(SURVEY_INVITE[1])),
    "survey_invite_how": (
        "Chạm vào nút Trả lời ở bên phải. Hoặc nút Bỏ qua hết, ở bên trái.",
        "Touch Answer, on the right. Or Skip them all, on the left.",
    ),
    "thanks": (
        "Cảm ơn ông bà đã đánh giá.",
        "Thank you for your feedback.",
    ),
    "already_rated": (
        "Hồ sơ này đã được đánh giá. Cảm ơn ông bà.",
        "This dossier has already been rated. Thank you.",
    ),
    "refused": (
        "Không đọc được giấy hẹn. Xin ông bà quét lại, hoặc nhờ cán bộ hỗ trợ.",
        "The receipt could not be read. Please scan again, or ask an officer.",
    ),
    "not_saved": (
        "Máy chưa lưu được đánh giá. Xin ông bà báo cán bộ.",
        "The kiosk could not save your rating. Please tell an officer.",
    ),
    # Where this kiosk's scanner is (``kiosk.scanner_position``), said after the start screen's
    # prompt: the arrow on the screen helps only those who can see it.
    "scanner_bottom": (
        "Máy quét mã ở phía dưới màn hình.",
        "The code scanner is below the screen.",
    ),
    "scanner_bottom_left": (
        "Máy quét mã ở phía dưới, bên trái màn hình.",
        "The code scanner is below the screen, on the left.",
    ),
    "scanner_bottom_right": (
        "Máy quét mã ở phía dưới, bên phải màn hình.",
        "The code scanner is below the screen, on the right.",
    ),
    "scanner_left": (
        "Máy quét mã ở bên trái màn hình.",
        "The code scanner is to the left of the screen.",
    ),
    "scanner_right": (
        "Máy quét mã ở bên phải màn hình.",
        "The code scanner is to the right of the screen.",
    ),
    "scanner_top": (
        "Máy quét mã ở phía trên màn hình.",
        "The code scanner is above the screen.",
    ),
}

PROMPTS: Final[dict[str, tuple[str, str]]] = {
    **_SCREENS,
    **{face_key(s): (hearable(s.label_vi), hearable(s.label_en)) for s in FACE_SETS[5]},
    **{question_key(f): (hearable(q.vi), hearable(q.en)) for f, q in QUESTIONS.items()},
}
"""Every shipped line: key -> (Vietnamese, English)."""


def text(key: str, lang: str) -> str:
    """The text of prompt ``key`` in ``lang``; KeyError for an unknown key, ValueError for a language."""
    return PROMPTS[key][LANGS.index(lang)]


def file_name(key: str, lang: str) -> str:
    """The WAV file, beside this module or in a unit's prompts folder, for ``key`` in ``lang``."""
    return f"{key}-{lang}.wav"


def is_known(key: str) -> bool:
    """A key the kiosk may say: a shipped line, or one of the unit's reasons."""
    return key in PROMPTS or (key.startswith(REASON_PREFIX) and len(key) > len(REASON_PREFIX))


def listing() -> str:
    """Every prompt as ``key<TAB>lang<TAB>text`` lines, the form the render script reads."""
    return "".join(f"{key}\t{lang}\t{text(key, lang)}\n" for key in PROMPTS for lang in LANGS)


def record_table() -> str:
    """The lines to record for a human voice, as a Markdown table (docs/voice.md holds a copy that
    a test compares with this, so the list cannot drift from the texts)."""
    rows = ["| File | Text |", "| --- | --- |"]
    rows += [
        f"| `{file_name(key, lang)}` | {text(key, lang)} |" for key in PROMPTS for lang in LANGS
    ]
    rows += [
        f"| `{file_name(reason_key('<code>'), lang)}` | "
        f"{'the reason name' if lang == 'en' else 'tên lý do'} (`name`"
        f"{'_en' if lang == 'en' else ''} in the unit's reasons) |"
        for lang in LANGS
    ]
    return "\n".join(rows) + "\n"
