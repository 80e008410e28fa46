"""Cyclic garbage made on another thread is collected on the GUI thread."""

from __future__ import annotations

import gc
import threading
import weakref

import pytest
from PySide6.QtWidgets import QApplication

from desktop.core.freeze_policy import FreezePolicy
from desktop.ui.gc_guard import GuiThreadCollector

pytestmark = pytest.mark.gui


class _Node:
    def __init__(self) -> None:
        self.me: _Node | None = self  # a reference cycle: only the cyclic collector frees it


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


def test_long_lived_objects_are_frozen_and_a_frozen_cycle_is_freed_by_the_next_refreeze(qapp: QApplication) -> None:
    collector = GuiThreadCollector(interval_ms=60_000)
    freed: list[str] = []
    try:
        node = _Node()
        weakref.finalize(node, freed.append, "node")
        collector.check()  # the first check freezes the heap, this cycle with it
        assert collector.refreezes == 1
        frozen = gc.get_freeze_count()
        assert frozen > 0
        del node
        gc.collect()
        assert freed == []  # frozen: no collection looks at it
        collector.refreeze()
        assert freed == ["node"]
        assert gc.get_freeze_count() < frozen
    finally:
        collector.stop()
    assert gc.get_freeze_count() == 0


def test_the_policy_refreezes_when_frozen_objects_die(qapp: QApplication) -> None:
    now = [0.0]
    policy = FreezePolicy(growth_min=100, turnover=0.5, patience_s=0.0, count_every_s=30.0)
    collector = GuiThreadCollector(interval_ms=60_000, policy=policy, clock=lambda: now[0])
    freed: list[int] = []
    try:
        nodes = [_Node() for _ in range(len(gc.get_objects()) + 1000)]  # more than the rest of the heap
        weakref.finalize(nodes[0], freed.append, 0)
        collector.check()
        assert collector.refreezes == 1
        collector.check()
        assert collector.refreezes == 1  # nothing changed
        for node in nodes:
            node.me = None  # they die by reference counting, frozen or not
        nodes = [_Node()]
        weakref.finalize(nodes[0], freed.append, 1)
        assert freed == [0]
        collector.check()  # not counted yet (a walk over every frozen object): the deaths are unknown
        assert collector.refreezes == 1
        now[0] = 30.0
        collector.check()  # counted: most frozen objects died, everything is collected and frozen again
        assert collector.refreezes == 2
        nodes.clear()  # a cycle frozen by that refreeze: held until the collector stops
        assert freed == [0]
    finally:
        collector.stop()
    assert freed == [0, 1]
