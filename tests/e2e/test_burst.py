"""A burst of buffered ratings through a real Mosquitto, tested both ways.

Real parts: Mosquitto with the unit's users and ACLs, the kiosk's SQLite ``Outbox`` and its
``Uplink``, and the hub's ``HubService`` on SQLite. The kiosk holds a burst of ratings and sends
them while the hub is away, so the broker must queue them for the hub's persistent session.

1. With the broker as the project configures it (``max_queued_messages 1000000``) the queue holds
   the whole burst: the hub's first pass alone stores every rating, none needs resending.
2. With Mosquitto's default (``max_queued_messages 1000``) the broker drops most of the burst;
   the hub's acknowledgement is what still guarantees delivery: the kiosk keeps what was never
   acknowledged and resends it, and every rating ends up stored exactly once.
3. A broker restart in the middle of a burst (hub online) loses nothing and doubles nothing.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from functools import partial
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from hailong.contract import topics
from hailong.contract.messages import RatingMessage, ReceiptRef
from hailong.settings import HubSettings, Unit
from hub.service import HubService
from hub.store.models import DeadLetterRow, RatingRow
from kiosk.outbox import Outbox
from kiosk.uplink import DEFAULT_WINDOW, Uplink
from tests.conftest import UNIT_CODE, Broker
from tests.hailong.contract.test_messages import make_rating
from tests.hub.test_service import on_client

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]

KIOSK = "kiosk-q1"
BURST = 5_000
# The kiosk back online resends an unacknowledged rating after this long (shipped default: 30 s).
RESEND_AFTER = 2.0
# While the burst goes out the kiosk must not resend anything (it goes offline right after), so
# that what the hub gets on its first pass is exactly what the broker kept of the burst.
NO_RESEND = 600.0
PROJECT_QUEUE_LINE = "max_queued_messages 1000000"
MOSQUITTO_DEFAULT_QUEUE = 1_000  # what Mosquitto uses when the line is absent
WAIT = 30.0  # seconds: an upper bound for any one condition, never a fixed sleep


@pytest.fixture(params=[True, False], ids=["fast-path", "stock-paho"])
def hub_settings(hub_settings: HubSettings, request: pytest.FixtureRequest) -> HubSettings:
    """Each burst on both of the hub's MQTT clients (``[hub] mqtt_fast_path``)."""
    return on_client(hub_settings, request.param)


def wait_for(condition: Callable[[], bool], what: str, timeout: float = WAIT) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout} s: {what}")
        time.sleep(0.02)


# -- the burst: built once with the real Outbox.append, copied for each test -----------------------


class CountingOutbox(Outbox):
    """The real outbox, noting how often each rating was handed to the broker (copies sent)."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self._sent_lock = threading.Lock()
        self.sent: Counter[uuid.UUID] = Counter()

    def mark_sent(self, ids: Iterable[uuid.UUID], now: datetime) -> None:
        ids = list(ids)
        with self._sent_lock:
            self.sent.update(ids)
        super().mark_sent(ids, now)

    def copies_sent(self) -> int:
        with self._sent_lock:
            return sum(self.sent.values())

    def distinct_sent(self) -> int:
        with self._sent_lock:
            return len(self.sent)


def _rating(seq: int, receipt: ReceiptRef) -> RatingMessage:
    return make_rating(seq=seq, receipt=receipt)


@pytest.fixture(scope="module")
def burst_file(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, set[uuid.UUID]]:
    """An outbox holding ``BURST`` ratings (distinct receipts, seq 1..BURST), and their ids.

    ``Outbox.append`` commits each rating with ``synchronous=FULL``: on the development machine's
    disk that took 4.7 ms a rating (23 s for the burst), so it is built once, on tmpfs if any.
    """
    shm = Path("/dev/shm")
    scratch = Path(tempfile.mkdtemp(prefix="hailong-burst-", dir=shm if shm.is_dir() else None))
    try:
        box = Outbox(scratch / "outbox.db")
        ids: set[uuid.UUID] = set()
        for n in range(1, BURST + 1):
            receipt = ReceiptRef(code=f"{UNIT_CODE}-261125-{n:04d}", verified=True)
            ids.add(box.append(partial(_rating, receipt=receipt)).id)
        box.close()  # the last connection closed: SQLite folds the WAL into the file
        kept = tmp_path_factory.mktemp("burst") / "outbox.db"
        shutil.copyfile(scratch / "outbox.db", kept)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    assert len(ids) == BURST
    return kept, ids


@pytest.fixture
def outbox(tmp_path: Path, burst_file: tuple[Path, set[uuid.UUID]]) -> Iterator[CountingOutbox]:
    path = tmp_path / "kiosk" / "outbox.db"
    path.parent.mkdir()
    shutil.copyfile(burst_file[0], path)
    box = CountingOutbox(path)
    assert box.depth() == BURST
    yield box
    box.close()


@pytest.fixture
def burst_ids(burst_file: tuple[Path, set[uuid.UUID]]) -> set[uuid.UUID]:
    return burst_file[1]


# -- the parts ---------------------------------------------------------------------------------


def uplink(
    broker: Broker, outbox: Outbox, *, resend_after: float, window: int = DEFAULT_WINDOW
) -> Uplink:
    link = Uplink(
        broker.mqtt_settings(KIOSK),
        UNIT_CODE,
        KIOSK,
        outbox,
        resend_after=resend_after,
        window=window,
    )
    link.start()
    wait_for(lambda: link.connected, "the kiosk connected")
    return link


class StatusWatcher:
    """Logged in as the hub (clean session): counts the kiosk's status messages. The kiosk sends
    its messages in order on one connection, so once a status published after the burst arrives
    here, the broker has taken every rating of the burst."""

    def __init__(self, broker: Broker) -> None:
        settings = broker.mqtt_settings("hub")
        self._lock = threading.Lock()
        self._count = 0
        subscribed = threading.Event()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="test-watcher")
        self.client.username_pw_set(settings.username, settings.password())
        self.client.on_subscribe = lambda *_: subscribed.set()
        self.client.on_message = self._on_message
        self.client.connect("127.0.0.1", broker.port)
        self.client.loop_start()
        self.client.subscribe(topics.status(UNIT_CODE, KIOSK), qos=1)
        assert subscribed.wait(10)

    def _on_message(self, _c: mqtt.Client, _u: object, _message: mqtt.MQTTMessage) -> None:
        with self._lock:
            self._count += 1

    def count(self) -> int:
        with self._lock:
            return self._count

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def register_hub_session(
    hub_settings: HubSettings, unit: Unit, hub_sessions: sessionmaker[Session]
) -> None:
    """The hub has run before: the broker keeps its persistent session (and queues for it)."""
    with HubService(hub_settings, unit, hub_sessions) as hub:
        assert hub.ready.wait(10), "the hub did not subscribe"


def send_burst_while_the_hub_is_away(broker: Broker, outbox: CountingOutbox) -> None:
    """The kiosk publishes the whole burst once, waits until the broker has taken all of it,
    and goes offline."""
    watcher = StatusWatcher(broker)
    try:
        link = uplink(broker, outbox, resend_after=NO_RESEND, window=BURST)
        try:
            wait_for(lambda: watcher.count() >= 1, "the kiosk's status on connecting")
            wait_for(lambda: outbox.distinct_sent() == BURST, "the burst handed to paho")
            before = watcher.count()
            link.publish_status()  # after the last rating, on the same connection
            wait_for(lambda: watcher.count() > before, "the broker took the whole burst")
        finally:
            link.stop()
    finally:
        watcher.close()
    assert (outbox.distinct_sent(), outbox.copies_sent()) == (BURST, BURST)  # none sent twice
    assert outbox.depth() == BURST  # a broker PUBACK is no reason to forget a rating


def processed(hub: HubService) -> int:
    c = hub.counters
    return c.stored + c.duplicates + c.already_rated + c.dead_letters


def wait_until_quiet(hub: HubService, what: str, quiet: float = 1.0) -> int:
    """Wait until the hub has committed everything it received and nothing more came for
    ``quiet`` seconds; returns how many messages it received."""
    deadline = time.monotonic() + WAIT
    last, since = -1, time.monotonic()
    while time.monotonic() < deadline:
        received = hub.counters.received
        if received != last or processed(hub) != received or hub.inbox_depth:
            last, since = received, time.monotonic()
        elif received > 0 and time.monotonic() - since >= quiet:
            return received
        time.sleep(0.05)
    raise AssertionError(f"the hub did not settle within {WAIT} s: {what}")


def stored_ids(hub_sessions: sessionmaker[Session]) -> list[uuid.UUID]:
    with hub_sessions() as session:
        return [uuid.UUID(str(i)) for i in session.scalars(select(RatingRow.id))]


def dead_letters(hub_sessions: sessionmaker[Session]) -> int:
    with hub_sessions() as session:
        return int(session.scalar(select(func.count()).select_from(DeadLetterRow)) or 0)


def assert_each_stored_once(
    hub_sessions: sessionmaker[Session], burst_ids: set[uuid.UUID], outbox: Outbox
) -> None:
    ids = stored_ids(hub_sessions)
    assert len(ids) == BURST
    assert set(ids) == burst_ids
    assert dead_letters(hub_sessions) == 0
    assert (outbox.depth(), outbox.rejected_count()) == (0, 0)


DROPPING = "Outgoing messages are being dropped for client hailong-hub"


def broker_log(broker: Broker) -> str:
    return broker.process.files.log.read_text()


def with_mosquittos_default_queue(broker: Broker) -> None:
    """Restart the broker with the project's configuration except the queue limit, which is
    Mosquitto's default."""
    conf = broker.process.files.conf
    text = conf.read_text()
    assert PROJECT_QUEUE_LINE in text.splitlines()
    broker.process.stop()
    conf.write_text(
        text.replace(PROJECT_QUEUE_LINE, f"max_queued_messages {MOSQUITTO_DEFAULT_QUEUE}")
    )
    broker.process.start()


# -- the tests ---------------------------------------------------------------------------------


def test_the_broker_queues_a_whole_burst_while_the_hub_is_away(
    broker: Broker,
    outbox: CountingOutbox,
    burst_ids: set[uuid.UUID],
    hub_settings: HubSettings,
    unit: Unit,
    hub_sessions: sessionmaker[Session],
) -> None:
    register_hub_session(hub_settings, unit, hub_sessions)
    send_burst_while_the_hub_is_away(broker, outbox)

    with HubService(hub_settings, unit, hub_sessions) as hub:
        # The kiosk is offline: whatever the hub gets now is what the broker queued for it.
        first_pass = wait_until_quiet(hub, "the hub's first pass over its queue")
        assert first_pass == BURST
        assert (hub.counters.stored, hub.counters.duplicates) == (BURST, 0)
        assert len(stored_ids(hub_sessions)) == BURST
        assert DROPPING not in broker_log(broker)

        # The kiosk comes back. The broker hands it the acks queued for its session right after
        # CONNACK, before the SUBACK that starts its pass over everything pending: the outbox
        # empties and nothing is sent a second time.
        link = uplink(broker, outbox, resend_after=RESEND_AFTER, window=BURST)
        try:
            wait_for(lambda: outbox.depth() == 0, "every rating acknowledged")
        finally:
            link.stop()
        assert hub.counters.acks_published == BURST
        assert (outbox.copies_sent(), hub.counters.received) == (BURST, BURST)
        assert (hub.counters.stored, hub.counters.duplicates) == (BURST, 0)
    assert_each_stored_once(hub_sessions, burst_ids, outbox)


def test_when_the_broker_drops_part_of_a_burst_the_kiosk_resends_it(
    broker: Broker,
    outbox: CountingOutbox,
    burst_ids: set[uuid.UUID],
    hub_settings: HubSettings,
    unit: Unit,
    hub_sessions: sessionmaker[Session],
) -> None:
    with_mosquittos_default_queue(broker)
    register_hub_session(hub_settings, unit, hub_sessions)
    send_burst_while_the_hub_is_away(broker, outbox)

    with HubService(hub_settings, unit, hub_sessions) as hub:
        first_pass = wait_until_quiet(hub, "the hub's first pass over its queue")
        # The broker kept a queue's worth (999 with Mosquitto 2.0.11) and dropped the rest of
        # the burst, although it had acknowledged every one of them to the kiosk.
        assert 0 < first_pass < BURST // 2
        assert (hub.counters.stored, hub.counters.duplicates) == (first_pass, 0)
        assert DROPPING in broker_log(broker)

        link = uplink(broker, outbox, resend_after=RESEND_AFTER, window=BURST)
        try:
            # The acks of the first pass arrive; what was dropped is still pending at the kiosk.
            wait_for(lambda: outbox.depth() < BURST, "the first pass acknowledged")
            wait_for(lambda: outbox.depth() == 0, "every rating acknowledged", timeout=60)
        finally:
            link.stop()
        received = wait_until_quiet(hub, "the last copies the kiosk sent")
        assert hub.counters.stored == BURST  # each rating stored once; extra copies were duplicates
        copies = outbox.copies_sent()
        assert copies >= 2 * BURST - first_pass  # every dropped rating was sent again
        dropped = copies - received
        assert dropped >= BURST - first_pass
        print(
            f"\nmax_queued_messages {MOSQUITTO_DEFAULT_QUEUE}: the hub's first pass got "
            f"{first_pass} of {BURST}; copies sent {copies}, received {received}, "
            f"dropped by the broker {dropped}, duplicates at the hub {hub.counters.duplicates}"
        )
    assert_each_stored_once(hub_sessions, burst_ids, outbox)


def test_a_broker_restart_in_the_middle_of_a_burst_loses_and_doubles_nothing(
    broker: Broker,
    outbox: CountingOutbox,
    burst_ids: set[uuid.UUID],
    hub_settings: HubSettings,
    unit: Unit,
    hub_sessions: sessionmaker[Session],
) -> None:
    with HubService(hub_settings, unit, hub_sessions) as hub:
        assert hub.ready.wait(10), "the hub did not subscribe"
        link = uplink(broker, outbox, resend_after=RESEND_AFTER)
        try:
            wait_for(lambda: hub.counters.stored >= BURST // 4, "a quarter of the burst stored")
            at_restart = hub.counters.stored
            broker.restart()
            assert at_restart < BURST, "the burst was over before the broker restarted"
            wait_for(lambda: outbox.depth() == 0, "every rating acknowledged", timeout=60)
        finally:
            link.stop()
        wait_until_quiet(hub, "the last copies the kiosk sent")
        assert hub.counters.stored == BURST
        print(
            f"\nbroker restarted with {at_restart} of {BURST} stored; copies sent "
            f"{outbox.copies_sent()}, duplicates at the hub {hub.counters.duplicates}"
        )
    assert_each_stored_once(hub_sessions, burst_ids, outbox)
