"""The outbox's one error type, in a module of its own.

Callers that catch it (the controller) import it from here, so importing them does not import
the outbox's storage library (SQLAlchemy, a fifth of the kiosk's start-up): the outbox opens after
the start screen is drawn (kiosk/deferred_outbox.py). ``kiosk.outbox`` re-exports it.
"""

from __future__ import annotations


class OutboxError(RuntimeError):
    """The outbox could not read or write its file (the disk is full, the file is locked or
    gone). What was committed before is safe; the caller tells the citizen, or tries later.
    Callers catch this, not the storage library's own errors."""
