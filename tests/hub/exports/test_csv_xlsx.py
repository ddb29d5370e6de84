"""CSV and XLSX read back (with csv and openpyxl) against the quarter worked out by hand in
conftest.py: every breakdown, n, satisfied, MĐHL and the 95 % Wilson interval."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from openpyxl import load_workbook

from hub.domain.periods import period
from hub.exports.csv_xlsx import to_csv, to_xlsx
from hub.exports.gather import dashboard_export
from hub.exports.tables import Export
from tests.hub.exports.conftest import Seeded

QUARTER = period("quarter", date(2026, 11, 25))
# Worked out by hand from the plan in conftest.py; intervals from the Wilson formula (z = 1.96).
EXPECTED = {  # (breakdown, code): (n, satisfied, MĐHL, CI low, CI high)
    ("Quầy / Counter", "Q1"): (75, 61, 81.3, 71.1, 88.5),
    ("Quầy / Counter", "Q2"): (45, 42, 93.3, 82.1, 97.7),
    ("Quầy / Counter", "Q3"): (20, 16, 80.0, 58.4, 91.9),
    ("Công chức / Officer", "CB001"): (40, 36, 90.0, 76.9, 96.0),
    ("Công chức / Officer", "CB002"): (35, 25, 71.4, 54.9, 83.7),
    ("Công chức / Officer", "CB003"): (45, 42, 93.3, 82.1, 97.7),
    ("Công chức / Officer", "CB004"): (12, 9, 75.0, 46.8, 91.1),
    ("Công chức / Officer", "CB005"): (8, 7, 87.5, 52.9, 97.8),
    ("Thủ tục / Procedure", "1.001193"): (40, 36, 90.0, 76.9, 96.0),
    ("Thủ tục / Procedure", "1.000894"): (35, 25, 71.4, 54.9, 83.7),
    ("Thủ tục / Procedure", "2.000815"): (45, 42, 93.3, 82.1, 97.7),
    ("Thủ tục / Procedure", "1.001612"): (12, 9, 75.0, 46.8, 91.1),
    ("Thủ tục / Procedure", "2.000575"): (8, 7, 87.5, 52.9, 97.8),
    ("Lĩnh vực / Field", "ho-tich"): (75, 61, 81.3, 71.1, 88.5),
    ("Lĩnh vực / Field", "chung-thuc"): (45, 42, 93.3, 82.1, 97.7),
    ("Lĩnh vực / Field", "kinh-doanh"): (20, 16, 80.0, 58.4, 91.9),
}
HEADER = [
    "Phân theo / Breakdown",
    "Mã / Code",
    "Tên / Name",
    "Số lượt đánh giá / Ratings (n)",
    "Hài lòng / Satisfied",
    "MĐHL (%) / Satisfaction (%)",
    "Cận dưới 95 % / 95 % CI low (%)",
    "Cận trên 95 % / 95 % CI high (%)",
    "Ghi chú / Note",
]


def _export(seeded: Seeded, **kwargs: object) -> Export:
    with seeded.sessions() as session:
        return dashboard_export(session, seeded.unit, QUARTER, **kwargs)  # type: ignore[arg-type]


def test_the_csv_opens_in_excel_and_holds_the_hand_computed_figures(quarter_db: Seeded) -> None:
    data = to_csv(_export(quarter_db))
    assert data.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM: Excel then reads the Vietnamese right
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0] == HEADER
    found = {
        (r[0], r[1]): (int(r[3]), int(r[4]), float(r[5]), float(r[6]), float(r[7]))
        for r in rows[1:]
    }
    assert found == EXPECTED
    by_code = {r[1]: r for r in rows[1:]}
    assert by_code["CB002"][2] == "Trần Văn Minh"
    assert by_code["CB002"][8] == "cần quan tâm / needs attention"
    assert by_code["CB005"][2] == "H'Linh Niê"
    assert by_code["CB005"][8] == "dưới 30 lượt / fewer than 30"
    assert by_code["2.000815"][2] == "Chứng thực bản sao từ bản chính giấy tờ, văn bản (2.000815)"
    assert by_code["ho-tich"][2] == "Tư pháp – Hộ tịch"
    # Within a breakdown, the group most in need of attention comes first, as on the dashboard.
    officers = [r[1] for r in rows[1:] if r[0] == "Công chức / Officer"]
    assert officers[0] == "CB002"


def test_the_workbook_has_a_titled_sheet_per_breakdown(quarter_db: Seeded) -> None:
    book = load_workbook(io.BytesIO(to_xlsx(_export(quarter_db))))
    assert book.sheetnames == [
        "Quầy - Counter",
        "Công chức - Officer",
        "Thủ tục - Procedure",
        "Lĩnh vực - Field",
    ]
    found = {}
    for name, sheet in zip(
        ["Quầy / Counter", "Công chức / Officer", "Thủ tục / Procedure", "Lĩnh vực / Field"],
        book.worksheets,
        strict=True,
    ):
        assert (
            sheet["A2"].value
            == "Trung tâm Phục vụ hành chính công phường Nghĩa Tân (000.00.20.H41)"
        )
        assert sheet["A3"].value == (
            "Kỳ báo cáo / Period: Quý IV năm 2026 / Q4 2026 (01/10/2026 – 31/12/2026)"
        )
        assert sheet["A4"].value == (
            "MĐHL chung / Overall: 85.0 % (119/140 lượt / ratings; 95 % CI 78.2–90.0 %); "
            "chỉ tiêu / target 90 %: chưa đạt / not met"
        )
        header = [cell.value for cell in sheet[6]]
        assert header == HEADER[1:]
        assert all(cell.font.b for cell in sheet[6])
        assert sheet.freeze_panes == "A7"
        assert sheet.column_dimensions["B"].width == 46
        for row in sheet.iter_rows(min_row=7):
            if not isinstance(row[2].value, int):
                break  # the notes under the table
            code, _name, n, satisfied, rate, low, high, _note = (c.value for c in row)
            assert row[4].number_format == "0.0"
            assert row[2].number_format == "#,##0"
            found[(name, code)] = (n, satisfied, round(rate, 1), round(low, 1), round(high, 1))
    assert found == EXPECTED
    counters = book["Quầy - Counter"]
    assert counters["A1"].value == "MĐHL theo quầy / Satisfaction by counter"
    assert counters["C7"].value == 75  # Q1 first: its interval reaches least high
    assert counters["E7"].value == pytest.approx(100 * 61 / 75)  # unrounded; shown as 81.3


def test_one_breakdown_only(quarter_db: Seeded) -> None:
    export = _export(quarter_db, dimension="field")
    assert [t.dimension for t in export.tables] == ["field"]
    assert load_workbook(io.BytesIO(to_xlsx(export))).sheetnames == ["Lĩnh vực - Field"]
    assert export.overall.n == 140  # the overall figure is still the unit's


def test_an_officer_export_holds_their_own_line_only(quarter_db: Seeded) -> None:
    export = _export(quarter_db, dimension="counter", only_officer="CB004")
    rows = list(csv.reader(io.StringIO(to_csv(export).decode("utf-8-sig"))))
    assert rows[1:] == [
        ["Công chức / Officer", "CB004", "Phạm Đức Anh", "12", "9", "75.0", "46.8", "91.1",
         "dưới 30 lượt / fewer than 30"],
    ]  # fmt: skip


def test_an_empty_period_still_gives_valid_files(quarter_db: Seeded) -> None:
    with quarter_db.sessions() as session:
        export = dashboard_export(session, quarter_db.unit, period("quarter", date(2025, 5, 1)))
    rows = list(csv.reader(io.StringIO(to_csv(export).decode("utf-8-sig"))))
    assert rows == [HEADER]
    sheet = load_workbook(io.BytesIO(to_xlsx(export)))["Quầy - Counter"]
    assert sheet["A7"].value == "Chưa có đánh giá trong kỳ / No ratings in this period"
