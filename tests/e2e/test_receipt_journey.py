"""One receipt's journey on real parts: printer bytes → QR → kiosk widgets → broker → hub → report.

The receipt is printed through python-escpos's Dummy printer; its QR is read back from the raster
bytes with an independent decoder (zxing-cpp), then typed into the real kiosk window as a USB
scanner would. The rating crosses a real Mosquitto (per-kiosk users and ACLs) to the real hub.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from hailong.contract.clock import unit_day
from hailong.contract.receipt import (
    DossierCode,
    ReceiptClaims,
    ReceiptRefused,
    parse_scan,
    sign_legacy_hmac,
    verify,
)
from hailong.contract.scale import Score, Stage
from hailong.provision import SecretsLayout, init_receipt_keys, revoke_receipt_key
from hailong.settings import HubSettings, ReceiptKeys, Unit
from hub.fleet_report import format_kiosks, kiosk_statuses
from hub.online import open_receipt
from hub.receipts.desk import ReceiptDesk
from hub.receipts.issuing import IssuedReceipt, issue_receipt
from hub.receipts.printer import print_receipt
from hub.report import Scope, format_summary, summary
from hub.service import HubService
from hub.store.models import RatingRow, ReceiptRow
from kiosk.app import Kiosk
from kiosk.domain.screen import Screen
from tests.conftest import Broker
from tests.e2e.conftest import start_kiosk
from tests.support.escpos_raster import decode_qr, extract_raster_images

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(90)]


def issue(
    hub_settings: HubSettings,
    unit: Unit,
    hub_sessions: sessionmaker[Session],
    officer: str = "CB001",
) -> IssuedReceipt:
    """A receipt issued now at counter Q1 by ``officer``, not printed."""
    return issue_receipt(
        hub_sessions,
        unit,
        hub_settings.receipts.keyring(),
        hub_settings.hub.public_base_url,
        counter="Q1",
        officer=officer,
        procedure="1.001193",
        now=datetime.now(UTC),
    )


def issue_and_print(
    hub_settings: HubSettings, unit: Unit, hub_sessions: sessionmaker[Session]
) -> tuple[IssuedReceipt, str]:
    """The counter officer's step; returns the receipt and the text its printed QR holds."""
    issued = issue(hub_settings, unit, hub_sessions)
    printed = print_receipt(issued, unit, hub_settings.printers["Q1"], sessions=hub_sessions)
    assert printed is not None
    (qr_text,) = decode_qr(extract_raster_images(printed))
    return issued, qr_text


def scan(qtbot: QtBot, kiosk: Kiosk, text: str) -> None:
    target = QApplication.focusWidget() or kiosk.window
    qtbot.keyClicks(target, text)
    qtbot.keyClick(target, Qt.Key.Key_Return)


def rate(qtbot: QtBot, kiosk: Kiosk, score: Score, reason: str | None = None) -> None:
    """Tap a face; after a low score tick ``reason`` and skip the comment."""
    window = kiosk.window
    assert window.current is Screen.RATING
    qtbot.mouseClick(window.rating.faces[score], Qt.MouseButton.LeftButton)
    if reason is not None:
        assert window.current is Screen.REASONS
        qtbot.mouseClick(window.reasons.buttons[reason], Qt.MouseButton.LeftButton)
        qtbot.mouseClick(window.reasons.next_button, Qt.MouseButton.LeftButton)
        assert window.current is Screen.COMMENT
        qtbot.mouseClick(window.comment.skip_button, Qt.MouseButton.LeftButton)
    assert window.current is Screen.THANKS


def stored(hub_sessions: sessionmaker[Session]) -> list[RatingRow]:
    with hub_sessions() as session:
        return list(session.scalars(select(RatingRow)))


def wait_for(qtbot: QtBot, condition: Callable[[], bool], timeout_ms: int = 15_000) -> None:
    qtbot.waitUntil(condition, timeout=timeout_ms)


def test_receipt_from_printer_to_report(
    qtbot: QtBot,
    kiosk: Kiosk,
    hub_settings: HubSettings,
    unit: Unit,
    hub_sessions: sessionmaker[Session],
) -> None:
    with HubService(hub_settings, unit, hub_sessions):
        issued, qr_text = issue_and_print(hub_settings, unit, hub_sessions)
        assert qr_text == issued.url
        wait_for(qtbot, lambda: kiosk.uplink is not None and kiosk.uplink.connected)
        # The hub's retained configuration gives the kiosk names instead of codes.
        wait_for(qtbot, lambda: kiosk.controller.catalogue is not None)
        scan(qtbot, kiosk, qr_text)
        assert "Đăng ký khai sinh" in kiosk.window.rating.procedure.text()
        assert "Nguyễn Thị Lan" in kiosk.window.rating.details.text()
        rate(qtbot, kiosk, Score.VERY_SATISFIED)
        wait_for(qtbot, lambda: kiosk.outbox.depth() == 0)
    rows = stored(hub_sessions)
    assert len(rows) == 1
    row = rows[0]
    assert (row.dossier_code, row.receipt_verified, row.receipt_known) == (
        str(issued.code),
        True,
        True,
    )
    assert (row.counter, row.officer, row.procedure, row.field, row.score) == (
        "Q1",
        "CB001",
        "1.001193",
        "ho-tich",
        5,
    )
    with hub_sessions() as session:
        table = summary(session, Scope(unit), "counter")
    assert [(g.key, g.n, g.rate) for g in table] == [("Q1", 1, 100.0)]
    assert "MĐHL chung / Overall: 100.0 % of 1" in format_summary(unit, {"counter": table})


def test_rating_made_while_the_hub_is_down_is_delivered_after_restart(
    qtbot: QtBot,
    kiosk: Kiosk,
    hub_settings: HubSettings,
    unit: Unit,
    hub_sessions: sessionmaker[Session],
) -> None:
    with HubService(hub_settings, unit, hub_sessions):
        wait_for(qtbot, lambda: kiosk.controller.catalogue is not None)
    # The hub has stopped. A citizen is served and rates anyway.
    issued, qr_text = issue_and_print(hub_settings, unit, hub_sessions)
    scan(qtbot, kiosk, qr_text)
    rate(qtbot, kiosk, Score.DISSATISFIED, reason="tre-hen")
    qtbot.wait(1500)  # longer than resend_after: the kiosk has tried again, still no ack
    assert kiosk.outbox.depth() == 1
    assert stored(hub_sessions) == []
    with HubService(hub_settings, unit, hub_sessions) as hub:
        wait_for(qtbot, lambda: kiosk.outbox.depth() == 0)
        wait_for(qtbot, lambda: hub.counters.acks_published >= 1)
    rows = stored(hub_sessions)
    assert [(r.dossier_code, r.score, r.reasons) for r in rows] == [
        (str(issued.code), 2, ["tre-hen"])
    ]


def test_a_receipt_rated_at_one_kiosk_is_already_rated_at_another(
    qtbot: QtBot,
    kiosk: Kiosk,
    tmp_path: Path,
    broker: Broker,
    receipt_keys: ReceiptKeys,
    hub_settings: HubSettings,
    unit: Unit,
    hub_sessions: sessionmaker[Session],
) -> None:
    other = start_kiosk(qtbot, tmp_path, broker, receipt_keys, "kiosk-q2")
    try:
        with HubService(hub_settings, unit, hub_sessions) as hub:
            wait_for(qtbot, lambda: bool(other.uplink and other.uplink.connected))
            wait_for(qtbot, lambda: bool(kiosk.uplink and kiosk.uplink.connected))
            issued, qr_text = issue_and_print(hub_settings, unit, hub_sessions)
            # Two kiosks share this test's QApplication, so each gets the scan directly (the
            # keyboard-wedge path is walked in the tests above).
            kiosk.controller.submit_code(qr_text)
            rate(qtbot, kiosk, Score.SATISFIED)
            wait_for(qtbot, lambda: hub.counters.stored == 1)
            # The hub tells every kiosk of the unit; the second kiosk now refuses the receipt.
            wait_for(qtbot, lambda: other.outbox.has_rated(str(issued.code), Stage.RECEPTION))
            other.controller.submit_code(qr_text)
            assert other.window.current is Screen.MESSAGE
            assert "đã được đánh giá" in other.window.message.headline.text()
        assert [row.kiosk for row in stored(hub_sessions)] == ["kiosk-q1"]
    finally:
        other.close()


def test_return_of_result_then_a_second_rating_for_the_return_stage(
    qtbot: QtBot,
    kiosk: Kiosk,
    hub_settings: HubSettings,
    unit: Unit,
    hub_sessions: sessionmaker[Session],
) -> None:
    desk = ReceiptDesk(hub_settings, unit, hub_sessions)
    with HubService(hub_settings, unit, hub_sessions) as hub:
        wait_for(qtbot, lambda: bool(kiosk.uplink and kiosk.uplink.connected))
        issued, qr_text = issue_and_print(hub_settings, unit, hub_sessions)
        scan(qtbot, kiosk, qr_text)
        rate(qtbot, kiosk, Score.SATISFIED)
        wait_for(qtbot, lambda: hub.counters.stored == 1)
        qtbot.waitUntil(lambda: kiosk.window.current is Screen.ATTRACT, timeout=3000)
        # Days later the officer at the return desk scans the slip when handing back the result.
        record = desk.record_return(qr_text, "CB002")
        assert not record.already
        wait_for(qtbot, lambda: kiosk.outbox.stage_of(str(issued.code)) is Stage.RETURN)
        scan(qtbot, kiosk, qr_text)
        assert kiosk.window.current is Screen.RATING  # not "already rated": a new stage
        assert "Trả kết quả" in kiosk.window.rating.details.text()
        rate(qtbot, kiosk, Score.VERY_SATISFIED)
        wait_for(qtbot, lambda: hub.counters.stored == 2)
    rows = sorted(stored(hub_sessions), key=lambda row: row.stage)
    assert [(r.stage, r.officer, r.score) for r in rows] == [
        ("reception", "CB001", 4),
        ("return", "CB002", 5),
    ]


def test_refused_receipts_are_counted_for_the_admin(
    qtbot: QtBot,
    kiosk: Kiosk,
    hub_settings: HubSettings,
    unit: Unit,
    hub_sessions: sessionmaker[Session],
) -> None:
    with HubService(hub_settings, unit, hub_sessions):
        wait_for(qtbot, lambda: bool(kiosk.uplink and kiosk.uplink.connected))
        _issued, qr_text = issue_and_print(hub_settings, unit, hub_sessions)
        for forged in (qr_text[:-3] + "AAA", qr_text.replace("p=1.001193", "p=1.000894")):
            scan(qtbot, kiosk, forged)
        scan(qtbot, kiosk, "000.00.99.H99-261125-0001")
        assert kiosk.outbox.refusals() == {"bad_signature": 2, "wrong_unit": 1}
        assert kiosk.uplink is not None
        kiosk.uplink.publish_status()

        def reported() -> bool:
            with hub_sessions() as session:
                rows = kiosk_statuses(session, unit)
            return bool(rows) and rows[0].refusals == {"bad_signature": 2, "wrong_unit": 1}

        wait_for(qtbot, reported)
    with hub_sessions() as session:
        text = format_kiosks(unit, kiosk_statuses(session, unit))
    assert "bad_signature 2, wrong_unit 1" in text
    assert "kiosk-q2" in text
    assert "never connected" in text


# -- Ed25519 keys: revocation reaches a running kiosk, old HMAC slips are codes only --------------


def own_keys(tmp_path: Path, hub_settings: HubSettings, *, legacy: bool = False) -> HubSettings:
    """The hub with receipt keys of its own (the session's keys are shared by other tests);
    ``legacy``: a folder the HMAC versions left, upgraded by ``hailong init``."""
    layout = SecretsLayout(tmp_path / "own-secrets")
    if legacy:
        layout.receipt_keys.mkdir(parents=True)
        (layout.receipt_keys / "k1.key").write_text(LEGACY_KEY.hex() + "\n")
    init_receipt_keys(layout)
    keys = ReceiptKeys(key_dir=layout.receipt_keys)
    return hub_settings.model_copy(update={"receipts": keys})


LEGACY_KEY = b"h" * 32


def test_a_revoked_key_is_refused_by_a_running_kiosk_at_once(
    qtbot: QtBot,
    tmp_path: Path,
    broker: Broker,
    hub_settings: HubSettings,
    unit: Unit,
    hub_sessions: sessionmaker[Session],
) -> None:
    hub_settings = own_keys(tmp_path, hub_settings)
    kiosk = start_kiosk(qtbot, tmp_path, broker, hub_settings.receipts, "kiosk-q1")
    try:
        with HubService(hub_settings, unit, hub_sessions):
            wait_for(qtbot, lambda: kiosk.controller.catalogue is not None)
            assert kiosk.controller.catalogue is not None
            assert kiosk.controller.catalogue.revoked_keys == ()
            _first, first_qr = issue_and_print(hub_settings, unit, hub_sessions)
            second, second_qr = issue_and_print(hub_settings, unit, hub_sessions)
            scan(qtbot, kiosk, first_qr)
            assert kiosk.window.current is Screen.RATING
            rate(qtbot, kiosk, Score.SATISFIED)
            wait_for(qtbot, lambda: kiosk.window.current is Screen.ATTRACT)

            layout = SecretsLayout(hub_settings.receipts.key_dir.parent)
            revoke_receipt_key(layout, "k1")  # as `hailong keys revoke k1` does, in another process

            # The kiosk's key folder is the one it started with; the news comes from the hub.
            wait_for(
                qtbot,
                lambda: (
                    kiosk.controller.catalogue is not None
                    and kiosk.controller.catalogue.revoked_keys == ("k1",)
                ),
            )
            scan(qtbot, kiosk, second_qr)
            assert kiosk.window.current is Screen.ATTRACT
            assert kiosk.outbox.refusals() == {"revoked_key": 1}
            with pytest.raises(ReceiptRefused, match="revoked_key"):  # the hub's online page too
                open_receipt(hub_sessions, unit, hub_settings.receipts.keyring(), second.url)
            assert hub_settings.receipts.keyring().active == "k2"  # new receipts are signed again
            third, _third_qr = issue_and_print(hub_settings, unit, hub_sessions)
            assert third.key_id == "k2"
    finally:
        kiosk.close()


def test_an_old_hmac_slip_is_rated_as_its_code_alone(
    qtbot: QtBot,
    tmp_path: Path,
    broker: Broker,
    hub_settings: HubSettings,
    unit: Unit,
    hub_sessions: sessionmaker[Session],
) -> None:
    hub_settings = own_keys(tmp_path, hub_settings, legacy=True)
    kiosk = start_kiosk(qtbot, tmp_path, broker, hub_settings.receipts, "kiosk-q1")
    claims = ReceiptClaims(
        DossierCode(unit.unit.code, unit_day(datetime.now(UTC)), 1),
        "1.001193",
        "Q2",
        "CB003",
    )
    old_slip = sign_legacy_hmac(claims, "k1", LEGACY_KEY).url(hub_settings.hub.public_base_url)
    # Issued by this hub before the upgrade: in its register, signed with HMAC key k1.
    with hub_sessions.begin() as session:
        session.add(
            ReceiptRow(
                dossier_code=str(claims.code), unit=unit.unit.code, procedure=claims.procedure,
                counter=claims.counter, officer=claims.officer, key_id="k1", url=old_slip,
                issued_at=datetime.now(UTC) - timedelta(days=1), printed=True, origin="issued",
            )
        )  # fmt: skip
    try:
        with HubService(hub_settings, unit, hub_sessions):
            wait_for(qtbot, lambda: bool(kiosk.uplink and kiosk.uplink.connected))
            scan(qtbot, kiosk, old_slip)
            subject = kiosk.controller.session.subject
            assert subject is not None
            # Nothing the slip claims is trusted: the kiosk's own counter, no officer, unverified.
            assert (subject.dossier_code, subject.verified) == (str(claims.code), False)
            assert (subject.counter, subject.officer, subject.procedure) == ("Q1", None, None)
            rate(qtbot, kiosk, Score.SATISFIED)
            wait_for(qtbot, lambda: bool(stored(hub_sessions)))
        (row,) = stored(hub_sessions)
        assert (row.dossier_code, row.receipt_verified) == (str(claims.code), False)
        # The hub still holds the HMAC key through the grace period, and checks the MAC.
        hub_ring = hub_settings.receipts.keyring()
        assert verify(parse_scan(old_slip), hub_ring, unit.unit.code) == claims  # type: ignore[arg-type]
        forged = sign_legacy_hmac(claims, "k1", b"x" * 32).url("https://h")
        with pytest.raises(ReceiptRefused, match="bad_signature"):
            verify(parse_scan(forged), hub_ring, unit.unit.code)  # type: ignore[arg-type]
    finally:
        kiosk.close()
