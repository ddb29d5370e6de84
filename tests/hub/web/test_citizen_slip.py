"""What the printed slip's QR holds opens the hub's rating page, as a phone's camera would: the
slip read back from the printer's bytes, its QR decoded, the address fetched from the web app."""

from __future__ import annotations

from hailong.settings import PrinterSettings, Unit
from hub.receipts.desk import IssueRequest, ReceiptDesk
from hub.receipts.printer import build_job
from hub.receipts.slip import ON_A_PHONE_EN, ON_A_PHONE_VI, opens_on_a_phone
from tests.hub.receipts.escpos_text import decoders_for, read_text
from tests.hub.web.conftest import Web
from tests.support.escpos_raster import decode_qr, extract_raster_images


def test_the_slips_qr_opens_the_rating_page_it_promises(web: Web, unit: Unit) -> None:
    desk = ReceiptDesk(web.settings, unit, web.sessions)
    issued = desk.issue(IssueRequest("Q1", "CB001", "1.001193"), print_slip=False).receipt
    settings = PrinterSettings(kind="dummy", profile="default", text_mode="codepage")
    data = build_job(issued, unit, settings).data

    assert f"{ON_A_PHONE_VI} {ON_A_PHONE_EN}" in read_text(data, decoders_for("default")).text
    (url,) = decode_qr(extract_raster_images(data))
    assert url.startswith(f"{web.settings.hub.public_base_url}/r/{issued.code}?p=1.001193&c=Q1")
    assert opens_on_a_phone(url)
    page = web.client.get(url)  # the whole address, as the phone asks for it
    assert page.status_code == 200
    assert "Đăng ký khai sinh" in page.text  # the receipt's procedure: this dossier's page
    assert 'name="score"' in page.text  # the faces to tap
    assert "Rất hài lòng" in page.text
