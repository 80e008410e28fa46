"""The traffic simulator against a real server, watched by a real agent socket."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

from protocol.messages import Ban, MessageAdded, OpenConversation, SendMessage, VisitorChanged
from protocol.rules import Plan
from server.simulator import NAMES, PAGES, Traffic, TrafficConfig, run_visitors
from server.simulator import main as simulator_main
from tests.fixtures.server import LiveServer, Tenant
from tests.integration.widget.agent_socket import AgentSocket, time_factor

# Everything 100 times faster than real life; activity rarer, to stay far below the server's rate limit.
FAST = TrafficConfig(
    arrivals_per_minute=600.0,
    max_visits=10,
    time_scale=0.01,
    identify_probability=0.5,
    chat_probability=0.5,
    return_probability=0.0,
    idle_probability=0.2,
    idle_time=(20.0, 40.0),
    activity_every=(50.0, 100.0),
    reply_probability=1.0,
)


async def connect_agent(live_server: LiveServer, tenant: Tenant) -> AgentSocket:
    """The tenant's agent, signed in and connected."""
    token = live_server.login(tenant.agent_email, tenant.agent_password)
    return await AgentSocket.connect(live_server.agent_ws_url, token)


def site(live_server: LiveServer) -> str:
    """The demo shop's address on the live server."""
    return f"{live_server.http_url}/demo/"


async def test_traffic_arrives_browses_identifies_chats_and_answers(live_server: LiveServer) -> None:
    factor = time_factor()
    tenant = live_server.create_account(Plan.PRO)
    agent = await connect_agent(live_server, tenant)
    # The chatting visitor stays long enough for the agent to answer.
    config = replace(FAST, chat_linger=500.0)
    traffic = Traffic(live_server.visitor_ws_url, tenant.account_key, site_url=site(live_server), config=config, seed=7)
    try:
        traffic.start()
        chatting = await agent.wait_for(
            lambda: next((v for v in agent.visitors.values() if v.chat_status == "unanswered" and v.online), None),
            10 * factor,
            "a simulated visitor to start a chat",
        )
        await agent.request(OpenConversation(ref=agent.next_ref(), visitor_id=chatting.id))
        await agent.request(
            SendMessage(ref=agent.next_ref(), id="agentreply01", visitor_id=chatting.id, text="Hello! How can I help?")
        )

        def answered() -> MessageAdded | None:
            messages = [m for m in agent.messages() if m.message.visitor_id == chatting.id]
            ours = next((i for i, m in enumerate(messages) if m.message.id == "agentreply01"), None)
            later = messages[ours + 1 :] if ours is not None else []
            return next((m for m in later if m.message.author == "visitor"), None)

        await agent.wait_for(answered, 10 * factor, "the simulated visitor's canned reply")
        await agent.wait_for(
            lambda: traffic.stats.arrivals == FAST.max_visits and any(v.customer for v in agent.visitors.values()),
            10 * factor,
            "every arrival and an identification",
        )
    finally:
        stats = await traffic.stop()

    assert stats.arrivals == stats.welcomed == FAST.max_visits
    assert stats.errors == 0
    assert stats.replies >= 1
    seen = {e.visitor.id: e.visitor for e in agent.events if isinstance(e, VisitorChanged)}
    assert set(seen) == stats.visitor_ids
    last = {vid: agent.visitors.get(vid) or seen[vid] for vid in seen}
    # Page views: trails longer than one page, on the demo shop's titles.
    titles = {p.title for v in last.values() for p in v.pages}
    assert titles <= {p.title for p in PAGES}
    assert any(len(v.pages) > 1 for v in last.values())
    assert stats.page_views >= len(seen)
    assert stats.online == 0
    # Identifications reach the agent as customers with the simulated names.
    customers = [v for v in last.values() if v.customer]
    assert len(customers) == stats.identified > 0
    assert all(v.name in NAMES and v.email and v.email.endswith("@example.com") for v in customers)
    # Chats: every opener reached the agent.
    visitor_texts = [m for m in agent.messages() if m.message.author == "visitor"]
    assert len(visitor_texts) == stats.messages_sent >= stats.chats_started > 0
    # Varied people: more than one browser or language among ten visitors.
    assert len({(v.browser, v.os, v.language, v.timezone) for v in last.values()}) > 1
    await agent.close()


async def test_stop_makes_every_visitor_leave(live_server: LiveServer) -> None:
    factor = time_factor()
    tenant = live_server.create_account(Plan.FREE)
    agent = await connect_agent(live_server, tenant)
    # Visitors who would stay for minutes: only stop() ends their visits.
    slow = replace(FAST, time_scale=1.0, max_visits=5, initial_visitors=5, idle_probability=0.0)
    traffic = Traffic(live_server.visitor_ws_url, tenant.account_key, site_url=site(live_server), config=slow, seed=1)
    try:
        traffic.start()
        await agent.wait_for(
            lambda: len([v for v in agent.visitors.values() if v.online]) == 5 or None, 10 * factor, "five visitors"
        )
        stats = await traffic.stop()
        assert stats.online == 0
        await agent.wait_for(
            lambda: all(not v.online for v in agent.visitors.values()) or None,
            5 * factor,
            "every simulated visitor to leave",
        )
    finally:
        await traffic.stop()
        await agent.close()


async def test_same_seed_makes_the_same_choices(live_server: LiveServer) -> None:
    factor = time_factor()
    config = replace(FAST, chat_linger=5.0, return_probability=0.5, return_after=(5.0, 10.0))

    async def once(seed: int) -> Any:
        tenant = live_server.create_account(Plan.FREE)
        stats = await asyncio.wait_for(
            run_visitors(
                live_server.visitor_ws_url,
                tenant.account_key,
                count=8,
                rate=20.0,
                site_url=site(live_server),
                seed=seed,
                config=config,
            ),
            60 * factor,
        )
        return (stats.arrivals, stats.returns, stats.page_views, stats.identified, stats.chats_started)

    first = await once(42)
    assert first == await once(42)
    assert first[0] == 8


async def test_returning_visitor_keeps_its_id_and_counts_visits(live_server_factory: Any) -> None:
    factor = time_factor()
    server: LiveServer = live_server_factory(leave_grace_seconds=0.2)
    tenant = server.create_account(Plan.FREE)
    agent = await connect_agent(server, tenant)
    # One person arrives, leaves after the grace period's worth of time, and comes back once.
    config = replace(
        FAST,
        max_visits=2,
        initial_visitors=1,
        arrivals_per_minute=0.0,
        return_probability=1.0,
        return_after=(25.0, 30.0),
        idle_probability=0.0,
    )
    traffic = Traffic(server.visitor_ws_url, tenant.account_key, site_url=site(server), config=config, seed=3)
    try:
        stats = await asyncio.wait_for(traffic.start(), 30 * factor)
        assert (stats.arrivals, stats.returns) == (2, 1)
        assert len(stats.visitor_ids) == 1
        returning = await agent.wait_visitor(lambda v: v.visit_count >= 2, 5 * factor, "the second visit")
        assert returning.id in stats.visitor_ids
    finally:
        await traffic.stop()
        await agent.close()


async def test_banned_simulated_visitor_stays_away(live_server: LiveServer) -> None:
    factor = time_factor()
    tenant = live_server.create_account(Plan.FREE)
    agent = await connect_agent(live_server, tenant)
    config = replace(FAST, time_scale=1.0, max_visits=3, initial_visitors=1, arrivals_per_minute=0.0)
    config = replace(config, return_probability=1.0, return_after=(0.1, 0.2))
    traffic = Traffic(live_server.visitor_ws_url, tenant.account_key, site_url=site(live_server), config=config, seed=5)
    try:
        task = traffic.start()
        visitor = await agent.wait_visitor(lambda v: v.online, 10 * factor, "the simulated visitor")
        await agent.request(Ban(ref=agent.next_ref(), visitor_id=visitor.id, reason="test"))
        stats = await asyncio.wait_for(task, 10 * factor)
        assert stats.banned == 1
        assert stats.arrivals == 1  # a banned person does not come back
    finally:
        await traffic.stop()
        await agent.close()


async def test_command_line_sends_visitors_to_a_server(live_server: LiveServer, capsys: Any) -> None:
    live_server.create_account(Plan.FREE, account_key="cli-shop")
    argv = ["--server", live_server.http_url, "--account", "cli-shop", "--visits", "3", "--per-minute", "600"]
    argv += ["--initial", "0", "--time-scale", "0.01", "--seed", "1"]
    assert await asyncio.to_thread(simulator_main, argv) == 0
    assert capsys.readouterr().out.startswith("3 visits (0 returns), ")
