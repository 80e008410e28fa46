"""Protocol 2 on a real server: old apps refused plainly, paged snapshots, patches, trails on demand."""

from __future__ import annotations

import json

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from protocol.codec import agent_events, encode
from protocol.messages import (
    Error,
    ErrorCode,
    GetTrail,
    PageView,
    Snapshot,
    Trail,
    VisitorChanged,
    VisitorLeft,
    VisitorPatch,
)
from protocol.rules import Plan
from server.live.hub import SNAPSHOT_PAGE
from server.live.record import VisitorState, encode_all
from server.services import Services
from tests.fixtures.clients import AgentSocket, VisitorSocket, ref, until_closed
from tests.fixtures.server import LiveServer
from tests.unit.desktop.factory import make_visitor


async def test_an_app_of_protocol_1_is_told_to_update(live_server: LiveServer) -> None:
    tenant = live_server.create_account(Plan.PRO)
    token = live_server.login(tenant.agent_email, tenant.agent_password)
    async with connect(live_server.agent_ws_url) as ws:
        # Exactly what the previous app version sends.
        await ws.send(json.dumps({"type": "auth", "token": token, "protocol": 1, "resume_from": None}))
        error = agent_events.decode(await ws.recv())
        assert isinstance(error, Error)
        assert error.code == ErrorCode.INCOMPATIBLE_PROTOCOL
        assert "update the app" in error.message
        with pytest.raises(ConnectionClosed):
            await until_closed(ws)
        assert ws.close_code == 4426


async def _preload(services: Services, account_id: int, count: int) -> None:
    assert services.hub is not None
    await services.hub.account(account_id)
    presence = services.hub.seams.presence
    for n in range(count):
        await presence.store(account_id, f"visitor-{n:08d}", encode_all(VisitorState(record=make_visitor(n))))


async def test_a_large_account_arrives_in_pages_then_the_deltas(live_server: LiveServer) -> None:
    tenant = live_server.create_account(Plan.PRO)
    count = 2 * SNAPSHOT_PAGE + 17
    live_server.call(_preload, live_server.server.services, tenant.account_id, count)
    token = live_server.login(tenant.agent_email, tenant.agent_password)
    async with await AgentSocket.connect(live_server.agent_ws_url, token) as agent:
        hello = await agent.hello()
        snapshot_pages: list[Snapshot] = []
        while not snapshot_pages or snapshot_pages[-1].more:
            snapshot_pages.append(await agent.wait_for(Snapshot))
        assert [p.part for p in snapshot_pages] == [0, 1, 2]
        assert [len(p.visitors) for p in snapshot_pages] == [SNAPSHOT_PAGE, SNAPSHOT_PAGE, 17]
        assert {p.seq for p in snapshot_pages} == {hello.seq}
        assert len(agent.visitors) == count
        assert all(v.pages == () for p in snapshot_pages for v in p.visitors), "no trails in a snapshot"
        async with await VisitorSocket.connect(live_server.visitor_url(tenant.account_key)) as visitor:
            arrived = await agent.wait_for(VisitorChanged)
            assert arrived.seq == hello.seq + 1
            assert arrived.visitor.id == visitor.visitor_id
        assert len(agent.visitors) == count + 1


async def test_a_page_view_carries_the_page_and_the_trail_comes_on_request(live_server: LiveServer) -> None:
    tenant = live_server.create_account(Plan.PRO)
    token = live_server.login(tenant.agent_email, tenant.agent_password)
    async with (
        await AgentSocket.connect(live_server.agent_ws_url, token) as agent,
        await VisitorSocket.connect(live_server.visitor_url(tenant.account_key)) as visitor,
    ):
        await agent.hello()
        arrived = await agent.wait_for(VisitorChanged)
        assert arrived.visitor.pages == ()
        for n in range(8):
            await visitor.send(PageView(url=f"https://shop.example/p{n}", title=f"P{n}"))
        last = await agent.wait_for(VisitorPatch, lambda e: e.current_url == "https://shop.example/p7")
        assert last.page is not None
        assert last.page.url == "https://shop.example/p7"  # type: ignore[union-attr]
        assert len(encode(last)) < 300, "one page, not the whole record with its trail"
        trail = await agent.request(GetTrail(ref=ref(), visitor_id=visitor.visitor_id))
        assert isinstance(trail, Trail)
        assert [p.url for p in trail.pages] == [
            "https://shop.example/",
            *(f"https://shop.example/p{n}" for n in range(8)),
        ]
        unknown = await agent.request(GetTrail(ref=ref(), visitor_id="visitor-unknown1"))
        assert isinstance(unknown, Error)
        assert unknown.code == ErrorCode.NOT_FOUND
        assert not [e for e in agent.events if isinstance(e, VisitorLeft)]
