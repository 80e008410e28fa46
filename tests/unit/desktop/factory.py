"""Building protocol visitors and events for desktop tests and benchmarks."""

from __future__ import annotations

from typing import Any

from protocol.messages import ChatMessage, Snapshot, Visitor, VisitorActivity, VisitorChanged, VisitorLeft

NOW = 1_800_000_000.0


def visitor_id(n: int) -> str:
    """A valid visitor id for number ``n``."""
    return f"visitor-{n:08d}"


def make_visitor(n: int, **fields: Any) -> Visitor:
    """Visitor number ``n``: online, active at NOW, on a page, with ``fields`` overriding."""
    values: dict[str, Any] = {
        "id": visitor_id(n),
        "label": f"#{n}",
        "first_seen_at": NOW - 3600,
        "visit_started_at": NOW - 60 - n,
        "last_activity_at": NOW - 5,
        "current_url": f"https://shop.example/p/{n}",
        "current_title": f"Product {n}",
        "country_code": "DE",
        "country": "Germany",
    }
    values.update(fields)
    return Visitor(**values)


def snapshot(visitors: list[Visitor], seq: int = 10) -> Snapshot:
    """An initial snapshot as of ``seq``."""
    return Snapshot(seq=seq, reason="initial", visitors=visitors)


def changed(seq: int, visitor: Visitor) -> VisitorChanged:
    """A visitor delta."""
    return VisitorChanged(seq=seq, visitor=visitor)


def left(seq: int, n: int) -> VisitorLeft:
    """A leave delta for visitor ``n``."""
    return VisitorLeft(seq=seq, visitor_id=visitor_id(n))


def activity(seq: int, n: int, at: float) -> VisitorActivity:
    """An activity delta for visitor ``n``."""
    return VisitorActivity(seq=seq, visitor_id=visitor_id(n), at=at)


def message(n: int, msg: int, text: str = "hello", author: str = "visitor", at: float = NOW) -> ChatMessage:
    """Message number ``msg`` in visitor ``n``'s conversation."""
    return ChatMessage(
        id=f"message-{n:04d}-{msg:04d}",
        visitor_id=visitor_id(n),
        author=author,  # type: ignore[arg-type]
        text=text,
        sent_at=at + msg,
    )
