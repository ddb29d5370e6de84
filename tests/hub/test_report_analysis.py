"""The dashboard's analysis (issue 6) against a hand-computed fixture, on SQLite and PostgreSQL:
MĐHL per stage and per SIPAS factor, the 5 levels, the reasons ranked with their catalogue names,
and the hour-by-weekday heat map from ``hour_rollups``; whole days from the rollups, cut days from
the ratings, one officer's view restricted to their own ratings."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy.orm import Session, sessionmaker

from hailong.contract.scale import Factor, Score, Stage
from hailong.settings import Unit
from hub.domain.ingest import Attribution
from hub.domain.satisfaction import GroupSummary
from hub.report import (
    OPENING_HOURS,
    OVERALL,
    HeatCell,
    ReasonLine,
    Scope,
    analysis,
    factor_table,
    hour_heat_map,
    reason_table,
    score_distribution,
    stage_summary,
)
from hub.store.db import make_engine, session_factory
from hub.store.ratings import store_batch
from tests.hailong.contract.test_messages import make_rating

HANOI = timezone(timedelta(hours=7))
ACC = Factor.ACCESS.value
OFF = Factor.OFFICER.value
RES = Factor.RESULT.value
# officer, stage, score, local time (23/11/2026 is a Monday), reasons, survey answers
PLAN = [
    ("CB001", Stage.RECEPTION, 5, datetime(2026, 11, 23, 8, 15), (), {OFF: 5, ACC: 4}),
    ("CB001", Stage.RECEPTION, 4, datetime(2026, 11, 23, 8, 40), (), {OFF: 2}),
    (
        "CB001",
        Stage.RETURN,
        2,
        datetime(2026, 11, 23, 14, 5),
        ("thai-do", "tre-hen"),
        {RES: 1, OFF: 2},
    ),
    ("CB002", Stage.RECEPTION, 1, datetime(2026, 11, 24, 9, 30), ("thai-do", "cu"), {}),
    ("CB002", Stage.RETURN, 3, datetime(2026, 11, 24, 9, 50), (), {}),
    ("CB002", Stage.RETURN, 5, datetime(2026, 11, 25, 16, 20), (), {ACC: 5}),
    ("CB001", Stage.RECEPTION, 4, datetime(2026, 11, 25, 7, 10), (), {}),
    ("CB002", Stage.RECEPTION, 4, datetime(2026, 11, 24, 19, 30), (), {}),  # after hours
]
MONTH = (datetime(2026, 11, 1, tzinfo=HANOI), datetime(2026, 12, 1, tzinfo=HANOI))
NOW = datetime(2026, 11, 26, 10, 0, tzinfo=HANOI)


@pytest.fixture
def sessions(database_url: str) -> sessionmaker[Session]:
    sessions = session_factory(make_engine(database_url))
    items = []
    for seq, (officer, stage, score, at, reasons, factors) in enumerate(PLAN, start=1):
        rating = make_rating(
            seq=seq,
            officer=officer,
            stage=stage,
            score=Score(score),
            rated_at=at.replace(tzinfo=HANOI),
            reasons=reasons,
            factors={Factor(f): Score(s) for f, s in factors.items()},
            receipt=None,
        )
        items.append((rating, Attribution("Q1", officer, "1.001193", "ho-tich", False, stage)))
    for batch in (items[:3], items[3:]):  # two batches: the upserts add up
        with sessions.begin() as session:
            store_batch(session, batch, NOW)
    return sessions


def _figures(lines: list[GroupSummary]) -> dict[str | None, tuple[int, int, str, str]]:
    return {
        s.key: (
            s.n,
            s.satisfied,
            "—" if s.rate is None else f"{s.rate:.1f}",
            f"{s.ci_low:.0f}–{s.ci_high:.0f}",
        )
        for s in lines
    }


def test_per_stage_and_per_factor(sessions: sessionmaker[Session], unit: Unit) -> None:
    with sessions() as session:
        stages = stage_summary(session, Scope(unit, *MONTH))
        factors = factor_table(session, Scope(unit, *MONTH))
    # reception: 5 4 1 4 4 -> 4 of 5; return: 2 3 5 -> 1 of 3
    assert [s.key for s in stages] == ["reception", "return"]
    assert _figures(stages) == {
        "reception": (5, 4, "80.0", "38–96"),
        "return": (3, 1, "33.3", "6–79"),
    }
    assert stages[0].name == "Tiếp nhận hồ sơ / Reception of the dossier"
    # The provincial report's order (seed 000), every factor listed, then the service overall.
    assert [s.key for s in factors] == [
        "access",
        "procedure",
        "officer",
        "result",
        "feedback",
        OVERALL,
    ]
    assert _figures(factors) == {
        "access": (2, 2, "100.0", "34–100"),  # 4, 5
        "procedure": (0, 0, "—", "0–100"),
        "officer": (3, 1, "33.3", "6–79"),  # 5, 2, 2
        "result": (1, 0, "0.0", "0–79"),  # 1
        "feedback": (0, 0, "—", "0–100"),
        OVERALL: (8, 5, "62.5", "31–86"),  # every rating's face
    }
    assert factors[-1].name.startswith("Cung ứng dịch vụ hành chính công nói chung")


def test_the_five_levels(sessions: sessionmaker[Session], unit: Unit) -> None:
    with sessions() as session:
        shares = score_distribution(session, Scope(unit, *MONTH))
    assert [(s.score, s.n, s.percent) for s in shares] == [
        (Score.VERY_SATISFIED, 2, 25.0),
        (Score.SATISFIED, 3, 37.5),
        (Score.NEUTRAL, 1, 12.5),
        (Score.DISSATISFIED, 1, 12.5),
        (Score.VERY_DISSATISFIED, 1, 12.5),
    ]


def test_reasons_ranked_with_catalogue_names_and_factors(
    sessions: sessionmaker[Session], unit: Unit
) -> None:
    with sessions() as session:
        reasons = reason_table(session, Scope(unit, *MONTH))
    assert reasons == [
        ReasonLine(
            "thai-do",
            "Thái độ cán bộ chưa tốt",
            "The officer was rude or unhelpful",
            Factor.OFFICER,
            2,
        ),
        ReasonLine("cu", "cu", "cu", None, 1),  # no longer in the catalogue: shown by its code
        ReasonLine("tre-hen", "Trả kết quả trễ hẹn", "The result was late", Factor.RESULT, 1),
    ]


def test_hour_by_weekday(sessions: sessionmaker[Session], unit: Unit) -> None:
    with sessions() as session:
        heat = hour_heat_map(session, Scope(unit, *MONTH))
        # From Monday 08:30: a cut day, read from the ratings (the 08:15 rating is left out).
        cut = hour_heat_map(
            session, Scope(unit, datetime(2026, 11, 23, 8, 30, tzinfo=HANOI), MONTH[1])
        )
    assert heat.hours == (*OPENING_HOURS, 19)  # 7..17, widened to the rating at 19:30
    assert dict(heat.cells) == {
        (0, 8): HeatCell(2, 2),  # Monday 08:15 (5), 08:40 (4)
        (0, 14): HeatCell(1, 0),
        (1, 9): HeatCell(2, 0),  # Tuesday 09:30 (1), 09:50 (3)
        (1, 19): HeatCell(1, 1),
        (2, 7): HeatCell(1, 1),  # Wednesday
        (2, 16): HeatCell(1, 1),
    }
    assert heat.cells[(1, 9)].rate == 0.0
    assert heat.cell(3, 9) is None  # nobody on Thursday: a blank cell
    assert cut.cell(0, 8) == HeatCell(1, 1)
    assert sum(c.n for c in cut.cells.values()) == 7


def test_an_officer_sees_only_their_own_ratings(
    sessions: sessionmaker[Session], unit: Unit
) -> None:
    with sessions() as session:
        mine = analysis(session, Scope(unit, *MONTH, officer="CB001"))
        cut_since = datetime(2026, 11, 23, 8, 30, tzinfo=HANOI)
        cut = analysis(session, Scope(unit, cut_since, MONTH[1], officer="CB001"))
        everyone = analysis(session, Scope(unit, *MONTH))
    # Lan (CB001): 5 4 2 4 -> reception 3 of 3, return 0 of 1
    assert _figures(mine.stages) == {
        "reception": (3, 3, "100.0", "44–100"),
        "return": (1, 0, "0.0", "0–79"),
    }
    assert [(s.score, s.n) for s in mine.distribution if s.n] == [(5, 1), (4, 2), (2, 1)]
    assert [(r.code, r.n) for r in mine.reasons] == [("thai-do", 1), ("tre-hen", 1)]
    assert _figures(mine.factors)[OFF] == (3, 1, "33.3", "6–79")
    assert _figures(mine.factors)[OVERALL][:2] == (4, 3)
    assert mine.heat_map is None  # the hour rollups have no officer
    assert _figures(cut.stages)["reception"][:2] == (2, 2)
    assert everyone.heat_map is not None
    assert sum(s.n for s in everyone.distribution) == 8
