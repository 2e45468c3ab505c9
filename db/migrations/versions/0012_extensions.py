"""延期申请: a unit's request to move a cycle's report deadline or the task's deadline

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04 02:20:00

One row per request (issue 21): the task, the unit, the cycle (NULL: the task's own deadline,
the end of its period), the deadline as it was and the date asked for, the reason, and the
decision (requested, approved, refused) with who made it and the comment. An approved request
moves that deadline for that unit (a cycle) or for the task (its period), in every view and
reminder (bot.domain.obligations.moved, bot.domain.boards).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "extensions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("cycle_key", sa.String(length=20), nullable=True),
        sa.Column("old_date", sa.Date(), nullable=False),
        sa.Column("new_date", sa.Date(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("requested_by", sa.BigInteger(), nullable=True),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.BigInteger(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["task_id"], ["tasks.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_extensions_task_unit", "extensions", ["task_id", "unit_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_extensions_task_unit", table_name="extensions")
    op.drop_table("extensions")
