"""The official report's "Kênh đánh giá / Rating channels" table (issue 17): how many of the
counted ratings of the quarter came from each channel, the assisted ones apart, per unit and for
the province, built from ratings stored through the real ingest path and read back from the PDF
(pypdf) and the XLSX (openpyxl).

Q3 2026, hand-counted. Ward A: kiosk 6, button box 2, online 3, paper 4 of which 2 assisted (one
assisted at the kiosk's counter is channel paper too, see docs/paper-forms.md): total 15; besides
an uncounted kiosk rating and one of Q2, both left out. Ward B: kiosk 7, online 1: total 8.
Province: kiosk 13, button box 2, online 4, paper 4, assisted 2, total 23.
"""

from __future__ import annotations

import io
import uuid
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy.orm import Session, sessionmaker

from hailong.contract.scale import Channel, Score
from hailong.settings import Unit, load_unit
from hub.domain.indices import parse_period
from hub.domain.ingest import Attribution
from hub.domain.units import UnitKind, UnitNode, UnitTree
from hub.exports.csv_xlsx import official_xlsx
from hub.exports.official import Report
from hub.exports.official_gather import ReportDesk
from hub.exports.official_pdf import report_pdf
from hub.store.db import make_engine, session_factory
from hub.store.ratings import store_batch
from tests.conftest import REPO
from tests.hailong.contract.test_messages import make_rating
from tests.hub.exports.test_official import _head, _pdf_text

HANOI = timezone(timedelta(hours=7))
NOW = datetime(2026, 10, 20, 9, 0, tzinfo=HANOI)
PROVINCE, WARD_A, WARD_B = "000.00.00.H41", "000.00.20.H41", "000.00.21.H41"
K, B, ON, P = Channel.KIOSK, Channel.BUTTON_BOX, Channel.ONLINE, Channel.PAPER
# unit, channel, how many, assisted, counted, day (2026)
PLAN = [
    (WARD_A, K, 6, False, True, date(2026, 7, 3)),
    (WARD_A, K, 1, False, False, date(2026, 7, 4)),  # an unknown code: kept apart
    (WARD_A, K, 2, False, True, date(2026, 6, 30)),  # Q2
    (WARD_A, B, 2, False, True, date(2026, 8, 1)),
    (WARD_A, ON, 3, False, True, date(2026, 9, 30)),  # the quarter's last day
    (WARD_A, P, 2, False, True, date(2026, 7, 1)),  # the quarter's first day
    (WARD_A, P, 2, True, True, date(2026, 8, 15)),
    (WARD_B, K, 7, False, True, date(2026, 8, 2)),
    (WARD_B, ON, 1, False, True, date(2026, 9, 9)),
]
COLUMNS = [
    "Đơn vị / Unit",
    "Kiosk / Kiosk",
    "Nút bấm / Button box",
    "Điện thoại / Online",
    "Phiếu giấy / Paper",
    "Trong đó có hỗ trợ / Of which assisted",
    "Tổng / Total",
]


def _seed(sessions: sessionmaker[Session]) -> None:
    items = []
    seq = 0
    for unit, channel, count, assisted, counted, day in PLAN:
        for i in range(count):
            seq += 1
            rating = make_rating(
                id=uuid.uuid4(),
                unit=unit,
                seq=seq,
                receipt=None,
                score=Score.SATISFIED if i % 3 else Score.DISSATISFIED,
                channel=channel,
                rated_at=datetime(day.year, day.month, day.day, 8 + i, tzinfo=HANOI),
            )
            attribution = Attribution(
                "Q1",
                "CB001",
                "1.001193",
                "ho-tich",
                receipt_known=True,
                counted=counted,
                entered_by="nhap-lieu" if channel is P else None,
                assisted=assisted,
            )
            items.append((rating, attribution))
    with sessions.begin() as session:
        store_batch(session, items, NOW.astimezone(UTC))


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> tuple[Unit, Report, Report]:
    unit = load_unit(REPO / "config" / "unit.toml")
    folder = tmp_path_factory.mktemp("channels")
    sessions = session_factory(make_engine(f"sqlite:///{folder / 'hub.db'}"))
    _seed(sessions)
    tree = UnitTree.of(
        [
            UnitNode(PROVINCE, "Tỉnh Đắk Nông", UnitKind.PROVINCE),
            UnitNode(WARD_A, unit.unit.name, parent=PROVINCE),
            UnitNode(WARD_B, "Phường Nghĩa Đức", parent=PROVINCE),
        ]
    )
    desk = ReportDesk(tree, {WARD_A: unit}.get, sessions, None)
    quarter = parse_period("2026Q3")
    own = desk.report("unit", WARD_A, quarter, NOW, _head(unit.unit.name))
    province = desk.report("province", PROVINCE, quarter, NOW, _head("UBND tỉnh Đắk Nông", ""))
    return unit, own, province


def _cells(report: Report) -> list[tuple[object, ...]]:
    table = report.table("channels")
    assert table is not None
    assert [c.heading for c in table.columns] == COLUMNS
    assert not table.public  # a few assisted ratings could point at who was helped
    return [row.cells for row in table.rows]


def test_the_unit_report_counts_each_channel(reports: tuple[Unit, Report, Report]) -> None:
    unit, own, _ = reports
    assert _cells(own) == [(unit.unit.name, 6, 2, 3, 4, 2, 15)]
    summary = own.table("summary")
    assert summary is not None
    assert summary.rows[0].cells[1] == 15  # one count: the channels add up to the summary's n


def test_the_province_report_has_a_row_per_unit_and_the_total(
    reports: tuple[Unit, Report, Report],
) -> None:
    unit, _, province = reports
    assert _cells(province) == [
        ("Tỉnh Đắk Nông", 0, 0, 0, 0, 0, 0),
        (unit.unit.name, 6, 2, 3, 4, 2, 15),
        ("Phường Nghĩa Đức", 7, 0, 1, 0, 0, 8),
        ("Tổng: Tỉnh Đắk Nông", 13, 2, 4, 4, 2, 23),
    ]
    table = province.table("channels")
    assert table is not None
    assert table.rows[-1].total


def test_the_channel_table_reads_back_from_the_pdf(
    reports: tuple[Unit, Report, Report], tmp_path: Path
) -> None:
    _, own, province = reports
    for report, lines in (
        (own, ["6 2 3 4 2 15"]),
        (province, ["0 0 0 0 0 0", "6 2 3 4 2 15", "7 0 1 0 0 8", "13 2 4 4 2 23"]),
    ):
        data = report_pdf(report)
        (tmp_path / report.filename("pdf")).write_bytes(data)
        text = _pdf_text(data)
        start = text.index("Kênh đánh giá")
        section = text[start : start + 2500].splitlines()
        for numbers in lines:
            assert any(line.endswith(numbers) for line in section), numbers
        # The headings wrap within their cells: a word of each, in either language.
        for heading in ("Kiosk", "Nút bấm", "Online", "Paper", "có hỗ trợ", "Total"):
            assert heading in " ".join(section), heading


def test_the_channel_table_reads_back_from_the_xlsx(reports: tuple[Unit, Report, Report]) -> None:
    _, own, province = reports
    for report in (own, province):
        book = load_workbook(io.BytesIO(official_xlsx(report)))
        index = next(i for i, t in enumerate(report.tables, start=1) if t.key == "channels")
        sheet = book[f"{index}. channels"]
        assert sheet["A1"].value == "Kênh đánh giá / Rating channels"
        assert [c.value for c in sheet[5]][:7] == COLUMNS
        table = report.table("channels")
        assert table is not None
        last = 5 + len(table.rows)
        rows = list(sheet.iter_rows(min_row=6, max_row=last, values_only=True))
        assert [tuple(row[:7]) for row in rows] == _cells(report)
        assert str(sheet.cell(last + 2, 1).value).startswith("Mọi kênh được tính chung")
        cover = [row[0] for row in book["Báo cáo"].iter_rows(values_only=True)]
        assert f"{index}. Kênh đánh giá / Rating channels" in cover
