"""The same server code on PostgreSQL (asyncpg): migrations, chat, bans, identify, rules, resume, restart."""

from __future__ import annotations

import asyncio

import httpx
import pytest
import sqlalchemy as sa

from protocol.messages import (
    Ack,
    Ban,
    Banned,
    EraseVisitor,
    GetHistory,
    History,
    Identify,
    MessageAdded,
    PageView,
    Result,
    SendMessage,
    Snapshot,
    Unban,
    VisitorMessage,
    VisitorPatch,
)
from protocol.rules import Plan
from server import db
from server.embedded import EmbeddedServer
from server.rules import RuleConditions, RuleSpec
from tests.fixtures.clients import AgentSocket, VisitorSocket, new_id, ref
from tests.fixtures.postgres import postgres_cluster, postgres_url
from tests.fixtures.server import LiveServer

__all__ = ["postgres_cluster", "postgres_url"]


@pytest.mark.slow
async def test_everything_on_postgresql(postgres_url: str) -> None:
    server = EmbeddedServer(postgres_url)
    server.start()
    try:
        live = LiveServer(server)
        tenant = live.create_account(Plan.PRO)
        live.add_rule(
            tenant.account_id,
            RuleSpec(name="cart", message="Need help with your cart?", conditions=RuleConditions(url_contains="/cart")),
        )
        async with httpx.AsyncClient() as client:
            login = await client.post(
                f"{live.http_url}/api/v1/auth/login",
                json={"email": tenant.agent_email, "password": tenant.agent_password},
            )
        token = login.json()["token"]
        async with await AgentSocket.connect(live.agent_ws_url, token) as agent:
            hello = await agent.hello()
            visitor = await VisitorSocket.connect(live.visitor_url(tenant.account_key))
            await agent.wait_for_visitor()
            await visitor.send(PageView(url="https://shop.example/cart", title="Cart"))
            auto = await visitor.wait_for(VisitorMessage)
            assert auto.message.author == "auto"
            # A NUL (refused by PostgreSQL) is stripped by the protocol's text rule, not lost with the message.
            await visitor.ws.send('{"type": "chat_message", "id": "m12345678", "text": "Hi from\\u0000 PostgreSQL"}')
            await visitor.wait_for(Ack)
            await agent.wait_for(MessageAdded, lambda e: e.message.author == "visitor")
            sent = await agent.request(SendMessage(ref=ref(), id=new_id(), visitor_id=visitor.visitor_id, text="Hi!"))
            assert isinstance(sent, Result)
            await visitor.wait_for(VisitorMessage)

            async with httpx.AsyncClient() as client:
                identified = await client.post(
                    f"{live.http_url}/api/v1/visitors/{visitor.visitor_id}/identify",
                    json={"name": "Grace", "email": "grace@example.com"},
                    headers={"X-Api-Key": tenant.api_key},
                )
            assert identified.status_code == 204
            await agent.wait_for_visitor(lambda v: v.customer)

            assert isinstance(await agent.request(Ban(ref=ref(), visitor_id=visitor.visitor_id)), Result)
            assert isinstance(await visitor.wait_for(Banned), Banned)
            assert isinstance(await agent.request(Unban(ref=ref(), visitor_id=visitor.visitor_id)), Result)

        async with await AgentSocket.connect(
            live.agent_ws_url, token, resume_from=hello.seq, epoch=hello.epoch
        ) as resumed:
            await resumed.hello()
            replayed = await resumed.wait_for(MessageAdded, lambda e: e.message.author == "visitor")
            assert replayed.message.text == "Hi from PostgreSQL"
    finally:
        server.stop()

    # Restarted on the same database: migrations are a no-op and everything stored is still there.
    again = EmbeddedServer(postgres_url)
    again.start()
    try:
        live = LiveServer(again)
        token = live.login(tenant.agent_email, tenant.agent_password)
        async with (
            await VisitorSocket.connect(live.visitor_url(tenant.account_key), visitor_id=visitor.visitor_id) as back,
            await AgentSocket.connect(live.agent_ws_url, token) as agent,
        ):
            assert back.welcome.name == "Grace"
            snapshot = await agent.wait_for(Snapshot)
            [record] = [v for v in snapshot.visitors if v.id == visitor.visitor_id]
            assert record.visit_count == 2
            assert record.customer
            history = await agent.request(GetHistory(ref=ref(), visitor_id=visitor.visitor_id))
            assert isinstance(history, History)
            assert [m.author for m in history.messages] == ["auto", "visitor", "agent"]
    finally:
        again.stop()


@pytest.mark.slow
async def test_privacy_on_postgresql_erasure_leaves_no_row_and_the_audit_says_who(postgres_url: str) -> None:
    server = EmbeddedServer(postgres_url)
    server.start()
    try:
        live = LiveServer(server)
        tenant = live.create_account(Plan.PRO)
        token = live.login(tenant.agent_email, tenant.agent_password)
        async with await AgentSocket.connect(live.agent_ws_url, token) as agent:
            await agent.hello()
            visitor = await VisitorSocket.connect(live.visitor_url(tenant.account_key))
            await visitor.send(Identify(name="Erika Mustermann", custom={"kdnr": "K-77"}))
            await visitor.ws.send('{"type": "chat_message", "id": "m87654321", "text": "Null\\u0000byte"}')
            await visitor.wait_for(Ack)
            await agent.wait_for(VisitorPatch, lambda e: e.name == "Erika Mustermann")
            assert isinstance(await agent.request(EraseVisitor(ref=ref(), visitor_id=visitor.visitor_id)), Result)
            await visitor.ws.close()

        async def dump() -> str:
            rows: list[str] = []
            async with server.services.engine.connect() as conn:
                for table in db.metadata.sorted_tables:
                    rows.extend(repr(tuple(row)) for row in await conn.execute(sa.select(table)))
            return "\n".join(rows)

        everything = await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(dump(), server.loop))
        for trace in ("Erika", "K-77", "Nullbyte"):
            assert trace not in everything
        async with httpx.AsyncClient() as client:
            audit = await client.get(
                f"{live.http_url}/api/v1/account/audit", headers={"Authorization": f"Bearer {token}"}
            )
        assert [line["action"] for line in audit.json()] == ["erase"]
    finally:
        server.stop()
