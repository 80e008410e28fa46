"""team layer: agent status, chat claims, internal notes, canned responses, team settings

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "agent_status",
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("changed_at", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(["agent_id"], ["agents.id"]),
        sa.PrimaryKeyConstraint("agent_id"),
    )
    op.create_table(
        "chat_claims",
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("visitor_id", sa.String(length=64), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("agent_name", sa.String(length=200), nullable=False),
        sa.Column("claimed_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("account_id", "visitor_id"),
    )
    op.create_table(
        "notes",
        sa.Column("seq", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("visitor_id", sa.String(length=64), nullable=False),
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("agent_name", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("seq"),
        sa.UniqueConstraint("account_id", "visitor_id", "id", name="uq_notes_client_id"),
    )
    op.create_table(
        "canned_responses",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("shortcut", sa.String(length=32), nullable=False),
        sa.Column("language", sa.String(length=35), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("account_id", "shortcut", "language", name="uq_canned_shortcut"),
    )
    op.create_index(op.f("ix_canned_responses_account_id"), "canned_responses", ["account_id"], unique=False)
    op.create_table(
        "team_settings",
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("unanswered_alert_seconds", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"]),
        sa.PrimaryKeyConstraint("account_id"),
    )


def downgrade() -> None:
    op.drop_table("team_settings")
    op.drop_index(op.f("ix_canned_responses_account_id"), table_name="canned_responses")
    op.drop_table("canned_responses")
    op.drop_table("notes")
    op.drop_table("chat_claims")
    op.drop_table("agent_status")
