"""Pure rules both sides of the wire must agree on."""

from __future__ import annotations

import enum
from typing import Final

import msgspec

PROTOCOL_VERSION: Final = 2
"""Bumped on any incompatible change; the server refuses other versions (2: paged snapshots, patches, epochs)."""

ACTIVE_WINDOW_SECONDS: Final = 600.0
"""A visitor is *active* with some activity in the last 10 minutes (seed article)."""

MAX_FRAME_BYTES: Final = 64 * 1024
"""Largest websocket frame either endpoint accepts; larger closes with 1009."""

MAX_MESSAGE_CHARS: Final = 4000
"""Longest chat message text, in characters."""

MAX_FIELD_CHARS: Final = 2048
"""Longest URL, title, referrer or identity field, in characters."""

MAX_TRAIL_PAGES: Final = 20
"""Pages kept in a visitor's trail (the newest)."""

LEAVE_GRACE_SECONDS: Final = 30.0
"""A visitor whose tabs are all closed leaves the list after this grace period."""


class Plan(enum.StrEnum):
    """An account's plan."""

    FREE = "free"
    STANDARD = "standard"
    PRO = "pro"


class Capabilities(msgspec.Struct, frozen=True, kw_only=True):
    """What an account's plan allows; the server enforces, the UI mirrors."""

    proactive_chat: bool
    auto_messages: bool


def capabilities_for(plan: Plan) -> Capabilities:
    """Capabilities of a plan: proactive chat and auto messages need STANDARD or PRO."""
    paid = plan in (Plan.STANDARD, Plan.PRO)
    return Capabilities(proactive_chat=paid, auto_messages=paid)


def is_active(last_activity_at: float, now: float) -> bool:
    """Whether a visitor counts as active at ``now`` (epoch seconds)."""
    return now - last_activity_at < ACTIVE_WINDOW_SECONDS


def active_until(last_activity_at: float) -> float:
    """The instant at which a visitor turns inactive without further activity."""
    return last_activity_at + ACTIVE_WINDOW_SECONDS
