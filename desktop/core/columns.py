"""Visitor records held in columns (arrays and shared strings), read as ordinary records made on demand.

100,000 decoded ``Visitor`` structs cost ~560 bytes each: a struct with 36 slots, a float object per time,
a string object per text. In columns a visitor is a row number: its times in ``array('d')``, its counters
in integer arrays, its flags in one byte, and each repeated text (country, city, browser, page URL and
title ...) a 2- or 4-byte code into that field's table of distinct strings. Texts that are a visitor's own
(name, e-mail, phone, custom fields, the bot run, the trail) are rare and kept in per-field dicts by row.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator, Mapping
from typing import Any, Final

from msgspec import UNSET

from desktop.core.slots import IdTable
from protocol.messages import PATCH_FIELDS, PageVisit, Visitor, VisitorPatch
from protocol.rules import MAX_TRAIL_PAGES

_ONLINE: Final = 1
_IN_CHAT: Final = 2
_CUSTOMER: Final = 4
_AUTO: Final = 8
_BANNED: Final = 16
_SESSION_ONLY: Final = 32
_LABEL_DERIVED: Final = 64
"""The label is what the server derives (name, else e-mail, else "Visitor" and the id's end): not stored."""
_BOOLS: Final = (
    ("online", _ONLINE),
    ("in_chat", _IN_CHAT),
    ("customer", _CUSTOMER),
    ("auto_messaged", _AUTO),
    ("banned", _BANNED),
    ("session_only", _SESSION_ONLY),
)

SHARED_FIELDS: Final = (
    "country_code",
    "country",
    "city",
    "timezone",
    "language",
    "browser",
    "os",
    "device",
    "referrer",
    "current_url",
    "current_title",
    "chat_status",
    "chat_agent_name",
)
"""Text fields whose values repeat across visitors: kept as codes into a table of distinct strings."""
_OWN_FIELDS: Final = ("name", "email", "phone")
_TIMES: Final = ("first_seen_at", "visit_started_at", "last_activity_at")
_COUNTS: Final = ("visit_count", "unread")
_DEPARTED: Final = 1024
"""Records of visitors that left kept for :meth:`VisitorColumns.departed` (a list holding its rows)."""
_VIEWS: Final = 4096
"""Records made for single reads kept, so that an unchanged visitor reads as the same object."""


def derived_label(name: str | None, email: str | None, visitor_id: str) -> str:
    """The label the server gives a visitor (``server.live.core.label_for``): the one most visitors have."""
    return name or email or f"Visitor {visitor_id[-6:]}"


class SharedText:
    """One text field of every row as a code into a table of its distinct values (0 is None).

    Codes start as 2-byte integers and widen to 4 bytes past 65,535 distinct values. Values no row uses
    any more are dropped when the table grows past twice the rows (page URLs and titles keep changing).
    """

    __slots__ = ("codes", "table", "values")

    def __init__(self) -> None:
        self.values: list[str | None] = [None]
        self.table: dict[str | None, int] = {None: 0}
        self.codes = array("H")

    def code(self, value: str | None) -> int:
        """The code of a value (added to the table when new)."""
        code = self.table.get(value)
        if code is None:
            if len(self.values) > max(1024, 2 * len(self.codes)):
                self.compact()
            code = self.table[value] = len(self.values)
            self.values.append(value)
            if code > 0xFFFF and self.codes.typecode == "H":
                self.codes = array("I", self.codes)
        return code

    def compact(self) -> None:
        """Drop values no row uses (codes are renumbered)."""
        used = sorted(set(self.codes) | {0})
        values = self.values
        renumber = {old: new for new, old in enumerate(used)}
        self.values = [values[old] for old in used]
        self.table = {value: code for code, value in enumerate(self.values)}
        self.codes = array("H" if len(used) <= 0xFFFF else "I", map(renumber.__getitem__, self.codes))


class VisitorColumns(Mapping[str, Visitor]):
    """Every listed visitor by id, in columns; reading one makes an ordinary (read-only) ``Visitor``.

    A record read with ``[]`` or :meth:`get` is cached until its row changes, so reading an unchanged
    visitor twice gives the same object (a Qt model compares identities to know when to rebuild a row's
    cells); iterating makes fresh records without caching them. Records are snapshots: changing one
    changes nothing here.
    """

    def __init__(self) -> None:
        self._ids: list[str] = []  # by row; "" for a free row
        self._row = IdTable(self._ids)
        self._free: list[int] = []
        self._times = {name: array("d") for name in _TIMES}
        self._counts = {name: array("I") for name in _COUNTS}
        self._flags = bytearray()
        self._shared = {name: SharedText() for name in SHARED_FIELDS}
        self._own: dict[str, dict[int, str]] = {name: {} for name in _OWN_FIELDS}
        self._labels: dict[int, str] = {}  # labels other than the derived one
        self._left_at: dict[int, float] = {}  # only visitors in the grace period after leaving
        self._agent_id: dict[int, int] = {}  # only visitors an agent chats with
        self._custom: dict[int, dict[str, str]] = {}
        self._bot: dict[int, Any] = {}
        self._pages: dict[int, tuple[PageVisit, ...]] = {}
        self._views: dict[int, Visitor] = {}
        self._departed: dict[str, Visitor] = {}

    # ------------------------------------------------------------ Mapping

    def __len__(self) -> int:
        return len(self._row)

    def __iter__(self) -> Iterator[str]:
        return filter(None, self._ids)

    def __contains__(self, visitor_id: object) -> bool:
        return isinstance(visitor_id, str) and self._row.get(visitor_id) is not None

    def __getitem__(self, visitor_id: str) -> Visitor:
        row = self._row.get(visitor_id)
        if row is None:
            raise KeyError(visitor_id)
        view = self._views.get(row)
        if view is None:
            if len(self._views) >= _VIEWS:
                self._views.clear()
            view = self._views[row] = self._make(row)
        return view

    def get(self, visitor_id: str, default: Any = None) -> Any:
        """The record of a visitor, or ``default``."""
        row = self._row.get(visitor_id)
        if row is None:
            return default
        view = self._views.get(row)
        if view is None:
            if len(self._views) >= _VIEWS:
                self._views.clear()
            view = self._views[row] = self._make(row)
        return view

    def values(self) -> Iterator[Visitor]:  # type: ignore[override]
        """Every record (made fresh, not cached: a full pass would only flush the cache)."""
        make = self._make
        return (make(row) for row, vid in enumerate(self._ids) if vid)

    def items(self) -> Iterator[tuple[str, Visitor]]:  # type: ignore[override]
        """(id, record) of every visitor (records made fresh)."""
        make = self._make
        return ((vid, make(row)) for row, vid in enumerate(self._ids) if vid)

    def record(self, visitor_id: str) -> Visitor:
        """A visitor's record made fresh, not cached (for passes over many visitors)."""
        row = self._row.get(visitor_id)
        if row is None:
            raise KeyError(visitor_id)
        return self._make(row)

    def departed(self, visitor_id: str) -> Visitor | None:
        """The last record of a visitor that left recently (for a list that still shows its row)."""
        return self._departed.get(visitor_id)

    # ------------------------------------------------------------ fields

    def last_activity_at(self, visitor_id: str) -> float | None:
        """A visitor's last activity (without making its record)."""
        row = self._row.get(visitor_id)
        return None if row is None else self._times["last_activity_at"][row]

    def pages(self, visitor_id: str) -> tuple[PageVisit, ...]:
        """A visitor's trail as far as kept (empty when not loaded)."""
        row = self._row.get(visitor_id)
        return () if row is None else self._pages.get(row, ())

    def _make(self, row: int) -> Visitor:
        """The record of a row."""
        flags = self._flags[row]
        times = self._times
        own = self._own
        name = own["name"].get(row)
        email = own["email"].get(row)
        visitor_id = self._ids[row]
        shared: dict[str, Any] = {name: column.values[column.codes[row]] for name, column in self._shared.items()}
        return Visitor(
            id=visitor_id,
            label=derived_label(name, email, visitor_id) if flags & _LABEL_DERIVED else self._labels.get(row, ""),
            first_seen_at=times["first_seen_at"][row],
            visit_started_at=times["visit_started_at"][row],
            last_activity_at=times["last_activity_at"][row],
            visit_count=self._counts["visit_count"][row],
            online=bool(flags & _ONLINE),
            left_at=self._left_at.get(row),
            name=name,
            email=email,
            phone=own["phone"].get(row),
            custom=dict(self._custom.get(row, ())),
            pages=self._pages.get(row, ()),
            in_chat=bool(flags & _IN_CHAT),
            customer=bool(flags & _CUSTOMER),
            auto_messaged=bool(flags & _AUTO),
            banned=bool(flags & _BANNED),
            chat_agent_id=self._agent_id.get(row),
            unread=self._counts["unread"][row],
            session_only=bool(flags & _SESSION_ONLY),
            bot=self._bot.get(row),
            **shared,
        )

    # ------------------------------------------------------------ changes

    def clear(self) -> None:
        """Forget every visitor."""
        self.__init__()  # type: ignore[misc]

    def put(self, visitor: Visitor, *, keep_pages: bool = True) -> str:
        """Write a whole record (its trail only when ``keep_pages``); the id as kept here (share that one)."""
        row = self._row.get(visitor.id)
        if row is None:
            row = self._new_row(visitor.id)
        self._views.pop(row, None)
        times = self._times
        times["first_seen_at"][row] = visitor.first_seen_at
        times["visit_started_at"][row] = visitor.visit_started_at
        times["last_activity_at"][row] = visitor.last_activity_at
        self._put_sparse(self._left_at, row, visitor.left_at)
        self._set_count("visit_count", row, visitor.visit_count)
        self._set_count("unread", row, visitor.unread)
        self._put_sparse(self._agent_id, row, visitor.chat_agent_id)
        for name, column in self._shared.items():
            column.codes[row] = column.code(getattr(visitor, name))
        for name in _OWN_FIELDS:
            self._put_sparse(self._own[name], row, getattr(visitor, name))
        self._put_sparse(self._custom, row, visitor.custom or None)
        self._put_sparse(self._bot, row, visitor.bot)
        if keep_pages:
            self._put_sparse(self._pages, row, visitor.pages or None)
        flags = 0
        for name, bit in _BOOLS:
            if getattr(visitor, name):
                flags |= bit
        self._flags[row] = flags
        self._put_label(row, visitor.label)
        return self._ids[row]

    def patch(self, patch: VisitorPatch, *, keep_trail: bool) -> bool:
        """Apply a ``visitor_patch`` in place (as :func:`protocol.messages.apply_patch`); False when not listed."""
        row = self._row.get(patch.visitor_id)
        if row is None:
            return False
        self._views.pop(row, None)
        changed = {name: value for name in PATCH_FIELDS if (value := getattr(patch, name)) is not UNSET}
        label = self._label(row)
        for name, value in changed.items():
            self._write(row, name, value)
        if "label" in changed:
            label = changed["label"]
        self._put_label(row, label)
        page = patch.page
        if keep_trail and page is not UNSET:
            pages = self._pages.get(row, ())
            if not pages or pages[-1] != page:
                self._pages[row] = (*pages[-(MAX_TRAIL_PAGES - 1) :], page)
        return True

    def set_last_activity(self, visitor_id: str, at: float) -> bool:
        """Move a visitor's last activity forward; False when not listed or not later."""
        row = self._row.get(visitor_id)
        column = self._times["last_activity_at"]
        if row is None or at <= column[row]:
            return False
        column[row] = at
        self._views.pop(row, None)
        return True

    def set_pages(self, visitor_id: str, pages: tuple[PageVisit, ...]) -> bool:
        """Keep (or with ``()`` drop) a visitor's trail; False when not listed."""
        row = self._row.get(visitor_id)
        if row is None:
            return False
        self._put_sparse(self._pages, row, pages or None)
        self._views.pop(row, None)
        return True

    def pop(self, visitor_id: str) -> Visitor | None:
        """Remove a visitor; its last record (also kept for :meth:`departed`), or None when not listed."""
        row = self._row.remove(visitor_id)
        if row is None:
            return None
        record = self._views.pop(row, None) or self._make(row)
        departed = self._departed
        departed.pop(visitor_id, None)
        departed[visitor_id] = record
        if len(departed) > _DEPARTED:
            del departed[next(iter(departed))]
        self._ids[row] = ""
        sparses: list[dict[int, Any]] = [
            *self._own.values(),
            self._labels,
            self._left_at,
            self._agent_id,
            self._custom,
            self._bot,
            self._pages,
        ]
        for sparse in sparses:
            sparse.pop(row, None)
        for column in self._shared.values():
            column.codes[row] = 0
        self._free.append(row)
        return record

    # ------------------------------------------------------------ internals

    def _new_row(self, visitor_id: str) -> int:
        self._departed.pop(visitor_id, None)
        # A copy: the decoded string sits among the decoded page's objects, which are all freed but this
        # one; kept, it would pin that memory (a 1,000-visitor page at a time) away from reuse.
        visitor_id = visitor_id.encode().decode()
        if self._free:
            row = self._free.pop()
            self._ids[row] = visitor_id
        else:
            row = len(self._ids)
            self._ids.append(visitor_id)
            for column in self._times.values():
                column.append(0.0)
            for counts in self._counts.values():
                counts.append(0)
            self._flags.append(0)
            for shared in self._shared.values():
                shared.codes.append(0)
        self._row.add(visitor_id, row)
        return row

    def _set_count(self, name: str, row: int, value: int) -> None:
        column = self._counts[name]
        try:
            column[row] = value
        except OverflowError:  # negative or past 2**32: widen the column rather than lose the value
            column = self._counts[name] = array("q", column)
            column[row] = value

    @staticmethod
    def _put_sparse(sparse: dict[int, Any], row: int, value: Any) -> None:
        if value is None:
            sparse.pop(row, None)
        else:
            sparse[row] = value

    def _label(self, row: int) -> str:
        if self._flags[row] & _LABEL_DERIVED:
            return derived_label(self._own["name"].get(row), self._own["email"].get(row), self._ids[row])
        return self._labels.get(row, "")

    def _put_label(self, row: int, label: str) -> None:
        """Store a label: as a flag when it is the derived one (the usual case), else as text."""
        derived = derived_label(self._own["name"].get(row), self._own["email"].get(row), self._ids[row])
        if label == derived:
            self._flags[row] |= _LABEL_DERIVED
            self._labels.pop(row, None)
        else:
            self._flags[row] &= ~_LABEL_DERIVED & 0xFF
            self._put_sparse(self._labels, row, label or None)

    def _write(self, row: int, name: str, value: Any) -> None:
        """One field of a patch (the label is written by the caller, after name and e-mail)."""
        shared = self._shared.get(name)
        if shared is not None:
            shared.codes[row] = shared.code(value)
        elif name in self._own:
            self._put_sparse(self._own[name], row, value)
        elif name == "last_activity_at":
            self._times[name][row] = value
        elif name == "left_at":
            self._put_sparse(self._left_at, row, value)
        elif name in self._counts:
            self._set_count(name, row, value)
        elif name == "chat_agent_id":
            self._put_sparse(self._agent_id, row, value)
        elif name == "custom":
            self._put_sparse(self._custom, row, value or None)
        elif name == "bot":
            self._put_sparse(self._bot, row, value)
        elif name != "label":
            bit = dict(_BOOLS)[name]
            self._flags[row] = self._flags[row] | bit if value else self._flags[row] & ~bit & 0xFF
