"""Giving freed memory back to the system after a burst of short-lived objects (glibc's heap on Linux)."""

from __future__ import annotations

import ctypes
import ctypes.util
import sys
from collections.abc import Callable
from functools import cache


@cache
def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's ``malloc_trim``, or None where there is none (macOS, Windows, musl)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        trim: Callable[[int], int] = libc.malloc_trim
    except (OSError, AttributeError):
        return None
    return trim


def give_back_freed_memory() -> bool:
    """Return the C heap's free pages to the system; True where that was done (Linux with glibc).

    After large short-lived allocations (a column's 100,000 sort values, a snapshot's frames) glibc keeps the
    freed pages for later: it raised its own thresholds when the first large block was freed. The process then
    stays ~50 bytes a visitor larger than what it holds until the next burst reuses them. ``malloc_trim(0)``
    hands them back (a few milliseconds for the app's heap). macOS and Windows have other allocators and no
    such call; this does nothing there (not measured on them).
    """
    trim = _malloc_trim()
    if trim is None:
        return False
    trim(0)
    return True
