"""AgentClient and sign-in against scripted peers, for what the real server never does on purpose.

The real server cannot be made to send a malformed frame, skip a seq or speak another protocol version,
so these tests use a small websockets (or HTTP) server that plays the server's part frame by frame.
Everything else (sign-in, snapshot, deltas, reconnect, revocation) is tested against the real server.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator

import pytest
from websockets.asyncio.server import ServerConnection, serve

from desktop.core.store import VisitorStore
from desktop.net.auth import AuthError, check_server, login
from desktop.net.client import AgentClient, ConnectionState
from protocol.codec import agent_requests, encode
from protocol.messages import (
    AccountInfo,
    AgentInfo,
    Auth,
    Error,
    Hello,
    Snapshot,
    VisitorChanged,
)
from protocol.rules import PROTOCOL_VERSION, Plan, capabilities_for
from tests.unit.desktop.factory import make_visitor

TIMEOUT = 10.0
Script = Callable[[ServerConnection, Auth, int], Awaitable[None]]


def fast_delays() -> Iterator[float]:
    while True:
        yield 0.02


def hello(protocol: int = PROTOCOL_VERSION, seq: int = 0) -> str:
    return encode(
        Hello(
            protocol=protocol,
            server_version="test",
            agent=AgentInfo(id=1, email="a@example.com", name="A"),
            account=AccountInfo(id=1, name="Shop", plan=Plan.PRO),
            capabilities=capabilities_for(Plan.PRO),
            seq=seq,
            epoch="test-epoch",
        )
    ).decode()


async def run_against(
    script: Script, until: Callable[[AgentClient], bool], errors: list[Error] | None = None
) -> tuple[AgentClient, list[Auth]]:
    """Run a client against the scripted peer until ``until(client)``; returns the auth frames received."""
    auths: list[Auth] = []

    async def handler(ws: ServerConnection) -> None:
        auth = agent_requests.decode(await ws.recv())
        assert isinstance(auth, Auth)
        auths.append(auth)
        await script(ws, auth, len(auths))

    async with serve(handler, "127.0.0.1", 0) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        client = AgentClient(
            f"http://127.0.0.1:{port}",
            "token",
            VisitorStore(),
            delays=fast_delays,
            on_error=errors.append if errors is not None else None,
        )
        task = asyncio.get_running_loop().create_task(client.run())
        deadline = asyncio.get_running_loop().time() + TIMEOUT
        while not until(client):
            assert asyncio.get_running_loop().time() < deadline, f"timed out; state {client.state}"
            await asyncio.sleep(0.01)
        await client.close()
        await asyncio.wait_for(task, TIMEOUT)
    return client, auths


async def test_a_bad_frame_is_reported_and_the_connection_stays() -> None:
    errors: list[Error] = []

    async def script(ws: ServerConnection, _auth: Auth, _n: int) -> None:
        await ws.send(hello())
        await ws.send(encode(Snapshot(seq=5, reason="initial", visitors=[make_visitor(1)])).decode())
        await ws.send('{"type": "visitor", "seq": "six"}')
        await ws.send("not json")
        await ws.send(encode(VisitorChanged(seq=6, visitor=make_visitor(2))).decode())
        await ws.wait_closed()

    client, auths = await run_against(script, lambda c: c.store.seq == 6, errors)
    assert len(auths) == 1
    assert len(client.store.visitors) == 2
    assert [e.code for e in errors] == ["bad_frame", "bad_frame"]
    assert "cannot read" in errors[0].message


async def test_a_seq_gap_reconnects_and_resumes_from_the_last_applied() -> None:
    async def script(ws: ServerConnection, auth: Auth, n: int) -> None:
        await ws.send(hello(seq=7))
        if n == 1:
            await ws.send(encode(Snapshot(seq=5, reason="initial", visitors=[make_visitor(1)])).decode())
            await ws.send(encode(VisitorChanged(seq=7, visitor=make_visitor(3))).decode())  # 6 is missing
        else:
            assert auth.resume_from == 5
            await ws.send(encode(Snapshot(seq=7, reason="resume_unavailable", visitors=[make_visitor(3)])).decode())
        await ws.wait_closed()

    client, auths = await run_against(script, lambda c: c.store.seq == 7)
    assert [a.resume_from for a in auths] == [None, 5]
    assert [a.epoch for a in auths] == [None, "test-epoch"], "the seq goes back with its epoch"
    assert list(client.store.visitors) == ["visitor-00000003"]
    assert client.connections == 2


async def test_a_paged_snapshot_is_online_after_its_last_page_and_a_cut_one_starts_over() -> None:
    def page(part: int, more: bool, *numbers: int) -> str:
        visitors = [make_visitor(n) for n in numbers]
        return encode(Snapshot(seq=9, reason="initial", visitors=visitors, part=part, more=more)).decode()

    async def script(ws: ServerConnection, auth: Auth, n: int) -> None:
        await ws.send(hello(seq=9))
        await ws.send(page(0, True, 1, 2))
        if n == 1:
            await ws.close()  # cut after the first page: the list is incomplete
            return
        await ws.send(page(1, True, 3))
        await ws.send(page(2, False, 4))
        await ws.wait_closed()

    client, auths = await run_against(script, lambda c: c.online)
    assert [(a.resume_from, a.epoch) for a in auths] == [(None, None), (None, None)], "nothing to resume"
    assert sorted(client.store.visitors) == [f"visitor-{n:08d}" for n in (1, 2, 3, 4)]
    assert client.store.seq == 9
    assert client.connections == 1


async def test_another_protocol_version_stops_without_retrying() -> None:
    async def script(ws: ServerConnection, _auth: Auth, _n: int) -> None:
        await ws.send(hello(protocol=PROTOCOL_VERSION + 1))
        await ws.wait_closed()

    client, auths = await run_against(script, lambda c: c.state is ConnectionState.INCOMPATIBLE)
    assert len(auths) == 1
    assert client.state is ConnectionState.INCOMPATIBLE


async def test_the_servers_incompatible_close_code_stops_too() -> None:
    async def script(ws: ServerConnection, _auth: Auth, _n: int) -> None:
        await ws.send(encode(Error(code="incompatible_protocol", message="update the app")).decode())  # type: ignore[arg-type]
        await ws.close(4426, "incompatible")

    client, auths = await run_against(script, lambda c: c.state is ConnectionState.INCOMPATIBLE)
    assert len(auths) == 1
    assert "update the app" in client.detail


async def serve_http(body: bytes, status: str = "200 OK") -> tuple[asyncio.Server, str]:
    """A one-answer HTTP server playing a server the app cannot work with."""

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(
            f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n"
            "Connection: close\r\n\r\n".encode()
            + body
        )
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    return server, f"http://127.0.0.1:{port}"


async def test_sign_in_refuses_a_server_of_another_protocol() -> None:
    server, url = await serve_http(b'{"status": "ok", "version": "9.0", "protocol": 99}')
    async with server:
        with pytest.raises(AuthError) as info:
            await login(url, "a@example.com", "pw")
    assert info.value.kind == "incompatible"
    assert "protocol 99" in info.value.message


async def test_sign_in_refuses_something_that_is_not_frontdesk() -> None:
    server, url = await serve_http(b"<html>hello</html>")
    async with server:
        with pytest.raises(AuthError) as info:
            await check_server(url)
    assert info.value.kind == "incompatible"
    server, url = await serve_http(b"{}", status="404 Not Found")
    async with server:
        with pytest.raises(AuthError) as info:
            await check_server(url)
    assert info.value.kind == "incompatible"
