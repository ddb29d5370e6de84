"""The hub against a real Mosquitto: ack only after commit, idempotent, never stopped by bad input."""

from __future__ import annotations

import contextlib
import json
import logging
import queue
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import event, func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from hailong.contract import topics
from hailong.contract.messages import (
    AckMessage,
    AckOutcome,
    KioskStatusMessage,
    RatingMessage,
    ReceiptRef,
    UnitConfigMessage,
    decode_ack,
    decode_rated,
    decode_unit_config,
)
from hailong.contract.scale import Stage
from hailong.settings import HubSettings, Unit, load_unit
from hub.domain.ingest import Accepted, IngestRules, Rejected, classify
from hub.receipts.desk import IssueRequest, ReceiptDesk
from hub.service import HubService, Received, classify_fast
from hub.store.db import make_engine, session_factory
from hub.store.models import DeadLetterRow, KioskStatusHistoryRow, KioskStatusRow, RatingRow
from hub.store.ratings import save_kiosk_status
from hub.web.app import create_app
from tests.conftest import REPO, UNIT_CODE, Broker
from tests.hailong.contract.test_messages import make_rating
from tests.hub.web.conftest import WebApp, web_app  # noqa: F401 - a fixture

pytestmark = pytest.mark.timeout(60)


def on_client(settings: HubSettings, fast: bool) -> HubSettings:
    """The same hub on ``hailong.mqtt.Client`` (``fast``) or on paho's own client."""
    hub = settings.hub.model_copy(update={"mqtt_fast_path": fast})
    return settings.model_copy(update={"hub": hub})


@pytest.fixture(params=[True, False], ids=["fast-path", "stock-paho"])
def hub_settings(hub_settings: HubSettings, request: pytest.FixtureRequest) -> HubSettings:
    """Every hub test here runs on both MQTT clients (``[hub] mqtt_fast_path``)."""
    return on_client(hub_settings, request.param)


class KioskPeer:
    """A bare MQTT client logged in as kiosk-q1: publishes ratings, collects what the hub says."""

    def __init__(self, broker: Broker) -> None:
        settings = broker.mqtt_settings("kiosk-q1")
        self.acks: queue.Queue[AckMessage] = queue.Queue()
        self.configs: queue.Queue[UnitConfigMessage] = queue.Queue()
        subscribed = threading.Event()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="kiosk-q1")
        self.client.username_pw_set(settings.username, settings.password())
        self.client.on_message = self._on_message
        self.client.on_subscribe = lambda *_: subscribed.set()
        self.client.connect("127.0.0.1", broker.port)
        self.client.loop_start()
        self.client.subscribe(
            [(topics.acks(UNIT_CODE, "kiosk-q1"), 1), (topics.unit_config(UNIT_CODE), 1)]
        )
        assert subscribed.wait(5)

    def _on_message(self, _c: mqtt.Client, _u: object, message: mqtt.MQTTMessage) -> None:
        if message.topic.endswith("/acks"):
            self.acks.put(decode_ack(message.payload))
        else:
            self.configs.put(decode_unit_config(message.payload))

    def publish(self, payload: bytes) -> None:
        info = self.client.publish(topics.ratings(UNIT_CODE, "kiosk-q1"), payload, qos=1)
        info.wait_for_publish(5)

    def next_ack(self, timeout: float = 10) -> AckMessage:
        return self.acks.get(timeout=timeout)

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


@pytest.fixture
def hub(
    hub_settings: HubSettings, unit: Unit, hub_sessions: sessionmaker[Session]
) -> Iterator[HubService]:
    with HubService(hub_settings, unit, hub_sessions) as service:
        assert service.ready.wait(10), "the hub did not subscribe"
        yield service


@pytest.fixture
def kiosk(broker: Broker, hub: HubService) -> Iterator[KioskPeer]:
    peer = KioskPeer(broker)
    yield peer
    peer.close()


def _ratings(hub_sessions: sessionmaker[Session]) -> int:
    with hub_sessions() as session:
        return int(session.scalar(select(func.count()).select_from(RatingRow)) or 0)


def _dead_letters(hub_sessions: sessionmaker[Session]) -> list[str]:
    with hub_sessions() as session:
        return list(session.scalars(select(DeadLetterRow.reason)))


def test_rating_is_stored_then_acknowledged_once(
    kiosk: KioskPeer, hub_sessions: sessionmaker[Session]
) -> None:
    rating = make_rating()
    kiosk.publish(rating.to_bytes())
    ack = kiosk.next_ack()
    assert [(r.id, r.outcome) for r in ack.results] == [(rating.id, "stored")]
    assert _ratings(hub_sessions) == 1
    kiosk.publish(rating.to_bytes())
    again = kiosk.next_ack()
    assert [(r.id, r.outcome) for r in again.results] == [(rating.id, "duplicate")]
    assert _ratings(hub_sessions) == 1


def test_retained_unit_config_reaches_the_kiosk(kiosk: KioskPeer, unit: Unit) -> None:
    config = kiosk.configs.get(timeout=10)
    assert config == unit.to_message()


def test_bad_payloads_are_dead_lettered_and_ingest_goes_on(
    kiosk: KioskPeer, hub_sessions: sessionmaker[Session], hub: HubService
) -> None:
    kiosk.publish(b"not json at all")
    kiosk.publish(b"{" + b" " * 40_000 + b"}")
    wrong_version = json.loads(make_rating().to_bytes())
    wrong_version["v"] = 2
    kiosk.publish(json.dumps(wrong_version).encode())
    rejected = kiosk.next_ack()
    assert [r.outcome for r in rejected.results] == ["rejected"]
    assert rejected.results[0].reason == "unsupported contract version 2"
    good = make_rating()
    kiosk.publish(good.to_bytes())
    deadline = time.monotonic() + 10
    while _ratings(hub_sessions) < 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _ratings(hub_sessions) == 1
    reasons = _dead_letters(hub_sessions)
    assert len(reasons) == 3
    assert any("not UTF-8 JSON" in r for r in reasons)
    assert any("exceeds" in r for r in reasons)
    assert hub.counters.dead_letters == 3


def test_no_ack_before_commit_and_delivery_after_the_database_returns(
    kiosk: KioskPeer, hub_sessions: sessionmaker[Session], hub: HubService
) -> None:
    """The database refuses commits for a while: nothing is acknowledged; then it is stored once."""
    failing = threading.Event()
    failing.set()

    def refuse_commit(_session: Session) -> None:
        if failing.is_set():
            raise OperationalError("COMMIT", {}, Exception("database is unavailable"))

    event.listen(hub_sessions, "before_commit", refuse_commit)
    rating: RatingMessage = make_rating()
    kiosk.publish(rating.to_bytes())
    deadline = time.monotonic() + 10
    while hub.counters.commit_failures < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert hub.counters.commit_failures >= 2
    assert kiosk.acks.empty()
    assert _ratings(hub_sessions) == 0
    failing.clear()
    ack = kiosk.next_ack()
    assert [(r.id, r.outcome) for r in ack.results] == [(rating.id, "stored")]
    assert _ratings(hub_sessions) == 1


def test_what_the_hub_did_not_commit_comes_again_from_the_broker(
    broker: Broker, hub_settings: HubSettings, unit: Unit, hub_sessions: sessionmaker[Session]
) -> None:
    """The broker's PUBACK waits for the commit too: a hub stopped while its database refused
    every commit leaves the ratings at the broker, and the next hub (the same persistent
    session) stores them although the kiosk sent each once."""
    failing = threading.Event()
    failing.set()

    def refuse_commit(_session: Session) -> None:
        if failing.is_set():
            raise OperationalError("COMMIT", {}, Exception("database is unavailable"))

    event.listen(hub_sessions, "before_commit", refuse_commit)
    peer = KioskPeer(broker)
    try:
        first = HubService(hub_settings, unit, hub_sessions)
        first.start()
        assert first.ready.wait(10)
        ratings = _rating_burst(20)
        _publish_all(peer, ratings)
        deadline = time.monotonic() + 10
        while first.counters.received < 20:
            assert time.monotonic() < deadline, f"{first.counters.received} of 20 received"
            time.sleep(0.05)
        first.stop(timeout=0.5)  # the drain times out: nothing committed, nothing acknowledged
        assert peer.acks.empty()
        failing.clear()
        with HubService(hub_settings, unit, hub_sessions) as second:
            outcomes = _collect_acks(peer, 20)
            assert second.counters.received == 20
        assert sorted(o.seq for o in outcomes) == list(range(1, 21))
        assert {o.outcome for o in outcomes} == {"stored"}
        assert _ratings(hub_sessions) == 20
    finally:
        peer.close()


def _rating_burst(count: int) -> list[RatingMessage]:
    """Distinct receipts, so every rating is stored (one rating per receipt and stage)."""
    return [
        make_rating(seq=n, receipt={"code": f"{UNIT_CODE}-261125-{n:04d}", "verified": True})
        for n in range(1, count + 1)
    ]


def _publish_all(kiosk: KioskPeer, ratings: list[RatingMessage]) -> None:
    infos = [
        kiosk.client.publish(topics.ratings(UNIT_CODE, "kiosk-q1"), r.to_bytes(), qos=1)
        for r in ratings
    ]
    for info in infos:
        info.wait_for_publish(20)


def _collect_acks(kiosk: KioskPeer, expected: int, timeout: float = 30) -> list[AckOutcome]:
    outcomes: list[AckOutcome] = []
    deadline = time.monotonic() + timeout
    while len(outcomes) < expected and time.monotonic() < deadline:
        with contextlib.suppress(queue.Empty):
            outcomes.extend(kiosk.next_ack(timeout=0.5).results)
    return outcomes


@pytest.mark.timeout(120)
def test_a_burst_of_a_thousand_is_acknowledged_in_contract_sized_messages(
    kiosk: KioskPeer, hub_sessions: sessionmaker[Session], hub: HubService
) -> None:
    """One batch may hold a thousand ratings of one kiosk: the acks are split, every one decodes
    (KioskPeer decodes with the kiosk's own decoder, which refuses anything over 16 KiB)."""
    ratings = _rating_burst(1000)
    _publish_all(kiosk, ratings)
    outcomes = _collect_acks(kiosk, len(ratings))
    assert sorted(o.seq for o in outcomes) == list(range(1, 1001))
    assert {o.outcome for o in outcomes} == {"stored"}
    assert _ratings(hub_sessions) == 1000
    assert hub.counters.stored == 1000


@pytest.mark.timeout(120)
def test_three_shared_workers_store_and_acknowledge_each_rating_once(
    broker: Broker, hub_settings: HubSettings, unit: Unit, database_url: str
) -> None:
    """``$share/hub/...``: the broker hands each rating to one of three workers on one database;
    each is stored once and acknowledged once, and a resent copy is reported a duplicate."""
    settings = hub_settings.model_copy(
        update={
            "hub": hub_settings.hub.model_copy(
                update={"workers_group": "hub", "database_url": database_url}
            )
        }
    )
    sessions = session_factory(make_engine(database_url))
    workers = [HubService(settings, unit, sessions, max_batch=50) for _ in range(3)]
    for worker in workers:
        worker.start()
    peer: KioskPeer | None = None
    try:
        assert all(w.ready.wait(10) for w in workers)
        peer = KioskPeer(broker)
        ratings = _rating_burst(600)
        _publish_all(peer, ratings)
        outcomes = _collect_acks(peer, len(ratings))
        assert sorted(o.seq for o in outcomes) == list(range(1, 601))
        assert {o.outcome for o in outcomes} == {"stored"}
        assert sum(w.counters.stored for w in workers) == 600
        assert all(w.counters.received > 0 for w in workers), "the broker shared the work"
        assert _ratings(sessions) == 600
        _publish_all(peer, ratings[:10])  # a kiosk resending what it has no ack for
        again = _collect_acks(peer, 10)
        assert sorted(o.seq for o in again) == list(range(1, 11))
        assert {o.outcome for o in again} == {"duplicate"}
        assert _ratings(sessions) == 600
        assert peer.acks.empty()
    finally:
        if peer is not None:
            peer.close()
        for worker in workers:
            worker.stop()


def _listener(broker: Broker, topic: str) -> tuple[mqtt.Client, queue.Queue[bytes]]:
    """A kiosk-q3 client (its own user and client id, as the broker binds them) that collects
    every payload on ``topic``."""
    settings = broker.mqtt_settings("kiosk-q3")
    got: queue.Queue[bytes] = queue.Queue()
    subscribed = threading.Event()
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="kiosk-q3")
    client.username_pw_set(settings.username, settings.password())
    client.on_message = lambda _c, _u, message: got.put(bytes(message.payload))
    client.on_subscribe = lambda *_: subscribed.set()
    client.connect("127.0.0.1", broker.port)
    client.loop_start()
    client.subscribe(topic, qos=1)
    assert subscribed.wait(5)
    return client, got


def test_an_edited_unit_file_reaches_the_kiosks_without_a_restart(
    broker: Broker, hub_settings: HubSettings, hub_sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    unit_file = tmp_path / "unit.toml"
    unit_file.write_text((REPO / "config" / "unit.toml").read_text(encoding="utf-8"))
    settings = hub_settings.model_copy(
        update={"hub": hub_settings.hub.model_copy(update={"unit_file": unit_file})}
    )
    client, configs = _listener(broker, topics.unit_config(UNIT_CODE))
    with HubService(settings, load_unit(unit_file), hub_sessions) as hub:
        try:
            assert hub.ready.wait(10)
            first = decode_unit_config(configs.get(timeout=10))
            text = unit_file.read_text(encoding="utf-8")
            unit_file.write_text(text.replace(first.name, "Trung tâm Phục vụ hành chính công mới"))
            renamed = decode_unit_config(configs.get(timeout=10))
            assert renamed.name == "Trung tâm Phục vụ hành chính công mới"
            unit_file.write_text("[unit]\ncode = 'broken", encoding="utf-8")  # not valid TOML
            with pytest.raises(queue.Empty):
                configs.get(timeout=2.5)
            assert hub.unit.unit.name == "Trung tâm Phục vụ hành chính công mới"
        finally:
            client.loop_stop()
            client.disconnect()


def test_a_receipt_rated_online_is_announced_to_the_kiosks(broker: Broker, hub: HubService) -> None:
    client, rated = _listener(broker, topics.rated(UNIT_CODE))
    try:
        hub.announce_rated(f"{UNIT_CODE}-261125-0042", Stage.RECEPTION)
        message = decode_rated(rated.get(timeout=10))
        assert [(r.code, r.stage) for r in message.receipts] == [
            (f"{UNIT_CODE}-261125-0042", Stage.RECEPTION)
        ]
    finally:
        client.loop_stop()
        client.disconnect()


def _issue(settings: HubSettings, unit: Unit, sessions: sessionmaker[Session], at: datetime) -> str:
    """A receipt issued at counter Q1 by CB001 at ``at``, as the staff page does."""
    desk = ReceiptDesk(settings, unit, sessions, clock=lambda: at)
    request = IssueRequest(counter="Q1", officer="CB001", procedure="1.001193")
    return str(desk.issue(request, print_slip=False).receipt.code)


def test_fresh_ratings_are_announced_but_not_an_outage_backlog(
    broker: Broker,
    hub: HubService,
    hub_settings: HubSettings,
    unit: Unit,
    hub_sessions: sessionmaker[Session],
) -> None:
    client, rated = _listener(broker, topics.rated(UNIT_CODE))
    peer = KioskPeer(broker)
    try:
        now = datetime.now(UTC)
        old_code = _issue(hub_settings, unit, hub_sessions, now - timedelta(hours=4))
        new_code = _issue(hub_settings, unit, hub_sessions, now)
        backlog = make_rating(
            seq=1,
            receipt=ReceiptRef(code=old_code, verified=True),
            rated_at=now - timedelta(hours=3),
        )
        fresh = make_rating(seq=2, receipt=ReceiptRef(code=new_code, verified=True), rated_at=now)
        for rating in (backlog, fresh):
            peer.publish(rating.to_bytes())
        outcomes: list[str] = []
        while len(outcomes) < 2:
            outcomes += [r.outcome for r in peer.next_ack().results]
        assert outcomes == ["stored", "stored"]
        message = decode_rated(rated.get(timeout=10))
        assert [r.code for r in message.receipts] == [new_code]
        with pytest.raises(queue.Empty):
            rated.get(timeout=2.5)  # the backlog's receipt is never announced
    finally:
        peer.close()
        client.loop_stop()
        client.disconnect()


def test_the_hub_prunes_status_history_past_its_retention(
    hub_settings: HubSettings, unit: Unit, hub_sessions: sessionmaker[Session]
) -> None:
    now = datetime.now(UTC)
    keep = hub_settings.hub.status_history_days
    with hub_sessions.begin() as session:
        for days_ago in (keep + 5, keep - 5):
            status = KioskStatusMessage(kiosk="kiosk-q1", online=True, buffer_depth=days_ago)
            save_kiosk_status(session, UNIT_CODE, status, now - timedelta(days=days_ago))

    def depths() -> list[int | None]:
        with hub_sessions() as session:
            return sorted(session.scalars(select(KioskStatusHistoryRow.buffer_depth)))

    with HubService(hub_settings, unit, hub_sessions) as service:
        assert service.ready.wait(10)
        deadline = time.monotonic() + 10
        while depths() != [keep - 5] and time.monotonic() < deadline:
            time.sleep(0.05)
    assert depths() == [keep - 5]


def test_hubs_of_two_units_on_one_broker_take_only_their_own_ratings(
    broker: Broker, hub_settings: HubSettings, unit: Unit, hub_sessions: sessionmaker[Session]
) -> None:
    """``ratings_from = "own_unit"``: a province runs a hub per unit on one broker and database;
    each keeps its own persistent session (its own client id) and stores only its unit's ratings."""
    settings = hub_settings.model_copy(
        update={"hub": hub_settings.hub.model_copy(update={"ratings_from": "own_unit"})}
    )
    other_unit = unit.model_copy(
        update={"unit": unit.unit.model_copy(update={"code": "000.00.20.X99"})}
    )
    ours, theirs = (
        HubService(settings, unit, hub_sessions),
        HubService(settings, other_unit, hub_sessions),
    )
    assert ours.client_id != theirs.client_id
    with ours, theirs:
        assert ours.ready.wait(10)
        assert theirs.ready.wait(10)
        assert ours.ratings_filter == f"hailong/v1/{UNIT_CODE}/+/ratings"
        peer = KioskPeer(broker)
        try:
            ratings = _rating_burst(50)
            _publish_all(peer, ratings)
            outcomes = _collect_acks(peer, len(ratings))
            assert sorted(o.seq for o in outcomes) == list(range(1, 51))
            assert {o.outcome for o in outcomes} == {"stored"}
            assert (ours.counters.received, theirs.counters.received) == (50, 0)
            assert ours.ready.is_set(), "neither hub took the other's session"
            assert theirs.ready.is_set()
            assert _ratings(hub_sessions) == 50
        finally:
            peer.close()


def test_already_rated_goes_out_only_for_receipts_the_register_knows(
    broker: Broker,
    hub: HubService,
    hub_settings: HubSettings,
    unit: Unit,
    hub_sessions: sessionmaker[Session],
) -> None:
    """Issue 15, finding 4: the old hub announced any code a kiosk sent, so a stolen kiosk could
    make every kiosk refuse a real slip; and it stored the kiosk's counter and officer as sent."""
    client, rated = _listener(broker, topics.rated(UNIT_CODE))
    peer = KioskPeer(broker)
    try:
        now = datetime.now(UTC)
        real = _issue(hub_settings, unit, hub_sessions, now)  # Q1 / CB001 / 1.001193
        sequence = int(real.rsplit("-", 1)[1])
        ahead = f"{real.rsplit('-', 1)[0]}-{sequence + 1:04d}"  # the next slip to be printed
        unknown = f"{UNIT_CODE}-{(now - timedelta(days=30)):%y%m%d}-0001"  # typed, never issued
        ratings = [
            make_rating(
                seq=1,
                receipt=ReceiptRef(code=real, verified=True),
                counter="Q3",
                officer="CB004",
                rated_at=now,
            ),
            make_rating(seq=2, receipt=ReceiptRef(code=ahead, verified=True), rated_at=now),
            make_rating(seq=3, receipt=ReceiptRef(code=unknown, verified=True), rated_at=now),
        ]
        for rating in ratings:
            peer.publish(rating.to_bytes())
        outcomes: dict[int, AckOutcome] = {}
        while len(outcomes) < 3:
            outcomes |= {r.seq: r for r in peer.next_ack().results}
        assert [outcomes[n].outcome for n in (1, 2, 3)] == ["stored", "rejected", "stored"]
        assert "sequence" in (outcomes[2].reason or "")
        message = decode_rated(rated.get(timeout=10))
        assert [r.code for r in message.receipts] == [real]
        with pytest.raises(queue.Empty):
            rated.get(timeout=2.5)  # neither the refused code nor the unknown one
        with hub_sessions() as session:
            stored = session.get(RatingRow, str(ratings[0].id))
            typed = session.get(RatingRow, str(ratings[2].id))
            assert stored is not None
            assert typed is not None
            assert (stored.counter, stored.officer, stored.claim_mismatch) == (
                "Q1",
                "CB001",
                "counter,officer",
            )
            assert (typed.receipt_known, typed.counted, typed.claim_mismatch) == (
                False,
                False,
                "verified",
            )
        verdicts = hub.counters.register_verdicts
        assert (verdicts["receipt_not_issued_yet"], verdicts["unverified"]) == (1, 1)
    finally:
        peer.close()
        client.loop_stop()
        client.disconnect()


# -- issue 15: the fast path, supervision, link changes ---------------------------------------------


@st.composite
def _mutated_ratings(draw: st.DrawFn) -> bytes:
    data = json.loads(make_rating(rated_at=datetime.now(UTC)).to_bytes())
    for _ in range(draw(st.integers(0, 3))):
        key = draw(st.sampled_from([*data.keys(), "extra"]))
        data[key] = draw(
            st.none()
            | st.booleans()
            | st.integers(min_value=-(2**70), max_value=2**70)
            | st.floats(allow_nan=False)
            | st.text(max_size=30)
            | st.sampled_from(
                [
                    "5",
                    "online",
                    "0001-01-01T00:00:00+07:00",
                    "9999-12-31T23:59:59-07:00",
                    "2036-01-01T00:00:00+07:00",
                    ["thai-do", "bribe"],
                    {"officer": True},
                    "kiosk-q2",
                ]
            )
        )
    text = json.dumps(data)
    if draw(st.booleans()):  # a duplicated key: both parsers must read the same one
        text = text[:-1] + ', "score": ' + json.dumps(draw(st.integers(0, 6) | st.text())) + "}"
    return text.encode()


@given(payload=_mutated_ratings() | st.binary(max_size=64))
def test_the_fast_path_accepts_and_refuses_exactly_like_classify(
    unit: Unit, payload: bytes
) -> None:
    """classify_fast parses valid ratings its own way; its verdicts must equal classify's
    (accepted: the same rating; refused: the same code and reason), rules included."""
    rules = IngestRules(unit, datetime.now(UTC))
    topic = topics.ratings(UNIT_CODE, "kiosk-q1")
    fast, slow = classify_fast(topic, payload, rules), classify(topic, payload, rules)
    assert type(fast) is type(slow)
    if isinstance(fast, Accepted):
        assert isinstance(slow, Accepted)
        assert fast.rating == slow.rating
    else:
        assert isinstance(fast, Rejected)
        assert isinstance(slow, Rejected)
        assert (fast.code, fast.reason, fast.identity) == (slow.code, slow.reason, slow.identity)


def _health(client: TestClient) -> int:
    return int(client.get("/healthz").status_code)


def _metric(client: TestClient, token: str, name: str) -> float:
    text = client.get("/metrics", headers={"Authorization": f"Bearer {token}"}).text
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name:
                return float(sample.value)
    raise AssertionError(f"{name} not in /metrics")


@pytest.mark.timeout(90)
def test_a_dead_worker_makes_healthz_503_shows_in_metrics_and_is_restarted(
    broker: Broker,
    hub_settings: HubSettings,
    unit: Unit,
    hub_sessions: sessionmaker[Session],
    web_app: WebApp,  # noqa: F811 - the fixture imported above
) -> None:
    """Issue 15: the old worker died silently and /healthz still said ok."""
    settings = hub_settings.model_copy(update={"web": web_app.settings.web})
    with HubService(settings, unit, hub_sessions) as hub:
        assert hub.ready.wait(10)
        app = create_app(settings, unit, hub_sessions, ingest=hub)
        with TestClient(app) as client:
            assert _health(client) == 200
            assert _metric(client, web_app.token, "hailong_ingest_worker_up") == 1

            def die() -> list[Received]:
                raise RuntimeError("the worker dies (test)")

            hub._next_batch = die  # type: ignore[method-assign]
            deadline = time.monotonic() + 20
            seen_503 = False
            while time.monotonic() < deadline and not (seen_503 and hub.counters.worker_restarts):
                if _health(client) == 503:
                    seen_503 = True
                    assert client.get("/healthz").json()["ingest_worker"] in ("dead", "alive")
                time.sleep(0.02)
            assert seen_503
            assert hub.counters.worker_restarts >= 1
            assert _metric(client, web_app.token, "hailong_ingest_worker_restarts_total") >= 1
            del hub._next_batch  # the cause goes away: the next restart stays up
            deadline = time.monotonic() + 40
            while not (hub.worker_alive and _health(client) == 200):
                assert time.monotonic() < deadline
                time.sleep(0.05)
            peer = KioskPeer(broker)
            try:
                rating = make_rating(rated_at=datetime.now(UTC))
                peer.publish(rating.to_bytes())
                assert [r.outcome for r in peer.next_ack(timeout=20).results] == ["stored"]
            finally:
                peer.close()
            assert _metric(client, web_app.token, "hailong_ingest_worker_up") == 1


@pytest.mark.timeout(60)
def test_a_dead_network_thread_is_restarted(hub: HubService, kiosk: KioskPeer) -> None:
    hub.link.client.loop_stop()  # paho's thread ends as it would on an exception in a callback
    assert not hub.network_alive
    deadline = time.monotonic() + 10
    while not hub.network_alive:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert hub.counters.network_restarts == 1
    rating = make_rating(rated_at=datetime.now(UTC))
    kiosk.publish(rating.to_bytes())
    assert [r.outcome for r in kiosk.next_ack(timeout=20).results] == ["stored"]


@pytest.mark.timeout(60)
def test_losing_and_regaining_the_broker_is_logged(
    broker: Broker, hub: HubService, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="hub.service")
    broker.restart()
    deadline = time.monotonic() + 30
    while "back on the broker" not in caplog.text:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert "lost the broker" in caplog.text
    assert hub.counters.broker_disconnects == 1
    assert hub.ready.wait(10)


def test_a_bad_status_never_raises_out_of_the_worker(
    hub_settings: HubSettings, unit: Unit, hub_sessions: sessionmaker[Session]
) -> None:
    """Finding 1 without a broker: the old status saving raised OverflowError into the worker."""
    service = HubService(hub_settings, unit, hub_sessions)
    status_topic = topics.status(UNIT_CODE, "kiosk-q1")
    for payload in (
        b'{"v": 1, "kiosk": "kiosk-q1", "online": true, "buffer_depth": 18446744073709551617}',
        b'{"v": 1, "kiosk": "kiosk-q1", "online": true, "at": "0001-01-01T00:00:00+07:00"}',
        b"not json",
        b'{"v": 1, "kiosk": "kiosk-q1", "online": true, "buffer_depth": 3}',
    ):
        service.link.take(status_topic, payload)
        service.statuses.save()
    assert service.counters.statuses_rejected == 3
    with hub_sessions() as session:
        codes = sorted(session.scalars(select(DeadLetterRow.code)))
        depth = session.scalar(select(KioskStatusRow.buffer_depth))
    assert codes == ["bounds", "bounds", "malformed"]
    assert depth == 3
