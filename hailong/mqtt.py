"""One way to log a paho client in: credentials, and TLS when a CA is configured. The kiosk's
uplink, the hub and the button box all use it, so none of them can forget TLS."""

from __future__ import annotations

import ssl

import paho.mqtt.client as mqtt

from hailong.settings import MqttSettings


def log_in(client: mqtt.Client, settings: MqttSettings) -> None:
    client.username_pw_set(settings.username, settings.password())
    if settings.ca_file is not None:
        client.tls_set(ca_certs=str(settings.ca_file), tls_version=ssl.PROTOCOL_TLS_CLIENT)
