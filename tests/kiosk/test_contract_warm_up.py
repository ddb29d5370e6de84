"""The contract's validators, left out of the kiosk's cold start (``defer_build``), are built
right after the first paint by :func:`kiosk.app.build_contract_validators`, so the first rating
does not pay for them (docs/kiosk.md "Start-up")."""

from __future__ import annotations

import subprocess
import sys


def test_the_kiosk_builds_its_message_validators_when_told_and_not_before() -> None:
    probe = (
        "from hailong.contract import messages as m, return_offer as r\n"
        "import kiosk.app\n"
        "models = (m.RatingMessage, m.AbandonedMessage, m.KioskStatusMessage, m.AckMessage,"
        " m.UnitConfigMessage, r.ReturnOfferMessage)\n"
        "before = [c.__pydantic_complete__ for c in models]\n"
        "kiosk.app.build_contract_validators()\n"
        "print(before, [c.__pydantic_complete__ for c in models])\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == f"{[False] * 6} {[True] * 6}"
