"""One clock: every date a person reads is on the unit's own time zone (``[unit] time_zone``).

Two units side by side, one in Asia/Ho_Chi_Minh (UTC+7) and one in Asia/Tokyo (UTC+9), show
which places still use a fixed zone: the dossier code's day and the slip's date at the 17:00 UTC
boundary (midnight in Hà Nội), the rollups' day and hour of ratings around local midnight, the
coverage's issue day, the periods of the pages and reports, the catalogue tables. A zone with
summer time (America/New_York) checks the day and hour arithmetic across the clock change.
"""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from alembic import command
from sqlalchemy import select, text, update
from sqlalchemy.orm import Session, sessionmaker

from hailong.contract import topics
from hailong.contract.clock import zone_named
from hailong.contract.messages import ReceiptRef, UnitConfigMessage, decode_unit_config
from hailong.contract.receipt import KeyRing
from hailong.contract.scale import Score
from hailong.settings import Unit, load_unit
from hailong.settings.loading import ConfigError
from hub.batch_commit import BatchCommit
from hub.domain.indices import parse_period
from hub.domain.ingest import Attribution, IngestRules
from hub.domain.periods import local_today, period
from hub.domain.units import UnitKind, UnitNode, UnitTree
from hub.exports.official import letterhead
from hub.exports.official_gather import ReportDesk
from hub.ingest_counters import IngestCounters
from hub.receipts.issuing import issue_receipt, load_issued
from hub.receipts.slip import slip_content
from hub.store.catalogue import import_unit, load_tree, load_units
from hub.store.coverage import rebuild_coverage, use_zone
from hub.store.db import _alembic_config, make_engine, session_factory
from hub.store.models import CoverageDayRollupRow, HourRollupRow, RatingRollupRow, UnitRow
from hub.store.ratings import DeadLetterLimits, store_batch
from hub.store.rollups import Scope, counts
from tests.conftest import REPO
from tests.hailong.contract.test_messages import make_rating

HANOI_UNIT = "000.00.20.H41"
TOKYO_UNIT = "000.00.99.H41"
BASE_URL = "https://hailong.example.gov.vn"
# Around midnight in Hà Nội (17:00 UTC) and in Tokyo (15:00 UTC) on 24/11/2026.
INSTANTS = [
    datetime(2026, 11, 24, 14, 59, 59, tzinfo=UTC),
    datetime(2026, 11, 24, 15, 0, 0, tzinfo=UTC),
    datetime(2026, 11, 24, 16, 59, 59, tzinfo=UTC),
    datetime(2026, 11, 24, 17, 0, 0, tzinfo=UTC),
]


def _in_zone(unit: Unit, zone: str, code: str | None = None) -> Unit:
    """``unit`` on ``zone``'s clock, as another unit (``code``, without the kiosks, whose ids
    are unique across units)."""
    info = unit.unit.model_copy(update={"time_zone": zone, "code": code or unit.unit.code})
    return unit.model_copy(update={"unit": info, "kiosks": () if code else unit.kiosks})


@pytest.fixture(scope="module")
def hanoi() -> Unit:
    return load_unit(REPO / "config" / "unit.toml")


@pytest.fixture(scope="module")
def tokyo(hanoi: Unit) -> Unit:
    return _in_zone(hanoi, "Asia/Tokyo", TOKYO_UNIT)


@pytest.fixture
def sessions(tmp_path: Path) -> sessionmaker[Session]:
    return session_factory(make_engine(f"sqlite:///{tmp_path / 'hub.db'}"))


# -- the setting -----------------------------------------------------------------------------------


def test_the_default_is_viet_nam_and_the_sample_unit_file_says_so(hanoi: Unit) -> None:
    assert hanoi.unit.time_zone == "Asia/Ho_Chi_Minh"
    assert hanoi.zone is zone_named("Asia/Ho_Chi_Minh")
    assert 'time_zone = "Asia/Ho_Chi_Minh"' in (REPO / "config" / "unit.toml").read_text()


@pytest.mark.parametrize("bad", ["Asia/Hanoi", "ICT", "UTC+7", "../etc/passwd", ""])
def test_an_unknown_zone_is_refused_naming_the_file_the_key_and_what_is_expected(
    tmp_path: Path, bad: str
) -> None:
    source = (REPO / "config" / "unit.toml").read_text()
    path = tmp_path / "unit.toml"
    path.write_text(source.replace('time_zone = "Asia/Ho_Chi_Minh"', f'time_zone = "{bad}"'))
    with pytest.raises(ConfigError) as caught:
        load_unit(path)
    message = str(caught.value)
    assert str(path) in message
    assert "unit.time_zone" in message
    assert "IANA" in message
    assert "Asia/Ho_Chi_Minh" in message


def test_kiosks_get_the_zone_only_when_it_is_not_the_default(hanoi: Unit, tokyo: Unit) -> None:
    assert hanoi.to_message().time_zone is None
    assert "time_zone" not in hanoi.to_message().to_bytes().decode()  # old kiosks take it
    sent = tokyo.to_message()
    assert decode_unit_config(sent.to_bytes()).time_zone == "Asia/Tokyo"
    with pytest.raises(ValueError, match="unknown time zone"):
        UnitConfigMessage.model_validate({**sent.model_dump(), "time_zone": "Mars/Olympus"})


# -- dossier codes and slips -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("at", "hanoi_day", "tokyo_day"),
    [
        (INSTANTS[0], 24, 24),  # 21:59:59 Hà Nội, 23:59:59 Tokyo
        (INSTANTS[1], 24, 25),  # 22:00 Hà Nội, 00:00 Tokyo
        (INSTANTS[2], 24, 25),  # 23:59:59 Hà Nội, 01:59:59 Tokyo
        (INSTANTS[3], 25, 25),  # 00:00 Hà Nội, 02:00 Tokyo
    ],
)
def test_the_code_and_the_slip_carry_the_units_local_date(
    sessions: sessionmaker[Session],
    keyring: KeyRing,
    hanoi: Unit,
    tokyo: Unit,
    at: datetime,
    hanoi_day: int,
    tokyo_day: int,
) -> None:
    for unit, day in ((hanoi, hanoi_day), (tokyo, tokyo_day)):
        issued = issue_receipt(
            sessions, unit, keyring, BASE_URL,
            counter="Q1", officer="CB001", procedure="1.001193", now=at,
        )  # fmt: skip
        assert str(issued.code) == f"{unit.unit.code}-2611{day}-0001"
        local = at.astimezone(unit.zone)
        slip = dict(slip_content(issued, unit).rows)
        assert slip["Ngày tiếp nhận:"] == f"{local:%d/%m/%Y %H:%M}"
        assert slip["Ngày tiếp nhận:"].startswith(f"{day}/11/2026 ")
        reprinted = load_issued(sessions, issued.code, unit=unit.unit.code, zone=unit.zone)
        assert reprinted is not None
        assert (
            dict(slip_content(reprinted, unit).rows)["Ngày tiếp nhận:"] == slip["Ngày tiếp nhận:"]
        )
        # The coverage counts the receipt on the code's day.
        with sessions() as session:
            days = session.scalars(
                select(CoverageDayRollupRow.day).where(
                    CoverageDayRollupRow.unit == unit.unit.code,
                    CoverageDayRollupRow.outcome == "issued",
                )
            ).all()
        assert days == [issued.code.received_on]


# -- rollups, periods and reports ----------------------------------------------------------------


def _rate(sessions: sessionmaker[Session], unit: Unit, instants: list[datetime]) -> None:
    items = []
    for seq, at in enumerate(instants, start=1):
        rating = make_rating(
            id=uuid.uuid4(), unit=unit.unit.code, kiosk=f"k-{unit.unit.code[-7:-4]}", seq=seq,
            score=Score.SATISFIED, rated_at=at, receipt=None,
        )  # fmt: skip
        items.append((rating, Attribution("Q1", "CB001", "1.001193", "ho-tich", True)))
    with sessions.begin() as session:
        store_batch(session, items, instants[-1] + timedelta(minutes=1), zone=unit.zone)


def _rollup(sessions: sessionmaker[Session], code: str) -> tuple[dict[date, int], list[int]]:
    with sessions() as session:
        days = session.execute(
            select(RatingRollupRow.day, RatingRollupRow.n).where(RatingRollupRow.unit == code)
        ).all()
        hours = session.scalars(
            select(HourRollupRow.hour)
            .where(HourRollupRow.unit == code)
            .order_by(HourRollupRow.hour)
        ).all()
    found: dict[date, int] = {}
    for day, n in days:
        found[day] = found.get(day, 0) + n
    return found, list(hours)


def test_rollup_days_and_hours_of_ratings_near_local_midnight(
    sessions: sessionmaker[Session], hanoi: Unit, tokyo: Unit
) -> None:
    _rate(sessions, hanoi, INSTANTS)
    _rate(sessions, tokyo, INSTANTS)
    the_24th, the_25th = date(2026, 11, 24), date(2026, 11, 25)
    assert _rollup(sessions, HANOI_UNIT) == ({the_24th: 3, the_25th: 1}, [0, 21, 22, 23])
    assert _rollup(sessions, TOKYO_UNIT) == ({the_24th: 1, the_25th: 3}, [0, 1, 2, 23])
    # A page's "today" is the unit's: read from the rollups and, for the cut day, the ratings.
    now = datetime(2026, 11, 24, 17, 30, tzinfo=UTC)
    for unit, today, expected in ((hanoi, the_25th, 1), (tokyo, the_25th, 3)):
        assert local_today(now, unit.zone) == today
        shown = period("today", today, unit.zone)
        with sessions() as session:
            whole_day = counts(session, Scope(unit, *shown.bounds()), "score")
            until_now = counts(session, Scope(unit, shown.bounds()[0], now), "score")
        assert sum(whole_day.values()) == expected
        assert sum(until_now.values()) == expected


def test_a_units_report_counts_its_own_quarter(
    sessions: sessionmaker[Session], hanoi: Unit, tokyo: Unit
) -> None:
    """30/09 15:30 UTC is 22:30 on 30/09 in Hà Nội (Q3) and 00:30 on 01/10 in Tokyo (Q4)."""
    at = datetime(2026, 9, 30, 15, 30, tzinfo=UTC)
    _rate(sessions, hanoi, [at])
    _rate(sessions, tokyo, [at])
    tree = UnitTree.of(
        [
            UnitNode(HANOI_UNIT, hanoi.unit.name, UnitKind.COMMUNE),
            UnitNode(TOKYO_UNIT, "Tokyo", UnitKind.COMMUNE, time_zone="Asia/Tokyo"),
        ]
    )
    desk = ReportDesk(tree, {HANOI_UNIT: hanoi, TOKYO_UNIT: tokyo}.get, sessions, None)
    now = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
    head = letterhead(issuer="UBND", symbol="BC-HL", place="Hà Nội", day=date(2026, 12, 1),
                      signer_title="Chủ tịch")  # fmt: skip
    rated: dict[tuple[str, str], object] = {}
    for code in (HANOI_UNIT, TOKYO_UNIT):
        for quarter in ("2026Q3", "2026Q4"):
            report = desk.report("unit", code, parse_period(quarter), now, head)
            factors = report.table("factors")
            assert factors is not None
            rated[(code, quarter)] = factors.rows[-1].cells[1]  # the "nói chung" row's n
    assert rated == {
        (HANOI_UNIT, "2026Q3"): 1,
        (HANOI_UNIT, "2026Q4"): 0,
        (TOKYO_UNIT, "2026Q3"): 0,
        (TOKYO_UNIT, "2026Q4"): 1,
    }


def test_summer_time_days_and_hours(sessions: sessionmaker[Session], hanoi: Unit) -> None:
    """New York moves to summer time at 02:00 on 08/03/2026: that day has 23 hours."""
    york = _in_zone(hanoi, "America/New_York", "000.00.77.H41")
    day = date(2026, 3, 8)
    start, end = (moment.astimezone(UTC) for moment in period("today", day, york.zone).bounds())
    assert end - start == timedelta(hours=23)
    assert start == datetime(2026, 3, 8, 5, 0, tzinfo=UTC)
    before, after = datetime(2026, 3, 8, 6, 30, tzinfo=UTC), datetime(2026, 3, 8, 7, 30, tzinfo=UTC)
    last = datetime(2026, 3, 9, 3, 59, 59, tzinfo=UTC)  # 23:59:59 EDT, still the 8th
    _rate(sessions, york, [before, after, last, last + timedelta(seconds=1)])
    assert _rollup(sessions, "000.00.77.H41") == ({day: 3, date(2026, 3, 9): 1}, [0, 1, 3, 23])
    with sessions() as session:
        assert sum(counts(session, Scope(york, start, end), "score").values()) == 3
    month = period("month", day, york.zone)
    assert month.bounds()[0] == datetime(2026, 3, 1, 5, 0, tzinfo=UTC)  # EST
    assert month.bounds()[1] == datetime(2026, 4, 1, 4, 0, tzinfo=UTC)  # EDT
    assert ZoneInfo("America/New_York") is york.zone


# -- the catalogue tables ------------------------------------------------------------------------


def test_the_catalogue_tables_keep_the_zone(database_url: str, hanoi: Unit, tokyo: Unit) -> None:
    sessions = session_factory(make_engine(database_url))
    with sessions.begin() as session:
        import_unit(session, hanoi)
        import_unit(session, tokyo)
    with sessions() as session:
        units = load_units(session)
        tree = load_tree(session)
        stored = dict(session.execute(select(UnitRow.code, UnitRow.time_zone)).all())
    assert units[TOKYO_UNIT] == tokyo
    assert units[HANOI_UNIT].unit.time_zone == "Asia/Ho_Chi_Minh"
    assert stored == {HANOI_UNIT: "Asia/Ho_Chi_Minh", TOKYO_UNIT: "Asia/Tokyo"}
    node = tree.get(TOKYO_UNIT)
    assert node is not None
    assert node.zone is zone_named("Asia/Tokyo")
    with sessions.begin() as session:  # a zone the database holds is checked when it is read
        session.execute(update(UnitRow).where(UnitRow.code == TOKYO_UNIT).values(time_zone="X/Y"))
    with sessions() as session, pytest.raises(ValueError, match="time_zone"):
        load_units(session, [TOKYO_UNIT])


def test_the_upgrade_moves_a_zone_kept_in_extra_into_the_column(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'hub.db'}")
    with engine.begin() as connection:
        command.downgrade(_alembic_config(connection), "0020")
        connection.execute(
            text(
                "INSERT INTO units (code, name, kind, target_rate, kiosk_policy, register_policy,"
                " extra, revision) VALUES ('A', 'a', 'commune', 90, '{}', '{}',"
                ' \'{"unit": {"time_zone": "Asia/Tokyo"}, "kiosks": []}\', 1),'
                " ('B', 'b', 'commune', 90, '{}', '{}', '{}', 1)"
            )
        )
    engine.dispose()
    engine = make_engine(f"sqlite:///{tmp_path / 'hub.db'}")  # upgrades to the head
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT code, time_zone, extra FROM units ORDER BY code"))
        found = [(code, zone, extra) for code, zone, extra in rows]
    assert found == [("A", "Asia/Tokyo", '{"kiosks": []}'), ("B", "Asia/Ho_Chi_Minh", "{}")]


def test_the_ingest_counts_a_units_ratings_on_its_clock(
    sessions: sessionmaker[Session], hanoi: Unit, keyring: KeyRing
) -> None:
    """Through the hub's batch commit (what the MQTT ingest runs): a receipt issued at 23:59:59
    in Tokyo and rated half a minute later, after midnight there."""
    tokyo_home = _in_zone(hanoi, "Asia/Tokyo")  # the home unit, its kiosks, on Tokyo's clock
    issued = issue_receipt(
        sessions, tokyo_home, keyring, BASE_URL,
        counter="Q1", officer="CB001", procedure="1.001193", now=INSTANTS[0],
    )  # fmt: skip
    assert str(issued.code).endswith("-261124-0001")
    rating = make_rating(
        receipt=ReceiptRef(code=str(issued.code), verified=True),
        rated_at=INSTANTS[1] + timedelta(seconds=30),
    )
    outcomes: list[str] = []
    commit = BatchCommit(
        sessions,
        IngestCounters(),
        DeadLetterLimits(),
        rules=lambda at, *_unit: IngestRules(tokyo_home, at, max_past=timedelta(days=36_500)),
        publish_acks=lambda acks: outcomes.extend(o.outcome for a in acks.values() for o in a),
        stopping=threading.Event(),
    )
    assert commit.ingest_until_committed(
        [(topics.ratings(HANOI_UNIT, "kiosk-q1"), rating.to_bytes())]
    )
    assert outcomes == ["stored"]
    assert _rollup(sessions, HANOI_UNIT) == ({date(2026, 11, 25): 1}, [0])
    with sessions() as session:
        covered = session.execute(
            select(CoverageDayRollupRow.day, CoverageDayRollupRow.outcome, CoverageDayRollupRow.n)
        ).all()
    # Coverage counts the receipt, and its rating, on the receipt's issue day (the code's).
    assert sorted(covered) == [(date(2026, 11, 24), "issued", 1), (date(2026, 11, 24), "rated", 1)]


def test_the_pages_show_times_on_the_clock_of_the_unit_they_are_about(
    hanoi: Unit, tokyo: Unit
) -> None:
    from jinja2 import Environment

    from hub.web.app import local_time

    env = Environment(autoescape=True)
    env.filters["local_time"] = local_time
    page = env.from_string("{{ at | local_time }}")
    at = INSTANTS[1]  # 22:00 in Hà Nội, midnight in Tokyo
    assert page.render(at=at, unit=hanoi) == "24/11/2026 22:00"
    assert page.render(at=at, unit=tokyo) == "25/11/2026 00:00"
    assert page.render(at=at, unit=hanoi, zone=tokyo.zone) == "25/11/2026 00:00"  # public page
    assert page.render(at=at) == "24/11/2026 22:00"  # a page about no unit: the default


def test_a_rebuild_of_the_coverage_counts_each_unit_on_its_clock(
    database_url: str, hanoi: Unit, tokyo: Unit, keyring: KeyRing
) -> None:
    sessions = session_factory(make_engine(database_url))
    for unit in (hanoi, tokyo):
        for at in INSTANTS[:2]:  # 21:59:59 and 22:00 in Hà Nội; 23:59:59 and 00:00 in Tokyo
            issue_receipt(
                sessions, unit, keyring, BASE_URL,
                counter="Q1", officer="CB001", procedure="1.001193", now=at,
            )  # fmt: skip
    query = select(
        CoverageDayRollupRow.unit, CoverageDayRollupRow.day, CoverageDayRollupRow.n
    ).order_by(CoverageDayRollupRow.unit, CoverageDayRollupRow.day)
    with sessions() as session:
        written = session.execute(query).all()
    the_24th, the_25th = date(2026, 11, 24), date(2026, 11, 25)
    assert [tuple(row) for row in written] == [
        (HANOI_UNIT, the_24th, 2),
        (TOKYO_UNIT, the_24th, 1),
        (TOKYO_UNIT, the_25th, 1),
    ]
    with sessions.begin() as session:
        use_zone(session, TOKYO_UNIT, tokyo.zone)
        rebuild_coverage(session)
    with sessions() as session:
        assert session.execute(query).all() == written
