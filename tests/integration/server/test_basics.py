"""The agent and visitor endpoints end to end: hello, snapshot, live deltas, chat."""

from __future__ import annotations

import httpx

from protocol.messages import (
    Ack,
    Hello,
    MessageAdded,
    Result,
    SendMessage,
    Snapshot,
    VisitorChanged,
    VisitorChat,
    VisitorMessage,
)
from protocol.rules import PROTOCOL_VERSION, Plan
from tests.fixtures.clients import AgentSocket, VisitorSocket, new_id, ref
from tests.fixtures.server import LiveServer


def test_health(live_server: LiveServer) -> None:
    response = httpx.get(f"{live_server.http_url}/api/v1/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "version": "0.1.0", "protocol": PROTOCOL_VERSION}


async def test_visitor_appears_and_chats_with_agent(live_server: LiveServer) -> None:
    tenant = live_server.create_account(Plan.PRO)
    token = live_server.login(tenant.agent_email, tenant.agent_password)
    async with await AgentSocket.connect(live_server.agent_ws_url, token) as agent:
        hello = await agent.recv()
        assert isinstance(hello, Hello)
        assert hello.account.plan is Plan.PRO
        assert hello.capabilities.proactive_chat
        snapshot = await agent.recv()
        assert isinstance(snapshot, Snapshot)
        assert snapshot.visitors == []
        assert snapshot.seq == hello.seq

        async with await VisitorSocket.connect(
            live_server.visitor_url(tenant.account_key),
            user_agent_header="Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/126.0 Safari/537.36",
        ) as visitor:
            arrived = await agent.wait_for(VisitorChanged)
            assert arrived.seq == hello.seq + 1
            record = arrived.visitor
            assert record.id == visitor.visitor_id
            assert record.online
            assert record.country_code == "AT"
            assert record.country == "Austria"
            assert record.browser == "Chrome 126"
            assert record.os == "Linux"
            assert record.device == "desktop"
            assert record.current_url == "https://shop.example/"

            await visitor.send(VisitorChat(id=new_id("m"), text="Hello, anyone there?"))
            ack = await visitor.wait_for(Ack)
            added = await agent.wait_for(MessageAdded)
            assert added.message.id == ack.id
            assert added.message.text == "Hello, anyone there?"
            changed = await agent.wait_for_visitor(lambda v: v.chat_status == "unanswered")
            assert changed.unread == 1

            result = await agent.request(
                SendMessage(ref=ref(), id=new_id("m"), visitor_id=visitor.visitor_id, text="Hi, how can I help?")
            )
            assert isinstance(result, Result)
            delivered = await visitor.wait_for(VisitorMessage)
            assert delivered.message.text == "Hi, how can I help?"
            assert delivered.message.author == "agent"
