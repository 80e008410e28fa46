"""The team layer as the app mirrors it: colleagues on each visitor, their status, and the policy the UI shows.

Pure Python: the server decides who holds a chat; these functions only say what the UI offers and why.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final

from desktop.core.state import in_bot
from protocol.messages import (
    AgentStatus,
    CannedResponse,
    CannedResponses,
    ChatMessage,
    Note,
    NoteAdded,
    Notes,
    PresenceActivity,
    PresenceEntry,
    TeamEvent,
    TeamMember,
    TeamStatus,
    Visitor,
    VisitorPresence,
)

_STRENGTH: Final[dict[PresenceActivity, int]] = {"viewing": 0, "typing": 1, "chatting": 2}
OPEN_CHAT: Final = ("unanswered", "active")


# ---------------------------------------------------------------- state


@dataclass
class TeamState:
    """What the server said about the team: presence per visitor, colleagues, notes, canned responses."""

    supported: bool = False
    """The server speaks the team layer (it sent ``team``); until then status controls stay off."""
    presence: dict[str, tuple[PresenceEntry, ...]] = field(default_factory=dict)
    members: dict[int, TeamMember] = field(default_factory=dict)
    notes: dict[str, dict[str, Note]] = field(default_factory=dict)
    canned: list[CannedResponse] = field(default_factory=list)

    def apply(self, event: TeamEvent) -> set[str]:
        """Apply one team event; returns the visitors whose rows show something new."""
        match event:
            case VisitorPresence(visitor_id=visitor_id, agents=agents):
                entries = tuple(sorted(agents, key=lambda e: (-_STRENGTH[e.activity], e.agent_name)))
                if entries:
                    self.presence[visitor_id] = entries
                elif self.presence.pop(visitor_id, None) is None:
                    return set()
                return {visitor_id}
            case TeamStatus(agents=agents):
                self.supported = True
                self.members = {a.id: a for a in agents}
            case NoteAdded(note=note):
                self.notes.setdefault(note.visitor_id, {})[note.id] = note
            case Notes(visitor_id=visitor_id, notes=notes):
                known = self.notes.setdefault(visitor_id, {})
                for note in notes:
                    known.setdefault(note.id, note)
            case CannedResponses(responses=responses):
                self.canned = list(responses)
            case _:
                pass
        return set()

    def forget(self, visitor_id: str) -> None:
        """A visitor left the list."""
        self.presence.pop(visitor_id, None)
        self.notes.pop(visitor_id, None)

    def reset_presence(self) -> None:
        """A fresh connection: the server sends presence anew (it is never replayed)."""
        self.presence.clear()

    def others_on(self, visitor_id: str, me: int | None) -> tuple[PresenceEntry, ...]:
        """Colleagues on a visitor, the one doing the most first (``chatting`` before ``viewing``)."""
        return tuple(e for e in self.presence.get(visitor_id, ()) if e.agent_id != me)

    def notes_for(self, visitor_id: str) -> list[Note]:
        """Internal notes on a visitor, oldest first."""
        return sorted(self.notes.get(visitor_id, {}).values(), key=lambda n: n.created_at)

    def online_colleagues(self, me: int | None) -> list[TeamMember]:
        """Colleagues a chat can be transferred to: connected and Online."""
        return sorted(
            (m for m in self.members.values() if m.id != me and m.connected and m.status == "online"),
            key=lambda m: m.name.casefold(),
        )


def initials(name: str) -> str:
    """Up to two initials for a row's small avatar ("Anna Berg" -> "AB")."""
    parts = [p for p in name.replace("-", " ").split() if p[:1].isalnum()]
    if not parts:
        return "?"
    if len(parts) == 1:
        return parts[0][:2].upper() if len(parts[0]) > 1 else parts[0].upper()
    return (parts[0][0] + parts[-1][0]).upper()


# ---------------------------------------------------------------- who may open what


class OpenKind(enum.Enum):
    """What opening a visitor's conversation means for this agent."""

    OPEN = "open"  # start one, answer an unassigned one, or return to one's own
    TAKE_OVER = "take_over"  # another agent holds it: only an explicit take-over (asked first)


@dataclass(frozen=True)
class OpenDecision:
    """The UI's answer to "open this conversation"; ``holder`` names who has it when a take-over is needed."""

    kind: OpenKind
    holder: str | None = None


def open_decision(visitor: Visitor, me: int | None) -> OpenDecision:
    """Whether opening ``visitor`` is a plain open or a take-over from the colleague who holds the chat."""
    held = visitor.chat_status in OPEN_CHAT and visitor.chat_agent_id is not None
    if held and visitor.chat_agent_id != me:
        return OpenDecision(OpenKind.TAKE_OVER, visitor.chat_agent_name or "another agent")
    return OpenDecision(OpenKind.OPEN)


# ---------------------------------------------------------------- the Chats panel


class ChatBucket(enum.Enum):
    """The Chats panel's three lists."""

    MINE = "mine"
    UNASSIGNED = "unassigned"
    ALL_OPEN = "all"


def in_bucket(visitor: Visitor, bucket: ChatBucket, me: int | None) -> bool:
    """Whether a visitor's chat belongs to a list of the Chats panel."""
    if visitor.chat_status not in OPEN_CHAT:
        return False
    if bucket is ChatBucket.MINE:
        return me is not None and visitor.chat_agent_id == me
    if bucket is ChatBucket.UNASSIGNED:
        return visitor.chat_agent_id is None
    return True


def waiting_since(messages: Sequence[ChatMessage]) -> float | None:
    """When the visitor's unanswered part began: their first message after the last agent answer."""
    since: float | None = None
    for message in messages:
        if message.author == "agent":
            since = None
        elif message.author == "visitor" and since is None:
            since = message.sent_at
    return since


def chats(
    visitors: Iterable[Visitor], bucket: ChatBucket, me: int | None, waiting: Mapping[str, float | None]
) -> list[Visitor]:
    """One list of the Chats panel: the longest-waiting first, then chats nobody waits on by name."""

    def key(v: Visitor) -> tuple[int, float, str]:
        since = waiting.get(v.id)
        return (0, since, v.id) if since is not None else (1, 0.0, (v.name or v.label).casefold())

    return sorted((v for v in visitors if in_bucket(v, bucket, me)), key=key)


def bucket_counts(visitors: Iterable[Visitor], me: int | None) -> dict[ChatBucket, int]:
    """How many chats each list of the panel holds."""
    counts = dict.fromkeys(ChatBucket, 0)
    for v in visitors:
        if v.chat_status not in OPEN_CHAT:
            continue
        counts[ChatBucket.ALL_OPEN] += 1
        if v.chat_agent_id is None:
            counts[ChatBucket.UNASSIGNED] += 1
        elif me is not None and v.chat_agent_id == me:
            counts[ChatBucket.MINE] += 1
    return counts


def needs_answer(visitor: Visitor, me: int | None) -> bool:
    """A chat that should keep alerting this agent: unanswered, not held by a colleague, no bot talking."""
    return (
        visitor.chat_status == "unanswered"
        and visitor.chat_agent_id in (None, me)
        and not visitor.banned
        and not in_bot(visitor)
    )


def format_waiting(seconds: float) -> str:
    """A waiting time as the panel shows it: 45 s, 3:07, 1:02:03."""
    total = max(0, int(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}:{minutes:02d}:{secs:02d}"
    if minutes:
        return f"{minutes}:{secs:02d}"
    return f"{secs} s"


# ---------------------------------------------------------------- the repeating alert


@dataclass(frozen=True)
class AlertStep:
    """What the alert does at one tick: notify new chats, withdraw answered ones, ring or not."""

    notify: tuple[str, ...] = ()
    withdraw: tuple[str, ...] = ()
    ring: bool = False
    count: int = 0


class RepeatingAlert:
    """Keeps chats alerting until someone takes them: a sound every ``repeat_seconds`` while any is waiting."""

    def __init__(self, repeat_seconds: float) -> None:
        self.repeat_seconds = repeat_seconds
        self._waiting: set[str] = set()
        self._rang_at: float | None = None

    @property
    def waiting(self) -> frozenset[str]:
        """The chats alerting now."""
        return frozenset(self._waiting)

    def update(self, waiting: Iterable[str], now: float, *, escalated: Iterable[str] = ()) -> AlertStep:
        """Feed the chats that need an answer now (and those the server escalated); returns what to do."""
        current = set(waiting)
        again = set(escalated) & current
        new = current - self._waiting
        gone = self._waiting - current
        self._waiting = current
        due = self.repeat_seconds > 0 and (self._rang_at is None or now - self._rang_at >= self.repeat_seconds)
        ring = bool(current) and bool(new or again or due)
        if not current:
            self._rang_at = None
        if ring:
            self._rang_at = now
        return AlertStep(notify=tuple(sorted(new | again)), withdraw=tuple(sorted(gone)), ring=ring, count=len(current))


# ---------------------------------------------------------------- auto-away


class AutoAway:
    """Turns the system's idle time into a status: away after ``idle_after`` seconds, back on input.

    Only a status the agent left at Online is changed: a manual Away stays Away whatever the idle time.
    """

    def __init__(self, idle_after: float | None) -> None:
        self.idle_after = idle_after
        self.active = False
        """Auto-away is in force now (the agent chose Online, the computer has been idle)."""

    def step(self, chosen: AgentStatus, idle_seconds: float | None) -> AgentStatus | None:
        """The status to send when it changes, else None; ``idle_seconds`` None means unknown."""
        if chosen == "away" or self.idle_after is None or idle_seconds is None:
            if self.active:
                self.active = False
                return chosen
            return None
        idle = idle_seconds >= self.idle_after
        if idle == self.active:
            return None
        self.active = idle
        return "away" if idle else "online"


def effective_status(chosen: AgentStatus, auto_away: bool) -> AgentStatus:
    """What colleagues see: the chosen status, or away while auto-away is in force."""
    return "away" if auto_away else chosen


# ---------------------------------------------------------------- canned responses


def slash_query(text: str) -> str | None:
    """The search after ``/`` when the input is a canned-response query ("/ship" -> "ship"), else None."""
    if not text.startswith("/") or any(c.isspace() for c in text):
        return None
    return text[1:]


def match_canned(responses: Iterable[CannedResponse], query: str, language: str | None) -> list[CannedResponse]:
    """Canned responses for a query: shortcut prefix before text match, the visitor's language first."""
    q = query.casefold()
    lang = (language or "").split("-")[0].casefold()

    def rank(r: CannedResponse) -> tuple[int, int, str]:
        by_name = 0 if r.shortcut.casefold().startswith(q) else 1
        r_lang = r.language.split("-")[0].casefold()
        by_lang = 0 if lang and r_lang == lang else 1 if not r_lang else 2
        return (by_name, by_lang, r.shortcut.casefold())

    found = [r for r in responses if q in r.shortcut.casefold() or q in r.text.casefold()]
    return sorted(found, key=rank)


def expand_canned(text: str, *, visitor_name: str, agent_name: str) -> str:
    """Fill in ``{visitor_name}`` and ``{agent_name}``; any other braces stay as written.

    An unknown visitor name leaves no gap: "Hi {visitor_name}, ..." becomes "Hi, ...".
    """
    if not visitor_name:
        text = text.replace(" {visitor_name}", "")
    return text.replace("{visitor_name}", visitor_name).replace("{agent_name}", agent_name)
