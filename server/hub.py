"""The live side of the server: visitors' presence, agents' sockets, deltas, chat, bans and rules."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import msgspec

from protocol.codec import encode
from protocol.messages import (
    AccountInfo,
    Ack,
    Activity,
    AgentInfo,
    AgentsOnline,
    AgentToServer,
    AgentTyping,
    AgentTypingToVisitor,
    Auth,
    Ban,
    Banned,
    ChatClosed,
    ChatMessage,
    CloseCode,
    CloseConversation,
    Delta,
    EraseVisitor,
    Error,
    ErrorCode,
    GetHistory,
    Hello,
    History,
    Identify,
    Leave,
    MarkRead,
    MessageAdded,
    MessageUpdated,
    OpenConversation,
    PageView,
    PageVisit,
    Read,
    Result,
    Resumed,
    SendMessage,
    Snapshot,
    Typing,
    Unban,
    Visitor,
    VisitorActivity,
    VisitorChanged,
    VisitorChat,
    VisitorHello,
    VisitorLeft,
    VisitorMessage,
    VisitorToServer,
    VisitorTyping,
    Welcome,
)
from protocol.rules import PROTOCOL_VERSION, capabilities_for
from server import __version__
from server.batching import VisitorLoader, VisitorWriter
from server.config import Settings
from server.geo import Geolocator
from server.outbox import Outbox
from server.rules import AutoRule, CompiledRule, compile_rule, matches
from server.seams import DeltaHistory, MemoryBus, MemoryHistory, MemoryPresence, MemorySequencer, Presence, Sequencer
from server.security import ip_hash, new_visitor_id
from server.store import AccountRow, AgentRow, Store, VisitorRow
from server.useragent import parse_user_agent

log = logging.getLogger(__name__)

MAX_PAGES = 20
"""Pages kept in a visitor's trail (the newest)."""
WELCOME_MESSAGES = 200
BANNED_TEXT = "You can no longer chat on this site."
_USER_ACTIVITY = frozenset({"input", "scroll", "focus", "pointer", "visible"})


def new_message_id() -> str:
    """A server-chosen message id (automatic and system messages)."""
    return "m" + secrets.token_urlsafe(12).replace("-", "x").replace("_", "y")


def _message_updated(
    seq: int, *, visitor_id: str, message_id: str, delivered_at: float | None, read_at: float | None
) -> MessageUpdated:
    return MessageUpdated(
        seq=seq, visitor_id=visitor_id, message_id=message_id, delivered_at=delivered_at, read_at=read_at
    )


class AgentConn:
    """One authenticated agent socket."""

    __slots__ = ("account_id", "agent", "outbox", "token_hash")

    def __init__(self, outbox: Outbox, agent: AgentRow, token_hash: str) -> None:
        self.outbox = outbox
        self.agent = agent
        self.account_id = agent.account_id
        self.token_hash = token_hash

    def send(self, message: msgspec.Struct) -> None:
        """Queue one message."""
        self.outbox.push(encode(message).decode())


class VisitorConn:
    """One widget socket (one browser tab)."""

    __slots__ = ("ip_hash", "live", "outbox", "tab_id")

    def __init__(self, outbox: Outbox, tab_id: str) -> None:
        self.outbox = outbox
        self.tab_id = tab_id
        self.live: LiveVisitor | None = None
        self.ip_hash: str | None = None
        """The keyed hash of the page's IP address (for a ban that covers it); the address itself is not kept."""

    def send(self, message: msgspec.Struct) -> None:
        """Queue one message."""
        self.outbox.push(encode(message).decode())


@dataclass(slots=True, eq=False)
class LiveVisitor:
    """A present visitor: the record agents see plus what only the server needs."""

    record: Visitor
    tabs: list[VisitorConn] = field(default_factory=list)
    leave_timer: asyncio.TimerHandle | None = None
    fired: set[int] = field(default_factory=set)
    activity_sent_at: float = 0.0
    has_messages: bool | None = None
    """Whether the conversation has any message; None until known (saves a query per reconnect)."""

    def send_all(self, message: msgspec.Struct) -> None:
        """Queue a message to every tab."""
        if self.tabs:
            frame = encode(message).decode()
            for conn in self.tabs:
                conn.outbox.push(frame)


@dataclass(slots=True, eq=False)
class AccountState:
    """An account's settings and its connected agents."""

    row: AccountRow
    agents: dict[AgentConn, None] = field(default_factory=dict)
    rules: list[CompiledRule] = field(default_factory=list)
    ip_key: str = ""
    """The account's secret for keyed hashes of IP addresses."""
    ip_bans: int = 0
    """IP bans in force (when 0, a hello skips the lookup)."""

    @property
    def info(self) -> AccountInfo:
        """What agents are told about the account."""
        return AccountInfo(id=self.row.id, name=self.row.name, plan=self.row.plan)

    @property
    def time_rules(self) -> bool:
        """Whether some enabled rule depends on time passing."""
        return any(r.time_based and r.rule.enabled for r in self.rules)


class RefusedError(Exception):
    """A request that cannot be done; becomes an ``Error`` frame."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def label_for(record: Visitor) -> str:
    """How agents see a visitor in lists: the name, else the e-mail, else a short id."""
    return record.name or record.email or f"Visitor {record.id[-6:]}"


class Hub:
    """Owns the hot state of every account and applies every event to it."""

    def __init__(
        self,
        store: Store,
        settings: Settings,
        geo: Geolocator,
        *,
        presence: Presence[LiveVisitor] | None = None,
        sequencer: Sequencer | None = None,
        history: DeltaHistory | None = None,
        bus: MemoryBus | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.settings = settings
        self.geo = geo
        self.presence: Presence[LiveVisitor] = presence if presence is not None else MemoryPresence()
        self.sequencer: Sequencer = sequencer if sequencer is not None else MemorySequencer(clock)
        self.history: DeltaHistory = history if history is not None else MemoryHistory(settings.history_size)
        self.bus = bus if bus is not None else MemoryBus()
        self.clock = clock
        self.loader = VisitorLoader(store)
        self.writer = VisitorWriter(store)
        self._accounts: dict[int, AccountState] = {}
        self._keys: dict[str, int] = {}
        self._loading: dict[int, asyncio.Future[AccountState | None]] = {}
        self._ticker: asyncio.Task[None] | None = None
        self._forgetting: set[asyncio.Task[None]] = set()
        self._closing = False

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        """Start the periodic work (time-based rules, account refresh)."""
        self._ticker = asyncio.get_running_loop().create_task(self._tick_forever())

    async def stop(self) -> None:
        """Close every socket, stop timers and wait for pending writes."""
        self._closing = True
        if self._ticker is not None:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker
        outboxes: list[Outbox] = []
        for account in self._accounts.values():
            for conn in list(account.agents):
                conn.outbox.close(1001, "server shutting down")
                outboxes.append(conn.outbox)
            for live in self.presence.visitors(account.row.id):
                if live.leave_timer is not None:
                    live.leave_timer.cancel()
                for tab in live.tabs:
                    tab.outbox.close(1001, "server shutting down")
                    outboxes.append(tab.outbox)
        await asyncio.gather(*(o.flush(1.0) for o in outboxes))
        await asyncio.gather(*self._forgetting, return_exceptions=True)
        await self.writer.drain()

    # ------------------------------------------------------------------ accounts

    async def account(self, account_id: int) -> AccountState | None:
        """The live state of an account, loaded on first use."""
        state = self._accounts.get(account_id)
        if state is not None:
            return state
        pending = self._loading.get(account_id)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[AccountState | None] = asyncio.get_running_loop().create_future()
        self._loading[account_id] = future
        try:
            state = await self._load_account(account_id)
            future.set_result(state)
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: waiters re-raise it
            raise
        finally:
            del self._loading[account_id]
        return state

    async def account_by_key(self, account_key: str) -> AccountState | None:
        """The live state of the account with this public key."""
        account_id = self._keys.get(account_key)
        if account_id is None:
            row = await self.store.account_by_key(account_key)
            if row is None:
                return None
            account_id = row.id
        return await self.account(account_id)

    async def _load_account(self, account_id: int) -> AccountState | None:
        row = await self.store.account(account_id)
        if row is None:
            return None
        now = self.clock()
        state = AccountState(
            row=row,
            rules=[compile_rule(r) for r in await self.store.rules(account_id)],
            ip_key=await self.store.ip_key(account_id),
            ip_bans=await self.store.ip_ban_count(account_id, now),
        )
        for banned in await self.store.banned_visitors(account_id):
            record = self._record_from_row(banned, now)
            record.online = False
            record.left_at = banned.last_seen_at
            record.last_activity_at = banned.last_seen_at
            self.presence.put(account_id, banned.id, LiveVisitor(record=record))
        self._accounts[account_id] = state
        self._keys[row.account_key] = account_id
        return state

    async def refresh_account(self, account_id: int) -> None:
        """Re-read an account's plan, origins and rules (after an admin change)."""
        state = self._accounts.get(account_id)
        if state is None:
            return
        row = await self.store.account(account_id)
        if row is None:
            return
        rules = [compile_rule(r) for r in await self.store.rules(account_id)]
        plan_changed = row.plan != state.row.plan
        state.row = row
        state.rules = rules
        state.ip_bans = await self.store.ip_ban_count(account_id, self.clock())  # expired, or made elsewhere
        if plan_changed:
            # Agents learn capabilities in Hello; a reconnect (with resume) gives them the new ones.
            for conn in list(state.agents):
                conn.outbox.close(1012, "the account's plan changed; reconnect")

    def rules_changed(self, account_id: int, rules: Iterable[AutoRule]) -> None:
        """Install an account's new rule list."""
        state = self._accounts.get(account_id)
        if state is not None:
            state.rules = [compile_rule(r) for r in rules]

    # ------------------------------------------------------------------ deltas

    def _publish(self, account_id: int, delta: Callable[[int], Delta]) -> None:
        seq = self.sequencer.next(account_id)
        frame = encode(delta(seq)).decode()
        self.history.append(account_id, seq, frame)
        self.bus.publish(account_id, frame)

    def _changed(self, account_id: int, live: LiveVisitor) -> None:
        record = live.record
        self._publish(account_id, lambda seq: VisitorChanged(seq=seq, visitor=record))

    def _messages_updated(
        self,
        account_id: int,
        visitor_id: str,
        ids: list[str],
        *,
        delivered_at: float | None = None,
        read_at: float | None = None,
    ) -> None:
        for message_id in ids:
            self._publish(
                account_id,
                partial(
                    _message_updated,
                    visitor_id=visitor_id,
                    message_id=message_id,
                    delivered_at=delivered_at,
                    read_at=read_at,
                ),
            )

    def _ephemeral(self, account_id: int, message: msgspec.Struct, *, exclude: AgentConn | None = None) -> None:
        self.bus.publish(account_id, encode(message).decode(), exclude=exclude.outbox.push if exclude else None)

    # ------------------------------------------------------------------ agents

    def agent_connected(self, conn: AgentConn, account: AccountState, auth: Auth) -> None:
        """Greet an authenticated agent with Hello and a snapshot or a replay, then subscribe it.

        Runs without awaiting, so no delta can fall between the snapshot and the subscription.
        """
        account_id = account.row.id
        seq = self.sequencer.current(account_id)
        agent = conn.agent
        conn.send(
            Hello(
                protocol=PROTOCOL_VERSION,
                server_version=__version__,
                agent=AgentInfo(id=agent.id, email=agent.email, name=agent.name, role=agent.role),
                account=account.info,
                capabilities=capabilities_for(account.row.plan),
                seq=seq,
            )
        )
        resume_from = auth.resume_from
        replay = None
        if resume_from is not None and resume_from > 0:
            replay = self.history.since(account_id, resume_from, seq)
        if replay is None:
            visitors = [live.record for live in self.presence.visitors(account_id)]
            fresh = resume_from is None or resume_from <= 0
            conn.send(Snapshot(seq=seq, reason="initial" if fresh else "resume_unavailable", visitors=visitors))
        else:
            assert resume_from is not None
            conn.send(Resumed(from_seq=resume_from, seq=seq))
            for frame in replay:
                conn.outbox.push(frame)
        self.bus.subscribe(account_id, conn.outbox.push)
        was_empty = not account.agents
        account.agents[conn] = None
        if was_empty:
            self._agents_online_changed(account, True)

    def agent_disconnected(self, conn: AgentConn) -> None:
        """Forget a closed agent socket."""
        account = self._accounts.get(conn.account_id)
        self.bus.unsubscribe(conn.account_id, conn.outbox.push)
        if account is None or conn not in account.agents:
            return
        del account.agents[conn]
        if not account.agents:
            self._agents_online_changed(account, False)

    def _agents_online_changed(self, account: AccountState, online: bool) -> None:
        if self._closing:
            return
        frame = encode(AgentsOnline(online=online)).decode()
        for live in self.presence.visitors(account.row.id):
            for tab in live.tabs:
                tab.outbox.push(frame)

    def revoke(self, token_hash: str) -> int:
        """Close every socket authenticated with a revoked token; returns how many."""
        closed = 0
        frame = encode(Error(code=ErrorCode.UNAUTHORIZED, message="you signed out; sign in again")).decode()
        for account in self._accounts.values():
            for conn in list(account.agents):
                if conn.token_hash == token_hash:
                    conn.outbox.push(frame)
                    conn.outbox.close(CloseCode.UNAUTHORIZED, "token revoked")
                    self.agent_disconnected(conn)
                    closed += 1
        return closed

    async def agent_request(self, conn: AgentConn, message: AgentToServer) -> None:
        """Handle one request from an agent; every request with a ref gets exactly one answer."""
        ref = getattr(message, "ref", None)
        try:
            answer = await self._agent_request(conn, message)
        except RefusedError as exc:
            conn.send(Error(code=exc.code, message=exc.message, ref=ref))
            return
        except Exception:
            log.exception("agent request %s failed", type(message).__name__)
            conn.send(Error(code=ErrorCode.INTERNAL, message="the server failed; try again", ref=ref))
            return
        if answer is not None:
            conn.send(answer)

    async def _audit(self, conn: AgentConn, action: str, target: str, details: dict[str, Any] | None = None) -> None:
        agent = conn.agent
        await self.store.add_audit(
            agent.account_id, actor=agent.email, agent_id=agent.id, action=action, target=target, details=details
        )

    def _live(self, account_id: int, visitor_id: str) -> LiveVisitor:
        live = self.presence.get(account_id, visitor_id)
        if live is None:
            raise RefusedError(ErrorCode.NOT_FOUND, f"no visitor {visitor_id} is on your site; refresh the list")
        return live

    async def _agent_request(self, conn: AgentConn, message: AgentToServer) -> msgspec.Struct | None:
        account = self._accounts.get(conn.account_id)
        if account is None:  # pragma: no cover - loaded at auth
            raise RefusedError(ErrorCode.INTERNAL, "account not loaded; reconnect")
        account_id = account.row.id
        match message:
            case SendMessage():
                await self._agent_send(conn, account, message)
                return Result(ref=message.ref)
            case AgentTyping():
                live = self._live(account_id, message.visitor_id)
                if not self._may_write(account, live):
                    return None  # like a proactive message: a visitor the plan may not be written to sees nothing
                live.send_all(AgentTypingToVisitor(typing=message.typing, agent_name=conn.agent.name))
                self._ephemeral(
                    account_id,
                    Typing(
                        visitor_id=message.visitor_id, who="agent", typing=message.typing, agent_name=conn.agent.name
                    ),
                    exclude=conn,  # the typing agent knows
                )
                return None
            case OpenConversation():
                previous = self._live(account_id, message.visitor_id).record.chat_agent_id
                await self._open(conn, account, message.visitor_id)
                if previous is not None and previous != conn.agent.id:
                    await self._audit(conn, "take_over", message.visitor_id, {"from_agent_id": previous})
                return Result(ref=message.ref)
            case CloseConversation():
                await self._close_chat(account, message.visitor_id)
                return Result(ref=message.ref)
            case MarkRead():
                await self._mark_read(account, message.visitor_id)
                return Result(ref=message.ref)
            case Ban():
                covered = await self._ban(account, message.visitor_id, message.reason, cover_ip=message.cover_ip)
                await self._audit(conn, "ban", message.visitor_id, {"ip_addresses": covered} if covered else None)
                return Result(ref=message.ref)
            case Unban():
                await self._unban(account, message.visitor_id)
                await self._audit(conn, "unban", message.visitor_id)
                return Result(ref=message.ref)
            case EraseVisitor():
                if conn.agent.role != "admin":
                    raise RefusedError(
                        ErrorCode.FORBIDDEN, "erasing a visitor's data needs an admin; ask an admin of your account"
                    )
                if not await self.erase_visitor(account_id, message.visitor_id):
                    raise RefusedError(ErrorCode.NOT_FOUND, f"nothing is held about visitor {message.visitor_id}")
                await self._audit(conn, "erase", message.visitor_id)
                return Result(ref=message.ref)
            case GetHistory():
                messages = await self.history_of(account_id, message.visitor_id)
                return History(ref=message.ref, visitor_id=message.visitor_id, messages=messages)
            case Auth():
                raise RefusedError(ErrorCode.BAD_FRAME, "this socket is already authenticated; send auth only once")
        raise RefusedError(ErrorCode.BAD_FRAME, "unknown request")  # pragma: no cover

    @staticmethod
    def _may_write(account: AccountState, live: LiveVisitor) -> bool:
        # The visitor started it (every plan may answer), or the plan allows starting one.
        return live.record.chat_status in ("unanswered", "active") or capabilities_for(account.row.plan).proactive_chat

    def _may_start_chat(self, account: AccountState, live: LiveVisitor) -> None:
        if not self._may_write(account, live):
            raise RefusedError(
                ErrorCode.PLAN_REQUIRED,
                "starting a conversation needs the STANDARD or PRO plan; upgrade the account, "
                "or wait for the visitor to write first",
            )

    def _set_chat(self, account_id: int, live: LiveVisitor, status: str, agent: AgentRow | None) -> bool:
        record = live.record
        changed = record.chat_status != status
        record.chat_status = status  # type: ignore[assignment]
        record.in_chat = status in ("unanswered", "active")
        if agent is not None and record.chat_agent_id != agent.id:
            record.chat_agent_id = agent.id
            record.chat_agent_name = agent.name
            changed = True
        if status == "closed":
            record.chat_agent_id = None
            record.chat_agent_name = None
        if changed:
            self.writer.update(
                account_id, record.id, chat_status=record.chat_status, chat_agent_id=record.chat_agent_id
            )
        return changed

    async def _open(self, conn: AgentConn, account: AccountState, visitor_id: str) -> None:
        live = self._live(account.row.id, visitor_id)
        if live.record.banned:
            raise RefusedError(ErrorCode.BANNED, "this visitor is banned; unban them first")
        self._may_start_chat(account, live)
        if self._set_chat(account.row.id, live, "active", conn.agent):
            self._changed(account.row.id, live)

    async def _agent_send(self, conn: AgentConn, account: AccountState, request: SendMessage) -> None:
        account_id = account.row.id
        live = self._live(account_id, request.visitor_id)
        if live.record.banned:
            raise RefusedError(ErrorCode.BANNED, "this visitor is banned; unban them to write to them")
        self._may_start_chat(account, live)
        now = self.clock()
        message = ChatMessage(
            id=request.id,
            visitor_id=request.visitor_id,
            author="agent",
            text=request.text,
            sent_at=now,
            agent_id=conn.agent.id,
            agent_name=conn.agent.name,
            delivered_at=now if live.tabs else None,
        )
        stored, new = await self.store.add_message(account_id, message)
        if not new:
            return  # a resend: already stored and delivered once
        live = self.presence.get(account_id, request.visitor_id) or live
        live.has_messages = True
        live.send_all(VisitorMessage(message=stored))
        self._publish(account_id, lambda seq: MessageAdded(seq=seq, message=stored))
        if self._set_chat(account_id, live, "active", conn.agent):
            self._changed(account_id, live)

    async def _close_chat(self, account: AccountState, visitor_id: str) -> None:
        live = self._live(account.row.id, visitor_id)
        if live.record.chat_status not in ("unanswered", "active"):
            raise RefusedError(ErrorCode.CONVERSATION_CLOSED, "there is no open conversation with this visitor")
        self._set_chat(account.row.id, live, "closed", None)
        live.send_all(ChatClosed())
        self._changed(account.row.id, live)

    async def _mark_read(self, account: AccountState, visitor_id: str) -> None:
        account_id = account.row.id
        live = self._live(account_id, visitor_id)
        now = self.clock()
        ids = await self.store.unread_ids(account_id, visitor_id, authors=("visitor",))
        await self.store.mark_messages(account_id, visitor_id, ids, read_at=now)
        self._messages_updated(account_id, visitor_id, ids, read_at=now)
        if live.record.unread:
            live.record.unread = 0
            self._changed(account_id, live)

    async def _ban(self, account: AccountState, visitor_id: str, reason: str, *, cover_ip: bool = False) -> int:
        """Ban a visitor; returns how many IP addresses the ban covers."""
        account_id = account.row.id
        live = self._live(account_id, visitor_id)
        record = live.record
        covered = 0
        if cover_ip:
            expires = self.clock() + self.settings.ip_ban_days * 86_400
            for address in {tab.ip_hash for tab in live.tabs if tab.ip_hash}:
                await self.store.add_ip_ban(account_id, address, visitor_id, expires)
                covered += 1
            account.ip_bans += covered
        if record.banned:
            return covered
        record.banned = True
        await self.writer.update(account_id, visitor_id, banned=True, ban_reason=reason)
        tabs, live.tabs = live.tabs, []
        frame = encode(Banned(message=BANNED_TEXT)).decode()
        for tab in tabs:
            tab.live = None
            tab.outbox.push(frame)
            tab.outbox.close(CloseCode.FORBIDDEN, "banned")
        if live.leave_timer is not None:
            live.leave_timer.cancel()
            live.leave_timer = None
        if record.online:
            record.online = False
            record.left_at = self.clock()
        record.in_chat = False
        self._changed(account_id, live)
        return covered

    async def _unban(self, account: AccountState, visitor_id: str) -> None:
        account_id = account.row.id
        live = self._live(account_id, visitor_id)
        if not live.record.banned:
            return
        live.record.banned = False
        await self.writer.update(account_id, visitor_id, banned=False, ban_reason="")
        await self.store.remove_ip_bans(account_id, visitor_id)
        account.ip_bans = await self.store.ip_ban_count(account_id, self.clock())
        self._changed(account_id, live)
        if not live.tabs:
            self._schedule_leave(account_id, live)

    async def history_of(self, account_id: int, visitor_id: str) -> list[ChatMessage]:
        """A visitor's stored conversation, if the visitor belongs to the account."""
        if (
            self.presence.get(account_id, visitor_id) is None
            and await self.store.visitor(account_id, visitor_id) is None
        ):
            raise RefusedError(ErrorCode.NOT_FOUND, f"no visitor {visitor_id} in your account; check the id")
        return await self.store.messages(account_id, visitor_id)

    # ------------------------------------------------------------------ visitors

    def _record_from_row(self, row: VisitorRow, now: float) -> Visitor:
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
            in_chat=row.chat_status in ("unanswered", "active"),
            session_only=row.session_only,
        )
        record.label = label_for(record)
        return record

    async def visitor_hello(
        self, account: AccountState, conn: VisitorConn, hello: VisitorHello, *, ip: str | None, user_agent: str
    ) -> LiveVisitor | None:
        """Attach a widget socket to its visitor (new, returning or another tab); None when banned."""
        account_id = account.row.id
        now = self.clock()
        if ip:
            conn.ip_hash = ip_hash(account.ip_key, ip)
            if account.ip_bans and await self.store.ip_banned(account_id, conn.ip_hash, now):
                return None
        visitor_id = hello.visitor_id
        live = self.presence.get(account_id, visitor_id) if visitor_id else None
        new_visit = live is None
        if live is None:
            row = await self.loader.get(account_id, visitor_id) if visitor_id else None
            live = self.presence.get(account_id, visitor_id) if visitor_id else None
            if live is None:
                if row is not None and row.banned:
                    return None
                known = row is not None
                if row is None:
                    row = VisitorRow(
                        account_id=account_id,
                        id=visitor_id or new_visitor_id(),
                        first_seen_at=now,
                        last_seen_at=now,
                        session_only=hello.session_only,
                    )
                else:
                    row.visit_count += 1
                    row.last_seen_at = now
                self.writer.visit(row)  # written behind, in order with later changes to this visitor
                live = self.presence.get(account_id, row.id)
                if live is None:
                    live = LiveVisitor(record=self._record_from_row(row, now), has_messages=None if known else False)
                    self._start_visit(live.record, hello, ip=ip, user_agent=user_agent, now=now)
                    self.presence.put(account_id, row.id, live)
        record = live.record
        if record.banned:
            return None
        if record.session_only and not hello.session_only:
            record.session_only = False  # consent given: recognised from now on
            self.writer.update(account_id, record.id, session_only=False)
        if live.leave_timer is not None:
            live.leave_timer.cancel()
            live.leave_timer = None
        live.tabs.append(conn)
        conn.live = live
        record.online = True
        record.left_at = None
        record.last_activity_at = now
        if not new_visit:
            self._visit_page(record, hello.url, hello.title, now)
        # Skip the query when there is surely no conversation (hellos dominate when many arrive at once).
        messages = (
            []
            if live.has_messages is False
            else await self.store.messages(account_id, record.id, limit=WELCOME_MESSAGES)
        )
        live.has_messages = bool(messages)
        undelivered = [m.id for m in messages if m.author in ("agent", "auto") and m.delivered_at is None]
        for m in messages:
            if m.id in undelivered:
                m.delivered_at = now
        conn.send(
            Welcome(
                visitor_id=record.id,
                messages=messages,
                agents_online=bool(account.agents),
                chat_status=record.chat_status,
                name=record.name,
                email=record.email,
            )
        )
        self._changed(account_id, live)
        if undelivered:
            await self.store.mark_messages(account_id, record.id, undelivered, delivered_at=now)
            self._messages_updated(account_id, record.id, undelivered, delivered_at=now)
        await self.evaluate_rules(account, live)
        return live

    def _start_visit(
        self, record: Visitor, hello: VisitorHello, *, ip: str | None, user_agent: str, now: float
    ) -> None:
        location = self.geo.locate(ip=ip, timezone=hello.timezone, language=hello.language)
        client = parse_user_agent(user_agent)
        record.country_code = location.country_code
        record.country = location.country
        record.city = location.city
        record.timezone = hello.timezone or None
        record.language = hello.language or None
        record.browser = client.browser
        record.os = client.os
        record.device = client.device
        record.referrer = hello.referrer or None
        record.current_url = hello.url
        record.current_title = hello.title
        record.pages = (PageVisit(url=hello.url, title=hello.title, at=now),)

    @staticmethod
    def _visit_page(record: Visitor, url: str, title: str, now: float) -> None:
        if record.current_url == url and record.current_title == title:
            return  # a reload or another tab on the same page
        record.current_url = url
        record.current_title = title
        record.pages = (*record.pages[-(MAX_PAGES - 1) :], PageVisit(url=url, title=title, at=now))

    async def visitor_event(self, account: AccountState, conn: VisitorConn, message: VisitorToServer) -> None:
        """Apply one frame of a widget that has said hello."""
        live = conn.live
        if live is None or live.record.banned:
            return  # banned (the socket is closing): nothing is stored
        account_id = account.row.id
        record = live.record
        now = self.clock()
        match message:
            case Activity():
                if message.kind not in _USER_ACTIVITY:
                    return
                was_active = now - record.last_activity_at < 600
                record.last_activity_at = now
                if not was_active or now - live.activity_sent_at >= self.settings.activity_publish_seconds:
                    live.activity_sent_at = now
                    self._publish(account_id, lambda seq: VisitorActivity(seq=seq, visitor_id=record.id, at=now))
            case PageView():
                record.last_activity_at = now
                self._visit_page(record, message.url, message.title, now)
                self._changed(account_id, live)
                await self.evaluate_rules(account, live)
            case VisitorChat():
                await self._visitor_chat(account, conn, live, message)
            case VisitorTyping():
                self._ephemeral(account_id, Typing(visitor_id=record.id, who="visitor", typing=message.typing))
            case Identify():
                await self.identify(account, record.id, message)
            case Read():
                ids = await self.store.unread_ids(account_id, record.id, authors=("agent", "auto"))
                await self.store.mark_messages(account_id, record.id, ids, read_at=now)
                self._messages_updated(account_id, record.id, ids, read_at=now)
            case Leave():
                conn.outbox.close(1000, "bye")
                self.visitor_disconnected(account, conn)
            case VisitorHello():
                conn.send(Error(code=ErrorCode.BAD_FRAME, message="hello was already sent on this socket"))

    async def _visitor_chat(
        self, account: AccountState, conn: VisitorConn, live: LiveVisitor, request: VisitorChat
    ) -> None:
        account_id = account.row.id
        record = live.record
        now = self.clock()
        message = ChatMessage(
            id=request.id, visitor_id=record.id, author="visitor", text=request.text, sent_at=now, delivered_at=now
        )
        stored, new = await self.store.add_message(account_id, message, offline=not account.agents)
        if record.banned:
            return
        conn.send(Ack(id=stored.id))
        if not new:
            return
        live.has_messages = True
        for tab in live.tabs:
            if tab is not conn:
                tab.send(VisitorMessage(message=stored))
        record.last_activity_at = now
        record.unread += 1
        self._publish(account_id, lambda seq: MessageAdded(seq=seq, message=stored))
        if record.chat_status in ("none", "closed"):
            self._set_chat(account_id, live, "unanswered", None)
        self._changed(account_id, live)

    def visitor_disconnected(self, account: AccountState, conn: VisitorConn) -> None:
        """A widget socket closed; the visitor goes offline when it was the last tab."""
        live = conn.live
        conn.live = None
        if live is None or conn not in live.tabs:
            return
        live.tabs.remove(conn)
        if live.tabs or self._closing:
            return
        live.record.online = False
        live.record.left_at = self.clock()
        self._changed(account.row.id, live)
        self._schedule_leave(account.row.id, live)

    def _schedule_leave(self, account_id: int, live: LiveVisitor) -> None:
        if live.leave_timer is not None:
            live.leave_timer.cancel()
        live.leave_timer = asyncio.get_running_loop().call_later(
            self.settings.leave_grace_seconds, self._expire, account_id, live
        )

    def _expire(self, account_id: int, live: LiveVisitor) -> None:
        live.leave_timer = None
        if live.tabs or live.record.banned or self.presence.get(account_id, live.record.id) is not live:
            return
        self.presence.remove(account_id, live.record.id)
        visitor_id = live.record.id
        self._publish(account_id, lambda seq: VisitorLeft(seq=seq, visitor_id=visitor_id))
        if live.record.session_only and live.has_messages is not True and not live.record.customer:
            # No consent: nothing about the visit is kept once they are gone (a conversation they
            # started, or details they gave, are their own act and stay under the account's retention).
            self._forgetting.add(asyncio.get_running_loop().create_task(self._forget(account_id, visitor_id)))
            return
        self.writer.update(account_id, visitor_id, last_seen_at=self.clock())

    async def _forget(self, account_id: int, visitor_id: str) -> None:
        try:
            await self.writer.drain()  # the visit's own row write comes first
            # Back in the meantime, or a conversation from an earlier page of the session: keep them.
            if self.presence.get(account_id, visitor_id) is None and not await self.store.messages(
                account_id, visitor_id, limit=1
            ):
                await self.store.erase_visitor(account_id, visitor_id)
        except Exception:
            log.exception("forgetting a session-only visitor failed")
        finally:
            task = asyncio.current_task()
            if task is not None:
                self._forgetting.discard(task)

    async def erase_visitor(self, account_id: int, visitor_id: str) -> bool:
        """Erase a visitor from SQL, presence and the replay history, keeping only what a ban needs.

        Agents see the visitor leave, or (while still on the site, or banned) become anonymous.
        """
        await self.writer.drain()  # a queued write must not bring the row back
        erased = await self.store.erase_visitor(account_id, visitor_id)
        # Replayable deltas hold the visitor's identity and messages: forget them all, so an agent
        # resuming from before the erasure gets a fresh snapshot instead.
        self.history.forget(account_id)
        live = self.presence.get(account_id, visitor_id)
        if live is None:
            return erased
        record = live.record
        if live.tabs or record.banned:
            now = self.clock()
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
                current_url=record.current_url if live.tabs else None,
                current_title=record.current_title if live.tabs else None,
                banned=record.banned,
                session_only=record.session_only,
            )
            fresh.label = label_for(fresh)
            live.record = fresh
            live.has_messages = False
            live.fired.clear()
            if live.tabs and not record.banned:
                # Still on the site: SQL follows presence again, as a visitor first seen now.
                self.writer.visit(
                    VisitorRow(
                        account_id=account_id,
                        id=visitor_id,
                        first_seen_at=now,
                        last_seen_at=now,
                        session_only=record.session_only,
                    )
                )
            self._changed(account_id, live)
        else:
            if live.leave_timer is not None:
                live.leave_timer.cancel()
                live.leave_timer = None
            self.presence.remove(account_id, visitor_id)
            self._publish(account_id, lambda seq: VisitorLeft(seq=seq, visitor_id=visitor_id))
        return True

    def agent_changed(self, agent_id: int) -> None:
        """An agent's role changed: their sockets reconnect to learn it (as for a plan change)."""
        for account in self._accounts.values():
            for conn in list(account.agents):
                if conn.agent.id == agent_id:
                    conn.outbox.close(1012, "your role changed; reconnect")

    async def identify(self, account: AccountState, visitor_id: str, fields: Any) -> bool:
        """Store a visitor's name, e-mail, phone and custom fields and make them a customer."""
        account_id = account.row.id
        live = self.presence.get(account_id, visitor_id)
        row = None
        if live is None:
            row = await self.store.visitor(account_id, visitor_id)
            if row is None:
                return False
        values: dict[str, Any] = {"customer": True}
        for name in ("name", "email", "phone"):
            value = getattr(fields, name).strip()
            if value:
                values[name] = value
        if live is not None:
            record = live.record
            for name, value in values.items():
                setattr(record, name, value)
            record.custom.update(fields.custom)
            values["custom"] = dict(record.custom)
            record.label = label_for(record)
            self._changed(account_id, live)
        else:
            assert row is not None
            values["custom"] = {**row.custom, **fields.custom}
        await self.writer.update(account_id, visitor_id, **values)
        return True

    # ------------------------------------------------------------------ automatic messages

    async def evaluate_rules(self, account: AccountState, live: LiveVisitor) -> None:
        """Send the first matching automatic message that has not fired for this visitor yet."""
        if not account.rules or not account.agents or not capabilities_for(account.row.plan).auto_messages:
            return
        record = live.record
        if record.banned or record.in_chat or not live.tabs:
            return
        now = self.clock()
        for compiled in account.rules:
            rule = compiled.rule
            if not rule.enabled or rule.id in live.fired or not matches(compiled, record, now):
                continue
            live.fired.add(rule.id)
            if await self.store.record_firing(account.row.id, record.id, rule.id):
                await self._send_auto(account, live, rule)
                return

    async def _send_auto(self, account: AccountState, live: LiveVisitor, rule: AutoRule) -> None:
        account_id = account.row.id
        record = live.record
        now = self.clock()
        message = ChatMessage(
            id=new_message_id(),
            visitor_id=record.id,
            author="auto",
            text=rule.message,
            sent_at=now,
            delivered_at=now if live.tabs else None,
        )
        stored, _new = await self.store.add_message(account_id, message)
        live.has_messages = True
        live.send_all(VisitorMessage(message=stored))
        self._publish(account_id, lambda seq: MessageAdded(seq=seq, message=stored))
        if not record.auto_messaged:
            record.auto_messaged = True
            self.writer.update(account_id, record.id, auto_messaged=True)
        self._changed(account_id, live)

    async def _tick_forever(self) -> None:
        refresh_every = max(1, round(10 / self.settings.rule_tick_seconds))
        ticks = 0
        while True:
            await asyncio.sleep(self.settings.rule_tick_seconds)
            ticks += 1
            try:
                await self._tick(refresh=ticks % refresh_every == 0)
            except Exception:
                log.exception("periodic work failed")

    async def _tick(self, *, refresh: bool) -> None:
        for account in list(self._accounts.values()):
            if refresh:
                await self.refresh_account(account.row.id)
            if not account.agents or not account.time_rules:
                continue
            for live in self.presence.visitors(account.row.id):
                if live.tabs:
                    await self.evaluate_rules(account, live)

    # ------------------------------------------------------------------ figures

    def counts(self) -> dict[str, int]:
        """Connected agents and present visitors (for health and logs)."""
        return {
            "agents": sum(len(a.agents) for a in self._accounts.values()),
            "visitors": self.presence.count(),
        }
