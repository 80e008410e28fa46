"""start_demo/stop_demo on a real embedded server: account, agent, rules, the demo shop and live traffic."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import httpx

from protocol.rules import Plan
from server import admin
from server.demo import DEMO_ACCOUNT_KEY, DEMO_RULES, start_demo, stop_demo
from server.rules import RuleConditions, RuleSpec
from server.simulator import TrafficConfig
from tests.fixtures.server import LiveServer
from tests.integration.widget.agent_socket import AgentSocket, time_factor

QUICK = TrafficConfig(
    arrivals_per_minute=300.0,
    max_visits=6,
    initial_visitors=3,
    time_scale=0.01,
    activity_every=(50.0, 100.0),
    idle_probability=0.0,
    reply_probability=1.0,
    chat_linger=300.0,
)


async def test_start_demo_serves_the_shop_and_brings_visitors(live_server: LiveServer) -> None:
    factor = time_factor()
    info = start_demo(live_server.server, Plan.PRO, seed=11, traffic=QUICK)
    agent: AgentSocket | None = None
    try:
        assert info.account_key == DEMO_ACCOUNT_KEY
        assert info.http_url == live_server.http_url
        assert info.demo_site_url == f"{live_server.http_url}/demo/"
        rules = live_server.call(admin.list_rules, live_server.server.services, info.account_id)
        assert [r.name for r in rules] == [r.name for r in DEMO_RULES]

        # The shop's pages carry the real widget with the demo key.
        async with httpx.AsyncClient() as http:
            home = await http.get(info.demo_site_url)
            widget = await http.get(f"{info.http_url}/widget.js")
        assert home.status_code == 200
        assert 'data-account="demo"' in home.text
        assert widget.status_code == 200
        assert "javascript" in widget.headers["content-type"]

        # An automatic message every simulated visitor triggers at once, so the replies to it show.
        live_server.call(
            admin.add_rule,
            live_server.server.services,
            info.account_id,
            RuleSpec(name="hello", message="Welcome to the demo!", conditions=RuleConditions(url_contains="/demo/")),
        )
        agent = await AgentSocket.connect(
            live_server.agent_ws_url, live_server.login(info.agent_email, info.agent_password)
        )
        assert agent.hello.account.plan == Plan.PRO
        await agent.wait_for(
            lambda: sum(1 for v in agent.visitors.values() if v.online) >= 2 or None, 10 * factor, "demo visitors"
        )
        await agent.wait_for(
            lambda: any(v.auto_messaged for v in agent.visitors.values()) or None, 10 * factor, "an automatic message"
        )
        traffic = info.traffic
        assert traffic is not None
        await agent.wait_for(lambda: traffic.stats.replies > 0 or None, 10 * factor, "a reply to the automatic message")
    finally:
        stop_demo(info)
    assert info.traffic is not None
    assert not info.traffic.running
    assert info.traffic.stats.online == 0
    await agent.wait_for(
        lambda: all(not v.online for v in agent.visitors.values()) or None, 5 * factor, "every demo visitor to leave"
    )
    await agent.close()


def test_stopping_the_server_ends_the_demo_traffic(live_server_factory: Any) -> None:
    server: LiveServer = live_server_factory()
    slow = replace(QUICK, time_scale=1.0, arrivals_per_minute=1.0, max_visits=50)
    info = start_demo(server.server, Plan.FREE, traffic=slow)
    traffic = info.traffic
    assert traffic is not None
    running_before = traffic.running
    server.server.stop()
    assert running_before
    assert not traffic.running  # ended with the server: nothing left pending on its closed loop
    stop_demo(info)  # harmless afterwards
