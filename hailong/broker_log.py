"""Reading Mosquitto's log as ``hailong broker`` supervises it: refusals picked out, chatter dropped.

Mosquitto 2.0 writes a refused publish ("Denied PUBLISH from ...") and a refused login's CONNACK
code only at ``debug`` level, beside several lines per message of chatter (every PUBLISH, PUBACK
and PINGREQ). ``hailong broker`` asks for that level on a pipe and hands each line to
:class:`BrokerLog`, which keeps what an operator needs: refused publishes, refused logins and
kiosk subscriptions outside their own topics as :class:`Refusal` events (rate-limited by
:class:`RefusalLimiter`), ordinary notices as text, and nothing else. It works on ``bytes`` and
decides most lines by their first bytes, so the chatter of a burst of 10,000 ratings a second costs
the supervisor little. Pure: no I/O, no clock of its own (times are passed in).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

RefusalKind = Literal["denied publish", "subscription outside its ACL", "refused login"]

# "Denied PUBLISH from <client id> (d0, q1, r0, m12, '<topic>', ... (35 bytes))" (handle_publish.c)
_DENIED = re.compile(
    rb"Denied PUBLISH from (?P<client>.*?) \(d[01], q[0-2], r[01], m\d+, "
    rb"'(?P<topic>.*)', \.\.\. \((?P<size>\d+) bytes\)\)"
)
# Mosquitto cuts a log line at 999 characters: a long topic loses its end and the size.
_DENIED_CUT = re.compile(
    rb"Denied PUBLISH from (?P<client>.*?) \(d[01], q[0-2], r[01], m\d+, '(?P<topic>.*)"
)
# "Sending CONNACK to <client id or address> (<session present>, <reason code>)"
_CONNACK = re.compile(rb"Sending CONNACK to (?P<who>.*) \([01], (?P<code>\d+)\)")
# Under "Received SUBSCRIBE from <client id>": one "\t<filter> (QoS <n>)" line per filter.
_FILTER = re.compile(rb"\t(?P<filter>.*) \(QoS [0-2]\)")

# Debug chatter: a line per packet in and out, and the periodic autosave.
_CHATTER = (b"Received ", b"Sending ", b"\t", b"No will message", b"Will message specified")
_SAVING = b"Saving in-memory database"
_CONNACK_CODES = {
    4: "bad user name or password",
    5: "not authorised: wrong password, or a client id its user may not use",
    134: "bad user name or password",
    135: "not authorised: wrong password, or a client id its user may not use",
}


@dataclass(frozen=True)
class Refusal:
    """Something the broker refused: who (client id, or address for a refused login), on what."""

    kind: RefusalKind
    client: str
    topic: str = ""
    detail: str = ""

    def message(self) -> str:
        if self.kind == "denied publish":
            return (
                f"broker refused a publish from {self.client!r} to {self.topic!r} ({self.detail})"
            )
        if self.kind == "subscription outside its ACL":
            return (
                f"kiosk {self.client!r} subscribed to {self.topic!r}, outside its own topics: "
                "the broker delivers it only what its ACL allows"
            )
        return f"broker refused a login from {self.client} ({self.detail})"


@dataclass(frozen=True)
class Notice:
    """A line worth passing on as it is (start-up, connections, errors)."""

    text: str


def _text(raw: bytes) -> str:
    return raw.decode("utf-8", "replace")


@dataclass
class BrokerLog:
    """Turns Mosquitto log lines (timestamps off, one line without its newline per call) into
    :class:`Refusal`, :class:`Notice` or None (chatter).

    ``kiosk_reads`` maps each kiosk's client id (bound to its user at the broker, so the id names
    the user) to the topic filters its ACL lets it read; a kiosk subscribing to anything else is
    reported. Other client ids (the hub's workers, bridges) are not judged here.
    """

    kiosk_reads: Mapping[str, frozenset[str]] = field(default_factory=dict)
    _subscriber: str | None = None

    def feed(self, raw: bytes) -> Refusal | Notice | None:
        if raw.startswith(_CHATTER):
            return self._chatter(raw)
        self._subscriber = None
        if raw.startswith(b"Denied PUBLISH"):
            match = _DENIED.fullmatch(raw)
            if match is None:
                cut = _DENIED_CUT.fullmatch(raw)
                if cut is None:
                    return Notice(_text(raw))
                topic = _text(cut["topic"]) + "…"
                return Refusal(
                    "denied publish", _text(cut["client"]), topic, "topic cut in the log"
                )
            size = int(match["size"])
            return Refusal(
                "denied publish", _text(match["client"]), _text(match["topic"]), f"{size} bytes"
            )
        if raw.startswith(_SAVING) or not raw:
            return None
        return Notice(_text(raw))

    def _chatter(self, raw: bytes) -> Refusal | None:
        if raw.startswith(b"\t"):
            match = _FILTER.fullmatch(raw)
            if match is None or self._subscriber is None:
                return None
            client, topic = self._subscriber, _text(match["filter"])
            allowed = self.kiosk_reads.get(client)
            if allowed is not None and topic not in allowed:
                return Refusal("subscription outside its ACL", client, topic)
            return None
        self._subscriber = None
        if raw.startswith(b"Received SUBSCRIBE from "):
            self._subscriber = _text(raw.removeprefix(b"Received SUBSCRIBE from "))
            return None
        if raw.startswith(b"Sending CONNACK"):
            match = _CONNACK.fullmatch(raw)
            if match is None or match["code"] == b"0":
                return None
            code = int(match["code"])
            # A refused login has no client id yet: Mosquitto names the peer's address instead.
            detail = _CONNACK_CODES.get(code, "refused")
            return Refusal("refused login", _text(match["who"]), detail=f"CONNACK {code}: {detail}")
        return None


@dataclass
class _Window:
    started: float
    shown: int = 0
    held: int = 0


@dataclass(frozen=True)
class Held:
    """Refusals of one kind from one client that were not logged one by one in a window."""

    kind: RefusalKind
    client: str
    count: int
    seconds: float

    def message(self) -> str:
        return (
            f"{self.count} more refusals ({self.kind}) from {self.client!r} "
            f"in the last {self.seconds:.0f} s were not logged one by one"
        )


@dataclass
class RefusalLimiter:
    """At most ``burst`` refusals logged per kind and client in each ``window`` seconds; the rest
    are counted and reported as one :class:`Held` when that window ends, so a kiosk hammering a
    forbidden topic neither floods the journal nor hides what it did. At most ``max_keys`` clients
    are tracked apart (client ids are bound, addresses are not); beyond them all count as one."""

    burst: int = 5
    window: float = 60.0
    max_keys: int = 1000
    _windows: dict[tuple[RefusalKind, str], _Window] = field(default_factory=dict)

    def admit(self, refusal: Refusal, now: float) -> bool:
        key = (refusal.kind, refusal.client)
        if key not in self._windows and len(self._windows) >= self.max_keys:
            key = (refusal.kind, "*")
        state = self._windows.setdefault(key, _Window(started=now))
        if state.shown < self.burst:
            state.shown += 1
            return True
        state.held += 1
        return False

    def expire(self, now: float, *, everything: bool = False) -> list[Held]:
        """Close windows older than ``window`` (all of them with ``everything``): what they held."""
        held: list[Held] = []
        for key, state in list(self._windows.items()):
            if everything or now - state.started >= self.window:
                del self._windows[key]
                if state.held:
                    held.append(Held(key[0], key[1], state.held, now - state.started))
        return held
