"""The five defects of the black-box review (issue 12), each against a real server."""

from __future__ import annotations

import httpx
import pytest
from websockets.exceptions import ConnectionClosed

from protocol.codec import encode
from protocol.messages import (
    Ack,
    AgentTyping,
    AgentTypingToVisitor,
    CloseCode,
    Error,
    ErrorCode,
    GetHistory,
    History,
    MessageAdded,
    VisitorChanged,
    VisitorChat,
)
from protocol.rules import MAX_FRAME_BYTES, Plan
from server.config import RateLimit
from server.embedded import WS_MAX_BYTES
from tests.fixtures.clients import AgentSocket, VisitorSocket, new_id, ref, until_closed
from tests.fixtures.server import LiveServer


def _login(server: LiveServer, email: str, password: str, forwarded_for: str | None = None) -> int:
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    response = httpx.post(
        f"{server.http_url}/api/v1/auth/login", json={"email": email, "password": password}, headers=headers
    )
    return response.status_code


def test_own_successful_sign_in_does_not_reset_the_lockout_of_an_address(live_server: LiveServer) -> None:
    victim = live_server.create_account()
    mine = live_server.create_account()
    statuses = []
    for _round in range(3):
        statuses += [_login(live_server, victim.agent_email, "guess-wrong") for _ in range(9)]
        statuses.append(_login(live_server, mine.agent_email, mine.agent_password))
    wrong_accepted = [s for s in statuses if s == 401]
    assert len(wrong_accepted) == 10, "the address is locked after 10 failures a minute, whatever succeeds between"
    assert statuses[-1] == 429, "even the own account waits once the address is locked"


def test_failures_against_one_account_lock_it_from_every_address(live_server_factory) -> None:  # type: ignore[no-untyped-def]
    server: LiveServer = live_server_factory(forwarded_allow_ips="127.0.0.1")
    victim = server.create_account()
    other = server.create_account()
    statuses = [_login(server, victim.agent_email, "guess-wrong", f"203.0.113.{n}") for n in range(1, 11)]
    assert statuses == [401] * 10
    assert _login(server, victim.agent_email, victim.agent_password, "198.51.100.7") == 429
    # Another account from a fresh address is not affected, and its success clears only its own count.
    assert _login(server, other.agent_email, other.agent_password, "198.51.100.8") == 200


def test_x_forwarded_for_from_loopback_is_ignored_unless_configured(live_server_factory) -> None:  # type: ignore[no-untyped-def]
    plain: LiveServer = live_server_factory()
    statuses = [_login(plain, f"nobody{n}@example.com", "guess-wrong", f"203.0.113.{n}") for n in range(1, 12)]
    assert statuses[:10] == [401] * 10
    assert statuses[10] == 429, "every request came from 127.0.0.1; the header must not make them distinct"

    behind_proxy: LiveServer = live_server_factory(forwarded_allow_ips="127.0.0.1")
    statuses = [_login(behind_proxy, f"nobody{n}@example.com", "guess-wrong", f"203.0.113.{n}") for n in range(1, 12)]
    assert statuses == [401] * 11, "a configured proxy's header names the client"


DEEP = "[" * 1000 + "]" * 1000


async def test_deeply_nested_frames_get_bad_frame_and_keep_both_sockets(live_server: LiveServer) -> None:
    tenant = live_server.create_account()
    token = live_server.login(tenant.agent_email, tenant.agent_password)
    async with (
        await AgentSocket.connect(live_server.agent_ws_url, token) as agent,
        await VisitorSocket.connect(live_server.visitor_url(tenant.account_key)) as visitor,
    ):
        await agent.wait_for(VisitorChanged)
        await agent.ws.send('{"type": "get_history", "ref": "r-deep", "visitor_id": "v12345678", "x": ' + DEEP + "}")
        error = await agent.wait_for(Error)
        assert error.code is ErrorCode.BAD_FRAME
        assert "nested" in error.message
        history = await agent.request(GetHistory(ref=ref(), visitor_id=visitor.visitor_id))
        assert isinstance(history, History)

        await visitor.ws.send('{"type": "activity", "kind": ' + DEEP + "}")
        error_v = await visitor.wait_for(Error)
        assert error_v.code is ErrorCode.BAD_FRAME
        message_id = new_id()
        await visitor.send(VisitorChat(id=message_id, text="still open"))
        assert (await visitor.wait_for(Ack)).id == message_id


async def test_control_characters_are_stripped_from_text_and_newlines_kept(live_server: LiveServer) -> None:
    tenant = live_server.create_account()
    token = live_server.login(tenant.agent_email, tenant.agent_password)
    async with (
        await AgentSocket.connect(live_server.agent_ws_url, token) as agent,
        await VisitorSocket.connect(live_server.visitor_url(tenant.account_key)) as visitor,
    ):
        await visitor.ws.send('{"type": "chat_message", "id": "m12345678", "text": "a\\u0000b\\r\\nc\\td\\u001f"}')
        await visitor.wait_for(Ack)
        added = await agent.wait_for(MessageAdded)
        assert added.message.text == "ab\nc\td"
        history = await agent.request(GetHistory(ref=ref(), visitor_id=visitor.visitor_id))
        assert isinstance(history, History)
        assert [m.text for m in history.messages] == ["ab\nc\td"]


async def _read_until_closed(agent: AgentSocket) -> None:
    while True:
        await agent.recv()


async def test_the_last_rate_limited_error_before_4429_carries_its_ref(live_server_factory) -> None:  # type: ignore[no-untyped-def]
    server: LiveServer = live_server_factory(agent_rate=RateLimit(burst=2, per_second=0.01, close_after=3))
    tenant = server.create_account()
    token = server.login(tenant.agent_email, tenant.agent_password)
    async with await AgentSocket.connect(server.agent_ws_url, token) as agent:
        await agent.hello()
        refs = [f"rl{n}" for n in range(6)]
        for r in refs:
            try:
                await agent.ws.send(encode(GetHistory(ref=r, visitor_id="v12345678")).decode())
            except ConnectionClosed:
                break
        with pytest.raises(ConnectionClosed):
            await _read_until_closed(agent)
        assert agent.ws.close_code == CloseCode.RATE_LIMITED
        limited = [e for e in agent.events if isinstance(e, Error) and e.code is ErrorCode.RATE_LIMITED]
        assert len(limited) == 3
        assert [e.ref for e in limited] == refs[2:5]


async def test_a_frame_over_the_limit_gets_frame_too_large_and_a_huge_one_closes(live_server: LiveServer) -> None:
    tenant = live_server.create_account()
    token = live_server.login(tenant.agent_email, tenant.agent_password)
    async with await AgentSocket.connect(live_server.agent_ws_url, token) as agent:
        await agent.hello()
        padding = "x" * (MAX_FRAME_BYTES + 10)
        await agent.ws.send(
            '{"type": "get_history", "ref": "r-big", "visitor_id": "v12345678", "p": "' + padding + '"}'
        )
        error = await agent.wait_for(Error)
        assert error.code is ErrorCode.FRAME_TOO_LARGE
        assert error.ref == "r-big"
        assert isinstance(await agent.request(GetHistory(ref=ref(), visitor_id="v12345678")), Error)  # still open
        await agent.ws.send('{"type": "get_history", "p": "' + "x" * WS_MAX_BYTES + '"}')
        with pytest.raises(ConnectionClosed):
            await until_closed(agent.ws)
        assert agent.ws.close_code == CloseCode.MESSAGE_TOO_BIG


async def test_a_free_agent_typing_does_not_reach_a_visitor_who_never_wrote(live_server: LiveServer) -> None:
    tenant = live_server.create_account(Plan.FREE)
    token = live_server.login(tenant.agent_email, tenant.agent_password)
    async with (
        await AgentSocket.connect(live_server.agent_ws_url, token) as agent,
        await VisitorSocket.connect(live_server.visitor_url(tenant.account_key)) as visitor,
    ):
        await agent.wait_for(VisitorChanged)
        await agent.ws.send(encode(AgentTyping(visitor_id=visitor.visitor_id, typing=True)).decode())
        await agent.request(GetHistory(ref=ref(), visitor_id=visitor.visitor_id))  # the typing was handled
        await visitor.send(VisitorChat(id=new_id(), text="hello?"))
        await visitor.wait_for(Ack)
        assert not [e for e in visitor.events if isinstance(e, AgentTypingToVisitor)]
        # Once the visitor wrote, every plan may answer, and typing shows.
        await agent.wait_for(MessageAdded)
        await agent.ws.send(encode(AgentTyping(visitor_id=visitor.visitor_id, typing=True)).decode())
        typing = await visitor.wait_for(AgentTypingToVisitor)
        assert typing.typing
