"""Persistence: everything that must survive a restart, behind one class (SQLite or PostgreSQL)."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from typing import Any, Literal

import msgspec
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine

from protocol.messages import ChatMessage, ChatStatus
from protocol.rules import Plan
from server import db
from server.rules import AutoRule, RuleConditions, RuleSpec

Role = Literal["admin", "agent"]
"""An admin may also change retention, export and erase visitors, and edit rules and canned responses."""
ROLES: tuple[Role, ...] = ("admin", "agent")


@dataclass(frozen=True, slots=True)
class Retention:
    """How many days an account keeps what it no longer needs (the defaults are documented in docs/privacy.md)."""

    visitor_days: int = 90
    """Departed visitors' records, counted from their last visit (banned visitors are kept)."""
    message_days: int = 365
    """Chat messages, counted from when they were sent."""
    offline_days: int = 90
    """Messages a visitor left while no agent was online."""


@dataclass(slots=True)
class AccountRow:
    """An account as stored."""

    id: int
    name: str
    plan: Plan
    account_key: str
    allowed_origins: list[str]
    retention: Retention = field(default_factory=Retention)


@dataclass(slots=True)
class AgentRow:
    """An agent as stored."""

    id: int
    account_id: int
    email: str
    name: str
    password_hash: str
    role: Role = "agent"


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One line of an account's audit log: who did what to whom, when."""

    id: int
    at: float
    actor: str
    agent_id: int | None
    action: str
    target: str
    details: dict[str, Any]


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
    session_only: bool = False


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
            retention=Retention(
                visitor_days=row.retention_visitor_days,
                message_days=row.retention_message_days,
                offline_days=row.retention_offline_days,
            ),
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

    async def account_ids(self) -> list[int]:
        """Every account's id."""
        async with self.engine.connect() as conn:
            return [row.id for row in await conn.execute(sa.select(db.accounts.c.id).order_by(db.accounts.c.id))]

    async def update_account(
        self,
        account_id: int,
        *,
        plan: Plan | None = None,
        allowed_origins: list[str] | None = None,
        retention: Retention | None = None,
    ) -> bool:
        """Change an account's plan, origins or retention; False when there is no such account."""
        values: dict[str, Any] = {}
        if plan is not None:
            values["plan"] = plan.value
        if allowed_origins is not None:
            values["allowed_origins"] = allowed_origins
        if retention is not None:
            values["retention_visitor_days"] = retention.visitor_days
            values["retention_message_days"] = retention.message_days
            values["retention_offline_days"] = retention.offline_days
        async with self.engine.begin() as conn:
            result = await conn.execute(db.accounts.update().where(db.accounts.c.id == account_id).values(**values))
        return bool(result.rowcount)

    async def ip_key(self, account_id: int) -> str:
        """The account's secret for keyed hashes of IP addresses (created on first use)."""
        async with self.engine.begin() as conn:
            key = (await conn.execute(sa.select(db.accounts.c.ip_key).where(db.accounts.c.id == account_id))).scalar()
            if key:
                return str(key)
            key = secrets.token_hex(32)
            await conn.execute(
                db.accounts.update()
                .where(db.accounts.c.id == account_id, db.accounts.c.ip_key.is_(None))
                .values(ip_key=key)
            )
            stored = (
                await conn.execute(sa.select(db.accounts.c.ip_key).where(db.accounts.c.id == account_id))
            ).scalar()
        return str(stored)

    async def add_agent(
        self, *, account_id: int, email: str, name: str, password_hash: str, role: Role = "agent"
    ) -> int:
        """Insert an agent and return its id (raises IntegrityError on a taken e-mail)."""
        async with self.engine.begin() as conn:
            result = await conn.execute(
                db.agents.insert().values(
                    account_id=account_id,
                    email=email.strip().lower(),
                    name=name,
                    password_hash=password_hash,
                    created_at=time.time(),
                    role=role,
                )
            )
            return int(result.inserted_primary_key[0])  # type: ignore[index]

    @staticmethod
    def _agent(row: Any) -> AgentRow:
        return AgentRow(
            id=row.id,
            account_id=row.account_id,
            email=row.email,
            name=row.name,
            password_hash=row.password_hash,
            role=row.role,
        )

    async def agent(self, agent_id: int) -> AgentRow | None:
        """The agent with this id."""
        async with self.engine.connect() as conn:
            row = (await conn.execute(sa.select(db.agents).where(db.agents.c.id == agent_id))).first()
        return None if row is None else self._agent(row)

    async def agents(self, account_id: int) -> list[AgentRow]:
        """Every agent of an account, oldest first."""
        query = sa.select(db.agents).where(db.agents.c.account_id == account_id).order_by(db.agents.c.id)
        async with self.engine.connect() as conn:
            return [self._agent(row) for row in await conn.execute(query)]

    async def set_role(self, agent_id: int, role: Role) -> bool:
        """Change an agent's role; False when there is no such agent."""
        async with self.engine.begin() as conn:
            result = await conn.execute(db.agents.update().where(db.agents.c.id == agent_id).values(role=role))
        return bool(result.rowcount)

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

    async def add_message(
        self, account_id: int, message: ChatMessage, *, offline: bool = False
    ) -> tuple[ChatMessage, bool]:
        """Store a message unless its id is already stored; returns the stored one and whether it is new.

        ``offline``: a visitor wrote while no agent was online (kept as long as the offline retention says).
        """
        statement = (
            self._insert(db.messages)
            .values(account_id=account_id, offline=offline, **msgspec.structs.asdict(message))
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

    # ------------------------------------------------------------ audit log

    async def add_audit(
        self,
        account_id: int,
        *,
        actor: str,
        action: str,
        target: str,
        agent_id: int | None = None,
        details: dict[str, Any] | None = None,
        at: float | None = None,
    ) -> None:
        """Append one line to an account's audit log."""
        async with self.engine.begin() as conn:
            await conn.execute(
                db.audit.insert().values(
                    account_id=account_id,
                    at=time.time() if at is None else at,
                    actor=actor[:300],
                    agent_id=agent_id,
                    action=action,
                    target=target[:300],
                    details=details or {},
                )
            )

    async def audit(self, account_id: int, *, limit: int = 100, before_id: int | None = None) -> list[AuditEntry]:
        """The newest ``limit`` audit lines of an account (older than ``before_id``), newest first."""
        query = sa.select(db.audit).where(db.audit.c.account_id == account_id)
        if before_id is not None:
            query = query.where(db.audit.c.id < before_id)
        query = query.order_by(db.audit.c.id.desc()).limit(limit)
        async with self.engine.connect() as conn:
            rows = list(await conn.execute(query))
        return [
            AuditEntry(
                id=row.id,
                at=row.at,
                actor=row.actor,
                agent_id=row.agent_id,
                action=row.action,
                target=row.target,
                details=dict(row.details or {}),
            )
            for row in rows
        ]

    # ------------------------------------------------------------ retention, export, erasure

    async def purge_departed_visitors(
        self, account_id: int, *, last_seen_before: float, keep: set[str], batch: int
    ) -> int:
        """Delete up to ``batch`` visitors last seen before a time (not banned, not in ``keep``); returns how many."""
        query = (
            sa.select(db.visitors.c.id)
            .where(
                db.visitors.c.account_id == account_id,
                db.visitors.c.last_seen_at < last_seen_before,
                db.visitors.c.banned.is_(False),
            )
            .limit(batch + len(keep))
        )
        async with self.engine.begin() as conn:
            ids = [row.id for row in await conn.execute(query) if row.id not in keep][:batch]
            if not ids:
                return 0
            await conn.execute(
                db.rule_firings.delete().where(
                    db.rule_firings.c.account_id == account_id, db.rule_firings.c.visitor_id.in_(ids)
                )
            )
            await conn.execute(
                db.visitors.delete().where(db.visitors.c.account_id == account_id, db.visitors.c.id.in_(ids))
            )
        return len(ids)

    async def purge_messages(self, account_id: int, *, sent_before: float, offline: bool, batch: int) -> int:
        """Delete up to ``batch`` (offline or other) messages sent before a time; returns how many."""
        query = (
            sa.select(db.messages.c.seq)
            .where(
                db.messages.c.account_id == account_id,
                db.messages.c.sent_at < sent_before,
                db.messages.c.offline.is_(offline),
            )
            .limit(batch)
        )
        async with self.engine.begin() as conn:
            seqs = [row.seq for row in await conn.execute(query)]
            if seqs:
                await conn.execute(db.messages.delete().where(db.messages.c.seq.in_(seqs)))
        return len(seqs)

    async def purge_ip_bans(self, *, expired_before: float) -> int:
        """Delete IP bans that expired; returns how many."""
        async with self.engine.begin() as conn:
            result = await conn.execute(db.ip_bans.delete().where(db.ip_bans.c.expires_at < expired_before))
        return int(result.rowcount or 0)

    async def export_visitor(self, account_id: int, visitor_id: str) -> dict[str, Any] | None:
        """Everything stored about a visitor (record, messages, fired rules, IP ban), or None when nothing is."""
        visitor = await self.visitor(account_id, visitor_id)
        messages = await self.messages(account_id, visitor_id, limit=1_000_000)
        fired = await self.fired_rules(account_id, visitor_id)
        query = sa.select(db.ip_bans.c.expires_at).where(
            db.ip_bans.c.account_id == account_id, db.ip_bans.c.visitor_id == visitor_id
        )
        async with self.engine.connect() as conn:
            ip_bans = [row.expires_at for row in await conn.execute(query)]
        if visitor is None and not messages and not fired and not ip_bans:
            return None
        return {
            "visitor": None if visitor is None else {name: getattr(visitor, name) for name in _VISITOR_COLUMNS},
            "messages": [msgspec.to_builtins(m) for m in messages],
            "rules_fired": sorted(fired),
            "ip_ban_expires_at": ip_bans,
        }

    async def erase_visitor(self, account_id: int, visitor_id: str) -> bool:
        """Delete everything about a visitor but what a ban needs; False when nothing was stored."""
        async with self.engine.begin() as conn:
            removed = 0
            # Notes are what agents wrote about the person; a claim or a pending re-alert names their chat.
            for table in (db.messages, db.rule_firings, db.notes, db.chat_claims, db.unanswered_alerts):
                result = await conn.execute(
                    table.delete().where(table.c.account_id == account_id, table.c.visitor_id == visitor_id)
                )
                removed += result.rowcount or 0
            where = (db.visitors.c.account_id == account_id, db.visitors.c.id == visitor_id)
            banned = (await conn.execute(sa.select(db.visitors.c.banned).where(*where))).scalar()
            if banned:
                # A ban needs the id and the flag; the rest (identity, custom fields, the reason, which
                # an agent may have written about the person) goes.
                result = await conn.execute(
                    db.visitors.update()
                    .where(*where)
                    .values(
                        name=None,
                        email=None,
                        phone=None,
                        custom={},
                        customer=False,
                        auto_messaged=False,
                        ban_reason="",
                        chat_status="none",
                        chat_agent_id=None,
                        visit_count=1,
                    )
                )
            else:
                result = await conn.execute(db.visitors.delete().where(*where))
                ip = await conn.execute(
                    db.ip_bans.delete().where(
                        db.ip_bans.c.account_id == account_id, db.ip_bans.c.visitor_id == visitor_id
                    )
                )
                removed += ip.rowcount or 0
            removed += result.rowcount or 0
        return removed > 0

    # ------------------------------------------------------------ IP bans

    async def add_ip_ban(self, account_id: int, ip_hash: str, visitor_id: str, expires_at: float) -> None:
        """Ban a keyed hash of an IP address until ``expires_at``."""
        statement = self._insert(db.ip_bans).values(
            account_id=account_id, ip_hash=ip_hash, visitor_id=visitor_id, expires_at=expires_at
        )
        statement = statement.on_conflict_do_update(
            index_elements=[db.ip_bans.c.account_id, db.ip_bans.c.ip_hash],
            set_={"visitor_id": visitor_id, "expires_at": expires_at},
        )
        async with self.engine.begin() as conn:
            await conn.execute(statement)

    async def ip_banned(self, account_id: int, ip_hash: str, now: float) -> bool:
        """Whether this IP hash is banned for the account at ``now``."""
        query = sa.select(db.ip_bans.c.expires_at).where(
            db.ip_bans.c.account_id == account_id, db.ip_bans.c.ip_hash == ip_hash, db.ip_bans.c.expires_at > now
        )
        async with self.engine.connect() as conn:
            return (await conn.execute(query)).first() is not None

    async def ip_ban_count(self, account_id: int, now: float) -> int:
        """How many IP bans of the account are in force."""
        query = (
            sa.select(sa.func.count())
            .select_from(db.ip_bans)
            .where(db.ip_bans.c.account_id == account_id, db.ip_bans.c.expires_at > now)
        )
        async with self.engine.connect() as conn:
            return int((await conn.execute(query)).scalar() or 0)

    async def remove_ip_bans(self, account_id: int, visitor_id: str) -> None:
        """Lift the IP bans made with a visitor's ban."""
        async with self.engine.begin() as conn:
            await conn.execute(
                db.ip_bans.delete().where(db.ip_bans.c.account_id == account_id, db.ip_bans.c.visitor_id == visitor_id)
            )
