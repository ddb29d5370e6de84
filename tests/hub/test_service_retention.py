"""The running hub service prunes the return offers (``[hub] return_offer_days``) in its hourly
pass, beside the kiosks' status history and the dead letters: an old published offer goes, a
recent one stays (the bounds are tested on both databases in tests/hub/store/test_retention.py)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from hailong.settings import HubSettings, Unit
from hub.service import HubService
from hub.store.models import ReturnOfferRow
from tests.conftest import UNIT_CODE


def test_the_hub_prunes_return_offers_past_their_retention(
    hub_settings: HubSettings, unit: Unit, hub_sessions: sessionmaker[Session]
) -> None:
    now = datetime.now(UTC)
    keep = hub_settings.hub.return_offer_days
    with hub_sessions.begin() as session:
        for days_ago in (keep + 5, keep - 5):
            offered = now - timedelta(days=days_ago)
            session.add(
                ReturnOfferRow(
                    id=f"offer-{days_ago}",
                    unit=UNIT_CODE,
                    dossier_code=f"{UNIT_CODE}-261125-{days_ago:04d}",
                    counter="Q1",
                    officer="CB002",
                    offered_at=offered,
                    expires_at=offered + timedelta(minutes=2),
                    published_at=offered + timedelta(seconds=1),
                    kiosks="kiosk-q1",
                )
            )

    def offers() -> list[str]:
        with hub_sessions() as session:
            return list(session.scalars(select(ReturnOfferRow.id)))

    with HubService(hub_settings, unit, hub_sessions) as service:
        assert service.ready.wait(10)
        deadline = time.monotonic() + 10
        while offers() != [f"offer-{keep - 5}"] and time.monotonic() < deadline:
            time.sleep(0.05)
    assert offers() == [f"offer-{keep - 5}"]
