"""The visitor model prepares the orders of its slowest columns in idle time after a snapshot."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QTableView

from desktop.core.clock import ManualClock
from desktop.core.ordering import Column, sort_key
from desktop.core.store import Changes, VisitorStore
from desktop.ui.visitor_model import VISITOR_ID_ROLE, WARM_COLUMNS, VisitorTableModel
from tests.unit.desktop.factory import NOW, changed, make_visitor, snapshot

pytestmark = pytest.mark.gui


def test_after_a_snapshot_the_model_prepares_its_columns_and_a_first_sort_by_one_is_right(qtbot: Any) -> None:
    store = VisitorStore()
    visitors = [make_visitor(i, name=["Zoë", "ärger", None, "ß"][i % 4], visit_started_at=NOW - i) for i in range(40)]
    store.apply(snapshot(visitors))
    store.take_changes()
    model = VisitorTableModel(store, ManualClock(NOW), lambda _state: QIcon(), flag_for=lambda _code: None)
    index = model.visitor_index
    view = QTableView()
    view.setModel(model)
    model.attach_view(view)
    qtbot.addWidget(view)
    qtbot.wait(700)
    assert not index._warm  # only for a list shown: nobody can click on a hidden one
    view.show()
    assert not index._warm  # not at once: the snapshot's own turn stays short
    qtbot.waitUntil(lambda: set(index._warm) == set(WARM_COLUMNS) and not index.warming, timeout=5000)
    store.apply(changed(11, make_visitor(3, name="Aaron", visit_started_at=NOW - 3)))  # after the warm-up
    model.apply_changes(store.take_changes())
    model.sort(int(Column.NAME))
    assert Column.NAME not in index._warm  # used
    shown = [model.index(row, 0).data(VISITOR_ID_ROLE) for row in range(model.rowCount())]
    records = sorted(store.visitors.values(), key=lambda v: sort_key(Column.NAME, v, NOW))
    assert shown == [v.id for v in records]
    model.apply_changes(Changes(reset=True))  # a snapshot again: prepared again, but the column sorted by
    assert not index._warm
    qtbot.waitUntil(lambda: not index.warming and bool(index._warm), timeout=5000)
    assert set(index._warm) == set(WARM_COLUMNS) - {Column.NAME}
