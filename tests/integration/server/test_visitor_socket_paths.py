"""The widget endpoint on both of its paths: callbacks (uvicorn with our protocol class) and the Litestar handler.

Both run the same rules (``server.visitor``); these tests hold the behaviour the callback path owns
itself (handshake, framing, keepalive, shutdown, proxy trust) to what the ASGI path does.
"""

from __future__ import annotations

import asyncio
import base64
import gc
import os
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from protocol.codec import encode, visitor_events
from protocol.messages import CloseCode, Error, ErrorCode, PageView, VisitorHello, Welcome
from server.embedded import EmbeddedServer
from server.security import ip_hash
from server.visitor import VisitorSession
from server.wsprotocol import LeanWebSocketProtocol
from server.wsvisitor import VisitorProtocol
from tests.fixtures.clients import TIMEOUT, VisitorSocket, new_id, until_closed
from tests.fixtures.server import VISITOR_SOCKET_PATHS, LiveServer, start_live_server

PATHS = VISITOR_SOCKET_PATHS


@pytest.fixture(params=sorted(PATHS))
def start(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    """Start servers whose widget sockets take the parametrized path."""
    started: list[EmbeddedServer] = []

    def run(uvicorn_options: dict[str, Any] | None = None, **settings: Any) -> LiveServer:
        options = {**PATHS[request.param], **(uvicorn_options or {})}
        server = start_live_server(tmp_path / f"s{len(started)}", uvicorn_options=options, **settings)
        started.append(server)
        return LiveServer(server)

    run.path = request.param  # type: ignore[attr-defined]
    try:
        yield run
    finally:
        for server in started:
            server.stop()


def _hello() -> str:
    return encode(VisitorHello(tab_id=new_id("tab"), url="https://shop.example/", title="Shop")).decode()


async def _tasks() -> int:
    return len(asyncio.all_tasks())


async def _visitor_sockets(server: LiveServer) -> int:
    hub = server.server.services.hub
    assert hub is not None
    return hub.sockets()[1]


async def _until(predicate: Any, within: float = TIMEOUT) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not predicate():
        assert asyncio.get_running_loop().time() < deadline, "condition not reached in time"
        await asyncio.sleep(0.02)


async def test_refusals_errors_and_disconnect(start: Any) -> None:
    server: LiveServer = start()
    tenant = server.create_account()
    url = server.visitor_url(tenant.account_key)
    async with connect(server.visitor_url("acc_doesnotexist")) as ws:
        error = visitor_events.decode(await asyncio.wait_for(ws.recv(), TIMEOUT))
        assert isinstance(error, Error)
        assert error.code is ErrorCode.UNKNOWN_ACCOUNT
        with pytest.raises(ConnectionClosed):
            await until_closed(ws)
        assert ws.close_code == CloseCode.FORBIDDEN
    async with connect(url) as ws:
        await ws.send(encode(PageView(url="https://shop.example/", title="x")).decode())
        error = visitor_events.decode(await asyncio.wait_for(ws.recv(), TIMEOUT))
        assert isinstance(error, Error)
        assert "hello" in error.message
        with pytest.raises(ConnectionClosed):
            await until_closed(ws)
        assert ws.close_code == 1008
    visitor = await VisitorSocket.connect(url)
    await visitor.ws.send('{"type": "page_view"')
    assert (await visitor.wait_for(Error)).code is ErrorCode.BAD_FRAME
    await visitor.ws.send(_hello())
    assert "already" in (await visitor.wait_for(Error)).message
    assert server.call(_visitor_sockets, server) == 1
    await visitor.ws.close()
    await _until(lambda: server.call(_visitor_sockets, server) == 0)


async def test_an_idle_widget_socket_holds_no_task_on_the_callback_path(start: Any) -> None:
    server: LiveServer = start()
    tenant = server.create_account()
    url = server.visitor_url(tenant.account_key)
    warm = await VisitorSocket.connect(url)  # the account is loaded, its background work started
    await asyncio.sleep(0.2)
    before = server.call(_tasks)
    visitors = [await VisitorSocket.connect(url) for _ in range(30)]
    await asyncio.sleep(0.2)
    grown = server.call(_tasks) - before
    if start.path == "callbacks":
        assert grown < 5, f"{grown} tasks for 30 idle widget sockets"
    else:
        assert grown >= 30  # one handler task per socket: what the callback path saves
    for visitor in [warm, *visitors]:
        await visitor.ws.close()
    await _until(lambda: server.call(_visitor_sockets, server) == 0)


async def test_a_fragmented_hello_is_welcomed(start: Any) -> None:
    server: LiveServer = start()
    tenant = server.create_account()
    async with connect(server.visitor_url(tenant.account_key)) as ws:
        hello = _hello()
        await ws.send([hello[:10], hello[10:30], hello[30:]])
        assert isinstance(visitor_events.decode(await asyncio.wait_for(ws.recv(), TIMEOUT)), Welcome)


@pytest.mark.parametrize("trusted", [None, "127.0.0.1"])
async def test_x_forwarded_for_counts_only_from_a_trusted_proxy(start: Any, trusted: str | None) -> None:
    server: LiveServer = start(forwarded_allow_ips=trusted)
    tenant = server.create_account()
    visitor = await VisitorSocket.connect(
        server.visitor_url(tenant.account_key), additional_headers={"X-Forwarded-For": "203.0.113.9"}
    )

    async def seen_hash() -> tuple[str | None, str]:
        hub = server.server.services.hub
        assert hub is not None
        account = await hub.account(tenant.account_id)
        assert account is not None
        return account.tabs[visitor.visitor_id][0].ip_hash, account.ip_key

    seen, key = server.call(seen_hash)
    expected = "203.0.113.9" if trusted else "127.0.0.1"
    assert seen == ip_hash(key, expected)
    await visitor.ws.close()


async def _raw_handshake(
    host: str, port: int, path: str, extra: str = ""
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    reader, writer = await asyncio.open_connection(host, port)
    key = base64.b64encode(os.urandom(16)).decode()
    writer.write(
        f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n{extra}\r\n".encode()
    )
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), TIMEOUT)
    assert head.startswith(b"HTTP/1.1 101"), head
    return reader, writer


async def _server_frame(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    first, second = await asyncio.wait_for(reader.readexactly(2), TIMEOUT)
    size = second & 0x7F
    if size == 126:
        (size,) = struct.unpack("!H", await reader.readexactly(2))
    elif size == 127:
        (size,) = struct.unpack("!Q", await reader.readexactly(8))
    return first & 0x0F, await reader.readexactly(size)


async def test_keepalive_closes_a_peer_that_never_answers_pings(start: Any) -> None:
    server: LiveServer = start(uvicorn_options={"ws_ping_interval": 0.2, "ws_ping_timeout": 0.3})
    tenant = server.create_account()
    url = server.visitor_url(tenant.account_key)
    answering = await VisitorSocket.connect(url)  # the websockets client answers pings itself
    host, port = server.server.settings.host, server.server.port
    reader, writer = await _raw_handshake(host, port, f"/ws/visitor?account={tenant.account_key}")
    try:
        opcodes = []
        while True:
            opcode, payload = await _server_frame(reader)
            opcodes.append(opcode)
            if opcode == 0x8:
                break
        assert 0x9 in opcodes  # pinged first
        assert struct.unpack("!H", payload[:2])[0] == 1011
    finally:
        writer.close()
    await answering.send(PageView(url="https://shop.example/b", title="B"))
    await asyncio.sleep(0.8)  # several ping intervals: the answering peer is still served
    await answering.ws.send(_hello())
    assert "already" in (await answering.wait_for(Error)).message
    await answering.ws.close()


async def test_server_stop_closes_widget_sockets_with_1012(start: Any) -> None:
    server: LiveServer = start()
    tenant = server.create_account()
    visitor = await VisitorSocket.connect(server.visitor_url(tenant.account_key))
    await asyncio.get_running_loop().run_in_executor(None, server.server.stop)
    with pytest.raises(ConnectionClosed):
        await until_closed(visitor.ws)
    assert visitor.ws.close_code == 1012


def _client_text(text: str) -> bytes:
    """A masked client text frame (an all-zero mask leaves the payload as it is)."""
    data = text.encode()
    assert len(data) < 126
    return bytes([0x81, 0x80 | len(data)]) + b"\0\0\0\0" + data


async def test_repeated_headers_are_read_like_the_asgi_handler_reads_them(start: Any) -> None:
    server: LiveServer = start()
    tenant = server.create_account()
    host, port = server.server.settings.host, server.server.port
    path = f"/ws/visitor?account={tenant.account_key}"
    reader, writer = await _raw_handshake(host, port, path, "User-Agent: one\r\nUser-Agent: two\r\n")
    try:
        hello = encode(VisitorHello(tab_id=new_id("t"), url="https://s.example/", title="S")).decode()
        writer.write(_client_text(hello))
        opcode, payload = await _server_frame(reader)
        assert opcode == 0x1
        assert isinstance(visitor_events.decode(payload), Welcome)
    finally:
        writer.close()


async def _alive() -> dict[str, int]:
    gc.collect()
    kinds = {"protocol": LeanWebSocketProtocol, "visitor": VisitorProtocol, "session": VisitorSession}
    objects = gc.get_objects()
    return {name: sum(isinstance(o, kind) for o in objects) for name, kind in kinds.items()}


async def test_closed_widget_sockets_leave_nothing_behind(start: Any) -> None:
    server: LiveServer = start()
    tenant = server.create_account()
    url = server.visitor_url(tenant.account_key)
    visitors = [await VisitorSocket.connect(url) for _ in range(20)]
    alive = server.call(_alive)
    assert alive["session"] == 20
    assert alive["visitor"] == (20 if start.path == "callbacks" else 0)
    assert alive["protocol"] == (0 if start.path == "callbacks" else 20)  # uvicorn's object is handed over
    for visitor in visitors:
        await visitor.ws.close()
    await _until(lambda: server.call(_visitor_sockets, server) == 0)
    await _until(lambda: server.call(_alive) == {"protocol": 0, "visitor": 0, "session": 0})
