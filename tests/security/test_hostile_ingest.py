"""Issue 15, findings 1 and 2: holding one kiosk's MQTT password, nobody can stop, skew or spoil
the count. Against a real Mosquitto and the real hub, on SQLite and on PostgreSQL: out-of-range
numbers and dates, wrong types, unknown reasons, a claimed online channel, deep nesting, oversized
payloads, poisoned statuses (retained too, before the hub starts), one id with two contents and a
flood of junk. After each, a valid rating from another kiosk is stored exactly once and
acknowledged. Then the hub's batch path alone (no broker): any payload mixed into a batch of valid
ratings costs none of them (a hypothesis property), and a message the database refuses is split
out of its batch."""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import json
import queue
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import event, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from hailong.contract import topics
from hailong.contract.messages import AckMessage, AckOutcome, RatingMessage, ReceiptRef, decode_ack
from hailong.settings import HubSection, HubSettings, Unit
from hub.service import HubService
from hub.store.db import make_engine, session_factory
from hub.store.models import DeadLetterRow, RatingRow
from hub.store.ratings import LOCAL_ZONE
from tests.conftest import UNIT_CODE, Broker
from tests.hailong.contract.test_messages import make_rating

pytestmark = pytest.mark.timeout(180)

# Every machine reason a dead letter may carry (docs/protocol.md); the register adds its own.
KNOWN_CODES = {
    "oversize",
    "malformed",
    "version",
    "bounds",
    "topic",
    "topic_mismatch",
    "future",
    "stale",
    "channel",
    "unknown_reason",
    "conflict",
    "already_rated",
    "store_failed",
}
_numbers = itertools.count(1)

DEFAULT_MAX_PAST_DAYS = HubSection.model_fields["rated_at_max_past_days"].default


def honest_rating(kiosk: str = "kiosk-q2", **overrides: object) -> RatingMessage:
    """A rating any hub must keep: a code of a past day the hub issued nothing on (kept as
    unverified), made a minute ago, with its own receipt so it is never "already rated"."""
    n = next(_numbers)
    day = datetime.now(LOCAL_ZONE).date() - timedelta(days=3 + n // 9000)
    code = f"{UNIT_CODE}-{day:%y%m%d}-{n % 9000 + 1:04d}"
    fields: dict[str, Any] = {
        "kiosk": kiosk,
        "seq": n,
        "receipt": ReceiptRef(code=code, verified=False),
        "counter": None,
        "officer": None,
        "procedure": None,
        "rated_at": datetime.now(UTC) - timedelta(minutes=1),
    }
    fields.update(overrides)
    return make_rating(**fields)


def _with(rating: RatingMessage, **changes: object) -> bytes:
    data = json.loads(rating.to_bytes())
    data.update(changes)
    return json.dumps(data).encode()


class Peer:
    """A kiosk's MQTT login (client id = user, as the broker binds them): publishes on its own
    topics and collects its acks."""

    def __init__(self, broker: Broker, kiosk: str) -> None:
        settings = broker.mqtt_settings(kiosk)
        self.kiosk = kiosk
        self.acks: queue.Queue[AckOutcome] = queue.Queue()
        subscribed = threading.Event()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=kiosk)
        self.client.username_pw_set(settings.username, settings.password())
        self.client.on_message = self._on_message
        self.client.on_subscribe = lambda *_: subscribed.set()
        self.client.connect("127.0.0.1", broker.port)
        self.client.loop_start()
        self.client.subscribe(topics.acks(UNIT_CODE, kiosk), qos=1)
        assert subscribed.wait(5)

    def _on_message(self, _c: mqtt.Client, _u: object, message: mqtt.MQTTMessage) -> None:
        ack: AckMessage = decode_ack(bytes(message.payload))
        for outcome in ack.results:
            self.acks.put(outcome)

    def publish(self, payload: bytes, *, kind: str = "ratings", retain: bool = False) -> None:
        topic = f"hailong/v1/{UNIT_CODE}/{self.kiosk}/{kind}"
        self.client.publish(topic, payload, qos=1, retain=retain).wait_for_publish(10)

    def ack_for(self, rating_id: uuid.UUID, timeout: float = 20) -> AckOutcome:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with contextlib.suppress(queue.Empty):
                outcome = self.acks.get(timeout=0.2)
                if outcome.id == rating_id:
                    return outcome
        raise AssertionError(f"no ack for {rating_id} within {timeout} s")

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


@dataclass
class Site:
    broker: Broker
    settings: HubSettings
    unit: Unit
    sessions: sessionmaker[Session]

    def hub(self) -> HubService:
        service = HubService(self.settings, self.unit, self.sessions)
        service.start()
        assert service.ready.wait(15), "the hub did not subscribe"
        return service

    def stored(self, rating_id: uuid.UUID) -> int:
        with self.sessions() as session:
            query = (
                select(func.count()).select_from(RatingRow).where(RatingRow.id == str(rating_id))
            )
            return int(session.scalar(query) or 0)

    def dead_letters(self) -> list[tuple[str, str | None, str]]:
        with self.sessions() as session:
            rows = session.execute(
                select(DeadLetterRow.code, DeadLetterRow.kiosk, DeadLetterRow.sha256).order_by(
                    DeadLetterRow.id
                )
            )
            return [(r.code, r.kiosk, r.sha256) for r in rows]

    def wait_dead_letter(self, payload: bytes, timeout: float = 20) -> str:
        """The code of the dead letter holding ``payload`` (by its SHA-256), once it is kept."""
        digest = hashlib.sha256(payload).hexdigest()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            codes = [code for code, _kiosk, sha in self.dead_letters() if sha == digest]
            if codes:
                return codes[0]
            time.sleep(0.05)
        raise AssertionError("the payload was not dead-lettered")

    def honest_rating_goes_through(self, honest: Peer) -> None:
        """The promise: another kiosk's valid rating is stored exactly once and acknowledged."""
        rating = honest_rating(honest.kiosk)
        honest.publish(rating.to_bytes())
        assert honest.ack_for(rating.id).outcome == "stored"
        assert self.stored(rating.id) == 1


@pytest.fixture
def site(broker: Broker, hub_settings: HubSettings, unit: Unit, database_url: str) -> Site:
    # The shipped plausibility window (the shared fixture widens it for tests of fixed dates).
    section = {"database_url": database_url, "rated_at_max_past_days": DEFAULT_MAX_PAST_DAYS}
    settings = hub_settings.model_copy(update={"hub": hub_settings.hub.model_copy(update=section)})
    return Site(broker, settings, unit, session_factory(make_engine(database_url)))


@pytest.fixture
def peers(site: Site) -> Iterator[tuple[Peer, Peer]]:
    attacker, honest = Peer(site.broker, "kiosk-q1"), Peer(site.broker, "kiosk-q2")
    yield attacker, honest
    attacker.close()
    honest.close()


def _deep(depth: int) -> bytes:
    return b'{"v": 1, "id": ' + b"[" * depth + b"]" * depth + b"}"


POISONED_RATINGS: list[tuple[str, Callable[[RatingMessage], bytes], str]] = [
    ("seq 2**31", lambda r: _with(r, seq=2**31), "bounds"),
    ("seq 2**63", lambda r: _with(r, seq=2**63), "bounds"),
    ("seq 2**64+1", lambda r: _with(r, seq=2**64 + 1), "bounds"),
    ("rated_at year 1", lambda r: _with(r, rated_at="0001-01-01T00:00:00+07:00"), "bounds"),
    ("rated_at 9999", lambda r: _with(r, rated_at="9999-12-31T23:59:59-07:00"), "bounds"),
    ("rated_at 1990", lambda r: _with(r, rated_at="1990-06-01T09:00:00+07:00"), "bounds"),
    (
        "rated_at ten years ahead",
        lambda r: _with(r, rated_at=(datetime.now(UTC) + timedelta(days=3653)).isoformat()),
        "future",
    ),
    (
        "rated_at two years back",
        lambda r: _with(r, rated_at=(datetime.now(UTC) - timedelta(days=730)).isoformat()),
        "stale",
    ),
    ('score "5"', lambda r: _with(r, score="5"), "malformed"),
    ("score true", lambda r: _with(r, score=True), "malformed"),
    ("unknown reason", lambda r: _with(r, reasons=["thai-do", "hoi-lo"]), "unknown_reason"),
    ("channel online", lambda r: _with(r, channel="online"), "channel"),
    ("deep nesting", lambda r: _deep(8000), "malformed"),
    ("16 KiB + 1", lambda r: b" " * (16 * 1024 + 1 - len(r.to_bytes())) + r.to_bytes(), "oversize"),
    ("another kiosk's name", lambda r: _with(r, kiosk="kiosk-q3"), "topic_mismatch"),
]


def test_poisoned_ratings_cost_no_other_kiosk_its_rating(
    site: Site, peers: tuple[Peer, Peer]
) -> None:
    attacker, honest = peers
    hub = site.hub()
    try:
        for name, poison, code in POISONED_RATINGS:
            payload = poison(honest_rating("kiosk-q1"))
            attacker.publish(payload)
            assert site.wait_dead_letter(payload) == code, name
            site.honest_rating_goes_through(honest)
            assert hub.healthy, name
        # Those whose id and seq could be read were acknowledged "rejected" to the attacker.
        rejected = [attacker.acks.get(timeout=5) for _ in range(3)]
        assert {o.outcome for o in rejected} == {"rejected"}
        assert hub.counters.dead_letters_by_code["bounds"] == 6
    finally:
        hub.stop()


def test_one_id_with_two_contents_is_a_visible_conflict(
    site: Site, peers: tuple[Peer, Peer]
) -> None:
    attacker, honest = peers
    hub = site.hub()
    try:
        first = honest_rating("kiosk-q1")
        attacker.publish(first.to_bytes())
        assert attacker.ack_for(first.id).outcome == "stored"
        attacker.publish(_with(first, score=1, comment="đổi ý"))
        second = attacker.ack_for(first.id)
        assert second.outcome == "rejected"
        assert second.reason is not None
        assert second.reason.startswith("conflict:")
        attacker.publish(first.to_bytes())  # the same content again is a plain duplicate
        assert attacker.ack_for(first.id).outcome == "duplicate"
        assert [c for c, *_ in site.dead_letters()] == ["conflict"]
        assert hub.counters.conflicts == 1
        with site.sessions() as session:
            assert session.scalar(select(RatingRow.score).where(RatingRow.id == str(first.id))) == 4
        site.honest_rating_goes_through(honest)
    finally:
        hub.stop()


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"buffer_depth": 2**64}, "bounds"),  # finding 1: killed the ingest thread
        ({"at": "0001-01-01T00:00:00+07:00"}, "bounds"),  # finding 1: overflowed in UTC
        ({"oldest_pending_seq": 2**63}, "bounds"),
        ({"kiosk": "kiosk-q3"}, "topic_mismatch"),
        ({"online": "yes"}, "malformed"),
    ],
)
def test_a_poisoned_status_is_dead_lettered_and_ingest_goes_on(
    site: Site, peers: tuple[Peer, Peer], changes: dict[str, object], code: str
) -> None:
    attacker, honest = peers
    hub = site.hub()
    try:
        payload = json.dumps({"v": 1, "kiosk": "kiosk-q1", "online": True, **changes}).encode()
        attacker.publish(payload, kind="status")
        assert site.wait_dead_letter(payload) == code
        site.honest_rating_goes_through(honest)
        assert hub.worker_alive
        assert hub.counters.statuses_rejected == 1
    finally:
        hub.stop()


def test_a_poisoned_retained_status_cannot_wedge_a_start(
    site: Site, peers: tuple[Peer, Peer]
) -> None:
    """Finding 1, retained: present before the hub starts, it killed the worker at every start
    (the old hub then took ratings from the broker and never stored or acknowledged them)."""
    attacker, honest = peers
    huge = json.dumps({"v": 1, "kiosk": "kiosk-q1", "online": True, "buffer_depth": 2**64})
    attacker.publish(huge.encode(), kind="status", retain=True)
    for _start in range(2):  # and again at the next start: kept once, never fatal
        hub = site.hub()
        try:
            assert site.wait_dead_letter(huge.encode()) == "bounds"
            site.honest_rating_goes_through(honest)
            assert hub.worker_alive
        finally:
            hub.stop()
    assert [c for c, *_ in site.dead_letters()] == ["bounds"]


@pytest.mark.parametrize(
    "status",
    [
        {"v": 1, "kiosk": "kiosk-q1", "online": True, "at": "0001-01-01T00:00:00+07:00"},
        {"v": 1, "kiosk": "kiosk-q1", "online": True, "refusals": {"forged": 2**70}},
    ],
)
def test_a_poisoned_retained_status_of_another_kind_cannot_wedge_a_start_either(
    site: Site, peers: tuple[Peer, Peer], status: dict[str, object]
) -> None:
    attacker, honest = peers
    attacker.publish(json.dumps(status).encode(), kind="status", retain=True)
    hub = site.hub()
    try:
        assert site.wait_dead_letter(json.dumps(status).encode()) == "bounds"
        site.honest_rating_goes_through(honest)
    finally:
        hub.stop()


def test_a_flood_of_junk_costs_nothing_and_is_bounded(site: Site, peers: tuple[Peer, Peer]) -> None:
    """300 junk payloads past a quota of 100: the first 100 are kept (cut to the payload limit),
    the rest counted; the other kiosk's rating goes through all along."""
    attacker, honest = peers
    hub_section = site.settings.hub.model_copy(
        update={"dead_letter_quota_per_kiosk": 100, "dead_letter_payload_bytes": 256}
    )
    site.settings = site.settings.model_copy(update={"hub": hub_section})
    hub = site.hub()
    try:
        junk = [b"\x00junk %d " % n + b"j" * 15_000 for n in range(300)]
        infos = [
            attacker.client.publish(topics.ratings(UNIT_CODE, "kiosk-q1"), payload, qos=1)
            for payload in junk
        ]
        site.honest_rating_goes_through(honest)
        for info in infos:
            info.wait_for_publish(20)
        deadline = time.monotonic() + 30
        while sum(hub.counters.dead_letters_by_code.values()) < 300:
            assert time.monotonic() < deadline, hub.counters
            time.sleep(0.05)
        assert hub.counters.dead_letters_dropped["malformed"] == 200
        with site.sessions() as session:
            sizes = session.execute(select(DeadLetterRow.size, func.length(DeadLetterRow.payload)))
            kept = sizes.all()
        assert len(kept) == 100
        assert all(size > 15_000 and length == 256 for size, length in kept)
        site.honest_rating_goes_through(honest)
    finally:
        hub.stop()


# -- the batch path alone: no message can cost another ------------------------------------------


class RecordingHub(HubService):
    """The real hub, never connected: its acks are recorded instead of published."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.acked: list[AckOutcome] = []

    def _publish_acks(self, acks: dict[tuple[str, str], list[AckOutcome]]) -> None:
        for outcomes in acks.values():
            self.acked.extend(outcomes)


def _batch_hub(hub_settings: HubSettings, unit: Unit, database_url: str) -> RecordingHub:
    settings = hub_settings.model_copy(
        update={"hub": hub_settings.hub.model_copy(update={"database_url": database_url})}
    )
    return RecordingHub(settings, unit, session_factory(make_engine(database_url)))


def _kept(hub: HubService) -> dict[str, str]:
    """Dead letters by SHA-256 of their payload: their code."""
    with hub.sessions() as session:
        return dict(session.execute(select(DeadLetterRow.sha256, DeadLetterRow.code)).all())


def _stored_ids(hub: HubService) -> list[str]:
    with hub.sessions() as session:
        return list(session.scalars(select(RatingRow.id)))


def test_a_poisoned_rating_inside_a_batch_costs_the_others_nothing(
    hub_settings: HubSettings, unit: Unit, database_url: str
) -> None:
    """Finding 2: a seq past 2**63 or a year-1 rated_at among valid ratings failed the whole
    batch on SQLite (nothing stored, acknowledged or dead-lettered), and on PostgreSQL a seq past
    2**31 made the hub retry the batch for ever."""
    hub = _batch_hub(hub_settings, unit, database_url)
    good = [honest_rating(kiosk) for kiosk in ("kiosk-q1", "kiosk-q2", "kiosk-q3")]
    poisons = [
        _with(honest_rating("kiosk-q1"), seq=2**63),
        _with(honest_rating("kiosk-q2"), seq=2**31),
        _with(honest_rating("kiosk-q3"), rated_at="0001-01-01T00:00:00+07:00"),
        _with(honest_rating("kiosk-q1"), rated_at="9999-12-31T23:59:59-07:00"),
    ]
    batch = [(topics.ratings(UNIT_CODE, good[0].kiosk), good[0].to_bytes())]
    for rating, poison in zip([*good[1:], good[0], good[1]], poisons, strict=True):
        batch.append((topics.ratings(UNIT_CODE, json.loads(poison)["kiosk"]), poison))
        batch.append((topics.ratings(UNIT_CODE, rating.kiosk), rating.to_bytes()))
    assert hub.batches.ingest_until_committed(batch)
    assert sorted(_stored_ids(hub)) == sorted(str(r.id) for r in good)
    stored_acks = [a for a in hub.acked if a.outcome == "stored"]
    assert sorted(str(a.id) for a in stored_acks) == sorted(str(r.id) for r in good)
    assert set(_kept(hub).values()) == {"bounds"}
    assert len(_kept(hub)) == 4


def test_a_message_the_database_refuses_is_split_out_of_its_batch(
    hub_settings: HubSettings, unit: Unit, database_url: str
) -> None:
    """Whatever the contract lets through, a message the database refuses (an integrity or data
    error, not the database being away) is isolated: the rest commit and are acknowledged."""
    hub = _batch_hub(hub_settings, unit, database_url)
    ratings = [honest_rating(f"kiosk-q{1 + n % 3}") for n in range(8)]
    poisoned = ratings[5]
    engine = hub.sessions.kw["bind"]

    def refuse(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if statement.startswith("INSERT INTO ratings") and str(poisoned.id) in repr(parameters):
            raise IntegrityError(statement, parameters, Exception("refused for the test"))

    event.listen(engine, "before_cursor_execute", refuse)
    batch = [(topics.ratings(UNIT_CODE, r.kiosk), r.to_bytes()) for r in ratings]
    assert hub.batches.ingest_until_committed(batch)
    expected = sorted(str(r.id) for r in ratings if r is not poisoned)
    assert sorted(_stored_ids(hub)) == expected
    outcomes = {str(a.id): a.outcome for a in hub.acked}
    assert outcomes == {**dict.fromkeys(expected, "stored"), str(poisoned.id): "rejected"}
    assert list(_kept(hub).values()) == ["store_failed"]
    assert hub.counters.batches_split >= 3  # 8 -> 4 -> 2 -> 1
    assert hub.counters.dead_letters_by_code["store_failed"] == 1


# Payloads that break the contract or the hub's rules, whatever else they hold.
_BAD_VALUES = st.sampled_from(
    [
        ("seq", 2**31),
        ("seq", 2**63),
        ("seq", 2**64 + 1),
        ("seq", -1),
        ("seq", "7"),
        ("score", "5"),
        ("score", True),
        ("score", 0),
        ("rated_at", "0001-01-01T00:00:00+07:00"),
        ("rated_at", "9999-12-31T23:59:59-07:00"),
        ("rated_at", "1990-01-01T00:00:00+07:00"),
        ("rated_at", 0),
        ("channel", "online"),
        ("reasons", ["khong-co"]),
        ("v", 2),
        ("v", True),
        ("extra", 1),
        ("duration_ms", 2**40),
        ("comment", "x" * 1001),
        ("unit", "000.00.20.X99"),
    ]
)


@st.composite
def _invalid(draw: st.DrawFn) -> tuple[str, bytes]:
    kiosk = draw(st.sampled_from(["kiosk-q1", "kiosk-q2", "kiosk-q3"]))
    topic = topics.ratings(UNIT_CODE, kiosk)
    kind = draw(st.integers(0, 3))
    if kind == 0:
        return topic, b"\xff" + draw(st.binary(max_size=200))  # never UTF-8
    if kind == 1:
        tree = draw(st.recursive(st.none() | st.integers() | st.text(), st.lists, max_leaves=8))
        return topic, json.dumps(tree).encode()  # not an object
    if kind == 2:
        return topic, b"[" * draw(st.integers(200, 20_000))
    data = json.loads(honest_rating(kiosk).to_bytes())
    for key, bad in draw(st.lists(_BAD_VALUES, min_size=1, max_size=3)):
        data[key] = bad
    return topic, json.dumps(data).encode()


@pytest.mark.timeout(600)
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    valid=st.integers(1, 12),
    invalid=st.lists(_invalid(), min_size=1, max_size=12),
    order=st.randoms(use_true_random=False),
)
def test_any_payload_mixed_into_a_batch_costs_no_valid_rating(
    hub_settings: HubSettings,
    unit: Unit,
    tmp_path_factory: pytest.TempPathFactory,
    valid: int,
    invalid: list[tuple[str, bytes]],
    order: Any,
) -> None:
    """Every valid rating stored and acknowledged once; every invalid payload dead-lettered with
    a known code and a reason, and acknowledged "rejected" when its id can be read."""
    url = f"sqlite:///{tmp_path_factory.mktemp('batch') / 'hub.db'}"
    hub = _batch_hub(hub_settings, unit, url)
    good = [honest_rating(f"kiosk-q{1 + n % 3}") for n in range(valid)]
    batch = [(topics.ratings(UNIT_CODE, r.kiosk), r.to_bytes()) for r in good] + invalid
    order.shuffle(batch)
    assert hub.batches.ingest_until_committed(batch)
    assert sorted(_stored_ids(hub)) == sorted(str(r.id) for r in good)
    acked: dict[str, list[str]] = {}
    for outcome in hub.acked:
        acked.setdefault(str(outcome.id), []).append(outcome.outcome)
    for rating in good:
        assert acked[str(rating.id)] == ["stored"]
    with hub.sessions() as session:
        rows = session.execute(
            select(DeadLetterRow.sha256, DeadLetterRow.code, DeadLetterRow.reason)
        )
        letters = {sha: (code, reason) for sha, code, reason in rows}
    for _topic, payload in invalid:
        code, reason = letters[hashlib.sha256(payload).hexdigest()]
        assert code in KNOWN_CODES
        assert reason
    rejected = [o for o in hub.acked if o.outcome == "rejected"]
    assert len(rejected) <= len(invalid)
    assert all(o.reason for o in rejected)
