"""Firmware bridge: the device library for serial button pads, QR scanners and status lights.

The framed serial protocol (``protocol``: COBS + CRC-16, versioned messages), the port that
survives unplugging (``serial_port``), the status light (``lights``), a pty device simulator
(``simulator``) and reference MicroPython firmware (``firmware/``). It knows devices, not ratings:
it imports no app, and the counter code uses it (``kiosk.serial_input`` for a box beside a kiosk,
``kiosk.button_box`` for a counter without a screen, ``hailong bridge``). See
docs/serial-protocol.md.
"""
