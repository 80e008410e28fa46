"""The bot runner on a real database (SQLite and PostgreSQL), two runners standing for two processes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from protocol.bots.flow import BotRun, Flow, FlowSpec
from protocol.messages import ChatMessage, Visitor
from protocol.rules import Plan
from server.bots.runner import BotRunner, bot_message_id
from server.bots.store import BotStore
from server.config import normalize_database_url
from server.db import create_engine, migrate
from server.store import Store
from tests.fixtures.postgres import postgres_cluster

__all__ = ["postgres_cluster"]

NOW = 1_000_000.0
SALES: dict[str, Any] = {
    "name": "Sales",
    "trigger": {"kind": "chat_opened_offline"},
    "start": "hello",
    "steps": [
        {"id": "hello", "kind": "question", "text": "Hi! Sales or support?", "store": "topic",
         "replies": [{"label": "Sales", "next": "name"}, {"label": "Support", "next": "team"}]},
        {"id": "name", "kind": "ask", "text": "Your name?", "store": "name", "next": "team"},
        {"id": "team", "kind": "hand_over"},
    ],
}  # fmt: skip


@dataclass
class RecordingPort:
    """The hub's side of the runner, recording what it was asked to do in order."""

    done: list[tuple[str, Any]] = field(default_factory=list)
    runs: dict[str, BotRun] = field(default_factory=dict)

    async def bot_message(self, account_id: int, visitor_id: str, message: ChatMessage) -> None:
        self.done.append(("message", (message.id, message.author, message.text, message.replies)))

    async def bot_answers(self, account_id: int, visitor_id: str, values: dict[str, str]) -> None:
        self.done.append(("answers", values))

    async def bot_hand_over(self, account_id: int, visitor_id: str) -> None:
        self.done.append(("hand_over", visitor_id))

    async def bot_close(self, account_id: int, visitor_id: str) -> None:
        self.done.append(("close", visitor_id))

    async def bot_run(self, account_id: int, visitor_id: str, run: BotRun) -> None:
        self.runs[visitor_id] = run


def visitor(**fields: Any) -> Visitor:
    base: dict[str, Any] = {"id": "visitor01", "label": "V", "first_seen_at": NOW, "visit_started_at": NOW,
                            "last_activity_at": NOW, "current_url": "https://shop.example/"}  # fmt: skip
    return msgspec.convert({**base, **fields}, Visitor)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh SQLite file, or the URL of the session's PostgreSQL cluster (the database is made per test)."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'bots.sqlite3'}"
    cluster: str = request.getfixturevalue("postgres_cluster")
    return cluster


@pytest.fixture
async def engines(database_url: str, request: pytest.FixtureRequest) -> AsyncIterator[tuple[AsyncEngine, AsyncEngine]]:
    """Two engines on one fresh database: two server processes sharing it."""
    url = database_url
    if url.startswith("postgresql"):
        import asyncpg  # type: ignore[import-untyped]  # noqa: PLC0415 - only the PostgreSQL runs need it

        name = "b_" + "".join(c if c.isalnum() else "_" for c in request.node.name.lower())[:50]
        connection = await asyncpg.connect(f"{url}/postgres")
        try:
            await connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
            await connection.execute(f'CREATE DATABASE "{name}"')
        finally:
            await connection.close()
        url = normalize_database_url(f"{url}/{name}")
    first, second = create_engine(url), create_engine(url)
    await migrate(first)
    try:
        yield first, second
    finally:
        await first.dispose()
        await second.dispose()


async def setup(engine: AsyncEngine, spec: dict[str, Any] = SALES) -> tuple[int, Flow]:
    account_id = await Store(engine).create_account(
        name="Shop", plan=Plan.PRO, account_key="shop-key", api_key_hash="h" * 64, allowed_origins=[]
    )
    flow = await BotStore(engine).add(account_id, msgspec.convert(spec, FlowSpec))
    return account_id, flow


async def test_a_bot_walks_its_flow_and_hands_over(engines: tuple[AsyncEngine, AsyncEngine]) -> None:
    account_id, flow = await setup(engines[0])
    port = RecordingPort()
    runner = BotRunner(BotStore(engines[0]), port, clock=lambda: NOW)
    v = visitor()
    assert await runner.trigger(account_id, Plan.PRO, "chat_opened_offline", v, agents_online=False)
    assert port.done == [("message", (bot_message_id(1, 0), "bot", "Hi! Sales or support?", ("Sales", "Support")))]
    assert port.runs["visitor01"] == BotRun(flow_id=flow.id, flow_name="Sales", status="running")

    v = visitor(bot=port.runs["visitor01"])
    assert await runner.visitor_wrote(account_id, Plan.PRO, v, "sales", agents_online=False)
    assert await runner.visitor_wrote(account_id, Plan.PRO, v, "Ada", agents_online=False)
    assert port.done[1:] == [
        ("answers", {"topic": "Sales"}),
        ("message", (bot_message_id(1, 1), "bot", "Your name?", ())),
        ("answers", {"name": "Ada"}),
        ("message", (bot_message_id(1, 2), "system", "Connecting you to our team", ())),
        ("hand_over", "visitor01"),
    ]
    assert port.runs["visitor01"].status == "handed_over"
    assert port.runs["visitor01"].answers == {"topic": "Sales", "name": "Ada"}
    done = len(port.done)
    v = visitor(bot=port.runs["visitor01"], chat_status="unanswered")
    assert not await runner.visitor_wrote(account_id, Plan.PRO, v, "hello?", agents_online=False)
    assert len(port.done) == done, "a handed-over bot says nothing more"
    assert not await runner.trigger(account_id, Plan.PRO, "chat_opened_offline", visitor(), agents_online=False), (
        "once per visitor and trigger"
    )


async def test_an_agent_taking_over_stops_the_bot_at_once(engines: tuple[AsyncEngine, AsyncEngine]) -> None:
    account_id, _ = await setup(engines[0])
    port = RecordingPort()
    runner = BotRunner(BotStore(engines[0]), port, clock=lambda: NOW)
    await runner.trigger(account_id, Plan.PRO, "chat_opened_offline", visitor(), agents_online=False)
    # The take-over happens on the other process.
    other = BotRunner(BotStore(engines[1]), RecordingPort(), clock=lambda: NOW)
    assert await other.taken_over(account_id, "visitor01")
    assert not await other.taken_over(account_id, "visitor01")
    said = len(port.done)
    v = visitor(bot=port.runs["visitor01"], chat_status="active")
    assert not await runner.visitor_wrote(account_id, Plan.PRO, v, "Sales", agents_online=True)
    assert len(port.done) == said, "the stopped bot did not answer"


async def test_two_processes_start_a_bot_once(engines: tuple[AsyncEngine, AsyncEngine]) -> None:
    account_id, _ = await setup(engines[0])
    ports = [RecordingPort(), RecordingPort()]
    runners = [
        BotRunner(BotStore(engine), port, clock=lambda: NOW) for engine, port in zip(engines, ports, strict=True)
    ]
    started = await asyncio.gather(
        *(r.trigger(account_id, Plan.PRO, "chat_opened_offline", visitor(), agents_online=False) for r in runners * 3)
    )
    assert sum(started) == 1
    assert sum(len(p.done) for p in ports) == 1


async def test_no_bot_on_free_when_agents_are_online_or_an_agent_talks(
    engines: tuple[AsyncEngine, AsyncEngine],
) -> None:
    account_id, _ = await setup(engines[0])
    port = RecordingPort()
    runner = BotRunner(BotStore(engines[0]), port, clock=lambda: NOW)
    assert not await runner.trigger(account_id, Plan.FREE, "chat_opened_offline", visitor(), agents_online=False)
    assert not await runner.trigger(account_id, Plan.PRO, "chat_opened_offline", visitor(), agents_online=True)
    busy = visitor(chat_status="active")
    assert not await runner.trigger(account_id, Plan.PRO, "chat_opened_offline", busy, agents_online=False)
    assert port.done == []


async def test_first_message_trigger_and_a_deleted_flow_hands_over(engines: tuple[AsyncEngine, AsyncEngine]) -> None:
    account_id, flow = await setup(engines[0], {**SALES, "trigger": {"kind": "first_message"}})
    port = RecordingPort()
    store = BotStore(engines[0])
    runner = BotRunner(store, port, clock=lambda: NOW)
    assert await runner.visitor_wrote(account_id, Plan.PRO, visitor(), "Hi there", agents_online=True)
    assert port.done[0][1][2] == "Hi! Sales or support?"
    await store.delete(account_id, flow.id)
    runner.flows_changed(account_id)
    v = visitor(bot=port.runs["visitor01"])
    assert await runner.visitor_wrote(account_id, Plan.PRO, v, "Sales", agents_online=True)
    assert port.done[-1] == ("hand_over", "visitor01")
    assert port.runs["visitor01"].status == "handed_over"


async def test_many_events_at_once_read_the_flows_once(engines: tuple[AsyncEngine, AsyncEngine]) -> None:
    account_id, _flow = await setup(engines[0])
    reads: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if "FROM bots" in statement:
            reads.append(statement)

    sa.event.listen(engines[0].sync_engine, "before_cursor_execute", count)
    runner = BotRunner(BotStore(engines[0]), RecordingPort(), clock=lambda: NOW)
    # A reconnect storm: hundreds of hellos ask at once while the cache is empty.
    answers = await asyncio.gather(*(runner.has_triggers(account_id, "chat_opened_offline") for _ in range(200)))
    assert all(answers)
    assert len(reads) == 1
    runner.flows_changed(account_id)
    assert await runner.has_triggers(account_id, "chat_opened_offline")
    assert len(reads) == 2
