"""Database schema (SQLAlchemy Core), engine set-up and migrations."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

metadata = sa.MetaData()

accounts = sa.Table(
    "accounts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("plan", sa.String(20), nullable=False),
    sa.Column("account_key", sa.String(64), nullable=False, unique=True),
    sa.Column("api_key_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("allowed_origins", sa.JSON, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("retention_visitor_days", sa.Integer, nullable=False, server_default="90"),
    sa.Column("retention_message_days", sa.Integer, nullable=False, server_default="365"),
    sa.Column("retention_offline_days", sa.Integer, nullable=False, server_default="90"),
    sa.Column("ip_key", sa.String(64), nullable=True),
)

agents = sa.Table(
    "agents",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id"), nullable=False, index=True),
    sa.Column("email", sa.String(254), nullable=False, unique=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("password_hash", sa.String(200), nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("role", sa.String(10), nullable=False, server_default="agent"),
)

tokens = sa.Table(
    "tokens",
    metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column("agent_id", sa.Integer, sa.ForeignKey("agents.id"), nullable=False, index=True),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("revoked_at", sa.Float, nullable=True),
)

visitors = sa.Table(
    "visitors",
    metadata,
    sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id"), primary_key=True),
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("first_seen_at", sa.Float, nullable=False),
    sa.Column("last_seen_at", sa.Float, nullable=False),
    sa.Column("visit_count", sa.Integer, nullable=False),
    sa.Column("name", sa.String(2048), nullable=True),
    sa.Column("email", sa.String(2048), nullable=True),
    sa.Column("phone", sa.String(2048), nullable=True),
    sa.Column("custom", sa.JSON, nullable=False),
    sa.Column("customer", sa.Boolean, nullable=False),
    sa.Column("auto_messaged", sa.Boolean, nullable=False),
    sa.Column("banned", sa.Boolean, nullable=False),
    sa.Column("ban_reason", sa.String(2048), nullable=False),
    sa.Column("chat_status", sa.String(20), nullable=False),
    sa.Column("chat_agent_id", sa.Integer, nullable=True),
    sa.Column("session_only", sa.Boolean, nullable=False, server_default=sa.false()),
)
sa.Index("ix_visitors_banned", visitors.c.account_id, visitors.c.banned)
sa.Index("ix_visitors_last_seen", visitors.c.account_id, visitors.c.last_seen_at)

messages = sa.Table(
    "messages",
    metadata,
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("account_id", sa.Integer, nullable=False),
    sa.Column("visitor_id", sa.String(64), nullable=False),
    sa.Column("id", sa.String(64), nullable=False),
    sa.Column("author", sa.String(10), nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("sent_at", sa.Float, nullable=False),
    sa.Column("agent_id", sa.Integer, nullable=True),
    sa.Column("agent_name", sa.String(200), nullable=True),
    sa.Column("delivered_at", sa.Float, nullable=True),
    sa.Column("read_at", sa.Float, nullable=True),
    sa.Column("offline", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("replies", sa.JSON, nullable=True),  # a bot question's quick replies (migration 0004)
    sa.UniqueConstraint("account_id", "visitor_id", "id", name="uq_messages_client_id"),
)
sa.Index("ix_messages_sent", messages.c.account_id, messages.c.sent_at)

rules = sa.Table(
    "rules",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id"), nullable=False, index=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("message", sa.Text, nullable=False),
    sa.Column("conditions", sa.JSON, nullable=False),
    sa.Column("enabled", sa.Boolean, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
)

rule_firings = sa.Table(
    "rule_firings",
    metadata,
    sa.Column("account_id", sa.Integer, primary_key=True),
    sa.Column("visitor_id", sa.String(64), primary_key=True),
    sa.Column("rule_id", sa.Integer, primary_key=True),
    sa.Column("fired_at", sa.Float, nullable=False),
)

# ---------------------------------------------------------------- team layer (migration 0003)

agent_status = sa.Table(
    "agent_status",
    metadata,
    sa.Column("agent_id", sa.Integer, sa.ForeignKey("agents.id"), primary_key=True),
    sa.Column("status", sa.String(10), nullable=False),
    sa.Column("changed_at", sa.Float, nullable=False),
)
"""An agent's chosen status (online/away), kept across reconnects; no row means online."""
chat_claims = sa.Table(
    "chat_claims",
    metadata,
    sa.Column("account_id", sa.Integer, primary_key=True),
    sa.Column("visitor_id", sa.String(64), primary_key=True),
    sa.Column("agent_id", sa.Integer, nullable=False),
    sa.Column("agent_name", sa.String(200), nullable=False),
    sa.Column("claimed_at", sa.Float, nullable=False),
)
"""Who holds an open chat: the primary key makes a simultaneous open have exactly one winner."""
notes = sa.Table(
    "notes",
    metadata,
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("account_id", sa.Integer, nullable=False),
    sa.Column("visitor_id", sa.String(64), nullable=False),
    sa.Column("id", sa.String(64), nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("agent_id", sa.Integer, nullable=False),
    sa.Column("agent_name", sa.String(200), nullable=False),
    sa.UniqueConstraint("account_id", "visitor_id", "id", name="uq_notes_client_id"),
)
canned_responses = sa.Table(
    "canned_responses",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id"), nullable=False, index=True),
    sa.Column("shortcut", sa.String(32), nullable=False),
    sa.Column("language", sa.String(35), nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.UniqueConstraint("account_id", "shortcut", "language", name="uq_canned_shortcut"),
)
team_settings = sa.Table(
    "team_settings",
    metadata,
    sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id"), primary_key=True),
    sa.Column("unanswered_alert_seconds", sa.Integer, nullable=False),
)
"""An account's team settings; no row means the defaults."""
unanswered_alerts = sa.Table(
    "unanswered_alerts",
    metadata,
    sa.Column("account_id", sa.Integer, primary_key=True),
    sa.Column("visitor_id", sa.String(64), primary_key=True),
    sa.Column("waiting_since", sa.Float, nullable=False),
    sa.Column("due_at", sa.Float, nullable=False, index=True),
)
"""A chat waiting for an agent and when it alerts again (migration 0005): any process fires it, exactly once."""
audit = sa.Table(
    "audit",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("account_id", sa.Integer, nullable=False),
    sa.Column("at", sa.Float, nullable=False),
    sa.Column("actor", sa.String(300), nullable=False),
    sa.Column("agent_id", sa.Integer, nullable=True),
    sa.Column("action", sa.String(40), nullable=False),
    sa.Column("target", sa.String(300), nullable=False),
    sa.Column("details", sa.JSON, nullable=False),
)
sa.Index("ix_audit_account", audit.c.account_id, audit.c.id)

ip_bans = sa.Table(
    "ip_bans",
    metadata,
    sa.Column("account_id", sa.Integer, primary_key=True),
    sa.Column("ip_hash", sa.String(64), primary_key=True),
    sa.Column("visitor_id", sa.String(64), nullable=False),
    sa.Column("expires_at", sa.Float, nullable=False),
)

MIGRATIONS = Path(__file__).with_name("migrations")


def create_engine(url: str) -> AsyncEngine:
    """An async engine; SQLite gets WAL and a busy timeout so readers never block the writer."""
    if url.startswith("sqlite"):
        engine = create_async_engine(url, connect_args={"timeout": 30})

        @sa.event.listens_for(engine.sync_engine, "connect")
        def _pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        return engine
    return create_async_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True)


def _alembic_config(connection: Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def _upgrade(connection: Connection) -> None:
    command.upgrade(_alembic_config(connection), "head")


async def migrate(engine: AsyncEngine) -> None:
    """Bring the schema up to date (runs on every start; a no-op when current)."""
    async with engine.begin() as connection:
        await connection.run_sync(_upgrade)
