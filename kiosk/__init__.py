"""The kiosk: the touchscreen at the counter where a citizen rates the service just received.

It stores every rating in a local outbox first (``kiosk.outbox``), then publishes it over MQTT
(``kiosk.uplink``), and forgets it only when the hub acknowledges the database commit.
"""
