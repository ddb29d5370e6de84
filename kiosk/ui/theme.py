"""Colours and text roles in one place, so high contrast is one style sheet, not a hunt.

Widgets never set their own colours: labels and buttons carry a ``role`` property and the window's
style sheet (normal or high contrast) decides how each role looks. High contrast is yellow and
white on black with thick outlines, for citizens with low vision.
"""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QFont, QFontMetricsF
from PySide6.QtWidgets import QLabel, QWidget

INK = "#1a237e"
ERROR = "#b71c1c"

NORMAL = """
KioskWindow { background: #fafafa; }
QLabel { color: #111111; }
QLabel[role="title"] { color: #1a237e; font-weight: bold; }
QLabel[role="body"] { color: #263238; }
QLabel[role="muted"] { color: #455a64; }
QLabel[role="strong"] { color: #111111; font-weight: bold; }
QLabel[role="error"] { color: #b71c1c; font-weight: bold; }
QLabel[role="online"] { color: #2e7d32; }
QLabel[role="offline"] { color: #8d6e63; }
QLabel#banner { background: #e65100; color: #ffffff; font-weight: bold; padding: 6px; }
QPushButton[role="reason"] { text-align: center; padding: 6px; }
QPushButton[role="reason"]:checked { background: #ffe082; border: 3px solid #e65100; }
"""

CONTRAST = """
KioskWindow, QStackedWidget, QWidget { background: #000000; color: #ffffff; }
QLabel { color: #ffffff; }
QLabel[role="title"] { color: #ffff00; font-weight: bold; }
QLabel[role="body"], QLabel[role="muted"], QLabel[role="strong"] { color: #ffffff; }
QLabel[role="strong"] { font-weight: bold; }
QLabel[role="error"] { color: #ff8a80; font-weight: bold; }
QLabel[role="online"] { color: #b9f6ca; }
QLabel[role="offline"] { color: #ffffff; }
QLabel#banner { background: #ffff00; color: #000000; font-weight: bold; padding: 6px; }
QPushButton, QLineEdit, QCheckBox {
    background: #000000; color: #ffffff; border: 3px solid #ffff00; padding: 4px;
}
QPushButton:pressed, QPushButton:checked, QPushButton[role="reason"]:checked {
    background: #ffff00; color: #000000;
}
"""


def set_role(widget: QWidget, role: str) -> None:
    """Give a widget a text role and re-apply the style sheet to it."""
    if widget.property("role") == role:
        return
    widget.setProperty("role", role)
    style = widget.style()
    style.unpolish(widget)
    style.polish(widget)


def label(text: str = "", role: str = "body") -> QLabel:
    """A centred, wrapping label: sentences on a kiosk never widen the window."""
    widget = QLabel(text)
    widget.setWordWrap(True)
    widget.setAlignment(Qt.AlignmentFlag.AlignCenter)
    widget.setProperty("role", role)
    return widget


def px(widget: QWidget, size: int) -> None:
    """Set a widget's font size in pixels (sizes follow the screen, not the DPI)."""
    font = widget.font()
    font.setPixelSize(max(10, size))
    widget.setFont(font)


def fitted_font(
    base: QFont, box: QRectF, text: str, flags: int, *, bold: bool, largest: int
) -> QFont:
    """The largest font, from ``largest`` pixels down to 10, in which ``text`` fits ``box``: words
    drawn inside a button (a face's name, a reason) must never spill out of it."""
    font = QFont(base)
    font.setBold(bold)
    size = max(10, largest)
    while size > 10:
        font.setPixelSize(size)
        needed = QFontMetricsF(font).boundingRect(box, flags, text)
        if needed.width() <= box.width() and needed.height() <= box.height():
            break
        size -= 1
    font.setPixelSize(size)
    return font
