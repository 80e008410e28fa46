"""The real AgentClient stays connected through a resync: a burst overflows its queue on the server."""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack
from typing import Any

from prometheus_client import REGISTRY

from desktop.net.client import ConnectionState
from protocol.messages import PageView
from server.services import Services
from tests.fixtures.clients import VisitorSocket
from tests.fixtures.server import LiveServer
from tests.integration.desktop.test_agent_client import Agent, eventually, sign_in

VISITORS = 40
LIMIT = 20
"""The server's queue limit per socket here (5,000 by default)."""


async def burst(services: Services, account_id: int, url: str) -> None:
    """On the server's loop: every visitor views a page at once (more deltas in one turn than the queue holds)."""
    hub = services.hub
    assert hub is not None
    account = await hub.account(account_id)
    assert account is not None
    tabs = [tab for tabs in account.tabs.values() for tab in tabs]
    await asyncio.gather(*(hub.visitor_event(account, tab, PageView(url=url, title="Sale")) for tab in tabs))


async def test_a_burst_resynchronises_the_client_without_a_reconnect(live_server_factory: Any) -> None:
    live: LiveServer = live_server_factory(outbox_limit=LIMIT)
    tenant, token = await sign_in(live)
    url = live.visitor_url(tenant.account_key)
    async with AsyncExitStack() as stack:
        for i in range(VISITORS):
            await stack.enter_async_context(await VisitorSocket.connect(url, page=f"https://shop.example/{i}"))
        async with Agent(live.http_url, token) as agent:
            await eventually(lambda: len(agent.store.visitors) == VISITORS, "every visitor listed")
            before = REGISTRY.get_sample_value("frontdesk_agent_resyncs_total") or 0
            await asyncio.to_thread(
                live.call, burst, live.server.services, tenant.account_id, "https://shop.example/sale"
            )
            await eventually(
                lambda: all(v.current_url == "https://shop.example/sale" for v in agent.store.visitors.values()),
                "every visitor on the sale page",
            )
            assert (REGISTRY.get_sample_value("frontdesk_agent_resyncs_total") or 0) == before + 1
            assert agent.client.state is ConnectionState.ONLINE
            assert agent.client.connections == 1, "resynchronised on the same socket, not reconnected"
            assert ConnectionState.CONNECTING not in agent.recorder.states[1:]
            assert len(agent.store.visitors) == VISITORS
