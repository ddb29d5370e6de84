"""The dashboard's exports over HTTP: who may download what, and the quarterly PDF made in the
background (202 at once, progress to 100 %, the file for its owner only)."""

from __future__ import annotations

import csv
import io
import re
import time
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from pypdf import PdfReader

from hub.web.accounts import Accounts
from tests.hub.web.conftest import PASSWORD, Web, WebApp, set_clock
from tests.hub.web.test_dashboard import NOW, _login, _seed


@pytest.fixture
def seeded(web_app: WebApp) -> Web:
    """test_dashboard's ratings: this month Lan 3 of 4, Minh 1 of 2; Lan 1 of 1 in October."""
    set_clock(web_app.app, lambda: NOW)
    assert web_app.settings.web is not None
    Accounts(web_app.settings.web.accounts_file).add("boss", PASSWORD, "admin")
    with TestClient(web_app.app) as client:
        web = Web(web_app.settings, web_app.sessions, client, web_app.token)
        _seed(web)
        return web


def _rows(response: Any) -> list[list[str]]:
    assert response.status_code == 200, response.text
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def _csrf(page: str) -> str:
    token = re.search(r'name="csrf" value="([^"]+)"', page)
    assert token
    return token.group(1)


def test_exports_need_a_login(seeded: Web) -> None:
    for url in ["/dashboard/export.csv", "/dashboard/export.xlsx", "/reports/jobs/x"]:
        response = seeded.client.get(url, follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"] == "/staff/login"


def test_a_unit_head_downloads_the_dashboard_as_csv(seeded: Web) -> None:
    _login(seeded, "head")
    response = seeded.client.get("/dashboard/export.csv?period=month&dimension=officer")
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"] == (
        'attachment; filename="mdhl-000.00.20.H41-month-2026-11-01.csv"'
    )
    assert response.content.startswith(b"\xef\xbb\xbf")
    rows = _rows(response)
    # Minh 1 of 2 (50.0 %, Wilson 9.5–90.5), then Lan 3 of 4 (75.0 %, 30.1–95.4).
    assert rows[1:] == [
        ["Công chức / Officer", "CB002", "Trần Văn Minh", "2", "1", "50.0", "9.5", "90.5",
         "dưới 30 lượt / fewer than 30"],
        ["Công chức / Officer", "CB001", "Nguyễn Thị Lan", "4", "3", "75.0", "30.1", "95.4",
         "dưới 30 lượt / fewer than 30"],
    ]  # fmt: skip
    every = _rows(seeded.client.get("/dashboard/export.csv?period=year"))
    breakdowns = {row[0] for row in every[1:]}
    assert breakdowns == {"Quầy / Counter", "Công chức / Officer", "Thủ tục / Procedure",
                          "Lĩnh vực / Field"}  # fmt: skip
    q1 = next(row for row in every if row[1] == "Q1")
    assert q1[3:6] == ["7", "5", "71.4"]  # this year: 5 of 7


def test_a_unit_head_downloads_the_dashboard_as_xlsx(seeded: Web) -> None:
    _login(seeded, "head")
    response = seeded.client.get("/dashboard/export.xlsx?period=month")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
    book = load_workbook(io.BytesIO(response.content))
    assert len(book.sheetnames) == 4
    sheet = book["Công chức - Officer"]
    assert sheet["A3"].value.startswith("Kỳ báo cáo / Period: Tháng 11/2026 / November 2026")
    assert sheet["A4"].value.startswith("MĐHL chung / Overall: 66.7 % (4/6")
    lines = {
        row[0].value: [c.value for c in row[1:5]] for row in sheet.iter_rows(min_row=7, max_row=8)
    }
    assert lines["CB001"] == ["Nguyễn Thị Lan", 4, 3, 75.0]
    assert lines["CB002"] == ["Trần Văn Minh", 2, 1, 50.0]


def test_an_officer_downloads_only_their_own_line(seeded: Web) -> None:
    _login(seeded, "lan")
    for dimension in ["all", "counter", "officer"]:
        rows = _rows(seeded.client.get(f"/dashboard/export.csv?dimension={dimension}"))
        assert [row[1:6] for row in rows[1:]] == [["CB001", "Nguyễn Thị Lan", "4", "3", "75.0"]]
    book = load_workbook(io.BytesIO(seeded.client.get("/dashboard/export.xlsx").content))
    assert book.sheetnames == ["Công chức - Officer"]
    cells = [str(c.value) for row in book.active.iter_rows() for c in row if c.value]
    assert not any("Minh" in text or "CB002" in text for text in cells)


def test_a_bad_query_is_refused(seeded: Web) -> None:
    _login(seeded, "head")
    assert seeded.client.get("/dashboard/export.csv?dimension=kiosk").status_code == 422
    assert seeded.client.get("/dashboard/export.csv?period=decade").status_code == 422


def _start(web: Web, page: str, quarter: str = "current") -> Any:
    return web.client.post("/reports/quarterly", data={"csrf": _csrf(page), "quarter": quarter})


def _finish(web: Web, job_id: str) -> list[int]:
    seen = []
    deadline = time.monotonic() + 30
    while True:
        status = web.client.get(f"/reports/jobs/{job_id}").json()
        seen.append(status["progress"])
        if status["state"] in ("done", "failed"):
            assert status["state"] == "done", status
            return seen
        assert time.monotonic() < deadline, status
        time.sleep(0.02)


def test_the_quarterly_report_is_made_in_the_background(seeded: Web) -> None:
    page = _login(seeded, "head")
    started = _start(seeded, page)
    assert started.status_code == 202
    job = started.json()
    assert started.headers["location"] == f"/reports/jobs/{job['id']}"
    assert job["filename"] == "bao-cao-mdhl-000.00.20.H41-2026-Q4.pdf"
    progress = _finish(seeded, job["id"])
    assert progress == sorted(progress)
    assert progress[-1] == 100
    response = seeded.client.get(f"/reports/jobs/{job['id']}/file")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"] == (
        'attachment; filename="bao-cao-mdhl-000.00.20.H41-2026-Q4.pdf"'
    )
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(response.content)).pages)
    assert "Quý IV năm 2026" in text
    assert "71.4 %" in text  # 5 of 7 this quarter: 4 of 6 in November, 1 of 1 in October
    assert "Nguyễn Thị Lan" in text


def test_a_job_is_not_anyone_elses(seeded: Web) -> None:
    page = _login(seeded, "head")
    job = _start(seeded, page, "previous").json()
    _finish(seeded, job["id"])
    seeded.client.cookies.clear()
    _login(seeded, "boss")  # an administrator, but not the one who asked
    assert seeded.client.get(f"/reports/jobs/{job['id']}").status_code == 404
    assert seeded.client.get(f"/reports/jobs/{job['id']}/file").status_code == 404
    assert seeded.client.get("/reports/jobs/no-such-job").status_code == 404


def test_who_may_start_a_quarterly_report(seeded: Web) -> None:
    page = _login(seeded, "lan")
    assert _start(seeded, page).status_code == 403  # officers: no
    seeded.client.cookies.clear()
    page = _login(seeded, "boss")
    assert _start(seeded, page, "2026-Q3").status_code == 202  # administrators: yes
    assert _start(seeded, page, "2030-Q1").status_code == 422  # not started yet
    forged = seeded.client.post("/reports/quarterly", data={"csrf": "forged"})
    assert forged.status_code == 403
