"""The outbox, opened once the start screen is drawn (or at its first real use, if sooner).

Opening :class:`kiosk.outbox.Outbox` imports SQLAlchemy and creates its tables: a fifth of the
kiosk's cold start, and on a Raspberry Pi's core over a second before the start screen shows.
The start screen needs only two things from the file: the unit configuration cached there (which
faces, whether walk-ins are allowed) and how many ratings wait to be sent (the footer). This
wrapper reads those two with the standard library's ``sqlite3``, read-only, and opens the real
outbox after the first paint (:mod:`kiosk.ui.after_paint`), so nothing is decided differently:

* Any other call (a scan's "already rated?" check, a tap's save, the uplink's publishing) opens
  the real outbox first, under a lock, from whichever thread asks, and is passed on unchanged.
  A citizen who scans before the outbox has opened waits for it once; nothing is skipped.
* The two early reads give what the real outbox would: the cached configuration, and the
  pending ratings plus any left open by a crash (which opening closes, so they count).
* If the early read fails in any way (no permission, a file the ``sqlite3`` module cannot read
  read-only), the real outbox opens there and then, and answers or raises as before.

Crash recovery (closing ratings left open) happens when the real outbox opens, before anything
is counted, published or written, as before.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QCoreApplication

from hailong.contract.messages import ContractError, UnitConfigMessage, decode_unit_config
from hailong.contract.scale import Stage

if TYPE_CHECKING:
    from kiosk.outbox import Outbox

log = logging.getLogger(__name__)
_CONFIG_SQL = "SELECT value FROM kiosk_state WHERE key = 'unit_config'"
_DEPTH_SQL = "SELECT count(*) FROM outbox WHERE state IN ('pending', 'open')"


class _NotReadable(Exception):
    """The early read could not answer; the real outbox will."""


class DeferredOutbox:
    """Stands in for :class:`kiosk.outbox.Outbox` until it is opened; every attribute the
    wrapper does not define is the real outbox's (opened on first use)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._real: Outbox | None = None
        self._opening = threading.Lock()
        self._closed = False

    @property
    def is_open(self) -> bool:
        return self._real is not None

    def open(self) -> Outbox:
        """The real outbox, opened now if it is not yet (any thread)."""
        real = self._real
        if real is not None:
            return real
        with self._opening:
            if self._real is None:
                from kiosk.outbox import Outbox

                self._real = Outbox(self.path)
            return self._real

    def open_after_paint(self) -> None:
        """The deferred open (after a paint: kiosk/app.py): nothing once the kiosk has closed.

        An outbox that cannot be opened stops the kiosk with an error, as it did when it was
        opened before the first screen, so the service manager restarts it; a kiosk that went on
        without its outbox could not keep a rating."""
        if self._closed:
            return
        try:
            self.open()
        except Exception:
            log.critical("the outbox %s cannot be opened: stopping", self.path, exc_info=True)
            QCoreApplication.exit(1)

    def __getattr__(self, name: str) -> Any:
        # Only for names not found on this wrapper: the outbox's own methods and attributes.
        if name.startswith("__") or name in ("_real", "_opening", "_closed", "path"):
            raise AttributeError(name)
        return getattr(self.open(), name)

    # -- bound early by the session: they must not open the file when they are looked up ----

    def has_rated(self, dossier_code: str, stage: Stage) -> bool:
        return self.open().has_rated(dossier_code, stage)

    def stage_of(self, dossier_code: str) -> Stage:
        return self.open().stage_of(dossier_code)

    def count_refusal(self, reason: str) -> None:
        self.open().count_refusal(reason)

    # -- what the start screen reads -------------------------------------------------------

    def load_unit_config(self) -> UnitConfigMessage | None:
        if self._real is not None:
            return self._real.load_unit_config()
        try:
            row = self._peek(_CONFIG_SQL)
        except _NotReadable:
            return self.open().load_unit_config()
        if row is None or row[0] is None:
            return None
        try:
            return decode_unit_config(bytes(row[0]))
        except ContractError:
            return None

    def depth(self) -> int:
        if self._real is not None:
            return self._real.depth()
        try:
            row = self._peek(_DEPTH_SQL)
        except _NotReadable:
            return self.open().depth()
        return int(row[0]) if row else 0

    def close(self) -> None:
        """Close the real outbox if it was ever opened (an outbox never opened holds nothing
        new: whatever a crash left open is closed when it is next opened)."""
        self._closed = True
        if self._real is not None:
            self._real.close()

    def _peek(self, sql: str) -> tuple[Any, ...] | None:
        """One row of ``sql``, read-only; None when the file or the table does not exist yet
        (the real outbox creates them)."""
        if not self.path.exists():
            return None
        try:
            conn = sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True)
        except sqlite3.Error as exc:
            raise _NotReadable(str(exc)) from exc
        try:
            row: tuple[Any, ...] | None = conn.execute(sql).fetchone()
            return row
        except sqlite3.OperationalError as exc:
            if "no such table" in str(exc):
                return None
            raise _NotReadable(str(exc)) from exc
        except sqlite3.Error as exc:
            raise _NotReadable(str(exc)) from exc
        finally:
            conn.close()
