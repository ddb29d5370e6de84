"""The kiosk counts a slip's age from the unit's day (the unit config's ``time_zone``), not the
Pi's: two zones 25 hours apart (UTC-11 and UTC+14) never share a date, so a slip exactly at the
age limit in one is past it in the other, whatever the hour the test runs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo

from hailong.contract.clock import unit_day
from hailong.contract.receipt import DossierCode, KeyRing, ReceiptClaims, sign
from hailong.settings import MqttSettings, ReceiptKeys
from kiosk.domain.screen import Screen
from kiosk.domain.session import RatingSession
from tests.conftest import UNIT_CODE
from tests.kiosk.conftest import BASE_URL, kiosk_settings

WEST, EAST = ZoneInfo("Pacific/Pago_Pago"), ZoneInfo("Etc/GMT-14")  # UTC-11, UTC+14
MAX_AGE = 30


def _clock(zone: tzinfo) -> Callable[[], tzinfo]:
    return lambda: zone


def test_a_slips_age_counts_from_the_units_day(
    tmp_path: Path, receipt_keys: ReceiptKeys, offline_mqtt: MqttSettings, keyring: KeyRing
) -> None:
    settings = kiosk_settings(tmp_path, receipt_keys, offline_mqtt)
    now = datetime.now(UTC)
    dated = unit_day(now, WEST) - timedelta(days=MAX_AGE)  # the limit's last day in the west
    claims = ReceiptClaims(DossierCode(UNIT_CODE, dated, 7), "1.001193", "Q1", "CB001")
    url = sign(claims, keyring).url(BASE_URL)
    screens = {}
    refused: list[str] = []
    for name, zone in (("west", WEST), ("east", EAST)):
        session = RatingSession(
            settings.kiosk,
            replace(receipt_keys.keyring(), max_age_days=MAX_AGE),
            lambda _code, _stage: False,
            on_refused=refused.append,
            time_zone=_clock(zone),
        )
        screens[name] = session.submit_code(url, now)
    assert screens == {"west": Screen.RATING, "east": Screen.ATTRACT}
    assert refused == ["expired"]
