"""Every message of both websocket endpoints, as typed msgspec structs.

One tagged union per direction and endpoint; the ``type`` field is the tag.
Decoding validates types and limits, so a handler only ever sees valid input.
"""

from __future__ import annotations

import enum
from typing import Annotated, Final, Literal

import msgspec
from msgspec import UNSET, UnsetType

from protocol.bots.flow import BotRun
from protocol.rules import MAX_FIELD_CHARS, MAX_MESSAGE_CHARS, MAX_TRAIL_PAGES, Capabilities, Plan

Id = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9_-]{8,64}$")]
"""A visitor, tab or client-chosen message id."""
Ref = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
"""A client-chosen request reference echoed in the ``result`` or ``error``."""
Field = Annotated[str, msgspec.Meta(max_length=MAX_FIELD_CHARS)]
Text = Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_MESSAGE_CHARS)]
Custom = Annotated[dict[Annotated[str, msgspec.Meta(max_length=64)], Field], msgspec.Meta(max_length=32)]

ChatStatus = Literal["none", "unanswered", "active", "closed"]
"""none: no chat; unanswered: the visitor wrote, no agent yet; active; closed."""
Author = Literal["visitor", "agent", "auto", "system", "bot"]
ActivityKind = Literal["input", "scroll", "focus", "blur", "pointer", "visible", "hidden"]
SnapshotReason = Literal["initial", "resume_unavailable"]
"""initial: the agent asked for no resume; resume_unavailable: it did, and its seq could not be continued."""
Device = Literal["desktop", "mobile", "tablet", "bot", "other"]
Role = Literal["admin", "agent"]


class ErrorCode(enum.StrEnum):
    """Every error code either endpoint can send."""

    BAD_FRAME = "bad_frame"  # not JSON, not an object, or fails the schema
    FRAME_TOO_LARGE = "frame_too_large"  # over MAX_FRAME_BYTES, dropped (past 256 KiB the socket closes with 1009)
    UNAUTHORIZED = "unauthorized"  # missing, wrong or revoked token; wrong password
    AUTH_TIMEOUT = "auth_timeout"  # no auth frame in time
    INCOMPATIBLE_PROTOCOL = "incompatible_protocol"  # the app speaks another protocol version: update it (closes 4426)
    PLAN_REQUIRED = "plan_required"  # the account's plan does not include this action
    NOT_FOUND = "not_found"  # no such visitor (in this account) or resource
    FORBIDDEN = "forbidden"  # not allowed for this caller
    BANNED = "banned"  # the visitor is banned
    RATE_LIMITED = "rate_limited"  # too many frames; slow down
    ORIGIN_NOT_ALLOWED = "origin_not_allowed"  # the page's origin is not on the account's allowlist
    UNKNOWN_ACCOUNT = "unknown_account"  # the widget's account key does not exist
    CONVERSATION_CLOSED = "conversation_closed"  # no open conversation to act on
    CONVERSATION_HELD = "conversation_held"  # another agent holds the chat: the message names them; take_over
    AGENT_UNAVAILABLE = "agent_unavailable"  # a transfer to an agent who is not online
    INTERNAL = "internal"  # a bug on our side; the request changed nothing
    UNAVAILABLE = "unavailable"  # the server's database or Redis did not answer in time; nothing changed, retry soon


class CloseCode(enum.IntEnum):
    """Websocket close codes the server uses besides the standard ones."""

    MESSAGE_TOO_BIG = 1009
    TRY_AGAIN_LATER = 1013  # the server cannot serve the socket now: its database or Redis failed, or it read slowly
    UNAUTHORIZED = 4401
    FORBIDDEN = 4403  # banned visitor, origin not allowed, unknown account
    INCOMPATIBLE = 4426
    RATE_LIMITED = 4429


class _Msg(msgspec.Struct, tag_field="type", kw_only=True, omit_defaults=True):
    """Base of every wire message."""


class _Plain(msgspec.Struct, kw_only=True, omit_defaults=True, gc=False):
    """Base of a value nested in a message.

    ``gc=False``: these values never form reference cycles, and at 100,000 visitors the cyclic
    collector's full passes over them stalled the desktop's event loop (168 -> 88 ms measured).
    """


# ---------------------------------------------------------------- values


class PageVisit(_Plain, kw_only=True):
    """One page of a visitor's trail; time on it is the next entry's ``at`` minus this one."""

    url: Field
    title: Field = ""
    at: float


class ChatMessage(_Plain, kw_only=True):
    """One message of a conversation, as stored."""

    id: Id
    visitor_id: Id
    author: Author
    text: str
    sent_at: float
    agent_id: int | None = None
    agent_name: str | None = None
    delivered_at: float | None = None
    """When it reached the visitor (agent messages) or the server (visitor messages)."""
    read_at: float | None = None
    replies: tuple[str, ...] = ()
    """A bot question's quick-reply labels (plain text); the visitor answers with one of them."""


class Visitor(_Plain, kw_only=True):
    """Everything an agent sees about one visitor."""

    id: Id
    label: str
    first_seen_at: float
    visit_started_at: float
    last_activity_at: float
    visit_count: int = 1
    online: bool = True
    left_at: float | None = None
    name: str | None = None
    email: str | None = None
    phone: str | None = None
    custom: dict[str, str] = msgspec.field(default_factory=dict)
    country_code: str | None = None
    country: str | None = None
    city: str | None = None
    timezone: str | None = None
    language: str | None = None
    browser: str | None = None
    os: str | None = None
    device: Device | None = None
    referrer: str | None = None
    current_url: str | None = None
    current_title: str | None = None
    pages: tuple[PageVisit, ...] = ()
    """The trail of this visit, oldest first; a tuple because a list is always tracked by the cyclic GC,
    and 100,000 tracked trails made each full collection a ~70 ms stall of the desktop's visitor list."""
    in_chat: bool = False
    customer: bool = False
    auto_messaged: bool = False
    banned: bool = False
    chat_status: ChatStatus = "none"
    chat_agent_id: int | None = None
    chat_agent_name: str | None = None
    unread: int = 0
    """Visitor messages no agent has marked read."""
    session_only: bool = False
    """The site asks for consent and the visitor has not given it: not recognised on return, forgotten on leaving."""
    bot: BotRun | None = None
    """The visitor's bot conversation (running, handed over, closed or stopped) and its answers."""


class AgentInfo(_Plain, kw_only=True):
    """The logged-in agent."""

    id: int
    email: str
    name: str
    role: Role = "agent"
    """``admin`` may also change retention, export and erase visitors, and edit rules."""


class AccountInfo(_Plain, kw_only=True):
    """The agent's account."""

    id: int
    name: str
    plan: Plan


# ---------------------------------------------------------------- agent -> server


class Auth(_Msg, tag="auth", kw_only=True):
    """First frame on /ws/agent: the token (never in the URL) and the last seq seen."""

    token: Annotated[str, msgspec.Meta(min_length=1, max_length=256)]
    protocol: int
    resume_from: int | None = None
    epoch: Annotated[str, msgspec.Meta(max_length=64)] | None = None
    """The ``epoch`` of the hello that ``resume_from`` belongs to; another epoch is never resumed."""
    client: Field = ""


class OpenConversation(_Msg, tag="open_conversation", kw_only=True):
    """Start a proactive conversation (STANDARD and PRO only) or take over one."""

    ref: Ref
    visitor_id: Id


class SendMessage(_Msg, tag="send_message", kw_only=True):
    """Send a message; ``id`` is client-chosen so a resend is a no-op."""

    ref: Ref
    id: Id
    visitor_id: Id
    text: Text


class AgentTyping(_Msg, tag="typing", kw_only=True):
    """The agent started or stopped typing to a visitor."""

    visitor_id: Id
    typing: bool


class CloseConversation(_Msg, tag="close_conversation", kw_only=True):
    """End the conversation with a visitor."""

    ref: Ref
    visitor_id: Id


class MarkRead(_Msg, tag="mark_read", kw_only=True):
    """Mark every visitor message of a conversation read."""

    ref: Ref
    visitor_id: Id


class Ban(_Msg, tag="ban", kw_only=True):
    """Ban a visitor: their sockets close, reconnects are refused."""

    ref: Ref
    visitor_id: Id
    reason: Field = ""
    cover_ip: bool = False
    """Also refuse the IP addresses of the visitor's open pages for a while (kept as a keyed hash, never as is)."""


class Unban(_Msg, tag="unban", kw_only=True):
    """Lift a ban."""

    ref: Ref
    visitor_id: Id


class GetHistory(_Msg, tag="get_history", kw_only=True):
    """Ask for a visitor's stored conversation history."""

    ref: Ref
    visitor_id: Id


class GetTrail(_Msg, tag="get_trail", kw_only=True):
    """Ask for a present visitor's trail of pages (records in snapshots and deltas leave it out)."""

    ref: Ref
    visitor_id: Id


class EraseVisitor(_Msg, tag="erase_visitor", kw_only=True):
    """Erase everything held about a visitor but what a ban needs (admins only)."""

    ref: Ref
    visitor_id: Id


# ---------------------------------------------------------------- server -> agent


class Hello(_Msg, tag="hello", kw_only=True):
    """Answer to ``auth``: who you are, what your plan allows, the current seq."""

    protocol: int
    server_version: str
    agent: AgentInfo
    account: AccountInfo
    capabilities: Capabilities
    seq: int
    epoch: str
    """Names this life of the account's delta log; send it back with ``resume_from``."""


class Snapshot(_Msg, tag="snapshot", kw_only=True):
    """One page of every current visitor as of ``seq``; page 0 replaces whatever the client had.

    Pages are numbered from 0 in ``part``; every page but the last has ``more: true``. Deltas
    after ``seq`` follow the last page. Records leave out the trail (``pages``): see ``get_trail``.
    """

    seq: int
    reason: SnapshotReason
    visitors: list[Visitor]
    part: int = 0
    more: bool = False


class Resumed(_Msg, tag="resumed", kw_only=True):
    """Resume accepted: the deltas after ``from_seq`` up to ``seq`` follow at once."""

    from_seq: int
    seq: int


class VisitorChanged(_Msg, tag="visitor", kw_only=True):
    """A visitor arrived; carries the whole record but its trail (``pages`` is left out)."""

    seq: int = 0
    """Given by the account's delta log; left out of the body the log numbers."""
    visitor: Visitor


class VisitorPatch(_Msg, tag="visitor_patch", kw_only=True):
    """Some fields of a listed visitor changed; only those are present (the rest stay as they were).

    ``page`` is a page added to the trail; ``current_url`` and ``current_title`` come with it.
    """

    seq: int = 0
    """Given by the account's delta log; left out of the body the log numbers."""
    visitor_id: Id
    page: PageVisit | UnsetType = UNSET
    label: str | UnsetType = UNSET
    name: str | UnsetType | None = UNSET
    email: str | UnsetType | None = UNSET
    phone: str | UnsetType | None = UNSET
    custom: dict[str, str] | UnsetType = UNSET
    customer: bool | UnsetType = UNSET
    current_url: str | UnsetType | None = UNSET
    current_title: str | UnsetType | None = UNSET
    last_activity_at: float | UnsetType = UNSET
    online: bool | UnsetType = UNSET
    left_at: float | UnsetType | None = UNSET
    chat_status: ChatStatus | UnsetType = UNSET
    in_chat: bool | UnsetType = UNSET
    chat_agent_id: int | UnsetType | None = UNSET
    chat_agent_name: str | UnsetType | None = UNSET
    unread: int | UnsetType = UNSET
    auto_messaged: bool | UnsetType = UNSET
    banned: bool | UnsetType = UNSET
    session_only: bool | UnsetType = UNSET
    bot: BotRun | UnsetType | None = UNSET


PATCH_FIELDS: Final = tuple(
    name for name in VisitorPatch.__struct_fields__ if name not in ("seq", "visitor_id", "page")
)
"""Visitor fields a ``visitor_patch`` may carry (besides ``page``)."""


def apply_patch(visitor: Visitor, patch: VisitorPatch, *, keep_trail: bool) -> Visitor:
    """A new record: ``visitor`` with the patch's fields; its page is added to the trail when one is kept."""
    changes = {name: value for name in PATCH_FIELDS if (value := getattr(patch, name)) is not UNSET}
    page = patch.page
    if keep_trail and page is not UNSET and (not visitor.pages or visitor.pages[-1] != page):
        changes["pages"] = (*visitor.pages[-(MAX_TRAIL_PAGES - 1) :], page)
    return msgspec.structs.replace(visitor, **changes)


class VisitorLeft(_Msg, tag="visitor_left", kw_only=True):
    """A visitor left the list (all tabs closed past the grace period)."""

    seq: int = 0
    """Given by the account's delta log; left out of the body the log numbers."""
    visitor_id: Id


class VisitorActivity(_Msg, tag="activity", kw_only=True):
    """Cheap update: a visitor was active at ``at``."""

    seq: int = 0
    """Given by the account's delta log; left out of the body the log numbers."""
    visitor_id: Id
    at: float


class MessageAdded(_Msg, tag="message", kw_only=True):
    """A chat message was stored (any author)."""

    seq: int = 0
    """Given by the account's delta log; left out of the body the log numbers."""
    message: ChatMessage


class MessageUpdated(_Msg, tag="message_status", kw_only=True):
    """A message was delivered to or read by its recipient."""

    seq: int = 0
    """Given by the account's delta log; left out of the body the log numbers."""
    visitor_id: Id
    message_id: Id
    delivered_at: float | None = None
    read_at: float | None = None


class Typing(_Msg, tag="typing", kw_only=True):
    """Ephemeral (no seq, never replayed): someone in a conversation is typing."""

    visitor_id: Id
    who: Literal["visitor", "agent"]
    typing: bool
    agent_name: str | None = None


class Result(_Msg, tag="result", kw_only=True):
    """A request identified by ``ref`` succeeded (its effect arrives as deltas)."""

    ref: Ref


class History(_Msg, tag="history", kw_only=True):
    """Answer to ``get_history``."""

    ref: Ref
    visitor_id: Id
    messages: list[ChatMessage]


class Trail(_Msg, tag="trail", kw_only=True):
    """Answer to ``get_trail``: the visitor's pages, oldest first (the last 20)."""

    ref: Ref
    visitor_id: Id
    pages: list[PageVisit]


class Error(_Msg, tag="error", kw_only=True):
    """Something was wrong; ``message`` says what and what to do. Nothing changed."""

    code: ErrorCode
    message: str
    ref: str | None = None


# ---------------------------------------------------------------- visitor (widget) -> server


class VisitorHello(_Msg, tag="hello", kw_only=True):
    """First frame on /ws/visitor?account=KEY: who the browser is and where."""

    visitor_id: Id | None = None
    tab_id: Id
    url: Field
    title: Field = ""
    referrer: Field = ""
    language: Annotated[str, msgspec.Meta(max_length=35)] = ""
    timezone: Annotated[str, msgspec.Meta(max_length=64)] = ""
    session_only: bool = False
    """The site asks for consent and has none: the widget stores nothing, the server forgets the visitor on leaving."""


class PageView(_Msg, tag="page_view", kw_only=True):
    """The tab navigated (including single-page-app route changes)."""

    url: Field
    title: Field = ""
    referrer: Field = ""


class Activity(_Msg, tag="activity", kw_only=True):
    """The visitor did something (throttled by the widget)."""

    kind: ActivityKind


class VisitorChat(_Msg, tag="chat_message", kw_only=True):
    """The visitor sent a chat message; ``id`` is chosen by the widget."""

    id: Id
    text: Text


class VisitorTyping(_Msg, tag="typing", kw_only=True):
    """The visitor started or stopped typing."""

    typing: bool


class Identify(_Msg, tag="identify", kw_only=True):
    """The contact form or ``frontdesk('identify', ...)``: makes the visitor a customer."""

    name: Field = ""
    email: Field = ""
    phone: Field = ""
    custom: Custom = msgspec.field(default_factory=dict)


class Read(_Msg, tag="read", kw_only=True):
    """The visitor saw the agent's messages."""


class Leave(_Msg, tag="leave", kw_only=True):
    """The tab is closing."""


class ChatOpened(_Msg, tag="chat_opened", kw_only=True):
    """The visitor opened the chat panel (a bot may greet them when no agent is online)."""


# ---------------------------------------------------------------- server -> visitor (widget)


class Welcome(_Msg, tag="welcome", kw_only=True):
    """Answer to the widget's hello: its stable id and the conversation so far."""

    visitor_id: Id
    messages: list[ChatMessage]
    agents_online: bool
    chat_status: ChatStatus = "none"
    name: str | None = None
    email: str | None = None


class Ack(_Msg, tag="ack", kw_only=True):
    """The visitor's message ``id`` is stored."""

    id: Id


class VisitorMessage(_Msg, tag="message", kw_only=True):
    """A message for the visitor (agent or automatic)."""

    message: ChatMessage


class AgentTypingToVisitor(_Msg, tag="typing", kw_only=True):
    """An agent is typing to the visitor."""

    typing: bool
    agent_name: str | None = None


class AgentsOnline(_Msg, tag="agents", kw_only=True):
    """Whether any agent is online (the widget shows the contact form when none is)."""

    online: bool


class ChatClosed(_Msg, tag="chat_closed", kw_only=True):
    """The agent ended the conversation."""


class Banned(_Msg, tag="banned", kw_only=True):
    """The visitor is banned; the socket closes right after."""

    message: str


# ---------------------------------------------------------------- team layer (issue 9)
# Agents of one account working the same site: who is on which visitor, agent status, take-over,
# transfer, internal notes, canned responses, unanswered-chat alerts and offline messages.

AgentStatus = Literal["online", "away"]
"""What an agent chose (or auto-away set): only ``online`` agents count as "agents online"."""
PresenceActivity = Literal["viewing", "typing", "chatting"]
"""What an agent is doing with a visitor, weakest first: the detail pane or conversation is open, the
agent is typing to them, the agent holds their chat."""
Shortcut = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9_-]{1,32}$")]
"""A canned response's name after ``/`` in the chat input."""
Language = Annotated[str, msgspec.Meta(max_length=35)]
"""A BCP 47 language tag, or empty for "any language"."""


class PresenceEntry(_Plain, kw_only=True):
    """One agent's activity on one visitor."""

    agent_id: int
    agent_name: str
    activity: PresenceActivity


class TeamMember(_Plain, kw_only=True):
    """A colleague as the server sees them: status is kept across reconnects, ``connected`` is live."""

    id: int
    name: str
    status: AgentStatus
    connected: bool = False


class Note(_Plain, kw_only=True):
    """An internal note on a visitor: agents only, never sent to the widget."""

    id: Id
    visitor_id: Id
    text: str
    created_at: float
    agent_id: int
    agent_name: str


class CannedResponse(_Plain, kw_only=True):
    """A saved answer shared by the account; ``{visitor_name}`` and ``{agent_name}`` are filled in on insert."""

    id: int
    shortcut: Shortcut
    text: Text
    language: Language = ""


class CannedResponseSpec(_Plain, kw_only=True):
    """A canned response as an admin writes it (the server assigns the id)."""

    shortcut: Shortcut
    text: Text
    language: Language = ""


# agent -> server


class SetViewing(_Msg, tag="viewing", kw_only=True):
    """Ephemeral, no answer: the visitors whose detail pane or conversation this agent has open now."""

    visitor_ids: Annotated[list[Id], msgspec.Meta(max_length=32)]


class TakeOver(_Msg, tag="take_over", kw_only=True):
    """Take a chat another agent holds: recorded as a system line and announced to the previous holder."""

    ref: Ref
    visitor_id: Id


class SetStatus(_Msg, tag="set_status", kw_only=True):
    """Online or away; ``auto`` when the app's idle detection chose it (shown to colleagues)."""

    ref: Ref
    status: AgentStatus
    auto: bool = False


class TransferChat(_Msg, tag="transfer", kw_only=True):
    """Hand a chat this agent holds to another online agent, with a note only agents see."""

    ref: Ref
    visitor_id: Id
    to_agent_id: int
    note: Field = ""


class AddNote(_Msg, tag="add_note", kw_only=True):
    """Write an internal note on a visitor; ``id`` is client-chosen so a resend is a no-op."""

    ref: Ref
    id: Id
    visitor_id: Id
    text: Text


class GetNotes(_Msg, tag="get_notes", kw_only=True):
    """Ask for a visitor's internal notes."""

    ref: Ref
    visitor_id: Id


class GetCannedResponses(_Msg, tag="get_canned", kw_only=True):
    """Ask for the account's canned responses."""

    ref: Ref


class SaveCannedResponse(_Msg, tag="save_canned", kw_only=True):
    """Create (``id`` omitted) or replace a canned response; admins only."""

    ref: Ref
    id: int | None = None
    response: CannedResponseSpec


class DeleteCannedResponse(_Msg, tag="delete_canned", kw_only=True):
    """Delete a canned response; admins only."""

    ref: Ref
    id: int


# server -> agent


class VisitorPresence(_Msg, tag="visitor_presence", kw_only=True):
    """Ephemeral (no seq, never replayed; sent whole after ``hello``): every agent on one visitor now."""

    visitor_id: Id
    agents: list[PresenceEntry] = msgspec.field(default_factory=list)


class TeamStatus(_Msg, tag="team", kw_only=True):
    """Ephemeral, sent after ``hello`` and on every change: the account's agents and their status."""

    agents: list[TeamMember]


class TakenOver(_Msg, tag="taken_over", kw_only=True):
    """Ephemeral announcement: ``by`` took the chat with a visitor from ``from_agent``."""

    visitor_id: Id
    from_agent_id: int
    from_agent_name: str
    by_agent_id: int
    by_agent_name: str


class Transferred(_Msg, tag="transferred", kw_only=True):
    """Ephemeral announcement: a chat was handed to ``to_agent`` with a note (the receiver is alerted)."""

    visitor_id: Id
    from_agent_id: int
    from_agent_name: str
    to_agent_id: int
    to_agent_name: str
    note: str = ""


class NoteAdded(_Msg, tag="note", kw_only=True):
    """Delta: an internal note was stored (agents only)."""

    seq: int = 0
    note: Note


class Notes(_Msg, tag="notes", kw_only=True):
    """Answer to ``get_notes``, oldest first."""

    ref: Ref
    visitor_id: Id
    notes: list[Note]


class CannedResponses(_Msg, tag="canned", kw_only=True):
    """The account's canned responses: the answer to ``get_canned`` (with ``ref``), or pushed after a change."""

    ref: str | None = None
    responses: list[CannedResponse]


class UnansweredAlert(_Msg, tag="unanswered", kw_only=True):
    """Ephemeral: a chat has waited ``waiting_since`` without an agent's answer for the account's alert
    time; sent to every online agent, who is alerted whatever their notification rule says."""

    visitor_id: Id
    waiting_since: float


# widget -> server


class OfflineMessage(_Msg, tag="offline_message", kw_only=True):
    """Sent while no agent is online: stored as an unanswered chat, answered when the visitor returns."""

    id: Id
    text: Text
    name: Field = ""
    email: Field = ""


TeamRequest = (
    SetViewing
    | TakeOver
    | SetStatus
    | TransferChat
    | AddNote
    | GetNotes
    | GetCannedResponses
    | SaveCannedResponse
    | DeleteCannedResponse
)
"""The team layer's agent requests (part of AgentToServer)."""
TeamEvent = (
    VisitorPresence | TeamStatus | TakenOver | Transferred | NoteAdded | Notes | CannedResponses | UnansweredAlert
)
"""The team layer's server events (part of ServerToAgent)."""

# ---------------------------------------------------------------- unions (after every struct they name)

AgentToServer = (
    Auth
    | OpenConversation
    | SendMessage
    | AgentTyping
    | CloseConversation
    | MarkRead
    | Ban
    | Unban
    | GetHistory
    | GetTrail
    | EraseVisitor
    | TeamRequest
)

Delta = VisitorChanged | VisitorPatch | VisitorLeft | VisitorActivity | MessageAdded | MessageUpdated | NoteAdded
"""Events that carry a per-account seq and are replayed on resume."""

ServerToAgent = (
    Hello
    | Snapshot
    | Resumed
    | VisitorChanged
    | VisitorPatch
    | VisitorLeft
    | VisitorActivity
    | MessageAdded
    | MessageUpdated
    | Typing
    | Result
    | History
    | Trail
    | Error
    | TeamEvent
)

VisitorToServer = (
    VisitorHello
    | PageView
    | Activity
    | VisitorChat
    | VisitorTyping
    | Identify
    | Read
    | Leave
    | ChatOpened
    | OfflineMessage
)

ServerToVisitor = Welcome | Ack | VisitorMessage | AgentTypingToVisitor | AgentsOnline | ChatClosed | Banned | Error
