"""Privacy against a real server: roles, audit log, export, erasure, session-only visitors, no IP addresses kept."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest
import sqlalchemy as sa

from protocol.bots.flow import FlowSpec
from protocol.codec import encode
from protocol.messages import (
    Ack,
    AddNote,
    Ban,
    ChatOpened,
    EraseVisitor,
    Error,
    ErrorCode,
    Identify,
    MessageAdded,
    OpenConversation,
    PageView,
    Result,
    SendMessage,
    Snapshot,
    TakeOver,
    Unban,
    VisitorChanged,
    VisitorChat,
    VisitorHello,
    VisitorLeft,
    VisitorMessage,
    VisitorPatch,
)
from protocol.rules import Plan
from server import admin, db
from server.bots.store import BotStore
from tests.fixtures.clients import AgentSocket, VisitorSocket, new_id, ref
from tests.fixtures.server import DEFAULT_PASSWORD, LiveServer, Tenant


def _api(server: LiveServer, method: str, path: str, **kwargs: Any) -> httpx.Response:
    return httpx.request(method, f"{server.http_url}/api/v1{path}", timeout=10, **kwargs)


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _team(server: LiveServer, plan: Plan = Plan.PRO) -> tuple[Tenant, str, str]:
    """An account with its admin and a plain agent, both signed in."""
    tenant = server.create_account(plan)
    email = f"plain-{new_id()}@example.com"
    server.add_agent(tenant.account_id, email, DEFAULT_PASSWORD)
    return tenant, server.login(tenant.agent_email, tenant.agent_password), server.login(email, DEFAULT_PASSWORD)


async def _all_rows(server: LiveServer) -> str:
    """Every row of every table, as one string to search."""

    async def dump() -> str:
        rows: list[str] = []
        async with server.server.services.engine.connect() as conn:
            for table in db.metadata.sorted_tables:
                rows.extend(repr(tuple(row)) for row in await conn.execute(sa.select(table)))
        return "\n".join(rows)

    return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(dump(), server.server.loop))


async def test_a_plain_agent_is_refused_admin_actions_over_rest_and_the_socket(live_server: LiveServer) -> None:
    tenant, admin_token, agent_token = _team(live_server)
    login = _api(live_server, "POST", "/auth/login", json={"email": tenant.agent_email, "password": DEFAULT_PASSWORD})
    assert login.json()["agent"]["role"] == "admin"

    async with await VisitorSocket.connect(live_server.visitor_url(tenant.account_key)) as visitor:
        vid = visitor.visitor_id
        refused = [
            _api(live_server, "PUT", "/account/retention", json={"visitor_days": 1}, headers=_bearer(agent_token)),
            _api(live_server, "GET", f"/visitors/{vid}/export", headers=_bearer(agent_token)),
            _api(live_server, "DELETE", f"/visitors/{vid}", headers=_bearer(agent_token)),
            _api(live_server, "GET", "/account/audit", headers=_bearer(agent_token)),
            _api(
                live_server,
                "POST",
                "/rules",
                json={"name": "x", "message": "y", "conditions": {}},
                headers=_bearer(agent_token),
            ),
        ]
        for response in refused:
            assert response.status_code == 403, response.text
            assert response.json()["code"] == "forbidden"
            assert "admin" in response.json()["message"]
        # Every agent may read the retention settings.
        shown = _api(live_server, "GET", "/account/retention", headers=_bearer(agent_token))
        assert shown.json() == {"visitor_days": 90, "message_days": 365, "offline_days": 90}

        async with await AgentSocket.connect(live_server.agent_ws_url, agent_token) as agent:
            hello = await agent.hello()
            assert hello.agent.role == "agent"
            answer = await agent.request(EraseVisitor(ref="r-erase", visitor_id=vid))
            assert isinstance(answer, Error)
            assert (answer.code, answer.ref) == (ErrorCode.FORBIDDEN, "r-erase")

        changed = _api(
            live_server, "PUT", "/account/retention", json={"visitor_days": 30}, headers=_bearer(admin_token)
        )
        assert changed.status_code == 200, changed.text
        shown = _api(live_server, "GET", "/account/retention", headers=_bearer(agent_token))
        assert shown.json()["visitor_days"] == 30


async def test_the_audit_log_names_who_did_what_and_when(live_server: LiveServer) -> None:
    tenant, admin_token, agent_token = _team(live_server, Plan.FREE)
    live_server.set_plan(tenant.account_id, Plan.PRO)
    async with (
        await AgentSocket.connect(live_server.agent_ws_url, agent_token) as agent,
        await AgentSocket.connect(live_server.agent_ws_url, admin_token) as boss,
        await VisitorSocket.connect(live_server.visitor_url(tenant.account_key)) as visitor,
    ):
        await agent.hello()
        boss_hello = await boss.hello()
        vid = visitor.visitor_id
        assert isinstance(await agent.request(OpenConversation(ref=ref(), visitor_id=vid)), Result)
        held = await boss.request(OpenConversation(ref=ref(), visitor_id=vid))
        assert isinstance(held, Error)  # never a silent re-assignment: a take-over is its own request
        assert held.code == ErrorCode.CONVERSATION_HELD
        assert isinstance(await boss.request(TakeOver(ref=ref(), visitor_id=vid)), Result)
        assert isinstance(await boss.request(Ban(ref=ref(), visitor_id=vid, reason="spam")), Result)
        assert isinstance(await boss.request(Unban(ref=ref(), visitor_id=vid)), Result)
    assert _api(live_server, "GET", f"/visitors/{vid}/export", headers={"X-Api-Key": tenant.api_key}).status_code == 200
    agents = _api(live_server, "GET", "/account/agents", headers=_bearer(admin_token)).json()
    plain = next(a for a in agents if a.get("role", "agent") == "agent")
    promoted = _api(
        live_server, "PUT", f"/account/agents/{plain['id']}/role", json={"role": "admin"}, headers=_bearer(admin_token)
    )
    assert promoted.status_code == 200, promoted.text
    assert _api(live_server, "DELETE", f"/visitors/{vid}", headers=_bearer(admin_token)).status_code == 204

    lines = _api(live_server, "GET", "/account/audit", headers=_bearer(admin_token)).json()
    assert [line["action"] for line in reversed(lines)] == [
        "plan",
        "take_over",
        "ban",
        "unban",
        "export",
        "role",
        "erase",
    ]
    by_action = {line["action"]: line for line in lines}
    assert by_action["ban"]["actor"] == tenant.agent_email
    assert by_action["ban"]["agent_id"] == boss_hello.agent.id
    assert by_action["ban"]["target"] == vid
    assert by_action["export"]["actor"] == "API key"
    assert by_action["plan"]["actor"] == "command line"
    assert by_action["role"]["details"] == {"role": "admin"}
    assert all(line["at"] > 1_700_000_000 for line in lines)
    # The promoted agent may now read it too.
    assert _api(live_server, "GET", "/account/audit", headers=_bearer(agent_token)).status_code == 200


async def test_export_holds_every_message_and_page_and_erasure_leaves_no_trace(live_server: LiveServer) -> None:
    tenant = live_server.create_account(Plan.PRO)
    token = live_server.login(tenant.agent_email, tenant.agent_password)
    secret_texts = ["my order 4711 did not arrive", "please call me"]
    async with await AgentSocket.connect(live_server.agent_ws_url, token) as agent:
        hello = await agent.hello()
        visitor = await VisitorSocket.connect(
            live_server.visitor_url(tenant.account_key), page="https://shop.example/a"
        )
        vid = visitor.visitor_id
        await visitor.send(PageView(url="https://shop.example/b-orders", title="Orders"))
        await visitor.send(Identify(name="Grace Hopper", email="grace@example.com", custom={"crm": "crm-9931"}))
        for text in secret_texts:
            await visitor.send(VisitorChat(id=new_id(), text=text))
            await visitor.wait_for(Ack)
        await agent.request(SendMessage(ref=ref(), id=new_id(), visitor_id=vid, text="agent reply about 4711"))
        await agent.wait_for(VisitorPatch, lambda e: e.visitor_id == vid and e.customer is True)

        exported = _api(live_server, "GET", f"/visitors/{vid}/export", headers={"X-Api-Key": tenant.api_key}).json()
        texts = [m["text"] for m in exported["stored"]["messages"]]
        assert texts == [*secret_texts, "agent reply about 4711"]
        assert [p["url"] for p in exported["on_site_now"]["pages"]] == [
            "https://shop.example/a",
            "https://shop.example/b-orders",
        ]
        assert exported["stored"]["visitor"]["email"] == "grace@example.com"

        erased = await agent.request(EraseVisitor(ref=ref(), visitor_id=vid))
        assert isinstance(erased, Result)
        anonymous = await agent.wait_for(VisitorChanged, lambda e: e.visitor.id == vid and e.visitor.name is None)
        assert anonymous.visitor.pages == ()
        assert not anonymous.visitor.customer
        await visitor.ws.close()

    everything = await _all_rows(live_server)
    for trace in ("Grace Hopper", "grace@example.com", "crm-9931", *secret_texts, "4711", "b-orders"):
        assert trace not in everything
    record = live_server.call(_present_record, live_server, tenant.account_id, vid)
    assert record is None or (record.name, record.email, record.custom, record.pages) == (None, None, {}, ())
    # Resuming from before the erasure replays nothing that held them: a fresh snapshot comes instead.
    async with await AgentSocket.connect(
        live_server.agent_ws_url, token, resume_from=hello.seq, epoch=hello.epoch
    ) as resumed:
        snapshot = await resumed.wait_for(Snapshot)
        assert snapshot.reason == "resume_unavailable"
        assert "Grace" not in encode(snapshot).decode()


async def _present_record(server: LiveServer, account_id: int, visitor_id: str) -> Any:
    hub = server.server.services.hub
    assert hub is not None
    return await hub.visitor_record(account_id, visitor_id)


async def test_a_session_only_visitor_is_marked_and_forgotten_on_leaving(live_server_factory: Any) -> None:
    server: LiveServer = live_server_factory(leave_grace_seconds=0.2)
    tenant = server.create_account()
    token = server.login(tenant.agent_email, tenant.agent_password)
    async with await AgentSocket.connect(server.agent_ws_url, token) as agent:
        await agent.hello()
        from websockets.asyncio.client import connect  # noqa: PLC0415

        hello = VisitorHello(tab_id=new_id("tab"), url="https://shop.example/", session_only=True)
        async with connect(server.visitor_url(tenant.account_key)) as ws:
            await ws.send(encode(hello).decode())
            arrived = await agent.wait_for(VisitorChanged)
            assert arrived.visitor.session_only
            vid = arrived.visitor.id
        await agent.wait_for(VisitorLeft, lambda e: e.visitor_id == vid)
        for _ in range(100):
            if server.call(server.server.services.store.visitor, tenant.account_id, vid) is None:
                break
            await asyncio.sleep(0.05)
        assert server.call(server.server.services.store.visitor, tenant.account_id, vid) is None

        # A session-only visitor who wrote keeps the conversation (their own act) after leaving.
        async with connect(server.visitor_url(tenant.account_key)) as ws:
            await ws.send(
                encode(VisitorHello(tab_id=new_id("tab"), url="https://shop.example/", session_only=True)).decode()
            )
            writer = await agent.wait_for(VisitorChanged, lambda e: e.visitor.id != vid)
            await ws.send(encode(VisitorChat(id=new_id(), text="call me back")).decode())
            await agent.wait_for(MessageAdded)
        await agent.wait_for(VisitorLeft, lambda e: e.visitor_id == writer.visitor.id)
        assert server.call(server.server.services.store.visitor, tenant.account_id, writer.visitor.id) is not None

        # With consent the same id is remembered, and the mark goes.
        async with await VisitorSocket.connect(server.visitor_url(tenant.account_key)) as consenting:
            changed = await agent.wait_for(VisitorChanged, lambda e: e.visitor.id == consenting.visitor_id)
            assert not changed.visitor.session_only


async def test_a_message_left_while_no_agent_is_online_is_an_offline_message(live_server: LiveServer) -> None:
    tenant = live_server.create_account()
    async with await VisitorSocket.connect(live_server.visitor_url(tenant.account_key)) as visitor:
        await visitor.send(VisitorChat(id=new_id(), text="anyone there?"))
        await visitor.wait_for(Ack)

    async def offline_flags() -> list[bool]:
        async with live_server.server.services.engine.connect() as conn:
            return [row.offline for row in await conn.execute(sa.select(db.messages.c.offline))]

    assert live_server.call(offline_flags) == [True]


async def test_a_ban_can_cover_the_visitors_address_as_a_keyed_hash(live_server_factory: Any) -> None:
    server: LiveServer = live_server_factory(forwarded_allow_ips="127.0.0.1")
    tenant = server.create_account()
    token = server.login(tenant.agent_email, tenant.agent_password)
    troll = {"X-Forwarded-For": "203.0.113.66"}
    other = {"X-Forwarded-For": "198.51.100.5"}
    url = server.visitor_url(tenant.account_key)
    async with await AgentSocket.connect(server.agent_ws_url, token) as agent:
        await agent.hello()
        visitor = await VisitorSocket.connect(url, additional_headers=troll)
        answer = await agent.request(Ban(ref=ref(), visitor_id=visitor.visitor_id, reason="spam", cover_ip=True))
        assert isinstance(answer, Result)
        await visitor.ws.close()
        # A new browser (no stored id) from the same address is refused; other addresses are not.
        with pytest.raises(ConnectionRefusedError):
            await VisitorSocket.connect(url, additional_headers=troll)
        async with await VisitorSocket.connect(url, additional_headers=other) as fine:
            assert fine.visitor_id
        assert isinstance(await agent.request(Unban(ref=ref(), visitor_id=visitor.visitor_id)), Result)
        async with await VisitorSocket.connect(url, additional_headers=troll) as back:
            assert back.visitor_id
    lines = _api(server, "GET", "/account/audit", headers=_bearer(token)).json()
    assert next(line for line in lines if line["action"] == "ban")["details"] == {"ip_addresses": 1}
    assert "203.0.113.66" not in await _all_rows(server)


async def test_no_ip_address_is_stored_or_logged(
    live_server_factory: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    server: LiveServer = live_server_factory(forwarded_allow_ips="127.0.0.1")
    tenant = server.create_account()
    token = server.login(tenant.agent_email, tenant.agent_password)
    addresses = ["203.0.113.77", "198.51.100.23", "2001:db8::4711"]
    async with await AgentSocket.connect(server.agent_ws_url, token) as agent:
        await agent.hello()
        for address in addresses:
            headers = {"X-Forwarded-For": address}
            _api(server, "POST", "/auth/login", json={"email": "x@example.com", "password": "wrong"}, headers=headers)
            async with await VisitorSocket.connect(
                server.visitor_url(tenant.account_key), additional_headers=headers
            ) as visitor:
                await visitor.send(VisitorChat(id=new_id(), text="hello"))
                await visitor.wait_for(Ack)
                await agent.wait_for(MessageAdded)
                if address == addresses[0]:  # a ban that covers the address keeps a keyed hash of it
                    covering = Ban(ref=ref(), visitor_id=visitor.visitor_id, cover_ip=True)
                    assert isinstance(await agent.request(covering), Result)
    everything = await _all_rows(server)
    server.server.stop()
    files = b"".join(path.read_bytes() for path in tmp_path.rglob("frontdesk.sqlite3*"))  # noqa: ASYNC240
    logged = "\n".join(
        r.getMessage() for r in caplog.records if not r.name.startswith(("httpx", "httpcore", "websockets.client"))
    )
    for address in addresses:
        assert address not in logged
    for address in [*addresses, "127.0.0.1"]:  # the server logs its own listening address, not a client's
        assert address not in everything
        assert address.encode() not in files


async def test_cli_like_admin_calls_export_and_erase_a_visitor_who_left(live_server: LiveServer) -> None:
    tenant = live_server.create_account()
    async with await VisitorSocket.connect(live_server.visitor_url(tenant.account_key)) as visitor:
        await visitor.send(VisitorChat(id=new_id(), text="remember me"))
        await visitor.wait_for(Ack)
        vid = visitor.visitor_id
    services = live_server.server.services
    exported = live_server.call(admin.export_visitor, services, tenant.account_id, vid)
    assert [m["text"] for m in exported["stored"]["messages"]] == ["remember me"]
    live_server.call(admin.erase_visitor, services, tenant.account_id, vid)
    with pytest.raises(admin.AdminError):
        live_server.call(admin.export_visitor, services, tenant.account_id, vid)
    assert "remember me" not in await _all_rows(live_server)


ASK_NAME = {
    "name": "Name",
    "trigger": {"kind": "chat_opened_offline"},
    "start": "name",
    "steps": [
        {"id": "name", "kind": "ask", "text": "Your name?", "store": "name", "next": "team"},
        {"id": "team", "kind": "hand_over"},
    ],
}


async def test_export_holds_the_bot_s_answers_and_erasure_removes_them(live_server: LiveServer) -> None:
    tenant = live_server.create_account(Plan.PRO)
    engine = live_server.server.services.engine

    async def add_flow() -> Any:
        return await BotStore(engine).add(tenant.account_id, msgspec.convert(ASK_NAME, FlowSpec))

    flow = live_server.call(add_flow)
    async with await VisitorSocket.connect(live_server.visitor_url(tenant.account_key)) as visitor:
        vid = visitor.visitor_id
        await visitor.send(ChatOpened())
        await visitor.wait_for(VisitorMessage, lambda e: e.message.author == "bot")
        await visitor.send(VisitorChat(id=new_id(), text="Ada Lovelace"))
        await visitor.wait_for(VisitorMessage, lambda e: e.message.author == "system")
        exported = _api(live_server, "GET", f"/visitors/{vid}/export", headers={"X-Api-Key": tenant.api_key}).json()
    run = exported["stored"]["bot_run"]
    assert (run["flow_id"], run["status"], run["answers"]) == (flow.id, "handed_over", {"name": "Ada Lovelace"})
    assert exported["stored"]["bot_flows_run"] == [flow.id]
    live_server.call(admin.erase_visitor, live_server.server.services, tenant.account_id, vid)
    response = _api(live_server, "GET", f"/visitors/{vid}/export", headers={"X-Api-Key": tenant.api_key})
    assert response.status_code == 404, response.text


async def test_export_holds_the_agents_notes_and_erasure_removes_notes_claims_and_re_alerts(
    live_server: LiveServer,
) -> None:
    tenant = live_server.create_account(Plan.PRO)
    token = live_server.login(tenant.agent_email, tenant.agent_password)
    async with (
        await AgentSocket.connect(live_server.agent_ws_url, token) as agent,
        await VisitorSocket.connect(live_server.visitor_url(tenant.account_key)) as visitor,
    ):
        await agent.hello()
        vid = visitor.visitor_id
        await visitor.send(VisitorChat(id=new_id(), text="hello there"))
        await visitor.wait_for(Ack)
        await agent.wait_for(MessageAdded, lambda e: e.message.visitor_id == vid)
        note = AddNote(ref=ref(), id=new_id(), visitor_id=vid, text="wants a refund for order 8812")
        assert isinstance(await agent.request(note), Result)
        table = live_server.call(_rows_naming, live_server, vid)
        assert {"notes", "unanswered_alerts"} <= table, "a note and the waiting chat's re-alert are stored"

        exported = _api(live_server, "GET", f"/visitors/{vid}/export", headers={"X-Api-Key": tenant.api_key}).json()
        assert [n["text"] for n in exported["stored"]["notes"]] == ["wants a refund for order 8812"]

        assert isinstance(await agent.request(OpenConversation(ref=ref(), visitor_id=vid)), Result)
        assert "chat_claims" in live_server.call(_rows_naming, live_server, vid)
        assert isinstance(await agent.request(EraseVisitor(ref=ref(), visitor_id=vid)), Result)
        await agent.wait_for(VisitorChanged, lambda e: e.visitor.id == vid and e.visitor.name is None)
    assert "order 8812" not in await _all_rows(live_server)
    # The visitor was still on the site: only their anonymous visit row names them now.
    assert live_server.call(_rows_naming, live_server, vid) <= {"visitors"}


async def _rows_naming(server: LiveServer, visitor_id: str) -> set[str]:
    """The tables with a row for this visitor id."""
    found: set[str] = set()
    async with server.server.services.engine.connect() as conn:
        for table in db.metadata.sorted_tables:
            column = table.c.get("visitor_id") if table.name != "visitors" else table.c.id
            if column is not None and (await conn.execute(sa.select(column).where(column == visitor_id))).first():
                found.add(table.name)
    return found
