"""Reading Mosquitto's log: refusals picked out of the debug chatter, the rest passed on or dropped,
and a flood of refusals logged a few at a time with the remainder counted."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hailong.broker_log import BrokerLog, Held, Notice, Refusal, RefusalLimiter

TOPIC = "hailong/v1/000.00.20.H41/kiosk-q2/acks"
READS = {"kiosk-q1": frozenset({"hailong/v1/000.00.20.H41/kiosk-q1/acks"})}

# Lines as Mosquitto 2.0.11 writes them with log_timestamp false (copied from a real run).
DENIED = b"Denied PUBLISH from kiosk-q1 (d0, q1, r0, m1, '" + TOPIC.encode() + b"', ... (6 bytes))"


def test_a_denied_publish_names_the_client_the_topic_and_the_size() -> None:
    event = BrokerLog().feed(DENIED)
    assert event == Refusal("denied publish", "kiosk-q1", TOPIC, "6 bytes")
    assert isinstance(event, Refusal)
    assert "kiosk-q1" in event.message()
    assert TOPIC in event.message()


def test_a_denied_publish_whose_line_mosquitto_cut_is_still_a_refusal() -> None:
    topic = "hailong/v1/" + "y" * 2000
    line = f"Denied PUBLISH from kiosk-q1 (d0, q1, r0, m3, '{topic}', ... (9 bytes))".encode()
    event = BrokerLog().feed(line[:999])  # what Mosquitto's 1000-byte line buffer keeps
    assert isinstance(event, Refusal)
    assert (event.kind, event.client) == ("denied publish", "kiosk-q1")
    assert event.topic.startswith("hailong/v1/yyy")
    assert event.topic.endswith("…")


@pytest.mark.parametrize(
    "line",
    [
        b"Received PUBLISH from kiosk-q1 (d0, q1, r0, m7, 'hailong/v1/x/kiosk-q1/ratings', ...)",
        b"Sending PUBACK to kiosk-q1 (m7, rc0)",
        b"Received PINGREQ from hailong-hub",
        b"Sending CONNACK to kiosk-q1 (0, 0)",
        b"No will message specified.",
        b"Saving in-memory database to /var/lib/hailong/broker/data/mosquitto.db.",
        b"",
    ],
)
def test_chatter_is_dropped(line: bytes) -> None:
    assert BrokerLog(READS).feed(line) is None


def test_notices_pass_through_as_text() -> None:
    line = b"New client connected from 127.0.0.1:36982 as kiosk-q1 (p2, c1, k60, u'kiosk-q1')."
    assert BrokerLog().feed(line) == Notice(line.decode())
    assert BrokerLog().feed("Lỗi ".encode() + b"\xff") == Notice("Lỗi \ufffd")


@pytest.mark.parametrize(("code", "words"), [(5, "client id"), (4, "password"), (135, "id")])
def test_a_refused_login_names_the_address_and_the_reason(code: int, words: str) -> None:
    event = BrokerLog().feed(f"Sending CONNACK to 127.0.0.1 (0, {code})".encode())
    assert isinstance(event, Refusal)
    assert (event.kind, event.client) == ("refused login", "127.0.0.1")
    assert f"CONNACK {code}" in event.detail
    assert words in event.detail


def test_a_kiosk_subscribing_outside_its_acl_is_reported_its_own_topics_are_not() -> None:
    reader = BrokerLog(READS)
    lines = [
        b"Received SUBSCRIBE from kiosk-q1",
        b"\thailong/v1/000.00.20.H41/kiosk-q1/acks (QoS 1)",
        b"\t# (QoS 1)",
        b"Sending SUBACK to kiosk-q1",
        b"Received SUBSCRIBE from hailong-hub",  # the hub's user is not judged here
        b"\thailong/v1/+/+/ratings (QoS 1)",
    ]
    events = [reader.feed(line) for line in lines]
    assert events == [None, None, Refusal("subscription outside its ACL", "kiosk-q1", "#"), None,
                      None, None]  # fmt: skip


def test_a_filter_line_after_anything_else_is_not_taken_for_a_subscription() -> None:
    reader = BrokerLog(READS)
    assert reader.feed(b"Received SUBSCRIBE from kiosk-q1") is None
    assert reader.feed(b"Sending SUBACK to kiosk-q1") is None
    assert reader.feed(b"\t# (QoS 1)") is None


_ids = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=60).filter(
    lambda s: " (d" not in s
)
_topics = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=200)


@given(client=_ids, topic=_topics, size=st.integers(0, 2**31), qos=st.integers(0, 2))
def test_any_denied_publish_line_parses_back(client: str, topic: str, size: int, qos: int) -> None:
    line = f"Denied PUBLISH from {client} (d0, q{qos}, r1, m65535, '{topic}', ... ({size} bytes))"
    event = BrokerLog().feed(line.encode())
    assert event == Refusal("denied publish", client, topic, f"{size} bytes")


@given(st.binary(max_size=300))
def test_no_line_breaks_the_reader(raw: bytes) -> None:
    event = BrokerLog(READS).feed(raw)
    assert event is None or isinstance(event, Refusal | Notice)


def _refusal(client: str = "kiosk-q1") -> Refusal:
    return Refusal("denied publish", client, TOPIC, "6 bytes")


def test_the_limiter_logs_a_burst_then_counts_the_rest_until_the_window_ends() -> None:
    limiter = RefusalLimiter(burst=3, window=60.0)
    admitted = [limiter.admit(_refusal(), now=float(i)) for i in range(10)]
    assert admitted == [True] * 3 + [False] * 7
    assert limiter.admit(_refusal("kiosk-q2"), now=10.0)  # another client has its own burst
    assert limiter.expire(now=59.9) == []
    assert limiter.expire(now=60.0) == [Held("denied publish", "kiosk-q1", 7, 60.0)]
    assert limiter.admit(_refusal(), now=61.0)  # a new window
    assert "7 more refusals" in Held("denied publish", "kiosk-q1", 7, 60.0).message()


def test_the_limiter_flushes_everything_on_request_and_bounds_its_keys() -> None:
    limiter = RefusalLimiter(burst=1, window=60.0, max_keys=2)
    for client in ("a", "b", "c", "d"):
        limiter.admit(_refusal(client), now=0.0)
        limiter.admit(_refusal(client), now=0.0)
    held = limiter.expire(now=1.0, everything=True)
    # a and b tracked apart; c and d share the overflow key "*" (one shown, three held).
    assert sorted((h.client, h.count) for h in held) == [("*", 3), ("a", 1), ("b", 1)]
    assert limiter.expire(now=2.0, everything=True) == []
