"""The team layer's rules, without I/O: who is on which visitor, take-over, transfer, notes, alerts.

Like ``server.live.core`` these functions change a visitor's state in place and return
:class:`~server.live.core.Effects`; the adapter (``server.live.team_hub``) carries them out. Which
agent holds a chat is decided by the database (a claim row, compare-and-set), not here: these
functions only say what follows once the claim is settled.

:class:`TeamReplica` is one process's copy of an account's agent connections (every process announces
its own on the control channel, and again every few seconds, so a replica converges after a restart
and forgets the connections of a process that died).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Final

from protocol.messages import (
    AgentStatus,
    ChatMessage,
    ErrorCode,
    MessageAdded,
    Note,
    NoteAdded,
    PresenceActivity,
    PresenceEntry,
    TakenOver,
    TeamMember,
    TeamStatus,
    Transferred,
    UnansweredAlert,
    VisitorMessage,
    VisitorPresence,
)
from server.live.core import OPEN_CHAT, AgentFrame, Effects, RefusedError, TabFrame
from server.live.record import VisitorState

ANNOUNCE_TTL: Final = 30.0
"""A connection not announced again within this many seconds is gone (its process died)."""
MAX_VIEWING: Final = 32
_STRENGTH: Final[dict[PresenceActivity, int]] = {"viewing": 0, "typing": 1, "chatting": 2}


# ---------------------------------------------------------------- one process's copy of the team


@dataclass(slots=True)
class ConnInfo:
    """One agent socket as its process announced it."""

    agent_id: int
    agent_name: str
    status: AgentStatus
    viewing: tuple[str, ...] = ()
    typing: frozenset[str] = frozenset()
    seen_at: float = 0.0


@dataclass(slots=True)
class TeamChange:
    """What a replica update changed: visitors whose presence differs, and whether the team list did."""

    visitors: set[str] = field(default_factory=set)
    members: bool = False

    def __or__(self, other: TeamChange) -> TeamChange:
        return TeamChange(self.visitors | other.visitors, self.members or other.members)


@dataclass(slots=True)
class TeamReplica:
    """An account's agent connections on every process, as last announced."""

    conns: dict[str, ConnInfo] = field(default_factory=dict)

    def announce(self, conn_id: str, info: ConnInfo) -> TeamChange:
        """A connection is there (again) with this status, viewing and typing."""
        old = self.conns.get(conn_id)
        self.conns[conn_id] = info
        if old is None:
            return TeamChange(set(info.viewing) | set(info.typing), members=True)
        visitors = set(old.viewing).symmetric_difference(info.viewing) | set(old.typing ^ info.typing)
        return TeamChange(visitors, members=old.status != info.status or old.agent_name != info.agent_name)

    def remove(self, conn_id: str) -> TeamChange:
        """A connection closed."""
        old = self.conns.pop(conn_id, None)
        if old is None:
            return TeamChange()
        return TeamChange(set(old.viewing) | set(old.typing), members=True)

    def expire(self, now: float, ttl: float = ANNOUNCE_TTL) -> TeamChange:
        """Forget connections not announced for ``ttl`` seconds."""
        change = TeamChange()
        for conn_id in [c for c, info in self.conns.items() if now - info.seen_at > ttl]:
            change = change | self.remove(conn_id)
        return change

    def set_status(self, agent_id: int, status: AgentStatus) -> TeamChange:
        """An agent's status changed (all of their connections)."""
        changed = False
        for info in self.conns.values():
            if info.agent_id == agent_id and info.status != status:
                info.status = status
                changed = True
        return TeamChange(members=changed)

    def connected(self, agent_id: int) -> bool:
        """Whether the agent has a socket on some process."""
        return any(info.agent_id == agent_id for info in self.conns.values())

    def available(self, agent_id: int) -> bool:
        """Whether a chat can go to this agent: connected and Online."""
        return any(info.agent_id == agent_id and info.status == "online" for info in self.conns.values())

    def presence(self, visitor_id: str, holder: tuple[int, str] | None) -> VisitorPresence:
        """Every agent on a visitor now, each with the most they do (the holder is chatting)."""
        best: dict[int, PresenceEntry] = {}

        def note(agent_id: int, name: str, activity: PresenceActivity) -> None:
            known = best.get(agent_id)
            if known is None or _STRENGTH[activity] > _STRENGTH[known.activity]:
                best[agent_id] = PresenceEntry(agent_id=agent_id, agent_name=name, activity=activity)

        for info in self.conns.values():
            if visitor_id in info.typing:
                note(info.agent_id, info.agent_name, "typing")
            elif visitor_id in info.viewing:
                note(info.agent_id, info.agent_name, "viewing")
        if holder is not None:
            note(holder[0], holder[1], "chatting")
        agents = sorted(best.values(), key=lambda e: (-_STRENGTH[e.activity], e.agent_name, e.agent_id))
        return VisitorPresence(visitor_id=visitor_id, agents=agents)

    def watched(self) -> set[str]:
        """Visitors some agent views or types to."""
        out: set[str] = set()
        for info in self.conns.values():
            out.update(info.viewing)
            out.update(info.typing)
        return out

    def team(self, agents: Mapping[int, tuple[str, AgentStatus]]) -> TeamStatus:
        """The account's agents (from the database) with whether each is connected now."""
        members = [
            TeamMember(id=agent_id, name=name, status=status, connected=self.connected(agent_id))
            for agent_id, (name, status) in agents.items()
        ]
        return TeamStatus(agents=sorted(members, key=lambda m: (m.name.casefold(), m.id)))


def holder_of(state: VisitorState | None) -> tuple[int, str] | None:
    """Who holds a visitor's open chat, as the live record says."""
    if state is None:
        return None
    record = state.record
    if record.chat_status in OPEN_CHAT and record.chat_agent_id is not None:
        return (record.chat_agent_id, record.chat_agent_name or "")
    return None


def viewing_list(ids: Iterable[str]) -> tuple[str, ...]:
    """The visitors an agent says it views, deduplicated, at most 32, in the order given."""
    return tuple(dict.fromkeys(ids))[:MAX_VIEWING]


# ---------------------------------------------------------------- collision guard


def held_error(holder_name: str) -> RefusedError:
    """The refusal of an open or a message on a chat a colleague holds, naming them."""
    who = holder_name or "Another agent"
    return RefusedError(
        ErrorCode.CONVERSATION_HELD,
        f"{who} is chatting with this visitor; ask them, or take over the chat (it is recorded and they are told)",
    )


def check_not_held(state: VisitorState, agent_id: int) -> None:
    """Refuse acting on a chat another agent holds (the server never re-assigns silently)."""
    holder = holder_of(state)
    if holder is not None and holder[0] != agent_id:
        raise held_error(holder[1])


def _hold(state: VisitorState, agent: tuple[int, str], effects: Effects) -> None:
    record = state.record
    record.chat_status = "active"
    record.in_chat = True
    record.chat_agent_id, record.chat_agent_name = agent
    effects.writes.update(chat_status="active", chat_agent_id=agent[0])
    effects.changed(state, "chat")


def take_over_text(by_name: str, from_name: str) -> str:
    """The system line a take-over leaves in the history."""
    return f"{by_name} took over from {from_name}"


def transfer_text(from_name: str, to_name: str) -> str:
    """The system line a transfer leaves in the history."""
    return f"{from_name} handed the chat to {to_name}"


def system_line(message_id: str, visitor_id: str, text: str, *, now: float) -> ChatMessage:
    """A system message for the history (also shown in the widget: the visitor sees who answers now)."""
    return ChatMessage(id=message_id, visitor_id=visitor_id, author="system", text=text, sent_at=now, delivered_at=now)


def _handed(state: VisitorState, holder: tuple[int, str], line: ChatMessage | None) -> Effects:
    """The chat now held by ``holder``, with the system line that says so in the history and the widget."""
    effects = Effects()
    _hold(state, holder, effects)
    if line is not None:
        state.has_messages = True
        effects.store.add("has_messages")
        effects.deltas.append(MessageAdded(message=line))
        effects.tabs.append(TabFrame(VisitorMessage(message=line)))
    return effects


def taken_over(
    state: VisitorState, by: tuple[int, str], previous: tuple[int, str], line: ChatMessage | None
) -> Effects:
    """A take-over was settled in the database: the record, the system line, the announcement."""
    effects = _handed(state, by, line)
    effects.agents.append(
        AgentFrame(
            TakenOver(
                visitor_id=state.record.id,
                from_agent_id=previous[0],
                from_agent_name=previous[1],
                by_agent_id=by[0],
                by_agent_name=by[1],
            )
        )
    )
    return effects


def transferred(
    state: VisitorState, sender: tuple[int, str], receiver: tuple[int, str], note: str, line: ChatMessage | None
) -> Effects:
    """A transfer was settled in the database: the receiver holds the chat and is alerted with the note."""
    effects = _handed(state, receiver, line)
    effects.agents.append(
        AgentFrame(
            Transferred(
                visitor_id=state.record.id,
                from_agent_id=sender[0],
                from_agent_name=sender[1],
                to_agent_id=receiver[0],
                to_agent_name=receiver[1],
                note=note,
            )
        )
    )
    return effects


def check_transfer(state: VisitorState, sender_id: int, receiver_id: int, *, receiver_available: bool) -> None:
    """Refuse a transfer of a chat the sender does not hold, to themself, or to an agent not online."""
    holder = holder_of(state)
    if holder is None:
        raise RefusedError(ErrorCode.CONVERSATION_CLOSED, "there is no open chat with this visitor to hand over")
    if holder[0] != sender_id:
        raise held_error(holder[1])
    if receiver_id == sender_id:
        raise RefusedError(ErrorCode.BAD_FRAME, "the chat is yours already; pick a colleague")
    if not receiver_available:
        raise RefusedError(ErrorCode.AGENT_UNAVAILABLE, "that agent is not online now; pick a colleague who is Online")


# ---------------------------------------------------------------- notes and alerts


def note_added(note: Note) -> Effects:
    """A note was stored: a delta for the agents' log only (the log never reaches a widget)."""
    return Effects(deltas=[NoteAdded(note=note)])


def unanswered_alert(state: VisitorState | None, waiting_since: float) -> UnansweredAlert | None:
    """The re-alert for a chat still waiting (for every online agent); None once it was answered."""
    if state is None or state.record.chat_status != "unanswered" or state.record.banned:
        return None
    return UnansweredAlert(visitor_id=state.record.id, waiting_since=waiting_since)
