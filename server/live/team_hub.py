"""The asyncio adapter of the team layer, beside the hub: status, presence, claims, notes, canned, alerts.

Cross-process: every process keeps a :class:`~server.live.team.TeamReplica` per account, fed by
``TeamConn`` control messages (each process announces its own agent sockets on change and every
few seconds); status changes travel as ``AgentStatus``; frames for agents as ``TeamFrame``. Who
holds a chat is settled in SQL (``chat_claims``), so two processes cannot both win an open.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Set as AbstractSet
from typing import TYPE_CHECKING, Any, Final

import msgspec

from protocol.codec import encode
from protocol.messages import (
    AddNote,
    AgentStatus,
    CannedResponses,
    DeleteCannedResponse,
    ErrorCode,
    GetCannedResponses,
    GetNotes,
    Identify,
    Note,
    Notes,
    OfflineMessage,
    Result,
    SaveCannedResponse,
    SetStatus,
    SetViewing,
    TakeOver,
    TeamRequest,
    TransferChat,
    VisitorChat,
    VisitorPresence,
)
from server.live import core, team
from server.live.core import RefusedError
from server.live.record import VisitorState
from server.live.seams import AgentStatus as StatusControl
from server.live.seams import Control, TeamConn, TeamFrame
from server.live.team import ConnInfo, TeamChange, TeamReplica
from server.team_store import DuplicateShortcutError, PendingAlert, TeamStore

if TYPE_CHECKING:
    from server.live.hub import AccountState, AgentConn, Hub, VisitorConn

log = logging.getLogger(__name__)

ANNOUNCE_EVERY: Final = 10.0
"""Seconds between re-announcements of this process's agent sockets (see ``team.ANNOUNCE_TTL``)."""


def may_manage_canned(conn: AgentConn) -> bool:
    """Whether this agent may change the account's canned responses (admins only; the one place the check lives)."""
    return conn.agent.role == "admin"


class TeamHub:
    """The team layer of one server process."""

    def __init__(self, hub: Hub, store: TeamStore) -> None:
        self.hub = hub
        self.store = store
        self.replicas: dict[int, TeamReplica] = {}
        self.local: dict[str, AgentConn] = {}
        """This process's agent sockets by connection id."""
        self._info: dict[str, ConnInfo] = {}
        """What this process announces for each of its sockets."""
        self._attached: set[str] = set()
        """Sockets counted as Online in the shared presence (the "agents online" of automatic messages)."""
        self._members: dict[int, dict[int, tuple[str, AgentStatus]]] = {}
        self._alerts: dict[tuple[int, str], asyncio.TimerHandle] = {}
        self._announced_at = 0.0

    def replica(self, account_id: int) -> TeamReplica:
        """This process's copy of an account's agent sockets."""
        replica = self.replicas.get(account_id)
        if replica is None:
            replica = self.replicas[account_id] = TeamReplica()
        return replica

    async def load_account(self, account_id: int) -> None:
        """Read the account's agents and their status once (connecting agents then need no query)."""
        self._members[account_id] = await self.store.statuses(account_id)

    async def members(
        self, account_id: int, *, including: AbstractSet[int] = frozenset()
    ) -> dict[int, tuple[str, AgentStatus]]:
        """The account's agents and their status (cached; status changes arrive as control messages).

        An agent the cache does not know yet (added after it was read) makes it read again.
        """
        known = self._members.get(account_id)
        if known is None or not including <= known.keys():
            known = self._members[account_id] = await self.store.statuses(account_id)
        return known

    # ------------------------------------------------------------ connections

    async def count_in(self, conn: AgentConn) -> None:
        """Before the hello: the socket counts as "agents online" if the agent's status is Online."""
        agent = conn.agent
        members = await self.members(conn.account_id)
        known = members.get(agent.id)
        status = known[1] if known is not None else await self.store.status(agent.id)
        members[agent.id] = (agent.name, status)
        self.local[conn.conn_id] = conn
        info = ConnInfo(agent.id, agent.name, status, seen_at=self.hub.clock())
        self._info[conn.conn_id] = info
        self.replica(conn.account_id).announce(conn.conn_id, info)
        if status == "online":
            await self._attach(conn)

    async def agent_connected(self, conn: AgentConn) -> None:
        """After the snapshot: announce the socket to every process, send the team and who is on whom."""
        account_id = conn.account_id
        members = await self.members(account_id)
        await self._announce(conn)
        replica = self.replica(account_id)
        conn.send(replica.team(members))
        for visitor_id in sorted(replica.watched()):
            state = await self.hub._state(account_id, visitor_id)
            conn.send(replica.presence(visitor_id, team.holder_of(state)))
        conn.send(CannedResponses(responses=await self.store.canned(account_id)))

    async def agent_disconnected(self, conn: AgentConn) -> None:
        """A socket closed: it no longer counts, and the other processes forget it."""
        self.local.pop(conn.conn_id, None)
        info = self._info.pop(conn.conn_id, None)
        await self._detach(conn)
        if info is not None and not self.hub._closing:
            await self.hub.seams.control.publish(
                TeamConn(
                    account_id=conn.account_id,
                    conn_id=conn.conn_id,
                    agent_id=info.agent_id,
                    agent_name=info.agent_name,
                    status=info.status,
                    gone=True,
                )
            )

    async def _attach(self, conn: AgentConn) -> None:
        if conn.conn_id in self._attached:
            return
        self._attached.add(conn.conn_id)
        if await self.hub.seams.presence.agent_attach(conn.account_id, conn.conn_id) == 1 and not self.hub._closing:
            await self.hub._agents_online_changed(conn.account_id, True)

    async def _detach(self, conn: AgentConn) -> None:
        if conn.conn_id not in self._attached:
            return
        self._attached.discard(conn.conn_id)
        if await self.hub.seams.presence.agent_detach(conn.account_id, conn.conn_id) == 0 and not self.hub._closing:
            await self.hub._agents_online_changed(conn.account_id, False)

    async def _announce(self, conn: AgentConn) -> None:
        info = self._info.get(conn.conn_id)
        if info is None:
            return
        info.seen_at = self.hub.clock()
        await self.hub.seams.control.publish(
            TeamConn(
                account_id=conn.account_id,
                conn_id=conn.conn_id,
                agent_id=info.agent_id,
                agent_name=info.agent_name,
                status=info.status,
                viewing=info.viewing,
                typing=tuple(sorted(info.typing)),
            )
        )

    # ------------------------------------------------------------ control messages (every process)

    def on_control(self, message: Control) -> None:
        """Keep the replica current and tell this process's agents what changed."""
        match message:
            case TeamConn():
                replica = self.replica(message.account_id)
                if message.gone:
                    change = replica.remove(message.conn_id)
                else:
                    status: AgentStatus = "away" if message.status == "away" else "online"
                    info = ConnInfo(
                        message.agent_id,
                        message.agent_name,
                        status,
                        viewing=tuple(message.viewing),
                        typing=frozenset(message.typing),
                        seen_at=self.hub.clock(),
                    )
                    change = replica.announce(message.conn_id, info)
                self._changed(message.account_id, change)
            case StatusControl():
                status = "away" if message.status == "away" else "online"
                members = self._members.get(message.account_id)
                if members is not None and message.agent_id in members:
                    members[message.agent_id] = (members[message.agent_id][0], status)
                for info in (i for c, i in self._info.items() if self.local[c].agent.id == message.agent_id):
                    info.status = status
                self.replica(message.account_id).set_status(message.agent_id, status)
                self.hub._spawn(self._status_applied(message.account_id, message.agent_id, status))
            case TeamFrame():
                self._push(
                    message.account_id, message.frame, online_only=message.online_only, agent_id=message.agent_id
                )
            case _:
                pass

    def _changed(self, account_id: int, change: TeamChange) -> None:
        if not change.visitors and not change.members:
            return
        if not any(c.account_id == account_id for c in self.local.values()):
            return  # nobody here to tell
        self.hub._spawn(self._tell(account_id, change))

    async def _tell(self, account_id: int, change: TeamChange) -> None:
        replica = self.replica(account_id)
        for visitor_id in sorted(change.visitors):
            state = await self.hub._state(account_id, visitor_id)
            self._push(account_id, encode(replica.presence(visitor_id, team.holder_of(state))).decode())
        if change.members:
            agents = {info.agent_id for info in replica.conns.values()}
            self._push(account_id, encode(replica.team(await self.members(account_id, including=agents))).decode())

    async def _status_applied(self, account_id: int, agent_id: int, status: AgentStatus) -> None:
        for conn in [c for c in self.local.values() if c.agent.id == agent_id]:
            if status == "online":
                await self._attach(conn)
            else:
                await self._detach(conn)
        if any(c.account_id == account_id for c in self.local.values()):
            replica = self.replica(account_id)
            members = await self.members(account_id, including={agent_id})
            members[agent_id] = (members[agent_id][0], status)
            self._push(account_id, encode(replica.team(members)).decode())

    def _push(self, account_id: int, frame: str, *, online_only: bool = False, agent_id: int | None = None) -> None:
        for conn in list(self.local.values()):
            if conn.account_id != account_id or conn.sync.syncing or conn.outbox.closing:
                continue
            if agent_id is not None and conn.agent.id != agent_id:
                continue
            info = self._info.get(conn.conn_id)
            if online_only and (info is None or info.status != "online"):
                continue
            conn.outbox.push(frame)

    async def publish(
        self, account_id: int, message: msgspec.Struct, *, online_only: bool = False, agent_id: int | None = None
    ) -> None:
        """Send an ephemeral frame to the account's agents on every process."""
        await self.hub.seams.control.publish(
            TeamFrame(account_id=account_id, frame=encode(message).decode(), online_only=online_only, agent_id=agent_id)
        )

    async def presence_changed(self, account_id: int, visitor_id: str, state: VisitorState | None) -> None:
        """The chat's holder changed: every agent's view of who is on the visitor changes."""
        presence: VisitorPresence = self.replica(account_id).presence(visitor_id, team.holder_of(state))
        await self.publish(account_id, presence)

    # ------------------------------------------------------------ periodic work

    async def tick(self) -> None:
        """Re-announce this process's sockets now and then; forget sockets of processes that died."""
        now = self.hub.clock()
        if now - self._announced_at >= ANNOUNCE_EVERY:
            self._announced_at = now
            for conn in list(self.local.values()):
                await self._announce(conn)
            for account_id in {c.account_id for c in self.local.values()}:
                self._members[account_id] = await self.store.statuses(account_id)  # new agents, new names
        for account_id, replica in self.replicas.items():
            self._changed(account_id, replica.expire(now))
        await self.fire_due_alerts()

    def stop(self) -> None:
        """No more alerts."""
        for timer in self._alerts.values():
            timer.cancel()
        self._alerts.clear()

    # ------------------------------------------------------------ presence of this process's agents

    async def typing(self, conn: AgentConn, visitor_id: str, typing: bool) -> None:
        """The agent started or stopped typing to a visitor."""
        info = self._info.get(conn.conn_id)
        if info is None:
            return
        before = info.typing
        info.typing = before | {visitor_id} if typing else before - {visitor_id}
        if info.typing != before:
            await self._announce(conn)

    # ------------------------------------------------------------ claims (collision guard)

    async def claim(self, conn: AgentConn, account: AccountState, state: VisitorState) -> None:
        """Hold the chat for this agent or refuse naming the holder; exactly one of simultaneous opens wins."""
        agent = conn.agent
        core.check_agent_message(state, account.row.plan)
        team.check_not_held(state, agent.id)
        lost = await self.store.claim(account.row.id, state.record.id, agent.id, agent.name)
        if lost is not None:
            raise team.held_error(lost.agent_name)
        if state.record.chat_status == "unanswered":
            await self._cancel_alert(account.row.id, state.record.id)  # answered: it no longer waits

    async def release(self, account_id: int, visitor_id: str) -> None:
        """The chat ended: nobody holds it."""
        await self.store.release(account_id, visitor_id)
        await self._cancel_alert(account_id, visitor_id)

    # ------------------------------------------------------------ requests

    async def request(self, conn: AgentConn, account: AccountState, message: TeamRequest) -> msgspec.Struct | None:
        """Handle one team request; refusals raise RefusedError."""
        account_id = account.row.id
        match message:
            case SetViewing():
                info = self._info.get(conn.conn_id)
                viewing = team.viewing_list(message.visitor_ids)
                if info is not None and info.viewing != viewing:
                    info.viewing = viewing
                    await self._announce(conn)
                return None
            case SetStatus():
                await self.store.set_status(conn.agent.id, message.status)
                await self.hub.seams.control.publish(
                    StatusControl(account_id=account_id, agent_id=conn.agent.id, status=message.status)
                )
                return Result(ref=message.ref)
            case TakeOver():
                await self._take_over(conn, account, message.visitor_id)
                return Result(ref=message.ref)
            case TransferChat():
                await self._transfer(conn, account, message)
                return Result(ref=message.ref)
            case AddNote():
                await self.hub._present(account_id, message.visitor_id)
                note = Note(
                    id=message.id,
                    visitor_id=message.visitor_id,
                    text=message.text,
                    created_at=self.hub.clock(),
                    agent_id=conn.agent.id,
                    agent_name=conn.agent.name,
                )
                stored, new = await self.store.add_note(account_id, note)
                if new:
                    await self.hub._apply(account_id, None, message.visitor_id, team.note_added(stored))
                return Result(ref=message.ref)
            case GetNotes():
                await self.hub.history_of(account_id, message.visitor_id)  # the visitor must be the account's
                return Notes(
                    ref=message.ref,
                    visitor_id=message.visitor_id,
                    notes=await self.store.notes(account_id, message.visitor_id),
                )
            case GetCannedResponses():
                return CannedResponses(ref=message.ref, responses=await self.store.canned(account_id))
            case SaveCannedResponse():
                self._may_manage(conn)
                try:
                    saved = await self.store.save_canned(account_id, message.response, message.id)
                except DuplicateShortcutError as exc:
                    raise RefusedError(ErrorCode.BAD_FRAME, str(exc)) from None
                if saved is None:
                    raise RefusedError(ErrorCode.NOT_FOUND, f"no canned response {message.id} in your account")
                await self.canned_changed(account_id)
                return Result(ref=message.ref)
            case DeleteCannedResponse():
                self._may_manage(conn)
                if not await self.store.delete_canned(account_id, message.id):
                    raise RefusedError(ErrorCode.NOT_FOUND, f"no canned response {message.id} in your account")
                await self.canned_changed(account_id)
                return Result(ref=message.ref)
        raise RefusedError(ErrorCode.BAD_FRAME, "unknown request")  # pragma: no cover

    @staticmethod
    def _may_manage(conn: AgentConn) -> None:
        if not may_manage_canned(conn):
            raise RefusedError(ErrorCode.FORBIDDEN, "only an admin of the account may change canned responses")

    async def canned_changed(self, account_id: int) -> None:
        """Every agent gets the new list (REST and websocket changes alike)."""
        await self.publish(account_id, CannedResponses(responses=await self.store.canned(account_id)))

    async def _system_line(self, account_id: int, visitor_id: str, text: str) -> Any:
        line = team.system_line("sys" + secrets.token_hex(12), visitor_id, text, now=self.hub.clock())
        stored, _new = await self.hub.store.add_message(account_id, line)
        return stored

    async def _take_over(self, conn: AgentConn, account: AccountState, visitor_id: str) -> None:
        account_id = account.row.id
        agent = conn.agent
        state = await self.hub._present(account_id, visitor_id)
        core.check_agent_message(state, account.row.plan)
        holder = await self.store.holder(account_id, visitor_id)
        if holder is None or holder.agent_id == agent.id:
            # Nobody (or this agent) holds it: a plain open, nothing to take over.
            await self.claim(conn, account, state)
            fresh = await self.hub._state(account_id, visitor_id) or state
            await self.hub._apply(
                account_id, fresh, visitor_id, core.open_chat(fresh, (agent.id, agent.name), account.row.plan)
            )
            await self.presence_changed(account_id, visitor_id, fresh)
            return
        lost = await self.store.claim(account_id, visitor_id, agent.id, agent.name, replacing=holder.agent_id)
        if lost is not None:
            raise team.held_error(lost.agent_name)  # someone else took it first
        line = await self._system_line(account_id, visitor_id, team.take_over_text(agent.name, holder.agent_name))
        state = await self.hub._present(account_id, visitor_id)
        effects = team.taken_over(state, (agent.id, agent.name), (holder.agent_id, holder.agent_name), line)
        await self.hub._apply(account_id, state, visitor_id, effects)
        await self._cancel_alert(account_id, visitor_id)
        await self.presence_changed(account_id, visitor_id, state)
        await self.hub._audit(conn, "take_over", visitor_id, {"from_agent_id": holder.agent_id})

    async def _transfer(self, conn: AgentConn, account: AccountState, request: TransferChat) -> None:
        account_id = account.row.id
        sender = conn.agent
        state = await self.hub._present(account_id, request.visitor_id)
        members = await self.members(account_id)
        receiver = members.get(request.to_agent_id)
        available = receiver is not None and self.replica(account_id).available(request.to_agent_id)
        team.check_transfer(state, sender.id, request.to_agent_id, receiver_available=available)
        assert receiver is not None
        lost = await self.store.claim(
            account_id, request.visitor_id, request.to_agent_id, receiver[0], replacing=sender.id
        )
        if lost is not None:
            raise team.held_error(lost.agent_name)
        line = await self._system_line(account_id, request.visitor_id, team.transfer_text(sender.name, receiver[0]))
        if request.note:
            note = Note(
                id="tn" + secrets.token_hex(12),
                visitor_id=request.visitor_id,
                text=request.note,
                created_at=self.hub.clock(),
                agent_id=sender.id,
                agent_name=sender.name,
            )
            stored, _new = await self.store.add_note(account_id, note)
            await self.hub._apply(account_id, None, request.visitor_id, team.note_added(stored))
        state = await self.hub._present(account_id, request.visitor_id)
        effects = team.transferred(
            state, (sender.id, sender.name), (request.to_agent_id, receiver[0]), request.note, line
        )
        await self.hub._apply(account_id, state, request.visitor_id, effects)
        await self.presence_changed(account_id, request.visitor_id, state)

    # ------------------------------------------------------------ chats nobody can miss

    async def visitor_wrote(self, account_id: int, state: VisitorState) -> None:
        """A visitor's message: an unanswered chat alerts every online agent again after the account's time.

        The re-alert is kept in SQL (``unanswered_alerts``), so it outlives this process: every process
        looks for due re-alerts at each tick and exactly one fires each. The local timer only makes this
        process fire on time between ticks.
        """
        visitor_id = state.record.id
        if state.record.chat_status != "unanswered" or (account_id, visitor_id) in self._alerts:
            return
        seconds = await self.store.unanswered_alert_seconds(account_id)
        now = self.hub.clock()
        await self.store.arm_alert(account_id, visitor_id, now, now + seconds)
        self._schedule_alert(account_id, visitor_id, seconds)

    def _schedule_alert(self, account_id: int, visitor_id: str, seconds: float) -> None:
        loop = asyncio.get_running_loop()
        self._alerts[(account_id, visitor_id)] = loop.call_later(
            seconds, lambda: self.hub._spawn(self._alert_due(account_id, visitor_id))
        )

    async def _cancel_alert(self, account_id: int, visitor_id: str) -> None:
        timer = self._alerts.pop((account_id, visitor_id), None)
        if timer is not None:
            timer.cancel()
        await self.store.drop_alert(account_id, visitor_id)

    async def _alert_due(self, account_id: int, visitor_id: str) -> None:
        """This process's timer: fire the re-alert if no other process did; then wait for the next one."""
        self._alerts.pop((account_id, visitor_id), None)
        if self.hub._closing:
            return
        alert = await self.store.alert(account_id, visitor_id)
        if alert is None:
            return  # answered, taken or closed meanwhile
        if alert.due_at <= self.hub.clock():
            await self._fire(alert)
        alert = await self.store.alert(account_id, visitor_id)
        if alert is not None and not self.hub._closing:
            self._schedule_alert(account_id, visitor_id, max(0.0, alert.due_at - self.hub.clock()))

    async def fire_due_alerts(self) -> None:
        """Every re-alert that is due, whichever process armed it (it may have died since)."""
        for alert in await self.store.due_alerts(self.hub.clock()):
            if self.hub._closing:
                return
            await self._fire(alert)

    async def _fire(self, alert: PendingAlert) -> None:
        """Alert every online agent again, exactly once across processes, while the chat still waits."""
        seconds = await self.store.unanswered_alert_seconds(alert.account_id)
        if not await self.store.take_alert(alert, self.hub.clock() + seconds):
            return  # another process fired it first
        frame = team.unanswered_alert(await self.hub._state(alert.account_id, alert.visitor_id), alert.waiting_since)
        if frame is None:
            await self.store.drop_alert(alert.account_id, alert.visitor_id)  # answered, taken, closed or gone
            return
        await self.publish(alert.account_id, frame, online_only=True)

    # ------------------------------------------------------------ the widget

    async def offline_message(self, account: AccountState, conn: VisitorConn, message: OfflineMessage) -> None:
        """A message left while nobody was Online: the visitor is identified and the chat waits as unanswered."""
        visitor_id = conn.visitor_id
        if visitor_id is None:
            return
        if message.name.strip() or message.email.strip():
            await self.hub.identify(account, visitor_id, Identify(name=message.name, email=message.email))
        await self.hub._visitor_chat(account, conn, visitor_id, VisitorChat(id=message.id, text=message.text))
