"""The visitor list's columns and the sort key of each."""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Sequence
from operator import attrgetter
from typing import Final

from desktop.core.state import device_text, has_new_chat, is_chatting, short_label
from protocol.messages import Visitor
from protocol.rules import ACTIVE_WINDOW_SECONDS, is_active


class Column(enum.IntEnum):
    """The visitor list's columns, in display order."""

    STATE = 0
    NAME = 1
    LOCATION = 2
    PAGE = 3
    TIME_ON_SITE = 4
    VISITS = 5
    REFERRER = 6
    DEVICE = 7
    AGENT = 8


SortValue = float | str
SortKey = tuple[SortValue, str]
"""A column's value and the visitor id: unique, so a sorted list can be searched with bisect."""

_BROWSER: Final = attrgetter("browser")
_OS: Final = attrgetter("os")
_DEVICE: Final = attrgetter("device")

# Far above any epoch second, so the rank dominates the STATE value and arrival time breaks ties.
_RANK_SCALE = 1e11


def urgency_rank(visitor: Visitor, now: float) -> int:
    """The default order's groups: 0 new or unanswered chat, 1 chatting, 2 active, 3 inactive, 4 left, 5 banned."""
    if visitor.banned:
        return 5
    if has_new_chat(visitor):
        return 0
    if is_chatting(visitor):
        return 1
    if not visitor.online:
        return 4
    return 2 if is_active(visitor.last_activity_at, now) else 3


def _state_value(visitor: Visitor, now: float) -> SortValue:
    return urgency_rank(visitor, now) * _RANK_SCALE + visitor.visit_started_at


def _location_value(visitor: Visitor, _now: float) -> SortValue:
    return f"{visitor.country or visitor.country_code or ''}\x00{visitor.city or ''}".casefold()


_VALUE_FUNCTIONS: Final[dict[Column, Callable[[Visitor, float], SortValue]]] = {
    Column.STATE: _state_value,
    Column.NAME: lambda v, _now: short_label(v).casefold(),
    Column.LOCATION: _location_value,
    Column.PAGE: lambda v, _now: (v.current_title or v.current_url or "").casefold(),
    Column.TIME_ON_SITE: lambda v, _now: -v.visit_started_at,
    Column.VISITS: lambda v, _now: float(v.visit_count),
    Column.REFERRER: lambda v, _now: (v.referrer or "").casefold(),
    Column.DEVICE: lambda v, _now: device_text(v).casefold(),
    Column.AGENT: lambda v, _now: (v.chat_agent_name or "").casefold(),
}


def value_function(column: Column) -> Callable[[Visitor, float], SortValue]:
    """:func:`sort_value` for one column, as a function of (visitor, now) to keep for the hot path."""
    return _VALUE_FUNCTIONS[column]


def sort_value(column: Column, visitor: Visitor, now: float) -> SortValue:
    """The value a column sorts by (ascending); case-folded text for text columns.

    STATE is the default order: urgency group, then the longest time on site first. TIME_ON_SITE sorts by
    when the visit started (latest first is shortest first), which keeps keys fixed as the clock runs.
    """
    return _VALUE_FUNCTIONS[column](visitor, now)


def sort_key(column: Column, visitor: Visitor, now: float) -> SortKey:
    """The full, unique sort key of a visitor for a column."""
    return (sort_value(column, visitor, now), visitor.id)


def default_order(visitors: Iterable[Visitor], now: float) -> list[Visitor]:
    """Visitors in the default order: new chat, chatting, active, inactive, then longest time on site."""
    return sorted(visitors, key=lambda v: sort_key(Column.STATE, v, now))


def sort_values(column: Column, visitors: Sequence[Visitor], now: float) -> list[SortValue]:
    """:func:`sort_value` of many visitors at once; inlined per column, as re-sorting 100,000 rows is hot."""
    values: list[SortValue]
    match column:
        case Column.STATE:
            # urgency_rank() inlined: a function call per row would double the cost.
            window, scale = ACTIVE_WINDOW_SECONDS, _RANK_SCALE
            values = [
                (
                    5
                    if v.banned
                    else 0
                    if v.chat_status == "unanswered" or v.unread > 0
                    else 1
                    if v.chat_status == "active" or v.in_chat
                    else 4
                    if not v.online
                    else 2
                    if now - v.last_activity_at < window
                    else 3
                )
                * scale
                + v.visit_started_at
                for v in visitors
            ]
        case Column.NAME:
            values = [(v.name or v.label or v.id[:8]).casefold() for v in visitors]
        case Column.PAGE:
            values = [(v.current_title or v.current_url or "").casefold() for v in visitors]
        case Column.TIME_ON_SITE:
            values = [-v.visit_started_at for v in visitors]
        case Column.VISITS:
            values = [float(v.visit_count) for v in visitors]
        case Column.REFERRER:
            values = [(v.referrer or "").casefold() for v in visitors]
        case Column.AGENT:
            values = [(v.chat_agent_name or "").casefold() for v in visitors]
        case Column.LOCATION:
            values = [f"{v.country or v.country_code or ''}\x00{v.city or ''}".casefold() for v in visitors]
        case Column.DEVICE:
            # Few distinct browser/OS/device triples, and joining them per row was the slowest column.
            devices: dict[tuple[str | None, str | None, str | None], str] = {}

            def device(parts: tuple[str | None, str | None, str | None]) -> str:
                value = devices[parts] = " · ".join(filter(None, parts)).casefold()
                return value

            values = [
                devices.get(p) or device(p)
                for p in zip(map(_BROWSER, visitors), map(_OS, visitors), map(_DEVICE, visitors), strict=True)
            ]
    return values
