"""Bots in the live hub: bot events as live-core effects (pure functions) and the port the runner drives.

The functions return :class:`~server.live.core.Effects` like the live core's own, so a bot's steps are
deltas like any other; :class:`HubBotPort` loads the visitor's state, calls one and lets the hub apply it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Final

import msgspec

from protocol.bots.flow import VISITOR_FIELDS, BotRun, TriggerKind
from protocol.messages import ChatClosed, ChatMessage, MessageAdded, VisitorMessage
from server.live import core
from server.live.core import Effects, TabFrame
from server.live.record import VisitorState

if TYPE_CHECKING:
    from server.live.hub import AccountState, Hub

BOT_GROUP: Final = "bot"
"""The presence group of ``Visitor.bot``."""


# ---------------------------------------------------------------- pure: bot events as effects


def visitor_answered(state: VisitorState, stored: ChatMessage, *, from_tab: str, now: float) -> Effects:
    """A visitor's message a bot takes: shown and stored like any, but the chat stays with the bot (no alert)."""
    effects = Effects(store={"has_messages"})
    state.has_messages = True
    record = state.record
    effects.tabs.append(TabFrame(VisitorMessage(message=stored), except_tab=from_tab))
    record.last_activity_at = now
    effects.deltas.append(MessageAdded(message=stored))
    effects.changed(state, "activity")
    return effects


def bot_message_sent(state: VisitorState, stored: ChatMessage) -> Effects:
    """A bot message was stored (by this call only): the visitor's tabs and the agents see it."""
    state.has_messages = True
    effects = Effects(store={"has_messages"})
    effects.tabs.append(TabFrame(VisitorMessage(message=stored)))
    effects.deltas.append(MessageAdded(message=stored))
    return effects


def answers_stored(state: VisitorState, values: dict[str, str]) -> Effects:
    """Answers land in the visitor's details: name, e-mail and phone fields, the rest as custom fields.

    Unlike identify, a bot's answers do not make the visitor a customer: the visitor typed them.
    """
    record = state.record
    writes: dict[str, object] = {}
    for name, value in values.items():
        if name in VISITOR_FIELDS:
            setattr(record, name, value)
            writes[name] = value
        else:
            record.custom[name] = value
            writes["custom"] = dict(record.custom)
    record.label = core.label_for(record)
    effects = Effects(writes=writes)
    effects.changed(state, "identity")
    return effects


def handed_over(state: VisitorState) -> Effects:
    """The bot hands over: the chat becomes unanswered, as when a visitor writes first."""
    effects = Effects()
    record = state.record
    if record.chat_status != "active":
        core._set_chat(record, "unanswered", None, effects)
        effects.changed(state, "chat")
    return effects


def bot_closed(state: VisitorState) -> Effects:
    """The bot ends the conversation."""
    effects = Effects()
    core._set_chat(state.record, "closed", None, effects)
    effects.tabs.append(TabFrame(ChatClosed()))
    effects.changed(state, "chat")
    return effects


def bot_changed(state: VisitorState, run: BotRun) -> Effects:
    """The bot's state (and answers) on the visitor's record."""
    effects = Effects()
    if state.record.bot != run:
        state.record.bot = run
        effects.changed(state, BOT_GROUP)
    return effects


def bot_running(state: VisitorState) -> bool:
    """Whether a bot talks with the visitor now."""
    return state.record.bot is not None and state.record.bot.status == "running"


# ---------------------------------------------------------------- the hub's port


class HubBotPort:
    """Carries out the runner's effects through the live hub (presence, SQL, log, sockets)."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub

    async def _apply(self, account_id: int, visitor_id: str, make: Callable[[VisitorState], Effects]) -> None:
        hub = self.hub
        state = await hub._state(account_id, visitor_id)
        if state is None:
            return  # the visitor left meanwhile: what was stored stays in the history
        await hub._apply(account_id, state, visitor_id, make(state))

    async def bot_message(self, account_id: int, visitor_id: str, message: ChatMessage) -> None:
        """Store the message once (its id is the run's) and deliver it."""
        hub = self.hub
        if await hub.seams.presence.tabs(account_id, visitor_id) > 0:
            message.delivered_at = message.sent_at
        stored, new = await hub.store.add_message(account_id, message)
        if new:
            await self._apply(account_id, visitor_id, lambda state: bot_message_sent(state, stored))

    async def bot_answers(self, account_id: int, visitor_id: str, values: dict[str, str]) -> None:
        """Put answers into the visitor's details."""
        await self._apply(account_id, visitor_id, lambda state: answers_stored(state, values))

    async def bot_hand_over(self, account_id: int, visitor_id: str) -> None:
        """Make the chat unanswered for the agents: a new chat, re-alerted like a visitor's own message."""
        hub = self.hub
        state = await hub._state(account_id, visitor_id)
        if state is None:
            return  # the visitor left meanwhile: what was stored stays in the history
        await hub._apply(account_id, state, visitor_id, handed_over(state))
        await hub.team.visitor_wrote(account_id, state)

    async def bot_close(self, account_id: int, visitor_id: str) -> None:
        """End the conversation."""
        await self._apply(account_id, visitor_id, bot_closed)

    async def bot_run(self, account_id: int, visitor_id: str, run: BotRun) -> None:
        """Show the bot's state on the visitor's record."""
        await self._apply(account_id, visitor_id, lambda state: bot_changed(state, run))


# ---------------------------------------------------------------- the hub's calls


async def trigger(hub: Hub, account: AccountState, visitor_id: str, kind: TriggerKind) -> None:
    """Start a bot for a visitor of this process when a flow of the account is due on ``kind``."""
    account_id = account.row.id
    if not await hub.bots.has_triggers(account_id, kind):
        return
    state = await hub._state(account_id, visitor_id)
    if state is None or state.record.banned:
        return
    agents_online = await hub.seams.presence.agents(account_id) > 0
    await hub.bots.trigger(account_id, account.row.plan, kind, state.record, agents_online=agents_online)


async def visitor_wrote(
    hub: Hub, account: AccountState, visitor_id: str, state: VisitorState, stored: ChatMessage, *, from_tab: str
) -> bool:
    """Give a visitor's new message to a running bot (or let it start one); False: the hub handles it as usual."""
    account_id = account.row.id
    first = state.record.chat_status in ("none", "closed")
    if not bot_running(state) and not (first and await hub.bots.has_triggers(account_id, "first_message")):
        return False
    now = hub.clock()
    # The bot reads it: stored as read, so agents are not asked to read (or told about) an answer to a bot.
    await hub.store.mark_messages(account_id, visitor_id, [stored.id], read_at=now)
    stored = msgspec.structs.replace(stored, read_at=now)
    await hub._apply(account_id, state, visitor_id, visitor_answered(state, stored, from_tab=from_tab, now=now))
    agents_online = await hub.seams.presence.agents(account_id) > 0
    taken = await hub.bots.visitor_wrote(
        account_id, account.row.plan, state.record, stored.text, agents_online=agents_online
    )
    if not taken:
        # No bot took it after all (taken over meanwhile, or the flow already ran): a person answers.
        fresh = await hub._state(account_id, visitor_id)
        if fresh is not None:
            effects = handed_over(fresh)
            fresh.record.unread += 1
            effects.changed(fresh, "chat")
            await hub._apply(account_id, fresh, visitor_id, effects)
            await hub.team.visitor_wrote(account_id, fresh)
    return True


async def taken_over(hub: Hub, account_id: int, state: VisitorState) -> None:
    """An agent opened or answered the conversation: a running bot stops at once."""
    if bot_running(state):
        await hub.bots.taken_over(account_id, state.record.id)
