"""Bad input and security: schema errors, frame size, origins, rate limits, auth, logs."""

from __future__ import annotations

import asyncio
import logging

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from protocol.codec import agent_events, encode, visitor_events
from protocol.messages import (
    Ack,
    Activity,
    Auth,
    CloseCode,
    Error,
    ErrorCode,
    GetHistory,
    History,
    MessageAdded,
    SendMessage,
    VisitorChat,
)
from protocol.rules import PROTOCOL_VERSION, Plan
from server import admin
from server.config import RateLimit
from server.embedded import WS_MAX_BYTES
from tests.fixtures.clients import AgentSocket, VisitorSocket, new_id, ref, until_closed
from tests.fixtures.server import LiveServer


async def test_bad_agent_frames_get_an_error_naming_the_field_and_keep_the_socket(live_server: LiveServer) -> None:
    tenant = live_server.create_account()
    token = live_server.login(tenant.agent_email, tenant.agent_password)
    async with (
        await AgentSocket.connect(live_server.agent_ws_url, token) as agent,
        await VisitorSocket.connect(live_server.visitor_url(tenant.account_key)) as visitor,
    ):
        await agent.wait_for_visitor()
        await agent.ws.send("this is not json")
        not_json = await agent.wait_for(Error)
        assert not_json.code is ErrorCode.BAD_FRAME
        assert "JSON" in not_json.message

        await agent.ws.send(
            f'{{"type": "send_message", "ref": "r-bad", "id": "m1234567", "visitor_id": "{visitor.visitor_id}", '
            '"text": ""}'
        )
        empty_text = await agent.wait_for(Error)
        assert empty_text.code is ErrorCode.BAD_FRAME
        assert "$.text" in empty_text.message
        assert empty_text.ref == "r-bad"

        await agent.ws.send('{"type": "launch_rockets", "ref": "r-x"}')
        unknown = await agent.wait_for(Error)
        assert unknown.code is ErrorCode.BAD_FRAME
        assert "launch_rockets" in unknown.message

        # Nothing changed, and the socket still works.
        history = await agent.request(GetHistory(ref=ref(), visitor_id=visitor.visitor_id))
        assert isinstance(history, History)
        assert history.messages == []


async def test_bad_visitor_frames_get_an_error_and_keep_the_socket(live_server: LiveServer) -> None:
    tenant = live_server.create_account()
    async with await VisitorSocket.connect(live_server.visitor_url(tenant.account_key)) as visitor:
        await visitor.ws.send('{"type": "page_view", "title": "no url"}')
        error = await visitor.wait_for(Error)
        assert error.code is ErrorCode.BAD_FRAME
        assert "url" in error.message
        message_id = new_id()
        await visitor.send(VisitorChat(id=message_id, text="still here"))
        ack = await visitor.wait_for(Ack)
        assert ack.id == message_id


async def test_oversized_frame_closes_with_1009(live_server: LiveServer) -> None:
    tenant = live_server.create_account()
    async with await VisitorSocket.connect(live_server.visitor_url(tenant.account_key)) as visitor:
        await visitor.ws.send('{"type": "chat_message", "id": "m12345678", "text": "' + "x" * WS_MAX_BYTES + '"}')
        with pytest.raises(ConnectionClosed):
            await visitor.recv(3.0)
        assert visitor.ws.close_code == CloseCode.MESSAGE_TOO_BIG


async def test_foreign_origin_is_refused_and_allowed_ones_pass(live_server: LiveServer) -> None:
    tenant = live_server.create_account(allowed_origins=["https://shop.example"])
    url = live_server.visitor_url(tenant.account_key)
    async with connect(url, origin="https://evil.example") as ws:  # type: ignore[arg-type]
        error = visitor_events.decode(await asyncio.wait_for(ws.recv(), 5))
        assert isinstance(error, Error)
        assert error.code is ErrorCode.ORIGIN_NOT_ALLOWED
        assert "allowed origins" in error.message
        with pytest.raises(ConnectionClosed):
            await asyncio.wait_for(ws.recv(), 5)
        assert ws.close_code == CloseCode.FORBIDDEN
    for origin in ("https://shop.example", "http://localhost:3000", "http://127.0.0.1:8080"):
        async with await VisitorSocket.connect(url, origin=origin) as visitor:
            assert visitor.visitor_id


async def test_unknown_account_key_is_refused(live_server: LiveServer) -> None:
    async with connect(live_server.visitor_url("acc_doesnotexist")) as ws:
        error = visitor_events.decode(await asyncio.wait_for(ws.recv(), 5))
        assert isinstance(error, Error)
        assert error.code is ErrorCode.UNKNOWN_ACCOUNT
        with pytest.raises(ConnectionClosed):
            await asyncio.wait_for(ws.recv(), 5)
        assert ws.close_code == CloseCode.FORBIDDEN


async def test_rate_limit_answers_then_closes_on_abuse(live_server_factory) -> None:  # type: ignore[no-untyped-def]
    server: LiveServer = live_server_factory(visitor_rate=RateLimit(burst=5, per_second=0.01, close_after=10))
    tenant = server.create_account()
    async with await VisitorSocket.connect(server.visitor_url(tenant.account_key)) as visitor:
        for _ in range(5):
            await visitor.send(Activity(kind="scroll"))
        await visitor.send(Activity(kind="scroll"))
        limited = await visitor.wait_for(Error)
        assert limited.code is ErrorCode.RATE_LIMITED
        for _ in range(20):
            try:
                await visitor.send(Activity(kind="scroll"))
            except ConnectionClosed:
                break
        with pytest.raises(ConnectionClosed):
            await until_closed(visitor.ws)
        assert visitor.ws.close_code == CloseCode.RATE_LIMITED


async def test_agent_must_authenticate_in_time(live_server_factory) -> None:  # type: ignore[no-untyped-def]
    server: LiveServer = live_server_factory(auth_timeout_seconds=0.3)
    async with connect(server.agent_ws_url) as ws:
        error = agent_events.decode(await asyncio.wait_for(ws.recv(), 5))
        assert isinstance(error, Error)
        assert error.code is ErrorCode.AUTH_TIMEOUT
        with pytest.raises(ConnectionClosed):
            await asyncio.wait_for(ws.recv(), 5)
        assert ws.close_code == CloseCode.UNAUTHORIZED


@pytest.mark.parametrize(
    ("auth", "code", "close"),
    [
        (Auth(token="not-a-real-token", protocol=PROTOCOL_VERSION), ErrorCode.UNAUTHORIZED, CloseCode.UNAUTHORIZED),
        (
            Auth(token="whatever", protocol=PROTOCOL_VERSION + 1),
            ErrorCode.INCOMPATIBLE_PROTOCOL,
            CloseCode.INCOMPATIBLE,
        ),
        (GetHistory(ref="r1", visitor_id="v12345678"), ErrorCode.UNAUTHORIZED, CloseCode.UNAUTHORIZED),
    ],
)
async def test_bad_auth_is_refused(live_server: LiveServer, auth: Auth, code: ErrorCode, close: int) -> None:
    async with connect(live_server.agent_ws_url) as ws:
        await ws.send(encode(auth).decode())
        error = agent_events.decode(await asyncio.wait_for(ws.recv(), 5))
        assert isinstance(error, Error)
        assert error.code is code
        with pytest.raises(ConnectionClosed):
            await asyncio.wait_for(ws.recv(), 5)
        assert ws.close_code == close


async def test_no_tokens_passwords_or_message_texts_in_logs(
    live_server: LiveServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    tenant = live_server.create_account(Plan.PRO)
    async with httpx.AsyncClient() as client:
        response = await client.post(
            f"{live_server.http_url}/api/v1/auth/login",
            json={"email": tenant.agent_email, "password": tenant.agent_password},
        )
        token = response.json()["token"]
        await client.post(f"{live_server.http_url}/api/v1/auth/login", json={"email": "a@b.c", "password": "oops-pw"})
    secret_text = "my credit card is 4111 1111 1111 1111"
    async with (
        await AgentSocket.connect(live_server.agent_ws_url, token) as agent,
        await VisitorSocket.connect(live_server.visitor_url(tenant.account_key)) as visitor,
    ):
        await visitor.send(VisitorChat(id=new_id(), text=secret_text))
        await agent.wait_for(MessageAdded)
        await agent.request(SendMessage(ref=ref(), id=new_id(), visitor_id=visitor.visitor_id, text="agent secret"))
        await agent.ws.send('{"type": "send_message", "text": "' + secret_text + '"}')
        await agent.wait_for(Error)
    async with httpx.AsyncClient() as client:
        await client.post(f"{live_server.http_url}/api/v1/auth/logout", headers={"Authorization": f"Bearer {token}"})
    # The test's own clients (websockets.client, httpx) log what they send; only the server's logs count.
    client_loggers = ("websockets.client", "httpx", "httpcore")
    logged = "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith(client_loggers))
    assert "uvicorn.error" in {r.name for r in caplog.records}, "the server's logs were captured"
    for secret in (token, tenant.agent_password, "oops-pw", secret_text, "agent secret", tenant.api_key):
        assert secret not in logged


async def test_allowed_origins_change_takes_effect_at_once(live_server: LiveServer) -> None:
    tenant = live_server.create_account()
    url = live_server.visitor_url(tenant.account_key)
    with pytest.raises(ConnectionRefusedError):
        await VisitorSocket.connect(url, origin="https://shop.example")
    live_server.call(
        admin.set_allowed_origins, live_server.server.services, tenant.account_id, ["https://shop.example"]
    )
    async with await VisitorSocket.connect(url, origin="https://shop.example") as visitor:
        assert visitor.visitor_id


async def test_widget_must_say_hello_in_time(live_server_factory) -> None:  # type: ignore[no-untyped-def]
    server: LiveServer = live_server_factory(auth_timeout_seconds=0.3)
    tenant = server.create_account()
    async with connect(server.visitor_url(tenant.account_key)) as ws:
        error = visitor_events.decode(await asyncio.wait_for(ws.recv(), 5))
        assert isinstance(error, Error)
        assert error.code is ErrorCode.BAD_FRAME
        assert "hello" in error.message
        with pytest.raises(ConnectionClosed):
            await until_closed(ws)
        assert ws.close_code == 1008
