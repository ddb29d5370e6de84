"""The kiosk's spoken prompts: the one place their texts live.

Each key maps to (Vietnamese, English). ``scripts/render_prompts.sh`` reads :func:`listing` and
renders every text to ``<key>-<lang>.wav`` beside this module; ``kiosk.audio`` plays those files.
Change a text here, then run the script again and commit the WAV files it writes.

The texts are written to be heard, not read: no slashes ("ông bà", not "ông/bà"), short sentences,
and button names said exactly as the screen shows them.
"""

from __future__ import annotations

from typing import Final

LANGS: Final = ("vi", "en")
"""Languages a prompt is rendered in; the first is the fallback."""

PROMPTS: Final[dict[str, tuple[str, str]]] = {
    "attract": (
        "Xin mời ông bà đánh giá mức độ hài lòng. "
        "Hãy quét mã QR trên giấy hẹn, hoặc chạm vào nút Nhập mã.",
        "Please rate the service. Scan the QR code on your receipt, or touch Type the code.",
    ),
    "rating": (
        "Xin ông bà chạm vào khuôn mặt đúng với mức độ hài lòng.",
        "Please touch the face that matches how satisfied you are.",
    ),
    "reasons": (
        "Xin ông bà chọn những lý do chưa hài lòng, rồi chạm vào nút Tiếp tục.",
        "Please choose the reasons you were not satisfied, then touch Continue.",
    ),
    "comment": (
        "Ông bà có thể góp ý và để lại số điện thoại. "
        "Số điện thoại chỉ được lưu khi ông bà đồng ý.",
        "You may leave a comment and a phone number. Your number is kept only with your consent.",
    ),
    "survey": (
        "Xin ông bà trả lời vài câu hỏi ngắn, hoặc chạm vào nút Bỏ qua.",
        "Please answer a few short questions, or touch Skip.",
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
}


def text(key: str, lang: str) -> str:
    """The text of prompt ``key`` in ``lang``; KeyError for an unknown key, ValueError for a language."""
    return PROMPTS[key][LANGS.index(lang)]


def file_name(key: str, lang: str) -> str:
    """The WAV file, beside this module, that holds prompt ``key`` spoken in ``lang``."""
    return f"{key}-{lang}.wav"


def listing() -> str:
    """Every prompt as ``key<TAB>lang<TAB>text`` lines, the form the render script reads."""
    return "".join(f"{key}\t{lang}\t{text(key, lang)}\n" for key in PROMPTS for lang in LANGS)
