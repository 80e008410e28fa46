"""Ordering on the live path: a tab's Welcome comes first; concurrent writes to one visitor lose nothing.

Two hubs share one SQLite database and either one set of memory seams or a real redis-server (as
two processes share Redis and PostgreSQL); the sockets are real ``Outbox`` objects over a recording
socket.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, cast

import pytest
from prometheus_client import REGISTRY

from protocol.messages import (
    AgentsOnline,
    Auth,
    PageView,
    PageVisit,
    VisitorHello,
    VisitorPatch,
    Welcome,
)
from protocol.rules import PROTOCOL_VERSION, Plan
from server.config import Settings, normalize_database_url
from server.db import create_engine, migrate
from server.geo import Geolocator
from server.live.hub import AgentConn, Hub, VisitorConn
from server.live.memory import memory_seams
from server.live.redis.connection import RedisLink, open_redis_seams
from server.outbox import Outbox
from server.store import Store
from tests.fixtures.redis import redis_server, redis_url
from tests.fixtures.sockets import RecordingSocket, agent_events_of, visitor_events_of

__all__ = ["redis_server", "redis_url"]


class Pair:
    """Two hubs on shared seams and one database, with one account and its agent."""

    def __init__(self, kind: str, hubs: tuple[Hub, Hub], store: Store, account_id: int) -> None:
        self.kind = kind
        self.hubs = hubs
        self.store = store
        self.account_id = account_id

    async def agent(self, hub: Hub) -> tuple[AgentConn, RecordingSocket]:
        socket = RecordingSocket()
        row = await self.store.agent_by_email("ada@shop.example")
        assert row is not None
        account = await hub.account(self.account_id)
        assert account is not None
        conn = AgentConn(Outbox(cast(Any, socket), 100_000), row, "token-hash")
        await hub.agent_connected(conn, account, Auth(token="t", protocol=PROTOCOL_VERSION))
        return conn, socket

    async def tab(self, hub: Hub, visitor_id: str, tab_id: str) -> tuple[VisitorConn, RecordingSocket]:
        socket = RecordingSocket()
        conn = VisitorConn(Outbox(cast(Any, socket), 100_000), tab_id)
        hello = VisitorHello(visitor_id=visitor_id, tab_id=tab_id, url="https://shop.example/", title="Shop")
        account = await hub.account(self.account_id)
        assert account is not None
        assert await hub.visitor_hello(account, conn, hello, ip=None, user_agent="")
        return conn, socket


@pytest.fixture(params=["memory", "redis"])
async def pair(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Pair]:
    """Two hubs on memory seams (shared), or each on its own connection to one real redis-server."""
    engine = create_engine(normalize_database_url(f"sqlite:///{tmp_path / 'shared.sqlite3'}"))
    await migrate(engine)
    store = Store(engine)
    account_id = await store.create_account(
        name="Shop", plan=Plan.PRO, account_key="shop-key", api_key_hash="unused", allowed_origins=[]
    )
    await store.add_agent(account_id=account_id, email="ada@shop.example", name="Ada", password_hash="unused")
    links: list[RedisLink] = []
    if request.param == "redis":
        url = request.getfixturevalue("redis_url")
        opened = [await open_redis_seams(url, history_size=100_000, lease_seconds=30) for _ in range(2)]
        seams = [s for s, _link in opened]
        links = [link for _s, link in opened]
    else:
        seams = [memory_seams(100_000)] * 2
    settings = Settings(leave_grace_seconds=0.2, rule_tick_seconds=60)
    hubs = (Hub(store, settings, Geolocator(), seams[0]), Hub(store, settings, Geolocator(), seams[1]))
    for hub in hubs:
        await hub.start()
    try:
        yield Pair(request.param, hubs, store, account_id)
    finally:
        for hub in hubs:
            await hub.stop()
        for hub in hubs[: len(links)]:
            await hub.seams.aclose()
        for link in links:
            await link.aclose()
        await engine.dispose()


async def written(outbox: Outbox) -> None:
    await outbox.flush()
    await asyncio.sleep(0)


async def test_a_tab_gets_its_welcome_before_a_frame_sent_during_its_hello(
    pair: Pair, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An agent comes online (on the other process) while a tab's hello is under way."""
    hub_a, hub_b = pair.hubs
    presence = hub_a.seams.presence
    count_agents = presence.agents
    agents: list[tuple[AgentConn, RecordingSocket]] = []

    async def agents_while_one_connects(account_id: int) -> int:
        if not agents:
            agents.append(await pair.agent(hub_b))  # tells every tab of the account: agents online
        return await count_agents(account_id)

    monkeypatch.setattr(presence, "agents", agents_while_one_connects)
    conn, socket = await pair.tab(hub_a, "visitor-0001", "tab-000001")
    await written(conn.outbox)
    events = visitor_events_of(socket)
    assert agents, "the agent connected during the hello"
    assert isinstance(events[0], Welcome), f"first frame: {events[0]}"
    assert [e for e in events if isinstance(e, AgentsOnline)] == [AgentsOnline(online=True)], "held, not lost"


async def test_page_views_of_one_visitor_on_two_processes_at_once_all_count(pair: Pair) -> None:
    """Tabs of one visitor on both processes view pages concurrently: every page is in the trail once."""
    hub_a, hub_b = pair.hubs
    agent, agent_socket = await pair.agent(hub_a)
    tab_a, _ = await pair.tab(hub_a, "visitor-0002", "tab-00000a")
    tab_b, _ = await pair.tab(hub_b, "visitor-0002", "tab-00000b")
    accounts = [await hub.account(pair.account_id) for hub in pair.hubs]
    views = []
    for n in range(20):
        side = n % 2
        hub, conn = (hub_a, tab_a) if side == 0 else (hub_b, tab_b)
        account = accounts[side]
        assert account is not None
        views.append(hub.visitor_event(account, conn, PageView(url=f"https://shop.example/p{n}", title=f"P{n}")))
    refused = REGISTRY.get_sample_value("frontdesk_commits_refused_total") or 0
    await asyncio.gather(*views)
    if pair.kind == "redis":  # the views were read from memory at once: most commits were refused and redone
        assert (REGISTRY.get_sample_value("frontdesk_commits_refused_total") or 0) > refused
    record = await hub_a.visitor_record(pair.account_id, "visitor-0002")
    assert record is not None
    urls = [page.url for page in record.pages]
    assert sorted(u for u in urls if "/p" in u) == sorted(f"https://shop.example/p{n}" for n in range(20))
    await written(agent.outbox)
    events = agent_events_of(agent_socket)
    patches = [e for e in events if isinstance(e, VisitorPatch) and isinstance(e.page, PageVisit)]
    assert len(patches) == 20, "one delta per page view"
    seqs = [e.seq for e in agent_events_of(agent_socket) if hasattr(e, "seq") and e.seq]
    assert seqs == sorted(seqs)
