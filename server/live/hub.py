"""The asyncio adapter of the live core: loads state, calls ``server.live.core``, carries out its effects.

It owns this process's sockets only. Shared state goes through the seams (``server.live.seams``):
visitor records and counts through presence, deltas through the account's log (which delivers
them to every process's agents), frames for sockets held elsewhere through the control channel.
Effects are carried out in one order: presence and SQL first, then the log, then the sockets.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import msgspec

from protocol.codec import encode, snapshot_frame, with_seq
from protocol.messages import (
    AccountInfo,
    Ack,
    Activity,
    AgentInfo,
    AgentToServer,
    AgentTyping,
    Auth,
    Ban,
    ChatMessage,
    ChatOpened,
    CloseCode,
    CloseConversation,
    EraseVisitor,
    Error,
    ErrorCode,
    GetHistory,
    GetTrail,
    Hello,
    History,
    Identify,
    Leave,
    MarkRead,
    OfflineMessage,
    OpenConversation,
    PageView,
    Read,
    Result,
    Resumed,
    SendMessage,
    SnapshotReason,
    Trail,
    Unban,
    Visitor,
    VisitorChat,
    VisitorHello,
    VisitorToServer,
    VisitorTyping,
)
from protocol.rules import PROTOCOL_VERSION, capabilities_for
from server import __version__, metrics
from server.batching import VisitorLoader, VisitorWriter
from server.bots import live as bots
from server.bots.runner import BotRunner
from server.bots.store import BotStore
from server.config import Settings
from server.geo import Geolocator
from server.live import core
from server.live.core import Effects, RefusedError, TabFrame
from server.live.memory import memory_seams
from server.live.record import StateCache, VisitorState, decode_state, encode_all, encode_groups, listed_json
from server.live.seams import (
    AccountChanged,
    AccountVisitorsFrame,
    AgentChanged,
    AgentsFrame,
    AgentStatus,
    CloseVisitor,
    Control,
    EraseVisitorLive,
    LogEntry,
    Moved,
    RevokeToken,
    Seams,
    TeamConn,
    TeamFrame,
    VisitorFrame,
)
from server.live.sync import AgentSync
from server.live.team_hub import TeamHub
from server.outbox import TOO_SLOW, Outbox
from server.rules import AutoRule, CompiledRule, compile_rule
from server.security import ip_hash, new_visitor_id
from server.store import AccountRow, AgentRow, Store, VisitorRow
from server.team_store import TeamStore
from server.useragent import parse_user_agent

log = logging.getLogger(__name__)

WELCOME_MESSAGES = 200
SNAPSHOT_PAGE = 1000
"""Visitors read from presence per scan step."""
DELTA_FRAME = '{"seq":'
"""How every delta frame starts (``protocol.codec.with_seq`` puts the seq first): what a resync drops."""
RESYNCS_ALLOWED = 3
RESYNC_WINDOW = 60.0
"""An agent whose queue overflows more than ``RESYNCS_ALLOWED`` times within this many seconds is closed."""
ERASE_CLAIM_SECONDS = 600.0
"""How long an erasure request stays claimed (its control message reaches every process well before)."""

_LEAVING_FIELDS = ("visit", "identity", "activity", "banned", "consent", "has_messages")
"""What deciding a visitor's leaving reads from presence (whether it is kept or forgotten)."""

__all__ = ["AccountState", "AgentConn", "Hub", "RefusedError", "VisitorConn"]


class AgentConn:
    """One authenticated agent socket."""

    __slots__ = ("account_id", "agent", "conn_id", "outbox", "resyncs", "sync", "token_hash")

    def __init__(self, outbox: Outbox, agent: AgentRow, token_hash: str) -> None:
        self.outbox = outbox
        self.agent = agent
        self.account_id = agent.account_id
        self.token_hash = token_hash
        self.conn_id = secrets.token_hex(8)
        self.sync = AgentSync()
        self.resyncs: list[float] = []
        """When its recent resyncs started (too many in a short time: it cannot keep up, and is closed)."""

    def send(self, message: msgspec.Struct) -> None:
        """Queue one message."""
        self.outbox.push(encode(message).decode())

    def deliver(self, sync: AgentSync, frames: Iterable[str]) -> None:
        """Queue deltas ``sync`` passed, unless a resync replaced it meanwhile (its snapshot covers them)."""
        for frame in frames:
            if self.sync is not sync:
                return
            self.outbox.push(frame)


class VisitorConn:
    """One widget socket (one browser tab)."""

    __slots__ = ("early", "ip_hash", "outbox", "tab_id", "visitor_id")

    def __init__(self, outbox: Outbox, tab_id: str) -> None:
        self.outbox = outbox
        self.tab_id = tab_id
        self.visitor_id: str | None = None
        """Set once the hello was accepted."""
        self.ip_hash: str | None = None
        """The keyed hash of the page's IP address (for a ban that covers it); the address itself is not kept."""
        self.early: list[str] | None = []
        """Frames for the tab that came before its Welcome (subscribe-and-buffer); None once welcomed."""

    def send(self, message: msgspec.Struct) -> None:
        """Queue one message."""
        self.outbox.push(encode(message).decode())

    def push(self, frame: str) -> None:
        """Queue an encoded frame for the tab, after its Welcome (held back until that is sent)."""
        if self.early is not None:
            self.early.append(frame)
        else:
            self.outbox.push(frame)

    def welcomed(self, welcome: msgspec.Struct) -> None:
        """Send the Welcome, then whatever came for the tab while it was being prepared."""
        early, self.early = self.early, None
        self.send(welcome)
        for frame in early or ():
            self.outbox.push(frame)


@dataclass(slots=True, eq=False)
class AccountState:
    """An account's settings and rules, and this process's sockets of it."""

    row: AccountRow
    rules: list[CompiledRule] = field(default_factory=list)
    agents: dict[AgentConn, None] = field(default_factory=dict)
    tabs: dict[str, list[VisitorConn]] = field(default_factory=dict)
    """This process's widget sockets by visitor id."""
    subscribed: bool = False
    ip_key: str = ""
    """The account's secret for keyed hashes of IP addresses."""
    ip_bans: int = 0
    """IP bans in force (when 0, a hello skips the lookup); re-read on every account change."""

    @property
    def info(self) -> AccountInfo:
        """What agents are told about the account."""
        return AccountInfo(id=self.row.id, name=self.row.name, plan=self.row.plan)

    @property
    def time_rules(self) -> bool:
        """Whether some enabled rule depends on time passing."""
        return any(r.time_based and r.rule.enabled for r in self.rules)

    # The delta log calls these (LogListener): one frame per entry, shared by every agent socket.

    def entry(self, account_id: int, entry: LogEntry) -> None:
        """Pass a delta to this process's agents of the account."""
        if not self.agents:
            return
        frame = with_seq(entry.body, entry.seq).decode()
        for conn in list(self.agents):
            out = conn.sync.entry(entry.seq, frame)
            if out is not None:
                conn.outbox.push(out)  # a full queue resynchronises the agent (Hub._overflowed)

    def reset(self, account_id: int, epoch: str) -> None:
        """The log lost continuity: agents reconnect and get a fresh snapshot."""
        for conn in list(self.agents):
            conn.outbox.close(1012, "the live state was reset; reconnect")


class Hub:
    """Connects this process's sockets to the live core and the seams."""

    def __init__(
        self,
        store: Store,
        settings: Settings,
        geo: Geolocator,
        seams: Seams | None = None,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.settings = settings
        self.geo = geo
        self.seams = seams if seams is not None else memory_seams(settings.history_size, clock)
        self.clock = clock
        self.loader = VisitorLoader(store)
        self._cache = StateCache()
        self.writer = VisitorWriter(store)
        self._accounts: dict[int, AccountState] = {}
        self._keys: dict[str, int] = {}
        self._loading: dict[int, asyncio.Future[AccountState | None]] = {}
        self._leave_timers: dict[tuple[int, str], asyncio.TimerHandle] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._ticker: asyncio.Task[None] | None = None
        self._renewer: asyncio.Task[None] | None = None
        self._forgetting: set[asyncio.Task[None]] = set()
        self._closing = False
        self.team = TeamHub(self, TeamStore(store.engine))
        """The team layer: agent status, presence, chat claims, notes, canned responses, alerts."""
        self.bots = BotRunner(BotStore(store.engine), bots.HubBotPort(self), clock)

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Listen to the control channel and start the periodic work (rules, leases)."""
        await self.seams.control.subscribe(self._on_control)
        self._ticker = asyncio.get_running_loop().create_task(self._tick_forever())
        self._renewer = asyncio.get_running_loop().create_task(self._renew_forever())

    async def stop(self) -> None:
        """Close every socket of this process and finish pending writes."""
        self._closing = True
        for task in (self._ticker, self._renewer):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        await self.seams.control.unsubscribe(self._on_control)
        for timer in self._leave_timers.values():
            timer.cancel()
        self._leave_timers.clear()
        self.team.stop()
        outboxes: list[Outbox] = []
        for account in self._accounts.values():
            for conn in list(account.agents):
                conn.outbox.close(1001, "server shutting down")
                outboxes.append(conn.outbox)
            for tabs in account.tabs.values():
                for tab in tabs:
                    tab.outbox.close(1001, "server shutting down")
                    outboxes.append(tab.outbox)
        await asyncio.gather(*(o.flush(1.0) for o in outboxes))
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=2.0)
        await self.writer.drain()
        if self._forgetting:
            await asyncio.wait(self._forgetting, timeout=2.0)

    def _spawn(self, work: Any) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("live work failed", exc_info=task.exception())

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
        state = AccountState(
            row=row,
            rules=[compile_rule(r) for r in await self.store.rules(account_id)],
            ip_key=await self.store.ip_key(account_id),
            ip_bans=await self.store.ip_ban_count(account_id, self.clock()),
        )
        presence = self.seams.presence
        for banned in await self.store.banned_visitors(account_id):
            if await presence.load(account_id, banned.id, ["visit"]) is None:
                await presence.store(account_id, banned.id, encode_all(core.banned_state(banned)))
        await self.team.load_account(account_id)
        self._accounts[account_id] = state
        self._keys[row.account_key] = account_id
        return state

    async def refresh_account(self, account_id: int) -> None:
        """Re-read an account's plan, origins and rules here, and tell the other processes to."""
        await self._reload_account(account_id)
        await self.seams.control.publish(AccountChanged(account_id=account_id))

    async def _reload_account(self, account_id: int) -> None:
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
        """Install an account's new rule list here; the other processes re-read theirs."""
        state = self._accounts.get(account_id)
        if state is not None:
            state.rules = [compile_rule(r) for r in rules]
        self._spawn(self.seams.control.publish(AccountChanged(account_id=account_id)))

    def flows_changed(self, account_id: int) -> None:
        """An account's bots changed: read them again here, and tell the other processes to."""
        self.bots.flows_changed(account_id)
        self._spawn(self.seams.control.publish(AccountChanged(account_id=account_id)))

    # ------------------------------------------------------------------ carrying out effects

    async def _state(self, account_id: int, visitor_id: str) -> VisitorState | None:
        fields = await self.seams.presence.load(account_id, visitor_id)
        key = (account_id, visitor_id)
        if fields is None:
            self._cache.forget(key)
            return None
        account = self._accounts.get(account_id)
        return self._cache.state(key, fields, keep=account is not None and visitor_id in account.tabs)

    async def _present(self, account_id: int, visitor_id: str) -> VisitorState:
        state = await self._state(account_id, visitor_id)
        if state is None:
            raise RefusedError(ErrorCode.NOT_FOUND, f"no visitor {visitor_id} is on your site; refresh the list")
        return state

    async def _change(
        self, account_id: int, visitor_id: str, change: Callable[[VisitorState], Effects]
    ) -> VisitorState | None:
        """Apply a pure change to a present visitor optimistically; the state it was committed on, or None.

        The record is read as this process remembers it (no round trip while it holds a tab of the
        visitor) and the change is committed with that revision: fields and first delta in one step.
        When another process (or another task here) wrote the record since, nothing was written, and
        the change is applied again to the current record the refusal brought. Each refusal means
        another write succeeded, so this ends; each delta goes out once, in the order of the writes.
        """
        key = (account_id, visitor_id)
        account = self._accounts.get(account_id)
        stored = await self.seams.presence.read(account_id, visitor_id)
        while True:
            if stored is None:
                self._cache.forget(key)
                return None
            keep = account is not None and visitor_id in account.tabs
            state = self._cache.state(key, stored.fields, keep=keep)
            if state is None or state.record.banned:
                return None  # banned: its sockets are closing on every process, nothing is stored
            moved = await self._apply(account_id, state, visitor_id, change(state), rev=stored.rev)
            if moved is None:
                return state
            metrics.COMMITS_REFUSED.inc()
            stored = moved.current

    async def _apply(
        self,
        account_id: int,
        state: VisitorState | None,
        visitor_id: str,
        effects: Effects,
        *,
        rev: bytes | None = None,
    ) -> Moved | None:
        """Carry out effects in order: presence and SQL, the log, then frames to sockets.

        With ``rev`` (see :meth:`_change`) the record is written only while still at that revision;
        when it moved, nothing at all is carried out and the current record is returned.
        """
        deltas, writes = effects.deltas, effects.writes
        if effects.store and state is not None:
            encoded = encode_groups(state, effects.store)
            key = (account_id, visitor_id)
            # A non-durable SQL write is only queued, so the record and the first delta go together
            # (one atomic Redis script, one round trip: the page view path).
            together = bool(deltas) and not effects.durable
            body = encode(deltas[0]) if together else None
            try:
                done = await self.seams.presence.commit(account_id, visitor_id, encoded, self.seams.log, body, rev=rev)
            except BaseException:
                self._cache.forget(key)
                raise
            if isinstance(done, Moved):
                return done
            if together:
                deltas = deltas[1:]
            self._cache.stored(key, state, encoded)
        if writes:
            written = self.writer.update(account_id, visitor_id, **writes)
            if effects.durable:
                await written
        for delta in deltas:
            await self.seams.log.append(account_id, encode(delta))
        control = self.seams.control
        for frame in effects.tabs:
            if isinstance(frame, TabFrame):
                await control.publish(
                    VisitorFrame(
                        account_id=account_id,
                        visitor_id=visitor_id,
                        frame=encode(frame.message).decode(),
                        except_tab=frame.except_tab,
                    )
                )
            else:
                await control.publish(
                    CloseVisitor(
                        account_id=account_id,
                        visitor_id=visitor_id,
                        frame=encode(frame.message).decode(),
                        code=frame.code,
                        reason=frame.reason,
                    )
                )
        for agent_frame in effects.agents:
            await control.publish(
                AgentsFrame(
                    account_id=account_id,
                    frame=encode(agent_frame.message).decode(),
                    except_conn=agent_frame.except_conn,
                )
            )
        if effects.start_leave:
            self._schedule_leave(account_id, visitor_id)
        return None

    def _on_control(self, message: Control) -> None:
        """Act on a control message for this process's sockets (any process may have sent it)."""
        match message:
            case VisitorFrame():
                account = self._accounts.get(message.account_id)
                for tab in account.tabs.get(message.visitor_id, ()) if account else ():
                    if tab.tab_id != message.except_tab:
                        tab.push(message.frame)
            case CloseVisitor():
                self._cancel_leave(message.account_id, message.visitor_id)
                account = self._accounts.get(message.account_id)
                for tab in account.tabs.get(message.visitor_id, ()) if account else ():
                    tab.outbox.push(message.frame)
                    tab.outbox.close(message.code, message.reason)
            case AccountVisitorsFrame():
                account = self._accounts.get(message.account_id)
                for tabs in account.tabs.values() if account else ():
                    for tab in tabs:
                        tab.push(message.frame)
            case AgentsFrame():
                account = self._accounts.get(message.account_id)
                for conn in list(account.agents) if account else ():
                    if conn.conn_id != message.except_conn and not conn.sync.syncing:
                        conn.outbox.push(message.frame)
            case RevokeToken():
                self._close_token(message.token_hash)
            case AccountChanged():
                self.bots.flows_changed(message.account_id)
                self._spawn(self._reload_account(message.account_id))
            case AgentChanged():
                for account in self._accounts.values():
                    for conn in list(account.agents):
                        if conn.agent.id == message.agent_id:
                            conn.outbox.close(1012, "your role changed; reconnect")
            case AgentStatus() | TeamConn() | TeamFrame():
                self.team.on_control(message)
            case EraseVisitorLive():
                if message.account_id in self._accounts:
                    self._spawn(self._erase_requested(message))

    # ------------------------------------------------------------------ agents

    async def agent_connected(self, conn: AgentConn, account: AccountState, auth: Auth) -> None:
        """Greet an authenticated agent with Hello and a snapshot or a replay, then keep it live.

        Subscribe-and-buffer: the socket joins the account's feed (buffering) before the log
        position and the snapshot or replay are read, so no delta falls in between.
        """
        account_id = account.row.id
        log_ = self.seams.log
        if not account.subscribed:
            account.subscribed = True
            await log_.subscribe(account_id, account)
        conn.sync = AgentSync(self.settings.outbox_limit)
        conn.outbox.on_overflow = lambda frame: self._overflowed(conn, frame)
        account.agents[conn] = None
        position = await log_.position(account_id)
        agent = conn.agent
        conn.send(
            Hello(
                protocol=PROTOCOL_VERSION,
                server_version=__version__,
                agent=AgentInfo(id=agent.id, email=agent.email, name=agent.name, role=agent.role),
                account=account.info,
                capabilities=capabilities_for(account.row.plan),
                seq=position.seq,
                epoch=position.epoch,
            )
        )
        resume_from = auth.resume_from
        replay = None
        if resume_from is not None and resume_from > 0 and auth.epoch is not None:
            replay = await log_.since(account_id, resume_from, auth.epoch)
        sync = conn.sync
        if replay is None:
            fresh = resume_from is None or resume_from <= 0
            reason: SnapshotReason = "initial" if fresh else "resume_unavailable"
            await self._send_snapshot(conn, account_id, position.seq, reason)
            frames = sync.synced(position.seq, [])
        else:
            assert resume_from is not None
            conn.send(Resumed(from_seq=resume_from, seq=position.seq))
            frames = sync.synced(position.seq, [(e.seq, with_seq(e.body, e.seq).decode()) for e in replay])
        if frames is None:
            self._resync_later(conn)  # a burst while the snapshot went out: a newer one follows
        else:
            conn.deliver(sync, frames)
        # Counted as "agents online" only while the agent's status is Online (the team layer decides).
        await self.team.count_in(conn)
        await self.team.agent_connected(conn)

    async def _send_snapshot(self, conn: AgentConn, account_id: int, seq: int, reason: SnapshotReason) -> None:
        """The account's visitors in pages, so the agent paints the first at once; written with backpressure.

        The next page is queued only once the socket took the previous one (the peer reads at its
        own pace, and a snapshot of 100,000 never sits in the queue whole); the next page is read
        from presence while the previous one is being written.
        """
        outbox = conn.outbox
        page = await self.seams.presence.scan(account_id, "", SNAPSHOT_PAGE)
        part = 0
        while True:
            records = [record for _id, fields in page.visitors if (record := listed_json(fields)) is not None]
            more = bool(page.cursor)
            frame = snapshot_frame(seq, reason, records, part=part, more=more).decode()
            await outbox.drained()
            if outbox.closing:
                return
            outbox.push(frame)
            if not more:
                return
            page = await self.seams.presence.scan(account_id, page.cursor, SNAPSHOT_PAGE)
            part += 1

    def _overflowed(self, conn: AgentConn, frame: str) -> bool:
        """An agent's queue is full: drop its queued deltas and resynchronise it with a fresh snapshot.

        A burst (a process's visitors leaving at once, a large account's snapshot followed by its
        deltas) is not a slow reader: the agent gets ``resume_unavailable`` and a paged snapshot,
        as after a lost log. Only an agent that keeps overflowing is closed (1013). False: close it.
        """
        outbox = conn.outbox
        if conn.sync.syncing:
            return False  # filled during a snapshot (deltas wait in the sync, not here): too slow a reader
        dropped = outbox.discard(lambda queued: queued.startswith(DELTA_FRAME))
        if not frame.startswith(DELTA_FRAME):
            if outbox.waiting >= self.settings.outbox_limit:
                return False  # a queue full of frames that are not deltas: a reader that is too slow
            outbox.push(frame)
        log.info("agent %s fell %d deltas behind; sending a fresh snapshot", conn.agent.id, dropped)
        self._resync_later(conn)
        return True

    def _resync_later(self, conn: AgentConn) -> None:
        """Start a resync (new deltas wait for its snapshot), unless the agent keeps falling behind."""
        now = self.clock()
        conn.resyncs = [at for at in conn.resyncs if now - at < RESYNC_WINDOW]
        if len(conn.resyncs) >= RESYNCS_ALLOWED:
            conn.outbox.discard(lambda _frame: True)
            conn.outbox.close(TOO_SLOW, "cannot keep up with the account's changes, even after fresh snapshots")
            log.warning("agent %s kept falling behind after %d resyncs; closed", conn.agent.id, len(conn.resyncs))
            return
        conn.resyncs.append(now)
        conn.sync = AgentSync(self.settings.outbox_limit)
        metrics.AGENT_RESYNCS.inc()
        self._spawn(self._resync(conn))

    async def _resync(self, conn: AgentConn) -> None:
        """Send an agent whose deltas were dropped a fresh snapshot, then the deltas after it."""
        sync = conn.sync
        try:
            position = await self.seams.log.position(conn.account_id)
            await self._send_snapshot(conn, conn.account_id, position.seq, "resume_unavailable")
        except Exception:
            conn.outbox.close(1012, "the live state could not be read; reconnect")  # never left buffering
            raise
        frames = sync.synced(position.seq, [])
        if frames is None:
            self._resync_later(conn)
            return
        conn.deliver(sync, frames)
        if conn.sync is sync and not conn.outbox.closing:
            await self.team.agent_connected(conn)  # presence anew: the client dropped it with the snapshot

    async def agent_disconnected(self, conn: AgentConn) -> None:
        """Forget a closed agent socket."""
        account = self._accounts.get(conn.account_id)
        if account is None or conn not in account.agents:
            return
        del account.agents[conn]
        await self.team.agent_disconnected(conn)

    async def _agents_online_changed(self, account_id: int, online: bool) -> None:
        frame = encode(core.agents_online(online)).decode()
        await self.seams.control.publish(AccountVisitorsFrame(account_id=account_id, frame=frame))

    def revoke(self, token_hash: str) -> None:
        """Close every socket authenticated with a revoked token, on every process."""
        self._close_token(token_hash)
        self._spawn(self.seams.control.publish(RevokeToken(token_hash=token_hash)))

    async def agent_changed(self, agent_id: int) -> None:
        """An agent's role changed: their sockets reconnect to learn it (as for a plan change), on every process."""
        await self.seams.control.publish(AgentChanged(agent_id=agent_id))

    def _close_token(self, token_hash: str) -> None:
        frame = encode(Error(code=ErrorCode.UNAUTHORIZED, message="you signed out; sign in again")).decode()
        for account in self._accounts.values():
            for conn in list(account.agents):
                if conn.token_hash == token_hash and not conn.outbox.closing:
                    conn.outbox.push(frame)
                    conn.outbox.close(CloseCode.UNAUTHORIZED, "token revoked")

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

    async def _agent_request(self, conn: AgentConn, message: AgentToServer) -> msgspec.Struct | None:
        account = self._accounts.get(conn.account_id)
        if account is None:  # pragma: no cover - loaded at auth
            raise RefusedError(ErrorCode.INTERNAL, "account not loaded; reconnect")
        account_id = account.row.id
        plan = account.row.plan
        agent = (conn.agent.id, conn.agent.name)
        now = self.clock()
        match message:
            case SendMessage():
                await self._agent_send(conn, account, message)
                return Result(ref=message.ref)
            case AgentTyping():
                state = await self._present(account_id, message.visitor_id)
                await self.team.typing(conn, message.visitor_id, message.typing)
                effects = core.agent_typing(
                    state, message.typing, plan=plan, agent_name=conn.agent.name, conn_id=conn.conn_id
                )
                await self._apply(account_id, None, message.visitor_id, effects)
                return None
            case OpenConversation():
                state = await self._present(account_id, message.visitor_id)
                await self.team.claim(conn, account, state)  # exactly one of simultaneous opens wins
                await bots.taken_over(self, account_id, state)
                state = await self._present(account_id, message.visitor_id)
                await self._apply(account_id, state, message.visitor_id, core.open_chat(state, agent, plan))
                await self.team.presence_changed(account_id, message.visitor_id, state)
                return Result(ref=message.ref)
            case CloseConversation():
                state = await self._present(account_id, message.visitor_id)
                await self._apply(account_id, state, message.visitor_id, core.close_chat(state))
                await self.team.release(account_id, message.visitor_id)
                await self.team.presence_changed(account_id, message.visitor_id, state)
                return Result(ref=message.ref)
            case MarkRead():
                await self._present(account_id, message.visitor_id)
                ids = await self.store.unread_ids(account_id, message.visitor_id, authors=("visitor",))
                await self.store.mark_messages(account_id, message.visitor_id, ids, read_at=now)
                state = await self._present(account_id, message.visitor_id)
                await self._apply(account_id, state, message.visitor_id, core.mark_read(state, ids, now=now))
                return Result(ref=message.ref)
            case Ban():
                state = await self._present(account_id, message.visitor_id)
                covered = await self._cover_ip(account, state) if message.cover_ip else 0
                await self._apply(account_id, state, message.visitor_id, core.ban(state, message.reason, now=now))
                await self.team.release(account_id, message.visitor_id)
                await self._audit(conn, "ban", message.visitor_id, {"ip_addresses": covered} if covered else None)
                return Result(ref=message.ref)
            case Unban():
                state = await self._present(account_id, message.visitor_id)
                has_tabs = await self.seams.presence.tabs(account_id, message.visitor_id) > 0
                await self._apply(account_id, state, message.visitor_id, core.unban(state, has_tabs=has_tabs))
                await self.store.remove_ip_bans(account_id, message.visitor_id)
                await self.refresh_account(account_id)  # every process re-counts its IP bans
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
            case GetTrail():
                state = await self._present(account_id, message.visitor_id)
                return Trail(ref=message.ref, visitor_id=message.visitor_id, pages=list(state.record.pages))
            case Auth():
                raise RefusedError(ErrorCode.BAD_FRAME, "this socket is already authenticated; send auth only once")
            case _:
                return await self.team.request(conn, account, message)  # the team layer's requests

    async def _audit(self, conn: AgentConn, action: str, target: str, details: dict[str, Any] | None = None) -> None:
        agent = conn.agent
        await self.store.add_audit(
            agent.account_id, actor=agent.email, agent_id=agent.id, action=action, target=target, details=details
        )

    async def _cover_ip(self, account: AccountState, state: VisitorState) -> int:
        """Ban the address hashes the visitor's pages came from this visit; returns how many."""
        account_id = account.row.id
        expires = self.clock() + self.settings.ip_ban_days * 86_400
        for address in state.ip_hashes:
            await self.store.add_ip_ban(account_id, address, state.record.id, expires)
        if state.ip_hashes:
            await self.refresh_account(account_id)  # every process starts checking hellos against them
        return len(state.ip_hashes)

    async def _agent_send(self, conn: AgentConn, account: AccountState, request: SendMessage) -> None:
        account_id = account.row.id
        state = await self._present(account_id, request.visitor_id)
        core.check_agent_message(state, account.row.plan)
        held = state.record.chat_agent_id == conn.agent.id and state.record.chat_status == "active"
        if not held:
            await self.team.claim(conn, account, state)  # answering makes the chat this agent's, never silently
        await bots.taken_over(self, account_id, state)
        now = self.clock()
        has_tabs = await self.seams.presence.tabs(account_id, request.visitor_id) > 0
        message = ChatMessage(
            id=request.id,
            visitor_id=request.visitor_id,
            author="agent",
            text=request.text,
            sent_at=now,
            agent_id=conn.agent.id,
            agent_name=conn.agent.name,
            delivered_at=now if has_tabs else None,
        )
        stored, new = await self.store.add_message(account_id, message)
        if not new:
            return  # a resend: already stored and delivered once
        state = await self._state(account_id, request.visitor_id) or state
        effects = core.agent_message(state, stored, (conn.agent.id, conn.agent.name))
        await self._apply(account_id, state, request.visitor_id, effects)

    async def history_of(self, account_id: int, visitor_id: str) -> list[ChatMessage]:
        """A visitor's stored conversation, if the visitor belongs to the account."""
        if (
            await self.seams.presence.load(account_id, visitor_id, ["visit"]) is None
            and await self.store.visitor(account_id, visitor_id) is None
        ):
            raise RefusedError(ErrorCode.NOT_FOUND, f"no visitor {visitor_id} in your account; check the id")
        return await self.store.messages(account_id, visitor_id)

    # ------------------------------------------------------------------ visitors

    async def visitor_hello(
        self, account: AccountState, conn: VisitorConn, hello: VisitorHello, *, ip: str | None, user_agent: str
    ) -> bool:
        """Attach a widget socket to its visitor (new, returning or another tab); False when banned."""
        account_id = account.row.id
        now = self.clock()
        if ip:
            conn.ip_hash = ip_hash(account.ip_key, ip)
            if account.ip_bans and await self.store.ip_banned(account_id, conn.ip_hash, now):
                return False
        visitor_id = hello.visitor_id
        state = await self._state(account_id, visitor_id) if visitor_id else None
        new_visit = state is None
        if state is None:
            row = await self.loader.get(account_id, visitor_id) if visitor_id else None
            state = await self._state(account_id, visitor_id) if visitor_id else None  # another tab was faster
            if state is None:
                if row is not None and row.banned:
                    return False
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
                state = core.start_visit(row, hello, self._place(hello, ip, user_agent), known=known, now=now)
                await self.seams.presence.store(account_id, row.id, encode_all(state))
        record = state.record
        visitor_id = record.id
        if record.banned:
            return False
        self._cancel_leave(account_id, visitor_id)
        # Joined before the conversation is read, so no message falls in between; frames for the tab
        # wait in ``conn.early`` until its Welcome is sent (the widget starts over at the Welcome).
        # Joined before the presence is, so a hello failing from here on is detached like a closed tab.
        account.tabs.setdefault(visitor_id, []).append(conn)
        conn.visitor_id = visitor_id
        await self.seams.presence.attach(account_id, visitor_id, conn.tab_id)
        effects = core.tab_attached(state, hello, new_visit=new_visit, now=now, ip_hash=conn.ip_hash)
        # Skip the query when there is surely no conversation (hellos dominate when many arrive at once).
        messages = (
            []
            if state.has_messages is False
            else await self.store.messages(account_id, visitor_id, limit=WELCOME_MESSAGES)
        )
        agents_online = await self.seams.presence.agents(account_id) > 0
        welcome, undelivered = core.welcome(state, messages, agents_online=agents_online, now=now)
        conn.welcomed(welcome)
        effects.store.add("has_messages")
        await self._apply(account_id, state, visitor_id, effects)
        if undelivered:
            await self.store.mark_messages(account_id, visitor_id, undelivered, delivered_at=now)
            deltas = core.messages_updated(visitor_id, undelivered, delivered_at=now)
            await self._apply(account_id, None, visitor_id, Effects(deltas=deltas))
        await self.evaluate_rules(account, visitor_id, state)
        await bots.trigger(self, account, visitor_id, "rule")
        return True

    def _place(self, hello: VisitorHello, ip: str | None, user_agent: str) -> core.Place:
        location = self.geo.locate(ip=ip, timezone=hello.timezone, language=hello.language)
        client = parse_user_agent(user_agent)
        return core.Place(
            country_code=location.country_code,
            country=location.country,
            city=location.city,
            browser=client.browser,
            os=client.os,
            device=client.device,
        )

    async def visitor_event(self, account: AccountState, conn: VisitorConn, message: VisitorToServer) -> None:
        """Apply one frame of a widget that has said hello."""
        visitor_id = conn.visitor_id
        if visitor_id is None or conn.outbox.closing:
            return
        account_id = account.row.id
        now = self.clock()
        match message:
            case Leave():
                conn.outbox.close(1000, "bye")
                await self.visitor_disconnected(account, conn)
                return
            case VisitorHello():
                conn.send(Error(code=ErrorCode.BAD_FRAME, message="hello was already sent on this socket"))
                return
            case OfflineMessage():
                await self.team.offline_message(account, conn, message)
                return
        match message:
            case Activity():
                every = self.settings.activity_publish_seconds
                await self._change(
                    account_id, visitor_id, lambda s: core.activity(s, message.kind, now=now, publish_every=every)
                )
                return
            case PageView():
                url, title = message.url, message.title
                state = await self._change(account_id, visitor_id, lambda s: core.page_view(s, url, title, now=now))
                if state is not None:
                    await self.evaluate_rules(account, visitor_id, state)
                    await bots.trigger(self, account, visitor_id, "rule")
                return
        state = await self._state(account_id, visitor_id)
        if state is None or state.record.banned:
            return  # banned (its sockets are closing on every process): nothing is stored
        match message:
            case VisitorChat():
                await self._visitor_chat(account, conn, visitor_id, message)
            case VisitorTyping():
                await self._apply(account_id, None, visitor_id, core.visitor_typing(visitor_id, message.typing))
            case Read():
                ids = await self.store.unread_ids(account_id, visitor_id, authors=("agent", "auto", "bot"))
                await self.store.mark_messages(account_id, visitor_id, ids, read_at=now)
                await self._apply(account_id, None, visitor_id, core.read_by_visitor(visitor_id, ids, now=now))
            case Identify():
                await self.identify(account, visitor_id, message)
            case ChatOpened():
                await bots.trigger(self, account, visitor_id, "chat_opened_offline")

    async def _visitor_chat(
        self, account: AccountState, conn: VisitorConn, visitor_id: str, request: VisitorChat
    ) -> None:
        account_id = account.row.id
        now = self.clock()
        message = ChatMessage(
            id=request.id, visitor_id=visitor_id, author="visitor", text=request.text, sent_at=now, delivered_at=now
        )
        offline = await self.seams.presence.agents(account_id) == 0
        stored, new = await self.store.add_message(account_id, message, offline=offline)
        state = await self._state(account_id, visitor_id)
        if state is None or state.record.banned:
            return
        conn.send(Ack(id=stored.id))
        if not new:
            return
        if await bots.visitor_wrote(self, account, visitor_id, state, stored, from_tab=conn.tab_id):
            return
        effects = core.visitor_message(state, stored, from_tab=conn.tab_id, now=now)
        await self._apply(account_id, state, visitor_id, effects)
        await self.team.visitor_wrote(account_id, state)

    async def visitor_disconnected(self, account: AccountState, conn: VisitorConn) -> None:
        """A widget socket closed; the visitor goes offline when it was its last tab on any process."""
        visitor_id = conn.visitor_id
        conn.visitor_id = None
        if visitor_id is None:
            return
        account_id = account.row.id
        tabs = account.tabs.get(visitor_id)
        if tabs is None or conn not in tabs:
            return
        tabs.remove(conn)
        if not tabs:
            del account.tabs[visitor_id]
            self._cache.forget((account_id, visitor_id))
        if self._closing:
            return
        if await self.seams.presence.detach(account_id, visitor_id, conn.tab_id):
            return
        await self._went_offline(account_id, visitor_id)

    async def _went_offline(self, account_id: int, visitor_id: str) -> None:
        state = await self._state(account_id, visitor_id)
        if state is None or state.record.banned:
            return
        await self._apply(account_id, state, visitor_id, core.last_tab_closed(state, now=self.clock()))

    def _cancel_leave(self, account_id: int, visitor_id: str) -> None:
        timer = self._leave_timers.pop((account_id, visitor_id), None)
        if timer is not None:
            timer.cancel()

    def _schedule_leave(self, account_id: int, visitor_id: str) -> None:
        self._cancel_leave(account_id, visitor_id)
        self._leave_timers[(account_id, visitor_id)] = asyncio.get_running_loop().call_later(
            self.settings.leave_grace_seconds, self._leave_due, account_id, visitor_id
        )

    def _leave_due(self, account_id: int, visitor_id: str) -> None:
        self._leave_timers.pop((account_id, visitor_id), None)
        self._spawn(self._expire(account_id, visitor_id))

    async def _expire(self, account_id: int, visitor_id: str) -> None:
        presence = self.seams.presence
        fields = await presence.load(account_id, visitor_id, _LEAVING_FIELDS)
        state = decode_state(fields, trail=False) if fields is not None else None
        if state is None or state.record.banned:
            return
        # A little under the grace period: a timer may fire a hair early by the presence's clock.
        grace = self.settings.leave_grace_seconds
        if not await presence.expire(account_id, visitor_id, grace - min(0.05, grace / 2)):
            return
        self._cache.forget((account_id, visitor_id))
        forget = core.forgotten_on_leaving(state)
        await self._apply(account_id, None, visitor_id, core.visitor_left(visitor_id, now=self.clock(), forget=forget))
        if forget:
            # No consent: nothing about the visit is kept once they are gone.
            task = asyncio.get_running_loop().create_task(self._forget(account_id, visitor_id))
            self._forgetting.add(task)
            task.add_done_callback(self._forgetting.discard)

    async def _forget(self, account_id: int, visitor_id: str) -> None:
        try:
            await self.writer.drain()  # the visit's own row write comes first
            # Back in the meantime, or a conversation from an earlier page of the session: keep them.
            if await self.seams.presence.load(account_id, visitor_id, ["visit"]) is None and not (
                await self.store.messages(account_id, visitor_id, limit=1)
            ):
                await self.store.erase_visitor(account_id, visitor_id)
                await self.bots.store.forget_visitor(account_id, visitor_id)
        except Exception:
            log.exception("forgetting a session-only visitor failed")

    async def erase_visitor(self, account_id: int, visitor_id: str) -> bool:
        """Erase a visitor from SQL, presence and the replay history, keeping only what a ban needs.

        Agents see the visitor leave, or (while still on the site, or banned) become anonymous.
        """
        await self.writer.drain()  # a queued write must not bring the row back
        erased = await self.store.erase_visitor(account_id, visitor_id)
        await self.bots.store.forget_visitor(account_id, visitor_id)  # the bot's run holds their answers
        state = await self._state(account_id, visitor_id)
        if state is None:
            await self._forget_log(account_id)
            return erased
        has_tabs = await self.seams.presence.tabs(account_id, visitor_id) > 0
        if has_tabs or state.record.banned:
            now = self.clock()
            fresh, effects = core.erased(state, has_tabs=has_tabs, now=now)
            if has_tabs and not state.record.banned:
                # Still on the site: SQL follows presence again, as a visitor first seen now.
                self.writer.visit(
                    VisitorRow(
                        account_id=account_id,
                        id=visitor_id,
                        first_seen_at=now,
                        last_seen_at=now,
                        session_only=fresh.record.session_only,
                    )
                )
            await self._apply(account_id, fresh, visitor_id, effects)
        else:
            self._cancel_leave(account_id, visitor_id)
            await self.seams.presence.remove(account_id, visitor_id)
            self._cache.forget((account_id, visitor_id))
            gone = core.visitor_left(visitor_id, now=self.clock(), forget=True)
            await self._apply(account_id, None, visitor_id, gone)
        await self._forget_log(account_id)
        return True

    async def _forget_log(self, account_id: int) -> None:
        # Replayable deltas hold the visitor's identity and messages: the log forgets them all, last, so
        # that an agent resuming from before the erasure always gets a fresh snapshot (the erasure's own
        # deltas went out live; had they stayed in the log, a resume could continue right after them).
        await self.seams.log.forget(account_id)

    async def _erase_requested(self, message: EraseVisitorLive) -> None:
        """An erasure from the command line (:class:`EraseVisitorLive`), on a process holding the account.

        Of the processes holding the visitor's tabs (any, when none does) the one that claims the request
        erases presence and the log, so agents see it once; every other one only keeps a queued write of
        its own from bringing SQL rows back.
        """
        account_id, visitor_id = message.account_id, message.visitor_id
        account = self._accounts.get(account_id)
        if account is None:
            return
        holds = visitor_id in account.tabs or await self.seams.presence.tabs(account_id, visitor_id) == 0
        job = f"erase|{account_id}|{visitor_id}|{message.request}"
        if holds and await self.seams.presence.claim(job, ERASE_CLAIM_SECONDS):
            await self.erase_visitor(account_id, visitor_id)
        else:
            await self.writer.drain()
            await self.store.erase_visitor(account_id, visitor_id)

    async def visitor_record(self, account_id: int, visitor_id: str) -> Visitor | None:
        """A present visitor's whole record (with its trail), or None (for an export)."""
        state = await self._state(account_id, visitor_id)
        return None if state is None else state.record

    async def present_ids(self, account_id: int) -> set[str]:
        """Every visitor of the account in presence now (on any process)."""
        ids: set[str] = set()
        cursor = ""
        while True:
            page = await self.seams.presence.scan(account_id, cursor, SNAPSHOT_PAGE)
            ids.update(visitor_id for visitor_id, _fields in page.visitors)
            if not page.cursor:
                return ids
            cursor = page.cursor

    async def identify(self, account: AccountState, visitor_id: str, fields: Any) -> bool:
        """Store a visitor's name, e-mail, phone and custom fields and make them a customer."""
        account_id = account.row.id
        state = await self._state(account_id, visitor_id)
        custom_before: dict[str, str] = {}
        if state is None:
            row = await self.store.visitor(account_id, visitor_id)
            if row is None:
                return False
            custom_before = row.custom
        await self._apply(account_id, state, visitor_id, core.identify(state, fields, custom_before=custom_before))
        return True

    # ------------------------------------------------------------------ automatic messages

    async def evaluate_rules(self, account: AccountState, visitor_id: str, state: VisitorState | None = None) -> None:
        """Send the first matching automatic message that has not fired for this visitor yet (on any process)."""
        if not account.rules:
            return
        account_id = account.row.id
        if state is None:
            state = await self._state(account_id, visitor_id)
            if state is None:
                return
        agents_online = await self.seams.presence.agents(account_id) > 0
        while True:
            now = self.clock()
            rule = core.rule_to_fire(
                account.rules,
                state,
                plan=account.row.plan,
                agents_online=agents_online,
                has_tabs=bool(account.tabs.get(visitor_id)),
                now=now,
            )
            if rule is None:
                return
            message = core.auto_message(account_id, state, rule, now=now)
            fired = await self.store.fire_rule(account_id, rule.id, message)
            fresh = await self._state(account_id, visitor_id)
            if fresh is None:
                return
            fresh.fired |= state.fired
            state = fresh
            if fired:
                await self._apply(account_id, state, visitor_id, core.auto_message_sent(state, message))
                return
            await self._apply(account_id, state, visitor_id, Effects(store={"fired"}))

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

    async def _renew_forever(self) -> None:
        # Apart from the tick: a tick over thousands of visitors' rules must not push the renewal past the
        # lease (a survivor would take this live process for dead and drop its visitors).
        every = min(self.settings.rule_tick_seconds, self.settings.lease_seconds / 4)
        while True:
            await asyncio.sleep(every)
            try:
                if await self.seams.presence.heartbeat():
                    self._presence_lost()
            except Exception:
                log.exception("renewing this process's lease failed")

    def _presence_lost(self) -> None:
        """Redis lost the shared state: every socket of this process reconnects and registers again."""
        for account in self._accounts.values():
            for conn in list(account.agents):
                conn.outbox.close(1012, "the live state was reset; reconnect")
            for tabs in account.tabs.values():
                for tab in tabs:
                    tab.outbox.close(1012, "the live state was reset; reconnect")

    async def _tick(self, *, refresh: bool) -> None:
        presence = self.seams.presence
        await self.team.tick()
        for account_id, visitor_id in await presence.reap():
            # Its tabs were on a process that died: offline now, leaving after the grace period.
            if await self.account(account_id) is not None:
                await self._went_offline(account_id, visitor_id)
        for account in list(self._accounts.values()):
            if refresh:
                await self._reload_account(account.row.id)
            if await self.bots.time_based(account.row.id):
                for visitor_id in list(account.tabs):
                    await bots.trigger(self, account, visitor_id, "rule")
            if not account.time_rules or not await presence.agents(account.row.id):
                continue
            for visitor_id in list(account.tabs):
                await self.evaluate_rules(account, visitor_id)

    # ------------------------------------------------------------------ figures

    def sockets(self) -> tuple[int, int]:
        """This process's open agent and visitor sockets (read by /metrics without awaiting)."""
        accounts = self._accounts.values()
        return sum(len(a.agents) for a in accounts), sum(len(t) for a in accounts for t in a.tabs.values())

    async def counts(self) -> dict[str, int]:
        """This process's agent sockets and the visitors present (for health and logs)."""
        return {
            "agents": sum(len(a.agents) for a in self._accounts.values()),
            "visitors": await self.seams.presence.count(),
        }
