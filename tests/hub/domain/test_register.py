"""What the hub believes about a rating (hub.domain.register), without a broker or database: every
rule at and just past its bound."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hailong.contract.messages import RatingMessage, ReceiptRef
from hailong.contract.receipt import DossierCode, ReceiptRefused
from hailong.contract.scale import Stage
from hailong.settings import RegisterPolicy, Unit
from hub.domain.ingest import Attribution, ReceiptFacts
from hub.domain.register import (
    RATED_BEFORE_ISSUE,
    RECEIPT_MALFORMED,
    RECEIPT_NOT_ISSUED_YET,
    RECEIPT_OTHER_UNIT,
    REFUSAL_CODES,
    WALK_IN_NOT_ALLOWED,
    Refusal,
    RegisterView,
    judge,
    pace,
)
from tests.hailong.contract.test_messages import make_rating

UNIT = "000.00.20.H41"
TODAY = date(2026, 11, 25)
ISSUED_AT = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)  # 09:00 in Hà Nội
KNOWN = ReceiptFacts(
    f"{UNIT}-261125-0003", "2.000815", "Q2", "CB003", issued_at=ISSUED_AT, unit=UNIT
)
VIEW = RegisterView({KNOWN.code: KNOWN}, {(UNIT, TODAY): 7, (UNIT, date(2026, 11, 20)): 5}, TODAY)


def with_policy(unit: Unit, **changes: object) -> Unit:
    policy = unit.kiosk_policy.model_copy(update=changes)
    return unit.model_copy(update={"kiosk_policy": policy})


def rated(code: str | None, *, verified: bool = False, **overrides: object) -> RatingMessage:
    receipt = None if code is None else ReceiptRef(code=code, verified=verified)
    fields: dict[str, object] = {"receipt": receipt, "officer": None, "procedure": None}
    fields.update(overrides)
    return make_rating(**fields)


def refusal(verdict: Attribution | Refusal) -> str:
    assert isinstance(verdict, Refusal), verdict
    assert verdict.code in REFUSAL_CODES
    return verdict.code


def kept(verdict: Attribution | Refusal) -> Attribution:
    assert isinstance(verdict, Attribution), verdict
    return verdict


# -- a code the register knows ------------------------------------------------------------------


def test_a_known_code_is_attributed_from_the_register_whatever_the_kiosk_claims(unit: Unit) -> None:
    """A receipt issued at Q2 rated by Q1's kiosk claiming a signed slip of Q1 / CB001."""
    claim = rated(KNOWN.code, verified=True, counter="Q1", officer="CB001", procedure="1.001193")
    verdict = kept(judge(claim, VIEW, unit))
    assert (verdict.counter, verdict.officer, verdict.procedure) == ("Q2", "CB003", "2.000815")
    assert verdict.field == "chung-thuc"
    assert verdict.claim_mismatch == ("counter", "officer", "procedure")
    assert verdict.receipt_known
    assert verdict.counted


def test_a_return_claimed_without_a_return_in_the_register_is_flagged(unit: Unit) -> None:
    verdict = kept(judge(rated(KNOWN.code, stage=Stage.RETURN), VIEW, unit))
    assert (verdict.stage, verdict.claim_mismatch) == (Stage.RECEPTION, ("stage",))


def test_a_kiosk_that_had_not_heard_of_the_return_is_not_flagged(unit: Unit) -> None:
    returned = ReceiptFacts(
        KNOWN.code,
        "2.000815",
        "Q2",
        "CB003",
        returned_at=datetime(2026, 11, 25, 2, 20, tzinfo=UTC),
        returned_by="CB004",
        issued_at=ISSUED_AT,
        unit=UNIT,
    )
    view = RegisterView({KNOWN.code: returned}, {}, TODAY)
    # rated 09:30 local = 02:30 UTC, after the return; the kiosk still says reception, CB003
    claim = rated(KNOWN.code, verified=True, counter="Q2", officer="CB003", procedure="2.000815")
    verdict = kept(judge(claim, view, unit))
    assert (verdict.stage, verdict.officer, verdict.claim_mismatch) == (Stage.RETURN, "CB004", ())


def test_rated_before_issue_is_refused_past_the_clock_skew(unit: Unit) -> None:
    skew = timedelta(seconds=unit.register_policy.issue_clock_skew_s)
    at_bound = rated(KNOWN.code, rated_at=ISSUED_AT - skew)
    assert kept(judge(at_bound, VIEW, unit)).receipt_known
    past = rated(KNOWN.code, rated_at=ISSUED_AT - skew - timedelta(microseconds=1))
    assert refusal(judge(past, VIEW, unit)) == RATED_BEFORE_ISSUE
    no_skew = unit.model_copy(update={"register_policy": RegisterPolicy(issue_clock_skew_s=0)})
    assert kept(judge(rated(KNOWN.code, rated_at=ISSUED_AT), VIEW, no_skew)).receipt_known
    early = rated(KNOWN.code, rated_at=ISSUED_AT - timedelta(microseconds=1))
    assert refusal(judge(early, VIEW, no_skew)) == RATED_BEFORE_ISSUE


def test_another_systems_receipt_registered_later_may_have_been_rated_before(unit: Unit) -> None:
    registered = ReceiptFacts(
        KNOWN.code, "2.000815", "Q2", "CB003", issued_at=ISSUED_AT, unit=UNIT, origin="registered"
    )
    view = RegisterView({KNOWN.code: registered}, {}, TODAY)
    verdict = kept(judge(rated(KNOWN.code, rated_at=ISSUED_AT - timedelta(days=1)), view, unit))
    assert verdict.receipt_known
    assert verdict.counted


def test_a_register_row_of_another_unit_is_refused(unit: Unit) -> None:
    stray = ReceiptFacts(KNOWN.code, "2.000815", "Q2", "CB003", issued_at=ISSUED_AT, unit="X.99")
    view = RegisterView({KNOWN.code: stray}, {}, TODAY)
    assert refusal(judge(rated(KNOWN.code), view, unit)) == RECEIPT_OTHER_UNIT


# -- codes that cannot be the unit's receipt ------------------------------------------------------


@pytest.mark.parametrize(
    "code",
    [
        "garbage!",  # the shortest the contract lets through
        "000.00.20.H41-261125",  # cut short
        "000.00.20.H41-261125-007",  # three digits
        "000.00.20.H41-261125-1234567",  # seven digits
        "000.00.20.H41-261125-00007",  # five digits with a leading zero: not canonical
        "000.00.20.H41-261325-0001",  # month 13
        "000.00.20.h41-261125-0001",  # lower case
        "000.00.20.H41-261125-0001\n",  # a trailing newline
        f"{UNIT}-261125-0001 ",
    ],
)
def test_a_malformed_code_is_refused(unit: Unit, code: str) -> None:
    assert refusal(judge(rated(code), VIEW, unit)) == RECEIPT_MALFORMED


@given(code=st.text(min_size=8, max_size=40))
def test_any_code_is_judged_without_an_exception(unit: Unit, code: str) -> None:
    try:
        parsed: DossierCode | None = DossierCode.parse(code)
    except ReceiptRefused:
        parsed = None
    verdict = judge(rated(code), VIEW, unit)
    if parsed is None:
        assert refusal(verdict) == RECEIPT_MALFORMED
    elif parsed.unit != UNIT:
        assert refusal(verdict) == RECEIPT_OTHER_UNIT


def test_another_units_code_is_refused(unit: Unit) -> None:
    other = "000.00.20.X99-261125-0001"
    assert refusal(judge(rated(other), VIEW, unit)) == RECEIPT_OTHER_UNIT
    assert refusal(judge(rated(other, verified=True), VIEW, unit)) == RECEIPT_OTHER_UNIT


# -- codes the register does not know -------------------------------------------------------------


def test_a_code_past_the_days_allocated_sequence_is_not_issued_yet(unit: Unit) -> None:
    assert not kept(judge(rated(f"{UNIT}-261125-0007"), VIEW, unit)).receipt_known
    assert refusal(judge(rated(f"{UNIT}-261125-0008"), VIEW, unit)) == RECEIPT_NOT_ISSUED_YET
    assert refusal(judge(rated(f"{UNIT}-261125-999999"), VIEW, unit)) == RECEIPT_NOT_ISSUED_YET
    # A past day the hub numbered up to 5.
    assert not kept(judge(rated(f"{UNIT}-261120-0005"), VIEW, unit)).receipt_known
    assert refusal(judge(rated(f"{UNIT}-261120-0006"), VIEW, unit)) == RECEIPT_NOT_ISSUED_YET


def test_today_without_any_receipt_yet_every_code_is_still_to_come(unit: Unit) -> None:
    view = RegisterView({}, {}, TODAY)
    assert refusal(judge(rated(f"{UNIT}-261125-0001"), view, unit)) == RECEIPT_NOT_ISSUED_YET


def test_a_code_dated_after_today_is_not_issued_yet(unit: Unit) -> None:
    assert refusal(judge(rated(f"{UNIT}-261126-0001"), VIEW, unit)) == RECEIPT_NOT_ISSUED_YET
    view = RegisterView({}, {(UNIT, date(2026, 11, 26)): 50}, TODAY)  # even if numbered
    assert refusal(judge(rated(f"{UNIT}-261126-0001"), view, unit)) == RECEIPT_NOT_ISSUED_YET


def test_a_past_day_the_hub_issued_nothing_on_is_kept_unverified(unit: Unit) -> None:
    verdict = kept(judge(rated(f"{UNIT}-261124-999999", counter="Q3"), VIEW, unit))
    assert (verdict.receipt_known, verdict.counted, verdict.counter) == (False, False, "Q3")
    assert verdict.claim_mismatch == ()


def test_verified_claimed_for_an_unknown_code_is_flagged_and_proves_nothing(unit: Unit) -> None:
    verdict = kept(judge(rated(f"{UNIT}-261124-0001", verified=True), VIEW, unit))
    assert (verdict.receipt_known, verdict.counted) == (False, False)
    assert verdict.claim_mismatch == ("verified",)
    stage = kept(judge(rated(f"{UNIT}-261124-0002", stage=Stage.RETURN), VIEW, unit))
    assert (stage.stage, stage.claim_mismatch) == (Stage.RECEPTION, ("stage",))


def test_a_unit_may_count_unverified_codes(unit: Unit) -> None:
    counting = unit.model_copy(update={"register_policy": RegisterPolicy(count_unverified=True)})
    verdict = kept(judge(rated(f"{UNIT}-261124-0001"), VIEW, counting))
    assert (verdict.receipt_known, verdict.counted) == (False, True)


# -- walk-ins -------------------------------------------------------------------------------------


def test_walk_ins_are_refused_unless_the_unit_allows_them(unit: Unit) -> None:
    assert not unit.kiosk_policy.allow_walk_in
    assert refusal(judge(rated(None), VIEW, unit)) == WALK_IN_NOT_ALLOWED
    allowing = with_policy(unit, allow_walk_in=True)
    verdict = kept(judge(rated(None, counter="Q1"), VIEW, allowing))
    assert (verdict.counter, verdict.officer, verdict.receipt_known, verdict.counted) == (
        "Q1",
        None,
        False,
        True,
    )
    assert verdict.claim_mismatch == ()


def test_a_walk_in_is_at_the_kiosks_own_counter_and_names_nobody(unit: Unit) -> None:
    allowing = with_policy(unit, allow_walk_in=True)
    claim = rated(None, counter="Q3", officer="CB004", procedure="1.001612")  # kiosk-q1 is at Q1
    verdict = kept(judge(claim, VIEW, allowing))
    assert (verdict.counter, verdict.officer, verdict.procedure) == ("Q1", None, None)
    assert verdict.claim_mismatch == ("counter", "officer", "procedure")


# -- pacing ---------------------------------------------------------------------------------------

T0 = datetime(2026, 11, 25, 2, 30, tzinfo=UTC)
UNVERIFIED = Attribution("Q1", None, None, None, receipt_known=False, counted=False)
WALK_IN = Attribution("Q1", None, None, None, receipt_known=False)
RECEIPT = Attribution("Q2", "CB003", "2.000815", "chung-thuc", receipt_known=True)


def at(seconds: float, kiosk: str = "kiosk-q1") -> RatingMessage:
    return make_rating(kiosk=kiosk, rated_at=T0 + timedelta(seconds=seconds))


def suspects(attributions: list[Attribution]) -> list[bool]:
    return [a.suspect for a in attributions]


def test_pacing_at_and_inside_the_interval() -> None:
    items = [(at(0), WALK_IN), (at(60), WALK_IN), (at(119.999), WALK_IN), (at(180), UNVERIFIED)]
    paced = pace(items, {}, 60)
    assert suspects(paced) == [False, False, True, False]
    assert [a.counted for a in paced] == [True, True, False, False]


def test_pacing_looks_both_ways_at_what_is_stored() -> None:
    stored = {(UNIT, "kiosk-q1"): [T0 + timedelta(seconds=100)]}
    items = [(at(41), WALK_IN), (at(40), WALK_IN), (at(160), WALK_IN), (at(159), WALK_IN)]
    assert suspects(pace(items, stored, 60)) == [True, False, False, True]


def test_pacing_is_per_kiosk_and_spares_known_receipts() -> None:
    items = [
        (at(0), WALK_IN),
        (at(1, "kiosk-q2"), WALK_IN),
        (at(2), RECEIPT),
        (at(3), RECEIPT),
        (at(4), UNVERIFIED),
    ]
    assert suspects(pace(items, {}, 60)) == [False, False, False, False, True]
    assert suspects(pace(items, {}, 0)) == [False] * 5  # a unit without a limit
