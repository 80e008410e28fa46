"""Batched visitor reads and ordered write-behind of visitor rows.

Many visitors arrive at once (a reconnect storm, a busy page): one SELECT for all of them and
one transaction for all their writes keep the database off the hot path.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import exc as sa_exc

from server.store import Store, VisitorRow

log = logging.getLogger(__name__)

Key = tuple[int, str]
BATCH = 400
GATHER_SECONDS = 0.002
"""How long requests are gathered before a batch goes out (a few ms; invisible next to a handshake)."""
RETRY_FIRST_SECONDS = 0.25
RETRY_LAST_SECONDS = 32.0
"""A failed batch is retried after 0.25, 0.5, ... 32 s (about a minute in all) before it is given up."""


_PASSING_SQLSTATES = ("08", "53", "57P", "40001", "40P01")
"""PostgreSQL error classes that pass by themselves: connection exceptions, insufficient resources
(too many clients), operator intervention (shutdown, "cannot connect now"), serialization failures."""


def transient(exc: BaseException) -> bool:
    """Whether a database error may pass by itself: a lost or refused connection, a full pool, a lock."""
    if isinstance(exc, sa_exc.DBAPIError):
        if exc.connection_invalidated or isinstance(exc, sa_exc.OperationalError | sa_exc.InterfaceError):
            return True
        if exc.statement is None:  # it failed while connecting, before any statement ran
            return True
        sqlstate = getattr(exc.orig, "sqlstate", None)
        return isinstance(sqlstate, str) and sqlstate.startswith(_PASSING_SQLSTATES)
    return isinstance(exc, sa_exc.TimeoutError | OSError | asyncio.TimeoutError)


def _reason(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:200]


class VisitorLoader:
    """Looks up remembered visitors, many per query."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._pending: dict[Key, list[asyncio.Future[VisitorRow | None]]] = {}
        self._scheduled = False
        self._tasks: set[asyncio.Task[None]] = set()

    async def get(self, account_id: int, visitor_id: str) -> VisitorRow | None:
        """The visitor's row, or None when it was never seen."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[VisitorRow | None] = loop.create_future()
        self._pending.setdefault((account_id, visitor_id), []).append(future)
        if not self._scheduled:
            self._scheduled = True
            loop.call_later(GATHER_SECONDS, self._launch)
        return await future

    def _launch(self) -> None:
        self._scheduled = False
        pending, self._pending = self._pending, {}
        keys = list(pending)
        for start in range(0, len(keys), BATCH):
            chunk = {key: pending[key] for key in keys[start : start + BATCH]}
            task = asyncio.get_running_loop().create_task(self._load(chunk))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _load(self, chunk: dict[Key, list[asyncio.Future[VisitorRow | None]]]) -> None:
        try:
            rows = await self._store.visitors_many(list(chunk))
        except Exception as exc:
            for futures in chunk.values():
                for future in futures:
                    if not future.done():
                        future.set_exception(exc)
            return
        for key, futures in chunk.items():
            for future in futures:
                if not future.done():
                    future.set_result(rows.get(key))


@dataclass(slots=True)
class _Op:
    kind: str  # "visit" (upsert of a visit) or "update"
    row: VisitorRow | None
    key: Key | None
    values: dict[str, Any] | None
    done: asyncio.Future[None]


class VisitorWriter:
    """Writes visitor rows in submission order, many per transaction, off the request path.

    ``visit`` and ``update`` return a future that completes once the write is committed; callers
    that must be durable before they answer (a ban, an identify) await it, the rest do not.
    """

    def __init__(self, store: Store) -> None:
        self._store = store
        self._ops: list[_Op] = []
        self._task: asyncio.Task[None] | None = None

    def visit(self, row: VisitorRow) -> asyncio.Future[None]:
        """Insert a new visitor or count a returning one's visit (other fields are left alone)."""
        return self._submit(_Op("visit", row, None, None, asyncio.get_running_loop().create_future()))

    def update(self, account_id: int, visitor_id: str, **values: Any) -> asyncio.Future[None]:
        """Change some remembered fields of a visitor."""
        op = _Op("update", None, (account_id, visitor_id), values, asyncio.get_running_loop().create_future())
        return self._submit(op)

    def _submit(self, op: _Op) -> asyncio.Future[None]:
        self._ops.append(op)
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())
        return op.done

    async def _run(self) -> None:
        try:
            while self._ops:
                await asyncio.sleep(GATHER_SECONDS)
                ops, self._ops = self._ops, []
                await self._write(ops)
        finally:
            self._task = None

    async def _write(self, ops: list[_Op]) -> None:
        """Write one batch; a database that is briefly unreachable or overloaded is retried, not skipped.

        The batch is one transaction and every write sets absolute values, so a retry after a failure
        cannot apply anything twice. Later submissions wait behind it, which keeps the order.
        """
        delay = RETRY_FIRST_SECONDS
        while True:
            try:
                await self._store.write_visitors([(op.kind, op.row, op.key, op.values) for op in ops])
            except Exception as exc:
                if transient(exc) and delay <= RETRY_LAST_SECONDS:
                    log.warning(
                        "saving %d visitor changes failed (%s); retrying in %.1f s", len(ops), _reason(exc), delay
                    )
                    await asyncio.sleep(delay)
                    delay *= 2
                    continue
                log.error("saving %d visitor changes failed; they are lost", len(ops), exc_info=exc)
                for op in ops:
                    if not op.done.done():
                        op.done.set_exception(exc)
                        op.done.exception()  # retrieved: fire-and-forget callers are covered by the log
                return
            for op in ops:
                if not op.done.done():
                    op.done.set_result(None)
            return

    async def drain(self) -> None:
        """Wait until everything submitted is written."""
        while self._task is not None:
            await asyncio.wait({self._task})
