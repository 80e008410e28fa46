"""Persistence of the team layer: agent status, who holds a chat, notes, canned responses, pending re-alerts."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from protocol.messages import AgentStatus, CannedResponse, CannedResponseSpec, Note
from server import db

DEFAULT_UNANSWERED_ALERT_SECONDS: Final = 60


@dataclass(slots=True, frozen=True)
class Claim:
    """The agent who holds a visitor's chat."""

    agent_id: int
    agent_name: str


@dataclass(slots=True, frozen=True)
class PendingAlert:
    """A chat waiting for an agent: since when, and when every online agent is alerted again."""

    account_id: int
    visitor_id: str
    waiting_since: float
    due_at: float


class DuplicateShortcutError(Exception):
    """A canned response with this shortcut and language exists already."""


class TeamStore:
    """Async access to the team layer's tables (SQLite or PostgreSQL)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    # ------------------------------------------------------------ status

    async def status(self, agent_id: int) -> AgentStatus:
        """An agent's chosen status (online until they chose otherwise)."""
        async with self.engine.connect() as conn:
            value = await conn.scalar(sa.select(db.agent_status.c.status).where(db.agent_status.c.agent_id == agent_id))
        return "away" if value == "away" else "online"

    async def statuses(self, account_id: int) -> dict[int, tuple[str, AgentStatus]]:
        """Every agent of an account: name and status."""
        query = (
            sa.select(db.agents.c.id, db.agents.c.name, db.agent_status.c.status)
            .select_from(db.agents.outerjoin(db.agent_status, db.agent_status.c.agent_id == db.agents.c.id))
            .where(db.agents.c.account_id == account_id)
        )
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return {r.id: (r.name, "away" if r.status == "away" else "online") for r in rows}

    async def set_status(self, agent_id: int, status: AgentStatus) -> None:
        """Remember an agent's status."""
        table = db.agent_status
        async with self.engine.begin() as conn:
            done = await conn.execute(
                sa.update(table).where(table.c.agent_id == agent_id).values(status=status, changed_at=time.time())
            )
            if done.rowcount == 0:
                await conn.execute(sa.insert(table).values(agent_id=agent_id, status=status, changed_at=time.time()))

    # ------------------------------------------------------------ chat claims

    async def claim(
        self, account_id: int, visitor_id: str, agent_id: int, agent_name: str, *, replacing: int | None = None
    ) -> Claim | None:
        """Take a chat for ``agent_id``; None when taken, else the holder who won instead.

        With no claim the first insert wins (the primary key refuses the second, on any process). An
        existing claim of this agent is kept. ``replacing`` takes the chat from that holder only if it
        still holds it (a take-over or a transfer: compare-and-set).
        """
        table = db.chat_claims
        where = sa.and_(table.c.account_id == account_id, table.c.visitor_id == visitor_id)
        now = time.time()
        if replacing is not None:
            async with self.engine.begin() as conn:
                done = await conn.execute(
                    sa.update(table)
                    .where(where, table.c.agent_id == replacing)
                    .values(agent_id=agent_id, agent_name=agent_name, claimed_at=now)
                )
            if done.rowcount == 1:
                return None
        else:
            try:
                async with self.engine.begin() as conn:
                    await conn.execute(
                        sa.insert(table).values(
                            account_id=account_id,
                            visitor_id=visitor_id,
                            agent_id=agent_id,
                            agent_name=agent_name,
                            claimed_at=now,
                        )
                    )
                return None
            except IntegrityError:
                pass
        holder = await self.holder(account_id, visitor_id)
        if holder is None:  # released in between: claim it from scratch
            return await self.claim(account_id, visitor_id, agent_id, agent_name)
        return None if holder.agent_id == agent_id else holder

    async def holder(self, account_id: int, visitor_id: str) -> Claim | None:
        """Who holds a visitor's chat."""
        table = db.chat_claims
        async with self.engine.connect() as conn:
            row = (
                await conn.execute(
                    sa.select(table.c.agent_id, table.c.agent_name).where(
                        table.c.account_id == account_id, table.c.visitor_id == visitor_id
                    )
                )
            ).first()
        return Claim(row.agent_id, row.agent_name) if row is not None else None

    async def release(self, account_id: int, visitor_id: str) -> None:
        """The chat ended (closed or banned): nobody holds it."""
        table = db.chat_claims
        async with self.engine.begin() as conn:
            await conn.execute(
                sa.delete(table).where(table.c.account_id == account_id, table.c.visitor_id == visitor_id)
            )

    # ------------------------------------------------------------ notes

    async def add_note(self, account_id: int, note: Note) -> tuple[Note, bool]:
        """Store a note once (a resend with the same id returns the stored one and False)."""
        table = db.notes
        try:
            async with self.engine.begin() as conn:
                await conn.execute(
                    sa.insert(table).values(
                        account_id=account_id,
                        visitor_id=note.visitor_id,
                        id=note.id,
                        text=note.text,
                        created_at=note.created_at,
                        agent_id=note.agent_id,
                        agent_name=note.agent_name,
                    )
                )
            return note, True
        except IntegrityError:
            stored = [n for n in await self.notes(account_id, note.visitor_id) if n.id == note.id]
            return (stored[0] if stored else note), False

    async def notes(self, account_id: int, visitor_id: str, limit: int = 500) -> list[Note]:
        """A visitor's notes, oldest first (the newest ``limit``)."""
        table = db.notes
        query = (
            sa.select(table)
            .where(table.c.account_id == account_id, table.c.visitor_id == visitor_id)
            .order_by(table.c.seq.desc())
            .limit(limit)
        )
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [
            Note(
                id=r.id,
                visitor_id=r.visitor_id,
                text=r.text,
                created_at=r.created_at,
                agent_id=r.agent_id,
                agent_name=r.agent_name,
            )
            for r in reversed(rows)
        ]

    # ------------------------------------------------------------ canned responses

    @staticmethod
    def _canned(row: Any) -> CannedResponse:
        return CannedResponse(id=row.id, shortcut=row.shortcut, text=row.text, language=row.language)

    async def canned(self, account_id: int) -> list[CannedResponse]:
        """An account's canned responses, by shortcut and language."""
        table = db.canned_responses
        query = sa.select(table).where(table.c.account_id == account_id).order_by(table.c.shortcut, table.c.language)
        async with self.engine.connect() as conn:
            return [self._canned(r) for r in (await conn.execute(query)).all()]

    async def save_canned(
        self, account_id: int, spec: CannedResponseSpec, response_id: int | None = None
    ) -> CannedResponse | None:
        """Create or replace a canned response; None when ``response_id`` is not the account's."""
        table = db.canned_responses
        values = {"shortcut": spec.shortcut, "text": spec.text, "language": spec.language}
        try:
            async with self.engine.begin() as conn:
                if response_id is None:
                    result = await conn.execute(
                        sa.insert(table).values(account_id=account_id, created_at=time.time(), **values)
                    )
                    new_id = int(result.inserted_primary_key[0])  # type: ignore[index]
                else:
                    done = await conn.execute(
                        sa.update(table)
                        .where(table.c.account_id == account_id, table.c.id == response_id)
                        .values(**values)
                    )
                    if done.rowcount == 0:
                        return None
                    new_id = response_id
        except IntegrityError:
            raise DuplicateShortcutError(
                f"a canned response /{spec.shortcut} in language {spec.language or '(any)'!r} exists already"
            ) from None
        return CannedResponse(id=new_id, **values)

    async def delete_canned(self, account_id: int, response_id: int) -> bool:
        """Delete a canned response of the account."""
        table = db.canned_responses
        async with self.engine.begin() as conn:
            done = await conn.execute(
                sa.delete(table).where(table.c.account_id == account_id, table.c.id == response_id)
            )
        return bool(done.rowcount)

    # ------------------------------------------------------------ settings

    async def unanswered_alert_seconds(self, account_id: int) -> int:
        """After how long an unanswered chat alerts every online agent again."""
        table = db.team_settings
        async with self.engine.connect() as conn:
            value = await conn.scalar(
                sa.select(table.c.unanswered_alert_seconds).where(table.c.account_id == account_id)
            )
        return int(value) if value is not None else DEFAULT_UNANSWERED_ALERT_SECONDS

    async def set_unanswered_alert_seconds(self, account_id: int, seconds: int) -> None:
        """Change the account's re-alert time."""
        table = db.team_settings
        async with self.engine.begin() as conn:
            done = await conn.execute(
                sa.update(table).where(table.c.account_id == account_id).values(unanswered_alert_seconds=seconds)
            )
            if done.rowcount == 0:
                await conn.execute(sa.insert(table).values(account_id=account_id, unanswered_alert_seconds=seconds))

    # ------------------------------------------------------------ re-alerts of chats waiting for an agent

    async def arm_alert(self, account_id: int, visitor_id: str, waiting_since: float, due_at: float) -> None:
        """Remember that a chat waits and when it alerts again; a chat already waiting keeps its times."""
        table = db.unanswered_alerts
        try:
            async with self.engine.begin() as conn:
                await conn.execute(
                    sa.insert(table).values(
                        account_id=account_id, visitor_id=visitor_id, waiting_since=waiting_since, due_at=due_at
                    )
                )
        except IntegrityError:
            pass  # armed already (by this or another process): the first message's time stands

    async def alert(self, account_id: int, visitor_id: str) -> PendingAlert | None:
        """A waiting chat's re-alert, if one is armed."""
        table = db.unanswered_alerts
        query = sa.select(table).where(table.c.account_id == account_id, table.c.visitor_id == visitor_id)
        async with self.engine.connect() as conn:
            row = (await conn.execute(query)).first()
        return None if row is None else PendingAlert(row.account_id, row.visitor_id, row.waiting_since, row.due_at)

    async def due_alerts(self, now: float, limit: int = 200) -> list[PendingAlert]:
        """Re-alerts due by ``now`` in every account, the most overdue first."""
        table = db.unanswered_alerts
        query = sa.select(table).where(table.c.due_at <= now).order_by(table.c.due_at).limit(limit)
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [PendingAlert(r.account_id, r.visitor_id, r.waiting_since, r.due_at) for r in rows]

    async def take_alert(self, alert: PendingAlert, next_due_at: float) -> bool:
        """Move a due re-alert to its next time; True for exactly one of the processes that try at once."""
        table = db.unanswered_alerts
        async with self.engine.begin() as conn:
            done = await conn.execute(
                sa.update(table)
                .where(
                    table.c.account_id == alert.account_id,
                    table.c.visitor_id == alert.visitor_id,
                    table.c.due_at == alert.due_at,
                )
                .values(due_at=next_due_at)
            )
        return done.rowcount == 1

    async def drop_alert(self, account_id: int, visitor_id: str) -> None:
        """The chat no longer waits (answered, taken, closed, gone): no more re-alerts."""
        table = db.unanswered_alerts
        async with self.engine.begin() as conn:
            await conn.execute(
                sa.delete(table).where(table.c.account_id == account_id, table.c.visitor_id == visitor_id)
            )
