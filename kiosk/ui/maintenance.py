"""The staff-only maintenance screen, behind a PIN: kiosk health, scanner test, exit."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QBoxLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from kiosk.ui.keyboard import OnScreenKeyboard
from kiosk.ui.screens import Bilingual
from kiosk.ui.theme import label, px


class MaintenanceScreen(QWidget):
    pin_entered = Signal(str)
    back = Signal()
    exit_requested = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.stack = QStackedWidget()
        self.stack.addWidget(self._pin_page())
        self.stack.addWidget(self._status_page())
        layout = QVBoxLayout(self)
        layout.addWidget(self.stack)

    def _pin_page(self) -> QWidget:
        page = QWidget()
        self.pin_title = Bilingual("Dành cho cán bộ: nhập mã PIN", "Staff only: enter the PIN")
        self.pin = QLineEdit()
        self.pin.setEchoMode(QLineEdit.EchoMode.Password)
        self.pin_error = label("", "error")
        self.pin_keys = OnScreenKeyboard("phone")
        self.pin_keys.target = self.pin
        ok = QPushButton("Mở / Open")
        ok.clicked.connect(lambda: self.pin_entered.emit(self.pin.text()))
        cancel = QPushButton("Quay lại / Back")
        cancel.clicked.connect(self.back.emit)
        self.open_button, self.cancel_button = ok, cancel
        self._pin_buttons = (ok, cancel)
        buttons = QHBoxLayout()
        buttons.addWidget(cancel)
        buttons.addWidget(ok)
        layout = QVBoxLayout(page)
        for widget in (self.pin_title, self.pin, self.pin_error, self.pin_keys):
            layout.addWidget(widget)
        layout.addLayout(buttons)
        return page

    def _status_page(self) -> QWidget:
        page = QWidget()
        self.status_title = Bilingual("Bảo trì ki-ốt", "Kiosk maintenance")
        self.fields: dict[str, QLabel] = {}
        grid = QGridLayout()
        names = {
            "kiosk": "Ki-ốt / Kiosk",
            "version": "Phiên bản / Version",
            "link": "Kết nối máy chủ / Broker link",
            "depth": "Đánh giá chờ gửi / Buffered ratings",
            "rejected": "Bị từ chối / Rejected by the hub",
            "last_ack": "Xác nhận gần nhất / Last acknowledgement",
            "scanner": "Lần quét gần nhất / Last scan",
        }
        for row, (key, name) in enumerate(names.items()):
            caption = label(name, "strong")
            caption.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
            value = QLabel("—")
            value.setWordWrap(True)
            for cell in (caption, value):  # wrap rather than widen a portrait screen
                cell.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
            grid.addWidget(caption, row, 0)
            grid.addWidget(value, row, 1)
            self.fields[key] = value
        self.scanner_hint = label(
            "Thử máy quét: quét một mã bất kỳ, nội dung hiện ở dòng trên. / "
            "Test the scanner: scan any code, it appears above.",
            "muted",
        )
        close = QPushButton("Về màn hình đầu / Back to start")
        close.clicked.connect(self.back.emit)
        leave = QPushButton("Thoát ứng dụng / Exit the app")
        leave.clicked.connect(self.exit_requested.emit)
        self.close_button, self.exit_button = close, leave
        self._status_buttons = (close, leave)
        self.status_buttons = QBoxLayout(QBoxLayout.Direction.LeftToRight)
        self.status_buttons.addWidget(close)
        self.status_buttons.addWidget(leave)
        layout = QVBoxLayout(page)
        layout.addWidget(self.status_title)
        layout.addLayout(grid)
        layout.addWidget(self.scanner_hint)
        layout.addStretch(1)
        layout.addLayout(self.status_buttons)
        return page

    def ask_pin(self, error: str = "") -> None:
        self.pin.clear()
        self.pin_error.setText(error)
        self.stack.setCurrentIndex(0)

    def show_status(self, values: dict[str, str]) -> None:
        for key, value in values.items():
            self.fields[key].setText(value)
        self.stack.setCurrentIndex(1)

    @property
    def unlocked(self) -> bool:
        return self.stack.currentIndex() == 1

    def orient(self, *, portrait: bool) -> None:
        self.status_buttons.setDirection(
            QBoxLayout.Direction.TopToBottom if portrait else QBoxLayout.Direction.LeftToRight
        )

    def rescale(self, unit: int) -> None:
        self.pin_title.rescale(int(unit * 1.2))
        self.status_title.rescale(int(unit * 1.2))
        for widget in (self.pin, *self._pin_buttons, *self._status_buttons):
            px(widget, int(unit * 0.9))
            widget.setMinimumHeight(int(unit * 2.2))
        for value in self.fields.values():
            px(value, int(unit * 0.75))
        px(self.pin_error, int(unit * 0.8))
        self.pin_keys.rescale(unit)
