"""unanswered_alerts: the re-alert of a chat waiting for an agent, kept in SQL so any process fires it

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "unanswered_alerts",
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("visitor_id", sa.String(length=64), nullable=False),
        sa.Column("waiting_since", sa.Float(), nullable=False),
        sa.Column("due_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("account_id", "visitor_id"),
    )
    with op.batch_alter_table("unanswered_alerts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_unanswered_alerts_due_at"), ["due_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("unanswered_alerts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_unanswered_alerts_due_at"))
    op.drop_table("unanswered_alerts")
