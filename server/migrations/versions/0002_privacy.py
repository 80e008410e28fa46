"""privacy: agent roles, audit log, retention settings, session-only visitors, offline messages, IP bans

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("agents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("role", sa.String(length=10), nullable=False, server_default="agent"))
    # Each account's first agent (the one created with it) administers it.
    op.execute("UPDATE agents SET role = 'admin' WHERE id IN (SELECT MIN(id) FROM agents GROUP BY account_id)")
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("retention_visitor_days", sa.Integer(), nullable=False, server_default="90"))
        batch_op.add_column(sa.Column("retention_message_days", sa.Integer(), nullable=False, server_default="365"))
        batch_op.add_column(sa.Column("retention_offline_days", sa.Integer(), nullable=False, server_default="90"))
        batch_op.add_column(sa.Column("ip_key", sa.String(length=64), nullable=True))
    with op.batch_alter_table("visitors", schema=None) as batch_op:
        batch_op.add_column(sa.Column("session_only", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.create_index("ix_visitors_last_seen", ["account_id", "last_seen_at"], unique=False)
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("offline", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.create_index("ix_messages_sent", ["account_id", "sent_at"], unique=False)
    op.create_table(
        "audit",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.Float(), nullable=False),
        sa.Column("actor", sa.String(length=300), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("target", sa.String(length=300), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("audit", schema=None) as batch_op:
        batch_op.create_index("ix_audit_account", ["account_id", "id"], unique=False)
    op.create_table(
        "ip_bans",
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("ip_hash", sa.String(length=64), nullable=False),
        sa.Column("visitor_id", sa.String(length=64), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("account_id", "ip_hash"),
    )


def downgrade() -> None:
    op.drop_table("ip_bans")
    with op.batch_alter_table("audit", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_account")
    op.drop_table("audit")
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_index("ix_messages_sent")
        batch_op.drop_column("offline")
    with op.batch_alter_table("visitors", schema=None) as batch_op:
        batch_op.drop_index("ix_visitors_last_seen")
        batch_op.drop_column("session_only")
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_column("ip_key")
        batch_op.drop_column("retention_offline_days")
        batch_op.drop_column("retention_message_days")
        batch_op.drop_column("retention_visitor_days")
    with op.batch_alter_table("agents", schema=None) as batch_op:
        batch_op.drop_column("role")
