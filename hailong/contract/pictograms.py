"""The pictograms a kiosk draws beside a reason for dissatisfaction, by name.

A citizen who reads poorly recognises a clock or a chair before the sentence beside it. The unit
file may name a reason's pictogram (``icon = "clock"``); a reason without one gets the pictogram of
its code when it is one of the reasons the shipped ``config/unit.toml`` lists, else the neutral
one. The names are the contract: the hub checks a unit file against :data:`PICTOGRAMS`, the kiosk
draws each of them (``kiosk/ui/pictograms.py``) and draws the neutral one for a name it does not
know, so a hub newer than a kiosk never blanks a button.
"""

from __future__ import annotations

from typing import Annotated, Final

from pydantic import Field

# A pictogram's name on the wire: short, lower case, so a newer name passes an older kiosk.
IconName = Annotated[str, Field(pattern=r"^[a-z0-9-]{1,32}$")]

NEUTRAL: Final = "neutral"
"""A plain mark in a circle: a reason whose meaning no pictogram says."""

PICTOGRAMS: Final[dict[str, tuple[str, str]]] = {
    "officer": ("Cán bộ không vui vẻ", "An unfriendly officer"),
    "papers": ("Thêm giấy tờ", "Extra papers"),
    "trips": ("Đi lại nhiều lần", "Many trips"),
    "clock": ("Trễ hẹn", "Late"),
    "wrong-result": ("Kết quả sai", "A wrong result"),
    "information": ("Thông tin", "Information"),
    "seat": ("Chỗ ngồi chờ", "A seat to wait"),
    "unanswered": ("Chưa được trả lời", "Not answered"),
    "queue": ("Chờ lâu", "A long wait"),
    "money": ("Chi phí", "Money asked"),
    NEUTRAL: ("Lý do khác", "Another reason"),
}
"""Every pictogram a kiosk can draw, with what it shows (the administration page's choices)."""

DEFAULT_ICONS: Final[dict[str, str]] = {
    "thai-do": "officer",
    "giay-to-ngoai-quy-dinh": "papers",
    "di-lai-nhieu-lan": "trips",
    "tre-hen": "clock",
    "ket-qua-sai": "wrong-result",
    "kho-tim-thong-tin": "information",
    "noi-cho-doi": "seat",
    "phan-anh-khong-tra-loi": "unanswered",
}
"""The pictogram of each reason code of the shipped ``config/unit.toml``."""


def icon_for(code: str, icon: str | None) -> str:
    """The pictogram to draw for a reason: its own if it names one this build knows, else its
    code's default, else :data:`NEUTRAL`."""
    if icon is not None and icon in PICTOGRAMS:
        return icon
    return DEFAULT_ICONS.get(code, NEUTRAL)
