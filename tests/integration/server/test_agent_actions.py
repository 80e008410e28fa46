"""Agent actions with server-side enforcement: plans, idempotent sends, bans, isolation, typing."""

from __future__ import annotations

import asyncio

import pytest
from websockets.exceptions import ConnectionClosed

from protocol.codec import encode
from protocol.messages import AgentTyping as AgentTypingRequest
from protocol.messages import (
    AgentTypingToVisitor,
    Ban,
    Banned,
    ChatClosed,
    CloseCode,
    CloseConversation,
    Error,
    ErrorCode,
    GetHistory,
    History,
    MarkRead,
    MessageAdded,
    MessageUpdated,
    OpenConversation,
    Result,
    SendMessage,
    Typing,
    Unban,
    VisitorChanged,
    VisitorChat,
    VisitorMessage,
    VisitorPatch,
    VisitorTyping,
)
from protocol.rules import Plan
from tests.fixtures.clients import AgentSocket, VisitorSocket, new_id, ref, until_closed
from tests.fixtures.server import LiveServer, Tenant


async def _agent(live_server: LiveServer, tenant: Tenant) -> AgentSocket:
    token = live_server.login(tenant.agent_email, tenant.agent_password)
    agent = await AgentSocket.connect(live_server.agent_ws_url, token)
    await agent.hello()
    return agent


async def _nothing_arrives(visitor: VisitorSocket, within: float = 0.3) -> None:
    with pytest.raises(TimeoutError):
        await visitor.recv(within)


async def test_free_plan_cannot_start_a_conversation(live_server: LiveServer) -> None:
    tenant = live_server.create_account(Plan.FREE)
    agent = await _agent(live_server, tenant)
    async with agent, await VisitorSocket.connect(live_server.visitor_url(tenant.account_key)) as visitor:
        await agent.wait_for_visitor()
        opened = await agent.request(OpenConversation(ref=ref(), visitor_id=visitor.visitor_id))
        assert isinstance(opened, Error)
        assert opened.code is ErrorCode.PLAN_REQUIRED
        assert "STANDARD or PRO" in opened.message
        sent = await agent.request(SendMessage(ref=ref(), id=new_id(), visitor_id=visitor.visitor_id, text="Hi"))
        assert isinstance(sent, Error)
        assert sent.code is ErrorCode.PLAN_REQUIRED
        await _nothing_arrives(visitor)
        history = await agent.request(GetHistory(ref=ref(), visitor_id=visitor.visitor_id))
        assert isinstance(history, History)
        assert history.messages == []


async def test_free_plan_may_answer_a_visitor_started_chat(live_server: LiveServer) -> None:
    tenant = live_server.create_account(Plan.FREE)
    agent = await _agent(live_server, tenant)
    async with agent, await VisitorSocket.connect(live_server.visitor_url(tenant.account_key)) as visitor:
        await visitor.send(VisitorChat(id=new_id(), text="Do you ship to Austria?"))
        await agent.wait_for(MessageAdded)
        sent = await agent.request(
            SendMessage(ref=ref(), id=new_id(), visitor_id=visitor.visitor_id, text="Yes, we do.")
        )
        assert isinstance(sent, Result)
        reply = await visitor.wait_for(VisitorMessage)
        assert reply.message.text == "Yes, we do."


async def test_pro_plan_delivers_a_proactive_message(live_server: LiveServer) -> None:
    tenant = live_server.create_account(Plan.PRO)
    agent = await _agent(live_server, tenant)
    async with agent, await VisitorSocket.connect(live_server.visitor_url(tenant.account_key)) as visitor:
        opened = await agent.request(OpenConversation(ref=ref(), visitor_id=visitor.visitor_id))
        assert isinstance(opened, Result)
        changed = await agent.wait_for_visitor(lambda v: v.chat_status == "active")
        assert changed.in_chat
        assert changed.chat_agent_name
        sent = await agent.request(SendMessage(ref=ref(), id=new_id(), visitor_id=visitor.visitor_id, text="Hello!"))
        assert isinstance(sent, Result)
        message = await visitor.wait_for(VisitorMessage)
        assert message.message.text == "Hello!"
        assert message.message.author == "agent"


async def test_resend_with_the_same_id_is_a_no_op(live_server: LiveServer) -> None:
    tenant = live_server.create_account(Plan.PRO)
    agent = await _agent(live_server, tenant)
    async with agent, await VisitorSocket.connect(live_server.visitor_url(tenant.account_key)) as visitor:
        request = SendMessage(ref=ref(), id=new_id(), visitor_id=visitor.visitor_id, text="Only once")
        assert isinstance(await agent.request(request), Result)
        again = SendMessage(ref=ref(), id=request.id, visitor_id=visitor.visitor_id, text="Only once")
        assert isinstance(await agent.request(again), Result)
        await visitor.wait_for(VisitorMessage)
        await _nothing_arrives(visitor)
        added = [e for e in agent.events if isinstance(e, MessageAdded)]
        assert [e.message.id for e in added] == [request.id]
        history = await agent.request(GetHistory(ref=ref(), visitor_id=visitor.visitor_id))
        assert isinstance(history, History)
        assert [m.id for m in history.messages] == [request.id]


async def test_typing_goes_both_ways_and_is_not_a_delta(live_server: LiveServer) -> None:
    tenant = live_server.create_account(Plan.PRO)
    agent = await _agent(live_server, tenant)
    async with agent, await VisitorSocket.connect(live_server.visitor_url(tenant.account_key)) as visitor:
        await visitor.send(VisitorTyping(typing=True))
        typing = await agent.wait_for(Typing)
        assert (typing.visitor_id, typing.who, typing.typing) == (visitor.visitor_id, "visitor", True)
        await agent.ws.send(encode(AgentTypingRequest(visitor_id=visitor.visitor_id, typing=True)).decode())
        to_visitor = await visitor.wait_for(AgentTypingToVisitor)
        assert to_visitor.typing


async def test_close_and_mark_read(live_server: LiveServer) -> None:
    tenant = live_server.create_account(Plan.FREE)
    agent = await _agent(live_server, tenant)
    async with agent, await VisitorSocket.connect(live_server.visitor_url(tenant.account_key)) as visitor:
        message_id = new_id()
        await visitor.send(VisitorChat(id=message_id, text="Hello?"))
        await agent.wait_for_visitor(lambda v: v.unread == 1)
        assert isinstance(await agent.request(MarkRead(ref=ref(), visitor_id=visitor.visitor_id)), Result)
        updated = await agent.wait_for(MessageUpdated)
        assert updated.message_id == message_id
        assert updated.read_at is not None
        await agent.wait_for_visitor(lambda v: v.unread == 0)
        closed = await agent.request(CloseConversation(ref=ref(), visitor_id=visitor.visitor_id))
        assert isinstance(closed, Result)
        await visitor.wait_for(ChatClosed)
        await agent.wait_for_visitor(lambda v: v.chat_status == "closed" and not v.in_chat)
        again = await agent.request(CloseConversation(ref=ref(), visitor_id=visitor.visitor_id))
        assert isinstance(again, Error)
        assert again.code is ErrorCode.CONVERSATION_CLOSED


async def test_ban_closes_refuses_and_drops_messages_then_unban(live_server: LiveServer) -> None:
    tenant = live_server.create_account(Plan.PRO)
    agent = await _agent(live_server, tenant)
    url = live_server.visitor_url(tenant.account_key)
    async with agent:
        visitor = await VisitorSocket.connect(url)
        second_tab = await VisitorSocket.connect(url, visitor_id=visitor.visitor_id)
        assert second_tab.visitor_id == visitor.visitor_id
        banned = await agent.request(Ban(ref=ref(), visitor_id=visitor.visitor_id, reason="spam"))
        assert isinstance(banned, Result)
        for tab in (visitor, second_tab):
            assert isinstance(await tab.recv(1.0), Banned)
            with pytest.raises(ConnectionClosed):
                await tab.recv(1.0)
            assert tab.ws.close_code == CloseCode.FORBIDDEN
        changed = await agent.wait_for_visitor(lambda v: v.banned)
        assert not changed.online

        with pytest.raises(ConnectionRefusedError) as refused:
            await VisitorSocket.connect(url, visitor_id=visitor.visitor_id)
        assert isinstance(refused.value.args[0], Banned)

        # A second agent still sees the banned visitor (the Blocked filter lists it).
        other = await AgentSocket.connect(
            live_server.agent_ws_url, live_server.login(tenant.agent_email, tenant.agent_password)
        )
        async with other:
            await other.hello()
            snapshot = await other.recv()
            listed = {v.id: v for v in snapshot.visitors}  # type: ignore[union-attr]
            assert listed[visitor.visitor_id].banned
            assert not listed[visitor.visitor_id].online

        sent = await agent.request(SendMessage(ref=ref(), id=new_id(), visitor_id=visitor.visitor_id, text="x"))
        assert isinstance(sent, Error)
        assert sent.code is ErrorCode.BANNED

        assert isinstance(await agent.request(Unban(ref=ref(), visitor_id=visitor.visitor_id)), Result)
        await agent.wait_for_visitor(lambda v: not v.banned)
        async with await VisitorSocket.connect(url, visitor_id=visitor.visitor_id) as back:
            assert back.visitor_id == visitor.visitor_id
            await back.send(VisitorChat(id=new_id(), text="I am back"))
            await agent.wait_for(MessageAdded)


async def test_banned_visitor_messages_are_not_stored(live_server: LiveServer) -> None:
    tenant = live_server.create_account(Plan.PRO)
    agent = await _agent(live_server, tenant)
    async with agent:
        visitor = await VisitorSocket.connect(live_server.visitor_url(tenant.account_key))
        assert isinstance(await agent.request(Ban(ref=ref(), visitor_id=visitor.visitor_id)), Result)
        # Frames racing the close are dropped, never stored.
        for _ in range(3):
            try:
                await visitor.send(VisitorChat(id=new_id(), text="let me in"))
            except ConnectionClosed:
                break
        await asyncio.sleep(0.2)
        history = await agent.request(GetHistory(ref=ref(), visitor_id=visitor.visitor_id))
        assert isinstance(history, History)
        assert history.messages == []
        assert not [e for e in agent.events if isinstance(e, MessageAdded)]


async def test_agents_cannot_see_or_touch_another_accounts_visitors(live_server: LiveServer) -> None:
    mine = live_server.create_account(Plan.PRO)
    theirs = live_server.create_account(Plan.PRO)
    agent = await _agent(live_server, mine)
    async with agent, await VisitorSocket.connect(live_server.visitor_url(theirs.account_key)) as stranger:
        await asyncio.sleep(0.2)
        assert not [e for e in agent.events if isinstance(e, VisitorChanged | VisitorPatch)]
        for request in (
            OpenConversation(ref=ref(), visitor_id=stranger.visitor_id),
            SendMessage(ref=ref(), id=new_id(), visitor_id=stranger.visitor_id, text="hi"),
            Ban(ref=ref(), visitor_id=stranger.visitor_id),
            Unban(ref=ref(), visitor_id=stranger.visitor_id),
            MarkRead(ref=ref(), visitor_id=stranger.visitor_id),
            CloseConversation(ref=ref(), visitor_id=stranger.visitor_id),
            GetHistory(ref=ref(), visitor_id=stranger.visitor_id),
        ):
            answer = await agent.request(request)
            assert isinstance(answer, Error), request
            assert answer.code is ErrorCode.NOT_FOUND
        nonexistent = await agent.request(GetHistory(ref=ref(), visitor_id=new_id()))
        assert isinstance(nonexistent, Error)
        assert nonexistent.code is ErrorCode.NOT_FOUND
        await _nothing_arrives(stranger)


async def test_plan_change_reconnects_agents_with_new_capabilities(live_server: LiveServer) -> None:
    tenant = live_server.create_account(Plan.FREE)
    token = live_server.login(tenant.agent_email, tenant.agent_password)
    async with (
        await AgentSocket.connect(live_server.agent_ws_url, token) as agent,
        await VisitorSocket.connect(live_server.visitor_url(tenant.account_key)) as visitor,
    ):
        hello = await agent.hello()
        assert not hello.capabilities.proactive_chat
        live_server.set_plan(tenant.account_id, Plan.PRO)
        with pytest.raises(ConnectionClosed):
            await until_closed(agent.ws)
        assert agent.ws.close_code == 1012
        async with await AgentSocket.connect(
            live_server.agent_ws_url, token, resume_from=hello.seq, epoch=hello.epoch
        ) as again:
            upgraded = await again.hello()
            assert upgraded.capabilities.proactive_chat
            opened = await again.request(OpenConversation(ref=ref(), visitor_id=visitor.visitor_id))
            assert isinstance(opened, Result)


async def test_agent_typing_reaches_the_other_agents_not_the_typist(live_server: LiveServer) -> None:
    tenant = live_server.create_account(Plan.PRO)
    typist = await _agent(live_server, tenant)
    colleague = await _agent(live_server, tenant)
    async with typist, colleague, await VisitorSocket.connect(live_server.visitor_url(tenant.account_key)) as visitor:
        await colleague.wait_for_visitor()
        await typist.ws.send(encode(AgentTypingRequest(visitor_id=visitor.visitor_id, typing=True)).decode())
        seen = await colleague.wait_for(Typing)
        assert (seen.who, seen.typing, seen.agent_name) == ("agent", True, tenant.agent_email.split("@")[0])
        history = await typist.request(GetHistory(ref=ref(), visitor_id=visitor.visitor_id))
        assert isinstance(history, History)
        assert not [e for e in typist.events if isinstance(e, Typing)]
