"""Coverage's rule against hand-counted examples: which receipts a period holds, which are rated,
abandoned or not reached, and when a response rate is marked."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hub.domain.coverage import (
    FEW_RECEIPTS,
    LOW_RESPONSE,
    AbandonedFact,
    Level,
    RatingFact,
    Receipt,
    Tally,
    coverage_of,
    fold,
    tally,
    total,
)

HANOI = timezone(timedelta(hours=7))
UNIT = "000.00.20.H41"
NOV = (datetime(2026, 11, 1, tzinfo=HANOI), datetime(2026, 12, 1, tzinfo=HANOI))
OCT = (datetime(2026, 10, 1, tzinfo=HANOI), NOV[0])


def _receipt(seq: int, officer: str = "CB001", at: datetime | None = None, **kw: str) -> Receipt:
    return Receipt(
        code=f"{UNIT}-261110-{seq:04d}",
        unit=kw.get("unit", UNIT),
        counter=kw.get("counter", "Q1"),
        officer=officer,
        procedure=kw.get("procedure", "1.001193"),
        issued_at=at or datetime(2026, 11, 10, 9, tzinfo=HANOI),
    )


def _rated(seq: int, stage: str = "reception", counted: bool = True) -> RatingFact:
    return RatingFact(UNIT, f"{UNIT}-261110-{seq:04d}", stage, counted)


def _left(seq: int, stage: str = "reception") -> AbandonedFact:
    return AbandonedFact(UNIT, f"{UNIT}-261110-{seq:04d}", stage)


KEY = (UNIT, "Q1", "CB001", "1.001193")


def test_no_receipt_means_no_rate() -> None:
    assert tally([], [_rated(1)], [_left(2)], *NOV) == {}
    nothing = total({})
    assert (nothing.issued, nothing.rated, nothing.rate) == (0, 0, None)
    assert (nothing.ci_low, nothing.ci_high) == (0.0, 100.0)
    assert nothing.level is Level.NO_RECEIPTS
    assert nothing.label == ("chưa có biên nhận", "no receipts")


def test_every_receipt_rated() -> None:
    receipts = [_receipt(i) for i in range(1, 26)]
    found = tally(receipts, [_rated(i) for i in range(1, 26)], [], *NOV)
    assert found == {KEY: Tally(25, 25, 0)}
    line = total(found)
    assert line.rate == 100.0
    # Wilson 95 % for 25 of 25: centre (1 + z²/50) / (1 + z²/25), half z·√(z²/2500) / (1 + z²/25).
    assert line.ci_low == pytest.approx(86.68, abs=0.01)
    assert line.ci_high == pytest.approx(100.0)
    assert line.level is Level.OK
    assert line.label == ("", "")


def test_ratings_without_a_receipt_are_not_coverage() -> None:
    walk_in = RatingFact(UNIT, None, "reception")
    unknown = RatingFact(UNIT, f"{UNIT}-261110-0999", "reception")  # not in the register
    found = tally([_receipt(1), _receipt(2)], [walk_in, unknown, _rated(1)], [], *NOV)
    assert found == {KEY: Tally(2, 1, 0)}


def test_a_receipt_counts_in_the_period_it_was_issued_in() -> None:
    # Issued 31/10 at 16:30 in Hà Nội, rated on 1/11: October's coverage, not November's.
    late = _receipt(1, at=datetime(2026, 10, 31, 16, 30, tzinfo=HANOI))
    fresh = _receipt(2)
    ratings = [_rated(1), _rated(2)]
    assert tally([late, fresh], ratings, [], *NOV) == {KEY: Tally(1, 1, 0)}
    assert tally([late, fresh], ratings, [], *OCT) == {KEY: Tally(1, 1, 0)}
    # The bounds are [since, until): issued at midnight on 1/11 (17:00 UTC) is November's.
    midnight = _receipt(3, at=NOV[0].astimezone(UTC))
    assert tally([midnight], [], [], *OCT) == {}
    assert tally([midnight], [], [], *NOV) == {KEY: Tally(1, 0, 0)}


def test_abandoned_then_rated_is_rated_and_only_the_reception_counts() -> None:
    receipts = [_receipt(i) for i in range(1, 7)]
    ratings = [
        _rated(1),  # abandoned first, then rated
        _rated(3, stage="return"),  # rated at the return only: not the reception's response
        _rated(4, counted=False),  # kept apart from the headline figures: not rated
    ]
    abandoned = [
        _left(1),
        _left(1),  # two abandoned sessions of one receipt: one receipt abandoned
        _left(2),
        _left(3),
        _left(5, stage="return"),  # abandoned at the return: not the reception's
    ]
    found = tally(receipts, ratings, abandoned, *NOV)
    # 1 rated; 2 and 3 abandoned; 4, 5, 6 not reached.
    assert found == {KEY: Tally(6, 1, 2)}
    assert found[KEY].not_reached == 3


def test_groups_fold_per_dimension_and_the_field_follows_the_procedure() -> None:
    tallies = {
        (UNIT, "Q1", "CB001", "1.001193"): Tally(10, 8, 1),
        (UNIT, "Q1", "CB002", "2.000986"): Tally(30, 6, 10),
        (UNIT, "Q2", "CB002", "9.999999"): Tally(5, 0, 0),
    }
    names = {"CB001": "Lan", "CB002": "Minh"}
    officers = fold(tallies, "officer", names)
    assert [(c.key, c.name, c.issued, c.rated, c.abandoned) for c in officers] == [
        ("CB002", "Minh", 35, 6, 10),  # 17.1 %: lowest response first
        ("CB001", "Lan", 10, 8, 1),
    ]
    counters = {c.key: (c.issued, c.rated) for c in fold(tallies, "counter", {})}
    assert counters == {"Q1": (40, 14), "Q2": (5, 0)}
    fields = fold(tallies, "field", {"ho-tich": "Hộ tịch"}, {"1.001193": "ho-tich"})
    assert {(c.key, c.name, c.issued) for c in fields} == {
        ("ho-tich", "Hộ tịch", 10),
        (None, "(không rõ / unknown)", 35),  # procedures the catalogue does not know
    }
    assert {c.key for c in fold(tallies, "unit", {})} == {UNIT}
    assert total(tallies).issued == 45


@pytest.mark.parametrize(
    ("issued", "rated", "level"),
    [
        (FEW_RECEIPTS - 1, 0, Level.FEW),  # 19 receipts: too few to judge, even at 0 %
        (FEW_RECEIPTS, 6, Level.OK),  # 6 of 20 = 30.0 %: at the bound, not low
        (FEW_RECEIPTS, 5, Level.LOW),  # 5 of 20 = 25 %: under it
        (1000, 299, Level.LOW),  # 29.9 %
        (1000, 300, Level.OK),
    ],
)
def test_a_rate_on_a_small_share_says_so(issued: int, rated: int, level: Level) -> None:
    line = coverage_of("CB001", "Lan", Tally(issued, rated, 0))
    assert line.level is level
    assert line.low is (level is Level.LOW)
    if level is Level.LOW:
        assert line.rate is not None
        assert line.rate < LOW_RESPONSE
        assert line.label == ("tỷ lệ phản hồi thấp", "low response")


def test_an_impossible_tally_is_refused() -> None:
    with pytest.raises(ValueError, match="impossible tally"):
        Tally(2, 2, 1)
    with pytest.raises(ValueError, match="impossible tally"):
        Tally(-1, 0, 0)


_outcomes = st.lists(st.sampled_from(["rated", "abandoned", "both", "none", "return"]), max_size=40)


@given(_outcomes, st.lists(st.sampled_from(["CB001", "CB002", "CB003"]), min_size=40, max_size=40))
def test_outcomes_partition_the_receipts(outcomes: list[str], officers: list[str]) -> None:
    receipts = [_receipt(i, officers[i]) for i in range(len(outcomes))]
    ratings = [_rated(i) for i, o in enumerate(outcomes) if o in ("rated", "both")]
    ratings += [_rated(i, "return") for i, o in enumerate(outcomes) if o == "return"]
    abandoned = [_left(i) for i, o in enumerate(outcomes) if o in ("abandoned", "both")]
    found = tally(receipts, ratings, abandoned)
    whole = total(found)
    assert whole.issued == len(outcomes)
    assert whole.rated == sum(o in ("rated", "both") for o in outcomes)
    assert whole.abandoned == outcomes.count("abandoned")
    assert whole.not_reached == sum(o in ("none", "return") for o in outcomes)
    per_officer = fold(found, "officer", {})
    assert sum(c.issued for c in per_officer) == whole.issued
    assert sum(c.rated for c in per_officer) == whole.rated
