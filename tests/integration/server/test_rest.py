"""The REST API: login, logout, identify with the API key, rules, history, schema."""

from __future__ import annotations

import httpx
import pytest
from websockets.exceptions import ConnectionClosed

from protocol.messages import CloseCode, Error, ErrorCode, SendMessage, VisitorChat
from protocol.rules import Plan
from tests.fixtures.clients import AgentSocket, VisitorSocket, new_id, ref
from tests.fixtures.server import LiveServer


def test_login_with_a_wrong_password_is_refused_clearly(live_server: LiveServer) -> None:
    tenant = live_server.create_account()
    response = httpx.post(
        f"{live_server.http_url}/api/v1/auth/login", json={"email": tenant.agent_email, "password": "wrong password"}
    )
    assert response.status_code == 401
    assert response.json() == {
        "code": "unauthorized",
        "message": "wrong e-mail or password; check both and try again",
    }
    unknown = httpx.post(
        f"{live_server.http_url}/api/v1/auth/login", json={"email": "nobody@example.com", "password": "whatever"}
    )
    assert unknown.status_code == 401
    assert unknown.json() == response.json(), "no hint whether the e-mail exists"


def test_login_returns_account_and_capabilities(live_server: LiveServer) -> None:
    tenant = live_server.create_account(Plan.FREE, name="Bakery")
    response = httpx.post(
        f"{live_server.http_url}/api/v1/auth/login",
        json={"email": tenant.agent_email.upper(), "password": tenant.agent_password},
    )
    assert response.status_code == 200
    body = response.json()
    assert body["account"] == {"id": tenant.account_id, "name": "Bakery", "plan": "free"}
    assert body["capabilities"] == {"proactive_chat": False, "auto_messages": False}
    assert body["agent"]["email"] == tenant.agent_email


def test_malformed_body_gets_a_clear_error(live_server: LiveServer) -> None:
    response = httpx.post(f"{live_server.http_url}/api/v1/auth/login", json={"email": "x@example.com"})
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "bad_request"
    assert "password" in body["message"]


async def test_logout_revokes_the_token_and_closes_its_sockets(live_server: LiveServer) -> None:
    tenant = live_server.create_account()
    token = live_server.login(tenant.agent_email, tenant.agent_password)
    other_token = live_server.login(tenant.agent_email, tenant.agent_password)
    async with (
        await AgentSocket.connect(live_server.agent_ws_url, token) as agent,
        await AgentSocket.connect(live_server.agent_ws_url, other_token) as other_device,
    ):
        await agent.hello()
        await other_device.hello()
        async with httpx.AsyncClient() as client:
            response = await client.post(
                f"{live_server.http_url}/api/v1/auth/logout", headers={"Authorization": f"Bearer {token}"}
            )
        assert response.status_code == 204
        error = await agent.wait_for(Error)
        assert error.code is ErrorCode.UNAUTHORIZED
        with pytest.raises(ConnectionClosed):
            await agent.recv(2.0)
        assert agent.ws.close_code == CloseCode.UNAUTHORIZED
        # The same agent signed in elsewhere keeps working.
        assert other_device.ws.close_code is None

    async with await AgentSocket.connect(live_server.agent_ws_url, token) as again:
        refused = await again.recv()
        assert isinstance(refused, Error)
        assert refused.code is ErrorCode.UNAUTHORIZED
    async with httpx.AsyncClient() as client:
        again_logout = await client.post(
            f"{live_server.http_url}/api/v1/auth/logout", headers={"Authorization": f"Bearer {token}"}
        )
    assert again_logout.status_code == 401


async def test_identify_with_the_api_key_makes_a_customer(live_server: LiveServer) -> None:
    tenant = live_server.create_account()
    other = live_server.create_account()
    token = live_server.login(tenant.agent_email, tenant.agent_password)
    async with (
        await AgentSocket.connect(live_server.agent_ws_url, token) as agent,
        await VisitorSocket.connect(live_server.visitor_url(tenant.account_key)) as visitor,
    ):
        await agent.wait_for_visitor()
        url = f"{live_server.http_url}/api/v1/visitors/{visitor.visitor_id}/identify"
        body = {"name": "Ada Lovelace", "email": "ada@example.com", "custom": {"plan": "gold"}}
        async with httpx.AsyncClient() as client:
            wrong = await client.post(url, json=body, headers={"X-Api-Key": "key_wrong"})
            assert wrong.status_code == 401
            assert "API key" in wrong.json()["message"]
            missing = await client.post(url, json=body)
            assert missing.status_code == 401
            foreign = await client.post(url, json=body, headers={"X-Api-Key": other.api_key})
            assert foreign.status_code == 404, "another account's key cannot reach this visitor"
            ok = await client.post(url, json=body, headers={"X-Api-Key": tenant.api_key})
            assert ok.status_code == 204
        changed = await agent.wait_for_visitor(lambda v: v.customer)
        assert changed.name == "Ada Lovelace"
        assert changed.email == "ada@example.com"
        assert changed.custom == {"plan": "gold"}
        assert changed.label == "Ada Lovelace"


async def test_history_over_rest_is_limited_to_the_agents_account(live_server: LiveServer) -> None:
    tenant = live_server.create_account(Plan.FREE)
    other = live_server.create_account()
    token = live_server.login(tenant.agent_email, tenant.agent_password)
    other_token = live_server.login(other.agent_email, other.agent_password)
    async with (
        await AgentSocket.connect(live_server.agent_ws_url, token) as agent,
        await VisitorSocket.connect(live_server.visitor_url(tenant.account_key)) as visitor,
    ):
        await visitor.send(VisitorChat(id=new_id(), text="question"))
        await agent.wait_for_visitor(lambda v: v.unread == 1)
        await agent.request(SendMessage(ref=ref(), id=new_id(), visitor_id=visitor.visitor_id, text="answer"))
        url = f"{live_server.http_url}/api/v1/visitors/{visitor.visitor_id}/messages"
        async with httpx.AsyncClient() as client:
            mine = await client.get(url, headers={"Authorization": f"Bearer {token}"})
            assert mine.status_code == 200
            assert [(m["author"], m["text"]) for m in mine.json()] == [("visitor", "question"), ("agent", "answer")]
            theirs = await client.get(url, headers={"Authorization": f"Bearer {other_token}"})
            assert theirs.status_code == 404
            assert theirs.json()["code"] == "not_found"
            anonymous = await client.get(url)
            assert anonymous.status_code == 401


def test_rules_crud_and_regex_validation(live_server: LiveServer) -> None:
    tenant = live_server.create_account()
    token = live_server.login(tenant.agent_email, tenant.agent_password)
    headers = {"Authorization": f"Bearer {token}"}
    base = f"{live_server.http_url}/api/v1/rules"
    bad = httpx.post(
        base, headers=headers, json={"name": "x", "message": "Hi", "conditions": {"url_matches": "(unclosed"}}
    )
    assert bad.status_code == 400
    assert bad.json()["code"] == "invalid_rule"
    assert "url_matches" in bad.json()["message"]
    empty = httpx.post(base, headers=headers, json={"name": "x", "message": "Hi", "conditions": {}})
    assert empty.status_code == 400
    created = httpx.post(
        base,
        headers=headers,
        json={"name": "Pricing", "message": "Questions?", "conditions": {"url_contains": "/pricing"}},
    )
    assert created.status_code == 201
    rule = created.json()
    assert rule["conditions"] == {"url_contains": "/pricing"}
    listed = httpx.get(base, headers=headers).json()
    assert [r["id"] for r in listed] == [rule["id"]]
    updated = httpx.put(
        f"{base}/{rule['id']}",
        headers=headers,
        json={"name": "Pricing", "message": "Need help?", "conditions": {"time_on_page_at_least": 5}},
    )
    assert updated.status_code == 200
    assert updated.json()["message"] == "Need help?"
    other = live_server.create_account()
    other_headers = {"Authorization": f"Bearer {live_server.login(other.agent_email, other.agent_password)}"}
    assert httpx.get(base, headers=other_headers).json() == []
    assert httpx.delete(f"{base}/{rule['id']}", headers=other_headers).status_code == 404
    assert httpx.delete(f"{base}/{rule['id']}", headers=headers).status_code == 204
    assert httpx.get(base, headers=headers).json() == []


def test_openapi_schema_is_served(live_server: LiveServer) -> None:
    response = httpx.get(f"{live_server.http_url}/schema/openapi.json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    for path in (
        "/api/v1/health",
        "/api/v1/auth/login",
        "/api/v1/auth/logout",
        "/api/v1/visitors/{visitor_id}/identify",
        "/api/v1/visitors/{visitor_id}/messages",
        "/api/v1/rules",
    ):
        assert path in paths


def test_widget_and_demo_are_served_with_revalidation(live_server: LiveServer) -> None:
    widget = httpx.get(f"{live_server.http_url}/widget.js")
    assert widget.status_code == 200
    assert widget.headers["content-type"].startswith("application/javascript")
    assert "no-cache" in widget.headers["cache-control"]
    demo = httpx.get(f"{live_server.http_url}/demo/")
    assert demo.status_code == 200
    assert demo.headers["content-type"].startswith("text/html")


def test_unknown_route_answers_api_error(live_server: LiveServer) -> None:
    response = httpx.get(f"{live_server.http_url}/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_repeated_wrong_passwords_are_slowed_down(live_server: LiveServer) -> None:
    tenant = live_server.create_account()
    url = f"{live_server.http_url}/api/v1/auth/login"
    with httpx.Client() as client:
        for _ in range(10):
            wrong = client.post(url, json={"email": tenant.agent_email, "password": "guess guess"})
            assert wrong.status_code == 401
        blocked = client.post(url, json={"email": tenant.agent_email, "password": tenant.agent_password})
    assert blocked.status_code == 429
    assert blocked.json()["code"] == "rate_limited"
    assert "wait a minute" in blocked.json()["message"]
