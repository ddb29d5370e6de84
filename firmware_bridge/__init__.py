"""Firmware bridge: serial button pads, QR scanners and status lights in the rating flow.

The framed serial protocol (``protocol``: COBS + CRC-16, versioned messages), the port that
survives unplugging (``serial_port``), the status light (``lights``), a pty device simulator
(``simulator``), reference MicroPython firmware (``firmware/``), and the standalone button box
(``button_box``, ``bridge``: ``hailong bridge``), which rates through the kiosk's outbox and uplink
with the same exactly-once guarantee. See docs/serial-protocol.md.
"""
