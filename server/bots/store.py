"""Bots in SQL: flows, each visitor's run and the once-per-trigger record (SQLite or PostgreSQL)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import msgspec
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from protocol.bots.engine import BotState
from protocol.bots.flow import BotStatus, Flow, FlowSpec
from server.bots.tables import bot_firings, bot_runs, bots


@dataclass(frozen=True, slots=True)
class StoredRun:
    """A visitor's current or last bot run."""

    run: int
    version: int
    state: BotState


class _LostRaceError(Exception):
    """Rolls a claim back: another process or a running bot came first."""


class BotStore:
    """Async access to the bot tables."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._insert: Any = postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert

    # ------------------------------------------------------------ flows

    @staticmethod
    def _flow(row: Any) -> Flow:
        return Flow(
            id=row.id, account_id=row.account_id, spec=msgspec.convert(row.spec, FlowSpec), updated_at=row.updated_at
        )

    async def add(self, account_id: int, spec: FlowSpec) -> Flow:
        """Store a (validated) flow."""
        now = time.time()
        async with self.engine.begin() as conn:
            result = await conn.execute(
                bots.insert().values(
                    account_id=account_id,
                    name=spec.name,
                    spec=msgspec.to_builtins(spec),
                    enabled=spec.enabled,
                    created_at=now,
                    updated_at=now,
                )
            )
            flow_id = int(result.inserted_primary_key[0])  # type: ignore[index]
        return Flow(id=flow_id, account_id=account_id, spec=spec, updated_at=now)

    async def update(self, account_id: int, flow_id: int, spec: FlowSpec) -> Flow | None:
        """Replace a flow; None when the account has no such flow."""
        now = time.time()
        async with self.engine.begin() as conn:
            result = await conn.execute(
                bots.update()
                .where(bots.c.account_id == account_id, bots.c.id == flow_id)
                .values(name=spec.name, spec=msgspec.to_builtins(spec), enabled=spec.enabled, updated_at=now)
            )
        if not result.rowcount:
            return None
        return Flow(id=flow_id, account_id=account_id, spec=spec, updated_at=now)

    async def delete(self, account_id: int, flow_id: int) -> bool:
        """Delete a flow; False when the account has no such flow (runs of it hand over on their next event)."""
        async with self.engine.begin() as conn:
            result = await conn.execute(bots.delete().where(bots.c.account_id == account_id, bots.c.id == flow_id))
        return bool(result.rowcount)

    async def get(self, account_id: int, flow_id: int) -> Flow | None:
        """One flow of the account."""
        query = sa.select(bots).where(bots.c.account_id == account_id, bots.c.id == flow_id)
        async with self.engine.connect() as conn:
            row = (await conn.execute(query)).first()
        return None if row is None else self._flow(row)

    async def flows(self, account_id: int) -> list[Flow]:
        """Every flow of the account, oldest first."""
        query = sa.select(bots).where(bots.c.account_id == account_id).order_by(bots.c.id)
        async with self.engine.connect() as conn:
            return [self._flow(row) for row in await conn.execute(query)]

    # ------------------------------------------------------------ runs

    async def fired(self, account_id: int, visitor_id: str) -> frozenset[int]:
        """Flows that already started for the visitor."""
        query = sa.select(bot_firings.c.flow_id).where(
            bot_firings.c.account_id == account_id, bot_firings.c.visitor_id == visitor_id
        )
        async with self.engine.connect() as conn:
            return frozenset(row.flow_id for row in await conn.execute(query))

    async def run(self, account_id: int, visitor_id: str) -> StoredRun | None:
        """The visitor's current or last run."""
        query = sa.select(bot_runs).where(bot_runs.c.account_id == account_id, bot_runs.c.visitor_id == visitor_id)
        async with self.engine.connect() as conn:
            row = (await conn.execute(query)).first()
        return None if row is None else _stored(row)

    async def claim(self, account_id: int, visitor_id: str, flow: Flow, state: BotState) -> StoredRun | None:
        """Start ``flow`` for the visitor with ``state``, atomically; None when it already ran or a bot is running.

        A flow without ``repeat`` records its firing under a unique key, and the visitor's run row is taken
        only when no bot is running: two processes seeing the same trigger start one run between them.
        """
        now = time.time()
        try:
            async with self.engine.begin() as conn:
                if not flow.spec.repeat:
                    firing = (
                        self._insert(bot_firings)
                        .values(account_id=account_id, visitor_id=visitor_id, flow_id=flow.id, fired_at=now)
                        .on_conflict_do_nothing()
                    )
                    if not (await conn.execute(firing)).rowcount:
                        raise _LostRaceError
                values = {
                    "account_id": account_id,
                    "visitor_id": visitor_id,
                    "run": 1,
                    "version": 1,
                    "flow_id": flow.id,
                    "status": state.status,
                    "state": msgspec.to_builtins(state),
                    "started_at": now,
                    "updated_at": now,
                }
                upsert = self._insert(bot_runs).values(**values)
                upsert = upsert.on_conflict_do_update(
                    index_elements=[bot_runs.c.account_id, bot_runs.c.visitor_id],
                    set_={
                        "run": bot_runs.c.run + 1,
                        "version": 1,
                        "flow_id": flow.id,
                        "status": state.status,
                        "state": values["state"],
                        "started_at": now,
                        "updated_at": now,
                    },
                    where=bot_runs.c.status != "running",
                )
                if not (await conn.execute(upsert)).rowcount:
                    raise _LostRaceError
                return await _read_run(conn, account_id, visitor_id)
        except _LostRaceError:
            return None

    async def save(self, account_id: int, visitor_id: str, previous: StoredRun, state: BotState) -> StoredRun | None:
        """Store the run's next state unless something changed it meanwhile (then None and nothing is written)."""
        async with self.engine.begin() as conn:
            result = await conn.execute(
                bot_runs.update()
                .where(
                    bot_runs.c.account_id == account_id,
                    bot_runs.c.visitor_id == visitor_id,
                    bot_runs.c.run == previous.run,
                    bot_runs.c.version == previous.version,
                )
                .values(
                    version=previous.version + 1,
                    status=state.status,
                    state=msgspec.to_builtins(state),
                    updated_at=time.time(),
                )
            )
        if not result.rowcount:
            return None
        return StoredRun(run=previous.run, version=previous.version + 1, state=state)

    async def stop(self, account_id: int, visitor_id: str, status: BotStatus = "stopped") -> StoredRun | None:
        """End a running bot at once (an agent took over); the run as stopped, or None when none was running."""
        async with self.engine.begin() as conn:
            current = await _read_run(conn, account_id, visitor_id)
            if current is None or current.state.status != "running":
                return None
            state = msgspec.structs.replace(current.state, status=status, waiting_at=None)
            result = await conn.execute(
                bot_runs.update()
                .where(
                    bot_runs.c.account_id == account_id,
                    bot_runs.c.visitor_id == visitor_id,
                    bot_runs.c.status == "running",
                )
                .values(
                    version=bot_runs.c.version + 1,
                    status=status,
                    state=msgspec.to_builtins(state),
                    updated_at=time.time(),
                )
            )
            if not result.rowcount:
                return None
        return StoredRun(run=current.run, version=current.version + 1, state=state)

    async def forget_visitor(self, account_id: int, visitor_id: str) -> None:
        """Erase what bots kept about a visitor (their run with its answers, and which flows ran)."""
        async with self.engine.begin() as conn:
            await conn.execute(
                bot_runs.delete().where(bot_runs.c.account_id == account_id, bot_runs.c.visitor_id == visitor_id)
            )
            await conn.execute(
                bot_firings.delete().where(
                    bot_firings.c.account_id == account_id, bot_firings.c.visitor_id == visitor_id
                )
            )


def _stored(row: Any) -> StoredRun:
    return StoredRun(run=row.run, version=row.version, state=msgspec.convert(row.state, BotState))


async def _read_run(conn: AsyncConnection, account_id: int, visitor_id: str) -> StoredRun | None:
    query = sa.select(bot_runs).where(bot_runs.c.account_id == account_id, bot_runs.c.visitor_id == visitor_id)
    row = (await conn.execute(query)).first()
    return None if row is None else _stored(row)
