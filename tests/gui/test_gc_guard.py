"""Cyclic garbage made on another thread is collected on the GUI thread."""

from __future__ import annotations

import gc
import threading
import weakref

import pytest
from PySide6.QtWidgets import QApplication

from desktop.ui.gc_guard import GuiThreadCollector

pytestmark = pytest.mark.gui


class _Node:
    def __init__(self) -> None:
        self.me = self  # a reference cycle: only the cyclic collector frees it


def test_cycles_from_a_worker_thread_die_on_the_gui_thread(qapp: QApplication) -> None:
    was_enabled = gc.isenabled()
    collector = GuiThreadCollector(interval_ms=10)
    freed_on: list[str] = []
    try:
        assert not gc.isenabled()

        def make_garbage() -> None:
            for _ in range(5000):  # far past generation 0's threshold
                node = _Node()
                weakref.finalize(node, lambda: freed_on.append(threading.current_thread().name))

        worker = threading.Thread(target=make_garbage, name="server-thread")
        worker.start()
        worker.join()
        assert freed_on == []  # nothing collected on the worker
        collector.check()
        gc.collect()  # older generations too, still on this thread
        assert freed_on
        assert set(freed_on) == {threading.current_thread().name}
    finally:
        collector.stop()
    assert gc.isenabled() is was_enabled
