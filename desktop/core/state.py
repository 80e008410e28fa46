"""What a visitor is doing right now, as shown by the state icon, and small display helpers."""

from __future__ import annotations

import enum
from typing import Final

from protocol.messages import Visitor
from protocol.rules import is_active


class VisitorState(enum.StrEnum):
    """A visitor's state as the legend names it (the values match the icon file names)."""

    NEW_CHAT = "new-chat"
    CHATTING = "chatting"
    ACTIVE = "active"
    IDLE = "idle"
    AUTO_MESSAGED = "auto-messaged"
    CUSTOMER = "customer"
    RETURNING = "returning"
    BANNED = "banned"
    LEFT = "left"
    TYPING = "typing"


STATE_NAMES: Final[dict[VisitorState, str]] = {
    VisitorState.NEW_CHAT: "New or unanswered chat",
    VisitorState.CHATTING: "Chatting",
    VisitorState.ACTIVE: "Active",
    VisitorState.IDLE: "Idle",
    VisitorState.AUTO_MESSAGED: "Auto-messaged",
    VisitorState.CUSTOMER: "Customer",
    VisitorState.RETURNING: "Returning",
    VisitorState.BANNED: "Banned",
    VisitorState.LEFT: "Left",
    VisitorState.TYPING: "Typing",
}
"""English name of each state, for the legend and tooltips (translated by the UI)."""


def has_new_chat(visitor: Visitor) -> bool:
    """Whether the visitor waits for an answer: an unanswered chat or unread messages."""
    return visitor.chat_status == "unanswered" or visitor.unread > 0


def is_chatting(visitor: Visitor) -> bool:
    """Whether an agent is in a conversation with the visitor."""
    return visitor.chat_status == "active" or visitor.in_chat


def in_bot(visitor: Visitor) -> bool:
    """Whether a bot is talking with the visitor now (an agent can take over at any time)."""
    return visitor.bot is not None and visitor.bot.status == "running"


def primary_state(visitor: Visitor, now: float, typing: bool = False) -> VisitorState:
    """The one state the icon column shows, most urgent first.

    Banned and left win (nothing else applies), then the chat states, then idle; an active visitor shows
    the most specific marker (auto-messaged, customer, returning) before plain active.
    """
    if visitor.banned:
        return VisitorState.BANNED
    if not visitor.online:
        return VisitorState.LEFT
    if typing:
        return VisitorState.TYPING
    if has_new_chat(visitor):
        return VisitorState.NEW_CHAT
    if is_chatting(visitor):
        return VisitorState.CHATTING
    if not is_active(visitor.last_activity_at, now):
        return VisitorState.IDLE
    if visitor.auto_messaged:
        return VisitorState.AUTO_MESSAGED
    if visitor.customer:
        return VisitorState.CUSTOMER
    if visitor.visit_count > 1:
        return VisitorState.RETURNING
    return VisitorState.ACTIVE


def badges(visitor: Visitor, now: float) -> list[VisitorState]:
    """Every state that applies to the visitor, in legend order (for tooltips and the detail pane)."""
    result: list[VisitorState] = []
    if has_new_chat(visitor):
        result.append(VisitorState.NEW_CHAT)
    if is_chatting(visitor):
        result.append(VisitorState.CHATTING)
    if visitor.online and not visitor.banned:
        result.append(VisitorState.ACTIVE if is_active(visitor.last_activity_at, now) else VisitorState.IDLE)
    if visitor.auto_messaged:
        result.append(VisitorState.AUTO_MESSAGED)
    if visitor.customer:
        result.append(VisitorState.CUSTOMER)
    if visitor.visit_count > 1:
        result.append(VisitorState.RETURNING)
    if visitor.banned:
        result.append(VisitorState.BANNED)
    if not visitor.online:
        result.append(VisitorState.LEFT)
    return result


def state_text(state: VisitorState, visitor: Visitor) -> str:
    """English text of a state for one visitor, e.g. "Returning (3)"."""
    name = STATE_NAMES[state]
    if state is VisitorState.RETURNING:
        return f"{name} ({visitor.visit_count})"
    return name


_REGIONAL_A: Final = 0x1F1E6


def flag_emoji(country_code: str | None) -> str:
    """The flag emoji of an ISO 3166 alpha-2 code, or "" when there is no valid code."""
    if not country_code or len(country_code) != 2 or not country_code.isascii() or not country_code.isalpha():
        return ""
    code = country_code.upper()
    return chr(_REGIONAL_A + ord(code[0]) - 65) + chr(_REGIONAL_A + ord(code[1]) - 65)


def short_label(visitor: Visitor) -> str:
    """What the name column shows: the visitor's name, else the server's short label, else the id's start."""
    return visitor.name or visitor.label or visitor.id[:8]


def location_text(visitor: Visitor) -> str:
    """Flag and country (and city when known), e.g. "🇩🇪 Germany, Berlin"."""
    country = visitor.country or visitor.country_code or ""
    place = f"{country}, {visitor.city}" if country and visitor.city else country or (visitor.city or "")
    flag = flag_emoji(visitor.country_code)
    return f"{flag} {place}" if flag and place else flag or place


def device_text(visitor: Visitor) -> str:
    """Browser, operating system and device kind, e.g. "Firefox · Windows · desktop"."""
    return " · ".join(part for part in (visitor.browser, visitor.os, visitor.device) if part)


def time_on_site(visitor: Visitor, now: float) -> float:
    """Seconds since this visit started, frozen when the visitor left."""
    end = visitor.left_at if not visitor.online and visitor.left_at is not None else now
    return max(0.0, end - visitor.visit_started_at)


def format_duration(seconds: float) -> str:
    """Ticking time on site: "mm:ss" under an hour, "h:mm" from one hour on."""
    total = int(max(0.0, seconds))
    if total < 3600:
        return f"{total // 60:02d}:{total % 60:02d}"
    return f"{total // 3600}:{total % 3600 // 60:02d}"
