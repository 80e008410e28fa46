"""Persistence: everything that must survive a restart, behind one class (SQLite or PostgreSQL)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import msgspec
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine

from protocol.messages import ChatMessage, ChatStatus
from protocol.rules import Plan
from server import db
from server.rules import AutoRule, RuleConditions, RuleSpec


@dataclass(slots=True)
class AccountRow:
    """An account as stored."""

    id: int
    name: str
    plan: Plan
    account_key: str
    allowed_origins: list[str]


@dataclass(slots=True)
class AgentRow:
    """An agent as stored."""

    id: int
    account_id: int
    email: str
    name: str
    password_hash: str


@dataclass(slots=True)
class VisitorRow:
    """What is remembered about a visitor across visits."""

    account_id: int
    id: str
    first_seen_at: float
    last_seen_at: float
    visit_count: int = 1
    name: str | None = None
    email: str | None = None
    phone: str | None = None
    custom: dict[str, str] = field(default_factory=dict)
    customer: bool = False
    auto_messaged: bool = False
    banned: bool = False
    ban_reason: str = ""
    chat_status: ChatStatus = "none"
    chat_agent_id: int | None = None


_VISITOR_COLUMNS = tuple(c.name for c in db.visitors.columns)


class Store:
    """Async access to the database."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._dialect = engine.dialect.name

    def _insert(self, table: sa.Table) -> Any:
        if self._dialect == "postgresql":
            return postgresql.insert(table)
        return sqlite.insert(table)

    async def ping(self) -> None:
        """Raise if the database cannot be reached."""
        async with self.engine.connect() as conn:
            await conn.execute(sa.text("SELECT 1"))

    # ------------------------------------------------------------ accounts and agents

    async def create_account(
        self, *, name: str, plan: Plan, account_key: str, api_key_hash: str, allowed_origins: list[str]
    ) -> int:
        """Insert an account and return its id."""
        async with self.engine.begin() as conn:
            result = await conn.execute(
                db.accounts.insert().values(
                    name=name,
                    plan=plan.value,
                    account_key=account_key,
                    api_key_hash=api_key_hash,
                    allowed_origins=allowed_origins,
                    created_at=time.time(),
                )
            )
            return int(result.inserted_primary_key[0])  # type: ignore[index]

    @staticmethod
    def _account(row: Any) -> AccountRow:
        return AccountRow(
            id=row.id,
            name=row.name,
            plan=Plan(row.plan),
            account_key=row.account_key,
            allowed_origins=list(row.allowed_origins or []),
        )

    async def account(self, account_id: int) -> AccountRow | None:
        """The account with this id."""
        async with self.engine.connect() as conn:
            row = (await conn.execute(sa.select(db.accounts).where(db.accounts.c.id == account_id))).first()
        return None if row is None else self._account(row)

    async def account_by_key(self, account_key: str) -> AccountRow | None:
        """The account with this public key."""
        async with self.engine.connect() as conn:
            query = sa.select(db.accounts).where(db.accounts.c.account_key == account_key)
            row = (await conn.execute(query)).first()
        return None if row is None else self._account(row)

    async def account_by_api_key(self, api_key_hash: str) -> AccountRow | None:
        """The account whose API key has this hash."""
        async with self.engine.connect() as conn:
            query = sa.select(db.accounts).where(db.accounts.c.api_key_hash == api_key_hash)
            row = (await conn.execute(query)).first()
        return None if row is None else self._account(row)

    async def update_account(
        self, account_id: int, *, plan: Plan | None = None, allowed_origins: list[str] | None = None
    ) -> bool:
        """Change an account's plan or origins; False when there is no such account."""
        values: dict[str, Any] = {}
        if plan is not None:
            values["plan"] = plan.value
        if allowed_origins is not None:
            values["allowed_origins"] = allowed_origins
        async with self.engine.begin() as conn:
            result = await conn.execute(db.accounts.update().where(db.accounts.c.id == account_id).values(**values))
        return bool(result.rowcount)

    async def add_agent(self, *, account_id: int, email: str, name: str, password_hash: str) -> int:
        """Insert an agent and return its id (raises IntegrityError on a taken e-mail)."""
        async with self.engine.begin() as conn:
            result = await conn.execute(
                db.agents.insert().values(
                    account_id=account_id,
                    email=email.strip().lower(),
                    name=name,
                    password_hash=password_hash,
                    created_at=time.time(),
                )
            )
            return int(result.inserted_primary_key[0])  # type: ignore[index]

    @staticmethod
    def _agent(row: Any) -> AgentRow:
        return AgentRow(
            id=row.id, account_id=row.account_id, email=row.email, name=row.name, password_hash=row.password_hash
        )

    async def agent_by_email(self, email: str) -> AgentRow | None:
        """The agent with this e-mail (case-insensitive)."""
        async with self.engine.connect() as conn:
            query = sa.select(db.agents).where(db.agents.c.email == email.strip().lower())
            row = (await conn.execute(query)).first()
        return None if row is None else self._agent(row)

    async def create_token(self, token_hash: str, agent_id: int) -> None:
        """Store a new token's hash."""
        async with self.engine.begin() as conn:
            await conn.execute(
                db.tokens.insert().values(token_hash=token_hash, agent_id=agent_id, created_at=time.time())
            )

    async def agent_by_token(self, token_hash: str) -> AgentRow | None:
        """The agent owning an unrevoked token."""
        query = (
            sa.select(db.agents)
            .join(db.tokens, db.tokens.c.agent_id == db.agents.c.id)
            .where(db.tokens.c.token_hash == token_hash, db.tokens.c.revoked_at.is_(None))
        )
        async with self.engine.connect() as conn:
            row = (await conn.execute(query)).first()
        return None if row is None else self._agent(row)

    async def revoke_token(self, token_hash: str) -> bool:
        """Revoke a token; False when it was unknown or already revoked."""
        async with self.engine.begin() as conn:
            result = await conn.execute(
                db.tokens.update()
                .where(db.tokens.c.token_hash == token_hash, db.tokens.c.revoked_at.is_(None))
                .values(revoked_at=time.time())
            )
        return bool(result.rowcount)

    # ------------------------------------------------------------ visitors

    @staticmethod
    def _visitor(row: Any) -> VisitorRow:
        data = {name: getattr(row, name) for name in _VISITOR_COLUMNS}
        data["custom"] = dict(data["custom"] or {})
        return VisitorRow(**data)

    async def visitor(self, account_id: int, visitor_id: str) -> VisitorRow | None:
        """A remembered visitor of this account."""
        query = sa.select(db.visitors).where(db.visitors.c.account_id == account_id, db.visitors.c.id == visitor_id)
        async with self.engine.connect() as conn:
            row = (await conn.execute(query)).first()
        return None if row is None else self._visitor(row)

    async def visitors_many(self, keys: list[tuple[int, str]]) -> dict[tuple[int, str], VisitorRow]:
        """Remembered visitors for many (account id, visitor id) pairs in one query."""
        if not keys:
            return {}
        query = sa.select(db.visitors).where(sa.tuple_(db.visitors.c.account_id, db.visitors.c.id).in_(keys))
        async with self.engine.connect() as conn:
            rows = [self._visitor(row) for row in await conn.execute(query)]
        return {(row.account_id, row.id): row for row in rows}

    async def write_visitors(
        self, ops: list[tuple[str, VisitorRow | None, tuple[int, str] | None, dict[str, Any] | None]]
    ) -> None:
        """Apply visit upserts and field updates in order, in one transaction."""
        async with self.engine.begin() as conn:
            visits: list[dict[str, Any]] = []
            for kind, row, key, values in ops:
                if kind == "visit":
                    assert row is not None
                    visits.append({name: getattr(row, name) for name in _VISITOR_COLUMNS})
                    continue
                if visits:
                    await conn.execute(self._visit_upsert(), visits)
                    visits = []
                assert key is not None
                assert values is not None
                await conn.execute(
                    db.visitors.update()
                    .where(db.visitors.c.account_id == key[0], db.visitors.c.id == key[1])
                    .values(**values)
                )
            if visits:
                await conn.execute(self._visit_upsert(), visits)

    def _visit_upsert(self) -> Any:
        statement = self._insert(db.visitors)
        return statement.on_conflict_do_update(
            index_elements=[db.visitors.c.account_id, db.visitors.c.id],
            set_={"last_seen_at": statement.excluded.last_seen_at, "visit_count": statement.excluded.visit_count},
        )

    async def banned_visitors(self, account_id: int) -> list[VisitorRow]:
        """Every banned visitor of an account (they stay listed so they can be unbanned)."""
        query = sa.select(db.visitors).where(db.visitors.c.account_id == account_id, db.visitors.c.banned.is_(True))
        async with self.engine.connect() as conn:
            return [self._visitor(row) for row in await conn.execute(query)]

    async def save_visitor(self, row: VisitorRow) -> None:
        """Insert or update a visitor's remembered fields."""
        values = {name: getattr(row, name) for name in _VISITOR_COLUMNS}
        statement = self._insert(db.visitors).values(**values)
        statement = statement.on_conflict_do_update(
            index_elements=[db.visitors.c.account_id, db.visitors.c.id],
            set_={k: v for k, v in values.items() if k not in ("account_id", "id")},
        )
        async with self.engine.begin() as conn:
            await conn.execute(statement)

    async def update_visitor(self, account_id: int, visitor_id: str, **values: Any) -> None:
        """Change some remembered fields of a visitor."""
        async with self.engine.begin() as conn:
            await conn.execute(
                db.visitors.update()
                .where(db.visitors.c.account_id == account_id, db.visitors.c.id == visitor_id)
                .values(**values)
            )

    # ------------------------------------------------------------ messages

    @staticmethod
    def _message(row: Any) -> ChatMessage:
        return ChatMessage(
            id=row.id,
            visitor_id=row.visitor_id,
            author=row.author,
            text=row.text,
            sent_at=row.sent_at,
            agent_id=row.agent_id,
            agent_name=row.agent_name,
            delivered_at=row.delivered_at,
            read_at=row.read_at,
            replies=tuple(row.replies or ()),
        )

    async def add_message(self, account_id: int, message: ChatMessage) -> tuple[ChatMessage, bool]:
        """Store a message unless its id is already stored; returns the stored one and whether it is new."""
        statement = (
            self._insert(db.messages)
            .values(account_id=account_id, **msgspec.structs.asdict(message))
            .on_conflict_do_nothing(index_elements=["account_id", "visitor_id", "id"])
        )
        async with self.engine.begin() as conn:
            result = await conn.execute(statement)
            if result.rowcount:
                return message, True
            query = sa.select(db.messages).where(
                db.messages.c.account_id == account_id,
                db.messages.c.visitor_id == message.visitor_id,
                db.messages.c.id == message.id,
            )
            row = (await conn.execute(query)).one()
        return self._message(row), False

    async def messages(self, account_id: int, visitor_id: str, limit: int = 500) -> list[ChatMessage]:
        """The last ``limit`` messages of a visitor's conversation, oldest first."""
        query = (
            sa.select(db.messages)
            .where(db.messages.c.account_id == account_id, db.messages.c.visitor_id == visitor_id)
            .order_by(db.messages.c.seq.desc())
            .limit(limit)
        )
        async with self.engine.connect() as conn:
            rows = list(await conn.execute(query))
        return [self._message(row) for row in reversed(rows)]

    async def mark_messages(
        self,
        account_id: int,
        visitor_id: str,
        ids: list[str],
        *,
        delivered_at: float | None = None,
        read_at: float | None = None,
    ) -> None:
        """Set delivery or read times of some messages."""
        if not ids:
            return
        values: dict[str, float] = {}
        if delivered_at is not None:
            values["delivered_at"] = delivered_at
        if read_at is not None:
            values["read_at"] = read_at
        async with self.engine.begin() as conn:
            await conn.execute(
                db.messages.update()
                .where(
                    db.messages.c.account_id == account_id,
                    db.messages.c.visitor_id == visitor_id,
                    db.messages.c.id.in_(ids),
                )
                .values(**values)
            )

    async def unread_ids(self, account_id: int, visitor_id: str, *, authors: tuple[str, ...]) -> list[str]:
        """Ids of the messages by ``authors`` not read yet."""
        query = sa.select(db.messages.c.id).where(
            db.messages.c.account_id == account_id,
            db.messages.c.visitor_id == visitor_id,
            db.messages.c.author.in_(authors),
            db.messages.c.read_at.is_(None),
        )
        async with self.engine.connect() as conn:
            return [row.id for row in await conn.execute(query)]

    # ------------------------------------------------------------ rules

    async def add_rule(self, account_id: int, spec: RuleSpec) -> AutoRule:
        """Store a (validated) rule."""
        async with self.engine.begin() as conn:
            result = await conn.execute(
                db.rules.insert().values(
                    account_id=account_id,
                    name=spec.name,
                    message=spec.message,
                    conditions=msgspec.to_builtins(spec.conditions),
                    enabled=spec.enabled,
                    created_at=time.time(),
                )
            )
            rule_id = int(result.inserted_primary_key[0])  # type: ignore[index]
        return AutoRule(
            id=rule_id,
            account_id=account_id,
            name=spec.name,
            message=spec.message,
            conditions=spec.conditions,
            enabled=spec.enabled,
        )

    async def update_rule(self, account_id: int, rule_id: int, spec: RuleSpec) -> AutoRule | None:
        """Replace a rule; None when the account has no such rule."""
        async with self.engine.begin() as conn:
            result = await conn.execute(
                db.rules.update()
                .where(db.rules.c.account_id == account_id, db.rules.c.id == rule_id)
                .values(
                    name=spec.name,
                    message=spec.message,
                    conditions=msgspec.to_builtins(spec.conditions),
                    enabled=spec.enabled,
                )
            )
        if not result.rowcount:
            return None
        return AutoRule(
            id=rule_id,
            account_id=account_id,
            name=spec.name,
            message=spec.message,
            conditions=spec.conditions,
            enabled=spec.enabled,
        )

    async def delete_rule(self, account_id: int, rule_id: int) -> bool:
        """Delete a rule; False when the account has no such rule."""
        async with self.engine.begin() as conn:
            result = await conn.execute(
                db.rules.delete().where(db.rules.c.account_id == account_id, db.rules.c.id == rule_id)
            )
        return bool(result.rowcount)

    async def rules(self, account_id: int) -> list[AutoRule]:
        """Every rule of an account, oldest first."""
        query = sa.select(db.rules).where(db.rules.c.account_id == account_id).order_by(db.rules.c.id)
        async with self.engine.connect() as conn:
            rows = list(await conn.execute(query))
        return [
            AutoRule(
                id=row.id,
                account_id=row.account_id,
                name=row.name,
                message=row.message,
                conditions=msgspec.convert(row.conditions, RuleConditions),
                enabled=row.enabled,
            )
            for row in rows
        ]

    async def fired_rules(self, account_id: int, visitor_id: str) -> set[int]:
        """Ids of the rules that already fired for a visitor."""
        query = sa.select(db.rule_firings.c.rule_id).where(
            db.rule_firings.c.account_id == account_id, db.rule_firings.c.visitor_id == visitor_id
        )
        async with self.engine.connect() as conn:
            return {row.rule_id for row in await conn.execute(query)}

    async def fire_rule(self, account_id: int, rule_id: int, message: ChatMessage) -> bool:
        """Record a rule's firing and store its message in one transaction; False when it had already fired.

        The unique firing decides which of several racing processes sends the message, and a crash
        cannot leave a firing without its message.
        """
        firing = (
            self._insert(db.rule_firings)
            .values(account_id=account_id, visitor_id=message.visitor_id, rule_id=rule_id, fired_at=message.sent_at)
            .on_conflict_do_nothing()
        )
        stored = (
            self._insert(db.messages)
            .values(account_id=account_id, **msgspec.structs.asdict(message))
            .on_conflict_do_nothing(index_elements=["account_id", "visitor_id", "id"])
        )
        async with self.engine.begin() as conn:
            if not (await conn.execute(firing)).rowcount:
                return False
            await conn.execute(stored)
        return True

    async def record_firing(self, account_id: int, visitor_id: str, rule_id: int) -> bool:
        """Remember that a rule fired; False when it had already fired (another process won)."""
        statement = (
            self._insert(db.rule_firings)
            .values(account_id=account_id, visitor_id=visitor_id, rule_id=rule_id, fired_at=time.time())
            .on_conflict_do_nothing()
        )
        async with self.engine.begin() as conn:
            result = await conn.execute(statement)
        return bool(result.rowcount)
