"""An agent whose queue overflows on a burst is resynchronised with a fresh snapshot, not dropped.

One hub on memory seams and SQLite; the agent's socket is a real ``Outbox`` over a recording socket
with a small queue limit, and its frames are applied to the desktop's real ``VisitorStore``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, cast

import pytest
from prometheus_client import REGISTRY

from desktop.core.store import VisitorStore
from protocol.codec import agent_events
from protocol.messages import Auth, Hello, PageView, ServerToAgent, Snapshot, VisitorHello
from protocol.rules import PROTOCOL_VERSION, Plan
from server.config import Settings, normalize_database_url
from server.db import create_engine, migrate
from server.geo import Geolocator
from server.live.hub import AccountState, AgentConn, Hub, VisitorConn
from server.outbox import TOO_SLOW, Outbox
from server.store import Store
from tests.fixtures import sockets

LIMIT = 40
"""The agents' queue limit here (5,000 in a real server)."""


class RecordingSocket(sockets.RecordingSocket):
    """The frames written, decoded on request."""

    def events(self) -> list[ServerToAgent]:
        return [agent_events.decode(frame) for frame in self.frames]


class Site:
    """One hub with an account, its visitors' tabs and agents."""

    def __init__(self, hub: Hub, store: Store, account: AccountState) -> None:
        self.hub = hub
        self.store = store
        self.account = account
        self.tabs: list[VisitorConn] = []

    async def agent(self) -> tuple[AgentConn, RecordingSocket]:
        socket = RecordingSocket()
        row = await self.store.agent_by_email("ada@shop.example")
        assert row is not None
        conn = AgentConn(Outbox(cast(Any, socket), LIMIT), row, "token-hash")
        await self.hub.agent_connected(conn, self.account, Auth(token="t", protocol=PROTOCOL_VERSION))
        await settled(conn)
        return conn, socket

    async def arrive(self, n: int) -> None:
        for i in range(n):
            tab_id = f"tab-{len(self.tabs):06d}"
            conn = VisitorConn(Outbox(cast(Any, RecordingSocket()), 1000), tab_id)
            hello = VisitorHello(
                visitor_id=f"visitor-{len(self.tabs):04d}", tab_id=tab_id, url=f"https://s.example/{i}"
            )
            assert await self.hub.visitor_hello(self.account, conn, hello, ip=None, user_agent="")
            self.tabs.append(conn)

    async def burst(self) -> None:
        """Every visitor views a page at once: more deltas than the agent's queue holds, in one turn."""
        views = [self.hub.visitor_event(self.account, tab, PageView(url="https://s.example/sale")) for tab in self.tabs]
        await asyncio.gather(*views)


async def settled(conn: AgentConn) -> None:
    """Until the agent's queue is written and no resync is under way."""
    for _ in range(200):
        await conn.outbox.drained()
        await asyncio.sleep(0.01)
        if not conn.sync.syncing and not conn.outbox.waiting:
            return
    raise AssertionError("the agent's socket never settled")


@pytest.fixture
async def site(tmp_path: Path) -> AsyncIterator[Site]:
    engine = create_engine(normalize_database_url(f"sqlite:///{tmp_path / 'site.sqlite3'}"))
    await migrate(engine)
    store = Store(engine)
    account_id = await store.create_account(
        name="Shop", plan=Plan.PRO, account_key="shop-key", api_key_hash="unused", allowed_origins=[]
    )
    await store.add_agent(account_id=account_id, email="ada@shop.example", name="Ada", password_hash="unused")
    hub = Hub(store, Settings(outbox_limit=LIMIT, rule_tick_seconds=60), Geolocator())
    await hub.start()
    try:
        account = await hub.account(account_id)
        assert account is not None
        yield Site(hub, store, account)
    finally:
        await hub.stop()
        await engine.dispose()


def resyncs() -> float:
    return REGISTRY.get_sample_value("frontdesk_agent_resyncs_total") or 0.0


async def test_a_burst_resynchronises_the_agent_and_its_store_matches_a_fresh_snapshot(site: Site) -> None:
    await site.arrive(60)  # more than the agent's queue holds
    conn, socket = await site.agent()
    before = resyncs()
    await site.burst()
    await settled(conn)
    assert socket.closed is None, f"the agent was closed: {socket.closed}"
    assert resyncs() == before + 1
    events = socket.events()
    snapshots = [e for e in events if isinstance(e, Snapshot)]
    assert [s.reason for s in snapshots if s.part == 0] == ["initial", "resume_unavailable"]
    store = VisitorStore()
    for event in events:
        store.apply(event)  # raises on a gap in seq or a snapshot page out of order
    _fresh_conn, fresh_socket = await site.agent()
    fresh = VisitorStore()
    for event in fresh_socket.events():
        fresh.apply(event)
    assert store.seq == fresh.seq
    assert dict(store.visitors) == dict(fresh.visitors)
    assert all(v.current_url == "https://s.example/sale" for v in store.visitors.values())


async def test_an_agent_that_keeps_falling_behind_is_closed_with_a_reason(site: Site) -> None:
    await site.arrive(60)
    conn, socket = await site.agent()
    for _ in range(3):
        await site.burst()  # each one resynchronises it
        await settled(conn)
        assert socket.closed is None
    await site.burst()
    await conn.outbox.flush()
    assert socket.closed is not None
    code, reason = socket.closed
    assert code == TOO_SLOW
    assert "cannot keep up" in reason
    assert isinstance(socket.events()[0], Hello)


class GatedSocket(RecordingSocket):
    """A socket whose peer reads only when the test opens the gate (flow control holds each write)."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = asyncio.Event()

    async def send(self, event: dict[str, Any]) -> None:
        await self.gate.wait()
        self.gate.clear()
        await super().send(event)


async def test_a_paged_snapshot_is_written_as_the_socket_takes_it(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("server.live.hub.SNAPSHOT_PAGE", 10)
    await site.arrive(35)  # four pages
    socket = GatedSocket()
    row = await site.store.agent_by_email("ada@shop.example")
    assert row is not None
    conn = AgentConn(Outbox(cast(Any, socket), LIMIT), row, "token-hash")
    auth = Auth(token="t", protocol=PROTOCOL_VERSION)
    connecting = asyncio.create_task(site.hub.agent_connected(conn, site.account, auth))
    most_waiting = 0
    for _ in range(100):
        await asyncio.sleep(0.01)
        pages_out = sum(1 for frame in socket.frames if frame.startswith('{"type":"snapshot"'))
        if pages_out < 4:  # while the snapshot goes out (team frames follow it)
            most_waiting = max(most_waiting, conn.outbox.waiting)
        socket.gate.set()  # the peer reads one frame
        if connecting.done() and not conn.outbox.waiting:
            break
    await connecting
    pages = [e for e in socket.events() if isinstance(e, Snapshot)]
    assert [p.part for p in pages] == [0, 1, 2, 3]
    assert sum(len(p.visitors) for p in pages) == 35
    assert most_waiting <= 2, "hello and one page at most: the next waits until the socket took the previous one"
