"""The bot tables (SQLAlchemy Core), registered on the one schema of server.db."""

from __future__ import annotations

import sqlalchemy as sa

from server.db import metadata

bots = sa.Table(
    "bots",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id"), nullable=False, index=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("spec", sa.JSON, nullable=False),
    sa.Column("enabled", sa.Boolean, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False),
)

bot_runs = sa.Table(
    "bot_runs",
    metadata,
    sa.Column("account_id", sa.Integer, primary_key=True),
    sa.Column("visitor_id", sa.String(64), primary_key=True),
    # Counts the visitor's runs: with the visitor it makes bot message ids unique and stable.
    sa.Column("run", sa.Integer, nullable=False),
    sa.Column("flow_id", sa.Integer, nullable=False),
    # Bumped by every save: a writer holding an older version lost a race (a take-over, another tab).
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("state", sa.JSON, nullable=False),
    sa.Column("started_at", sa.Float, nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False),
)
"""The visitor's current (or last) bot run: one row per visitor, so two processes never run two bots at once."""

bot_firings = sa.Table(
    "bot_firings",
    metadata,
    sa.Column("account_id", sa.Integer, primary_key=True),
    sa.Column("visitor_id", sa.String(64), primary_key=True),
    sa.Column("flow_id", sa.Integer, primary_key=True),
    sa.Column("fired_at", sa.Float, nullable=False),
)
"""Flows that started for a visitor; the key makes 'once per visitor and trigger' hold across processes."""
