"""Visitor records held in columns (arrays and shared strings), read as ordinary records made on demand.

100,000 decoded ``Visitor`` structs cost ~560 bytes each: a struct with 36 slots, a float object per time,
a string object per text. In columns a visitor is a row number: its times in ``array('d')``, its counters
in integer arrays, its flags in one byte, and its repeated texts in groups that change together (place,
browser, page, referrer, chat) as a 2- or 4-byte code per group into a table of the distinct tuples. Fields
that most visitors do not have (name, e-mail, phone, custom fields, the bot run, the trail) are kept in
per-field dicts by row. Reading a visitor copies a template record of its place, browser and flags and
fills in the rest.
"""

from __future__ import annotations

from array import array
from collections import deque
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from itertools import compress
from operator import itemgetter, not_
from typing import Any, Final

from msgspec import UNSET
from msgspec.structs import replace

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
_SPARSE: Final = 128
"""The row has one of the rarely set fields (name, e-mail, phone, another label, left_at, agent, custom, bot, trail)."""
_BOOLS: Final = (
    ("online", _ONLINE),
    ("in_chat", _IN_CHAT),
    ("customer", _CUSTOMER),
    ("auto_messaged", _AUTO),
    ("banned", _BANNED),
    ("session_only", _SESSION_ONLY),
)
_BOOL_BITS: Final = dict(_BOOLS)
_FLAG_FIELDS: Final[tuple[dict[str, Any], ...]] = tuple(
    {name: bool(flags & bit) for name, bit in _BOOLS if bool(flags & bit) != (name == "online")} for flags in range(64)
)
"""The boolean fields that differ from their defaults, for each combination of their bits."""

GROUPS: Final = (
    ("country_code", "country", "city", "timezone", "language"),
    ("browser", "os", "device"),
    ("current_url", "current_title"),
    ("referrer",),
    ("chat_status", "chat_agent_name"),
)
"""Text fields whose values repeat across visitors, in groups that change together: a row holds one code per
group into a table of the distinct value tuples (a visitor's place is one code, not five strings)."""
_DEFAULTS: Final = {"chat_status": "none"}
_GROUP_OF: Final = {name: (g, i) for g, names in enumerate(GROUPS) for i, name in enumerate(names)}
_COUNTS: Final = ("visit_count", "unread")
_GROW: Final = 1024
"""Rows added to every column at a time."""
_DEPARTED: Final = 1024
"""Records of visitors that left kept for :meth:`VisitorColumns.departed` (a list holding its rows)."""
_TEMPLATES: Final = 4096
"""Template records (per place, browser and flags) kept for making records."""
_VIEWS: Final = 4096
"""Records made for single reads kept, so that an unchanged visitor reads as the same object."""


_DERIVED_WORD: Final = "Visitor "
DERIVED_WORD: Final = _DERIVED_WORD
"""How the server's label for a visitor without a name or e-mail starts (then the end of the id)."""
_DERIVED_BIT: Final = bytes((flags & _LABEL_DERIVED) and 1 for flags in range(256))
"""A ``bytes.translate`` table from a row's flags to 1 when its label is the derived one, else 0."""
_FLIP: Final = bytes([1]) + bytes(255)
"""A ``bytes.translate`` table turning 0 into 1 and 1 into 0."""
_ID_END: Final = itemgetter(slice(-6, None))
_ID_START: Final = itemgetter(slice(None, 8))


def derived_label(name: str | None, email: str | None, visitor_id: str) -> str:
    """The label the server gives a visitor (``server.live.core.label_for``): the one most visitors have."""
    return name or email or f"{_DERIVED_WORD}{visitor_id[-6:]}"


_SEPARATOR: Final = "\x00"


def _folded(texts: list[str]) -> list[str]:
    """``str.casefold`` of each text: joined, case-folded once and split again (C passes over one string)."""
    folded = _SEPARATOR.join(texts).casefold().split(_SEPARATOR)
    # A text holding the separator splits apart (visitor-typed labels may): then one at a time.
    return folded if len(folded) == len(texts) and texts else list(map(str.casefold, texts))


def _write_at(target: list[str], rows: Iterable[int], values: Iterable[str]) -> None:
    """``target[row] = value`` for pairs of the two iterables, in one C pass."""
    deque(map(target.__setitem__, rows, values), maxlen=0)


class SharedTuples:
    """One group of text fields of every row as a code into a table of its distinct value tuples (0: defaults).

    Codes start as 2-byte integers and widen to 4 bytes past 65,535 distinct tuples. Tuples no row uses any
    more are dropped when the table grows past twice the rows (page URLs and titles keep changing).
    """

    __slots__ = ("codes", "fields", "names", "table", "values")

    def __init__(self, names: tuple[str, ...]) -> None:
        self.names = names
        default = tuple(_DEFAULTS.get(name) for name in names)
        self.values: list[tuple[str | None, ...]] = [default]
        self.fields: list[dict[str, Any]] = [self._fields(default)]
        """Per code: the fields that are set, ready to pass to ``Visitor``."""
        self.table: dict[tuple[str | None, ...], int] = {default: 0}
        self.codes = array("H")

    def _fields(self, values: tuple[str | None, ...]) -> dict[str, Any]:
        return {name: value for name, value in zip(self.names, values, strict=True) if value is not None}

    def code(self, values: tuple[str | None, ...]) -> int:
        """The code of a tuple (added to the table when new)."""
        code = self.table.get(values)
        if code is None:
            if len(self.values) > max(1024, 2 * len(self.codes)):
                self.compact()
            code = self.table[values] = len(self.values)
            self.values.append(values)
            self.fields.append(self._fields(values))
            if code > 0xFFFF and self.codes.typecode == "H":
                self.codes = array("I", self.codes)
        return code

    def compact(self) -> None:
        """Drop tuples no row uses (codes are renumbered)."""
        used = sorted(set(self.codes) | {0})
        values, fields = self.values, self.fields
        renumber = {old: new for new, old in enumerate(used)}
        self.values = [values[old] for old in used]
        self.fields = [fields[old] for old in used]
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
        self._first_seen = array("d")
        self._started = array("d")
        self._last_activity = array("d")
        self._counts = {name: array("I") for name in _COUNTS}
        self._flags = bytearray()
        self._online = 0  # rows with the online bit, kept as rows change (the status bar's count)
        self._unread = 0  # rows with unread > 0
        self._groups = tuple(SharedTuples(names) for names in GROUPS)
        self._name: dict[int, str] = {}
        self._email: dict[int, str] = {}
        self._phone: dict[int, str] = {}
        self._labels: dict[int, str] = {}  # labels other than the derived one
        self._left_at: dict[int, float] = {}  # only visitors in the grace period after leaving
        self._agent_id: dict[int, int] = {}  # only visitors an agent chats with
        self._custom: dict[int, dict[str, str]] = {}
        self._bot: dict[int, Any] = {}
        self._pages: dict[int, tuple[PageVisit, ...]] = {}
        self._sparse: tuple[dict[int, Any], ...] = (
            self._name,
            self._email,
            self._phone,
            self._labels,
            self._left_at,
            self._agent_id,
            self._custom,
            self._bot,
            self._pages,
        )
        self._views: dict[str, Visitor] = {}  # by id: a repeated read needs no row lookup
        self._templates: dict[tuple[Any, ...], Visitor] = {}
        self._departed: dict[str, Visitor] = {}

    # ------------------------------------------------------------ Mapping

    def __len__(self) -> int:
        return len(self._row)

    def __iter__(self) -> Iterator[str]:
        return filter(None, self._ids)

    def __contains__(self, visitor_id: object) -> bool:
        return isinstance(visitor_id, str) and self._row.get(visitor_id) is not None

    def __getitem__(self, visitor_id: str) -> Visitor:
        view = self._views.get(visitor_id)
        if view is None:
            row = self._row.get(visitor_id)
            if row is None:
                raise KeyError(visitor_id)
            view = self._view(visitor_id, row)
        return view

    def get(self, visitor_id: str, default: Any = None) -> Any:
        """The record of a visitor, or ``default``."""
        view = self._views.get(visitor_id)
        if view is None:
            row = self._row.get(visitor_id)
            if row is None:
                return default
            view = self._view(visitor_id, row)
        return view

    def values(self) -> Iterator[Visitor]:  # type: ignore[override]
        """Every record (made fresh, not cached: a full pass would only flush the cache)."""
        make = self._make
        return (make(row) for row, vid in enumerate(self._ids) if vid)

    def items(self) -> Iterator[tuple[str, Visitor]]:  # type: ignore[override]
        """(id, record) of every visitor (records made fresh)."""
        make = self._make
        return ((vid, make(row)) for row, vid in enumerate(self._ids) if vid)

    def group_records(self, fields: Collection[str]) -> tuple[list[str], array[int], list[Visitor]] | None:
        """For fields of one group (the place, the browser, the page ...): what a pass over everyone needs.

        The id of each row ("" for a free row), the code of each row in that group, and per code a record
        with the group's fields filled in (the rest default): a value computed from those fields is then
        computed once per distinct code, not once per visitor. None when the fields span several groups.
        """
        where = {_GROUP_OF[name][0] if name in _GROUP_OF else -1 for name in fields}
        if len(where) != 1 or -1 in where:
            return None
        group = self._groups[where.pop()]
        records = [
            Visitor(id="", label="", first_seen_at=0.0, visit_started_at=0.0, last_activity_at=0.0, **fields_of)
            for fields_of in group.fields
        ]
        return self._ids, group.codes, records

    def numbers(self, field: str) -> tuple[list[str], array[float] | array[int]]:
        """The id of each row ("" for a free row) and one number field of each row (a time or a count)."""
        times = {
            "first_seen_at": self._first_seen,
            "visit_started_at": self._started,
            "last_activity_at": self._last_activity,
        }
        return self._ids, times[field] if field in times else self._counts[field]

    def named_items(self) -> Iterator[tuple[str, Visitor]]:
        """(id, record) of every visitor with only its id, name, e-mail and label filled in (the rest default).

        A pass over names (sorting by the name column) then makes small records, not whole ones.
        """
        flags, name_of, email_of, label = self._flags, self._name, self._email, self._label
        for row, visitor_id in enumerate(self._ids):
            if visitor_id:
                sparse = flags[row] & _SPARSE
                yield (
                    visitor_id,
                    Visitor(
                        id=visitor_id,
                        label=label(row),
                        first_seen_at=0.0,
                        visit_started_at=0.0,
                        last_activity_at=0.0,
                        name=name_of.get(row) if sparse else None,
                        email=email_of.get(row) if sparse else None,
                    ),
                )

    def short_labels(self, *, casefold: bool = False) -> tuple[list[str], list[str]]:
        """The id of each row ("" for a free row) and what the name column shows for it, with no record made.

        Per listed row ``desktop.core.state.short_label`` of its record (the name, else the label, else the
        id's start; anything for a free row), case-folded with ``casefold`` (the name column's sort value).
        In C passes: first the label most rows have for every row at once ("Visitor " and the id's end
        where it is the derived one, else the row's own label), then the other rows, then the few rows
        with an e-mail in the derived label or a name, from their per-field dicts.
        """
        ids = self._ids
        rows = range(len(ids))
        fold: Callable[[Any], str] = str.casefold if casefold else str
        derived = self._flags.translate(_DERIVED_BIT)  # 1 where the label is the derived one
        own = self._labels.get  # only rows without the derived label have one here (never "")
        shown: list[str]
        derived_rows = derived.count(1)
        if derived_rows * 2 >= len(ids):
            shown = self._derived_labels(casefold)
            others = list(compress(rows, derived.translate(_FLIP))) if derived_rows < len(ids) else []
            _write_at(shown, others, map(fold, map(own, others, map(_ID_START, map(ids.__getitem__, others)))))
        else:
            shown = [""] * len(ids)
            labels = list(self._labels.values())
            _write_at(shown, self._labels.keys(), _folded(labels) if casefold else labels)
            if len(labels) + derived_rows + len(self._free) < len(ids):  # rows without any label
                others = list(compress(rows, map(not_, shown)))  # (and the derived ones, and free rows)
                _write_at(shown, others, map(fold, map(_ID_START, map(ids.__getitem__, others))))
                others = list(compress(others, map(derived.__getitem__, others)))
            else:
                others = list(compress(rows, derived)) if derived_rows else []
            _write_at(shown, others, map(fold, map(_DERIVED_WORD.__add__, map(_ID_END, map(ids.__getitem__, others)))))
        names = self._name
        # The derived label of a row with an e-mail but no name is the e-mail; a name wins over any label.
        # Rows with an e-mail but no name: a set difference in C (identified visitors usually have both).
        email_of = self._email
        unnamed = email_of.keys() - compress(names.keys(), names.values()) if derived_rows else set()
        emails = [(r, e) for r in unnamed if (e := email_of[r]) and derived[r]]
        _write_at(shown, map(itemgetter(0), emails), map(fold, map(itemgetter(1), emails)))
        _write_at(shown, compress(names.keys(), names.values()), map(fold, filter(None, names.values())))
        return ids, shown

    def _derived_labels(self, casefold: bool) -> list[str]:
        """ "Visitor " and the id's end for every row (case-folded with ``casefold``): built as one string."""
        ends = list(map(_ID_END, self._ids))
        blob = _DERIVED_WORD + (_SEPARATOR + _DERIVED_WORD).join(ends)
        shown = (blob.casefold() if casefold else blob).split(_SEPARATOR)
        if len(shown) != len(ends):  # an id holding the separator (never one from the server)
            shown = list(map(_DERIVED_WORD.__add__, ends))
            return list(map(str.casefold, shown)) if casefold else shown
        return shown

    def record(self, visitor_id: str) -> Visitor:
        """A visitor's record made fresh, not cached (for passes over many visitors)."""
        row = self._row.get(visitor_id)
        if row is None:
            raise KeyError(visitor_id)
        return self._make(row)

    def departed(self, visitor_id: str) -> Visitor | None:
        """The last record of a visitor that left recently (for a list that still shows its row)."""
        return self._departed.get(visitor_id)

    # ------------------------------------------------------------ queries

    def count_online(self) -> int:
        """How many visitors are online (kept as rows change: no pass over the rows)."""
        return self._online

    def count_unread(self) -> int:
        """How many visitors have unread messages (kept as rows change)."""
        return self._unread

    def ids_with_chat_status(self, statuses: Collection[str]) -> list[str]:
        """The ids of the visitors whose chat status is one of ``statuses``, in row order.

        The few chat codes with such a status are found in the group's table, then the rows holding one
        of them in a C pass over the codes (no record is made).
        """
        chat = self._groups[_GROUP_OF["chat_status"][0]]
        codes = {code for code, values in enumerate(chat.values) if values[0] in statuses}
        if not codes:
            return []
        return list(filter(None, compress(self._ids, map(codes.__contains__, chat.codes))))

    # ------------------------------------------------------------ fields

    def chat_status(self, visitor_id: str) -> str | None:
        """A visitor's chat status (without making its record), or None when not listed."""
        row = self._row.get(visitor_id)
        if row is None:
            return None
        chat = self._groups[_GROUP_OF["chat_status"][0]]
        return chat.values[chat.codes[row]][0]

    def last_activity_at(self, visitor_id: str) -> float | None:
        """A visitor's last activity (without making its record)."""
        row = self._row.get(visitor_id)
        return None if row is None else self._last_activity[row]

    def pages(self, visitor_id: str) -> tuple[PageVisit, ...]:
        """A visitor's trail as far as kept (empty when not loaded)."""
        row = self._row.get(visitor_id)
        return () if row is None else self._pages.get(row, ())

    def _view(self, visitor_id: str, row: int) -> Visitor:
        if len(self._views) >= _VIEWS:
            self._views.clear()
        view = self._views[visitor_id] = self._make(row)
        return view

    def _make(self, row: int) -> Visitor:
        """The record of a row.

        Most rows have none of the rare fields: their record is a copy of a template record of their place,
        browser and flags (few distinct ones) with the rest given to the copy, about three times faster
        than building it from a dict of fields.
        """
        flags = self._flags[row]
        if flags & _SPARSE:
            return self._make_whole(row)
        place, agent, page, referrer, chat = self._groups
        key = (place.values[place.codes[row]], agent.values[agent.codes[row]], flags)
        template = self._templates.get(key)
        if template is None:
            if len(self._templates) >= _TEMPLATES:
                self._templates.clear()
            template = self._templates[key] = Visitor(
                id="",
                label="",
                first_seen_at=0.0,
                visit_started_at=0.0,
                last_activity_at=0.0,
                **_FLAG_FIELDS[flags & 63],
                **place.fields[place.codes[row]],
                **agent.fields[agent.codes[row]],
            )
        url, title = page.values[page.codes[row]]
        status, agent_name = chat.values[chat.codes[row]]
        visitor_id = self._ids[row]
        return replace(
            template,
            id=visitor_id,
            label=f"Visitor {visitor_id[-6:]}" if flags & _LABEL_DERIVED else "",
            first_seen_at=self._first_seen[row],
            visit_started_at=self._started[row],
            last_activity_at=self._last_activity[row],
            visit_count=self._counts["visit_count"][row],
            unread=self._counts["unread"][row],
            current_url=url,
            current_title=title,
            referrer=referrer.values[referrer.codes[row]][0],
            chat_status=status,
            chat_agent_name=agent_name,
            custom={},  # each record its own (empty) dict, as a decoded one
        )

    def _make_whole(self, row: int) -> Visitor:
        """The record of a row from a dict of every field that differs from its default."""
        flags = self._flags[row]
        visitor_id = self._ids[row]
        fields: dict[str, Any] = {
            "id": visitor_id,
            "first_seen_at": self._first_seen[row],
            "visit_started_at": self._started[row],
            "last_activity_at": self._last_activity[row],
            "visit_count": self._counts["visit_count"][row],
        }
        fields.update(_FLAG_FIELDS[flags & 63])
        for group in self._groups:
            fields.update(group.fields[group.codes[row]])
        unread = self._counts["unread"][row]
        if unread:
            fields["unread"] = unread
        if flags & _SPARSE:
            for name, sparse in zip(_SPARSE_NAMES, self._sparse, strict=True):
                value = sparse.get(row)
                if value is not None:
                    fields[name] = dict(value) if name == "custom" else value
            fields["label"] = (
                derived_label(fields.get("name"), fields.get("email"), visitor_id)
                if flags & _LABEL_DERIVED
                else self._labels.get(row, "")
            )
        else:
            fields["label"] = f"Visitor {visitor_id[-6:]}" if flags & _LABEL_DERIVED else ""
        return Visitor(**fields)

    # ------------------------------------------------------------ changes

    def clear(self) -> None:
        """Forget every visitor."""
        self.__init__()  # type: ignore[misc]

    def put(self, visitor: Visitor, *, keep_pages: bool = True) -> str:
        """Write a whole record (its trail only when ``keep_pages``); the id as kept here (share that one)."""
        row = self._row.get(visitor.id)
        if row is None:
            row = self._new_row(visitor.id)
        self._views.pop(visitor.id, None)
        self._first_seen[row] = visitor.first_seen_at
        self._started[row] = visitor.visit_started_at
        self._last_activity[row] = visitor.last_activity_at
        counts = self._counts
        self._unread += (visitor.unread > 0) - (counts["unread"][row] > 0)
        self._online += visitor.online - (self._flags[row] & _ONLINE)
        try:
            counts["visit_count"][row] = visitor.visit_count
            counts["unread"][row] = visitor.unread
        except OverflowError:
            self._set_count("visit_count", row, visitor.visit_count)
            self._set_count("unread", row, visitor.unread)
        keys = (
            (visitor.country_code, visitor.country, visitor.city, visitor.timezone, visitor.language),
            (visitor.browser, visitor.os, visitor.device),
            (visitor.current_url, visitor.current_title),
            (visitor.referrer,),
            (visitor.chat_status, visitor.chat_agent_name),
        )
        for group, key in zip(self._groups, keys, strict=True):
            code = group.table.get(key)
            group.codes[row] = group.code(key) if code is None else code
        flags = (
            (_ONLINE if visitor.online else 0)
            | (_IN_CHAT if visitor.in_chat else 0)
            | (_CUSTOMER if visitor.customer else 0)
            | (_AUTO if visitor.auto_messaged else 0)
            | (_BANNED if visitor.banned else 0)
            | (_SESSION_ONLY if visitor.session_only else 0)
        )
        derived = derived_label(visitor.name, visitor.email, visitor.id)
        if (
            self._flags[row] & _SPARSE
            or visitor.name is not None
            or visitor.email is not None
            or visitor.phone is not None
            or visitor.left_at is not None
            or visitor.chat_agent_id is not None
            or visitor.custom
            or visitor.bot is not None
            or (keep_pages and visitor.pages)
            or visitor.label not in (derived, "")
        ):
            put = self._put_sparse
            put(self._name, row, visitor.name)
            put(self._email, row, visitor.email)
            put(self._phone, row, visitor.phone)
            put(self._left_at, row, visitor.left_at)
            put(self._agent_id, row, visitor.chat_agent_id)
            put(self._custom, row, visitor.custom or None)
            put(self._bot, row, visitor.bot)
            if keep_pages:
                put(self._pages, row, visitor.pages or None)
            put(self._labels, row, None if visitor.label == derived else visitor.label or None)
            if any(row in sparse for sparse in self._sparse):
                flags |= _SPARSE
        if visitor.label == derived:
            flags |= _LABEL_DERIVED
        self._flags[row] = flags
        return self._ids[row]

    def patch(self, patch: VisitorPatch, *, keep_trail: bool) -> bool:
        """Apply a ``visitor_patch`` in place (as :func:`protocol.messages.apply_patch`); False when not listed."""
        row = self._row.get(patch.visitor_id)
        if row is None:
            return False
        self._views.pop(patch.visitor_id, None)
        changed = {name: value for name in PATCH_FIELDS if (value := getattr(patch, name)) is not UNSET}
        label = changed.pop("label", None)
        if label is None:
            label = self._label(row)  # as it was: a new name does not change the label the server sent
        for name, value in changed.items():
            self._write(row, name, value)
        page = patch.page
        if keep_trail and page is not UNSET:
            pages = self._pages.get(row, ())
            if not pages or pages[-1] != page:
                self._pages[row] = (*pages[-(MAX_TRAIL_PAGES - 1) :], page)
        self._put_label(row, label)
        return True

    def set_last_activity(self, visitor_id: str, at: float) -> bool:
        """Move a visitor's last activity forward; False when not listed or not later."""
        row = self._row.get(visitor_id)
        column = self._last_activity
        if row is None or at <= column[row]:
            return False
        column[row] = at
        self._views.pop(visitor_id, None)
        return True

    def set_pages(self, visitor_id: str, pages: tuple[PageVisit, ...]) -> bool:
        """Keep (or with ``()`` drop) a visitor's trail; False when not listed."""
        row = self._row.get(visitor_id)
        if row is None:
            return False
        self._put_sparse(self._pages, row, pages or None)
        self._views.pop(visitor_id, None)
        self._mark_sparse(row)
        return True

    def pop(self, visitor_id: str) -> Visitor | None:
        """Remove a visitor; its last record (also kept for :meth:`departed`), or None when not listed."""
        row = self._row.remove(visitor_id)
        if row is None:
            return None
        record = self._views.pop(visitor_id, None) or self._make(row)
        departed = self._departed
        departed.pop(visitor_id, None)
        departed[visitor_id] = record
        if len(departed) > _DEPARTED:
            del departed[next(iter(departed))]
        self._ids[row] = ""
        if self._flags[row] & _SPARSE:
            for sparse in self._sparse:
                sparse.pop(row, None)
        self._online -= self._flags[row] & _ONLINE
        self._unread -= self._counts["unread"][row] > 0
        self._flags[row] = 0
        for name in _COUNTS:
            self._counts[name][row] = 0  # a free row counts for nothing
        for group in self._groups:
            group.codes[row] = 0
        self._free.append(row)
        return record

    # ------------------------------------------------------------ internals

    def _new_row(self, visitor_id: str) -> int:
        self._departed.pop(visitor_id, None)
        # A copy: the decoded string sits among the decoded page's objects, which are all freed but this
        # one; kept, it would pin that memory (a 1,000-visitor page at a time) away from reuse.
        visitor_id = visitor_id.encode().decode()
        if not self._free:
            self._grow(_GROW)
        row = self._free.pop()
        self._ids[row] = visitor_id
        self._row.add(visitor_id, row)
        return row

    def _grow(self, rows: int) -> None:
        """Room for more rows in every column at once (an append per column per visitor was a third of a put)."""
        start = len(self._ids)
        self._ids.extend([""] * rows)
        columns: list[array[Any]] = [self._first_seen, self._started, self._last_activity, *self._counts.values()]
        columns += [group.codes for group in self._groups]
        for column in columns:
            column.frombytes(bytes(column.itemsize * rows))
        self._flags.extend(bytes(rows))
        self._free.extend(range(start + rows - 1, start - 1, -1))  # the lowest row is used first

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

    def _mark_sparse(self, row: int) -> None:
        if any(row in sparse for sparse in self._sparse):
            self._flags[row] |= _SPARSE
        else:
            self._flags[row] &= ~_SPARSE & 0xFF

    def _label(self, row: int) -> str:
        if self._flags[row] & _LABEL_DERIVED:
            return derived_label(self._name.get(row), self._email.get(row), self._ids[row])
        return self._labels.get(row, "")

    def _put_label(self, row: int, label: str) -> None:
        """Store a label: as a flag when it is the derived one (the usual case), else as text."""
        if label == derived_label(self._name.get(row), self._email.get(row), self._ids[row]):
            self._flags[row] |= _LABEL_DERIVED
            self._labels.pop(row, None)
        else:
            self._flags[row] &= ~_LABEL_DERIVED & 0xFF
            self._put_sparse(self._labels, row, label or None)
        self._mark_sparse(row)

    def _write(self, row: int, name: str, value: Any) -> None:
        """One field of a patch other than the label (written by the caller, after name and e-mail)."""
        where = _GROUP_OF.get(name)
        if where is not None:
            group = self._groups[where[0]]
            old = group.values[group.codes[row]]
            i = where[1]
            group.codes[row] = group.code((*old[:i], value, *old[i + 1 :]))
        elif name in _SPARSE_FIELD:
            self._put_sparse(self._sparse[_SPARSE_FIELD[name]], row, value or None if name == "custom" else value)
        elif name == "last_activity_at":
            self._last_activity[row] = value
        elif name in self._counts:
            if name == "unread":
                self._unread += (value > 0) - (self._counts[name][row] > 0)
            self._set_count(name, row, value)
        else:
            bit = _BOOL_BITS[name]
            flags = self._flags[row]
            if bit == _ONLINE:
                self._online += bool(value) - (flags & _ONLINE)
            self._flags[row] = flags | bit if value else flags & ~bit & 0xFF


_SPARSE_NAMES: Final = ("name", "email", "phone", "label", "left_at", "chat_agent_id", "custom", "bot", "pages")
"""The fields of ``VisitorColumns._sparse``, in its order."""
_SPARSE_FIELD: Final = {name: i for i, name in enumerate(_SPARSE_NAMES) if name not in ("label", "pages")}
