"""The rules of live state, without I/O: an event and the current state in, what should happen out.

Each function takes a visitor's state (``VisitorState``, changed in place) and the facts the
adapter gathered (the time, the stored message, the unread ids), and returns :class:`Effects`:
deltas to append to the account's log, frames for the visitor's tabs or the account's agents,
record groups to store in the shared presence, and visitor-row values to write to SQL. The
asyncio hub (``server.live.hub``) loads the state, calls a function here, then carries the
effects out in order: presence and SQL first, then the log, then the sockets.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Protocol

import msgspec

from protocol.messages import (
    PATCH_FIELDS,
    AgentsOnline,
    AgentTypingToVisitor,
    Banned,
    ChatClosed,
    ChatMessage,
    ChatStatus,
    CloseCode,
    Delta,
    ErrorCode,
    MessageAdded,
    MessageUpdated,
    PageVisit,
    Typing,
    Visitor,
    VisitorActivity,
    VisitorChanged,
    VisitorHello,
    VisitorLeft,
    VisitorMessage,
    VisitorPatch,
    Welcome,
)
from protocol.rules import MAX_TRAIL_PAGES, Plan, capabilities_for, is_active
from server.live.record import GROUPS, VisitorState
from server.rules import AutoRule, CompiledRule, matches

MAX_PAGES: Final = MAX_TRAIL_PAGES
BANNED_TEXT: Final = "You can no longer chat on this site."
USER_ACTIVITY: Final = frozenset({"input", "scroll", "focus", "pointer", "visible"})
"""Activity kinds that count as the visitor doing something (blur and hidden do not)."""
OPEN_CHAT: Final = frozenset({"unanswered", "active"})


class RefusedError(Exception):
    """A request that cannot be done; becomes an ``Error`` frame. Nothing changed."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(slots=True, frozen=True)
class TabFrame:
    """A frame for every tab of the visitor (on any process), but ``except_tab``."""

    message: msgspec.Struct
    except_tab: str | None = None


@dataclass(slots=True, frozen=True)
class AgentFrame:
    """An ephemeral frame (no seq) for the account's agents (on any process), but ``except_conn``."""

    message: msgspec.Struct
    except_conn: str | None = None


@dataclass(slots=True, frozen=True)
class CloseTabs:
    """Send ``message`` to every tab of the visitor and close them."""

    message: msgspec.Struct
    code: int
    reason: str


@dataclass(slots=True)
class Effects:
    """What an event should cause, in the order the hub carries it out."""

    store: set[str] = field(default_factory=set)
    """Presence groups (record and server fields) that changed."""
    writes: dict[str, Any] = field(default_factory=dict)
    """Visitor-row values to write to SQL."""
    durable: bool = False
    """Whether the SQL write must be committed before the request is answered (ban, identify)."""
    deltas: list[Delta] = field(default_factory=list)
    """Deltas for the account's log (seq left 0: the log numbers them), in order."""
    tabs: list[TabFrame | CloseTabs] = field(default_factory=list)
    agents: list[AgentFrame] = field(default_factory=list)
    start_leave: bool = False
    """Start the leave grace period (no tab left, or unbanned with none)."""

    def changed(self, state: VisitorState, *groups: str) -> None:
        """Record groups changed: store them and tell the agents what changed."""
        self.store.update(groups)
        self.deltas.append(patch_for(state, groups))


_PATCHABLE: Final = frozenset(PATCH_FIELDS)


def patch_for(state: VisitorState, groups: Iterable[str]) -> VisitorPatch:
    """The delta that carries the named groups of a visitor (a new page as ``page``, not the trail)."""
    record = state.record
    values: dict[str, Any] = {}
    for group in groups:
        for name in GROUPS[group]:
            if name in _PATCHABLE:
                values[name] = getattr(record, name)
        if group == "trail" and record.pages:
            values["page"] = record.pages[-1]
    return VisitorPatch(visitor_id=record.id, **values)


def listed(record: Visitor) -> Visitor:
    """A record as agents list it: everything but the trail (fetched with ``get_trail``)."""
    return msgspec.structs.replace(record, pages=()) if record.pages else record


def arrival_delta(state: VisitorState) -> VisitorChanged:
    """The delta that tells agents a visitor arrived (the whole record but its trail)."""
    return VisitorChanged(visitor=listed(state.record))


def label_for(record: Visitor) -> str:
    """How agents see a visitor in lists: the name, else the e-mail, else a short id."""
    return record.name or record.email or f"Visitor {record.id[-6:]}"


def auto_message_id(account_id: int, visitor_id: str, rule_id: int) -> str:
    """The id of a rule's message to a visitor: the same on every process, so it is stored once."""
    digest = hashlib.blake2b(f"{account_id}:{visitor_id}:{rule_id}".encode(), digest_size=16).hexdigest()
    return "auto" + digest


# ---------------------------------------------------------------- arrival and presence


class Remembered(Protocol):
    """What the database remembers about a visitor across visits (``server.store.VisitorRow``)."""

    @property
    def id(self) -> str: ...
    @property
    def first_seen_at(self) -> float: ...
    @property
    def visit_count(self) -> int: ...
    @property
    def name(self) -> str | None: ...
    @property
    def email(self) -> str | None: ...
    @property
    def phone(self) -> str | None: ...
    @property
    def custom(self) -> dict[str, str]: ...
    @property
    def customer(self) -> bool: ...
    @property
    def auto_messaged(self) -> bool: ...
    @property
    def banned(self) -> bool: ...
    @property
    def chat_status(self) -> ChatStatus: ...
    @property
    def chat_agent_id(self) -> int | None: ...
    @property
    def last_seen_at(self) -> float: ...
    @property
    def session_only(self) -> bool: ...


@dataclass(slots=True, frozen=True)
class Place:
    """Where and on what a visitor is (from the geolocator and the user agent)."""

    country_code: str | None = None
    country: str | None = None
    city: str | None = None
    browser: str | None = None
    os: str | None = None
    device: Any = None


def remembered_state(row: Remembered, now: float) -> VisitorState:
    """A visitor's state from what the database remembers (before the visit's details are known)."""
    record = Visitor(
        id=row.id,
        label="",
        first_seen_at=row.first_seen_at,
        visit_started_at=now,
        last_activity_at=now,
        visit_count=row.visit_count,
        name=row.name,
        email=row.email,
        phone=row.phone,
        custom=dict(row.custom),
        customer=row.customer,
        auto_messaged=row.auto_messaged,
        banned=row.banned,
        chat_status=row.chat_status,
        chat_agent_id=row.chat_agent_id,
        in_chat=row.chat_status in OPEN_CHAT,
        session_only=row.session_only,
    )
    record.label = label_for(record)
    return VisitorState(record=record)


def banned_state(row: Remembered) -> VisitorState:
    """A banned visitor kept in the list while offline, so agents can lift the ban."""
    state = remembered_state(row, row.last_seen_at)
    state.record.online = False
    state.record.left_at = row.last_seen_at
    return state


def start_visit(row: Remembered, hello: VisitorHello, place: Place, *, known: bool, now: float) -> VisitorState:
    """A visitor arriving on the site with its first tab (new or returning)."""
    state = remembered_state(row, now)
    state.has_messages = None if known else False
    record = state.record
    record.country_code = place.country_code
    record.country = place.country
    record.city = place.city
    record.timezone = hello.timezone or None
    record.language = hello.language or None
    record.browser = place.browser
    record.os = place.os
    record.device = place.device
    record.referrer = hello.referrer or None
    record.current_url = hello.url
    record.current_title = hello.title
    record.pages = (PageVisit(url=hello.url, title=hello.title, at=now),)
    return state


def _visit_page(record: Visitor, url: str, title: str, now: float) -> bool:
    if record.current_url == url and record.current_title == title:
        return False  # a reload or another tab on the same page
    record.current_url = url
    record.current_title = title
    record.pages = (*record.pages[-(MAX_PAGES - 1) :], PageVisit(url=url, title=title, at=now))
    return True


MAX_IP_HASHES: Final = 8
"""Address hashes kept per visit (a ban covers these; more would only help someone hopping addresses)."""


def tab_attached(
    state: VisitorState, hello: VisitorHello, *, new_visit: bool, now: float, ip_hash: str | None = None
) -> Effects:
    """A tab said hello: the visitor is online, active, and on the tab's page.

    A hello without ``session_only`` from a session-only visitor means consent was given: the
    visitor is recognised from now on (and kept in SQL when they leave).
    """
    effects = Effects()
    record = state.record
    record.online = True
    record.left_at = None
    record.last_activity_at = now
    if ip_hash is not None and ip_hash not in state.ip_hashes:
        state.ip_hashes = (*state.ip_hashes[-(MAX_IP_HASHES - 1) :], ip_hash)
        effects.store.add("ip_hashes")
    consented = record.session_only and not hello.session_only
    if consented:
        record.session_only = False
        effects.writes["session_only"] = False
    if new_visit:
        effects.store.update(("online", "activity", "consent") if consented else ("online", "activity"))
        effects.deltas.append(arrival_delta(state))
        return effects
    groups: list[str] = ["online", "activity"]
    if consented:
        groups.append("consent")
    if _visit_page(record, hello.url, hello.title, now):
        groups += ("page", "trail")
    effects.changed(state, *groups)
    return effects


def welcome(
    state: VisitorState, messages: list[ChatMessage], *, agents_online: bool, now: float
) -> tuple[Welcome, list[str]]:
    """The widget's welcome, and the ids of the agent and automatic messages it delivers."""
    state.has_messages = bool(messages)
    undelivered = [m.id for m in messages if m.author in ("agent", "auto") and m.delivered_at is None]
    for m in messages:
        if m.delivered_at is None and m.author in ("agent", "auto"):
            m.delivered_at = now
    record = state.record
    frame = Welcome(
        visitor_id=record.id,
        messages=messages,
        agents_online=agents_online,
        chat_status=record.chat_status,
        name=record.name,
        email=record.email,
    )
    return frame, undelivered


def messages_updated(
    visitor_id: str, ids: Iterable[str], *, delivered_at: float | None = None, read_at: float | None = None
) -> list[Delta]:
    """One delta per message that was delivered or read."""
    return [
        MessageUpdated(visitor_id=visitor_id, message_id=mid, delivered_at=delivered_at, read_at=read_at) for mid in ids
    ]


def activity(state: VisitorState, kind: str, *, now: float, publish_every: float) -> Effects:
    """The visitor did something; agents hear of it at most every ``publish_every`` seconds."""
    effects = Effects()
    if kind not in USER_ACTIVITY:
        return effects
    record = state.record
    was_active = is_active(record.last_activity_at, now)
    record.last_activity_at = now
    effects.store.add("activity")
    if not was_active or now - state.activity_sent_at >= publish_every:
        state.activity_sent_at = now
        effects.store.add("activity_sent_at")
        effects.deltas.append(VisitorActivity(visitor_id=record.id, at=now))
    return effects


def page_view(state: VisitorState, url: str, title: str, *, now: float) -> Effects:
    """A tab navigated."""
    effects = Effects()
    record = state.record
    record.last_activity_at = now
    if _visit_page(record, url, title, now):
        effects.changed(state, "page", "trail", "activity")
    else:
        effects.changed(state, "activity")
    return effects


def visitor_typing(visitor_id: str, typing: bool) -> Effects:
    """The visitor started or stopped typing: the agents see it (never replayed)."""
    return Effects(agents=[AgentFrame(Typing(visitor_id=visitor_id, who="visitor", typing=typing))])


def visitor_message(state: VisitorState, stored: ChatMessage, *, from_tab: str, now: float) -> Effects:
    """A new message from the visitor was stored."""
    effects = Effects(store={"has_messages"})
    state.has_messages = True
    record = state.record
    effects.tabs.append(TabFrame(VisitorMessage(message=stored), except_tab=from_tab))
    record.last_activity_at = now
    record.unread += 1
    effects.deltas.append(MessageAdded(message=stored))
    if record.chat_status in ("none", "closed"):
        _set_chat(record, "unanswered", None, effects)
    effects.changed(state, "chat", "activity")
    return effects


def read_by_visitor(visitor_id: str, ids: Sequence[str], *, now: float) -> Effects:
    """The visitor saw the agents' messages."""
    return Effects(deltas=messages_updated(visitor_id, ids, read_at=now))


def last_tab_closed(state: VisitorState, *, now: float) -> Effects:
    """The visitor's last tab (over all processes) closed: offline, and leaving after the grace period."""
    record = state.record
    record.online = False
    record.left_at = now
    effects = Effects(start_leave=True)
    effects.changed(state, "online")
    return effects


def forgotten_on_leaving(state: VisitorState) -> bool:
    """Whether nothing about a leaving visitor is kept: session-only, no conversation, no details they gave.

    A conversation the visitor started, or details they gave, are their own act and stay under the
    account's retention. With ``has_messages`` unknown this says yes: the adapter asks SQL before
    deleting anything.
    """
    record = state.record
    return record.session_only and state.has_messages is not True and not record.customer


def visitor_left(visitor_id: str, *, now: float, forget: bool = False) -> Effects:
    """The grace period passed with no tab: the visitor leaves the list (a forgotten one's row is not touched)."""
    return Effects(deltas=[VisitorLeft(visitor_id=visitor_id)], writes={} if forget else {"last_seen_at": now})


def erased(state: VisitorState, *, has_tabs: bool, now: float) -> tuple[VisitorState, Effects]:
    """A visitor still listed (on the site, or banned) whose data was erased: an anonymous record.

    Only what the list needs to show the visit and what a ban needs are kept: the place, the
    client, the page they are on (while on the site), the ban, the consent mark and the address
    hashes a ban may cover. Agents see the visitor leave and an anonymous one arrive, so they drop
    the trail and messages they held.
    """
    record = state.record
    fresh = Visitor(
        id=record.id,
        label="",
        first_seen_at=now,
        visit_started_at=now,
        last_activity_at=record.last_activity_at,
        online=record.online,
        left_at=record.left_at,
        country_code=record.country_code,
        country=record.country,
        timezone=record.timezone,
        language=record.language,
        browser=record.browser,
        os=record.os,
        device=record.device,
        current_url=record.current_url if has_tabs else None,
        current_title=record.current_title if has_tabs else None,
        banned=record.banned,
        session_only=record.session_only,
    )
    fresh.label = label_for(fresh)
    new_state = VisitorState(record=fresh, has_messages=False, ip_hashes=state.ip_hashes)
    effects = Effects(store={*GROUPS, "fired", "has_messages", "activity_sent_at"})
    effects.deltas += (VisitorLeft(visitor_id=record.id), arrival_delta(new_state))
    return new_state, effects


def identify(state: VisitorState | None, fields: Any, *, custom_before: Mapping[str, str]) -> Effects:
    """Name, e-mail, phone and custom fields from the widget or the site's backend make a customer.

    ``state`` is None for a visitor not on the site (only the database changes).
    """
    values: dict[str, Any] = {"customer": True}
    for name in ("name", "email", "phone"):
        value = getattr(fields, name).strip()
        if value:
            values[name] = value
    effects = Effects(durable=True)
    if state is not None:
        record = state.record
        for name, value in values.items():
            setattr(record, name, value)
        record.custom = {**record.custom, **fields.custom}  # replaced, not changed: states are shallow copies
        values["custom"] = dict(record.custom)
        record.label = label_for(record)
        effects.changed(state, "identity")
    else:
        values["custom"] = {**custom_before, **fields.custom}
    effects.writes = values
    return effects


# ---------------------------------------------------------------- agents' actions


def may_write(state: VisitorState, plan: Plan) -> bool:
    """Whether agents may write (or be seen typing) to the visitor: they started it, or the plan allows starting."""
    return state.record.chat_status in OPEN_CHAT or capabilities_for(plan).proactive_chat


def may_start_chat(state: VisitorState, plan: Plan) -> None:
    """Refuse writing first to a visitor unless the plan allows proactive chat."""
    if not may_write(state, plan):
        raise RefusedError(
            ErrorCode.PLAN_REQUIRED,
            "starting a conversation needs the STANDARD or PRO plan; upgrade the account, "
            "or wait for the visitor to write first",
        )


def _set_chat(record: Visitor, status: ChatStatus, agent: tuple[int, str] | None, effects: Effects) -> bool:
    changed = record.chat_status != status
    record.chat_status = status
    record.in_chat = status in OPEN_CHAT
    if agent is not None and record.chat_agent_id != agent[0]:
        record.chat_agent_id, record.chat_agent_name = agent
        changed = True
    if status == "closed":
        record.chat_agent_id = None
        record.chat_agent_name = None
    if changed:
        effects.writes.update(chat_status=record.chat_status, chat_agent_id=record.chat_agent_id)
    return changed


def _not_banned(state: VisitorState, what: str) -> None:
    if state.record.banned:
        raise RefusedError(ErrorCode.BANNED, f"this visitor is banned; unban them {what}")


def open_chat(state: VisitorState, agent: tuple[int, str], plan: Plan) -> Effects:
    """An agent starts or takes over the conversation."""
    _not_banned(state, "first")
    may_start_chat(state, plan)
    effects = Effects()
    if _set_chat(state.record, "active", agent, effects):
        effects.changed(state, "chat")
    return effects


def check_agent_message(state: VisitorState, plan: Plan) -> None:
    """Refuse an agent's message to a banned visitor or, on FREE, a proactive one."""
    _not_banned(state, "to write to them")
    may_start_chat(state, plan)


def agent_message(state: VisitorState, stored: ChatMessage, agent: tuple[int, str]) -> Effects:
    """A new message from an agent was stored: the visitor's tabs and the agents see it."""
    state.has_messages = True
    effects = Effects(store={"has_messages"})
    effects.tabs.append(TabFrame(VisitorMessage(message=stored)))
    effects.deltas.append(MessageAdded(message=stored))
    if _set_chat(state.record, "active", agent, effects):
        effects.changed(state, "chat")
    return effects


def agent_typing(state: VisitorState, typing: bool, *, plan: Plan, agent_name: str, conn_id: str) -> Effects:
    """An agent started or stopped typing: the visitor and the other agents see it.

    Gated like a proactive message: a visitor the plan may not be written to sees nothing.
    """
    visitor_id = state.record.id
    if not may_write(state, plan):
        return Effects()
    return Effects(
        tabs=[TabFrame(AgentTypingToVisitor(typing=typing, agent_name=agent_name))],
        agents=[
            AgentFrame(
                Typing(visitor_id=visitor_id, who="agent", typing=typing, agent_name=agent_name),
                except_conn=conn_id,  # the typing agent knows
            )
        ],
    )


def close_chat(state: VisitorState) -> Effects:
    """An agent ends the conversation."""
    if state.record.chat_status not in OPEN_CHAT:
        raise RefusedError(ErrorCode.CONVERSATION_CLOSED, "there is no open conversation with this visitor")
    effects = Effects()
    _set_chat(state.record, "closed", None, effects)
    effects.tabs.append(TabFrame(ChatClosed()))
    effects.changed(state, "chat")
    return effects


def mark_read(state: VisitorState, ids: Sequence[str], *, now: float) -> Effects:
    """An agent read the visitor's messages ``ids`` (already marked in SQL)."""
    effects = Effects(deltas=messages_updated(state.record.id, ids, read_at=now))
    if state.record.unread:
        state.record.unread = 0
        effects.changed(state, "chat")
    return effects


def ban(state: VisitorState, reason: str, *, now: float) -> Effects:
    """Ban a visitor: stored first, then its tabs get ``banned`` and close everywhere."""
    record = state.record
    effects = Effects(durable=True)
    if record.banned:
        return effects
    record.banned = True
    effects.writes = {"banned": True, "ban_reason": reason}
    effects.tabs.append(CloseTabs(Banned(message=BANNED_TEXT), CloseCode.FORBIDDEN, "banned"))
    groups = ["banned", "chat"]
    if record.online:
        record.online = False
        record.left_at = now
        groups.append("online")
    record.in_chat = False
    effects.changed(state, *groups)
    return effects


def unban(state: VisitorState, *, has_tabs: bool) -> Effects:
    """Lift a ban; a visitor with no tab then leaves after the grace period."""
    effects = Effects(durable=True)
    if not state.record.banned:
        return effects
    state.record.banned = False
    effects.writes = {"banned": False, "ban_reason": ""}
    effects.changed(state, "banned")
    effects.start_leave = not has_tabs
    return effects


# ---------------------------------------------------------------- automatic messages


def rule_to_fire(
    rules: Sequence[CompiledRule], state: VisitorState, *, plan: Plan, agents_online: bool, has_tabs: bool, now: float
) -> AutoRule | None:
    """The first enabled rule that matches and has not fired for this visitor (marked fired here)."""
    if not rules or not agents_online or not capabilities_for(plan).auto_messages:
        return None
    record = state.record
    if record.banned or record.in_chat or not has_tabs:
        return None
    for compiled in rules:
        rule = compiled.rule
        if not rule.enabled or rule.id in state.fired or not matches(compiled, record, now):
            continue
        state.fired.add(rule.id)
        return rule
    return None


def auto_message(account_id: int, state: VisitorState, rule: AutoRule, *, now: float) -> ChatMessage:
    """The message a rule sends (its id is the same on every process)."""
    return ChatMessage(
        id=auto_message_id(account_id, state.record.id, rule.id),
        visitor_id=state.record.id,
        author="auto",
        text=rule.message,
        sent_at=now,
        delivered_at=now,
    )


def auto_message_sent(state: VisitorState, stored: ChatMessage) -> Effects:
    """A rule's message was stored (by this call only): the visitor and the agents see it."""
    state.has_messages = True
    effects = Effects(store={"has_messages", "fired"})
    effects.tabs.append(TabFrame(VisitorMessage(message=stored)))
    effects.deltas.append(MessageAdded(message=stored))
    record = state.record
    if not record.auto_messaged:
        record.auto_messaged = True
        effects.writes["auto_messaged"] = True
    effects.changed(state, "chat")
    return effects


def agents_online(online: bool) -> AgentsOnline:
    """What the widgets of an account are told when its first agent came or its last left."""
    return AgentsOnline(online=online)
