"""MQTT topic names. The version segment lets a v2 contract run beside v1 during a migration.

``hailong/v1/<unit>/<kiosk>/ratings``  kiosk -> hub, QoS 1
``hailong/v1/<unit>/<kiosk>/acks``     hub -> kiosk, QoS 1, published only after the database commit
``hailong/v1/<unit>/<kiosk>/status``   kiosk -> hub, retained, with a last will
``hailong/v1/<unit>/config``           hub -> kiosks, retained unit configuration
``hailong/v1/<unit>/rated``            hub -> kiosks, QoS 1, receipts just rated (one rating each)
``hailong/v1/<unit>/returned``         hub -> kiosks, QoS 1, receipts whose result was handed back
``hailong/v1/<unit>/<kiosk>/offers``   hub -> one kiosk, QoS 1, expiring: rate this return now
"""

from __future__ import annotations

import re
from dataclasses import dataclass

PREFIX = "hailong/v1"

# Unit codes look like ``000.00.20.H41``; kiosk ids are short slugs. Neither may contain MQTT
# wildcards or separators, which is what makes the ACL patterns below safe.
_SEGMENT = re.compile(r"^[A-Za-z0-9._-]{1,40}$")

RATINGS_SUBSCRIPTION = f"{PREFIX}/+/+/ratings"
STATUS_SUBSCRIPTION = f"{PREFIX}/+/+/status"


class TopicError(ValueError):
    """A topic or topic segment that does not follow the contract."""


def check_segment(value: str, what: str) -> str:
    if not _SEGMENT.match(value):
        raise TopicError(f"{what} {value!r} must be 1-40 characters of A-Z a-z 0-9 . _ -")
    return value


def ratings(unit: str, kiosk: str) -> str:
    return f"{PREFIX}/{check_segment(unit, 'unit')}/{check_segment(kiosk, 'kiosk')}/ratings"


def acks(unit: str, kiosk: str) -> str:
    return f"{PREFIX}/{check_segment(unit, 'unit')}/{check_segment(kiosk, 'kiosk')}/acks"


def status(unit: str, kiosk: str) -> str:
    return f"{PREFIX}/{check_segment(unit, 'unit')}/{check_segment(kiosk, 'kiosk')}/status"


def offers(unit: str, kiosk: str) -> str:
    """Where the hub offers one kiosk the rating of a result just handed back at its counter
    (:mod:`hailong.contract.return_offer`): per kiosk, so the ACL lets each read only its own."""
    return f"{PREFIX}/{check_segment(unit, 'unit')}/{check_segment(kiosk, 'kiosk')}/offers"


def unit_ratings_subscription(unit: str) -> str:
    """Every kiosk's ratings in one unit (a hub that serves only its own unit)."""
    return f"{PREFIX}/{check_segment(unit, 'unit')}/+/ratings"


def unit_status_subscription(unit: str) -> str:
    return f"{PREFIX}/{check_segment(unit, 'unit')}/+/status"


def unit_config(unit: str) -> str:
    return f"{PREFIX}/{check_segment(unit, 'unit')}/config"


def rated(unit: str) -> str:
    return f"{PREFIX}/{check_segment(unit, 'unit')}/rated"


def returned(unit: str) -> str:
    return f"{PREFIX}/{check_segment(unit, 'unit')}/returned"


@dataclass(frozen=True)
class KioskTopic:
    """Where a kiosk message came from, as told by its topic (which the broker's ACL vouches for)."""

    unit: str
    kiosk: str
    kind: str


def parse_kiosk_topic(topic: str) -> KioskTopic:
    parts = topic.split("/")
    if len(parts) != 5 or "/".join(parts[:2]) != PREFIX:
        raise TopicError(f"not a {PREFIX} kiosk topic: {topic!r}")
    unit, kiosk, kind = parts[2], parts[3], parts[4]
    check_segment(unit, "unit")
    check_segment(kiosk, "kiosk")
    if kind not in {"ratings", "acks", "status"}:
        raise TopicError(f"unknown message kind {kind!r} in {topic!r}")
    return KioskTopic(unit=unit, kiosk=kiosk, kind=kind)
