"""The visitor list's table view as agents see it: one configuration shared by the main window and the benchmarks."""

from __future__ import annotations

from typing import Final

from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import QAbstractItemView, QFrame, QHeaderView, QTableView

from desktop.core.ordering import Column
from desktop.ui.visitor_delegate import VisitorDelegate
from desktop.ui.visitor_model import VisitorTableModel

COLUMN_WIDTHS: Final = {
    Column.STATE: 48,
    Column.NAME: 160,
    Column.LOCATION: 140,
    Column.PAGE: 220,
    Column.TIME_ON_SITE: 90,
    Column.VISITS: 56,
    Column.REFERRER: 170,
    Column.DEVICE: 200,
}
"""Starting widths in pixels (the last column, the agent, takes the rest); titles that need more get more."""

ROW_HEIGHT: Final = 32
"""Fixed row height: room for the avatar and air around the text (and fewer rows to paint than Qt's 30 px)."""
STATE_ICON_PX: Final = 18
"""The state icon's size (SVG, so drawn sharp at any scale)."""
AVATAR_PX: Final = 20


def style_table(table: QTableView) -> None:
    """Everything about the list's look and behaviour that does not depend on its model (rows, header, widths)."""
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    # The header's default indicator is descending; the model's default order is ascending by state.
    table.horizontalHeader().setSortIndicator(Column.STATE, Qt.SortOrder.AscendingOrder)
    table.setSortingEnabled(True)
    table.setAlternatingRowColors(True)
    table.setWordWrap(False)
    table.setShowGrid(False)
    table.setFrameShape(QFrame.Shape.NoFrame)
    table.setIconSize(QSize(STATE_ICON_PX, STATE_ICON_PX))
    table.verticalHeader().hide()
    # Fixed row heights: the view never asks every row for its size (matters at 100,000 rows).
    table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
    table.verticalHeader().setDefaultSectionSize(ROW_HEIGHT)
    header = table.horizontalHeader()
    header.setStretchLastSection(True)
    header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    header.setSortIndicatorShown(True)
    header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
    header.setHighlightSections(False)
    for column, width in COLUMN_WIDTHS.items():
        header.resizeSection(column, width)


def configure_visitor_table(table: QTableView, model: VisitorTableModel) -> VisitorDelegate:
    """Show ``model`` in ``table`` as the Visitors tab does; returns the delegate that paints every cell."""
    table.setModel(model)
    model.attach_view(table)
    style_table(table)
    delegate = VisitorDelegate(model, AVATAR_PX, table)
    table.setItemDelegate(delegate)
    return delegate
