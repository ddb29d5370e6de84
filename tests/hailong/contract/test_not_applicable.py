"""Issue 18 on the wire: "không áp dụng" survey answers and reason pictograms, sent only when
present so that the payloads of every earlier kiosk and hub read as before."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hailong.contract import messages
from hailong.contract.messages import ContractError, ReasonInfo
from hailong.contract.pictograms import DEFAULT_ICONS, NEUTRAL, PICTOGRAMS, icon_for
from hailong.contract.scale import Factor, Score
from hailong.settings import Unit
from tests.hailong.contract.test_messages import make_rating

_FACTORS = list(Factor)


@st.composite
def _survey(draw: st.DrawFn) -> tuple[dict[Factor, Score], tuple[Factor, ...]]:
    """Each factor answered with a face, "does not apply", or skipped; N/A in any order."""
    answers = draw(st.lists(st.sampled_from(["face", "na", "skip"]), min_size=5, max_size=5))
    faces = {
        f: draw(st.sampled_from(list(Score)))
        for f, a in zip(_FACTORS, answers, strict=True)
        if a == "face"
    }
    skipped = draw(
        st.permutations([f for f, a in zip(_FACTORS, answers, strict=True) if a == "na"])
    )
    return faces, tuple(skipped)


@given(_survey())
def test_any_survey_with_not_applicable_round_trips(
    survey: tuple[dict[Factor, Score], tuple[Factor, ...]],
) -> None:
    faces, skipped = survey
    rating = make_rating(factors=faces, not_applicable=skipped or None)
    payload = rating.to_bytes()
    assert messages.decode_rating(payload) == rating
    assert ("not_applicable" in json.loads(payload)) == bool(skipped)


def test_a_rating_without_the_key_reads_as_before() -> None:
    data = json.loads(make_rating(factors={Factor.OFFICER: Score.SATISFIED}).to_bytes())
    assert "not_applicable" not in data
    assert messages.decode_rating(json.dumps(data).encode()).not_applicable is None


@pytest.mark.parametrize(
    ("changes", "code", "where"),
    [
        ({"not_applicable": []}, "malformed", "not_applicable"),  # absent, never empty
        ({"not_applicable": ["feedback", "feedback"]}, "malformed", "not applicable"),
        ({"not_applicable": ["officer"], "factors": {"officer": 4}}, "malformed", "also"),
        ({"not_applicable": ["price"]}, "malformed", "not_applicable"),
        ({"not_applicable": "feedback"}, "malformed", "not_applicable"),
        ({"not_applicable": [1]}, "malformed", "not_applicable"),
        ({"not_applicable": [*(f.value for f in Factor), "access"]}, "bounds", "not_applicable"),
    ],
)
def test_bad_not_applicable_is_refused(changes: dict[str, object], code: str, where: str) -> None:
    data = json.loads(make_rating().to_bytes()) | changes
    with pytest.raises(ContractError) as refused:
        messages.decode_rating(json.dumps(data).encode())
    assert refused.value.code == code
    assert where.replace(" ", "_") in refused.value.reason.replace(" ", "_")


def test_all_five_factors_may_be_not_applicable() -> None:  # the upper bound, accepted
    rating = make_rating(not_applicable=tuple(Factor))
    assert messages.decode_rating(rating.to_bytes()).not_applicable == tuple(Factor)


@given(st.from_regex(r"[a-z0-9-]{1,32}", fullmatch=True))
def test_any_well_formed_icon_name_passes_the_wire(name: str) -> None:
    """A pictogram newer than the kiosk is carried, and drawn as its code's default."""
    reason = ReasonInfo(code="tre-hen", name="Trễ hẹn", name_en="Late", factor="result", icon=name)
    assert ReasonInfo.model_validate_json(reason.model_dump_json()) == reason
    assert icon_for("tre-hen", name) == (name if name in PICTOGRAMS else "clock")


@pytest.mark.parametrize("name", ["", "Clock", "clock face", "x" * 33, "đồng-hồ"])
def test_a_malformed_icon_name_is_refused(name: str) -> None:
    with pytest.raises(ValueError, match="icon"):
        ReasonInfo(code="tre-hen", name="Trễ hẹn", name_en="Late", factor="result", icon=name)


def test_a_config_without_icons_carries_no_icon_key(unit: Unit) -> None:
    payload = unit.to_message().to_bytes()
    assert b'"icon"' not in payload
    assert all(r.icon is None for r in messages.decode_unit_config(payload).reasons)


def test_every_shipped_reason_has_its_own_pictogram(unit: Unit) -> None:
    assert {r.code for r in unit.reasons} <= set(DEFAULT_ICONS)
    assert set(DEFAULT_ICONS.values()) <= set(PICTOGRAMS)
    assert icon_for("no-such-reason", None) == NEUTRAL
    assert icon_for("no-such-reason", "money") == "money"


def test_a_unit_file_naming_an_unknown_pictogram_is_refused(unit: Unit) -> None:
    raw = unit.model_dump(mode="json")
    raw["reasons"][0]["icon"] = "rocket"
    with pytest.raises(ValueError, match="unknown pictogram 'rocket'"):
        Unit.model_validate(raw)
