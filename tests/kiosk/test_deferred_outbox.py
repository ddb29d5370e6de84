"""The outbox opened after the start screen is drawn: the start screen's two reads (the cached unit
configuration, the footer's depth) give what the real outbox gives without opening it; any
other use opens it first, crash recovery included; a kiosk opens it once its window is painted."""

from __future__ import annotations

import uuid
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, QTimer
from pytestqt.qtbot import QtBot

from hailong.contract.messages import ReceiptRef
from hailong.settings import MqttSettings, ReceiptKeys, Unit
from kiosk.app import build_kiosk
from kiosk.deferred_outbox import DeferredOutbox
from kiosk.outbox import Outbox
from tests.hailong.contract.test_messages import make_rating
from tests.kiosk.conftest import kiosk_settings

CODE = "000.00.20.H41-261125-0001"


def _held_ratings(path: Path, unit: Unit) -> uuid.UUID:
    """A file as a crashed kiosk leaves it: one rating sent on, one still open, the unit's
    configuration cached. Returns the open rating's id."""
    real = Outbox(path)
    real.save_unit_config(unit.to_message().to_bytes())
    real.append(lambda seq: make_rating(seq=seq, receipt=None))
    left_open = uuid.uuid4()
    receipt = ReceiptRef(code=CODE, verified=True)
    real.save(
        left_open, lambda seq: make_rating(seq=seq, id=left_open, receipt=receipt), close=False
    )
    real.close()
    return left_open


def test_the_start_screen_reads_do_not_open_the_outbox(tmp_path: Path, unit: Unit) -> None:
    path = tmp_path / "outbox.db"
    _held_ratings(path, unit)
    deferred = DeferredOutbox(path)
    assert deferred.load_unit_config() == unit.to_message()
    # The open rating counts: opening the outbox closes it, so it is about to be sent.
    assert deferred.depth() == 2
    assert not deferred.is_open
    reference = Outbox(path)  # what the real one says (and it closes the open rating)
    assert reference.depth() == deferred.depth()
    assert reference.load_unit_config() == deferred.load_unit_config()
    reference.close()


def test_a_new_kiosk_has_no_file_until_its_outbox_opens(tmp_path: Path) -> None:
    path = tmp_path / "new" / "outbox.db"
    deferred = DeferredOutbox(path)
    assert deferred.load_unit_config() is None
    assert deferred.depth() == 0
    assert not path.exists()
    deferred.close()  # never opened: nothing to close, nothing created
    assert not path.exists()


def test_any_other_use_opens_it_with_crash_recovery_first(tmp_path: Path, unit: Unit) -> None:
    path = tmp_path / "outbox.db"
    left_open = _held_ratings(path, unit)
    deferred = DeferredOutbox(path)
    assert deferred.has_rated(CODE, make_rating().stage)
    assert deferred.is_open
    assert deferred.open_count() == 0  # passed on to the real outbox, which closed the rating
    assert left_open in [rating_id for rating_id, _ in deferred.due(make_rating().rated_at, 0)]
    deferred.close()


def test_a_kiosk_opens_its_outbox_once_the_start_screen_is_painted(
    qtbot: QtBot, tmp_path: Path, receipt_keys: ReceiptKeys, offline_mqtt: MqttSettings
) -> None:
    kiosk = build_kiosk(kiosk_settings(tmp_path, receipt_keys, offline_mqtt), start_uplink=False)
    try:
        deferred = kiosk.outbox
        assert isinstance(deferred, DeferredOutbox)
        assert not deferred.is_open  # built, not yet drawn
        qtbot.addWidget(kiosk.window)
        kiosk.window.resize(800, 480)
        kiosk.window.show()
        qtbot.waitUntil(lambda: deferred.is_open, timeout=10_000)
        assert kiosk.outbox.depth() == 0
    finally:
        kiosk.close()


def test_the_first_screen_follows_the_cached_configuration_before_the_outbox_opens(
    tmp_path: Path, unit: Unit, receipt_keys: ReceiptKeys, offline_mqtt: MqttSettings
) -> None:
    settings = kiosk_settings(tmp_path, receipt_keys, offline_mqtt)
    config = unit.to_message()
    walk_ins = config.model_copy(
        update={"policy": config.policy.model_copy(update={"allow_walk_in": True})}
    )
    cached = Outbox(settings.kiosk.outbox_path)
    cached.save_unit_config(walk_ins.to_bytes())
    cached.close()
    kiosk = build_kiosk(settings, start_uplink=False)
    try:
        assert isinstance(kiosk.outbox, DeferredOutbox)
        assert not kiosk.outbox.is_open
        assert kiosk.controller.catalogue == walk_ins
        assert kiosk.controller.session.policy.allow_walk_in
    finally:
        kiosk.close()


def test_a_kiosk_closed_between_its_first_paint_and_the_open_never_creates_its_outbox(
    qtbot: QtBot, tmp_path: Path, receipt_keys: ReceiptKeys, offline_mqtt: MqttSettings
) -> None:
    settings = kiosk_settings(tmp_path, receipt_keys, offline_mqtt)
    kiosk = build_kiosk(settings, start_uplink=False)
    closed: list[bool] = []

    class CloseOnFirstPaint(QObject):
        """Installed after the kiosk's own watcher, so Qt calls it first: the close it queues
        runs before the open the kiosk queues."""

        def eventFilter(self, _watched: QObject, event: QEvent) -> bool:
            if event.type() == QEvent.Type.Paint and not closed:
                closed.append(True)
                QTimer.singleShot(0, kiosk.close)
            return False

    watcher = CloseOnFirstPaint()
    kiosk.window.installEventFilter(watcher)
    kiosk.window.resize(800, 480)
    kiosk.window.show()
    qtbot.waitUntil(lambda: bool(closed), timeout=10_000)
    qtbot.wait(100)  # the queued open has run by now
    assert not settings.kiosk.outbox_path.exists()
