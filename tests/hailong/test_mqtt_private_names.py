"""hailong.mqtt.Client relies on private paho names (``hailong.mqtt.PRIVATE_NAMES``): each must
be there, in the shape the overrides were written for, in the paho that is installed. A paho
release that renames or reshapes one fails here, naming it, rather than deep in a hub burst."""

from __future__ import annotations

import collections
import inspect

import paho.mqtt
import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion, MessageType

from hailong.mqtt import OUT_PACKET_KEYS, PRIVATE_MODULE_NAMES, PRIVATE_NAMES

PAHO = f"paho-mqtt {paho.mqtt.__version__}"
METHODS = {name: params for name, params in PRIVATE_NAMES.items() if params is not None}
ATTRIBUTES = [name for name, params in PRIVATE_NAMES.items() if params is None]


def _client() -> mqtt.Client:
    return mqtt.Client(CallbackAPIVersion.VERSION2, client_id="names", manual_ack=True)


@pytest.mark.parametrize("name", sorted(METHODS))
def test_each_private_method_is_there_with_its_parameters(name: str) -> None:
    method = getattr(mqtt.Client, name, None)
    assert callable(method), f"{PAHO} has no Client.{name}: hailong.mqtt.Client relies on it"
    params = tuple(inspect.signature(method).parameters)
    assert params == ("self", *METHODS[name]), (
        f"{PAHO}: Client.{name}{params} is not the shape hailong.mqtt.Client overrides or calls "
        f"({', '.join(('self', *METHODS[name]))})"
    )


@pytest.mark.parametrize("name", ATTRIBUTES)
def test_each_private_attribute_is_there(name: str) -> None:
    assert hasattr(_client(), name), f"{PAHO}: a Client has no {name}; hailong.mqtt relies on it"


@pytest.mark.parametrize("name", PRIVATE_MODULE_NAMES)
def test_each_private_module_name_is_there(name: str) -> None:
    assert callable(getattr(mqtt, name, None)), f"{PAHO}: paho.mqtt.client has no {name}"


def test_the_packet_queues_hold_what_the_overrides_read_and_build() -> None:
    """The joined PUBACKs are built as one of paho's queued packets, and the fast path reads
    whether paho is in the middle of a packet: both are dicts whose keys must not move."""
    client = _client()
    assert isinstance(client._in_packet, dict), f"{PAHO}: Client._in_packet is not a dict"
    assert client._in_packet.get("command") == 0, f"{PAHO}: _in_packet has no 'command' of 0"
    assert isinstance(client._out_packet, collections.deque), f"{PAHO}: _out_packet not a deque"
    client._packet_queue(MessageType.PUBACK, b"\x40\x02\x00\x01", 1, 1)  # not connected: kept
    queued = client._out_packet[0]
    assert set(queued) == set(OUT_PACKET_KEYS), (
        f"{PAHO}: a queued packet holds {sorted(queued)}, not {sorted(OUT_PACKET_KEYS)}"
    )
    with client._msgtime_mutex:  # a lock the overrides take
        assert isinstance(client._last_bytes_received, float)
