"""The official indices checked against examples computed by hand from Circular 01/2018/TT-VPCP
(Articles 13-15) and Decision 766, with the shipped criteria file: per-dossier points, indicators
without data, rounding half up to one decimal, the band edges, a criteria change mid-quarter."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hailong.settings.loading import load
from hub.domain.criteria import CriteriaBook, CriteriaSet, IndexRule, Ratio766, Source
from hub.domain.indices import (
    DossierFacts,
    IndexResult,
    RatingFacts,
    Timing,
    compute_index,
    dossier_points,
    officer_indices,
    parse_period,
    period_label,
    round_half_up,
    satisfaction_ratio,
    timing,
    unit_index,
)

CRITERIA_FILE = Path(__file__).resolve().parents[3] / "config" / "criteria" / "tt01-2018.toml"
TT01 = load(CRITERIA_FILE, CriteriaSet)
BOOK = CriteriaBook((TT01,))
Q3_LAST = date(2026, 9, 30)
AS_OF = date(2026, 10, 15)
UNIT = "000.00.20.H41"


def dossier(
    n: int,
    received: date = date(2026, 7, 1),
    promised: date | None = None,
    returned: date | None = None,
    ratings: tuple[RatingFacts, ...] = (),
    officer: str = "CB001",
    returned_by: str | None = None,
) -> DossierFacts:
    return DossierFacts(
        code=f"{UNIT}-260701-{n:04d}",
        unit=UNIT,
        officer=officer,
        received_on=received,
        promised_on=promised,
        returned_on=returned,
        returned_by=returned_by,
        ratings=ratings,
    )


def rated(
    score: int, officer: str = "CB001", factors: dict[str, int] | None = None
) -> tuple[RatingFacts, ...]:
    return (RatingFacts(officer, score, factors or {}),)


def value_of(result: IndexResult, number: int) -> Decimal | None:
    return next(i.value for i in result.indicators if i.number == number)


def test_the_shipped_criteria_are_the_2018_circular() -> None:
    assert TT01.version == "tt01-2018"
    assert TT01.effective == date(2019, 1, 6)
    assert [i.number for i in TT01.indicators] == list(range(1, 10))
    assert TT01.officer.indicators == (1, 2, 3, 4, 7)
    assert TT01.officer.max == 10
    assert TT01.unit.max == 18
    assert [b.label_vi for b in TT01.unit.bands] == [
        "Xuất sắc",
        "Tốt",
        "Khá",
        "Trung bình",
        "Yếu",
    ]
    # Rất hài lòng / Hài lòng / the rest -> 2 / 1 / 0.
    assert [TT01.score_points[s] for s in (5, 4, 3, 2, 1)] == [2, 1, 0, 0, 0]  # type: ignore[index]
    # Only processing time (register) and staff attitude (rating) have data in the hub.
    assert [i.number for i in TT01.indicators if i.source.collected] == [1, 7]
    assert TT01.indicator(7).source is Source.RATING


def test_processing_time_against_the_promised_day() -> None:
    promised = date(2026, 7, 10)
    assert timing(dossier(1, promised=promised, returned=date(2026, 7, 9)), TT01, AS_OF) is (
        Timing.EARLY
    )
    assert timing(dossier(1, promised=promised, returned=promised), TT01, AS_OF) is Timing.ON_TIME
    assert timing(dossier(1, promised=promised, returned=date(2026, 7, 11)), TT01, AS_OF) is (
        Timing.LATE
    )
    # Not yet returned: no data while the promise holds (today is the promised day) ...
    assert timing(dossier(1, promised=promised), TT01, promised) is None
    # ... and late the day after: it can no longer be on time.
    assert timing(dossier(1, promised=promised), TT01, promised + timedelta(days=1)) is Timing.LATE
    wait = TT01.model_copy(
        update={
            "timeliness": TT01.timeliness.model_copy(update={"unreturned_past_promise": "no_data"})
        }
    )
    assert timing(dossier(1, promised=promised), wait, AS_OF) is None
    # No promised day on the receipt: no data at all.
    assert timing(dossier(1, returned=date(2026, 7, 9)), TT01, AS_OF) is None


def test_dossier_points_leave_out_what_has_no_data() -> None:
    # Early (2) and "Hài lòng" (1); indicators 2-6, 8, 9 have no data and are absent.
    early = dossier(1, date(2026, 7, 1), date(2026, 7, 10), date(2026, 7, 8), rated(4))
    assert dossier_points(early, TT01, AS_OF) == {1: 2, 7: 1}
    # Nothing known: no promised day, no rating.
    assert dossier_points(dossier(2), TT01, AS_OF) == {}
    # The survey's officer factor, when answered, decides indicator 7 (factor "officer").
    assert dossier_points(dossier(3, ratings=rated(2, factors={"officer": 5})), TT01, AS_OF) == {
        7: 2
    }
    # Two moments rated (reception 5, return 2 by CB002): the unit takes the lowest, each
    # officer only what was said about them.
    both = dossier(4, ratings=rated(5) + rated(2, "CB002"), returned_by="CB002")
    assert dossier_points(both, TT01, AS_OF) == {7: 0}
    assert dossier_points(both, TT01, AS_OF, officer="CB001") == {7: 2}
    assert dossier_points(both, TT01, AS_OF, officer="CB002") == {7: 0}
    assert dossier_points(both, TT01, AS_OF, officer="CB003") == {}


def quarter_of_five() -> list[DossierFacts]:
    return [
        # received, promised, returned -> indicator 1; the face -> indicator 7
        dossier(1, date(2026, 7, 1), date(2026, 7, 10), date(2026, 7, 8), rated(5)),  # 2, 2
        dossier(2, date(2026, 7, 2), date(2026, 7, 10), date(2026, 7, 10), rated(4)),  # 1, 1
        dossier(3, date(2026, 7, 3), date(2026, 7, 10), date(2026, 7, 12), rated(2)),  # 0, 0
        dossier(4, date(2026, 7, 4), date(2026, 7, 20), None),  # past promise: 0, no rating
        dossier(5, date(2026, 9, 29), date(2026, 10, 30), None, rated(3)),  # no data yet, 0
    ]


def test_unit_index_computed_by_hand() -> None:
    result = unit_index(quarter_of_five(), BOOK, UNIT, Q3_LAST, AS_OF)
    # Indicator 1: dossiers 1-4 have data: (2 + 1 + 0 + 0) / 4 = 0.75, shown 0.8 (half up).
    # Indicator 7: dossiers 1, 2, 3, 5: (2 + 1 + 0 + 0) / 4 = 0.75, shown 0.8.
    assert (value_of(result, 1), value_of(result, 7)) == (Decimal("0.8"), Decimal("0.8"))
    assert [i.dossiers for i in result.indicators if i.number in (1, 7)] == [4, 4]
    assert all(i.value is None for i in result.indicators if i.number not in (1, 7))
    # Index: 0.75 + 0.75 = 1.5 exactly (not 0.8 + 0.8: only the published index is rounded).
    assert result.index == Decimal("1.5")
    # Two indicators have data: reachable maximum 4 of 18; scaled 1.5 × 18 / 4 = 6.75 -> 6.8.
    assert (result.max_available, result.max, result.scaled) == (4, Decimal(18), Decimal("6.8"))
    # 6.8 >= 6: Trung bình.
    assert result.band is not None
    assert result.band.label_vi == "Trung bình"
    assert (result.dossiers, result.versions, result.unscored) == (5, (("tt01-2018", 5),), 0)


def test_satisfaction_ratio_766_computed_by_hand() -> None:
    ratio = satisfaction_ratio(quarter_of_five(), BOOK, Q3_LAST, AS_OF)
    # Dissatisfied (score 1 or 2): dossier 3. Late: dossiers 3 and 4 (4 unreturned past its
    # promise). Taken out: 3 and 4 -> (5 - 2) / 5 = 60.0 %. Dossier 5's "Bình thường" is not
    # "Không hài lòng".
    assert (ratio.dossiers, ratio.dissatisfied, ratio.late, ratio.excluded) == (5, 1, 2, 2)
    assert ratio.percent == Decimal("60.0")
    lenient = TT01.model_copy(update={"ratio_766": Ratio766(count_late=False)})
    ratio = satisfaction_ratio(quarter_of_five(), CriteriaBook((lenient,)), Q3_LAST, AS_OF)
    assert (ratio.late, ratio.excluded, ratio.percent) == (0, 1, Decimal("80.0"))  # 4 / 5
    empty = satisfaction_ratio([], BOOK, Q3_LAST, AS_OF)
    assert (empty.dossiers, empty.percent) == (0, None)


def test_officer_indices_computed_by_hand() -> None:
    dossiers = [
        # CB001 received both; CB002 returned the second and was rated 1 for it.
        dossier(1, date(2026, 7, 1), date(2026, 7, 10), date(2026, 7, 9), rated(5)),
        dossier(
            2,
            date(2026, 7, 1),
            date(2026, 7, 10),
            date(2026, 7, 10),
            rated(4) + rated(1, "CB002"),
            returned_by="CB002",
        ),
    ]
    cb001, cb002 = officer_indices(dossiers, BOOK, Q3_LAST, AS_OF)
    # CB001: indicator 1 (2 + 1) / 2 = 1.5; indicator 7, their own ratings (2 + 1) / 2 = 1.5.
    # Index 3.0 of a reachable 4; scaled 3.0 × 10 / 4 = 7.5 >= 5: 100 % of duty done.
    assert (cb001.subject, cb001.index, cb001.scaled) == ("CB001", Decimal("3.0"), Decimal("7.5"))
    assert cb001.band is not None
    assert cb001.band.label_en == "100 % of duty done"
    # CB002 (the second dossier only): indicator 1 = 1; indicator 7 = 0 (score 1).
    # Index 1.0; scaled 1.0 × 10 / 4 = 2.5 < 3.5: under 70 %.
    assert (cb002.subject, cb002.dossiers, cb002.index) == ("CB002", 1, Decimal("1.0"))
    assert cb002.scaled == Decimal("2.5")
    assert cb002.band is not None
    assert cb002.band.label_en == "under 70 % of duty done"
    # The unit: indicator 1 = 1.5; indicator 7 per dossier the lowest: (2 + 0) / 2 = 1.0.
    # Index 2.5; scaled 2.5 × 18 / 4 = 11.25 -> 11.3: Khá.
    unit = unit_index(dossiers, BOOK, UNIT, Q3_LAST, AS_OF)
    assert (unit.index, unit.scaled) == (Decimal("2.5"), Decimal("11.3"))
    assert unit.band is not None
    assert unit.band.label_vi == "Khá"


def test_nothing_to_score_is_no_data_not_zero() -> None:
    result = unit_index([dossier(1), dossier(2)], BOOK, UNIT, Q3_LAST, AS_OF)
    assert (result.dossiers, result.index, result.scaled, result.band) == (2, None, None, None)
    assert result.max_available == 0


@pytest.mark.parametrize(
    ("value", "label"),
    [
        ("18", "Xuất sắc"),
        ("15.0", "Xuất sắc"),  # "từ 15 điểm": at the edge is in
        ("14.9", "Tốt"),
        ("12.0", "Tốt"),
        ("11.9", "Khá"),
        ("9.0", "Khá"),
        ("8.9", "Trung bình"),
        ("6.0", "Trung bình"),
        ("5.9", "Yếu"),
        ("0.0", "Yếu"),
    ],
)
def test_unit_band_edges(value: str, label: str) -> None:
    assert TT01.unit.band(Decimal(value)).label_vi == label


@pytest.mark.parametrize(
    ("value", "label"),
    [
        ("10", "Hoàn thành 100 % nhiệm vụ"),
        ("5.0", "Hoàn thành 100 % nhiệm vụ"),
        ("4.9", "Hoàn thành từ 70 % đến dưới 100 % nhiệm vụ"),
        ("3.5", "Hoàn thành từ 70 % đến dưới 100 % nhiệm vụ"),
        ("3.4", "Hoàn thành dưới 70 % nhiệm vụ"),
        ("0", "Hoàn thành dưới 70 % nhiệm vụ"),
    ],
)
def test_officer_band_edges(value: str, label: str) -> None:
    assert TT01.officer.band(Decimal(value)).label_vi == label


def early_dossiers(fives: int, fours: int) -> list[DossierFacts]:
    """Dossiers all returned early (indicator 1 = 2 each), rated 5 (2 points) or 4 (1 point)."""
    scores = [5] * fives + [4] * fours
    return [
        dossier(n, date(2026, 7, 1), date(2026, 7, 10), date(2026, 7, 9), rated(score))
        for n, score in enumerate(scores)
    ]


def test_rounding_half_up_decides_the_unit_band_at_15() -> None:
    # 29 × 2 + 61 × 1 = 119 points over 90 dossiers on indicator 7; indicator 1 = 2.
    # Exact index 2 + 119/90 = 299/90 = 3.322... -> 3.3; scaled 299/90 × 18/4 = 299/20 = 14.95
    # -> 15.0 half up (not 14.9, nor "banker's" 15.0 by luck): Xuất sắc.
    top = unit_index(early_dossiers(29, 61), BOOK, UNIT, Q3_LAST, AS_OF)
    assert (top.index, top.scaled) == (Decimal("3.3"), Decimal("15.0"))
    assert top.band is not None
    assert top.band.label_vi == "Xuất sắc"
    # One 5 fewer: 118/90, scaled 298/20 = 14.9: Tốt.
    below = unit_index(early_dossiers(28, 62), BOOK, UNIT, Q3_LAST, AS_OF)
    assert below.scaled == Decimal("14.9")
    assert below.band is not None
    assert below.band.label_vi == "Tốt"


def test_raw_band_basis_reads_the_officer_index_as_it_is() -> None:
    raw = TT01.model_copy(
        update={"officer": IndexRule(**{**TT01.officer.model_dump(), "band_basis": "raw"})}
    )
    book = CriteriaBook((raw,))
    # 20 dossiers: indicator 1 = 2; indicator 7 = (9 × 2 + 11 × 1) / 20 = 29/20 = 1.45.
    # Index 3.45 -> 3.5 half up: 70 to under 100 %.
    (edge,) = officer_indices(early_dossiers(9, 11), book, Q3_LAST, AS_OF)
    assert edge.index == Decimal("3.5")
    assert edge.band is not None
    assert edge.band.label_en == "70 to under 100 % of duty done"
    # 25 dossiers: (11 × 2 + 14 × 1) / 25 = 36/25 = 1.44; index 3.44 -> 3.4: under 70 %.
    (under,) = officer_indices(early_dossiers(11, 14), book, Q3_LAST, AS_OF)
    assert under.index == Decimal("3.4")
    assert under.band is not None
    assert under.band.label_en == "under 70 % of duty done"


def test_a_criteria_change_inside_a_quarter() -> None:
    # A later version, in force from 15/08/2026, scores "Bình thường" 1 instead of 0.
    later = TT01.model_copy(
        update={
            "version": "later-2026",
            "effective": date(2026, 8, 15),
            "score_points": {**TT01.score_points, 3: 1},
        }
    )
    book = CriteriaBook((later, TT01))  # any order: the book sorts by effective date
    assert book.in_force(date(2026, 8, 14)) is TT01
    assert book.in_force(date(2026, 8, 15)) is later
    assert book.in_force(date(2019, 1, 5)) is None
    dossiers = [
        dossier(1, received=date(2026, 8, 14), ratings=rated(3)),  # old rules: 0
        dossier(2, received=date(2026, 8, 15), ratings=rated(3)),  # new rules: 1
        dossier(3, received=date(2018, 12, 31), ratings=rated(5)),  # before any version
    ]
    result = unit_index(dossiers, book, UNIT, Q3_LAST, AS_OF)
    # Indicator 7: (0 + 1) / 2 = 0.5; the period's rules are the version in force on 30/09.
    assert value_of(result, 7) == Decimal("0.5")
    assert result.index == Decimal("0.5")
    assert result.version == "later-2026"
    assert result.versions == (("later-2026", 1), ("tt01-2018", 1))
    assert (result.dossiers, result.unscored) == (2, 1)
    # The quarter before the change is computed under the old rules alone, as it always was.
    q2 = unit_index(dossiers[:1], book, UNIT, date(2026, 6, 30), AS_OF)
    assert (q2.version, q2.index) == ("tt01-2018", Decimal("0.0"))


def test_two_versions_on_one_day_are_refused() -> None:
    twin = TT01.model_copy(update={"version": "twin"})
    with pytest.raises(ValueError, match="both take effect on 2019-01-06"):
        CriteriaBook((TT01, twin))


@given(st.fractions(min_value=0, max_value=1000), st.integers(min_value=0, max_value=4))
def test_round_half_up_is_decimal_half_up(value: Fraction, decimals: int) -> None:
    expected = (Decimal(value.numerator) / Decimal(value.denominator)).quantize(
        Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP
    )
    assert round_half_up(value, decimals) == expected


def test_round_half_up_on_exact_halves() -> None:
    assert round_half_up(Fraction(299, 20), 1) == Decimal("15.0")  # 14.95
    assert round_half_up(Fraction(1, 4), 1) == Decimal("0.3")  # 0.25, not 0.2 (to even)
    assert round_half_up(Fraction(-1, 4), 1) == Decimal("-0.3")


faces = st.sampled_from([1, 2, 3, 4, 5])
full_dossiers = st.lists(
    st.tuples(st.integers(min_value=-3, max_value=3), faces), min_size=1, max_size=40
)


@given(full_dossiers)
def test_with_full_data_the_index_is_the_circulars_sum_over_dossiers(
    rows: list[tuple[int, int]],
) -> None:
    # Every dossier returned (early, on time or late) and rated: the per-indicator sum equals
    # Article 15's Σ dossier scores ÷ dossiers, rounded to one decimal.
    promised = date(2026, 7, 10)
    dossiers = [
        dossier(n, promised=promised, returned=promised + timedelta(days=shift), ratings=rated(s))
        for n, (shift, s) in enumerate(rows)
    ]
    totals = [sum(dossier_points(d, TT01, AS_OF).values()) for d in dossiers]
    result = unit_index(dossiers, BOOK, UNIT, Q3_LAST, AS_OF)
    assert result.index == round_half_up(Fraction(sum(totals), len(totals)), 1)
    assert result.index is not None
    assert Decimal(0) <= result.index <= result.max_available
    assert result.scaled is not None
    assert result.scaled <= result.max


@given(
    st.lists(
        st.tuples(
            st.integers(min_value=-20, max_value=20),
            st.one_of(st.none(), st.integers(min_value=-5, max_value=5)),
            st.one_of(st.none(), faces),
        ),
        max_size=30,
    )
)
def test_indices_stay_within_their_bounds(
    rows: list[tuple[int, int | None, int | None]],
) -> None:
    dossiers = [
        dossier(
            n,
            received=date(2026, 8, 1),
            promised=date(2026, 8, 1) + timedelta(days=days),
            returned=None if back is None else date(2026, 8, 1) + timedelta(days=days + back),
            ratings=() if face is None else rated(face),
        )
        for n, (days, back, face) in enumerate(rows)
    ]
    result = compute_index(dossiers, BOOK, "unit", UNIT, Q3_LAST, AS_OF)
    ratio = satisfaction_ratio(dossiers, BOOK, Q3_LAST, AS_OF)
    assert result.dossiers == ratio.dossiers == len(dossiers)
    if result.index is None:
        assert result.band is None
        assert result.max_available == 0
    else:
        assert 0 <= result.index <= result.max_available <= 4
        assert result.scaled is not None
        assert 0 <= result.scaled <= 18
    assert ratio.excluded <= ratio.dissatisfied + ratio.late
    if ratio.percent is not None:
        assert Decimal(0) <= ratio.percent <= Decimal(100)


@pytest.mark.parametrize(
    ("text", "first", "last", "labels"),
    [
        ("2026Q3", date(2026, 7, 1), date(2026, 9, 30), ("Quý 3/2026", "Q3 2026")),
        ("2026-q1", date(2026, 1, 1), date(2026, 3, 31), ("Quý 1/2026", "Q1 2026")),
        (" 2026 ", date(2026, 1, 1), date(2026, 12, 31), ("Năm 2026", "Year 2026")),
        ("9999Q3", date(9999, 7, 1), date(9999, 9, 30), ("Quý 3/9999", "Q3 9999")),
    ],
)
def test_parse_period(text: str, first: date, last: date, labels: tuple[str, str]) -> None:
    span = parse_period(text)
    assert (span.first, span.last, period_label(span)) == (first, last, labels)


@pytest.mark.parametrize(
    "text", ["2026Q5", "2026Q0", "26Q3", "2026 Q3", "0000", "0000Q1", "9999Q4", "9999", "", "Q3"]
)
def test_parse_period_refuses(text: str) -> None:
    with pytest.raises(ValueError, match="expected a quarter such as 2026Q3"):
        parse_period(text)


@given(st.text(max_size=12))
def test_parse_period_answers_a_period_or_a_clear_error(text: str) -> None:
    try:
        span = parse_period(text)
    except ValueError as exc:
        refusal: str | None = str(exc)
    else:
        refusal = None
        assert span.kind in ("quarter", "year")
        assert span.first < span.end
    if refusal is not None:
        assert "expected a quarter such as 2026Q3 or a year such as 2026" in refusal


@given(st.integers(min_value=1, max_value=9998), st.integers(min_value=1, max_value=4))
def test_every_quarter_round_trips(year: int, quarter: int) -> None:
    span = parse_period(f"{year:04d}Q{quarter}")
    assert (span.kind, span.first) == ("quarter", date(year, 3 * quarter - 2, 1))
