"""Bots on a real server: a visitor walks a flow over the widget socket, agents see it and take over."""

from __future__ import annotations

from typing import Any

import httpx
import msgspec
import pytest

from protocol.bots.flow import FlowSpec
from protocol.messages import (
    ChatOpened,
    GetHistory,
    History,
    OpenConversation,
    PageView,
    Result,
    UnansweredAlert,
    VisitorChat,
    VisitorMessage,
)
from protocol.rules import Plan
from server.bots.store import BotStore
from tests.fixtures.clients import AgentSocket, VisitorSocket, new_id, ref
from tests.fixtures.server import LiveServer, Tenant

SALES: dict[str, Any] = {
    "name": "Sales",
    "trigger": {"kind": "chat_opened_offline"},
    "start": "hello",
    "steps": [
        {"id": "hello", "kind": "question", "text": "Hi! Sales or support?", "store": "topic",
         "replies": [{"label": "Sales", "next": "name"}, {"label": "Support", "next": "team"}]},
        {"id": "name", "kind": "ask", "text": "Your name?", "store": "name", "next": "team"},
        {"id": "team", "kind": "hand_over"},
    ],
}  # fmt: skip


def add_flow(live_server: LiveServer, tenant: Tenant, spec: dict[str, Any]) -> None:
    """Store a flow directly (a FREE account's too: the server must still refuse to run it)."""

    async def add() -> None:
        await BotStore(live_server.server.services.engine).add(tenant.account_id, msgspec.convert(spec, FlowSpec))

    live_server.call(add)


async def no_message(visitor: VisitorSocket, within: float = 0.5) -> None:
    with pytest.raises(TimeoutError):
        await visitor.wait_for(VisitorMessage, within=within)


async def say(visitor: VisitorSocket, text: str) -> None:
    await visitor.send(VisitorChat(id=new_id("m"), text=text))


async def test_a_visitor_walks_a_flow_and_is_handed_over(live_server: LiveServer) -> None:
    tenant = live_server.create_account(Plan.STANDARD)
    add_flow(live_server, tenant, SALES)
    async with await VisitorSocket.connect(live_server.visitor_url(tenant.account_key)) as visitor:
        await visitor.send(ChatOpened())
        first = await visitor.wait_for(VisitorMessage)
        assert first.message.author == "bot"
        assert first.message.text == "Hi! Sales or support?"
        assert first.message.replies == ("Sales", "Support")
        await say(visitor, "Sales")
        name = await visitor.wait_for(VisitorMessage, lambda e: e.message.author == "bot")
        assert name.message.text == "Your name?"
        await say(visitor, "Ada Lovelace")
        handed = await visitor.wait_for(VisitorMessage, lambda e: e.message.author != "visitor")
        assert (handed.message.author, handed.message.text) == ("system", "Connecting you to our team")

        token = live_server.login(tenant.agent_email, tenant.agent_password)
        async with await AgentSocket.connect(live_server.agent_ws_url, token) as agent:
            snapshot = await agent.snapshot()
            (seen,) = [v for v in snapshot.visitors if v.id == visitor.visitor_id]
            assert seen.chat_status == "unanswered"
            assert seen.name == "Ada Lovelace"
            assert seen.label == "Ada Lovelace"
            assert seen.custom == {"topic": "Sales"}
            assert seen.customer is False
            assert seen.bot is not None
            assert seen.bot.status == "handed_over"
            assert seen.bot.answers == {"topic": "Sales", "name": "Ada Lovelace"}
            history = await agent.request(GetHistory(ref=ref(), visitor_id=visitor.visitor_id))
            assert isinstance(history, History)
            assert [(m.author, m.text) for m in history.messages] == [
                ("bot", "Hi! Sales or support?"),
                ("visitor", "Sales"),
                ("bot", "Your name?"),
                ("visitor", "Ada Lovelace"),
                ("system", "Connecting you to our team"),
            ]
            assert history.messages[0].replies == ("Sales", "Support")
            assert all(m.read_at for m in history.messages if m.author == "visitor"), "the bot read its answers"
            taken = await agent.request(OpenConversation(ref=ref(), visitor_id=visitor.visitor_id))
            assert isinstance(taken, Result)
            active = await agent.wait_for_visitor(lambda v: v.chat_status == "active")
            assert active.bot is not None
            assert active.bot.status == "handed_over", "a finished bot stays as it ended"

    # A later visit: the bot ran once for this visitor and trigger.
    async with await VisitorSocket.connect(
        live_server.visitor_url(tenant.account_key), visitor_id=visitor.visitor_id
    ) as again:
        await again.send(ChatOpened())
        await no_message(again)


async def test_an_agent_taking_over_stops_a_running_bot(live_server: LiveServer) -> None:
    tenant = live_server.create_account(Plan.PRO)
    add_flow(live_server, tenant, {**SALES, "trigger": {"kind": "first_message"}})
    token = live_server.login(tenant.agent_email, tenant.agent_password)
    async with (
        await AgentSocket.connect(live_server.agent_ws_url, token) as agent,
        await VisitorSocket.connect(live_server.visitor_url(tenant.account_key)) as visitor,
    ):
        await agent.hello()
        await say(visitor, "Hello, anyone there?")
        question = await visitor.wait_for(VisitorMessage, lambda e: e.message.author == "bot")
        assert question.message.text == "Hi! Sales or support?"
        running = await agent.wait_for_visitor(lambda v: v.bot is not None and v.bot.status == "running")
        assert running.chat_status == "none", "the bot has the chat: no alert yet"
        answer = await agent.request(OpenConversation(ref=ref(), visitor_id=visitor.visitor_id))
        assert isinstance(answer, Result)
        stopped = await agent.wait_for_visitor(lambda v: v.bot is not None and v.bot.status == "stopped")
        assert stopped.id == visitor.visitor_id
        await say(visitor, "Sales")
        await no_message(visitor)
        changed = await agent.wait_for_visitor(lambda v: v.unread > 0)
        assert changed.chat_status == "active"


async def _alert_after_ten_seconds(live_server: LiveServer, token: str) -> None:
    async with httpx.AsyncClient() as http:
        response = await http.put(
            f"{live_server.http_url}/api/v1/team/settings",
            json={"unanswered_alert_seconds": 10},
            headers={"Authorization": f"Bearer {token}"},
        )
    assert response.status_code == 200, response.text


async def test_a_hand_over_with_no_answer_alerts_the_online_agents_again(live_server: LiveServer) -> None:
    tenant = live_server.create_account(Plan.STANDARD)
    add_flow(live_server, tenant, {**SALES, "trigger": {"kind": "first_message"}})
    token = live_server.login(tenant.agent_email, tenant.agent_password)
    await _alert_after_ten_seconds(live_server, token)
    async with (
        await AgentSocket.connect(live_server.agent_ws_url, token) as agent,
        await VisitorSocket.connect(live_server.visitor_url(tenant.account_key)) as visitor,
    ):
        await agent.hello()
        await say(visitor, "Hello?")
        await visitor.wait_for(VisitorMessage, lambda e: e.message.author == "bot")
        await say(visitor, "Support")
        await visitor.wait_for(VisitorMessage, lambda e: e.message.author == "system")
        await agent.wait_for_visitor(lambda v: v.chat_status == "unanswered")
        alert = await agent.wait_for(UnansweredAlert, within=15)
        assert alert.visitor_id == visitor.visitor_id


async def test_a_message_no_bot_takes_after_all_alerts_the_online_agents_again(live_server: LiveServer) -> None:
    tenant = live_server.create_account(Plan.STANDARD)
    bye = {"name": "Bye", "trigger": {"kind": "first_message"}, "start": "bye",
           "steps": [{"id": "bye", "kind": "close", "text": "Thanks, we will write back."}]}  # fmt: skip
    add_flow(live_server, tenant, bye)
    token = live_server.login(tenant.agent_email, tenant.agent_password)
    await _alert_after_ten_seconds(live_server, token)
    async with (
        await AgentSocket.connect(live_server.agent_ws_url, token) as agent,
        await VisitorSocket.connect(live_server.visitor_url(tenant.account_key)) as visitor,
    ):
        await agent.hello()
        await say(visitor, "Hello?")
        await agent.wait_for_visitor(lambda v: v.bot is not None and v.chat_status == "closed")
        # The flow ran once for this visitor: the next first message goes to a person.
        await say(visitor, "Hello again?")
        await agent.wait_for_visitor(lambda v: v.chat_status == "unanswered")
        alert = await agent.wait_for(UnansweredAlert, within=15)
        assert alert.visitor_id == visitor.visitor_id


async def test_a_free_account_never_runs_a_bot(live_server: LiveServer) -> None:
    tenant = live_server.create_account(Plan.FREE)
    add_flow(live_server, tenant, SALES)
    add_flow(live_server, tenant, {**SALES, "trigger": {"kind": "first_message"}})
    async with await VisitorSocket.connect(live_server.visitor_url(tenant.account_key)) as visitor:
        await visitor.send(ChatOpened())
        await say(visitor, "Hello?")
        await no_message(visitor)


async def test_a_rule_trigger_starts_a_bot_on_arrival(live_server: LiveServer) -> None:
    tenant = live_server.create_account(Plan.PRO)
    add_flow(live_server, tenant, {**SALES, "trigger": {"kind": "rule", "url_contains": "/pricing"}})
    async with await VisitorSocket.connect(live_server.visitor_url(tenant.account_key)) as home:
        await no_message(home)
        await home.send(PageView(url="https://shop.example/pricing", title="Prices"))
        first = await home.wait_for(VisitorMessage)
        assert first.message.text == "Hi! Sales or support?"
    async with await VisitorSocket.connect(
        live_server.visitor_url(tenant.account_key), page="https://shop.example/pricing"
    ) as arriving:
        first = await arriving.wait_for(VisitorMessage)
        assert first.message.text == "Hi! Sales or support?"


async def test_a_rule_trigger_starts_a_bot_by_page_and_by_the_timer(live_server_factory: Any) -> None:
    server: LiveServer = live_server_factory(rule_tick_seconds=0.1)
    tenant = server.create_account(Plan.PRO)
    add_flow(server, tenant, {**SALES, "trigger": {"kind": "rule", "url_contains": "/pricing"}})
    add_flow(server, tenant, {**SALES, "name": "Lingering", "trigger": {"kind": "rule", "time_on_page_at_least": 1}})
    async with await VisitorSocket.connect(server.visitor_url(tenant.account_key)) as lingering:
        first = await lingering.wait_for(VisitorMessage, within=10)
        assert (first.message.author, first.message.agent_name) == ("bot", "Lingering")
    async with await VisitorSocket.connect(
        server.visitor_url(tenant.account_key), page="https://shop.example/pricing"
    ) as pricing:
        first = await pricing.wait_for(VisitorMessage)
        assert (first.message.author, first.message.agent_name) == ("bot", "Sales")
        await no_message(pricing, within=1.5)  # one bot at a time: the timer's flow does not start too
