"""Two hubs on one set of shared seams (memory) and one database: what several processes must agree on.

Each hub acts only on its own sockets; everything else goes through the seams, as with Redis.
The sockets are real ``Outbox`` objects over a recording socket.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import msgspec
import pytest

from protocol.bots.flow import FlowSpec
from protocol.messages import (
    Auth,
    Ban,
    Banned,
    ChatMessage,
    EraseVisitor,
    Identify,
    MessageAdded,
    PageView,
    Result,
    SendMessage,
    ServerToAgent,
    UnansweredAlert,
    VisitorChanged,
    VisitorChat,
    VisitorHello,
    VisitorLeft,
    VisitorMessage,
    VisitorPatch,
)
from protocol.rules import PROTOCOL_VERSION, Plan
from server import admin
from server.bots.store import BotStore
from server.config import Settings, normalize_database_url
from server.db import create_engine, migrate
from server.geo import Geolocator
from server.live.hub import AccountState, AgentConn, Hub, VisitorConn
from server.live.memory import memory_seams
from server.outbox import Outbox
from server.rules import RuleConditions, RuleSpec
from server.services import Services
from server.store import Store
from server.team_store import TeamStore
from tests.fixtures.sockets import RecordingSocket, agent_events_of, visitor_events_of

WITHIN = 5.0


@dataclass
class Cluster:
    """Two hubs sharing seams and a database, with one account."""

    hubs: tuple[Hub, Hub]
    store: Store
    account_id: int

    async def account(self, hub: Hub) -> AccountState:
        state = await hub.account(self.account_id)
        assert state is not None
        return state

    async def agent(self, hub: Hub) -> tuple[AgentConn, RecordingSocket]:
        socket = RecordingSocket()
        row = await self.store.agent_by_email("ada@shop.example")
        assert row is not None
        conn = AgentConn(Outbox(cast(Any, socket), 1000), row, "token-hash")
        await hub.agent_connected(conn, await self.account(hub), Auth(token="t", protocol=PROTOCOL_VERSION))
        return conn, socket

    async def tab(
        self, hub: Hub, visitor_id: str, tab_id: str, url: str = "https://shop.example/"
    ) -> tuple[VisitorConn, RecordingSocket]:
        socket = RecordingSocket()
        conn = VisitorConn(Outbox(cast(Any, socket), 1000), tab_id)
        hello = VisitorHello(visitor_id=visitor_id, tab_id=tab_id, url=url, title="Shop")
        assert await hub.visitor_hello(await self.account(hub), conn, hello, ip=None, user_agent="")
        return conn, socket


@pytest.fixture
async def cluster(tmp_path: Path) -> AsyncIterator[Cluster]:
    async with two_hubs(tmp_path, Settings(leave_grace_seconds=0.2, rule_tick_seconds=60)) as hubs:
        yield hubs


@contextlib.asynccontextmanager
async def two_hubs(tmp_path: Path, settings: Settings) -> AsyncIterator[Cluster]:
    """Two started hubs on shared memory seams and one SQLite file, with one PRO account and its agent."""
    engine = create_engine(normalize_database_url(f"sqlite:///{tmp_path / 'shared.sqlite3'}"))
    await migrate(engine)
    store = Store(engine)
    account_id = await store.create_account(
        name="Shop", plan=Plan.PRO, account_key="shop-key", api_key_hash="unused", allowed_origins=[]
    )
    await store.add_agent(account_id=account_id, email="ada@shop.example", name="Ada", password_hash="unused")
    seams = memory_seams(1000)
    hubs = (Hub(store, settings, Geolocator(), seams), Hub(store, settings, Geolocator(), seams))
    for hub in hubs:
        await hub.start()
    try:
        yield Cluster(hubs, store, account_id)
    finally:
        for hub in hubs:
            await hub.stop()
        await engine.dispose()


async def eventually(check: Callable[[], bool], what: str) -> None:
    deadline = asyncio.get_running_loop().time() + WITHIN
    while not check():
        assert asyncio.get_running_loop().time() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.01)


async def test_an_agent_on_one_hub_serves_a_visitor_on_the_other(cluster: Cluster) -> None:
    hub_a, hub_b = cluster.hubs
    agent, agent_socket = await cluster.agent(hub_a)
    _tab, tab_socket = await cluster.tab(hub_b, "visitor-0001", "tab-000001")
    await eventually(
        lambda: any(isinstance(e, VisitorChanged) for e in agent_events_of(agent_socket)), "the arrival on hub A"
    )
    send = SendMessage(ref="r1", id="message-0001", visitor_id="visitor-0001", text="Hello from A")
    await hub_a.agent_request(agent, send)
    await eventually(
        lambda: any(isinstance(e, VisitorMessage) for e in visitor_events_of(tab_socket)), "the message on hub B"
    )
    [message] = [e.message for e in visitor_events_of(tab_socket) if isinstance(e, VisitorMessage)]
    assert (message.text, message.author, message.delivered_at is not None) == ("Hello from A", "agent", True)


async def test_a_ban_on_one_hub_closes_the_tabs_on_the_other(cluster: Cluster) -> None:
    hub_a, hub_b = cluster.hubs
    agent, _agent_socket = await cluster.agent(hub_a)
    _tab, tab_socket = await cluster.tab(hub_b, "visitor-0002", "tab-000002")
    await hub_a.agent_request(agent, Ban(ref="r1", visitor_id="visitor-0002"))
    await eventually(lambda: tab_socket.closed is not None, "the tab on hub B to close")
    assert tab_socket.closed == (4403, "banned")
    assert isinstance(visitor_events_of(tab_socket)[-1], Banned)
    again = VisitorConn(Outbox(cast(Any, RecordingSocket()), 10), "tab-000003")
    hello = VisitorHello(visitor_id="visitor-0002", tab_id="tab-000003", url="https://shop.example/")
    assert not await hub_b.visitor_hello(await cluster.account(hub_b), again, hello, ip=None, user_agent="")


async def test_tabs_on_two_hubs_are_one_visitor_that_leaves_once(cluster: Cluster) -> None:
    hub_a, hub_b = cluster.hubs
    _agent, agent_socket = await cluster.agent(hub_a)
    tab_a, _ = await cluster.tab(hub_a, "visitor-0003", "tab-00000a")
    tab_b, _ = await cluster.tab(hub_b, "visitor-0003", "tab-00000b")
    assert await hub_a.seams.presence.tabs(cluster.account_id, "visitor-0003") == 2
    await hub_a.visitor_disconnected(await cluster.account(hub_a), tab_a)

    def offline() -> list[VisitorPatch]:
        return [e for e in agent_events_of(agent_socket) if isinstance(e, VisitorPatch) and e.online is False]

    assert not offline(), "one tab is still open on hub B"
    await hub_b.visitor_disconnected(await cluster.account(hub_b), tab_b)
    await eventually(lambda: len(offline()) == 1, "offline once")
    await eventually(
        lambda: any(isinstance(e, VisitorLeft) for e in agent_events_of(agent_socket)), "left after the grace period"
    )
    await asyncio.sleep(0.3)  # both hubs' grace timers have fired by now
    events = agent_events_of(agent_socket)
    assert len([e for e in events if isinstance(e, VisitorLeft)]) == 1
    assert len(offline()) == 1
    assert [e.visitor.id for e in events if isinstance(e, VisitorChanged)] == ["visitor-0003"], "arrived once"


async def test_a_rule_fires_once_when_two_hubs_race(cluster: Cluster) -> None:
    spec = RuleSpec(name="pricing", message="Prices?", conditions=RuleConditions(url_contains="pricing"))
    rule = await cluster.store.add_rule(cluster.account_id, spec)
    for hub in cluster.hubs:
        hub.rules_changed(cluster.account_id, [rule])
    _agent, agent_socket = await cluster.agent(cluster.hubs[0])
    accounts = [await cluster.account(hub) for hub in cluster.hubs]
    tabs: list[tuple[int, VisitorConn, RecordingSocket]] = []
    for n in range(10, 20):
        for side, hub in enumerate(cluster.hubs):  # every visitor has a tab on each hub
            conn, socket = await cluster.tab(hub, f"visitor-{n:04d}", f"tab-{n:04d}-{side}")
            tabs.append((side, conn, socket))
    pricing = PageView(url="https://shop.example/pricing")
    await asyncio.gather(*(cluster.hubs[side].visitor_event(accounts[side], conn, pricing) for side, conn, _ in tabs))

    def auto() -> list[ChatMessage]:
        return [e.message for e in agent_events_of(agent_socket) if isinstance(e, MessageAdded)]

    await eventually(lambda: len(auto()) >= 10, "ten automatic messages")
    await asyncio.sleep(0.1)  # a second firing would have arrived by now
    assert sorted(m.visitor_id for m in auto()) == [f"visitor-{n:04d}" for n in range(10, 20)], "one per visitor"
    for _side, _conn, socket in tabs:
        got = [e for e in visitor_events_of(socket) if isinstance(e, VisitorMessage)]
        assert len(got) == 1, "each tab, on either hub, shows the message once"


async def test_an_erasure_on_one_hub_reaches_the_shared_presence_and_log(cluster: Cluster) -> None:
    hub_a, hub_b = cluster.hubs
    ada = await cluster.store.agent_by_email("ada@shop.example")
    assert ada is not None
    await cluster.store.set_role(ada.id, "admin")  # erasure needs an admin
    agent, agent_socket = await cluster.agent(hub_a)
    tab, _tab_socket = await cluster.tab(hub_b, "visitor-0030", "tab-000030")
    await hub_b.visitor_event(await cluster.account(hub_b), tab, Identify(name="Grace Hopper"))
    await eventually(
        lambda: any(isinstance(e, VisitorPatch) and e.name == "Grace Hopper" for e in agent_events_of(agent_socket)),
        "the name on hub A",
    )
    before = await hub_a.seams.log.position(cluster.account_id)
    erase = EraseVisitor(ref="r1", visitor_id="visitor-0030")
    await hub_a.agent_request(agent, erase)
    await eventually(
        lambda: any(isinstance(e, Result) and e.ref == "r1" for e in agent_events_of(agent_socket)), "the answer"
    )
    events = agent_events_of(agent_socket)
    left = next(i for i, e in enumerate(events) if isinstance(e, VisitorLeft))
    [anonymous] = [e.visitor for e in events[left:] if isinstance(e, VisitorChanged)]
    assert (anonymous.id, anonymous.name, anonymous.online) == ("visitor-0030", None, True), "still on the site"
    record = await hub_b.visitor_record(cluster.account_id, "visitor-0030")
    assert record is not None
    assert record.name is None, "hub B reads the anonymous record"
    replay = await hub_b.seams.log.since(cluster.account_id, before.seq - 1, before.epoch)
    assert replay is None, "nothing from before the erasure is replayable"


async def test_a_ban_covering_the_address_refuses_it_on_the_other_hub(cluster: Cluster) -> None:
    hub_a, hub_b = cluster.hubs
    agent, _agent_socket = await cluster.agent(hub_a)
    conn = VisitorConn(Outbox(cast(Any, RecordingSocket()), 10), "tab-000040")
    hello = VisitorHello(visitor_id="visitor-0040", tab_id="tab-000040", url="https://shop.example/")
    assert await hub_b.visitor_hello(await cluster.account(hub_b), conn, hello, ip="203.0.113.9", user_agent="")
    await hub_a.agent_request(agent, Ban(ref="r1", visitor_id="visitor-0040", cover_ip=True))
    other = VisitorConn(Outbox(cast(Any, RecordingSocket()), 10), "tab-000041")
    stranger = VisitorHello(tab_id="tab-000041", url="https://shop.example/")
    account_b = await cluster.account(hub_b)
    await eventually(lambda: account_b.ip_bans > 0, "hub B to re-read the account's IP bans")
    assert not await hub_b.visitor_hello(account_b, other, stranger, ip="203.0.113.9", user_agent="")
    elsewhere = VisitorConn(Outbox(cast(Any, RecordingSocket()), 10), "tab-000042")
    assert await hub_b.visitor_hello(account_b, elsewhere, stranger, ip="198.51.100.7", user_agent="")


async def test_a_role_change_reconnects_the_agents_sockets_on_every_hub(cluster: Cluster) -> None:
    hub_a, hub_b = cluster.hubs
    agent, agent_socket = await cluster.agent(hub_b)
    await hub_a.agent_changed(agent.agent.id)
    await eventually(lambda: agent.outbox.closing, "the socket on hub B to close")
    await agent.outbox.flush(1.0)
    assert agent_socket.closed is not None
    assert agent_socket.closed[0] == 1012


async def test_a_waiting_chat_alerts_again_after_the_hub_that_stored_it_stopped(tmp_path: Path) -> None:
    async with two_hubs(tmp_path, Settings(leave_grace_seconds=30, rule_tick_seconds=0.1)) as cluster:
        hub_a, hub_b = cluster.hubs
        await TeamStore(cluster.store.engine).set_unanswered_alert_seconds(cluster.account_id, 1)
        _agent, agent_socket = await cluster.agent(hub_b)
        tab, _tab_socket = await cluster.tab(hub_a, "visitor-0050", "tab-000050")
        await hub_a.visitor_event(await cluster.account(hub_a), tab, VisitorChat(id="message-0050", text="Hello?"))

        def alerts() -> list[UnansweredAlert]:
            return [e for e in agent_events_of(agent_socket) if isinstance(e, UnansweredAlert)]

        await eventually(
            lambda: any(isinstance(e, MessageAdded) for e in agent_events_of(agent_socket)), "the message on hub B"
        )
        # Hub A stored the message and armed the re-alert; it goes away before the alert is due (a
        # process that dies takes its timers along).
        await hub_a.stop()
        assert not alerts()
        await eventually(lambda: bool(alerts()), "the re-alert from hub B")
        (first,) = alerts()[:1]
        assert first.visitor_id == "visitor-0050"
        # The re-alert repeats while the chat waits, still from hub B alone.
        await eventually(lambda: len(alerts()) >= 2, "the next re-alert")
        assert {a.waiting_since for a in alerts()} == {first.waiting_since}


async def test_a_due_re_alert_is_taken_by_exactly_one_of_many_processes(tmp_path: Path) -> None:
    engine = create_engine(normalize_database_url(f"sqlite:///{tmp_path / 'alerts.sqlite3'}"))
    await migrate(engine)
    try:
        store = TeamStore(engine)
        await store.arm_alert(1, "visitor-0060", waiting_since=100.0, due_at=110.0)
        await store.arm_alert(1, "visitor-0060", waiting_since=105.0, due_at=115.0)  # a later message: kept
        (due,) = await store.due_alerts(now=120.0)
        assert (due.waiting_since, due.due_at) == (100.0, 110.0)
        assert await store.due_alerts(now=109.0) == []
        won = await asyncio.gather(*(store.take_alert(due, next_due_at=130.0) for _ in range(5)))
        assert sorted(won) == [False, False, False, False, True]
        assert await store.due_alerts(now=120.0) == []
        await store.drop_alert(1, "visitor-0060")
        assert await store.alert(1, "visitor-0060") is None
    finally:
        await engine.dispose()


async def test_an_erasure_from_the_command_line_reaches_a_visitor_with_tabs_on_two_hubs(cluster: Cluster) -> None:
    hub_a, hub_b = cluster.hubs
    _agent, agent_socket = await cluster.agent(hub_a)
    await cluster.tab(hub_a, "visitor-0070", "tab-00070a")
    await cluster.tab(hub_b, "visitor-0070", "tab-00070b")
    await hub_a.identify(await cluster.account(hub_a), "visitor-0070", Identify(name="Grace Hopper"))
    await eventually(
        lambda: any(isinstance(e, VisitorPatch) and e.name == "Grace Hopper" for e in agent_events_of(agent_socket)),
        "the name",
    )
    before = len(agent_socket.frames)
    # What `frontdesk-server visitor erase --redis` does: SQL, then a control message to every process.
    command = Services(
        settings=Settings(), engine=cluster.store.engine, store=cluster.store, geo=Geolocator(),
        control=hub_a.seams.control,
    )  # fmt: skip
    await admin.erase_visitor(command, cluster.account_id, "visitor-0070")

    def after() -> list[ServerToAgent]:
        return agent_events_of(agent_socket)[before:] if len(agent_socket.frames) > before else []

    def arrivals() -> list[VisitorChanged]:
        return [e for e in after() if isinstance(e, VisitorChanged) and e.visitor.id == "visitor-0070"]

    await eventually(lambda: bool(arrivals()), "the anonymous visitor")
    await asyncio.sleep(0.5)  # what a second process would add arrives by now
    assert [a.visitor.name for a in arrivals()] == [None], "the anonymous visitor arrives once"
    assert sum(isinstance(e, VisitorLeft) for e in after()) == 1


async def test_a_bot_changed_through_one_hub_is_read_again_at_once_by_the_other(cluster: Cluster) -> None:
    hub_a, hub_b = cluster.hubs
    bots = BotStore(cluster.store.engine)
    spec = msgspec.convert(
        {
            "name": "Offline",
            "trigger": {"kind": "chat_opened_offline"},
            "start": "bye",
            "steps": [{"id": "bye", "kind": "hand_over"}],
        },
        FlowSpec,
    )
    flow = await bots.add(cluster.account_id, spec)
    assert await hub_b.bots.has_triggers(cluster.account_id, "chat_opened_offline")  # now cached on B
    await bots.delete(cluster.account_id, flow.id)
    hub_a.flows_changed(cluster.account_id)  # what the REST API does after a change through hub A
    deadline = asyncio.get_running_loop().time() + 1.0  # well inside the flow cache's own 5 s
    while await hub_b.bots.has_triggers(cluster.account_id, "chat_opened_offline"):
        assert asyncio.get_running_loop().time() < deadline, "hub B still runs the deleted bot"
        await asyncio.sleep(0.01)
