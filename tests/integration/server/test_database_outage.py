"""A database that stops answering: sockets are refused with a reason and 1013, and work again once it is back."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from protocol.codec import agent_events, encode, visitor_events
from protocol.messages import Ack, Auth, CloseCode, Error, ErrorCode, Hello, VisitorHello, VisitorLeft
from protocol.rules import PROTOCOL_VERSION, Plan
from server.embedded import EmbeddedServer
from tests.fixtures.clients import TIMEOUT, AgentSocket, VisitorSocket, new_id
from tests.fixtures.postgres import allow_connections, postgres_cluster, postgres_url
from tests.fixtures.server import VISITOR_SOCKET_PATHS, LiveServer

__all__ = ["postgres_cluster", "postgres_url"]

PATHS = VISITOR_SOCKET_PATHS


@pytest.fixture(params=sorted(PATHS))
def live(request: pytest.FixtureRequest, postgres_url: str) -> Iterator[LiveServer]:
    """A server on PostgreSQL whose widget sockets take the parametrized path."""
    server = EmbeddedServer(postgres_url, uvicorn_options=PATHS[request.param], leave_grace_seconds=1.0)
    server.start()
    try:
        yield LiveServer(server)
    finally:
        server.stop()


async def _refusal(url: str, first: str, decode: Any) -> tuple[Error, int | None]:
    """Connect, send ``first``, and return the error frame and the close code that follow."""
    async with connect(url) as ws:
        await ws.send(first)
        error = decode(await asyncio.wait_for(ws.recv(), TIMEOUT))
        with pytest.raises(ConnectionClosed):
            await asyncio.wait_for(ws.recv(), TIMEOUT)
        assert isinstance(error, Error)
        return error, ws.close_code


@pytest.mark.slow
async def test_sockets_are_refused_with_a_reason_while_the_database_is_down(
    live: LiveServer, postgres_url: str
) -> None:
    tenant = live.create_account(Plan.PRO)
    token = live.login(tenant.agent_email, tenant.agent_password)
    cluster_url, database = postgres_url.rsplit("/", 1)
    hello = encode(VisitorHello(tab_id=new_id("tab"), url="https://shop.example/", title="Shop")).decode()
    auth = encode(Auth(token=token, protocol=PROTOCOL_VERSION)).decode()

    await allow_connections(cluster_url, database, allow=False)
    try:
        # The widget's account is read from the database on its first socket: refused, try again later.
        error, code = await _refusal(live.visitor_url(tenant.account_key), hello, visitor_events.decode)
        assert error.code == ErrorCode.UNAVAILABLE
        assert "database" in error.message
        assert code == CloseCode.TRY_AGAIN_LATER
        # The agent's token likewise.
        error, code = await _refusal(live.agent_ws_url, auth, agent_events.decode)
        assert error.code == ErrorCode.UNAVAILABLE
        assert code == CloseCode.TRY_AGAIN_LATER
    finally:
        await allow_connections(cluster_url, database, allow=True)

    # Back: the same sockets connect, and the visitor refused before is not left half attached anywhere.
    async with await AgentSocket.connect(live.agent_ws_url, token) as agent:
        assert isinstance(await agent.hello(), Hello)
        snapshot = await agent.snapshot()
        assert snapshot.visitors == []
        async with await VisitorSocket.connect(live.visitor_url(tenant.account_key)) as visitor:
            seen = await agent.wait_for_visitor()
            assert seen.id == visitor.visitor_id
            assert seen.online


@pytest.mark.slow
async def test_a_hello_failing_half_way_is_detached_and_the_visitor_still_leaves(
    live: LiveServer, postgres_url: str
) -> None:
    """A returning tab within the grace period is attached, then its conversation cannot be read: refused,
    detached, and the visitor leaves when the grace period ends (it used to stay attached for ever)."""
    tenant = live.create_account(Plan.PRO)
    token = live.login(tenant.agent_email, tenant.agent_password)
    cluster_url, database = postgres_url.rsplit("/", 1)
    async with await AgentSocket.connect(live.agent_ws_url, token) as agent:
        await agent.hello()
        async with await VisitorSocket.connect(live.visitor_url(tenant.account_key)) as first:
            known = first.visitor_id
            await first.ws.send('{"type": "chat_message", "id": "m12345678", "text": "Hello?"}')
            await first.wait_for(Ack)
        await agent.wait_for_visitor(lambda v: v.id == known and not v.online)
        hello = encode(
            VisitorHello(visitor_id=known, tab_id=new_id("tab"), url="https://shop.example/", title="Shop")
        ).decode()
        await allow_connections(cluster_url, database, allow=False)
        try:
            error, code = await _refusal(live.visitor_url(tenant.account_key), hello, visitor_events.decode)
        finally:
            await allow_connections(cluster_url, database, allow=True)
        assert error.code == ErrorCode.UNAVAILABLE
        assert code == CloseCode.TRY_AGAIN_LATER
        left = await agent.wait_for(VisitorLeft, lambda e: e.visitor_id == known)
        assert left.visitor_id == known
