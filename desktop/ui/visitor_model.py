"""The visitor list's table model: filtered and sorted in Python, updated incrementally."""

from __future__ import annotations

from bisect import bisect_left
from collections import Counter
from collections.abc import Callable, Collection, Mapping
from itertools import compress, repeat
from operator import and_, contains, itemgetter
from typing import Any, Final

from PySide6.QtCore import (
    QAbstractTableModel,
    QLocale,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QTableView

from desktop.core.activity import ActivityClock
from desktop.core.clock import Clock
from desktop.core.filters import FILTER_BITS, Search, VisitorFilter, add_mask, filter_mask, search_text
from desktop.core.labels import location_text, visitor_label
from desktop.core.ordering import Column, SortValue, sort_values, value_function
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
from protocol.messages import Visitor

# Role and flag lookups on the Qt enums cost microseconds each; data() runs per visible cell per repaint.
_DISPLAY: Final = int(Qt.ItemDataRole.DisplayRole)
_DECORATION: Final = int(Qt.ItemDataRole.DecorationRole)
_TOOLTIP: Final = int(Qt.ItemDataRole.ToolTipRole)
_ALIGNMENT: Final = int(Qt.ItemDataRole.TextAlignmentRole)
_HORIZONTAL: Final = Qt.Orientation.Horizontal
_ASCENDING: Final = Qt.SortOrder.AscendingOrder
_ALIGN_RIGHT: Final = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
_ITEM_FLAGS: Final = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemNeverHasChildren
_NO_FLAGS: Final = Qt.ItemFlag.NoItemFlags
_ROOT: Final = QModelIndex()

VISITOR_ID_ROLE: Final = int(Qt.ItemDataRole.UserRole) + 1
"""Data role giving the visitor id of any cell of a row."""

_STATE: Final = int(Column.STATE)
_NAME: Final = int(Column.NAME)
_LOCATION: Final = int(Column.LOCATION)
_PAGE: Final = int(Column.PAGE)
_TIME: Final = int(Column.TIME_ON_SITE)
_VISITS: Final = int(Column.VISITS)
_COLUMNS: Final = len(Column)
_LAST_COLUMN: Final = _COLUMNS - 1


Key = tuple[SortValue, str, int, str]
"""A row: its sort value, visitor id, filter bits and search text.

Value and id make it unique, so sorted lists of keys can be searched with bisect; carrying the filter bits
and search text lets filtering run in C (``compress`` over ``map``) instead of a Python loop per row.
Holding only strings and numbers, keys are not tracked by the cyclic garbage collector, whose full passes
over 100,000 visitors would otherwise stall the list. Keys are replaced, never mutated.
"""
_VALUE: Final = itemgetter(0)
_MASK: Final = itemgetter(2)
_TEXT: Final = itemgetter(3)
_RECORD: Final = 11  # the visitor record's place in a row's cached cells
_CELL_CACHE: Final = 4096  # display texts of this many rows at most (a screenful or two is what is painted)


def inert_tooltip(text: str) -> str:
    """Visitor text for a tooltip that Qt will not take for rich text (QToolTip guesses, like QLabel).

    A zero-width space after each "<" (and in "&lt;") means no tag or entity is recognized, so the tooltip
    shows exactly the visitor's characters and never loads ``<img src="file:...">``.
    """
    if "<" in text or "&" in text:
        return text.replace("<", "<\u200b").replace("&lt;", "&\u200blt;")
    return text


class VisitorTableModel(QAbstractTableModel):
    """Every visitor of the store, filtered, searched and sorted, as a flat table.

    The order is kept in Python: the sorted list of the shown rows' keys (ascending; a descending view
    reads it backwards), plus every visitor's key in id order from which a filter or sort change derives
    a new list with one C-level sort. A changed visitor moves with a bisect and one ``beginMoveRows``;
    filter, search and sort changes are one layout change with persistent indexes mapped by visitor id;
    only a snapshot resets. Usable without a view (benchmarks drive it directly).

    Visitor-typed text comes back as plain ``str``: DisplayRole exactly as typed (item views paint it as
    plain text; anything else showing it must use ``Qt.TextFormat.PlainText``), ToolTipRole made inert
    with :func:`inert_tooltip` because QToolTip would guess rich text.
    """

    countsChanged = Signal(object)
    """dict[VisitorFilter, int]: how many visitors each filter lists (search not applied)."""

    BULK_MIN: Final = 256
    """A batch larger than this (and than 1/64 of the list) is applied as one layout change."""

    def __init__(
        self,
        store: VisitorStore,
        clock: Clock,
        icon_for: Callable[[VisitorState], QIcon],
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._store = store
        self._clock = clock
        self._icon_for = icon_for
        self._icons: dict[VisitorState, QIcon] = {}
        # Records are the ones of the last applied batch: the store may be ahead until the next drain.
        self._ids: list[str] = []  # every visitor id, sorted
        self._by_id: list[Key] = []  # their keys, in the same order (ties of a column sort stay by id)
        self._records: list[Visitor] = []  # their records, in the same order
        # Every key, sorted: needed only when the filter or search widens, so rebuilt then (one C sort)
        # rather than kept in order on every update (a second O(n) list move per moved row).
        self._all: list[Key] | None = []
        self._rows: list[Key] = []  # the shown keys, sorted ascending
        self._cells: dict[str, tuple[Any, ...]] = {}
        self._column = Column.STATE
        self._value_of = value_function(Column.STATE)
        self._descending = False
        self._filter = VisitorFilter.ALL
        self._bit = FILTER_BITS[VisitorFilter.ALL]
        self._search = Search()
        self._counts: dict[VisitorFilter, int] = dict.fromkeys(VisitorFilter, 0)
        self._activity = ActivityClock()
        self._view: QTableView | None = None
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
        if store.visitors:
            self._rebuild()

    # ------------------------------------------------------------ Qt model interface

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = _ROOT) -> int:
        """Shown visitors (a flat table: no children)."""
        return 0 if parent.isValid() else len(self._rows)

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
        rows = self._rows
        row = index.row()
        n = len(rows)
        if not 0 <= row < n:
            return None
        visitor_id = rows[n - 1 - row if self._descending else row][1]
        column = index.column()
        if role == _DISPLAY:
            cells = self._cells.get(visitor_id) or self._make_cells(visitor_id)
            if column == _TIME:
                record = cells[_RECORD]
                return format_duration(time_on_site(record, self._clock())) if record is not None else ""
            return cells[column]
        if role == _DECORATION:
            if column == _STATE:
                return self._icon((self._cells.get(visitor_id) or self._make_cells(visitor_id))[_COLUMNS])
            return None
        if role == _TOOLTIP:
            cells = self._cells.get(visitor_id) or self._make_cells(visitor_id)
            if column == _PAGE:
                url = cells[_RECORD].current_url if cells[_RECORD] is not None else None
                return inert_tooltip(url) if url else None
            if column == _STATE:
                return cells[_COLUMNS + 1]
            if column in (_NAME, _LOCATION):
                return inert_tooltip(cells[column]) if cells[column] else None
            return None
        if role == VISITOR_ID_ROLE:
            return visitor_id
        if role == _ALIGNMENT and column in (_TIME, _VISITS):
            return _ALIGN_RIGHT
        return None

    def sort(self, column: int, order: Qt.SortOrder = _ASCENDING) -> None:
        """Sort by a column (every column sorts); the order survives updates.

        QHeaderView's default sort indicator is descending: a view enabling sorting should first set the
        indicator to ``(Column.STATE, AscendingOrder)`` to keep the default order.
        """
        # -1 (Qt's "unsorted") and unknown columns mean the default order.
        new_column = Column(column) if 0 <= column < _COLUMNS else Column.STATE
        descending = order != _ASCENDING
        if new_column == self._column and descending == self._descending:
            return
        self.layoutAboutToBeChanged.emit()
        old_rows, old_descending = self._rows, self._descending
        if new_column != self._column:
            self._column = new_column
            self._value_of = value_function(new_column)
            self._resort()
            self._rows = self._shown(self._sorted_all())
        self._descending = descending
        self._remap_persistent(old_rows, old_descending)
        self.layoutChanged.emit()

    # ------------------------------------------------------------ public API

    @property
    def sort_column(self) -> Column:
        """The column the rows are sorted by."""
        return self._column

    @property
    def sort_order(self) -> Qt.SortOrder:
        """Ascending or descending."""
        return Qt.SortOrder.DescendingOrder if self._descending else _ASCENDING

    @property
    def current_filter(self) -> VisitorFilter:
        """The filter applied."""
        return self._filter

    @property
    def search(self) -> Search:
        """The search applied."""
        return self._search

    @property
    def counts(self) -> dict[VisitorFilter, int]:
        """How many visitors each filter lists now (a copy)."""
        return dict(self._counts)

    @property
    def activity(self) -> ActivityClock:
        """The activity clock (when the next visitor turns inactive)."""
        return self._activity

    def visitor(self, visitor_id: str) -> Visitor | None:
        """A visitor as the list currently shows it (None when not in the list)."""
        p = self._position(visitor_id)
        return self._records[p] if p >= 0 else None

    def visitor_at(self, row: int) -> Visitor | None:
        """The visitor shown at ``row``, or None outside the list."""
        rows = self._rows
        if not 0 <= row < len(rows):
            return None
        return self.visitor(rows[len(rows) - 1 - row if self._descending else row][1])

    def row_of(self, visitor_id: str) -> int:
        """The row showing a visitor, or -1 when it is not shown."""
        key = self._key_of(visitor_id)
        if key is None:
            return -1
        i = self._find(self._rows, key)
        if i < 0:
            return -1
        return len(self._rows) - 1 - i if self._descending else i

    def index_of(self, visitor_id: str, column: int = 0) -> QModelIndex:
        """The index of a visitor's cell, invalid when it is not shown."""
        row = self.row_of(visitor_id)
        return self.index(row, column) if row >= 0 else QModelIndex()

    def set_filter(self, f: VisitorFilter) -> None:
        """Show only the visitors of one filter."""
        f = VisitorFilter(f)
        if f == self._filter:
            return
        self._filter = f
        self._bit = FILTER_BITS[f]
        self._relayout(self._sorted_all())

    def set_search(self, text: str) -> None:
        """Show only visitors matching a search query (capped; case-insensitive; every word must match)."""
        search = Search(text)
        if search == self._search:
            self._search = search
            return
        narrows = search.narrows(self._search)
        self._search = search
        # Typing on only removes rows: re-check the shown ones instead of everyone.
        self._relayout(self._rows if narrows else self._sorted_all())

    def attach_view(self, view: QTableView | None) -> None:
        """Tell :meth:`tick` which view's visible rows to refresh (None: refresh the whole column)."""
        self._view = view

    def apply_changes(self, changes: Changes) -> None:
        """Apply a batch drained from the store: rows move, appear and disappear incrementally."""
        if changes.reset:
            self._rebuild()
        elif changes.upserted or changes.removed:
            self._update(changes.removed, changes.upserted, self._clock(), self._store.visitors)

    def tick(self, visible: tuple[int, int] | None = None) -> None:
        """Once a second: visitors whose Active flag ran out change state; visible times on site tick.

        ``visible`` is the (first, last) shown row; without it the attached view's viewport decides, and
        with no view the whole column is named (a view repaints only what it shows either way).
        """
        now = self._clock()
        flipped = self._activity.due(now)
        if flipped:
            self._update((), flipped, now, None)
        n = len(self._rows)
        if not n:
            return
        first, last = visible if visible is not None else self._visible_rows(n)
        first, last = max(0, first), min(n - 1, last)
        if first <= last:
            self.dataChanged.emit(self.createIndex(first, _TIME), self.createIndex(last, _TIME), [_DISPLAY])

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

    def _make_cells(self, visitor_id: str) -> tuple[Any, ...]:
        """Display texts of one row, built when first painted and dropped when the visitor changes."""
        if len(self._cells) >= _CELL_CACHE:
            self._cells.clear()
        p = self._position(visitor_id)
        if p < 0:  # a row read mid-update: nothing to show rather than another visitor's data
            return ("",) * _COLUMNS + (VisitorState.LEFT, "", None)
        v = self._records[p]
        now = self._clock()
        state = primary_state(v, now, self._store.is_typing(v.id))
        tip = "\n".join(
            [self._state_name(state, v)] + [self._state_name(s, v) for s in badges(v, now) if s is not state]
        )
        locale = QLocale().name()  # the UI's language (i18n sets the default locale); labels follow a switch
        cells = (
            "",
            visitor_label(v, locale),
            location_text(v, locale),
            v.current_title or v.current_url or "",
            "",
            str(v.visit_count),
            v.referrer or "",
            device_text(v),
            v.chat_agent_name or "",
            state,
            tip,
            v,
        )
        self._cells[v.id] = cells
        return cells

    def _state_name(self, state: VisitorState, visitor: Visitor) -> str:
        name = self._state_names.get(state) or STATE_NAMES[state]
        if state is VisitorState.RETURNING:
            return f"{name} ({visitor.visit_count})"
        return name

    # ------------------------------------------------------------ order and filter

    def _sorted_all(self) -> list[Key]:
        """Every key in order (ties by id: a stable sort over id order)."""
        if self._all is None:
            self._all = sorted(self._by_id, key=_VALUE)
        return self._all

    def _key(self, visitor: Visitor, now: float) -> Key:
        return (self._value_of(visitor, now), visitor.id, filter_mask(visitor, now), search_text(visitor))

    def _position(self, visitor_id: str) -> int:
        ids = self._ids
        p = bisect_left(ids, visitor_id)
        return p if p < len(ids) and ids[p] == visitor_id else -1

    def _key_of(self, visitor_id: str) -> Key | None:
        p = self._position(visitor_id)
        return self._by_id[p] if p >= 0 else None

    def _passes(self, key: Key) -> bool:
        return bool(key[2] & self._bit) and self._search.matches_text(key[3])

    def _shown(self, keys: list[Key]) -> list[Key]:
        """The keys passing filter and search, in order; runs in C, not a Python loop per row."""
        if keys is self._all and self._counts[self._filter] == len(keys):
            rows = list(keys)  # everyone passes the filter (the usual "All"): a copy, no pass over rows
        else:
            rows = list(compress(keys, map(and_, map(_MASK, keys), repeat(self._bit))))
        for word in self._search.words:
            rows = list(compress(rows, map(contains, map(_TEXT, rows), repeat(word))))
        return rows

    def _resort(self) -> None:
        """New keys for the sort column; a stable sort by value over id order leaves ties ordered by id."""
        by_id = self._by_id
        values = sort_values(self._column, self._records, self._clock())
        self._by_id = keys = list(zip(values, self._ids, map(_MASK, by_id), map(_TEXT, by_id), strict=True))
        self._all = sorted(keys, key=_VALUE)

    def _rebuild(self) -> None:
        """Everything from the store (a snapshot): the one place the model resets."""
        self.beginResetModel()
        now = self._clock()
        self._cells.clear()
        store_visitors = self._store.visitors
        ids = sorted(store_visitors)
        visitors = list(map(store_visitors.__getitem__, ids))
        masks = [filter_mask(v, now) for v in visitors]
        values = sort_values(self._column, visitors, now)
        self._by_id = keys = list(zip(values, ids, masks, map(search_text, visitors), strict=True))
        self._ids, self._records = ids, visitors
        self._all = sorted(keys, key=_VALUE)
        counts = dict.fromkeys(VisitorFilter, 0)
        for mask, count in Counter(masks).items():
            add_mask(counts, mask, count)
        self._counts = counts
        self._rows = self._shown(self._sorted_all())
        activity = self._activity
        activity.clear()
        for v in visitors:
            activity.track(v.id, v.last_activity_at, now)
        self.endResetModel()
        self.countsChanged.emit(dict(counts))

    def _relayout(self, source: list[Key]) -> None:
        """Re-filter from ``source`` (all keys, or the shown ones when the search narrows) as one layout change."""
        self.layoutAboutToBeChanged.emit()
        old_rows = self._rows
        self._rows = self._shown(source)
        self._remap_persistent(old_rows, self._descending)
        self.layoutChanged.emit()

    def _remap_persistent(self, old_rows: list[Key], old_descending: bool) -> None:
        """Point persistent indexes (selection, current row) at the same visitors' new rows."""
        old = self.persistentIndexList()
        if not old:
            return
        n_old = len(old_rows)
        rows = self._rows
        n = len(rows)
        new: list[QModelIndex] = []
        for index in old:
            r = index.row()
            target = QModelIndex()
            if 0 <= r < n_old:
                key = self._key_of(old_rows[n_old - 1 - r if old_descending else r][1])
                if key is not None:
                    i = self._find(rows, key)
                    if i >= 0:
                        target = self.createIndex(n - 1 - i if self._descending else i, index.column())
            new.append(target)
        self.changePersistentIndexList(old, new)

    @staticmethod
    def _find(keys: list[Key], key: Key) -> int:
        i = bisect_left(keys, key)
        return i if i < len(keys) and keys[i] == key else -1

    # ------------------------------------------------------------ updates

    def _update(
        self, removed: Collection[str], upserted: Collection[str], now: float, source: Mapping[str, Visitor] | None
    ) -> None:
        """Apply changed visitors from ``source`` (None: re-evaluate the records the list already has)."""
        if len(removed) + len(upserted) > max(self.BULK_MIN, len(self._ids) // 64):
            self._update_bulk(removed, upserted, now, source)
        else:
            self._update_each(removed, upserted, now, source)

    def _update_each(
        self, removed: Collection[str], upserted: Collection[str], now: float, source: Mapping[str, Visitor] | None
    ) -> None:
        """Few changes: one insert, remove or move per visitor, then dataChanged per changed row."""
        ids, by_id, records, rows, counts = self._ids, self._by_id, self._records, self._rows, self._counts
        counts_before = dict(counts)
        changed: list[Key] = []
        for visitor_id in removed:
            self._drop(visitor_id)
        for visitor_id in upserted:
            p = bisect_left(ids, visitor_id)
            old = by_id[p] if p < len(ids) and ids[p] == visitor_id else None
            visitor = (records[p] if old is not None else None) if source is None else source.get(visitor_id)
            if visitor is None:
                self._drop(visitor_id)
                continue
            key = self._key(visitor, now)
            self._activity.track(visitor_id, visitor.last_activity_at, now)
            self._cells.pop(visitor_id, None)
            if old is None or old[2] != key[2]:
                add_mask(counts, key[2], 1)
                if old is not None:
                    add_mask(counts, old[2], -1)
            if old is None:
                ids.insert(p, visitor_id)
                by_id.insert(p, key)
                records.insert(p, visitor)
                self._all = None
                if self._passes(key):
                    self._insert_row(key)
                continue
            by_id[p] = key
            records[p] = visitor
            self._all = None
            i = self._find(rows, old)
            if i < 0:
                if self._passes(key):
                    self._insert_row(key)
            elif not self._passes(key):
                self._remove_row(i)
            elif old[0] == key[0]:
                rows[i] = key
                changed.append(key)
            else:
                self._move_row(i, key)
                changed.append(key)
        self._emit_changed_rows(changed)
        if counts != counts_before:
            self.countsChanged.emit(dict(counts))

    def _update_bulk(
        self, removed: Collection[str], upserted: Collection[str], now: float, source: Mapping[str, Visitor] | None
    ) -> None:
        """Many changes: new keys, one sort, one layout change."""
        self.layoutAboutToBeChanged.emit()
        cells, counts, activity = self._cells, self._counts, self._activity
        counts_before = dict(counts)
        current = dict(zip(self._ids, self._by_id, strict=True))
        records = dict(zip(self._ids, self._records, strict=True))
        ids_changed = False
        for visitor_id in (*removed, *upserted):
            old = current.pop(visitor_id, None)
            cells.pop(visitor_id, None)
            if old is not None:
                add_mask(counts, old[2], -1)
            if visitor_id not in upserted:
                visitor = None
            elif source is None:
                visitor = records.get(visitor_id)
            else:
                visitor = source.get(visitor_id)
            if visitor is None:
                ids_changed = ids_changed or old is not None
                records.pop(visitor_id, None)
                activity.forget(visitor_id)
                continue
            ids_changed = ids_changed or old is None
            key = current[visitor_id] = self._key(visitor, now)
            records[visitor_id] = visitor
            activity.track(visitor_id, visitor.last_activity_at, now)
            add_mask(counts, key[2], 1)
        if ids_changed:
            self._ids = sorted(current)
        self._by_id = list(map(current.__getitem__, self._ids))
        self._records = list(map(records.__getitem__, self._ids))
        self._all = None
        old_rows = self._rows
        self._rows = self._shown(self._sorted_all())
        self._remap_persistent(old_rows, self._descending)
        self.layoutChanged.emit()
        if counts != counts_before:
            self.countsChanged.emit(dict(counts))

    def _drop(self, visitor_id: str) -> None:
        ids = self._ids
        p = self._position(visitor_id)
        if p < 0:
            return
        old = self._by_id[p]
        # The row goes first: views (and the model tester) read it while it is being removed.
        i = self._find(self._rows, old)
        if i >= 0:
            self._remove_row(i)
        del ids[p]
        del self._by_id[p]
        del self._records[p]
        self._cells.pop(visitor_id, None)
        self._all = None
        add_mask(self._counts, old[2], -1)
        self._activity.forget(visitor_id)

    def _view_row(self, i: int, n: int) -> int:
        return n - 1 - i if self._descending else i

    def _insert_row(self, key: Key) -> None:
        rows = self._rows
        j = bisect_left(rows, key)
        row = self._view_row(j, len(rows) + 1)
        self.beginInsertRows(_ROOT, row, row)
        rows.insert(j, key)
        self.endInsertRows()

    def _remove_row(self, i: int) -> None:
        rows = self._rows
        row = self._view_row(i, len(rows))
        self.beginRemoveRows(_ROOT, row, row)
        del rows[i]
        self.endRemoveRows()

    def _move_row(self, i: int, key: Key) -> None:
        """Move the row at list position ``i`` to where ``key`` belongs, keeping persistent indexes."""
        rows = self._rows
        n = len(rows)
        j = bisect_left(rows, key)
        if j > i:
            j -= 1  # the position once the old entry is gone
        source, target = self._view_row(i, n), self._view_row(j, n)
        if source == target:
            rows[i] = key
            return
        self.beginMoveRows(_ROOT, source, source, _ROOT, target if target < source else target + 1)
        del rows[i]
        rows.insert(j, key)
        self.endMoveRows()

    def _emit_changed_rows(self, keys: list[Key]) -> None:
        """dataChanged per run of adjacent changed rows; never one range over unrelated rows."""
        if not keys:
            return
        rows = self._rows
        n = len(rows)
        found = sorted(n - 1 - i if self._descending else i for i in (self._find(rows, key) for key in keys) if i >= 0)
        start = prev = -2
        for r in found:
            if r != prev + 1:
                if start >= 0:
                    self.dataChanged.emit(self.createIndex(start, 0), self.createIndex(prev, _LAST_COLUMN))
                start = r
            prev = r
        if start >= 0:
            self.dataChanged.emit(self.createIndex(start, 0), self.createIndex(prev, _LAST_COLUMN))
