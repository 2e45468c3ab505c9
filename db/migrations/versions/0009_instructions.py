"""领导批示: a supervising leader's instructions on tasks

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 23:40:00

One row per instruction (issue 21): the task, the leader, who wrote it, the text, when.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "instructions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("leader_id", sa.Integer(), nullable=True),
        sa.Column("by_user_id", sa.BigInteger(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["task_id"], ["tasks.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["leader_id"], ["leaders.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_instructions_task_created", "instructions", ["task_id", "created_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_instructions_task_created", table_name="instructions")
    op.drop_table("instructions")
