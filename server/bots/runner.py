"""Runs bots for live visitors: triggers, answers and take-overs in, effects out through a port.

The live hub implements :class:`BotPort` (send a message, store fields, change the chat) and calls the
runner at its events; the runner keeps each visitor's run in SQL (:class:`BotStore`), so a visitor whose
tabs sit on two processes is served by one run: its start is claimed once, its state is versioned, and an
agent's take-over wins over a bot step racing it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Final, Protocol

from protocol.bots.engine import (
    Answered,
    BotSays,
    BotState,
    CloseChat,
    HandOverToAgent,
    Outcome,
    StoreAnswer,
    advance,
    facts_of,
    start,
)
from protocol.bots.flow import BotRun, Flow, TriggerKind, bots_allowed
from protocol.messages import ChatMessage, Visitor
from protocol.rules import Plan
from server.bots.store import BotStore, StoredRun
from server.bots.triggers import CompiledFlow, compile_flow, due, time_based

FLOWS_TTL_SECONDS: Final = 5.0
"""How long a process trusts its copy of an account's flows (another process may have changed them)."""


def bot_message_id(run: int, n: int) -> str:
    """The id of the ``n``-th message of a visitor's ``run``-th bot run: a retry stores it once."""
    return f"bot-{run:04d}-{n:04d}"


class BotPort(Protocol):
    """What the runner asks of the live hub."""

    async def bot_message(self, account_id: int, visitor_id: str, message: ChatMessage) -> None:
        """Store a bot message (idempotent by id) and deliver it to the visitor's tabs and the agents."""
        ...

    async def bot_answers(self, account_id: int, visitor_id: str, values: dict[str, str]) -> None:
        """Store collected answers: ``name``, ``email``, ``phone`` into the visitor's fields, others as custom."""
        ...

    async def bot_hand_over(self, account_id: int, visitor_id: str) -> None:
        """The chat becomes unanswered and agents are alerted, as for any new chat."""
        ...

    async def bot_close(self, account_id: int, visitor_id: str) -> None:
        """The bot ends the conversation."""
        ...

    async def bot_run(self, account_id: int, visitor_id: str, run: BotRun) -> None:
        """Show the bot's state and answers on the visitor's record."""
        ...


@dataclass(slots=True)
class _Flows:
    loaded_at: float
    compiled: list[CompiledFlow]
    by_id: dict[int, Flow]


def _retrieved(future: asyncio.Future[Any]) -> None:
    """Mark a shared read's failure as seen: its callers got it, and one that gave up does not need it."""
    if not future.cancelled():
        future.exception()


class BotRunner:
    """Starts and advances bots; one per server process."""

    def __init__(self, store: BotStore, port: BotPort, clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.port = port
        self.clock = clock
        self._flows: dict[int, _Flows] = {}
        self._loading: dict[int, asyncio.Future[_Flows]] = {}
        """The read of an account's flows under way: every caller meanwhile shares it (one query, not one per
        hello when the cache runs out during a reconnect storm)."""
        self._changes = 0
        self._locks: dict[tuple[int, str], list[Any]] = {}

    # ------------------------------------------------------------ flows

    def flows_changed(self, account_id: int) -> None:
        """Forget the account's flows (they are read again on the next event)."""
        self._changes += 1
        self._flows.pop(account_id, None)
        self._loading.pop(account_id, None)  # a read under way may predate the change: the next caller reads anew

    async def _account_flows(self, account_id: int) -> _Flows:
        cached = self._flows.get(account_id)
        if cached is not None and time.monotonic() - cached.loaded_at <= FLOWS_TTL_SECONDS:
            return cached
        loading = self._loading.get(account_id)
        if loading is None:
            loading = asyncio.ensure_future(self._read_flows(account_id))
            loading.add_done_callback(_retrieved)
            self._loading[account_id] = loading
        return await asyncio.shield(loading)  # a caller that gives up does not cancel the others' read

    async def _read_flows(self, account_id: int) -> _Flows:
        changes = self._changes
        try:
            flows = await self.store.flows(account_id)
        finally:
            if self._changes == changes:
                self._loading.pop(account_id, None)
        read = _Flows(
            loaded_at=time.monotonic(),
            compiled=[compile_flow(f) for f in flows if f.spec.enabled],
            by_id={f.id: f for f in flows},
        )
        if self._changes == changes:
            self._flows[account_id] = read
        return read

    async def has_triggers(self, account_id: int, kind: TriggerKind) -> bool:
        """Whether some enabled flow of the account starts on ``kind`` (cheap: the flows are cached)."""
        flows = await self._account_flows(account_id)
        return any(f.flow.spec.trigger.kind == kind for f in flows.compiled)

    async def time_based(self, account_id: int) -> bool:
        """Whether some rule-triggered flow of the account can start without a new event (time on page)."""
        return time_based((await self._account_flows(account_id)).compiled)

    # ------------------------------------------------------------ events

    @asynccontextmanager
    async def _serial(self, account_id: int, visitor_id: str) -> AsyncIterator[None]:
        """One event of a visitor at a time in this process (other processes are fenced by the run's version)."""
        key = (account_id, visitor_id)
        entry = self._locks.get(key)
        if entry is None:
            entry = self._locks[key] = [asyncio.Lock(), 0]
        lock, _ = entry
        entry[1] += 1
        try:
            async with lock:
                yield
        finally:
            entry[1] -= 1
            if not entry[1]:
                del self._locks[key]

    async def trigger(
        self, account_id: int, plan: Plan, kind: TriggerKind, visitor: Visitor, *, agents_online: bool
    ) -> bool:
        """Start the first due flow for the visitor; True when a bot started (it has said its first lines)."""
        if not bots_allowed(plan) or visitor.banned:
            return False
        flows = await self._account_flows(account_id)
        if not any(f.flow.spec.trigger.kind == kind for f in flows.compiled):
            return False
        if visitor.chat_status == "active":
            return False  # an agent is already talking to the visitor
        if visitor.bot is not None and visitor.bot.status == "running":
            return False
        # Pure checks first: the timer asks for every visitor each tick, and most match no flow at all.
        if due(flows.compiled, kind, visitor, self.clock(), agents_online=agents_online, fired=frozenset()) is None:
            return False
        async with self._serial(account_id, visitor.id):
            current = await self.store.run(account_id, visitor.id)
            if current is not None and current.state.status == "running":
                return False
            fired = await self.store.fired(account_id, visitor.id)
            flow = due(flows.compiled, kind, visitor, self.clock(), agents_online=agents_online, fired=fired)
            if flow is None:
                return False
            outcome = start(flow.spec, flow.id, facts_of(visitor, agents_online=agents_online))
            claimed = await self.store.claim(account_id, visitor.id, flow, outcome.state)
            if claimed is None:
                return False  # another process (or tab) started it first
            await self._effects(account_id, visitor.id, flow, claimed, outcome)
            return True

    async def visitor_wrote(
        self, account_id: int, plan: Plan, visitor: Visitor, text: str, *, agents_online: bool
    ) -> bool:
        """The visitor's message (typed or a quick reply's label): True when a running bot took it as an answer.

        Otherwise the visitor's first message may start a bot (``first_message``); the hub then treats the
        message as usual (the chat becomes unanswered) unless a bot started.
        """
        if visitor.bot is not None and visitor.bot.status == "running":
            async with self._serial(account_id, visitor.id):
                if await self._answer(account_id, visitor, text, agents_online=agents_online):
                    return True
        if visitor.chat_status in ("none", "closed"):
            return await self.trigger(account_id, plan, "first_message", visitor, agents_online=agents_online)
        return False

    async def _answer(self, account_id: int, visitor: Visitor, text: str, *, agents_online: bool) -> bool:
        current = await self.store.run(account_id, visitor.id)
        if current is None or current.state.status != "running":
            return False
        flows = await self._account_flows(account_id)
        flow = flows.by_id.get(current.state.flow_id) or await self.store.get(account_id, current.state.flow_id)
        facts = facts_of(visitor, agents_online=agents_online)
        if flow is None:
            # The flow was deleted under a running bot: a person takes the conversation.
            stopped = await self.store.stop(account_id, visitor.id, status="handed_over")
            if stopped is not None:
                await self.port.bot_run(account_id, visitor.id, _run_of(stopped.state, "deleted bot"))
                await self.port.bot_hand_over(account_id, visitor.id)
            return True
        outcome = advance(flow.spec, current.state, Answered(text=text, facts=facts))
        saved = await self.store.save(account_id, visitor.id, current, outcome.state)
        if saved is None:
            return False  # taken over (or advanced elsewhere) meanwhile: the message is the visitor's as usual
        await self._effects(account_id, visitor.id, flow, saved, outcome)
        return True

    async def taken_over(self, account_id: int, visitor_id: str) -> bool:
        """An agent took the conversation: the bot stops at once (True when one was running)."""
        stopped = await self.store.stop(account_id, visitor_id)
        if stopped is None:
            return False
        flows = await self._account_flows(account_id)
        flow = flows.by_id.get(stopped.state.flow_id)
        await self.port.bot_run(account_id, visitor_id, _run_of(stopped.state, flow.spec.name if flow else "bot"))
        return True

    # ------------------------------------------------------------ effects

    async def _effects(self, account_id: int, visitor_id: str, flow: Flow, run: StoredRun, outcome: Outcome) -> None:
        port = self.port
        await port.bot_run(account_id, visitor_id, _run_of(outcome.state, flow.spec.name))
        for effect in outcome.effects:
            if isinstance(effect, BotSays):
                now = self.clock()
                message = ChatMessage(
                    id=bot_message_id(run.run, effect.n),
                    visitor_id=visitor_id,
                    author="bot",
                    text=effect.text,
                    sent_at=now,
                    agent_name=flow.spec.name,
                    replies=effect.replies,
                )
                await port.bot_message(account_id, visitor_id, message)
            elif isinstance(effect, StoreAnswer):
                await port.bot_answers(account_id, visitor_id, {effect.variable: effect.value})
            elif isinstance(effect, HandOverToAgent):
                # The hand-over is a moment of the conversation, not a bot line: a system message marks it.
                notice = ChatMessage(
                    id=bot_message_id(run.run, effect.n),
                    visitor_id=visitor_id,
                    author="system",
                    text=effect.text,
                    sent_at=self.clock(),
                )
                await port.bot_message(account_id, visitor_id, notice)
                await port.bot_hand_over(account_id, visitor_id)
            elif isinstance(effect, CloseChat):
                await port.bot_close(account_id, visitor_id)


def _run_of(state: BotState, flow_name: str) -> BotRun:
    return BotRun(flow_id=state.flow_id, flow_name=flow_name, status=state.status, answers=dict(state.answers))
