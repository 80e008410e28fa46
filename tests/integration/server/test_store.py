"""The store on SQLite and on PostgreSQL: retention, export, erasure, roles, audit, migrations."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from protocol.messages import ChatMessage
from protocol.rules import Plan
from server import db
from server.config import normalize_database_url
from server.retention import DAY, RetentionJob
from server.store import Retention, Store, VisitorRow
from tests.fixtures.postgres import postgres_cluster

__all__ = ["postgres_cluster"]

NOW = 1_800_000_000.0


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.slow)])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    """A migrated, empty store on each database."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'store.sqlite3'}"
    else:
        url = await _fresh_database(request.getfixturevalue("postgres_cluster"), request.node.name)
    engine = db.create_engine(normalize_database_url(url))
    await db.migrate(engine)
    try:
        yield Store(engine)
    finally:
        await engine.dispose()


async def _fresh_database(cluster: str, test_name: str) -> str:
    import asyncpg  # type: ignore[import-untyped]  # noqa: PLC0415 - only the PostgreSQL runs need it

    name = "s_" + "".join(c if c.isalnum() else "_" for c in test_name.lower())[:50]
    connection = await asyncpg.connect(f"{cluster}/postgres")
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    return f"{cluster}/{name}"


async def _account(store: Store) -> int:
    return await store.create_account(
        name="Shop", plan=Plan.PRO, account_key=f"acc_{id(store)}", api_key_hash="h" * 64, allowed_origins=[]
    )


def _message(visitor_id: str, n: int, sent_at: float, author: str = "visitor") -> ChatMessage:
    return ChatMessage(id=f"m{n:08d}", visitor_id=visitor_id, author=author, text=f"text {n}", sent_at=sent_at)  # type: ignore[arg-type]


async def test_migrations_build_exactly_the_schema_the_code_declares(store: Store) -> None:
    def diff(connection: sa.Connection) -> list[object]:
        return list(compare_metadata(MigrationContext.configure(connection), db.metadata))

    async with store.engine.connect() as conn:
        assert await conn.run_sync(diff) == []


async def _present(_account_id: int) -> set[str]:
    """Presence as the retention job scans it: one visitor is on the site now."""
    return {"vhere00001"}


async def test_retention_deletes_exactly_what_expired(store: Store) -> None:
    account_id = await _account(store)
    await store.update_account(account_id, retention=Retention(visitor_days=30, message_days=60, offline_days=7))
    for visitor_id, last_seen, banned in [
        ("vgone00001", NOW - 31 * DAY, False),  # departed long ago: deleted
        ("vrecent001", NOW - 29 * DAY, False),  # kept
        ("vbanned001", NOW - 400 * DAY, True),  # a ban needs its record: kept
        ("vhere00001", NOW - 100 * DAY, False),  # on the site right now: kept
    ]:
        await store.save_visitor(
            VisitorRow(
                account_id=account_id, id=visitor_id, first_seen_at=last_seen, last_seen_at=last_seen, banned=banned
            )
        )
    await store.record_firing(account_id, "vgone00001", 1)
    await store.add_message(account_id, _message("vrecent001", 1, NOW - 61 * DAY))  # deleted
    await store.add_message(account_id, _message("vrecent001", 2, NOW - 59 * DAY))  # kept
    await store.add_message(account_id, _message("vrecent001", 3, NOW - 8 * DAY), offline=True)  # deleted
    await store.add_message(account_id, _message("vrecent001", 4, NOW - 6 * DAY), offline=True)  # kept
    many = [_message("vrecent001", 100 + n, NOW - 90 * DAY) for n in range(7)]  # more than one batch
    for message in many:
        await store.add_message(account_id, message)

    job = RetentionJob(store, present=_present, clock=lambda: NOW, batch=3)
    purged = await job.run_once()

    assert (purged.visitors, purged.messages, purged.offline_messages) == (1, 8, 1)
    assert await store.visitor(account_id, "vgone00001") is None
    assert await store.fired_rules(account_id, "vgone00001") == set()
    for kept in ("vrecent001", "vbanned001", "vhere00001"):
        assert await store.visitor(account_id, kept) is not None
    assert [m.id for m in await store.messages(account_id, "vrecent001")] == ["m00000002", "m00000004"]
    again = await job.run_once()
    assert (again.visitors, again.messages, again.offline_messages) == (0, 0, 0)


async def test_export_holds_everything_and_erasure_leaves_only_what_a_ban_needs(store: Store) -> None:
    account_id = await _account(store)
    row = VisitorRow(
        account_id=account_id,
        id="vperson001",
        first_seen_at=NOW,
        last_seen_at=NOW,
        name="Ada Lovelace",
        email="ada@example.com",
        phone="+43 1 234",
        custom={"customer_no": "1042"},
        customer=True,
    )
    await store.save_visitor(row)
    await store.add_message(account_id, _message("vperson001", 1, NOW))
    await store.add_message(account_id, _message("vperson001", 2, NOW + 1, author="agent"))
    await store.record_firing(account_id, "vperson001", 7)

    exported = await store.export_visitor(account_id, "vperson001")
    assert exported is not None
    assert exported["visitor"]["email"] == "ada@example.com"
    assert exported["visitor"]["custom"] == {"customer_no": "1042"}
    assert [m["text"] for m in exported["messages"]] == ["text 1", "text 2"]
    assert exported["rules_fired"] == [7]

    assert await store.erase_visitor(account_id, "vperson001")
    assert await store.export_visitor(account_id, "vperson001") is None
    assert not await store.erase_visitor(account_id, "vperson001")

    # A banned visitor keeps the id and the flag, nothing else.
    await store.save_visitor(
        VisitorRow(
            account_id=account_id,
            id="vbanned002",
            first_seen_at=NOW,
            last_seen_at=NOW,
            name="Troll",
            banned=True,
            ban_reason="called Ada names",
        )
    )
    await store.add_ip_ban(account_id, "f" * 64, "vbanned002", NOW + DAY)
    assert await store.erase_visitor(account_id, "vbanned002")
    kept = await store.visitor(account_id, "vbanned002")
    assert kept is not None
    assert (kept.banned, kept.name, kept.ban_reason, kept.custom) == (True, None, "", {})
    assert await store.ip_banned(account_id, "f" * 64, NOW)
    assert not await store.ip_banned(account_id, "f" * 64, NOW + 2 * DAY)
    assert await store.purge_ip_bans(expired_before=NOW + 2 * DAY) == 1


async def test_roles_and_the_audit_log(store: Store) -> None:
    account_id = await _account(store)
    admin_id = await store.add_agent(
        account_id=account_id, email="a@x.example", name="A", password_hash="x", role="admin"
    )
    agent_id = await store.add_agent(account_id=account_id, email="b@x.example", name="B", password_hash="x")
    assert [(a.id, a.role) for a in await store.agents(account_id)] == [(admin_id, "admin"), (agent_id, "agent")]
    assert await store.set_role(agent_id, "admin")
    agent = await store.agent(agent_id)
    assert agent is not None
    assert agent.role == "admin"

    for n, action in enumerate(["ban", "unban", "erase"]):
        await store.add_audit(
            account_id, actor="a@x.example", agent_id=admin_id, action=action, target="v1", at=NOW + n
        )
    lines = await store.audit(account_id, limit=2)
    assert [(e.action, e.at, e.actor) for e in lines] == [
        ("erase", NOW + 2, "a@x.example"),
        ("unban", NOW + 1, "a@x.example"),
    ]
    older = await store.audit(account_id, before_id=lines[-1].id)
    assert [e.action for e in older] == ["ban"]
    assert await store.audit(account_id + 1) == []


async def test_text_with_every_allowed_character_round_trips(store: Store) -> None:
    account_id = await _account(store)
    text = "tab\there\nnew line, umlauts äöü, emoji \U0001f600, <b>not html</b>"
    await store.add_message(
        account_id, ChatMessage(id="m00000001", visitor_id="vtext00001", author="visitor", text=text, sent_at=NOW)
    )
    [stored] = await store.messages(account_id, "vtext00001")
    assert stored.text == text
