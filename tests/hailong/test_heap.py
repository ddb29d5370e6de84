"""hailong.heap on this machine's real glibc: freed memory held by a thread's arena goes back."""

from __future__ import annotations

import threading
from pathlib import Path

from hailong.heap import release_free_memory


def _anonymous_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("RssAnon:"):
            return int(line.split()[1])
    raise AssertionError("no RssAnon in /proc/self/status")


def test_memory_freed_below_a_live_block_is_returned() -> None:
    held: list[bytearray] = []

    def allocate() -> None:
        # 40 MiB in 64 KiB blocks (under glibc's mmap threshold: they come from this thread's
        # arena), then all but the last freed: the live block on top keeps the arena from
        # shrinking on its own.
        blocks = [bytearray(64 * 1024) for _ in range(640)]
        held.append(blocks[-1])
        del blocks

    worker = threading.Thread(target=allocate)
    worker.start()
    worker.join()
    before = _anonymous_kib()
    assert release_free_memory()
    after = _anonymous_kib()
    assert before - after > 20 * 1024, f"RssAnon {before} kB -> {after} kB"
    assert len(held[0]) == 64 * 1024
