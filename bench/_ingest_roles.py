"""The child processes of ``bench/ingest.py`` (and ``bench/backlog.py``): the Python drain, a
hub worker, and the ack collector, each started as ``ingest.py --drain|--worker|--collect-acks``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from collections import Counter
from typing import TYPE_CHECKING

import _common

if TYPE_CHECKING:
    from hailong.provision import SecretsLayout
    from hailong.settings import HubSettings


def password(layout: SecretsLayout, user: str) -> str:
    return layout.mqtt_password_file(user).read_text().strip()


def run_drain(args: argparse.Namespace) -> int:
    """``--drain``: the hub's MQTT client subscribed as the hub; exits after ``--count``
    messages, each acknowledged as it arrives: taken off the read buffer (the fast path), or
    through ``on_message`` and ``ack`` (``--stock``: paho's own client)."""
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    from hailong.contract import topics
    from hailong.mqtt import Client, log_in
    from hailong.provision import SecretsLayout

    settings = _common.mqtt_settings(SecretsLayout(args.secrets), args.port, user="hub")
    client = (mqtt.Client if args.stock else Client)(
        CallbackAPIVersion.VERSION2, client_id=f"bench-drain-{os.getpid()}", manual_ack=True
    )
    log_in(client, settings)
    taken = 0
    done = threading.Event()
    subscribed = threading.Event()

    def take(_topic: str, _payload: bytes, _mid: int = 0) -> bool:
        nonlocal taken
        taken += 1
        if taken >= args.count:
            done.set()
        return True

    def on_message(c: mqtt.Client, _u: object, message: mqtt.MQTTMessage) -> None:
        take(message.topic, bytes(message.payload))
        c.ack(message.mid, message.qos)

    if isinstance(client, Client):
        client.take_publish = take
    client.on_message = on_message
    client.on_subscribe = lambda *_a: subscribed.set()
    client.on_connect = lambda c, *_a: c.subscribe(topics.RATINGS_SUBSCRIPTION, qos=1)
    client.connect(settings.host, settings.port)
    client.loop_start()
    if not subscribed.wait(10):
        print("not subscribed", flush=True)
        return 1
    print("ready", flush=True)
    finished = done.wait(args.timeout)
    client.disconnect()
    client.loop_stop()
    return 0 if finished else 1


def hub_settings(
    layout: SecretsLayout, port: int, database_url: str, group: str | None, fast: bool = True
) -> HubSettings:
    from hailong.settings import HubSection, HubSettings

    return HubSettings(
        hub=HubSection(
            unit_file=_common.REPO / "config" / "unit.toml",
            database_url=database_url,
            public_base_url=_common.BASE_URL,
            workers_group=group,
            mqtt_fast_path=fast,
        ),
        mqtt=_common.mqtt_settings(layout, port, user="hub"),
        receipts=_common.receipt_keys(layout.receipt_keys),
    )


def run_worker(args: argparse.Namespace) -> int:
    """``--worker``: one HubService until stdin closes; prints "ready", then its counters."""
    from hailong.provision import SecretsLayout
    from hailong.settings import load_unit
    from hub.service import HubService
    from hub.store.db import make_engine, session_factory

    layout = SecretsLayout(args.secrets)
    settings = hub_settings(layout, args.port, args.db, args.group, fast=not args.stock)
    unit = load_unit(settings.hub.unit_file)
    sessions = session_factory(make_engine(settings.hub.database_url))
    service = HubService(settings, unit, sessions, client_id=args.client_id, max_batch=args.batch)
    service.start()
    if not service.ready.wait(20):
        print("not ready", flush=True)
        return 1
    print(f"ready pid={os.getpid()}", flush=True)
    cpu = time.process_time()  # every thread of the hub, waiting excluded
    sys.stdin.read()  # the parent closes our stdin to stop us
    service.stop(timeout=30)
    c = service.counters
    report = {
        "stored": c.stored,
        "duplicates": c.duplicates,
        "batches": c.batches,
        "commit_failures": c.commit_failures,
        "acks": c.acks_published,
        "batch_seconds": c.batch_seconds.total,
        "cpu_seconds": time.process_time() - cpu,
    }
    print(json.dumps(report), flush=True)
    return 0


def run_collector(args: argparse.Namespace) -> int:
    """``--collect-acks``: count the ids acknowledged to the kiosks until ``--count``."""
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    from hailong.contract import topics
    from hailong.provision import SecretsLayout

    layout = SecretsLayout(args.secrets)
    lock = threading.Lock()
    seen: Counter[str] = Counter()
    outcomes: Counter[str] = Counter()
    done = threading.Event()
    subscribed = threading.Semaphore(0)
    # Logged in as the hub (the kiosk users are busy publishing under their own bound ids).
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"bench-acks-{os.getpid()}")
    client.username_pw_set("hub", password(layout, "hub"))

    def on_message(_c: mqtt.Client, _u: object, message: mqtt.MQTTMessage) -> None:
        results = json.loads(message.payload)["results"]
        with lock:
            for result in results:
                seen[result["id"]] += 1
                outcomes[result["outcome"]] += 1
            if len(seen) >= args.count:
                done.set()

    kiosks = args.kiosks.split(",")
    client.on_message = on_message
    client.on_subscribe = lambda *_a: subscribed.release()
    client.connect("127.0.0.1", args.port)
    client.subscribe([(topics.acks(_common.UNIT_CODE, kiosk), 1) for kiosk in kiosks])
    client.loop_start()
    if not subscribed.acquire(timeout=10):
        print("not subscribed", flush=True)
        return 1
    print("ready", flush=True)
    finished = done.wait(args.timeout)
    time.sleep(0.5 if finished else 0)  # late duplicates, if any, would show here
    with lock:
        twice = sum(1 for n in seen.values() if n > 1)
        print(
            json.dumps({"acked": len(seen), "acked_twice": twice, "outcomes": dict(outcomes)}),
            flush=True,
        )
    client.loop_stop()
    client.disconnect()
    return 0 if finished else 1
