"""The visitor list's sorted, filtered index: order, filter, search, counts, what moved, and the reorder hold.

Pure Python (no Qt): a Qt model adapts it by forwarding the :class:`IndexListener` calls to its begin/end
methods, as napari's ``QtListModel`` adapts an ``EventedList``.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left, bisect_right
from collections import Counter, deque
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, MutableSequence, Sequence
from itertools import compress, islice, repeat
from operator import is_not, neg, or_
from typing import Any, Final

from desktop.core.clock import Clock, Deadline
from desktop.core.columns import DERIVED_WORD
from desktop.core.filters import (
    FILTER_BITS,
    Search,
    VisitorFilter,
    add_mask,
    filter_mask,
    own_search_text,
    search_text,
    shared_search_text,
)
from desktop.core.ordering import Column, SortValue, sort_values, value_function
from desktop.core.slots import Deadlines
from desktop.core.text_column import TextColumn
from protocol.messages import Visitor

_SLOTS: Final = "I"  # array typecode of slot numbers: 4 bytes a row, no int object per row
_HASHES: Final = "q"  # array typecode of id hashes
_SEARCH_STACK: Final = 8  # results of this many earlier queries are kept for widening keystrokes
_SHARED_LIMIT: Final = 200_000  # distinct sort texts shared before the table starts over
_PLACE_CACHE: Final = 4096  # place texts kept by their fields (bounded: each visitor may have its own)
SORT_FIELDS: Final[dict[Column, tuple[str, ...]]] = {
    Column.STATE: ("banned", "chat_status", "unread", "in_chat", "online", "last_activity_at", "visit_started_at"),
    Column.NAME: ("name", "label"),
    Column.LOCATION: ("country", "country_code", "city"),
    Column.PAGE: ("current_title", "current_url"),
    Column.TIME_ON_SITE: ("visit_started_at",),
    Column.VISITS: ("visit_count",),
    Column.REFERRER: ("referrer",),
    Column.DEVICE: ("browser", "os", "device"),
    Column.AGENT: ("chat_agent_name",),
}
"""The fields each column's sort value reads (besides the id): one group of them is read per distinct group."""
_NUMBER_FIELDS: Final[dict[Column, tuple[str, Callable[[float], float]]]] = {
    Column.TIME_ON_SITE: ("visit_started_at", neg),
    Column.VISITS: ("visit_count", float),
}
"""Columns whose sort value is one number field, converted (as ``ordering.sort_values`` computes it)."""
_NAME_FIELDS: Final = frozenset({"name", "email", "label"})
_CHUNK: Final = 2048  # records made at a time when a column is computed for everyone
_FEW_HIDDEN: Final = 512
"""Slots hidden by the filter (or free) up to which the shown rows are the order less those, found by bisection."""
_PASSING: Final = {bit: bytes((mask & bit) and 1 for mask in range(256)) for bit in FILTER_BITS.values()}
"""Per filter bit, a ``bytes.translate`` table from a slot's filter bits to 1 when it has that bit, else 0."""
_NUMERIC: Final = frozenset({Column.STATE, Column.TIME_ON_SITE, Column.VISITS})
"""Columns whose sort values are numbers (no text to share between visitors)."""
Unapplied = tuple[Sequence[str], Sequence[str]]
"""The removed and the upserted visitor ids a deadline left unapplied (see :meth:`VisitorIndex.apply`)."""
NOTHING_LEFT: Final[Unapplied] = ((), ())


class IndexListener:
    """Receives an index's changes as before/after pairs; rows are the rows shown (0 is the top).

    The base class ignores everything; a Qt model overrides each method with its begin/end call.
    """

    def inserting(self, row: int) -> None:
        """A visitor is about to appear at ``row``."""

    def inserted(self) -> None:
        """The insertion announced by :meth:`inserting` is done."""

    def removing(self, row: int) -> None:
        """The visitor at ``row`` is about to disappear."""

    def removed(self) -> None:
        """The removal announced by :meth:`removing` is done."""

    def moving(self, source: int, target: int) -> None:
        """The visitor at ``source`` is about to move so that it ends up at ``target``."""

    def moved(self) -> None:
        """The move announced by :meth:`moving` is done."""

    def changed(self, first: int, last: int) -> None:
        """Rows ``first``..``last`` show changed data in place (called once per run of adjacent rows)."""

    def reordering(self) -> None:
        """Many rows are about to change places, appear or disappear at once (read ids of old rows now)."""

    def reordered(self) -> None:
        """The change announced by :meth:`reordering` is done (map old rows to new ones by visitor id)."""

    def resetting(self) -> None:
        """Everything is about to be replaced (a snapshot)."""

    def reset(self) -> None:
        """The replacement announced by :meth:`resetting` is done."""

    def counts_changed(self, counts: dict[VisitorFilter, int]) -> None:
        """How many visitors each filter lists changed."""

    def waiting_changed(self, count: int) -> None:
        """How many new visitors wait for the hold to end changed."""


_KEPT_ORDERS = 2
"""Sorted orders kept for a switch back to their column (the last two columns left): memory stays bounded."""
_WARM_RUN: Final = 16_384
"""Slots sorted per step of :meth:`VisitorIndex.warm_step` (a few ms each); a last step merges the runs."""
_REPAIR_LIMIT: Final = 16
"""A prepared order is used while at most 1/16 of its visitors changed that column since; past that, sorted afresh."""
_SEPARATOR: Final = "\x1f"  # (the location column's values hold "\x00")


class _Noted(list[Any]):
    """Stands for a prepared column's values in ``VisitorIndex._values``: what the update path writes, by slot.

    Slots are not placed while the column is not shown; a first sort reads the prepared values and places
    the slots noted here. Past ``limit`` slots it keeps nothing (``full``): that sort starts afresh.
    """

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit
        self.written: dict[int, Any] = {}
        self.full = False

    def __setitem__(self, slot: Any, value: Any) -> None:
        if not self.full:
            self.written[slot] = value
            if len(self.written) > self.limit:
                self.full = True
                self.written.clear()


_SHORT: Final = "\x1e"
_SHORTENED: Final = _SEPARATOR + DERIVED_WORD.casefold()
"""Packed, the name column's value for most visitors ("visitor " and the id's end) starts with one character."""


def _packed(values: list[Any]) -> str | array[float] | None:
    """Sort values in little memory: texts joined by a separator, numbers in an array; None if neither fits.

    Texts start with a separator, and the start most names share is one character: ~8 bytes a visitor.
    """
    if set(map(type, values)) <= {str}:
        joined = _SEPARATOR + _SEPARATOR.join(values)
        if joined.count(_SEPARATOR) != len(values) or _SHORT in joined:  # visitor-typed text holding either
            return None
        return joined.replace(_SHORTENED, _SEPARATOR + _SHORT)
    try:
        return array("d", values)
    except TypeError:
        return None


def _unpacked(packed: str) -> list[str]:
    """The texts :func:`_packed` joined."""
    return packed.replace(_SHORT, _SHORTENED[1:])[1:].split(_SEPARATOR)


class VisitorIndex:
    """Every visitor of the store, filtered, searched and sorted, held in columns rather than row objects.

    Each visitor has a *slot*, a small integer naming its place in per-slot columns: the filter bits (one
    byte), the case-folded search text, and the sort value of each column used so far (text values
    shared between visitors). Records are not kept: they are read from the store (``visitors``
    of :meth:`reset` and :meth:`apply`), which keeps them in columns and makes one when asked; a visitor
    that leaves while the order is held keeps its last record until its row goes. The order is arrays of
    slots: every visitor sorted by the current column (rebuilt with one C sort from cached values when
    needed, or kept from an earlier sort by it while nothing changed) and the shown rows (ascending; a
    descending view reads it backwards). Filtering and searching run in C (``compress`` over ``map``).

    While held (:meth:`hold`), updates change records in place and announce them with :meth:`changed`,
    but nothing moves, appears or disappears: new visitors wait (:attr:`waiting`), and :meth:`release`
    applies everything deferred, at once or a chunk per call (:attr:`releasing` until it is done).
    """

    BULK_MIN: Final = 256
    """A batch larger than this (and than 1/64 of the list) is applied as one reorder."""

    def __init__(self, clock: Clock, listener: IndexListener | None = None) -> None:
        self.listener = listener or IndexListener()
        self._clock = clock
        self._free: list[int] = []
        self._ids: list[str] = []
        # Records are read from the store when needed (it keeps them in columns), not kept per slot here.
        self._source: Mapping[str, Visitor] = {}
        self._kept: dict[str, Visitor] = {}  # last records of visitors that left while held (their rows stay)
        self._masks = bytearray()
        self._own = TextColumn()  # case-folded search text of a visitor's own fields, by slot
        self._places: list[str] = []  # case-folded search text of page and place, one string per distinct value
        self._place_table: dict[str, str] = {}
        # The place text by the fields it is made of: a page view repeats a page and place many visitors are on.
        self._place_by_fields: dict[tuple[str | None, str | None, str | None, str | None, str | None, bool], str] = {}
        self._locale: str | None = None  # the UI's language: countries are searched by their name in it too
        # Sort values stay in lists even for numbers: a C sort keyed by an array makes a float object per
        # key, and a numeric column's sort took 11-14 ms longer at 100,000 (24 bytes a visitor saved).
        self._values: dict[Column, MutableSequence[Any]] = {Column.STATE: []}
        self._functions: dict[Column, Callable[[Visitor, float], SortValue]] = {}
        self._shared: dict[str, str] = {}
        self._by_id = array(_SLOTS)  # every slot in id order (ties of a column sort stay in id order)
        # Every live slot by the hash of its id, to find a slot from an id by bisecting one contiguous array
        # (a dict would cost ~60 bytes per visitor; bisecting the id order touches a string per probe).
        self._hashes = array(_HASHES)
        self._hash_slots = array(_SLOTS)
        self._all: array[int] | None = array(_SLOTS)  # every slot in order; None until needed again
        # The order of each column sorted by before (see :meth:`_keep_order`), with the id order and the
        # column's values it was sorted from: switching back reuses it when both are still equal.
        self._orders: dict[Column, tuple[array[int], array[int], list[Any]]] = {}
        self._kept_by_id = array(_SLOTS)  # the id order the kept orders were sorted from (one copy shared)
        # Orders of columns never sorted by, prepared in idle time (:meth:`warm`), with their values packed in
        # that order (a text value as its own object would be ~70 bytes a visitor).
        self._warm: dict[Column, tuple[array[int], str | array[float]]] = {}
        self._warming: Iterator[None] | None = None
        self._rows = array(_SLOTS)  # the shown slots, ascending
        self._column = Column.STATE
        self._descending = False
        self._filter = VisitorFilter.ALL
        self._bit = FILTER_BITS[VisitorFilter.ALL]
        self._search = Search()
        self._stack: list[tuple[Search, array[int]]] = []
        self._counts: dict[VisitorFilter, int] = dict.fromkeys(VisitorFilter, 0)
        self._activity = Deadlines()  # by slot
        self._held = False
        self._deferred: set[str] = set()  # listed visitors changed while held (records already current)
        self._leaving: set[str] = set()  # listed visitors removed while held
        self._waiting: dict[str, Visitor] = {}  # visitors new while held
        self._waiting_masks: dict[str, int] = {}  # their filter bits, as counted
        self._waiting_count = 0

    # ------------------------------------------------------------ reading

    def __len__(self) -> int:
        return len(self._rows)

    def __iter__(self) -> Iterator[str]:
        """Visitor ids of the shown rows, top to bottom."""
        ids = self._ids
        rows = reversed(self._rows) if self._descending else self._rows
        return (ids[s] for s in rows)

    def __contains__(self, visitor_id: object) -> bool:
        return isinstance(visitor_id, str) and self._slot_of(visitor_id) is not None

    @property
    def sort_column(self) -> Column:
        """The column the rows are sorted by."""
        return self._column

    @property
    def descending(self) -> bool:
        """Whether the rows are in descending order."""
        return self._descending

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
        """How many visitors each filter lists (a copy; search not applied)."""
        return dict(self._counts)

    @property
    def activity(self) -> Deadlines:
        """When each listed visitor turns inactive, by slot (:meth:`Deadlines.next_deadline` is the next one)."""
        return self._activity

    @property
    def held(self) -> bool:
        """Whether the order is held (see :meth:`hold`)."""
        return self._held

    @property
    def deferred(self) -> int:
        """Changes a hold deferred that are not applied yet (departures, moves and arrivals)."""
        return len(self._leaving) + len(self._deferred) + len(self._waiting)

    @property
    def releasing(self) -> bool:
        """Whether a hold ended and some of what it deferred is still to be applied (see :meth:`release`)."""
        return not self._held and self.deferred > 0

    @property
    def waiting(self) -> int:
        """New visitors the current filter and search would show once the hold ends."""
        return self._waiting_count

    def slot_at(self, row: int) -> int:
        """The slot shown at a row (the row must exist)."""
        rows = self._rows
        return rows[len(rows) - 1 - row if self._descending else row]

    def id_at(self, row: int) -> str | None:
        """The visitor id shown at ``row``, or None outside the list."""
        if not 0 <= row < len(self._rows):
            return None
        return self._ids[self.slot_at(row)]

    def record_at(self, row: int) -> Visitor | None:
        """The record shown at ``row``, or None outside the list."""
        if not 0 <= row < len(self._rows):
            return None
        return self._record(self.slot_at(row))

    def record(self, visitor_id: str) -> Visitor | None:
        """A visitor as the list has it (None when not in the list)."""
        slot = self._slot_of(visitor_id)
        return self._record(slot) if slot is not None else None

    def _record(self, slot: int) -> Visitor | None:
        """The current record of a listed slot (a visitor leaving while held: its last record)."""
        visitor_id = self._ids[slot]
        record = self._source.get(visitor_id)
        if record is None and visitor_id:
            record = self._kept.get(visitor_id)
            if record is None:  # left in a batch the list has not applied yet
                departed = getattr(self._source, "departed", None)
                record = departed(visitor_id) if departed is not None else None
        return record

    def row_of(self, visitor_id: str) -> int:
        """The row showing a visitor, or -1 when it is not shown."""
        slot = self._slot_of(visitor_id)
        if slot is None:
            return -1
        i = self._find(slot)
        if i < 0:
            return -1
        return len(self._rows) - 1 - i if self._descending else i

    # ------------------------------------------------------------ order, filter, search

    def set_sort(self, column: Column, descending: bool) -> None:
        """Sort by a column; ties stay in id order. Deferred updates are applied first."""
        if column == self._column and descending == self._descending:
            return
        self._apply_deferred()
        self.listener.reordering()
        if column != self._column:
            self._keep_order()
            self._column = column
            self._stack.clear()
            self._all = self._unwarm(column)
            if column not in self._values:
                self._values[column] = self._column_values(column)
            if self._all is None:
                self._all = self._kept_order(column)
            self._rows = self._shown(self._sorted_all())
        self._descending = descending
        self.listener.reordered()

    def set_filter(self, f: VisitorFilter) -> None:
        """Show only the visitors of one filter.

        Choosing a filter, even the current one, applies what a hold deferred: it is an explicit request to
        see the list as it is (selecting a new visitor from a notification goes through here).
        """
        f = VisitorFilter(f)
        self._apply_deferred()
        if f == self._filter:
            return
        self._filter = f
        self._bit = FILTER_BITS[f]
        self._stack.clear()
        self._relayout(self._sorted_all())

    def set_search(self, text: str) -> None:
        """Show only visitors matching a query (capped; case-insensitive; every word must match).

        Typing on narrows from the shown rows; a widening keystroke (backspace) takes the result of the
        same query from earlier, or narrows from the result of a wider earlier query, when nothing changed
        in between; only otherwise does it scan everyone.
        """
        search = Search(text)
        if search == self._search:
            self._search = search
            return
        self._apply_deferred()
        stack = self._stack
        stack.append((self._search, self._rows))
        del stack[:-_SEARCH_STACK]
        source: array[int] | None = None
        exact = False
        if search.narrows(self._search):
            source = self._rows
        else:
            for earlier, rows in reversed(stack):
                if earlier == search:
                    source, exact = rows, True
                    break
                if source is None and search.narrows(earlier):
                    source = rows
        self._search = search
        self.listener.reordering()
        if exact and source is not None:
            self._rows = source
        else:
            self._rows = self._shown(source if source is not None else self._sorted_all())
        self.listener.reordered()

    def set_locale(self, locale: str | None) -> None:
        """The UI's language (a Qt/POSIX name such as "de_DE"): a search also finds countries by their name in it.

        A switch at run time rebuilds the search text of page and place and applies the search again.
        """
        if locale == self._locale:
            return
        self._locale = locale
        self._stack.clear()
        if not self._ids:
            return
        self._place_table.clear()
        self._place_by_fields.clear()
        places, place_text = self._places, self._place_text
        for slot, record in self._each_record():
            places[slot] = place_text(record)
        if self._search:
            self._apply_deferred()
            self._relayout(self._sorted_all())

    # ------------------------------------------------------------ changes

    def reset(self, visitors: Mapping[str, Visitor]) -> None:
        """Everything from a snapshot: the one place the index resets."""
        self.listener.resetting()
        now = self._clock()
        self._source = visitors
        self._kept = {}
        n = len(visitors)
        ids: list[str] = []
        self._free = []
        self._ids = ids
        self._place_table.clear()
        self._place_by_fields.clear()
        self._shared.clear()
        activity = self._activity
        activity.clear()
        masks = bytearray()
        own: list[str] = []
        places: list[str] = []
        values: dict[Column, MutableSequence[Any]] = {column: [] for column in {Column.STATE, self._column}}
        # A few thousand records at a time, in the store's order: making all 100,000 at once would leave
        # ~60 MB of freed memory behind, holed by what is kept, that the process does not give back.
        items = iter(visitors.items())
        while pairs := list(islice(items, _CHUNK)):
            chunk = [v for _, v in pairs]
            start = len(ids)
            ids.extend(vid for vid, _ in pairs)
            del pairs
            masks.extend([filter_mask(v, now) for v in chunk])
            own.extend(map(own_search_text, chunk))
            places.extend(map(self._place_text, chunk))
            for column, column_values in values.items():
                column_values.extend(self._chunk_values(column, chunk, now))
            for slot, v in enumerate(chunk, start):
                activity.track(slot, v.last_activity_at, now)
        self._masks = masks
        self._own = TextColumn(own)
        del own
        self._places = places
        self._values = values
        self._orders.clear()
        self._warm.clear()
        self._warming = None
        self._kept_by_id = array(_SLOTS)
        self._by_id = array(_SLOTS, sorted(range(n), key=ids.__getitem__))
        hashes = array(_HASHES, map(hash, ids))
        self._hash_slots = array(_SLOTS, sorted(range(n), key=hashes.__getitem__))
        self._hashes = array(_HASHES, map(hashes.__getitem__, self._hash_slots))
        self._all = None
        self._stack.clear()
        self._held_clear()
        counts = dict.fromkeys(VisitorFilter, 0)
        for mask, count in Counter(masks).items():
            add_mask(counts, mask, count)
        self._counts = counts
        self._rows = self._shown(self._sorted_all())
        self.listener.reset()
        self.listener.counts_changed(dict(counts))

    def apply(
        self,
        removed: Collection[str],
        upserted: Collection[str],
        visitors: Mapping[str, Visitor],
        deadline: Deadline | None = None,
    ) -> Unapplied:
        """Apply changed visitors from ``visitors`` (the store); a removed or missing one leaves the list.

        With a ``deadline``, visitors are applied one by one until it has passed (at least one is), and the
        removed and upserted ids not applied are returned: applying them later gives the same rows as applying
        everything now. A batch applied as one reorder, one deferred by a hold and one that takes visitors out
        of a release under way are applied whole (nothing returned).
        """
        self._source = visitors
        if removed or upserted:
            return self._update(removed, upserted, self._clock(), visitors, deadline=deadline)
        return NOTHING_LEFT

    def tick(self) -> list[str]:
        """Visitors whose Active flag ran out are re-evaluated (their state, filters and order change)."""
        now = self._clock()
        ids = self._ids
        flipped = [ids[slot] for slot in self._activity.due(now)]
        if flipped:
            self._update((), flipped, now, None)
        return flipped

    def hold(self) -> None:
        """Keep the shown order: from now on updates change rows in place until :meth:`release`."""
        self._held = True

    def release(self, limit: int | None = None) -> int:
        """End the hold and apply what it deferred: everything, or at most ``limit`` changes; how many remain.

        With a limit, departures go first, then moves and arrivals, each reported as its own remove, move
        or insert (no reorder: a long hold's release is spread over calls instead of one full sort). Until
        everything is applied (:attr:`releasing`) an update of a visitor is applied at once and taken out
        of what is deferred; a :meth:`hold` stops the release where it is, and a later release goes on.
        """
        self._held = False
        if limit is None:
            self._apply_deferred()
            return 0
        if limit <= 0 or not self.deferred:
            return self.deferred
        counts_before = dict(self._counts)
        leaving = list(islice(self._leaving, limit))
        self._leaving.difference_update(leaving)
        source: dict[str, Visitor] = {}
        moving = list(islice(self._deferred, limit - len(leaving)))
        self._deferred.difference_update(moving)
        for visitor_id in moving:
            record = self.record(visitor_id)
            if record is not None:  # None: gone from the store too; the update below drops the row
                source[visitor_id] = record
        arriving = list(islice(self._waiting, limit - len(leaving) - len(moving)))
        for visitor_id in arriving:
            source[visitor_id] = self._waiting.pop(visitor_id)
            add_mask(self._counts, self._waiting_masks.pop(visitor_id), -1)  # counted again as it is applied
        self._update(leaving, [*moving, *arriving], self._clock(), source, counts_before)
        if arriving:
            self._count_waiting()
        return self.deferred

    # ------------------------------------------------------------ internals: columns

    def _value_function(self, column: Column) -> Callable[[Visitor, float], SortValue]:
        function = self._functions.get(column)
        if function is None:
            function = self._functions[column] = self._make_value_function(column)
        return function

    def _make_value_function(self, column: Column) -> Callable[[Visitor, float], SortValue]:
        function = value_function(column)
        if column in _NUMERIC:
            return function
        shared = self._shared

        def share(visitor: Visitor, now: float) -> SortValue:
            value = function(visitor, now)
            if len(shared) > _SHARED_LIMIT:
                shared.clear()
            return shared.setdefault(value, value) if isinstance(value, str) else value

        return share

    def _chunk_values(self, column: Column, records: list[Visitor], now: float) -> list[SortValue]:
        """A column's sort values of some records (equal texts shared)."""
        values = sort_values(column, records, now)
        if column in _NUMERIC:
            return values
        share = self._shared.setdefault
        return [share(v, v) if isinstance(v, str) else v for v in values]

    def _each_record(self, names_only: bool = False) -> Iterator[tuple[int, Visitor]]:
        """(slot, record) of every listed slot, one record at a time, in the store's order (no lookup per id).

        ``names_only``: records need only id, name, e-mail and label (a store keeping columns makes small ones).
        """
        ids, source = self._ids, self._source
        slot_of = {vid: slot for slot, vid in enumerate(ids) if vid}
        found = 0
        named = getattr(source, "named_items", None) if names_only else None
        for vid, record in named() if named is not None else source.items():
            slot = slot_of.get(vid)
            if slot is not None:
                found += 1
                yield slot, record
        if found < len(slot_of):  # listed but gone from the store (leaving while held, or not applied yet)
            for vid, slot in slot_of.items():
                if vid not in source and (kept := self._record(slot)) is not None:
                    yield slot, kept

    def _spread(self, store_ids: list[str], by_row: Iterable[Any], result: MutableSequence[Any]) -> bool:
        """Write values given per store row into ``result`` by slot, in C passes; whether every slot got one."""
        ids = self._ids
        n = len(ids)
        # Each slot the store's row of that number (as after a reset; the store may have free rows after them).
        if store_ids[:n] == ids and not any(islice(store_ids, n, None)):
            result[:] = list(islice(by_row, n))
            for slot in self._free:
                result[slot] = 0.0
            return True
        slot_of = dict(zip(self._ids, range(len(self._ids)), strict=True))
        slot_of.pop("", None)  # free slots
        slots: list[Any] = list(map(slot_of.get, store_ids))
        listed = list(map(is_not, slots, repeat(None)))
        deque(map(result.__setitem__, compress(slots, listed), compress(by_row, listed)), maxlen=0)
        return sum(listed) == len(slot_of)

    def _column_values(self, column: Column) -> MutableSequence[Any]:
        """One column's sort value for every slot (free slots hold a placeholder).

        From a store that keeps columns, a value of one group of fields (page, place, browser ...) is
        computed once per distinct group and a number is read from its array, with no record made.
        """
        now, n = self._clock(), len(self._ids)
        result: MutableSequence[Any] = [0.0] * n
        grouped = getattr(self._source, "group_records", None)
        by_group = grouped(SORT_FIELDS[column]) if grouped is not None else None
        if by_group is not None:
            store_ids, codes, distinct = by_group
            per_code = self._chunk_values(column, distinct, now)
            if self._spread(store_ids, map(per_code.__getitem__, codes), result):
                return result
        labels = getattr(self._source, "short_labels", None) if column == Column.NAME else None
        if labels is not None:
            # As ordering.sort_values computes it: the shown text case-folded. Not shared: nearly every
            # visitor's differs (its id's end), so the table would cost more than it saves.
            store_ids, folded = labels(casefold=True)
            if self._spread(store_ids, folded, result):
                return result
        number = _NUMBER_FIELDS.get(column)
        numbers = getattr(self._source, "numbers", None)
        if number is not None and numbers is not None:
            store_ids, column_numbers = numbers(number[0])
            if self._spread(store_ids, map(number[1], column_numbers), result):
                return result
        records = self._each_record(names_only=set(SORT_FIELDS[column]) <= _NAME_FIELDS)
        while found := list(islice(records, _CHUNK)):
            values = self._chunk_values(column, [r for _, r in found], now)
            for (slot, _), value in zip(found, values, strict=True):
                result[slot] = value
        return result

    def _slot_of(self, visitor_id: str) -> int | None:
        """A visitor's slot: its id's hash bisected in the hash array, then the id compared."""
        hashes = self._hashes
        h = hash(visitor_id)
        p = bisect_left(hashes, h)
        n = len(hashes)
        while p < n and hashes[p] == h:
            slot = self._hash_slots[p]
            if self._ids[slot] == visitor_id:
                return slot
            p += 1
        return None

    def _hash_position(self, visitor_id: str, slot: int) -> int:
        """Where a live slot sits in the hash array."""
        hashes, slots = self._hashes, self._hash_slots
        p = bisect_left(hashes, hash(visitor_id))
        while slots[p] != slot:
            p += 1
        return p

    def _bisect(self, slot: int, lo: int, hi: int, order: array[int] | None = None) -> int:
        """Where a slot's key (its value, then its id) belongs among the shown rows ``lo``..``hi`` (or ``order``).

        Three bisections whose key functions are C methods (the column's and the ids' ``__getitem__``):
        the run of rows with an equal value, then the id within that run. A Python key function building
        (value, id) per probe would cost several times more per update.
        """
        rows, values = self._rows if order is None else order, self._values[self._column]
        value_of = values.__getitem__
        value = values[slot]
        first = bisect_left(rows, value, lo, hi, key=value_of)
        end = bisect_right(rows, value, first, hi, key=value_of)
        if first == end:
            return first
        ids = self._ids
        return bisect_left(rows, ids[slot], first, end, key=ids.__getitem__)

    def _find(self, slot: int) -> int:
        """Where a slot sits in the shown rows (by its current key), or -1."""
        rows = self._rows
        i = self._bisect(slot, 0, len(rows))
        return i if i < len(rows) and rows[i] == slot else -1

    def _sorted_all(self) -> array[int]:
        """Every slot in order (a stable C sort of the id order by the cached column values)."""
        if self._all is None:
            self._all = array(_SLOTS, sorted(self._by_id, key=self._values[self._column].__getitem__))
        return self._all

    def _keep_order(self) -> None:
        """Keep the current column's order (when sorted) with what it was sorted from, for a switch back."""
        if self._all is None:
            return
        by_id = self._by_id
        if self._kept_by_id != by_id:  # array equality: one C pass, no copy while nobody came or went
            self._kept_by_id = array(_SLOTS, by_id)
        orders = self._orders
        orders[self._column] = (self._all, self._kept_by_id, list(self._values[self._column]))
        while len(orders) > _KEPT_ORDERS:  # the oldest goes: 12 bytes a visitor for each order kept
            del orders[next(iter(orders))]

    def _kept_order(self, column: Column) -> array[int] | None:
        """A column's kept order if it is still right, else None (dropped either way).

        The order is a function of the id order and the column's values alone (a stable sort of the one by
        the other), so it is right exactly when both are equal to what it was sorted from: two comparisons
        in C, with no hook in the update path.
        """
        kept = self._orders.pop(column, None)
        if kept is None:
            return None
        order, by_id, values = kept
        return order if by_id == self._by_id and values == self._values[column] else None

    # ------------------------------------------------------------ preparing orders in idle time

    def warm(self, columns: Iterable[Column]) -> None:
        """Prepare the order of each of ``columns`` not sorted by yet (or again), a step per :meth:`warm_step`.

        For a first sort by such a column (an agent's first click on its header after a snapshot). What is
        kept: the order (4 bytes a visitor) and the values in that order packed (text joined into one
        string, numbers in an array: ~15 and 8 bytes a visitor, not a ~65-byte object each); while kept,
        the update path's writes of that column are noted by slot. The click unpacks it, places the
        noted slots again and drops the rest; a reset drops what was prepared. Once more than 1/16 of
        the visitors were written, it is of no use: calling this again prepares that column again.
        """
        self._warming = self._warm_steps(tuple(columns))

    @property
    def warming(self) -> bool:
        """Whether :meth:`warm` has steps left."""
        return self._warming is not None

    def drop_spoiled(self) -> None:
        """Drop prepared columns written for too many visitors since (the update path then no longer notes them)."""
        for column, noted in list(self._values.items()):
            if isinstance(noted, _Noted) and noted.full:
                del self._values[column]
                self._warm.pop(column, None)

    def warm_step(self) -> bool:
        """One step of :meth:`warm` (a few ms; a column's values are one step); True while more remain."""
        if self._warming is None:
            return False
        if next(self._warming, True) is None:  # a step done (True: none left)
            return True
        self._warming = None
        return False

    def _warm_steps(self, columns: tuple[Column, ...]) -> Iterator[None]:
        for column in columns:
            noted = self._values.get(column)
            if isinstance(noted, _Noted) and noted.full:  # too much changed since: prepared again
                del self._values[column]
                self._warm.pop(column, None)
            elif noted is not None:
                continue  # prepared, being prepared, or sorted by already (its values kept)
            values = self._column_values(column)
            by_id = array(_SLOTS, self._by_id)
            # From now on the update path writes this column's values into ``noted`` (not kept in full).
            noted = self._values[column] = _Noted(len(self._by_id) // _REPAIR_LIMIT)
            yield
            key = values.__getitem__
            runs: list[array[int]] = []
            for start in range(0, len(by_id), _WARM_RUN):
                runs.append(array(_SLOTS, sorted(by_id[start : start + _WARM_RUN], key=key)))
                yield
            # Runs of ascending ids sorted stably, then neighbours merged stably (a step per merge): equal
            # values stay in id order.
            while len(runs) > 1:
                merged: list[array[int]] = []
                for k in range(0, len(runs) - 1, 2):
                    merged.append(array(_SLOTS, sorted(runs[k] + runs[k + 1], key=key)))
                    yield
                runs = merged + runs[len(merged) * 2 :]
            order = runs[0] if runs else array(_SLOTS)
            in_order = list(map(key, order))
            del runs, values
            yield
            packed = _packed(in_order)
            del in_order
            if self._values.get(column) is noted and packed is not None:  # not sorted by in the meantime
                self._warm[column] = (order, packed)
            elif self._values.get(column) is noted:
                del self._values[column]
            yield

    def _unwarm(self, column: Column) -> array[int] | None:
        """A prepared column made current: its values into ``_values`` and its order, or None (sort afresh)."""
        noted = self._values.get(column)
        if not isinstance(noted, _Noted):
            return None
        del self._values[column]
        warm = self._warm.pop(column, None)
        if warm is None or noted.full:
            return None
        order, packed = warm
        ids = self._ids
        values: list[Any] = [0.0] * len(ids)
        deque(map(values.__setitem__, order, _unpacked(packed) if isinstance(packed, str) else packed), maxlen=0)
        self._values[column] = values
        changed = noted.written
        if not changed and not self._free:
            return order
        for slot, value in changed.items():
            values[slot] = value
        for slot in self._free:
            values[slot] = 0.0
        out = bytearray(b"\x01") * len(ids)
        for slot in (*changed, *self._free):
            out[slot] = 0
        rest = array(_SLOTS, compress(order, map(out.__getitem__, order)))
        extra = [slot for slot in changed if ids[slot]]
        extra.sort(key=ids.__getitem__)
        extra.sort(key=values.__getitem__)  # stable: equal values stay in id order
        result = array(_SLOTS)
        start = 0
        for slot in extra:
            p = self._bisect(slot, start, len(rest), rest)
            result += rest[start:p]
            result.append(slot)
            start = p
        result += rest[start:]
        return result

    def _shown(self, source: array[int]) -> array[int]:
        """The slots of ``source`` passing filter and search, in order; runs in C, not a loop per row."""
        if source is self._all and self._counts[self._filter] == len(source):
            rows = array(_SLOTS, source)  # everyone passes the filter (the usual "All")
        else:
            passing = bytes(self._masks.translate(_PASSING[self._bit]))  # 1 for each slot the filter shows
            few = self._without_few(source, passing) if source is self._all else None
            rows = array(_SLOTS, compress(source, map(passing.__getitem__, source))) if few is None else few
        for word in self._search.words:
            rows = self._matching(rows, word)
        return rows

    def _without_few(self, source: array[int], passing: bytes) -> array[int] | None:
        """Every slot in order (``source``) but the few the filter hides, or None when they are not few.

        The "All" filter hides only banned visitors who left: rather than a pass over every row, each hidden
        slot's place in the order is bisected by its key and the rows between are copied in slices.
        """
        if passing.count(0) > _FEW_HIDDEN:  # hidden and free slots
            return None
        ids, find = self._ids, passing.find
        hidden: list[int] = []
        slot = find(0)
        while slot >= 0:
            if ids[slot]:
                i = self._bisect(slot, 0, len(source), source)
                if i >= len(source) or source[i] != slot:
                    return None  # not where its key says (cannot happen for the order of every slot)
                hidden.append(i)
            slot = find(0, slot + 1)
        rows = array(_SLOTS)
        start = 0
        for i in sorted(hidden):
            rows += source[start:i]
            start = i + 1
        rows += source[start:]
        return rows

    def _place_text(self, visitor: Visitor) -> str:
        """The shared search text of a visitor's page and place (equal texts are one object)."""
        # Every field shared_search_text reads (the language is fixed until set_locale clears the cache).
        fields = (
            visitor.current_title,
            visitor.current_url,
            visitor.country,
            visitor.country_code,
            visitor.city,
            not (visitor.name or visitor.email),
        )
        by_fields = self._place_by_fields
        text = by_fields.get(fields)
        if text is not None:
            return text
        text = shared_search_text(visitor, self._locale)
        table = self._place_table
        if len(table) > _SHARED_LIMIT:
            table.clear()
        if len(by_fields) >= _PLACE_CACHE:
            by_fields.clear()
        text = by_fields[fields] = table.setdefault(text, text)
        return text

    def _matching(self, rows: array[int], word: str) -> array[int]:
        """The rows with ``word`` in one of their fields, in C passes over the rows.

        A visitor's own fields (name, e-mail, id, label) are searched in one joined string
        (:class:`TextColumn`); page and place are one text per distinct combination, shared by the many
        visitors on it, so the word is looked for in each distinct text once and the rows are matched by
        identity of that text.
        """
        places = self._places
        distinct = set(map(places.__getitem__, rows))
        found = {text for text in distinct if word in text}
        if len(found) == len(distinct):
            return array(_SLOTS, rows)
        own = self._own.containing(word)
        if not found:
            return array(_SLOTS, compress(rows, map(own.__contains__, rows)))
        hits = map(or_, map(own.__contains__, rows), map(found.__contains__, map(places.__getitem__, rows)))
        return array(_SLOTS, compress(rows, hits))

    def _passes(self, slot: int) -> bool:
        if not self._masks[slot] & self._bit:
            return False
        if not self._search:
            return True
        record = self._record(slot)
        return record is not None and self._search.matches_text(search_text(record, self._locale))

    def _relayout(self, source: array[int]) -> None:
        self.listener.reordering()
        self._rows = self._shown(source)
        self.listener.reordered()

    # ------------------------------------------------------------ internals: updates

    def _update(
        self,
        removed: Collection[str],
        upserted: Collection[str],
        now: float,
        source: Mapping[str, Visitor] | None,
        counts_before: dict[VisitorFilter, int] | None = None,
        *,
        deadline: Deadline | None = None,
    ) -> Unapplied:
        """Apply changed visitors from ``source`` (None: re-evaluate the records the index already has).

        What a ``deadline`` left unapplied is returned (see :meth:`apply`).
        """
        if self._held:
            self._defer(removed, upserted, source)
            return NOTHING_LEFT
        if counts_before is None:
            counts_before = dict(self._counts)
        if self._leaving or self._deferred or self._waiting:  # a release under way
            # Taken out of what is deferred before they are applied: a deadline must not cut this batch.
            removed, upserted = self._undefer(removed, upserted, source)
            deadline = None
        self._stack.clear()
        if len(removed) + len(upserted) > max(self.BULK_MIN, len(self._by_id) // 64):
            self._update_bulk(removed, upserted, now, source, counts_before)
            return NOTHING_LEFT
        return self._update_each(removed, upserted, now, source, counts_before, deadline=deadline)

    def _undefer(
        self, removed: Collection[str], upserted: Collection[str], source: Mapping[str, Visitor] | None
    ) -> tuple[Collection[str], Collection[str]]:
        """During a release: take visitors updated now out of what is deferred (they are applied now, once).

        A waiting visitor's count goes (it is counted again as it is applied); a leaving visitor re-read
        from the index's own records (a tick) still leaves.
        """
        deferred, leaving, waiting, masks = self._deferred, self._leaving, self._waiting, self._waiting_masks
        gone = [vid for vid in upserted if vid in leaving] if source is None else []
        if gone:
            removed = [*removed, *gone]
            upserted = [vid for vid in upserted if vid not in leaving]
        had_waiting = bool(waiting)
        for visitor_id in (*removed, *upserted):
            deferred.discard(visitor_id)
            leaving.discard(visitor_id)
            if waiting.pop(visitor_id, None) is not None:
                add_mask(self._counts, masks.pop(visitor_id), -1)
        if had_waiting:
            self._count_waiting()
        return removed, upserted

    def _store_row(self, slot: int, visitor: Visitor, mask: int, now: float) -> bool:
        """Write a visitor's columns into its slot; True when the current column's value changed."""
        self._masks[slot] = mask
        self._own.put(slot, own_search_text(visitor))
        self._places[slot] = self._place_text(visitor)
        moved = False
        for column, values in self._values.items():
            value = self._value_function(column)(visitor, now)
            if column == self._column and value != values[slot]:
                moved = True
            values[slot] = value
        return moved

    def _new_slot(self, visitor: Visitor, mask: int, now: float) -> int:
        if self._free:
            slot = self._free.pop()
            self._ids[slot] = visitor.id
        else:
            slot = len(self._ids)
            self._ids.append(visitor.id)
            self._masks.append(0)
            self._places.append("")
            for values in self._values.values():
                values.append(0.0)
        self._store_row(slot, visitor, mask, now)
        ids = self._ids
        self._by_id.insert(bisect_left(self._by_id, visitor.id, key=ids.__getitem__), slot)
        h = hash(visitor.id)
        p = bisect_left(self._hashes, h)
        self._hashes.insert(p, h)
        self._hash_slots.insert(p, slot)
        self._all = None
        return slot

    def _update_each(
        self,
        removed: Collection[str],
        upserted: Collection[str],
        now: float,
        source: Mapping[str, Visitor] | None,
        counts_before: dict[VisitorFilter, int],
        *,
        deadline: Deadline | None = None,
    ) -> Unapplied:
        """Few changes: one insert, remove or move per visitor, then :meth:`changed` per run of rows.

        With a ``deadline``, the time is checked before each visitor but the first; what is left once it has
        passed is returned, removals first (as applied).
        """
        counts = self._counts
        masks, activity = self._masks, self._activity
        changed: list[int] = []
        places: list[int] = []  # where each changed slot was last seen in the list (-1: not known)
        passed = deadline.passed if deadline is not None else None
        left: Unapplied = NOTHING_LEFT
        begun = False
        removals = iter(removed)
        for visitor_id in removals:
            if begun and passed is not None and passed():
                left = ([visitor_id, *removals], list(upserted))
                break
            begun = True
            self._drop(visitor_id)
        updates = iter(upserted) if left is NOTHING_LEFT else iter(())
        for visitor_id in updates:
            if begun and passed is not None and passed():
                left = ([], [visitor_id, *updates])
                break
            begun = True
            slot = self._slot_of(visitor_id)
            visitor = (self._record(slot) if slot is not None else None) if source is None else source.get(visitor_id)
            if visitor is None:
                self._drop(visitor_id)
                continue
            mask = filter_mask(visitor, now)
            if slot is None:
                add_mask(counts, mask, 1)
                slot = self._new_slot(visitor, mask, now)
                activity.track(slot, visitor.last_activity_at, now)
                if self._passes(slot):
                    self._insert_row(slot)
                continue
            activity.track(slot, visitor.last_activity_at, now)
            old_mask = masks[slot]
            i = self._find(slot)  # before the key changes
            if old_mask != mask:
                add_mask(counts, mask, 1)
                add_mask(counts, old_mask, -1)
            moves = self._store_row(slot, visitor, mask, now)
            if moves:
                self._all = None
            if i < 0:
                if self._passes(slot):
                    self._insert_row(slot)
            elif not self._passes(slot):
                self._remove_row(i)
            elif not moves:
                changed.append(slot)
                places.append(i)
            else:
                changed.append(slot)
                places.append(self._move_row(i, slot))
        self._emit_changed(changed, places)
        if counts != counts_before:
            self.listener.counts_changed(dict(counts))
        return left

    def _update_bulk(
        self,
        removed: Collection[str],
        upserted: Collection[str],
        now: float,
        source: Mapping[str, Visitor] | None,
        counts_before: dict[VisitorFilter, int],
    ) -> None:
        """Many changes: columns written, one C sort, one reorder."""
        self.listener.reordering()
        counts, masks, activity = self._counts, self._masks, self._activity
        for visitor_id in removed:
            self._forget(visitor_id)
        for visitor_id in upserted:
            slot = self._slot_of(visitor_id)
            visitor = (self._record(slot) if slot is not None else None) if source is None else source.get(visitor_id)
            if visitor is None:
                self._forget(visitor_id)
                continue
            mask = filter_mask(visitor, now)
            add_mask(counts, mask, 1)
            if slot is None:
                slot = self._new_slot(visitor, mask, now)
            else:
                add_mask(counts, masks[slot], -1)
                self._store_row(slot, visitor, mask, now)
            activity.track(slot, visitor.last_activity_at, now)
        self._all = None
        self._rows = self._shown(self._sorted_all())
        self.listener.reordered()
        if counts != counts_before:
            self.listener.counts_changed(dict(counts))

    def _forget(self, visitor_id: str) -> None:
        """Free a visitor's slot (its row, if shown, must be gone or about to be rebuilt)."""
        slot = self._slot_of(visitor_id)
        if slot is None:
            return
        del self._by_id[bisect_left(self._by_id, visitor_id, key=self._ids.__getitem__)]
        p = self._hash_position(visitor_id, slot)
        del self._hashes[p]
        del self._hash_slots[p]
        self._ids[slot] = ""
        add_mask(self._counts, self._masks[slot], -1)
        self._kept.pop(visitor_id, None)
        self._masks[slot] = 0
        self._own.put(slot, "")
        self._places[slot] = ""
        self._free.append(slot)
        self._all = None
        self._activity.forget(slot)

    def _drop(self, visitor_id: str) -> None:
        slot = self._slot_of(visitor_id)
        if slot is None:
            return
        i = self._find(slot)
        if i >= 0:  # the row goes first: views read it while it is being removed
            self._remove_row(i)
        self._forget(visitor_id)

    def _view_row(self, i: int, n: int) -> int:
        return n - 1 - i if self._descending else i

    def _insert_row(self, slot: int) -> None:
        rows = self._rows
        j = self._bisect(slot, 0, len(rows))
        self.listener.inserting(self._view_row(j, len(rows) + 1))
        rows.insert(j, slot)
        self.listener.inserted()

    def _remove_row(self, i: int) -> None:
        rows = self._rows
        self.listener.removing(self._view_row(i, len(rows)))
        del rows[i]
        self.listener.removed()

    def _move_row(self, i: int, slot: int) -> int:
        """Move the row at list position ``i`` to where the slot's new key belongs; its list position now."""
        rows = self._rows
        n = len(rows)
        # The old entry at i still sits in rows with a stale key: search both sides of it.
        left = self._bisect(slot, 0, i)
        j = left if left < i else self._bisect(slot, i + 1, n) - 1
        source, target = self._view_row(i, n), self._view_row(j, n)
        if source == target:
            return i
        self.listener.moving(source, target)
        del rows[i]
        rows.insert(j, slot)
        self.listener.moved()
        return j

    def _emit_changed(self, slots: list[int], places: list[int] | None = None) -> None:
        """:meth:`IndexListener.changed` per run of adjacent changed rows; never one range over unrelated rows.

        ``places``: where each slot was last seen in the list; one still there is not searched for again
        (later inserts, removals and moves of the batch may have shifted it).
        """
        if not slots:
            return
        rows = self._rows
        n = len(rows)
        find = self._find
        if places is None:
            positions: Iterable[int] = map(find, slots)
        else:
            positions = (i if 0 <= i < n and rows[i] == s else find(s) for s, i in zip(slots, places, strict=True))
        found = sorted({self._view_row(i, n) for i in positions if i >= 0})
        start = prev = -2
        for r in found:
            if r != prev + 1:
                if start >= 0:
                    self.listener.changed(start, prev)
                start = r
            prev = r
        if start >= 0:
            self.listener.changed(start, prev)

    # ------------------------------------------------------------ internals: the hold

    def _defer(self, removed: Collection[str], upserted: Collection[str], source: Mapping[str, Visitor] | None) -> None:
        """While held: records and counts change now, rows stay where they are until :meth:`release`.

        Filter bits are not part of a row's place, so they (and the counts) follow at once; a leaving
        visitor's bits are cleared, and a waiting visitor is counted under its own bits until it is applied.
        """
        counts, masks = self._counts, self._masks
        counts_before = dict(counts)
        waiting_before = self._waiting_count
        now = self._clock()
        changed: list[int] = []
        for visitor_id in (*removed, *upserted):
            slot = self._slot_of(visitor_id)
            if visitor_id not in upserted or (source is None and visitor_id in self._leaving):
                visitor = None  # (a tick re-reads records: a leaving visitor's kept one must not bring it back)
            elif source is None:
                visitor = self._record(slot) if slot is not None else self._waiting.get(visitor_id)
            else:
                visitor = source.get(visitor_id)
            if slot is None:
                old = self._waiting.pop(visitor_id, None)
                if old is not None:
                    add_mask(counts, self._waiting_masks.pop(visitor_id), -1)
                if visitor is not None:
                    mask = self._waiting_masks[visitor_id] = filter_mask(visitor, now)
                    add_mask(counts, mask, 1)
                    self._waiting[visitor_id] = visitor
                continue
            add_mask(counts, masks[slot], -1)
            if visitor is None:
                if visitor_id not in self._kept:
                    departed = getattr(source, "departed", None)
                    kept = departed(visitor_id) if departed is not None else None
                    if kept is not None:
                        self._kept[visitor_id] = kept
                masks[slot] = 0
                self._leaving.add(visitor_id)
                self._deferred.discard(visitor_id)
                continue
            mask = masks[slot] = filter_mask(visitor, now)
            add_mask(counts, mask, 1)
            self._kept.pop(visitor_id, None)
            self._activity.track(slot, visitor.last_activity_at, now)
            self._leaving.discard(visitor_id)
            self._deferred.add(visitor_id)
            changed.append(slot)
        self._emit_changed(changed)
        self._waiting_count = self._shown_waiting()
        if counts != counts_before:
            self.listener.counts_changed(dict(counts))
        if self._waiting_count != waiting_before:
            self.listener.waiting_changed(self._waiting_count)

    def _shown_waiting(self) -> int:
        """How many waiting visitors the current filter and search would show."""
        bit, search, masks = self._bit, self._search, self._waiting_masks
        return sum(
            1
            for vid, v in self._waiting.items()
            if masks[vid] & bit and (not search or search.matches_text(search_text(v, self._locale)))
        )

    def _count_waiting(self) -> None:
        """Recount the waiting visitors shown, telling the listener when the number changed."""
        count = self._shown_waiting()
        if count != self._waiting_count:
            self._waiting_count = count
            self.listener.waiting_changed(count)

    def _apply_deferred(self) -> None:
        """Apply what the hold deferred, as if it had just arrived (the hold itself stays as it is)."""
        if not (self._deferred or self._leaving or self._waiting):
            return
        source: dict[str, Visitor] = dict(self._waiting)
        for mask in self._waiting_masks.values():
            add_mask(self._counts, mask, -1)  # counted while waiting; applying them counts them again
        for visitor_id in self._deferred:
            record = self.record(visitor_id)
            if record is not None:
                source[visitor_id] = record
        removed = self._leaving
        had_waiting = bool(self._waiting_count)
        self._held_clear()
        held, self._held = self._held, False
        try:
            self._update(removed, source.keys(), self._clock(), source)
        finally:
            self._held = held
        if had_waiting:
            self.listener.waiting_changed(0)

    def _held_clear(self) -> None:
        self._deferred, self._leaving, self._waiting, self._waiting_masks = set(), set(), {}, {}
        self._waiting_count = 0
