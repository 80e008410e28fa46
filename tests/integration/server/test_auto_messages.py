"""Automatic messages: conditions, once per visitor, only with an agent online, only on paid plans."""

from __future__ import annotations

import asyncio

import pytest

from protocol.messages import MessageAdded, PageView, VisitorMessage
from protocol.rules import Plan
from server.rules import RuleConditions, RuleError, RuleSpec
from tests.fixtures.clients import AgentSocket, VisitorSocket
from tests.fixtures.server import LiveServer

PRICING = RuleSpec(
    name="Pricing help", message="Questions about our prices?", conditions=RuleConditions(url_contains="/pricing")
)


async def _no_message(visitor: VisitorSocket, within: float = 0.5) -> None:
    with pytest.raises(TimeoutError):
        await visitor.wait_for(VisitorMessage, within=within)


async def test_url_rule_fires_once_per_visitor(live_server: LiveServer) -> None:
    tenant = live_server.create_account(Plan.STANDARD)
    live_server.add_rule(tenant.account_id, PRICING)
    token = live_server.login(tenant.agent_email, tenant.agent_password)
    async with (
        await AgentSocket.connect(live_server.agent_ws_url, token) as agent,
        await VisitorSocket.connect(live_server.visitor_url(tenant.account_key)) as visitor,
    ):
        await agent.hello()
        await _no_message(visitor, 0.2)
        await visitor.send(PageView(url="https://shop.example/pricing", title="Prices"))
        auto = await visitor.wait_for(VisitorMessage)
        assert auto.message.author == "auto"
        assert auto.message.text == "Questions about our prices?"
        added = await agent.wait_for(MessageAdded)
        assert added.message.author == "auto"
        await agent.wait_for_visitor(lambda v: v.auto_messaged)

        await visitor.send(PageView(url="https://shop.example/", title="Home"))
        await visitor.send(PageView(url="https://shop.example/pricing#plans", title="Prices"))
        await _no_message(visitor)

    # Not even on a later visit.
    async with await VisitorSocket.connect(
        live_server.visitor_url(tenant.account_key), visitor_id=visitor.visitor_id, page="https://shop.example/pricing"
    ) as again:
        assert [m.author for m in again.welcome.messages] == ["auto"]
        await _no_message(again)


async def test_time_on_page_rule_fires_by_the_timer(live_server_factory) -> None:  # type: ignore[no-untyped-def]
    server: LiveServer = live_server_factory(rule_tick_seconds=0.1)
    tenant = server.create_account(Plan.PRO)
    server.add_rule(
        tenant.account_id,
        RuleSpec(name="Lingering", message="Can I help?", conditions=RuleConditions(time_on_page_at_least=1)),
    )
    token = server.login(tenant.agent_email, tenant.agent_password)
    async with (
        await AgentSocket.connect(server.agent_ws_url, token) as agent,
        await VisitorSocket.connect(server.visitor_url(tenant.account_key)) as visitor,
    ):
        await agent.hello()
        auto = await visitor.wait_for(VisitorMessage, within=5)
        assert auto.message.text == "Can I help?"
        await agent.wait_for(MessageAdded, lambda e: e.message.author == "auto")
        await _no_message(visitor, 1.5)
        with pytest.raises(TimeoutError):
            await agent.wait_for(MessageAdded, within=0.3)


async def test_no_auto_message_on_free_or_without_agents(live_server: LiveServer) -> None:
    free = live_server.create_account(Plan.FREE)
    live_server.add_rule(free.account_id, PRICING)
    token = live_server.login(free.agent_email, free.agent_password)
    async with (
        await AgentSocket.connect(live_server.agent_ws_url, token) as agent,
        await VisitorSocket.connect(
            live_server.visitor_url(free.account_key), page="https://shop.example/pricing"
        ) as visitor,
    ):
        await agent.hello()
        await _no_message(visitor)

    paid = live_server.create_account(Plan.PRO)
    live_server.add_rule(paid.account_id, PRICING)
    async with await VisitorSocket.connect(
        live_server.visitor_url(paid.account_key), page="https://shop.example/pricing"
    ) as lonely:
        await _no_message(lonely)
        # The rule is not used up: when an agent comes online, the next event fires it.
        token = live_server.login(paid.agent_email, paid.agent_password)
        async with await AgentSocket.connect(live_server.agent_ws_url, token) as agent:
            await agent.hello()
            await asyncio.sleep(0.05)
            await lonely.send(PageView(url="https://shop.example/pricing?x=1", title="Prices"))
            auto = await lonely.wait_for(VisitorMessage)
            assert auto.message.author == "auto"


def test_invalid_regex_is_refused_when_added(live_server: LiveServer) -> None:
    tenant = live_server.create_account()
    with pytest.raises(RuleError, match="title_matches is not a valid regular expression"):
        live_server.add_rule(
            tenant.account_id,
            RuleSpec(name="bad", message="x", conditions=RuleConditions(title_matches="[unclosed")),
        )
