"""Issue 15, finding 4, tried as a hostile user would: holding one kiosk's MQTT password (kiosk-q1),
against a real Mosquitto and the real hub, on SQLite and on PostgreSQL.

The hub must believe its receipt register, not the kiosk: a receipt of another counter is counted
against the register's officer (the claim flagged), codes not issued yet, other units' codes,
garbage and walk-ins the unit forbids are refused, a made-up "verified" code stays out of the
headline figures, and "already rated" reaches the kiosks only for receipts the hub accepted.
After each attack an honest kiosk (kiosk-q2) rates a real receipt: stored once, acknowledged once.
"""

from __future__ import annotations

import queue
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from hailong.contract import topics
from hailong.contract.messages import (
    AckOutcome,
    RatingMessage,
    ReceiptRef,
    decode_ack,
    decode_rated,
)
from hailong.contract.scale import Score
from hailong.settings import HubSettings, Unit
from hub.receipts.desk import IssueRequest, ReceiptDesk
from hub.report import Scope, uncounted_totals, unit_totals
from hub.service import HubService
from hub.store.db import make_engine, session_factory
from hub.store.models import DeadLetterRow, RatingRow
from hub.store.ratings import LOCAL_ZONE
from tests.conftest import UNIT_CODE, Broker

pytestmark = pytest.mark.timeout(90)
Q2_RECEIPT = IssueRequest(counter="Q2", officer="CB003", procedure="2.000815")


class Peer:
    """A kiosk's own login (user and client id), publishing ratings and collecting its acks and
    the unit's "rated" notices."""

    def __init__(self, broker: Broker, kiosk: str) -> None:
        self.kiosk = kiosk
        self.seq = 0
        settings = broker.mqtt_settings(kiosk)
        self.acks: queue.Queue[AckOutcome] = queue.Queue()
        self.rated: queue.Queue[str] = queue.Queue()
        subscribed = threading.Event()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=kiosk)
        self.client.username_pw_set(settings.username, settings.password())
        self.client.on_message = self._on_message
        self.client.on_subscribe = lambda *_: subscribed.set()
        self.client.connect("127.0.0.1", broker.port)
        self.client.loop_start()
        self.client.subscribe([(topics.acks(UNIT_CODE, kiosk), 1), (topics.rated(UNIT_CODE), 1)])
        assert subscribed.wait(5), f"{kiosk} could not subscribe"

    def _on_message(self, _c: mqtt.Client, _u: object, message: mqtt.MQTTMessage) -> None:
        if message.topic.endswith("/acks"):
            for outcome in decode_ack(bytes(message.payload)).results:
                self.acks.put(outcome)
        else:
            for receipt in decode_rated(bytes(message.payload)).receipts:
                self.rated.put(receipt.code)

    def rating(self, code: str | None, *, verified: bool = True, **fields: object) -> RatingMessage:
        self.seq += 1
        values: dict[str, object] = {
            "id": uuid.uuid4(),
            "unit": UNIT_CODE,
            "kiosk": self.kiosk,
            "seq": self.seq,
            "receipt": None if code is None else ReceiptRef(code=code, verified=verified),
            "score": Score.SATISFIED,
            "rated_at": datetime.now(UTC),
        }
        values.update(fields)
        return RatingMessage.model_validate(values)

    def send(self, *ratings: RatingMessage) -> list[AckOutcome]:
        """Publish, then wait for one outcome per rating (in any order)."""
        for rating in ratings:
            info = self.client.publish(
                topics.ratings(UNIT_CODE, self.kiosk), rating.to_bytes(), qos=1
            )
            info.wait_for_publish(5)
        outcomes = [self.acks.get(timeout=20) for _ in ratings]
        assert {o.id for o in outcomes} == {r.id for r in ratings}
        return sorted(outcomes, key=lambda o: o.seq)

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


@dataclass
class World:
    hub: HubService
    sessions: sessionmaker[Session]
    desk: ReceiptDesk
    unit: Unit
    attacker: Peer  # holds kiosk-q1's password
    honest: Peer  # kiosk-q2, also listening to the unit's "rated" notices

    def issue(self, request: IssueRequest = Q2_RECEIPT) -> str:
        return str(self.desk.issue(request, print_slip=False).receipt.code)

    def row(self, rating: RatingMessage) -> RatingRow:
        with self.sessions() as session:
            row = session.get(RatingRow, str(rating.id))
            assert row is not None, "not stored"
            session.expunge(row)
            return row

    def dead_letter_reasons(self) -> list[str]:
        with self.sessions() as session:
            return list(session.scalars(select(DeadLetterRow.reason)))

    def honest_rating_goes_through(self, accepted_codes: set[str]) -> None:
        """A real receipt rated at another kiosk: stored exactly once and acknowledged once; the
        "rated" notices name the accepted receipts and this one, nothing the hub refused."""
        code = self.issue(IssueRequest(counter="Q2", officer="CB003", procedure="2.000815"))
        rating = self.honest.rating(code, counter="Q2", officer="CB003", procedure="2.000815")
        (outcome,) = self.honest.send(rating)
        assert outcome.outcome == "stored"
        with self.sessions() as session:
            copies = session.scalar(
                select(func.count()).select_from(RatingRow).where(RatingRow.id == str(rating.id))
            )
        assert copies == 1
        assert self.honest.acks.empty()
        announced: set[str] = set()
        deadline = time.monotonic() + 10
        while code not in announced and time.monotonic() < deadline:
            try:
                announced.add(self.honest.rated.get(timeout=0.5))
            except queue.Empty:
                continue
        assert announced == accepted_codes | {code}


@pytest.fixture
def world(
    broker: Broker, hub_settings: HubSettings, unit: Unit, database_url: str
) -> Iterator[World]:
    settings = hub_settings.model_copy(
        update={"hub": hub_settings.hub.model_copy(update={"database_url": database_url})}
    )
    sessions = session_factory(make_engine(database_url))
    desk = ReceiptDesk(settings, unit, sessions)
    with HubService(settings, unit, sessions) as hub:
        assert hub.ready.wait(10), "the hub did not subscribe"
        attacker, honest = Peer(broker, "kiosk-q1"), Peer(broker, "kiosk-q2")
        try:
            yield World(hub, sessions, desk, unit, attacker, honest)
        finally:
            attacker.close()
            honest.close()


def _today() -> datetime:
    """Now in the unit's zone: the day the hub writes into the codes it issues."""
    return datetime.now(UTC).astimezone(LOCAL_ZONE)


def test_a_receipt_of_another_counter_counts_against_the_registers_officer(world: World) -> None:
    """Fails on the old code, which stored Q1 / CB001 / 1.001193 as the kiosk claimed."""
    code = world.issue()  # at counter Q2, by CB003, for 2.000815
    claim = world.attacker.rating(code, counter="Q1", officer="CB001", procedure="1.001193")
    (outcome,) = world.attacker.send(claim)
    assert outcome.outcome == "stored"
    row = world.row(claim)
    assert (row.counter, row.officer, row.procedure, row.field) == (
        "Q2",
        "CB003",
        "2.000815",
        "chung-thuc",
    )
    assert row.claim_mismatch == "counter,officer,procedure"
    assert row.receipt_known
    assert row.counted
    assert world.hub.counters.register_verdicts["claim_mismatch"] == 1
    world.honest_rating_goes_through({code})


def test_codes_not_issued_yet_are_refused_and_the_real_receipt_is_rated_later(
    world: World,
) -> None:
    issued = world.issue()
    sequence = int(issued.rsplit("-", 1)[1])
    day = issued.split("-")[1]
    ahead = [f"{UNIT_CODE}-{day}-{sequence + n:04d}" for n in (1, 2, 50)]
    tomorrow = (_today() + timedelta(days=1)).strftime("%y%m%d")
    ahead.append(f"{UNIT_CODE}-{tomorrow}-0001")
    outcomes = world.attacker.send(*(world.attacker.rating(code) for code in ahead))
    assert [o.outcome for o in outcomes] == ["rejected"] * 4
    assert all("receipt" in (o.reason or "") for o in outcomes)
    assert world.hub.counters.register_verdicts["receipt_not_issued_yet"] == 4
    # The citizen whose slip is printed now gets the code the attacker tried first.
    real = world.issue()
    assert real == ahead[0]
    honest = world.honest.rating(real, counter="Q2", officer="CB003", procedure="2.000815")
    (outcome,) = world.honest.send(honest)
    assert outcome.outcome == "stored"
    world.honest_rating_goes_through({real})


def test_other_units_codes_and_garbage_are_refused(world: World) -> None:
    day = _today().strftime("%y%m%d")
    codes = [
        f"000.00.20.X99-{day}-0001",  # another unit's code
        f"000.00.20.X99-{day}-0001".lower(),
        "garbage!",
        "' OR 1=1 --",
        f"{UNIT_CODE}-{day}",
        "\u0000" * 8,
    ]
    outcomes = world.attacker.send(*(world.attacker.rating(code) for code in codes))
    assert [o.outcome for o in outcomes] == ["rejected"] * len(codes)
    verdicts = world.hub.counters.register_verdicts
    assert (verdicts["receipt_other_unit"], verdicts["receipt_malformed"]) == (1, 5)
    with world.sessions() as session:
        assert session.scalar(select(func.count()).select_from(RatingRow)) == 0
    assert len(world.dead_letter_reasons()) == len(codes)
    world.honest_rating_goes_through(set())


def test_walk_in_stuffing_is_refused_when_the_unit_forbids_walk_ins(world: World) -> None:
    assert not world.unit.kiosk_policy.allow_walk_in
    stuffing = [
        world.attacker.rating(None, counter="Q1", score=Score.VERY_SATISFIED) for _ in range(20)
    ]
    outcomes = world.attacker.send(*stuffing)
    assert {o.outcome for o in outcomes} == {"rejected"}
    assert world.hub.counters.register_verdicts["walk_in_not_allowed"] == 20
    with world.sessions() as session:
        assert unit_totals(session, Scope(world.unit)) == (0, 0)
    world.honest_rating_goes_through(set())


def test_verified_true_on_an_unknown_code_is_stored_unverified_out_of_the_headline(
    world: World,
) -> None:
    past = (_today() - timedelta(days=40)).strftime("%y%m%d")  # a day the hub issued nothing on
    made_up = [world.attacker.rating(f"{UNIT_CODE}-{past}-{n:04d}") for n in (1, 2, 3)]
    outcomes = world.attacker.send(*made_up)
    assert [o.outcome for o in outcomes] == ["stored"] * 3
    first = world.row(made_up[0])
    assert (first.receipt_known, first.receipt_verified, first.counted) == (False, False, False)
    assert first.claim_mismatch == "verified"
    # All three made at the same moment: the second and third are also too close together.
    assert [world.row(r).suspect for r in made_up] == [False, True, True]
    with world.sessions() as session:
        assert unit_totals(session, Scope(world.unit)) == (0, 0)
        apart = uncounted_totals(session, Scope(world.unit))
    assert (apart.unverified, apart.suspect, apart.mismatched) == (3, 2, 3)
    verdicts = world.hub.counters.register_verdicts
    assert (verdicts["unverified"], verdicts["suspect"]) == (3, 2)
    world.honest_rating_goes_through(set())  # no "already rated" for the made-up codes
    with world.sessions() as session:
        assert unit_totals(session, Scope(world.unit)) == (1, 1)  # only the honest rating counts


def test_a_rating_made_before_its_receipt_was_issued_is_refused(world: World) -> None:
    code = world.issue()
    skew = timedelta(seconds=world.unit.register_policy.issue_clock_skew_s)
    early = world.attacker.rating(code, rated_at=datetime.now(UTC) - skew - timedelta(minutes=5))
    (outcome,) = world.attacker.send(early)
    assert outcome.outcome == "rejected"
    assert world.hub.counters.register_verdicts["rated_before_issue"] == 1
    # Refused, it took nobody's place: the citizen still rates the receipt.
    real = world.honest.rating(code, counter="Q2", officer="CB003", procedure="2.000815")
    (again,) = world.honest.send(real)
    assert again.outcome == "stored"
    world.honest_rating_goes_through({code})
