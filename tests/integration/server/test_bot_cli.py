"""``frontdesk-server bot ...`` in real subprocesses beside a real server on the same database."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from protocol.rules import Plan
from tests.fixtures.server import LiveServer
from tests.integration.server.test_bots_rest import SALES

COMMAND = [sys.executable, "-m", "server.cli"]

pytestmark = pytest.mark.slow


def bot(*args: str, database: str | None = None, stdin: str = "") -> subprocess.CompletedProcess[str]:
    """Run ``frontdesk-server bot ARGS`` (on ``database`` when given)."""
    command = [*COMMAND, "bot", *args, *(["--database", database] if database else [])]
    return subprocess.run(command, input=stdin, capture_output=True, text=True, timeout=60, check=False)


def database_of(live_server: LiveServer) -> str:
    """The URL of the running server's SQLite file, as an operator gives it to the command line."""
    return str(live_server.server.services.engine.url).replace("sqlite+aiosqlite", "sqlite", 1)


def rest(live_server: LiveServer, plan: Plan = Plan.PRO) -> tuple[httpx.Client, str]:
    """An admin's REST client of a new account, and the account's id as the command line takes it."""
    tenant = live_server.create_account(plan)
    token = live_server.login(tenant.agent_email, tenant.agent_password)
    http = httpx.Client(base_url=f"{live_server.http_url}/api/v1", headers={"Authorization": f"Bearer {token}"})
    return http, str(tenant.account_id)


def test_import_list_switch_and_export_reach_the_running_server(live_server: LiveServer, tmp_path: Path) -> None:
    database = database_of(live_server)
    http, account = rest(live_server)
    flow_file = tmp_path / "sales.json"
    flow_file.write_text(json.dumps({"format": "frontdesk-bot", "version": 1, "flow": SALES}), encoding="utf-8")
    with http:
        checked = bot("validate", str(flow_file))
        assert checked.returncode == 0, checked.stderr
        assert json.loads(checked.stdout) == {"ok": True, "problems": []}

        imported = bot("import", "--account-id", account, str(flow_file), database=database)
        assert imported.returncode == 0, imported.stderr
        flow_id = json.loads(imported.stdout)["id"]
        (listed,) = http.get("/bots/").json()  # the server reads what the command line stored
        assert (listed["id"], listed["spec"]["name"], listed["spec"]["enabled"]) == (flow_id, "Sales", True)
        summary = json.loads(bot("list", "--account-id", account, database=database).stdout)
        assert summary == [
            {
                "id": flow_id,
                "name": "Sales",
                "enabled": True,
                "trigger": "chat_opened_offline",
                "steps": 3,
                "updated_at": listed["updated_at"],
            }
        ]

        off = bot("disable", "--account-id", account, "--bot-id", str(flow_id), database=database)
        assert json.loads(off.stdout) == {"id": flow_id, "name": "Sales", "enabled": False}
        assert http.get(f"/bots/{flow_id}").json()["spec"]["enabled"] is False
        on = bot("enable", "--account-id", account, "--bot-id", str(flow_id), database=database)
        assert json.loads(on.stdout)["enabled"] is True
        assert http.get(f"/bots/{flow_id}").json()["spec"] == listed["spec"]  # only the switch moved

        # Export to a file: the same file the REST export gives, and REST imports it.
        out = tmp_path / "exported.json"
        written = bot(
            "export", "--account-id", account, "--bot-id", str(flow_id), "--output", str(out), database=database
        )
        assert json.loads(written.stdout) == {"bot_id": flow_id, "written_to": str(out)}
        assert json.loads(out.read_text(encoding="utf-8")) == http.get(f"/bots/{flow_id}/export").json()
        again = http.post("/bots/import", content=out.read_bytes())
        assert again.status_code == 201, again.text
        stdout_export = bot("export", "--account-id", account, "--bot-id", str(flow_id), database=database)
        assert json.loads(stdout_export.stdout) == json.loads(out.read_text(encoding="utf-8"))
        # A bare flow on stdin imports too.
        piped = bot("import", "--account-id", account, "-", database=database, stdin=json.dumps(SALES))
        assert piped.returncode == 0, piped.stderr
        assert len(http.get("/bots/").json()) == 3


def test_a_bad_file_gets_a_clear_error_and_stores_nothing(live_server: LiveServer, tmp_path: Path) -> None:
    database = database_of(live_server)
    http, account = rest(live_server)
    broken = tmp_path / "broken.json"
    broken.write_text(
        json.dumps({**SALES, "start": "nowhere", "steps": [{"id": "loop", "kind": "ask", "text": "?", "store": "n"}]}),
        encoding="utf-8",
    )
    with http:
        refused = bot("import", "--account-id", account, str(broken), database=database)
        assert refused.returncode == 2
        assert refused.stdout == ""
        assert f"{broken} cannot be imported; nothing was stored" in refused.stderr
        assert "  - the start step 'nowhere' is not a step of this flow" in refused.stderr
        assert "  - step 'loop': " in refused.stderr  # each problem on its own line, naming its step
        assert "Traceback" not in refused.stderr

        checked = bot("validate", str(broken))
        assert checked.returncode == 1
        answer = json.loads(checked.stdout)
        assert answer["ok"] is False
        assert {"step": None, "message": "the start step 'nowhere' is not a step of this flow"} in answer["problems"]

        not_json = tmp_path / "notes.txt"
        not_json.write_text("{nope", encoding="utf-8")
        garbled = bot("import", "--account-id", account, str(not_json), database=database)
        assert garbled.returncode == 2
        assert "  - this is not JSON (" in garbled.stderr
        wrong_shape = bot("import", "--account-id", account, "-", database=database, stdin='{"name": "x"}')
        assert "  - the flow does not fit the schema: " in wrong_shape.stderr

        missing = bot("import", "--account-id", account, str(tmp_path / "nothing.json"), database=database)
        assert missing.returncode == 2
        assert f"no file {tmp_path / 'nothing.json'}" in missing.stderr
        directory = bot("validate", str(tmp_path))
        assert directory.returncode == 2
        assert "is a directory" in directory.stderr

        assert http.get("/bots/").json() == []

        unknown = bot("enable", "--account-id", account, "--bot-id", "999", database=database)
        assert unknown.returncode == 2
        assert f"no bot 999 in account {account}; list them with: frontdesk-server bot list" in unknown.stderr
        nobody = bot("list", "--account-id", "999999", database=database)
        assert nobody.returncode == 2
        assert "there is no account 999999" in nobody.stderr


def test_a_free_account_cannot_import_or_switch_on_a_bot(live_server: LiveServer, tmp_path: Path) -> None:
    database = database_of(live_server)
    http, account = rest(live_server, Plan.FREE)
    flow_file = tmp_path / "sales.json"
    flow_file.write_text(json.dumps(SALES), encoding="utf-8")
    with http:
        refused = bot("import", "--account-id", account, str(flow_file), database=database)
        assert refused.returncode == 2
        assert "bots need the STANDARD or PRO plan; this account is on FREE" in refused.stderr
        assert http.get("/bots/").json() == []
