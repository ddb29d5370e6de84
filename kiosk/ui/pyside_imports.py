"""A cheaper answer to PySide6's question about every module imported after it.

Once PySide6 is imported, an import hook of its own (``shibokensupport.feature``, for its
``from __feature__ import ...`` switches) asks of each newly imported module whether it uses
PySide6, by reading the module's source through ``inspect.getsource`` (a tokenizer run per
module) and looking for the word "PySide6". The kiosk draws its start screen first and imports
SQLAlchemy, pydantic and paho after it (kiosk/launch.py): some 250 modules, whose checks cost
~80 ms of CPU, ~0.4 s on a Raspberry Pi's budget, all of it before the kiosk answers a tap.

:func:`quicken` gives the hook the same answer from a plain read of the module's file, and
leaves anything that is not a ``.py`` file to PySide6's own check. This reaches into PySide6's
private internals, so it is guarded: tests/kiosk/ui/test_pyside_imports.py fails when the
hook's names or behaviour change, and :func:`quicken` leaves PySide6 alone (and says so in the
log) when it does not find what it expects.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from types import ModuleType

log = logging.getLogger(__name__)
FEATURE_MODULE = "shibokensupport.feature"
CHECK = "_mod_uses_pyside"


def quicken() -> bool:
    """Install the quicker check (once); whether it is in place."""
    feature = sys.modules.get(FEATURE_MODULE)
    original = getattr(feature, CHECK, None)
    if feature is None or not callable(original):
        log.info("PySide6's import hook is not as expected: its own module check stays")
        return False
    if getattr(original, "quickened", False):
        return True
    setattr(feature, CHECK, _quicker(original))
    return True


def _quicker(original: Callable[[ModuleType], bool]) -> Callable[[ModuleType], bool]:
    def uses_pyside(module: ModuleType) -> bool:
        path = getattr(module, "__file__", None)
        if not isinstance(path, str) or not path.endswith(".py"):
            return original(module)  # built in, compiled, from a zip: PySide6's own answer
        try:
            with open(path, "rb") as source:
                return b"PySide6" in source.read()
        except OSError:
            return original(module)

    uses_pyside.quickened = True  # type: ignore[attr-defined]
    return uses_pyside
