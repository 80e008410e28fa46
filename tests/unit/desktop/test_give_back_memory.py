"""Freed memory goes back to the system when the app asks (glibc's heap keeps it otherwise)."""

from __future__ import annotations

import os
import sys

import pytest

from desktop.integration.memory import give_back_freed_memory


def _rss() -> int:
    with open("/proc/self/statm", encoding="ascii") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc_trim exists only on Linux")
def test_freed_blocks_are_given_back_to_the_system() -> None:
    blocks = [bytes(2048) for _ in range(20_000)]  # ~40 MB from the C heap (over 512 B: not Python's arenas)
    pin = bytes(2048)  # allocated after them: the heap's top cannot shrink by itself when they are freed
    del blocks
    kept = _rss()
    assert give_back_freed_memory()
    assert kept - _rss() > 20 * 2**20
    del pin
