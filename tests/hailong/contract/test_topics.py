from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hailong.contract import topics


def test_topics_are_versioned_and_scoped() -> None:
    assert (
        topics.ratings("000.00.20.H41", "kiosk-q1") == "hailong/v1/000.00.20.H41/kiosk-q1/ratings"
    )
    assert topics.acks("U1", "k") == "hailong/v1/U1/k/acks"
    assert topics.status("U1", "k") == "hailong/v1/U1/k/status"
    assert topics.unit_config("U1") == "hailong/v1/U1/config"


@pytest.mark.parametrize("bad", ["", "a/b", "+", "#", "a b", "x" * 41, "ký"])
def test_segments_with_wildcards_or_separators_are_refused(bad: str) -> None:
    with pytest.raises(topics.TopicError):
        topics.ratings(bad, "kiosk-q1")


def test_parse_kiosk_topic() -> None:
    parsed = topics.parse_kiosk_topic("hailong/v1/000.00.20.H41/kiosk-q1/ratings")
    assert (parsed.unit, parsed.kiosk, parsed.kind) == ("000.00.20.H41", "kiosk-q1", "ratings")


@pytest.mark.parametrize(
    "bad",
    [
        "hailong/v2/U/k/ratings",
        "hailong/v1/U/k/other",
        "hailong/v1/U/ratings",
        "hailong/v1/U/k/ratings/x",
    ],
)
def test_parse_refuses_foreign_topics(bad: str) -> None:
    with pytest.raises(topics.TopicError):
        topics.parse_kiosk_topic(bad)


@given(st.text(max_size=80))
def test_parse_never_raises_anything_but_topic_error(text: str) -> None:
    with contextlib.suppress(topics.TopicError):
        topics.parse_kiosk_topic(text)
