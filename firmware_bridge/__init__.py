"""Firmware bridge: connects serial button pads, QR scanners and status lights to the rating flow.

Not built yet (see the firmware bridge issue). It will reuse ``kiosk.outbox`` and ``kiosk.uplink``
so a standalone button box delivers ratings with the same exactly-once guarantee.
"""
