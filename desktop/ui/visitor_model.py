"""The visitor list's table model: a thin Qt adapter over the pure :class:`VisitorIndex`."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Final

from PySide6.QtCore import (
    QAbstractTableModel,
    QEvent,
    QLocale,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QTableView

from desktop.core.clock import Clock, Deadline
from desktop.core.filters import Search, VisitorFilter
from desktop.core.labels import place_text, visitor_label
from desktop.core.ordering import Column
from desktop.core.slots import Deadlines
from desktop.core.state import (
    STATE_NAMES,
    VisitorState,
    badges,
    device_text,
    format_duration,
    primary_state,
    time_on_site,
)
from desktop.core.store import Changes, VisitorStore
from desktop.core.visitor_index import NOTHING_LEFT, IndexListener, Unapplied, VisitorIndex
from desktop.integration.memory import give_back_freed_memory
from protocol.messages import Visitor

# Role and flag lookups on the Qt enums cost microseconds each; data() runs per visible cell per repaint.
_DISPLAY: Final = int(Qt.ItemDataRole.DisplayRole)
_DECORATION: Final = int(Qt.ItemDataRole.DecorationRole)
_TOOLTIP: Final = int(Qt.ItemDataRole.ToolTipRole)
_LANGUAGE_CHANGE: Final = QEvent.Type.LanguageChange
_ALIGNMENT: Final = int(Qt.ItemDataRole.TextAlignmentRole)
_HORIZONTAL: Final = Qt.Orientation.Horizontal
_ASCENDING: Final = Qt.SortOrder.AscendingOrder
_ALIGN_RIGHT: Final = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
_ITEM_FLAGS: Final = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemNeverHasChildren
_NO_FLAGS: Final = Qt.ItemFlag.NoItemFlags
_ROOT: Final = QModelIndex()

VISITOR_ID_ROLE: Final = int(Qt.ItemDataRole.UserRole) + 1
"""Data role giving the visitor id of any cell of a row."""
_SERVED_ROLES: Final = frozenset({_DISPLAY, _DECORATION, _TOOLTIP, _ALIGNMENT, VISITOR_ID_ROLE})

_STATE: Final = int(Column.STATE)
_NAME: Final = int(Column.NAME)
_LOCATION: Final = int(Column.LOCATION)
_PAGE: Final = int(Column.PAGE)
_TIME: Final = int(Column.TIME_ON_SITE)
_VISITS: Final = int(Column.VISITS)
_COLUMNS: Final = len(Column)
_LAST_COLUMN: Final = _COLUMNS - 1
# Places in a row's cached cells after the column texts.
_STATE_CELL: Final = _COLUMNS
_TIP_CELL: Final = _COLUMNS + 1
_RECORD_CELL: Final = _COLUMNS + 2
_FLAG_CELL: Final = _COLUMNS + 3
_CELL_CACHE: Final = 4096  # display texts of this many rows at most (a screenful or two is what is painted)
_EMPTY_CELLS: Final[tuple[Any, ...]] = ("",) * _COLUMNS + (VisitorState.LEFT, "", None, None)

PaintedCell = tuple[str, QIcon | None, bool, str]
"""A cell as :meth:`VisitorTableModel.paint_cell` gives it: text, icon, right-aligned, visitor id."""
_NO_CELL: Final[PaintedCell] = ("", None, False, "")
WARM_COLUMNS: Final = (Column.NAME, Column.TIME_ON_SITE)
"""Columns whose order is prepared in idle time after a snapshot: their first sort was the slowest."""
WARM_DELAY_MS: Final = 500
"""How long after a snapshot the preparing starts (then one step per turn of the event loop, ~3-25 ms each)."""
WARM_CHECK_MS: Final = 5_000
"""How often a prepared order is checked for too many changes since (then prepared again)."""
WARM_STEP_EVENTS: Final = 50
"""Row events between two steps above which the preparing waits too."""
WARM_BUSY_RATE: Final = 1000.0
"""Row events a second above which the preparing waits: under a flood it would fill the event loop's turns
(and what it notes would soon be too much to use)."""


def inert_tooltip(text: str) -> str:
    """Visitor text for a tooltip that Qt will not take for rich text (QToolTip guesses, like QLabel).

    A zero-width space after each "<" (and in "&lt;") means no tag or entity is recognized, so the tooltip
    shows exactly the visitor's characters and never loads ``<img src="file:...">``.
    """
    if "<" in text or "&" in text:
        return text.replace("<", "<\u200b").replace("&lt;", "&\u200blt;")
    return text


class _QtEvents(IndexListener):
    """Forwards the index's changes to the model's begin/end calls; persistent indexes follow visitor ids."""

    def __init__(self, model: VisitorTableModel) -> None:
        self._model = model
        self._persistent: list[QModelIndex] = []
        self._persistent_ids: list[str | None] = []

    def inserting(self, row: int) -> None:
        self._model.row_events += 1
        self._model.beginInsertRows(_ROOT, row, row)

    def inserted(self) -> None:
        self._model.endInsertRows()

    def removing(self, row: int) -> None:
        self._model.row_events += 1
        self._model.beginRemoveRows(_ROOT, row, row)

    def removed(self) -> None:
        self._model.endRemoveRows()

    def moving(self, source: int, target: int) -> None:
        self._model.row_events += 1
        # Qt names the row the moved one goes before, counted before the move.
        self._model.beginMoveRows(_ROOT, source, source, _ROOT, target if target < source else target + 1)

    def moved(self) -> None:
        self._model.endMoveRows()

    def changed(self, first: int, last: int) -> None:
        self._model.row_events += 1
        self._model.rows_changed(first, last)

    def reordering(self) -> None:
        model = self._model
        model.layoutAboutToBeChanged.emit()
        self._persistent = model.persistentIndexList()
        index = model.visitor_index
        self._persistent_ids = [index.id_at(p.row()) for p in self._persistent]

    def reordered(self) -> None:
        model = self._model
        old, ids = self._persistent, self._persistent_ids
        self._persistent, self._persistent_ids = [], []
        if old:
            new: list[QModelIndex] = []
            for p, visitor_id in zip(old, ids, strict=True):
                row = model.row_of(visitor_id) if visitor_id is not None else -1
                new.append(model.index(row, p.column()) if row >= 0 else QModelIndex())
            model.changePersistentIndexList(old, new)
        model.layoutChanged.emit()

    def resetting(self) -> None:
        self._model.beginResetModel()

    def reset(self) -> None:
        self._model.clear_cells()
        self._model.endResetModel()
        self._model.warm_later()

    def counts_changed(self, counts: dict[VisitorFilter, int]) -> None:
        self._model.countsChanged.emit(counts)

    def waiting_changed(self, count: int) -> None:
        self._model.waitingChanged.emit(count)


class VisitorTableModel(QAbstractTableModel):
    """Every visitor of the store, filtered, searched and sorted, as a flat table.

    Order, filter, search, counts and the reorder hold live in :class:`VisitorIndex` (pure Python); this
    class turns its events into Qt's begin/end calls (one insert, remove or move per changed row, a layout
    change for filter, search and sort, a reset only for a snapshot) and builds the cells' texts, cached
    per row for the few rows a view paints. Usable without a view (benchmarks drive it directly).

    Visitor-typed text comes back as plain ``str``: DisplayRole exactly as typed (item views paint it as
    plain text; anything else showing it must use ``Qt.TextFormat.PlainText``), ToolTipRole made inert
    with :func:`inert_tooltip` because QToolTip would guess rich text. Flags are cached icons
    (DecorationRole of the location column), never colour-emoji text.
    """

    countsChanged = Signal(object)
    """dict[VisitorFilter, int]: how many visitors each filter lists (search not applied)."""
    waitingChanged = Signal(int)
    """How many new visitors wait for the reorder hold to end (0 when none)."""

    def __init__(
        self,
        store: VisitorStore,
        clock: Clock,
        icon_for: Callable[[VisitorState], QIcon],
        parent: QObject | None = None,
        flag_for: Callable[[str | None], QIcon | None] | None = None,
    ) -> None:
        super().__init__(parent)
        self._store = store
        self._clock = clock
        self._icon_for = icon_for
        if flag_for is None:
            from desktop.ui.flags import FlagIcons  # noqa: PLC0415 (needs a QGuiApplication: made on first use)

            flag_for = FlagIcons()
        self._flag_for = flag_for
        self._icons: dict[VisitorState, QIcon] = {}
        self._cells: dict[str, tuple[Any, ...]] = {}
        self._view: QTableView | None = None
        self._hold: Any = None
        self._pacer: Callable[[], bool] | None = None
        # Prepares the orders of WARM_COLUMNS after a snapshot, a step per turn (VisitorIndex.warm_step).
        self._warmer = QTimer(self)
        self._warmer.setSingleShot(True)
        self._warmer.timeout.connect(self._warm_step)
        self.row_events = 0  # inserts, removals, moves and changed runs since the last check (busy or not)
        self._warm_checked = time.monotonic()
        self._warm_busy = False
        self._warm_due = 0.0  # when the timer was meant to fire (a late one means the event loop was held up)
        self._warm_worked = False  # a preparation did steps since the last time memory was given back
        self._index = VisitorIndex(clock, _QtEvents(self))
        self._headers: tuple[str, ...] = ()
        self._state_names: dict[VisitorState, str] = {}
        self._translate()
        self._index.set_locale(QLocale().name())  # searched country names in the UI's language
        if store.visitors:
            self._index.reset(store.visitors)

    def _translate(self) -> None:
        """Column titles and state names in the UI's language of the moment."""
        self._headers = (
            self.tr("State"),
            self.tr("Name"),
            self.tr("Location"),
            self.tr("Current page"),
            self.tr("Time on site"),
            self.tr("Visits"),
            self.tr("Referrer"),
            self.tr("Browser / OS / device"),
            self.tr("Agent"),
        )
        self._state_names = {
            VisitorState.NEW_CHAT: self.tr("New or unanswered chat"),
            VisitorState.CHATTING: self.tr("Chatting"),
            VisitorState.ACTIVE: self.tr("Active"),
            VisitorState.IDLE: self.tr("Idle"),
            VisitorState.AUTO_MESSAGED: self.tr("Auto-messaged"),
            VisitorState.CUSTOMER: self.tr("Customer"),
            VisitorState.RETURNING: self.tr("Returning"),
            VisitorState.BANNED: self.tr("Banned"),
            VisitorState.LEFT: self.tr("Left"),
            VisitorState.TYPING: self.tr("Typing"),
        }

    def retranslate(self) -> None:
        """A language switch: new column titles, and every cell (labels, countries, state tooltips) built again."""
        self._translate()
        self._index.set_locale(QLocale().name())
        self._cells.clear()
        self.headerDataChanged.emit(_HORIZONTAL, 0, _COLUMNS - 1)
        rows = len(self._index)
        if rows:
            self.dataChanged.emit(self.index(0, 0), self.index(rows - 1, _COLUMNS - 1))

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """The attached view's header tells of a language switch (a model gets no LanguageChange itself)."""
        if event.type() == _LANGUAGE_CHANGE:
            self.retranslate()
        return False

    # ------------------------------------------------------------ Qt model interface

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = _ROOT) -> int:
        """Shown visitors (a flat table: no children)."""
        return 0 if parent.isValid() else len(self._index)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = _ROOT) -> int:
        """The columns of :class:`Column`."""
        return 0 if parent.isValid() else _COLUMNS

    def flags(self, index: QModelIndex | QPersistentModelIndex) -> Qt.ItemFlag:
        """Rows are selectable, never editable."""
        return _ITEM_FLAGS if index.isValid() else _NO_FLAGS

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = _DISPLAY) -> Any:
        """Column titles (translated)."""
        if orientation == _HORIZONTAL and 0 <= section < _COLUMNS and role in (_DISPLAY, _TOOLTIP):
            return self._headers[section]
        return None

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = _DISPLAY) -> Any:
        """Cell contents; visitor text is returned as plain strings, never markup."""
        if role not in _SERVED_ROLES:
            return None  # font, colours, check state...: the delegate asks for each of them per painted cell
        row = index.row()
        visitors = self._index
        if not 0 <= row < len(visitors):
            return None
        column = index.column()
        if role == _DISPLAY:
            cells = self._row_cells(row)
            if column == _TIME:
                record = cells[_RECORD_CELL]
                return format_duration(time_on_site(record, self._clock())) if record is not None else ""
            return cells[column]
        if role == _DECORATION:
            if column == _STATE:
                return self._icon(self._row_cells(row)[_STATE_CELL])
            if column == _LOCATION:
                return self._row_cells(row)[_FLAG_CELL]
            return None
        if role == _TOOLTIP:
            cells = self._row_cells(row)
            if column == _PAGE:
                record = cells[_RECORD_CELL]
                url = record.current_url if record is not None else None
                return inert_tooltip(url) if url else None
            if column == _STATE:
                return cells[_TIP_CELL]
            if column in (_NAME, _LOCATION):
                return inert_tooltip(cells[column]) if cells[column] else None
            return None
        if role == VISITOR_ID_ROLE:
            return visitors.id_at(row)
        if role == _ALIGNMENT and column in (_TIME, _VISITS):
            return _ALIGN_RIGHT
        return None

    def paint_cell(self, row: int, column: int) -> PaintedCell:
        """What a painted cell shows, in one call (a delegate's fast path instead of ~7 ``data()`` round trips).

        (text as DisplayRole gives it, the icon DecorationRole gives or None, right-aligned or not, the
        row's visitor id or "" outside the list). The same cached cells as :meth:`data`.
        """
        visitors = self._index
        if not 0 <= row < len(visitors):
            return _NO_CELL
        cells = self._row_cells(row)
        record = cells[_RECORD_CELL]
        visitor_id = record.id if record is not None else ""
        if column == _TIME:
            text = format_duration(time_on_site(record, self._clock())) if record is not None else ""
            return text, None, True, visitor_id
        if column == _STATE:
            return "", self._icon(cells[_STATE_CELL]), False, visitor_id
        if column == _LOCATION:
            return cells[_LOCATION], cells[_FLAG_CELL], False, visitor_id
        if 0 <= column < _COLUMNS:
            return cells[column], None, column == _VISITS, visitor_id
        return _NO_CELL

    def sort(self, column: int, order: Qt.SortOrder = _ASCENDING) -> None:
        """Sort by a column (every column sorts); the order survives updates.

        QHeaderView's default sort indicator is descending: a view enabling sorting should first set the
        indicator to ``(Column.STATE, AscendingOrder)`` to keep the default order.
        """
        # -1 (Qt's "unsorted") and unknown columns mean the default order.
        new_column = Column(column) if 0 <= column < _COLUMNS else Column.STATE
        self._index.set_sort(new_column, order != _ASCENDING)

    # ------------------------------------------------------------ public API

    @property
    def visitor_index(self) -> VisitorIndex:
        """The pure index behind the rows."""
        return self._index

    @property
    def sort_column(self) -> Column:
        """The column the rows are sorted by."""
        return self._index.sort_column

    @property
    def sort_order(self) -> Qt.SortOrder:
        """Ascending or descending."""
        return Qt.SortOrder.DescendingOrder if self._index.descending else _ASCENDING

    @property
    def current_filter(self) -> VisitorFilter:
        """The filter applied."""
        return self._index.current_filter

    @property
    def search(self) -> Search:
        """The search applied."""
        return self._index.search

    @property
    def counts(self) -> dict[VisitorFilter, int]:
        """How many visitors each filter lists now (a copy)."""
        return self._index.counts

    @property
    def activity(self) -> Deadlines:
        """The activity clock (when the next visitor turns inactive)."""
        return self._index.activity

    @property
    def waiting(self) -> int:
        """New visitors waiting for the reorder hold to end."""
        return self._index.waiting

    def visitor(self, visitor_id: str) -> Visitor | None:
        """A visitor as the list currently shows it (None when not in the list)."""
        return self._index.record(visitor_id)

    def visitor_at(self, row: int) -> Visitor | None:
        """The visitor shown at ``row``, or None outside the list."""
        return self._index.record_at(row)

    def row_of(self, visitor_id: str) -> int:
        """The row showing a visitor, or -1 when it is not shown."""
        return self._index.row_of(visitor_id)

    def index_of(self, visitor_id: str, column: int = 0) -> QModelIndex:
        """The index of a visitor's cell, invalid when it is not shown."""
        row = self.row_of(visitor_id)
        return self.index(row, column) if row >= 0 else QModelIndex()

    def set_filter(self, f: VisitorFilter) -> None:
        """Show only the visitors of one filter."""
        self._index.set_filter(f)

    def set_search(self, text: str) -> None:
        """Show only visitors matching a search query (capped; case-insensitive; every word must match)."""
        self._index.set_search(text)

    def hold(self) -> None:
        """Keep the shown order (pointer over the list): updates change cells in place until :meth:`release`.

        A hold during a paced release stops it where it is.
        """
        self._index.hold()

    def release(self) -> None:
        """End the hold: apply the order, arrivals and departures it deferred.

        With a pacer (:meth:`set_pacer`: the dispatcher) they go out a chunk per frame through
        :meth:`release_step`, as single moves, inserts and removals; without one (or a detached one), at once.
        """
        if self._pacer is None or (self._index.release(0) and not self._pacer()):
            self._index.release()

    def set_pacer(self, wake: Callable[[], bool] | None) -> None:
        """Release holds in chunks: ``wake`` asks for :meth:`release_step` calls (``StoreDispatcher.pace``)."""
        self._pacer = wake

    def release_step(self, limit: int) -> tuple[int, int]:
        """Apply at most ``limit`` changes of a release under way: (how many were applied, how many remain).

        Nothing while the order is held again (the hold stopped the release; the next release goes on).
        """
        index = self._index
        if not index.releasing:
            return 0, 0
        before = index.deferred
        left = index.release(limit)
        return before - left, left

    def attach_view(self, view: QTableView | None) -> None:
        """The view showing this model: :meth:`tick` refreshes its visible rows, and its pointer holds the order.

        None detaches (then :meth:`tick` names the whole time column).
        """
        if self._hold is not None:
            self._hold.detach()
            self._hold = None
        if self._view is not None:
            self._view.horizontalHeader().removeEventFilter(self)
        self._view = view
        if view is not None:
            # Qt hands LanguageChange on to every child widget; the header sees few other events.
            view.horizontalHeader().installEventFilter(self)
            from desktop.ui.reorder_hold import ReorderHold  # noqa: PLC0415 (a widget helper, not needed headless)

            self._hold = ReorderHold(self, view)

    def warm_later(self) -> None:
        """Prepare the orders of :data:`WARM_COLUMNS`, starting :data:`WARM_DELAY_MS` after now (a snapshot)."""
        self._index.warm(WARM_COLUMNS)
        self.row_events, self._warm_checked = 0, time.monotonic()
        self._start_warmer(WARM_DELAY_MS)

    def _shown(self) -> bool:
        view = self._view
        try:
            return view is not None and view.isVisible()
        except RuntimeError:  # the view is gone (deleted without detaching)
            return False

    def _start_warmer(self, ms: int) -> None:
        self._warm_due = time.monotonic() + ms / 1000
        self._warmer.start(ms)

    def _warm_step(self) -> None:
        index = self._index
        index.drop_spoiled()  # (under a flood: its values are no longer computed for every update)
        if not self._shown():
            self._start_warmer(WARM_DELAY_MS)  # prepared only for a list someone can click on
            return
        now = time.monotonic()
        if now - self._warm_due > WARM_DELAY_MS / 5000:
            # Fired late: the event loop was held up, so the events counted tell nothing. Count afresh.
            self.row_events, self._warm_checked = 0, now
            self._start_warmer(WARM_DELAY_MS // 2)
            return
        if now - self._warm_checked >= WARM_DELAY_MS / 2000:  # the rate over a quarter second at least
            self._warm_busy = self.row_events / (now - self._warm_checked) > WARM_BUSY_RATE
            self.row_events, self._warm_checked = 0, now
        elif self.row_events > WARM_STEP_EVENTS:  # a busy drain between two steps: the flood has begun
            self._warm_busy = True
            self.row_events, self._warm_checked = 0, now
        if self._warm_busy:
            self._start_warmer(WARM_DELAY_MS)  # busy: later
            return
        if not index.warming:
            index.warm(WARM_COLUMNS)  # a column changed too much since it was prepared: again
        # The next step in a later turn, so that events in between are not held up.
        more = index.warm_step()
        if more:
            self._warm_worked = True
        elif self._warm_worked:
            # Done: the columns' values were ~100,000 short-lived objects; their freed pages go back to the
            # system (glibc kept them: ~50 B a visitor of RSS otherwise; bench.memory).
            self._warm_worked = False
            give_back_freed_memory()
        self._start_warmer(0 if more else WARM_CHECK_MS)

    def apply_changes(self, changes: Changes, deadline: Deadline | None = None) -> Unapplied:
        """Apply a batch drained from the store: rows move, appear and disappear incrementally.

        With a ``deadline`` (``StoreDispatcher.apply_with``), the removed and upserted ids it left unapplied are
        returned (see ``VisitorIndex.apply``); a snapshot is applied whole.
        """
        if changes.reset:
            self._index.reset(self._store.visitors)
        elif changes.upserted or changes.removed:
            return self._index.apply(changes.removed, changes.upserted, self._store.visitors, deadline)
        return NOTHING_LEFT

    def tick(self, visible: tuple[int, int] | None = None) -> None:
        """Once a second: visitors whose Active flag ran out change state; visible times on site tick.

        ``visible`` is the (first, last) shown row; without it the attached view's viewport decides, and
        with no view the whole column is named. Only the time column's cells are named, so a view repaints
        just those.
        """
        self._index.tick()
        n = len(self._index)
        if not n:
            return
        first, last = visible if visible is not None else self._visible_rows(n)
        first, last = max(0, first), min(n - 1, last)
        if first <= last:
            self.dataChanged.emit(self.createIndex(first, _TIME), self.createIndex(last, _TIME), [_DISPLAY])

    # ------------------------------------------------------------ called by the index adapter

    def rows_changed(self, first: int, last: int) -> None:
        """Rows have new records: tell the views about the cells that look different, and only those.

        Most updates of a busy site are activity that changes nothing shown (the state stays Active), and
        a page view changes one cell: a painted row's rebuilt cells are compared with the cached ones, so
        a view repaints only changed cells. Rows not painted yet have no cached cells and are announced
        whole (a view ignores rows it does not show). A changed row off screen is announced whole too, and its
        cached cells are dropped rather than rebuilt: under a flood most changed rows are off screen, and
        their records are made and compared only when painted again.
        """
        cells, index = self._cells, self._index
        shown: tuple[int, int] | None = None  # the rows on screen, asked of the view only when needed
        start = -1  # a run of rows announced whole
        for row in range(first, last + 1):
            visitor_id = index.id_at(row)
            old = cells.get(visitor_id) if visitor_id is not None else None
            if visitor_id is not None and old is not None:
                if shown is None:
                    shown = self._visible_rows(len(index))
                if not shown[0] <= row <= shown[1]:
                    del cells[visitor_id]
                    old = None
            record = index.record_at(row) if old is not None else None
            if record is None or old is None:
                if start < 0:
                    start = row
                continue
            if start >= 0:
                self.dataChanged.emit(self.createIndex(start, 0), self.createIndex(row - 1, _LAST_COLUMN))
                start = -1
            new = cells[record.id] = self._build_cells(record)
            changed = self._changed_columns(old, new)
            column = 0
            while column < _COLUMNS:  # one signal per run of adjacent changed cells
                if not changed[column]:
                    column += 1
                    continue
                run = column
                while run + 1 < _COLUMNS and changed[run + 1]:
                    run += 1
                self.dataChanged.emit(self.createIndex(row, column), self.createIndex(row, run))
                column = run + 1
        if start >= 0:
            self.dataChanged.emit(self.createIndex(start, 0), self.createIndex(last, _LAST_COLUMN))

    def _changed_columns(self, old: tuple[Any, ...], new: tuple[Any, ...]) -> list[bool]:
        """Which columns of a row show something different (text, state icon or tooltip, flag, time, link)."""
        changed = [old[c] != new[c] for c in range(_COLUMNS)]
        if old[_STATE_CELL] != new[_STATE_CELL] or old[_TIP_CELL] != new[_TIP_CELL]:
            changed[_STATE] = True
        if old[_FLAG_CELL] is not new[_FLAG_CELL]:
            changed[_LOCATION] = True
        a, b = old[_RECORD_CELL], new[_RECORD_CELL]
        if a is None or b is None:
            return [True] * _COLUMNS if a is not b else changed
        if a.current_url != b.current_url:
            changed[_PAGE] = True  # the tooltip
        now = self._clock()
        if int(time_on_site(a, now)) != int(time_on_site(b, now)):
            changed[_TIME] = True
        return changed

    def clear_cells(self) -> None:
        """Forget every cached cell (after a reset)."""
        self._cells.clear()

    # ------------------------------------------------------------ display

    def _visible_rows(self, n: int) -> tuple[int, int]:
        view = self._view
        if view is None:
            return 0, n - 1
        if not view.isVisible():
            return 0, -1
        first = view.rowAt(0)
        if first < 0:
            return 0, -1
        last = view.rowAt(view.viewport().height() - 1)
        return first, n - 1 if last < 0 else last

    def _icon(self, state: VisitorState) -> QIcon:
        icon = self._icons.get(state)
        if icon is None:
            icon = self._icons[state] = self._icon_for(state)
        return icon

    def _row_cells(self, row: int) -> tuple[Any, ...]:
        """The cached cells of a shown row, built when missing or when the record was replaced."""
        record = self._index.record_at(row)
        if record is None:  # a row read mid-update: nothing to show rather than another visitor's data
            return _EMPTY_CELLS
        cells = self._cells.get(record.id)
        if cells is None or cells[_RECORD_CELL] is not record:
            if len(self._cells) >= _CELL_CACHE:
                self._cells.clear()
            cells = self._cells[record.id] = self._build_cells(record)
        return cells

    def _build_cells(self, v: Visitor) -> tuple[Any, ...]:
        """Display texts of one row: the column texts, then state, state tooltip, record and flag icon."""
        now = self._clock()
        state = primary_state(v, now, self._store.is_typing(v.id))
        tip = "\n".join(
            [self._state_name(state, v)] + [self._state_name(s, v) for s in badges(v, now) if s is not state]
        )
        locale = QLocale().name()  # the UI's language (i18n sets the default locale); labels follow a switch
        return (
            "",
            visitor_label(v, locale),
            place_text(v, locale),
            v.current_title or v.current_url or "",
            "",
            str(v.visit_count),
            v.referrer or "",
            device_text(v),
            v.chat_agent_name or "",
            state,
            tip,
            v,
            self._flag_for(v.country_code),
        )

    def _state_name(self, state: VisitorState, visitor: Visitor) -> str:
        name = self._state_names.get(state) or STATE_NAMES[state]
        if state is VisitorState.RETURNING:
            return f"{name} ({visitor.visit_count})"
        return name
