"""An abandoned session on real parts: the kiosk window → its outbox → Mosquitto → the hub.

Two citizens: the first scans a slip and walks off when the second scans theirs; the second rates.
The hub is down meanwhile, so both records wait in the kiosk's outbox and are delivered, stored
and acknowledged (after the commit) once the hub is back.
"""

from __future__ import annotations

import pytest
from pytestqt.qtbot import QtBot
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from hailong.contract.scale import Score
from hailong.settings import HubSettings, Unit
from hub.service import HubService
from hub.store.gaps import find_gaps
from hub.store.models import AbandonedSessionRow, RatingRow
from kiosk.app import Kiosk
from tests.conftest import UNIT_CODE
from tests.e2e.test_receipt_journey import issue, rate, scan, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(90)]


def test_a_slip_left_without_a_face_reaches_the_hub_beside_the_next_rating(
    qtbot: QtBot,
    kiosk: Kiosk,
    hub_settings: HubSettings,
    unit: Unit,
    hub_sessions: sessionmaker[Session],
) -> None:
    left = issue(hub_settings, unit, hub_sessions, "CB001")
    rated = issue(hub_settings, unit, hub_sessions, "CB002")
    scan(qtbot, kiosk, left.url)
    scan(qtbot, kiosk, rated.url)  # the next citizen: the first session is abandoned
    rate(qtbot, kiosk, Score.SATISFIED)
    qtbot.wait(1500)  # past resend_after: sent again, no hub to acknowledge it
    assert kiosk.outbox.depth() == 2
    with HubService(hub_settings, unit, hub_sessions):
        wait_for(qtbot, lambda: kiosk.outbox.depth() == 0)
    with hub_sessions() as session:
        (abandoned,) = session.scalars(select(AbandonedSessionRow))
        (rating,) = session.scalars(select(RatingRow))
        gaps = find_gaps(session, UNIT_CODE)
    assert (abandoned.dossier_code, abandoned.reason, abandoned.seq) == (
        str(left.code),
        "next_scan",
        1,
    )
    assert (abandoned.officer, abandoned.receipt_known, abandoned.receipt_verified) == (
        "CB001",
        True,
        True,
    )
    assert abandoned.scanned_at <= abandoned.ended_at <= rating.rated_at
    assert (rating.dossier_code, rating.seq, rating.score) == (str(rated.code), 2, 4)
    assert [(g.kiosk, g.highest, g.missing) for g in gaps] == [("kiosk-q1", 2, 0)]
