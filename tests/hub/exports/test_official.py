"""The quarterly and yearly report sent upward (hub.exports.official*): its tables built from
ratings stored through the real ingest path on SQLite, read back from the PDF (pypdf) and the
XLSX (openpyxl) and compared with figures worked out by hand; the letterhead's checks.

Q3 2026 at the home unit (config/unit.toml), "now" 20 October 2026. Per group: how many ratings,
their face, field, SIPAS answers, reasons:

    8  × 5  ho-tich     access 4, officer 5
    4  × 4  chung-thuc  procedure 2, officer 4
    2  × 3  kinh-doanh  —
    3  × 2  ho-tich     officer 1; thai-do
    1  × 1  ho-tich     —; thai-do, giay-to-ngoai-quy-dinh; a comment and a callback phone

n 18, satisfied 12: 66.7 %. Factors: access 8/8 100.0; procedure 0/4 0.0; officer 12/15 80.0;
result and feedback n = 0. Fields: ho-tich 8/12 66.7; chung-thuc 4/4 100.0; kinh-doanh 0/2 0.0;
dat-dai n = 0. Reasons: officer: thai-do 4 (100 %); procedure: giay-to 1 (100 %).
Follow-ups (scores 1-2): 4 received; 1 answered then closed, 1 closed without answer: answered 1,
closed 2, overdue 2 (older than 10 days). Receipts: the 18 rated and 2 not: issued 20, rated 18,
response 90.0 %. Indicator 7 (faces or officer answers → 2/1/0): 8 × 2 + 4 × 1 = 20 over 18
dossiers = 1.1 of 2, scaled 10.0 of 18: Khá; ratio 766: (20 − 4) / 20 = 80.0 %.
Q3 2025: 4 ratings, 2 satisfied (50.0 %): change +16.7 points.
A second unit (WARD_B, no catalogue) for the province: 10 ratings of ho-tich, 9 satisfied.
"""

from __future__ import annotations

import io
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy.orm import Session, sessionmaker

from hailong.contract.messages import ReceiptRef
from hailong.contract.scale import Factor, Score, Stage
from hailong.settings import Unit
from hub.domain.indices import parse_period
from hub.domain.ingest import Attribution
from hub.domain.units import UnitKind, UnitNode, UnitTree
from hub.exports.csv_xlsx import official_xlsx
from hub.exports.official import Letterhead, Report, letterhead, place_of
from hub.exports.official_gather import ReportDesk
from hub.exports.official_pdf import report_pdf
from hub.indices import load_criteria
from hub.store.db import make_engine, session_factory
from hub.store.models import FollowUpEventRow, FollowUpRow, ReceiptRow
from hub.store.ratings import store_batch
from tests.conftest import REPO
from tests.hailong.contract.test_messages import make_rating

HANOI = timezone(timedelta(hours=7))
NOW = datetime(2026, 10, 20, 9, 0, tzinfo=HANOI)
PROVINCE, WARD_A, WARD_B = "000.00.00.H41", "000.00.20.H41", "000.00.21.H41"
CITIZEN = "Nguyễn Văn Bí"
PHONE = "0912345678"
COMMENT = "Cán bộ Trần Văn Minh hẹn tôi ba lần"
PLAN = [  # how many, face, procedure, officer, field, factors, reasons
    (8, Score.VERY_SATISFIED, "1.001193", "CB001", "ho-tich",
     {Factor.ACCESS: Score.SATISFIED, Factor.OFFICER: Score.VERY_SATISFIED}, ()),
    (4, Score.SATISFIED, "2.000815", "CB003", "chung-thuc",
     {Factor.PROCEDURE: Score.DISSATISFIED, Factor.OFFICER: Score.SATISFIED}, ()),
    (2, Score.NEUTRAL, "1.001612", "CB004", "kinh-doanh", {}, ()),
    (3, Score.DISSATISFIED, "1.000894", "CB002", "ho-tich",
     {Factor.OFFICER: Score.VERY_DISSATISFIED}, ("thai-do",)),
    (1, Score.VERY_DISSATISFIED, "1.000894", "CB002", "ho-tich", {},
     ("thai-do", "giay-to-ngoai-quy-dinh")),
]  # fmt: skip


@dataclass
class Seeded:
    unit: Unit
    sessions: sessionmaker[Session]
    tree: UnitTree


def seed(sessions: sessionmaker[Session], unit: Unit) -> None:
    items = []
    receipts = []
    seq = 0
    first = datetime(2026, 7, 2, 9, 0, tzinfo=HANOI)
    for count, score, procedure, officer, field, factors, reasons in PLAN:
        for _ in range(count):
            seq += 1
            code = f"{WARD_A}-2607{seq:02d}-{seq:04d}"
            at = first + timedelta(days=4 * seq)
            last = score == Score.VERY_DISSATISFIED
            rating = make_rating(
                id=uuid.uuid4(),
                seq=seq,
                score=score,
                counter="Q1",
                officer=officer,
                procedure=procedure,
                rated_at=at,
                receipt=ReceiptRef(code=code, verified=True),
                factors=factors,
                reasons=reasons,
                comment=COMMENT if last else None,
                callback_phone=PHONE if last else None,
            )
            attribution = Attribution("Q1", officer, procedure, field, True, Stage.RECEPTION)
            items.append((rating, attribution))
            receipts.append((code, procedure, officer, at - timedelta(minutes=20)))
    for extra in (1, 2):  # two receipts nobody rated
        receipts.append((f"{WARD_A}-260915-09{extra:02d}", "1.001193", "CB001", first))
    for i in range(4):  # Q3 2025
        score = Score.SATISFIED if i < 2 else Score.DISSATISFIED
        at = datetime(2025, 8, 5 + i, 9, 0, tzinfo=HANOI)
        rating = make_rating(id=uuid.uuid4(), seq=100 + i, score=score, rated_at=at, receipt=None)
        items.append((rating, Attribution("Q1", "CB001", "1.001193", "ho-tich", True)))
    for i in range(10):  # the second unit
        score = Score.VERY_SATISFIED if i < 9 else Score.DISSATISFIED
        at = datetime(2026, 8, 1 + i, 9, 0, tzinfo=HANOI)
        rating = make_rating(
            id=uuid.uuid4(), unit=WARD_B, kiosk="kiosk-b", seq=1 + i, score=score, rated_at=at,
            receipt=None,
        )  # fmt: skip
        items.append((rating, Attribution("Q1", "CB001", "1.001193", "ho-tich", True)))
    with sessions.begin() as session:
        store_batch(session, items, NOW.astimezone(UTC))
        for code, procedure, officer, at in receipts:
            session.add(
                ReceiptRow(
                    dossier_code=code,
                    unit=WARD_A,
                    procedure=procedure,
                    counter="Q1",
                    officer=officer,
                    key_id="k1",
                    url=f"https://hailong.example.gov.vn/r/{code}",
                    issued_at=at.astimezone(UTC),
                    origin="issued",
                    citizen_name=CITIZEN,
                    citizen_contact=PHONE,
                )
            )
        _follow_ups(session)


def _follow_ups(session: Session) -> None:
    """Answer and close one dissatisfied rating; close another without an answer."""
    from sqlalchemy import select

    from hub.store.models import RatingRow

    ids = session.scalars(
        select(RatingRow.id)
        .where(RatingRow.unit == WARD_A, RatingRow.score <= 2)
        .where(RatingRow.rated_at >= datetime(2026, 7, 1, tzinfo=UTC))
        .order_by(RatingRow.seq)
    ).all()
    assert len(ids) == 4
    at = NOW.astimezone(UTC) - timedelta(days=30)
    for rating_id, actions in ((ids[0], ("assign", "answer", "close")), (ids[1], ("close",))):
        session.add(
            FollowUpRow(
                rating_id=rating_id,
                unit=WARD_A,
                state="closed",
                assignee="lan",
                assignee_officer="CB001",
                opened_at=at,
                updated_at=at,
                version=len(actions),
            )
        )
        session.flush()
        for action in actions:
            session.add(
                FollowUpEventRow(rating_id=rating_id, at=at, actor="head", action=action, note="x")
            )


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Seeded:
    from hailong.settings import load_unit

    unit = load_unit(REPO / "config" / "unit.toml")
    folder = tmp_path_factory.mktemp("official")
    sessions = session_factory(make_engine(f"sqlite:///{folder / 'hub.db'}"))
    seed(sessions, unit)
    tree = UnitTree.of(
        [
            UnitNode(PROVINCE, "Tỉnh Đắk Nông", UnitKind.PROVINCE),
            UnitNode(WARD_A, unit.unit.name, parent=PROVINCE),
            UnitNode(WARD_B, "Phường Nghĩa Đức", parent=PROVINCE),
        ]
    )
    return Seeded(unit, sessions, tree)


def _desk(seeded: Seeded) -> ReportDesk:
    catalogue = {WARD_A: seeded.unit}
    criteria = load_criteria(REPO / "config" / "criteria")
    return ReportDesk(seeded.tree, catalogue.get, seeded.sessions, criteria)


def _head(issuer: str, authority: str = "UBND tỉnh Đắk Nông") -> Letterhead:
    return letterhead(
        issuer=issuer,
        symbol="bc-ttpvhcc",
        place=place_of(issuer) or "Gia Nghĩa",
        day=date(2026, 10, 20),
        signer_title="Giám đốc",
        authority=authority,
        number="125",
        recipients=["- UBND tỉnh Đắk Nông;", "Sở Nội vụ"],
    )


@pytest.fixture(scope="module")
def unit_report(seeded: Seeded) -> Report:
    return _desk(seeded).report(
        "unit", WARD_A, parse_period("2026Q3"), NOW, _head(seeded.unit.unit.name)
    )


@pytest.fixture(scope="module")
def province_report(seeded: Seeded) -> Report:
    return _desk(seeded).report(
        "province",
        PROVINCE,
        parse_period("2026Q3"),
        NOW,
        _head("Ủy ban nhân dân tỉnh Đắk Nông", ""),
    )


def _rows(report: Report, key: str) -> list[tuple[object, ...]]:
    table = report.table(key)
    assert table is not None, key
    return [row.cells for row in table.rows]


def _r(value: object) -> object:
    return round(value, 1) if isinstance(value, float) else value


def test_the_unit_tables_are_the_hand_computed_figures(unit_report: Report) -> None:
    factors = {row[0]: tuple(_r(v) for v in row[1:4]) for row in _rows(unit_report, "factors")}
    assert list(factors.values()) == [
        (8, 8, 100.0),
        (4, 0, 0.0),
        (15, 12, 80.0),
        (0, 0, None),
        (0, 0, None),
        (18, 12, 66.7),  # the "nói chung" row, last
    ]
    assert str(list(factors)[-1]).startswith("Nói chung")
    assert unit_report.table("factors").rows[-1].total  # type: ignore[union-attr]
    fields = {row[0]: tuple(_r(v) for v in row[2:5]) for row in _rows(unit_report, "fields")}
    assert fields == {
        "ho-tich": (12, 8, 66.7),
        "chung-thuc": (4, 4, 100.0),
        "kinh-doanh": (2, 0, 0.0),
        "dat-dai": (0, 0, None),  # in the catalogue, never rated: still a row
    }
    assert [r[:5] for r in _rows(unit_report, "reasons")] == [
        ("Thủ tục hành chính", 1, "giay-to-ngoai-quy-dinh", "Yêu cầu giấy tờ ngoài quy định", 1),
        ("Công chức", 1, "thai-do", "Thái độ cán bộ chưa tốt", 4),
    ]
    assert _rows(unit_report, "follow_ups") == [(unit_report.name, 4, 1, 2, 2)]
    assert [tuple(_r(v) for v in r[1:]) for r in _rows(unit_report, "coverage")] == [
        (20, 18, 0, 2, 90.0)
    ]
    assert [r[1:] for r in _rows(unit_report, "indices")] == [(20, 1.1, 2, 10.0, "Khá", 80.0)]
    officers = {r[0]: r[1:] for r in _rows(unit_report, "officers")}
    # CB001: 10 receipts, 8 rated with the officer answer 5 (2 points each): 2.0 of 2 → 10.0 of 10
    assert officers["Nguyễn Thị Lan"] == (10, 2.0, 10.0, "Hoàn thành 100 % nhiệm vụ")
    assert officers["Trần Văn Minh"] == (4, 0.0, 0.0, "Hoàn thành dưới 70 % nhiệm vụ")
    summary = _rows(unit_report, "summary")[0]
    assert (summary[1], summary[2], _r(summary[3]), summary[6], summary[7]) == (
        18,
        12,
        66.7,
        90.0,
        "Chưa đạt",
    )
    q3 = next(r for r in _rows(unit_report, "trend") if r[0] == "Quý III/2026")
    assert tuple(_r(v) for v in q3[1:]) == (18, 66.7, 4, 50.0, 16.7)
    assert unit_report.left_out == ()


def test_a_province_report_has_a_row_per_unit_and_the_total(province_report: Report) -> None:
    summary = {row[0]: (row[1], row[2]) for row in _rows(province_report, "summary")}
    assert summary == {
        "Tỉnh Đắk Nông": (0, 0),
        "Trung tâm Phục vụ hành chính công phường Nghĩa Tân": (18, 12),
        "Phường Nghĩa Đức": (10, 9),
        "Tổng: Tỉnh Đắk Nông": (28, 21),
    }
    overall = _rows(province_report, "factors")[-1]
    assert (overall[1], overall[2], _r(overall[3])) == (28, 21, 75.0)
    by_unit = _rows(province_report, "factors_by_unit")
    assert by_unit[-1][0] == "Tổng: Tỉnh Đắk Nông"
    assert _r(by_unit[-1][-1]) == 75.0
    fields = {row[0]: (row[2], row[3]) for row in _rows(province_report, "fields")}
    assert fields["ho-tich"] == (22, 17)
    assert fields["dat-dai"] == (0, 0)
    assert _rows(province_report, "follow_ups")[-1][1:] == (5, 1, 2, 3)
    assert province_report.table("officers") is None  # officers are in the units' reports


def _pdf_text(data: bytes) -> str:
    """The pages' text laid out as printed: a table row is one line (its cells spaced out)."""
    pages = PdfReader(io.BytesIO(data)).pages
    text = "\n".join(page.extract_text(extraction_mode="layout") for page in pages)
    return "\n".join(re.sub(r"\s+", " ", line).strip() for line in text.splitlines())


def test_the_pdf_reads_back_with_the_official_layout_and_the_same_numbers(
    unit_report: Report, tmp_path: Path
) -> None:
    data = report_pdf(unit_report)
    (tmp_path / "report.pdf").write_bytes(data)
    text = _pdf_text(data)
    flat = re.sub(r"\s+", " ", text)
    for expected in (
        "UBND TỈNH ĐẮK NÔNG",
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        "Số: 125/BC-TTPVHCC",
        "Nghĩa Tân, ngày 20 tháng 10 năm 2026",
        "BÁO CÁO",
        "Quý III năm 2026",
        "Nơi nhận:",
        "- UBND tỉnh Đắk Nông;",
        "- Sở Nội vụ;",
        "- Lưu: VT.",
        "GIÁM ĐỐC",
    ):
        assert expected in flat, expected
    lines = text.splitlines()

    def line_with(*parts: str) -> str:
        found = [line for line in lines if all(p in line for p in parts)]
        assert found, parts
        return found[0]

    assert "18 12 66.7" in line_with("Nói chung")
    assert "15 12 80.0" in line_with("Công chức giải quyết")
    assert "0 0 — — —" in line_with("dat-dai")
    assert "12 8 66.7" in line_with("ho-tich")
    assert "4 1 2 2" in line_with("4 1 2 2")
    assert "1.1 2 10.0 Khá 80.0" in flat
    assert CITIZEN not in text
    assert PHONE not in text
    assert COMMENT not in text


def test_the_xlsx_holds_the_same_tables_with_the_same_numbers(unit_report: Report) -> None:
    book = load_workbook(io.BytesIO(official_xlsx(unit_report)))
    assert book.sheetnames[0] == "Báo cáo"
    assert len(book.sheetnames) == 1 + len(unit_report.tables)
    cover = [row[0] for row in book["Báo cáo"].iter_rows(values_only=True)]
    assert "Số: 125/BC-TTPVHCC" in cover
    assert "- Lưu: VT" in cover
    for index, table in enumerate(unit_report.tables, start=1):
        sheet = book[f"{index}. {table.key}"[:31]]
        assert sheet["A1"].value == table.title
        rows = list(sheet.iter_rows(min_row=6, max_row=5 + len(table.rows), values_only=True))
        assert [tuple(row[: len(table.columns)]) for row in rows] == [r.cells for r in table.rows]
    factors = book["2. factors"]
    assert factors["A11"].value.startswith("Nói chung")
    assert factors["B11"].value == 18
    assert factors["A11"].font.bold


@pytest.mark.skipif(not Path("/usr/bin/pdftoppm").exists(), reason="poppler-utils missing")
def test_page_one_renders(province_report: Report, unit_report: Report, tmp_path: Path) -> None:
    """Page 1 as PNG (HAILONG_SCREENSHOTS=docs/screenshots keeps it for the docs)."""
    import os
    import shutil
    import subprocess

    for name, report in (("official-report", unit_report), ("official-province", province_report)):
        pdf = tmp_path / f"{name}.pdf"
        pdf.write_bytes(report_pdf(report))
        subprocess.run(
            ["pdftoppm", "-png", "-r", "80", "-f", "1", "-l", "1", "-singlefile", pdf, tmp_path / name],
            check=True,
            timeout=60,
        )  # fmt: skip
        png = tmp_path / f"{name}.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        keep = os.environ.get("HAILONG_SCREENSHOTS")
        if keep:
            shutil.copy(png, Path(keep) / png.name)


# -- the letterhead ------------------------------------------------------------------------------


def _letter(**changes: object) -> Letterhead:
    given: dict[str, object] = {
        "issuer": "UBND phường Nghĩa Tân",
        "symbol": "BC-UBND",
        "place": "Nghĩa Tân",
        "day": date(2026, 10, 1),
        "signer_title": "Chủ tịch",
    } | changes
    return letterhead(**given)  # type: ignore[arg-type]


def test_the_letterhead_fills_in_what_decree_30_asks() -> None:
    head = _letter(recipients=["- Sở Nội vụ;", "", "UBND tỉnh"], signer_for="TM.")
    assert head.recipients == ("Sở Nội vụ", "UBND tỉnh", "Lưu: VT")
    assert head.number_line == "Số:       /BC-UBND"  # left for the clerk
    assert _letter(number="999999").number_line == "Số: 999999/BC-UBND"
    assert head.signer_title == "CHỦ TỊCH"
    assert head.date_line() == "Nghĩa Tân, ngày 01 tháng 10 năm 2026"
    assert _letter(recipients=["Lưu: VT, TTPV"]).recipients == ("Lưu: VT, TTPV",)


@pytest.mark.parametrize(
    "changes",
    [
        {"number": "0"},
        {"number": "1234567"},
        {"number": "12a"},
        {"symbol": "CV-UBND"},
        {"symbol": "BC-"},
        {"symbol": "BC-" + "A" * 32},
        {"issuer": ""},
        {"place": "x" * 61},
        {"signer_title": " "},
        {"signer_for": "XX."},
        {"recipients": ["Sở\x00Nội vụ"]},
        {"recipients": [f"Nơi {i}" for i in range(12)]},  # 12 and Lưu: VT is 13
    ],
)
def test_a_bad_letterhead_is_refused_with_the_field_named(changes: dict[str, object]) -> None:
    with pytest.raises(ValueError, match="/"):
        _letter(**changes)


def test_bounds_of_the_letterhead_are_accepted() -> None:
    assert _letter(symbol="BC-" + "A" * 31).symbol == "BC-" + "A" * 31
    assert len(_letter(recipients=[f"Nơi {i}" for i in range(11)]).recipients) == 12
    assert _letter(place="x" * 60).place == "x" * 60


@given(
    number=st.text(max_size=8),
    symbol=st.text(max_size=40),
    recipients=st.lists(st.text(max_size=130), max_size=14),
)
def test_any_letterhead_input_is_accepted_checked_or_refused(
    number: str, symbol: str, recipients: list[str]
) -> None:
    try:
        head = _letter(number=number, symbol=symbol, recipients=recipients)
    except ValueError:
        return
    assert head.number == "" or (head.number.isdigit() and int(head.number) > 0)
    assert head.symbol.startswith("BC-")
    assert len(head.symbol) <= 34
    assert 1 <= len(head.recipients) <= 12
    assert head.recipients[-1].startswith("Lưu")
    assert all(r and len(r) <= 120 for r in head.recipients)


def test_the_report_reads_the_same_on_sqlite_and_postgresql(database_url: str) -> None:
    """The follow-up, coverage and index queries on both databases the hub supports."""
    from hailong.settings import load_unit

    unit = load_unit(REPO / "config" / "unit.toml")
    sessions = session_factory(make_engine(database_url))
    seed(sessions, unit)
    tree = UnitTree.of([UnitNode(WARD_A, unit.unit.name)])
    criteria = load_criteria(REPO / "config" / "criteria")
    desk = ReportDesk(tree, {WARD_A: unit}.get, sessions, criteria)
    report = desk.report("unit", WARD_A, parse_period("2026Q3"), NOW, _head(unit.unit.name))
    assert _rows(report, "follow_ups")[0][1:] == (4, 1, 2, 2)
    assert _rows(report, "coverage")[0][1:5] == (20, 18, 0, 2)
    assert _rows(report, "indices")[0][1:] == (20, 1.1, 2, 10.0, "Khá", 80.0)
    assert _rows(report, "factors")[-1][1:3] == (18, 12)
