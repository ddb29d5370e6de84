"""Hài Lòng: shared core (the wire contract, typed configuration and the ``hailong`` CLI).

The three deployable parts (``kiosk``, ``hub``, ``firmware_bridge``) depend on this package and never
on each other, so the contract between them lives in exactly one place: :mod:`hailong.contract`.
"""

__version__ = "0.1.0"
