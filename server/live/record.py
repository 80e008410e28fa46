"""A live visitor's state as named field groups, each encoded on its own for the shared presence.

Groups change independently (a page view touches ``page`` and ``activity``, an agent's answer
``chat``), so two processes updating one visitor write different fields and do not overwrite
each other. The same groups name what a delta carries.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

import msgspec

from protocol.messages import Visitor

GROUPS: Final[dict[str, tuple[str, ...]]] = {
    "visit": (
        "id",
        "first_seen_at",
        "visit_started_at",
        "visit_count",
        "country_code",
        "country",
        "city",
        "timezone",
        "language",
        "browser",
        "os",
        "device",
        "referrer",
    ),
    "identity": ("label", "name", "email", "phone", "custom", "customer"),
    "page": ("current_url", "current_title", "pages"),
    "activity": ("last_activity_at",),
    "online": ("online", "left_at"),
    "chat": ("chat_status", "in_chat", "chat_agent_id", "chat_agent_name", "unread", "auto_messaged"),
    "banned": ("banned",),
}
"""Record field groups: each is stored as one presence field and changes as one unit."""

SERVER_GROUPS: Final = ("fired", "has_messages", "activity_sent_at")
"""Presence fields only the server reads."""

ALL: Final = frozenset(GROUPS)

_encoder: Final = msgspec.json.Encoder()
_group_decoder: Final = msgspec.json.Decoder(dict[str, Any])
_fired_decoder: Final = msgspec.json.Decoder(list[int])


@dataclass(slots=True, eq=False)
class VisitorState:
    """One present visitor: the record agents see plus what only the server needs."""

    record: Visitor
    fired: set[int] = field(default_factory=set)
    """Rules that already fired for this visitor (the database has the final word)."""
    has_messages: bool | None = None
    """Whether the conversation has any message; None until known (saves a query per reconnect)."""
    activity_sent_at: float = 0.0
    """When an activity delta last went out for this visitor."""


def encode_groups(state: VisitorState, names: frozenset[str] | set[str]) -> dict[str, bytes]:
    """The named groups (record groups and server fields) of a visitor, encoded."""
    record = state.record
    out: dict[str, bytes] = {}
    for name in names:
        if name == "fired":
            out[name] = _encoder.encode(sorted(state.fired))
        elif name == "has_messages":
            out[name] = _encoder.encode(state.has_messages)
        elif name == "activity_sent_at":
            out[name] = _encoder.encode(state.activity_sent_at)
        else:
            out[name] = _encoder.encode({attr: getattr(record, attr) for attr in GROUPS[name]})
    return out


def encode_all(state: VisitorState) -> dict[str, bytes]:
    """Every field of a visitor, encoded (a new visitor's first store)."""
    return encode_groups(state, {*GROUPS, *SERVER_GROUPS})


def decode_state(fields: dict[str, bytes]) -> VisitorState | None:
    """A visitor from its stored fields; None when the record is incomplete (it is being removed)."""
    if "visit" not in fields:
        return None
    values: dict[str, Any] = {}
    for name in GROUPS:
        raw = fields.get(name)
        if raw is not None:
            values.update(_group_decoder.decode(raw))
    values.setdefault("label", "")
    record = msgspec.convert(values, Visitor)
    fired = fields.get("fired")
    has_messages = fields.get("has_messages")
    sent = fields.get("activity_sent_at")
    return VisitorState(
        record=record,
        fired=set(_fired_decoder.decode(fired)) if fired else set(),
        has_messages=msgspec.json.decode(has_messages, type=bool | None) if has_messages else None,
        activity_sent_at=msgspec.json.decode(sent, type=float) if sent else 0.0,
    )
