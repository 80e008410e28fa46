"""The ``frontdesk-server`` command in real subprocesses: admin commands and a clean SIGTERM shutdown."""

from __future__ import annotations

import asyncio
import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterable
from pathlib import Path

import httpx
import pytest
from websockets.exceptions import ConnectionClosed

from protocol.messages import Ack, GetHistory, History, Identify, Snapshot, VisitorChat
from tests.fixtures.clients import AgentSocket, VisitorSocket, new_id, ref, until_closed
from tests.fixtures.server import LiveServer

COMMAND = [sys.executable, "-m", "server.cli"]


def _run(*args: str, stdin: str = "", env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*COMMAND, *args], input=stdin, capture_output=True, text=True, timeout=60, env=env, check=False
    )


def _create_account(database: str, email: str = "lead@example.com") -> dict[str, object]:
    done = _run(
        "account",
        "create",
        "--name",
        "Shop",
        "--plan",
        "pro",
        "--agent-email",
        email,
        "--database",
        database,
        stdin="a good password\n",
    )
    assert done.returncode == 0, done.stderr
    created: dict[str, object] = json.loads(done.stdout)
    return created


@pytest.mark.slow
def test_account_create_prints_keys_and_the_agent_can_sign_in_later(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    created = _create_account(database)
    assert set(created) >= {"account_id", "account_key", "api_key"}
    assert str(created["account_key"]).startswith("acc_")
    assert str(created["api_key"]).startswith("key_")

    env = {**os.environ, "FRONTDESK_AGENT_PASSWORD": "another password"}
    added = _run(
        "agent",
        "add",
        "--account-id",
        str(created["account_id"]),
        "--email",
        "two@example.com",
        "--database",
        database,
        env=env,
    )
    assert added.returncode == 0, added.stderr
    duplicate = _run(
        "agent",
        "add",
        "--account-id",
        str(created["account_id"]),
        "--email",
        "two@example.com",
        "--database",
        database,
        env=env,
    )
    assert duplicate.returncode == 2
    assert "already exists" in duplicate.stderr

    plan = _run(
        "account", "set-plan", "--account-id", str(created["account_id"]), "--plan", "standard", "--database", database
    )
    assert plan.returncode == 0, plan.stderr
    bad_plan = _run("account", "set-plan", "--account-id", "1", "--plan", "gold", "--database", database)
    assert bad_plan.returncode == 2
    assert "use free, standard or pro" in bad_plan.stderr

    bad_rule = _run(
        "rule",
        "add",
        "--account-id",
        "1",
        "--name",
        "r",
        "--message",
        "Hi",
        "--url-matches",
        "(",
        "--database",
        database,
    )
    assert bad_rule.returncode == 2
    assert "url_matches is not a valid regular expression" in bad_rule.stderr
    rule = _run(
        "rule",
        "add",
        "--account-id",
        "1",
        "--name",
        "r",
        "--message",
        "Hi",
        "--time-on-page",
        "30",
        "--database",
        database,
    )
    assert rule.returncode == 0, rule.stderr
    listed = json.loads(_run("rule", "list", "--account-id", "1", "--database", database).stdout)
    assert [r["conditions"] for r in listed] == [{"time_on_page_at_least": 30}]

    no_password = _run("account", "create", "--name", "X", "--agent-email", "x@example.com", "--database", database)
    assert no_password.returncode == 2
    assert "no password given" in no_password.stderr


class Served:
    """A ``frontdesk-server serve`` subprocess and its log lines."""

    def __init__(self, database: str) -> None:
        self.process = subprocess.Popen(
            [*COMMAND, "serve", "--port", "0", "--database", database],
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.log: list[str] = []
        assert self.process.stderr is not None
        stream = self.process.stderr
        threading.Thread(target=self._read, args=(stream,), daemon=True).start()
        self.url = self.wait_for(r"Uvicorn running on (http://\S+)").group(1)

    def _read(self, stream: Iterable[str]) -> None:
        for line in stream:
            self.lines.put(line)

    def close(self) -> None:
        """Kill the process if it still runs and release its pipe."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(30)
        assert self.process.stderr is not None
        self.process.stderr.close()

    def wait_for(self, pattern: str, within: float = 30) -> re.Match[str]:
        while True:
            try:
                line = self.lines.get(timeout=within)
            except queue.Empty:
                raise AssertionError(f"{pattern!r} never logged; log: {self.log}") from None
            self.log.append(line)
            found = re.search(pattern, line)
            if found:
                return found


@pytest.fixture
def database(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'served.sqlite3'}"


@pytest.mark.slow
async def test_sigterm_shuts_down_cleanly_and_nothing_is_lost(database: str) -> None:
    created = _create_account(database)
    served = Served(database)
    try:
        ws_url = served.url.replace("http://", "ws://")
        async with httpx.AsyncClient() as client:
            response = await client.post(
                f"{served.url}/api/v1/auth/login", json={"email": "lead@example.com", "password": "a good password"}
            )
        token = response.json()["token"]
        agent = await AgentSocket.connect(f"{ws_url}/ws/agent", token)
        await agent.hello()
        visitor = await VisitorSocket.connect(f"{ws_url}/ws/visitor?account={created['account_key']}")
        message_id = new_id()
        await visitor.send(VisitorChat(id=message_id, text="please keep this"))
        await visitor.wait_for(Ack)

        served.process.send_signal(signal.SIGTERM)
        assert served.process.wait(30) == 0
        served.wait_for("stopped cleanly")
        for ws in (agent.ws, visitor.ws):
            with pytest.raises(ConnectionClosed):
                await until_closed(ws)
            assert ws.close_code in (1001, 1012)
    finally:
        served.close()

    again = Served(database)
    try:
        ws_url = again.url.replace("http://", "ws://")
        async with httpx.AsyncClient() as client:
            response = await client.post(
                f"{again.url}/api/v1/auth/login", json={"email": "lead@example.com", "password": "a good password"}
            )
        async with await AgentSocket.connect(f"{ws_url}/ws/agent", response.json()["token"]) as agent:
            await agent.hello()
            history = await agent.request(GetHistory(ref=ref(), visitor_id=visitor.visitor_id))
            assert isinstance(history, History)
            assert [(m.id, m.text) for m in history.messages] == [(message_id, "please keep this")]
        again.process.send_signal(signal.SIGINT)
        assert again.process.wait(30) == 0
    finally:
        again.close()


@pytest.mark.slow
def test_roles_retention_audit_export_and_erase_from_the_command_line(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'privacy.sqlite3'}"
    created = _create_account(database, "boss@example.com")
    account = str(created["account_id"])
    env = {**os.environ, "FRONTDESK_AGENT_PASSWORD": "another password"}
    added = _run(
        "agent", "add", "--account-id", account, "--email", "helper@example.com", "--database", database, env=env
    )
    assert json.loads(added.stdout)["role"] == "agent"
    listed = json.loads(_run("agent", "list", "--account-id", account, "--database", database).stdout)
    assert [(a["email"], a["role"]) for a in listed] == [("boss@example.com", "admin"), ("helper@example.com", "agent")]
    helper = str(listed[1]["id"])
    promoted = _run(
        "agent", "set-role", "--account-id", account, "--agent-id", helper, "--role", "admin", "--database", database
    )
    assert promoted.returncode == 0, promoted.stderr

    changed = _run("account", "set-retention", "--account-id", account, "--message-days", "30", "--database", database)
    assert json.loads(changed.stdout) == {"visitor_days": 90, "message_days": 30, "offline_days": 90}
    too_long = _run("account", "set-retention", "--account-id", account, "--visitor-days", "0", "--database", database)
    assert too_long.returncode == 2
    assert "between 1 and 3650" in too_long.stderr

    missing = _run("visitor", "export", "--account-id", account, "--visitor-id", "vnobody001", "--database", database)
    assert missing.returncode == 2
    assert "nothing is held" in missing.stderr

    audit = json.loads(_run("account", "audit", "--account-id", account, "--database", database).stdout)
    assert [line["action"] for line in audit] == ["retention", "role"]
    assert {line["actor"] for line in audit} == {"command line"}


@pytest.mark.slow
async def test_erase_without_redis_says_a_running_server_was_not_reached_and_what_to_do(
    live_server: LiveServer,
) -> None:
    tenant = live_server.create_account()
    token = live_server.login(tenant.agent_email, tenant.agent_password)
    database = str(live_server.server.services.engine.url).replace("sqlite+aiosqlite", "sqlite", 1)
    async with await VisitorSocket.connect(live_server.visitor_url(tenant.account_key)) as visitor:
        vid = visitor.visitor_id
        await visitor.send(Identify(name="Grace Hopper"))
        await visitor.send(VisitorChat(id=new_id(), text="my order 4711"))
        await visitor.wait_for(Ack)

        env = {k: v for k, v in os.environ.items() if k != "FRONTDESK_REDIS"}
        args = ("visitor", "erase", "--account-id", str(tenant.account_id), "--visitor-id", vid)
        done = await asyncio.to_thread(_run, *args, "--database", database, env=env)
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout) == {"visitor_id": vid, "erased": True, "live": "not reached"}
        assert "without --redis this command erased the database only" in done.stderr
        assert f"DELETE /api/v1/visitors/{vid}" in done.stderr
        assert "stop the server, run this command again, then start the server" in done.stderr

        # What the note warns about: the running server still lists them by name.
        async with await AgentSocket.connect(live_server.agent_ws_url, token) as agent:
            await agent.hello()
            await agent.wait_for(Snapshot, lambda e: not e.more)
            assert agent.visitors[vid].name == "Grace Hopper"
        # The REST call the note names reaches the live state.
        async with httpx.AsyncClient() as http:
            response = await http.delete(
                f"{live_server.http_url}/api/v1/visitors/{vid}", headers={"X-Api-Key": tenant.api_key}
            )
        assert response.status_code in (200, 204), response.text
        async with await AgentSocket.connect(live_server.agent_ws_url, token) as agent:
            await agent.hello()
            await agent.wait_for(Snapshot, lambda e: not e.more)
            assert agent.visitors[vid].name is None
