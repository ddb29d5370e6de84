"""Handing freed memory back to the operating system, for processes that run all day.

glibc's allocator gives each thread that allocates its own arena and keeps what is freed there
for reuse; it shrinks an arena only from its top, so a few live blocks near the top hold every
free page below them. In the hub the network thread allocates the read buffers and the
worker frees them, batch after batch: the 1,000-kiosk soak showed the hub's resident memory
creeping up in those arenas (its Python heap, measured with ``tracemalloc``, stayed flat).
``malloc_trim(0)`` walks every arena and returns the free pages inside it too (``madvise``), so
resident memory follows what is really in use. It takes about a millisecond for a hub's heap,
so the hub calls it once a minute from its worker loop.

On another C library (musl on Alpine, macOS) there is no ``malloc_trim`` and this does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from collections.abc import Callable
from functools import cache


@cache
def _malloc_trim() -> Callable[[int], int] | None:
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        trim: Callable[[int], int] = ctypes.CDLL(name).malloc_trim
    except (OSError, AttributeError):
        return None
    return trim


def release_free_memory() -> bool:
    """Return the allocator's free pages to the system; False where that cannot be done."""
    trim = _malloc_trim()
    if trim is None:
        return False
    trim(0)
    return True
