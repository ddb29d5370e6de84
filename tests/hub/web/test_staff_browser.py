"""The staff page in a real Chromium against a real uvicorn server: an officer issues a receipt,
sees its QR on screen, and the QR on the screenshot verifies as a signed receipt."""

from __future__ import annotations

from pathlib import Path

import pytest
import zxingcpp
from PIL import Image

from hailong.contract.receipt import KeyRing, SignedReceipt, parse_scan, verify
from tests.conftest import UNIT_CODE
from tests.hub.web.conftest import PASSWORD, needs_chromium

playwright = pytest.importorskip("playwright.sync_api")
pytestmark = [
    needs_chromium,
    pytest.mark.timeout(90),
]


def test_an_officer_issues_a_receipt_and_its_qr_verifies(
    page: playwright.Page, served: str, keyring: KeyRing, tmp_path: Path
) -> None:
    page.goto(f"{served}/staff")
    assert page.url.endswith("/staff/login")
    page.fill("input[name=username]", "lan")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    assert page.url.endswith("/staff")
    issue = page.locator("form[action='/staff/issue']")
    issue.locator("select[name=procedure]").select_option("1.004837")
    issue.locator("input[name=citizen_name]").fill("Phạm Văn Cường")
    page.screenshot(path=str(tmp_path / "staff-desk.png"), full_page=True)
    issue.locator("button[type=submit]").click()
    assert "/staff/receipts/000.00.20.H41-" in page.url
    assert page.locator(".notice").inner_text().startswith("Đã in giấy hẹn")
    shot = tmp_path / "staff-receipt.png"
    page.locator("img.qr").screenshot(path=str(shot))
    (decoded,) = zxingcpp.read_barcodes(Image.open(shot))
    scanned = parse_scan(decoded.text)
    assert isinstance(scanned, SignedReceipt)
    claims = verify(scanned, keyring, UNIT_CODE)
    assert (claims.procedure, claims.officer) == ("1.004837", "CB001")
    assert str(claims.code) in page.locator("p.code").inner_text()
