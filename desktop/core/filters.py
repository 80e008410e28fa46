"""The Visitors tab's filters and search, as pure predicates over protocol visitors."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from typing import Final

from desktop.core.labels import country_name, visitor_word
from desktop.core.state import in_bot, is_chatting
from protocol.messages import Visitor
from protocol.rules import is_active


class VisitorFilter(enum.StrEnum):
    """The filter buttons above the visitor list (seed article, "Filtering")."""

    ALL = "all"
    ACTIVE = "active"
    IN_CHAT = "in_chat"
    CUSTOMERS = "customers"
    AUTO_MESSAGED = "auto_messaged"
    BLOCKED = "blocked"
    WITH_BOT = "with_bot"


FILTER_BITS: Final[dict[VisitorFilter, int]] = {f: 1 << i for i, f in enumerate(VisitorFilter)}
"""One bit per filter, so a visitor's memberships fit in one int (see :func:`filter_mask`)."""

_ALL: Final = FILTER_BITS[VisitorFilter.ALL]
_ACTIVE: Final = FILTER_BITS[VisitorFilter.ACTIVE]
_IN_CHAT: Final = FILTER_BITS[VisitorFilter.IN_CHAT]
_CUSTOMERS: Final = FILTER_BITS[VisitorFilter.CUSTOMERS]
_AUTO: Final = FILTER_BITS[VisitorFilter.AUTO_MESSAGED]
_BLOCKED: Final = FILTER_BITS[VisitorFilter.BLOCKED]
_BOT: Final = FILTER_BITS[VisitorFilter.WITH_BOT]


def filter_mask(visitor: Visitor, now: float) -> int:
    """The bits of every filter the visitor belongs to at ``now``.

    All lists everyone on the site (including those in the leave grace period) but not a banned visitor who
    is gone: the snapshot carries those only so Blocked can list and unban them. Every other filter except
    Blocked is a subset of All.
    """
    if visitor.banned and not visitor.online:
        return _BLOCKED
    mask = _ALL
    if visitor.banned:
        mask |= _BLOCKED
    elif visitor.online and is_active(visitor.last_activity_at, now):
        mask |= _ACTIVE
    if is_chatting(visitor):
        mask |= _IN_CHAT
    if visitor.customer:
        mask |= _CUSTOMERS
    if visitor.auto_messaged:
        mask |= _AUTO
    if in_bot(visitor):
        mask |= _BOT
    return mask


def matches_filter(f: VisitorFilter, visitor: Visitor, now: float) -> bool:
    """Whether the visitor is listed under filter ``f`` at ``now``."""
    return bool(filter_mask(visitor, now) & FILTER_BITS[f])


def count_filters(visitors: Iterable[Visitor], now: float) -> dict[VisitorFilter, int]:
    """How many visitors each filter lists at ``now``."""
    counts = dict.fromkeys(VisitorFilter, 0)
    for visitor in visitors:
        add_mask(counts, filter_mask(visitor, now), 1)
    return counts


_FILTERS_OF: Final[tuple[tuple[VisitorFilter, ...], ...]] = tuple(
    tuple(f for f, bit in FILTER_BITS.items() if mask & bit) for mask in range(1 << len(VisitorFilter))
)
"""The filters of every possible mask, so counting a visitor is a lookup, not a loop over bits."""


def add_mask(counts: dict[VisitorFilter, int], mask: int, delta: int) -> None:
    """Add ``delta`` to the count of every filter in ``mask`` (incremental counting)."""
    for f in _FILTERS_OF[mask]:
        counts[f] += delta


MAX_SEARCH_CHARS: Final = 200
"""Longer queries are cut: no visitor field worth searching is longer, and it bounds the work per keystroke."""


def search_text(visitor: Visitor, locale: str | None = None) -> str:
    """The case-folded text a search looks in: name, e-mail, page title and URL, country, city, id, label.

    With a ``locale`` (the UI's language) the country's name in that language is searched as well as the
    server's English one, so "Deutschland" finds the visitors from Germany in the German UI; so is the
    label the list shows an anonymous visitor ("Besucher Sdf9rh": its word here, the id's end in the id).
    """
    # A newline cannot be typed into the search bar, so no word matches across two fields.
    return own_search_text(visitor) + "\n" + shared_search_text(visitor, locale)


def own_search_text(visitor: Visitor) -> str:
    """The case-folded text of the searched fields that are the visitor's own: name, e-mail, id, label.

    With :func:`shared_search_text` these are the fields of :func:`search_text`: a word matches a visitor
    when it occurs in one of the two (a word has no line break, so it never spans two fields).
    """
    return "\n".join(filter(None, (visitor.name, visitor.email, visitor.id, visitor.label))).casefold()


def shared_search_text(visitor: Visitor, locale: str | None = None) -> str:
    """The case-folded text of the searched fields many visitors share: page title and URL, country, city.

    The country is there as the server names it (English) and, with a ``locale``, in that language too;
    with a ``locale`` an anonymous visitor's text also holds the word its label starts with in that language
    (``labels.visitor_label``: "Besucher" in German), which every anonymous visitor shares. The label's other
    word, the id's end, is in the id (:func:`own_search_text`), so "Besucher Sdf9rh" finds that visitor.
    """
    local = country_name(visitor.country_code, locale) if locale is not None and visitor.country_code else None
    anonymous = visitor_word(locale) if locale is not None and not (visitor.name or visitor.email) else None
    parts = (
        visitor.current_title,
        visitor.current_url,
        visitor.country,
        local,
        visitor.country_code,
        visitor.city,
        anonymous,
    )
    return "\n".join(filter(None, parts)).casefold()


class Search:
    """A search-bar query: every word must occur (case-insensitively) in one of the visitor's fields."""

    __slots__ = ("query", "words")

    def __init__(self, query: str = "") -> None:
        self.query = query[:MAX_SEARCH_CHARS]
        self.words: tuple[str, ...] = tuple(dict.fromkeys(self.query.casefold().split()))

    def __bool__(self) -> bool:
        return bool(self.words)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Search) and self.words == other.words

    def __hash__(self) -> int:
        return hash(self.words)

    def __repr__(self) -> str:
        return f"Search({self.query!r})"

    def matches(self, visitor: Visitor) -> bool:
        """Whether the visitor matches (an empty query matches everyone)."""
        return self.matches_text(search_text(visitor))

    def matches_text(self, text: str) -> bool:
        """Whether a :func:`search_text` matches; the fast path for lists that cache that text."""
        # A plain loop: about twice as fast as all() over a generator, and this runs per row per keystroke.
        for word in self.words:  # noqa: SIM110
            if word not in text:
                return False
        return True

    def narrows(self, previous: Search) -> bool:
        """Whether everything this query matches is also matched by ``previous`` (typing on narrows).

        True when each earlier word is contained in some word of this query: a text holding the longer
        word holds the shorter one too, so only the earlier matches need checking again.
        """
        return all(any(old in new for new in self.words) for old in previous.words)
