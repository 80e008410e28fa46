"""Bots over REST against a real server: CRUD, validation, import/export, plans, the schema."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import msgspec
import pytest

from protocol.bots.engine import BotState
from protocol.bots.flow import Flow, FlowSpec
from protocol.rules import Plan
from server.api import ApiRefusedError
from server.bots.api import require_admin
from server.bots.store import BotStore
from server.store import AgentRow
from tests.fixtures.server import LiveServer

SALES: dict[str, Any] = {
    "name": "Sales",
    "trigger": {"kind": "chat_opened_offline"},
    "start": "hello",
    "steps": [
        {"id": "hello", "kind": "question", "text": "Hi! Sales or support?", "store": "topic",
         "replies": [{"label": "Sales", "next": "name"}, {"label": "Support", "next": "team"}]},
        {"id": "name", "kind": "ask", "text": "Your name?", "store": "name", "next": "team"},
        {"id": "team", "kind": "hand_over", "text": "Thanks {name}, connecting you to our team"},
    ],
}  # fmt: skip


def client(live_server: LiveServer, plan: Plan = Plan.PRO) -> tuple[httpx.Client, int]:
    tenant = live_server.create_account(plan)
    token = live_server.login(tenant.agent_email, tenant.agent_password)
    http = httpx.Client(base_url=f"{live_server.http_url}/api/v1", headers={"Authorization": f"Bearer {token}"})
    return http, tenant.account_id


def test_crud_of_a_bot(live_server: LiveServer) -> None:
    http, account_id = client(live_server)
    with http:
        created = http.post("/bots/", json=SALES)
        assert created.status_code == 201, created.text
        flow = msgspec.convert(created.json(), Flow)
        assert flow.account_id == account_id
        assert flow.spec == msgspec.convert(SALES, FlowSpec)
        assert http.get("/bots/").json() == [created.json()]
        assert http.get(f"/bots/{flow.id}").json() == created.json()

        renamed = http.put(f"/bots/{flow.id}", json={**SALES, "name": "Sales (night)", "enabled": False})
        assert renamed.status_code == 200, renamed.text
        assert http.get(f"/bots/{flow.id}").json()["spec"]["name"] == "Sales (night)"
        assert http.get(f"/bots/{flow.id}").json()["spec"]["enabled"] is False

        assert http.delete(f"/bots/{flow.id}").status_code == 204
        assert http.get("/bots/").json() == []
        gone = http.get(f"/bots/{flow.id}")
        assert gone.status_code == 404
        assert gone.json()["message"] == f"no bot {flow.id} in your account; list them first"
        assert http.put(f"/bots/{flow.id}", json=SALES).status_code == 404
        assert http.delete(f"/bots/{flow.id}").status_code == 404


def test_an_invalid_flow_is_refused_with_every_problem_and_nothing_is_stored(live_server: LiveServer) -> None:
    http, _ = client(live_server)
    broken = {
        **SALES,
        "steps": [
            {"id": "hello", "kind": "question", "text": "Hi {nickname}", "replies": []},
            {"id": "loop", "kind": "ask", "text": "?", "store": "name", "next": "loop"},
        ],
    }
    with http:
        refused = http.post("/bots/", json=broken)
        assert refused.status_code == 400
        body = refused.json()
        assert body["code"] == "invalid_flow"
        assert {"step": "hello", "message": "a question needs at least one quick reply"} in body["problems"]
        assert {
            "step": "hello",
            "message": "the text uses {nickname}, which no step asks; add a step that stores it or remove it",
        } in body["problems"]
        assert {
            "step": "loop",
            "message": "never reached from the start step 'hello'; link it or remove it",
        } in body["problems"]
        assert "step 'hello': a question needs at least one quick reply" in body["message"]
        assert http.get("/bots/").json() == []

        schema = http.post("/bots/", json={**SALES, "steps": [{"id": "x", "kind": "teleport"}]})
        assert schema.status_code == 400
        assert schema.json()["code"] == "bad_request"


def test_validate_import_and_export(live_server: LiveServer) -> None:
    http, _ = client(live_server)
    with http:
        ok = http.post("/bots/validate", json=SALES)
        assert ok.json() == {"ok": True, "problems": []}
        bad = http.post("/bots/validate", json={**SALES, "start": "nowhere"})
        assert bad.json()["ok"] is False
        assert {"step": None, "message": "the start step 'nowhere' is not a step of this flow"} in bad.json()[
            "problems"
        ]
        not_json = http.post("/bots/validate", content=b"{nope")
        assert not_json.json()["ok"] is False
        assert not_json.json()["problems"][0]["message"].startswith("this is not JSON")
        deep = http.post("/bots/validate", content=b"[" * 50_000 + b"]" * 50_000)
        assert deep.status_code == 200
        assert deep.json()["problems"] == [{"step": None, "message": "the JSON is nested too deeply to be a flow"}]
        huge = http.post("/bots/validate", content=b" " * (256 * 1024 + 1))
        assert huge.json()["problems"] == [{"step": None, "message": "the flow is larger than 256 KiB"}]
        wrong_shape = http.post("/bots/validate", json={"name": "x"})
        assert wrong_shape.json()["problems"][0]["message"].startswith("the flow does not fit the schema")

        imported = http.post("/bots/import", json={"format": "frontdesk-bot", "version": 1, "flow": SALES})
        assert imported.status_code == 201, imported.text
        flow_id = imported.json()["id"]
        exported = http.get(f"/bots/{flow_id}/export")
        assert exported.status_code == 200
        assert exported.headers["content-disposition"] == f'attachment; filename="bot-{flow_id}.json"'
        assert exported.json() == {"format": "frontdesk-bot", "version": 1, "flow": msgspec.to_builtins(
            msgspec.convert(SALES, FlowSpec))}  # fmt: skip
        again = http.post("/bots/import", content=exported.content)
        assert again.status_code == 201
        assert again.json()["spec"] == imported.json()["spec"]
        refused = http.post("/bots/import", json={**SALES, "steps": []})
        assert refused.status_code == 400
        assert refused.json()["code"] == "invalid_flow"
        assert len(http.get("/bots/").json()) == 2


def test_a_free_account_cannot_add_bots(live_server: LiveServer) -> None:
    http, _ = client(live_server, Plan.FREE)
    with http:
        refused = http.post("/bots/", json=SALES)
        assert refused.status_code == 403
        assert refused.json() == {
            "code": "plan_required",
            "message": "bots need the STANDARD or PRO plan; this account is on FREE, upgrade it to use bots",
        }
        assert http.post("/bots/import", json=SALES).status_code == 403
        assert http.get("/bots/").json() == []
        assert http.post("/bots/validate", json=SALES).json()["ok"] is True, "checking a flow needs no plan"


def test_a_downgraded_account_keeps_its_bots_but_cannot_change_them(live_server: LiveServer) -> None:
    tenant = live_server.create_account(Plan.STANDARD)
    token = live_server.login(tenant.agent_email, tenant.agent_password)
    with httpx.Client(base_url=f"{live_server.http_url}/api/v1", headers={"Authorization": f"Bearer {token}"}) as http:
        flow_id = http.post("/bots/", json=SALES).json()["id"]
        live_server.set_plan(tenant.account_id, Plan.FREE)
        assert http.put(f"/bots/{flow_id}", json=SALES).json()["code"] == "plan_required"
        assert http.delete(f"/bots/{flow_id}").status_code == 204


def test_accounts_do_not_see_each_others_bots(live_server: LiveServer) -> None:
    first, _ = client(live_server)
    second, _ = client(live_server)
    with first, second:
        flow_id = first.post("/bots/", json=SALES).json()["id"]
        assert second.get("/bots/").json() == []
        assert second.get(f"/bots/{flow_id}").status_code == 404
        assert second.put(f"/bots/{flow_id}", json=SALES).status_code == 404
        assert second.delete(f"/bots/{flow_id}").status_code == 404
        assert second.get(f"/bots/{flow_id}/export").status_code == 404
        assert first.get(f"/bots/{flow_id}").status_code == 200


def test_bots_need_a_token(live_server: LiveServer) -> None:
    response = httpx.get(f"{live_server.http_url}/api/v1/bots/")
    assert response.status_code == 401
    assert response.json()["code"] == "unauthorized"


def test_the_schema_documents_the_bot_api(live_server: LiveServer) -> None:
    schema = httpx.get(f"{live_server.http_url}/schema/openapi.json").json()
    paths = schema["paths"]
    assert {"get", "post"} <= set(paths["/api/v1/bots"])
    assert {"get", "put", "delete"} <= set(paths["/api/v1/bots/{flow_id}"])
    assert "post" in paths["/api/v1/bots/validate"]
    assert "post" in paths["/api/v1/bots/import"]
    assert "get" in paths["/api/v1/bots/{flow_id}/export"]
    assert "400" in paths["/api/v1/bots"]["post"]["responses"]
    assert "FlowSpec" in schema["components"]["schemas"]
    # validate and import read the body raw, but the schema says what it is: a flow or an export file.
    for path in ("/api/v1/bots/validate", "/api/v1/bots/import"):
        body = paths[path]["post"]["requestBody"]
        assert body["required"] is True
        refs = [r["$ref"] for r in body["content"]["application/json"]["schema"]["oneOf"]]
        assert refs == ["#/components/schemas/FlowSpec", "#/components/schemas/FlowExport"]
        for ref in refs:
            assert ref.rsplit("/", 1)[1] in schema["components"]["schemas"], f"{path}: {ref} is not in the schema"
    assert paths["/api/v1/bots"]["post"]["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/FlowSpec"
    }


def test_a_flow_starts_once_per_visitor_even_when_two_processes_race(live_server: LiveServer) -> None:
    http, account_id = client(live_server)
    with http:
        flow = msgspec.convert(http.post("/bots/", json=SALES).json(), Flow)
    repeating = msgspec.structs.replace(flow, id=flow.id, spec=msgspec.structs.replace(flow.spec, repeat=True))

    async def race() -> None:
        # Concurrent claims on the shared database stand for processes seeing the same trigger at once.
        store = BotStore(live_server.server.services.engine)
        claims = await asyncio.gather(
            *(store.claim(account_id, "visitor01", flow, BotState(flow_id=flow.id)) for _ in range(5))
        )
        assert sum(c is not None for c in claims) == 1
        assert await store.claim(account_id, "visitor01", flow, BotState(flow_id=flow.id)) is None
        assert await store.fired(account_id, "visitor01") == frozenset({flow.id})
        assert await store.claim(account_id, "visitor01", repeating, BotState(flow_id=flow.id)) is None, (
            "a bot is still running for the visitor"
        )
        stopped = await store.stop(account_id, "visitor01")
        assert stopped is not None
        assert stopped.state.status == "stopped"
        assert await store.stop(account_id, "visitor01") is None
        second = await store.claim(account_id, "visitor01", repeating, BotState(flow_id=flow.id))
        assert second is not None
        assert second.run == 2
        assert await store.save(account_id, "visitor01", second, BotState(flow_id=flow.id, said=1)) is not None
        assert await store.save(account_id, "visitor01", second, BotState(flow_id=flow.id, said=2)) is None, (
            "a writer holding an older version loses"
        )
        await store.forget_visitor(account_id, "visitor01")
        assert await store.run(account_id, "visitor01") is None
        assert await store.fired(account_id, "visitor01") == frozenset()

    live_server.call(race)


def test_require_admin_refuses_other_roles() -> None:
    admin = AgentRow(id=1, account_id=1, email="a@example.com", name="a", password_hash="x", role="admin")
    require_admin(admin)
    agent = AgentRow(id=2, account_id=1, email="b@example.com", name="b", password_hash="x", role="agent")
    with pytest.raises(ApiRefusedError, match="only an admin"):
        require_admin(agent)
