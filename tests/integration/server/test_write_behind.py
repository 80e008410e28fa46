"""Visitor rows written behind the request path survive a database that is briefly unreachable."""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path

import pytest

from protocol.rules import Plan
from server import db
from server.batching import VisitorWriter
from server.config import normalize_database_url
from server.store import Store, VisitorRow
from tests.fixtures.postgres import allow_connections, postgres_cluster, postgres_url

__all__ = ["postgres_cluster", "postgres_url"]


class _OnRetry(logging.Handler):
    """Sets an event when the writer says it will retry (the log line is the writer's only signal)."""

    def __init__(self, event: asyncio.Event) -> None:
        super().__init__()
        self._event = event

    def emit(self, record: logging.LogRecord) -> None:
        if "retrying" in record.getMessage():
            self._event.set()


@pytest.mark.slow
async def test_writes_wait_for_the_database_and_lose_nothing(
    postgres_url: str, caplog: pytest.LogCaptureFixture, request: pytest.FixtureRequest
) -> None:
    caplog.set_level(logging.WARNING, logger="server.batching")
    cluster_url, database = postgres_url.rsplit("/", 1)
    engine = db.create_engine(normalize_database_url(postgres_url))
    try:
        await db.migrate(engine)
        store = Store(engine)
        account = await store.create_account(
            name="Shop", plan=Plan.PRO, account_key="k" * 24, api_key_hash="h", allowed_origins=[]
        )
        writer = VisitorWriter(store)
        now = time.time()
        await writer.visit(VisitorRow(account, "v-before", now, now))

        retrying = asyncio.Event()
        on_retry = _OnRetry(retrying)
        logging.getLogger("server.batching").addHandler(on_retry)
        request.addfinalizer(lambda: logging.getLogger("server.batching").removeHandler(on_retry))
        await allow_connections(cluster_url, database, allow=False)
        visit = writer.visit(VisitorRow(account, "v-during", now, now))
        update = writer.update(account, "v-before", name="Grace", visit_count=2)
        await asyncio.wait_for(retrying.wait(), 30)
        assert not visit.done()
        assert not update.done()

        await allow_connections(cluster_url, database, allow=True)
        await asyncio.wait_for(asyncio.gather(visit, update), 30)
        assert await store.visitor(account, "v-during") is not None
        before = await store.visitor(account, "v-before")
        assert before is not None
        assert (before.name, before.visit_count) == ("Grace", 2)
        assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    finally:
        await engine.dispose()


async def test_a_write_the_database_refuses_for_good_is_reported_not_retried(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    engine = db.create_engine(normalize_database_url(f"sqlite:///{tmp_path}/fd.db"))
    try:
        await db.migrate(engine)
        store = Store(engine)
        writer = VisitorWriter(store)
        now = time.time()
        # No such account: the foreign key refuses the row, which no retry can change.
        failed = writer.visit(VisitorRow(404, "v-orphan", now, now))
        with pytest.raises(Exception, match="FOREIGN KEY"):
            await asyncio.wait_for(failed, 5)
        assert not any("retrying" in r.getMessage() for r in caplog.records)
        assert any("they are lost" in r.getMessage() for r in caplog.records)
    finally:
        await engine.dispose()
