"""佐证材料: photos and documents a liaison attaches to a task for their unit

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05 10:00:00

One row per file (issue 21): the task, the unit, the report it supports (the unit's next
stored report on the task), who sent it, Telegram's ids, its name, type and size, and where its
local copy is. A file is kept once per task and unit (file_unique_id).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "evidence",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=True),
        sa.Column("by_user_id", sa.BigInteger(), nullable=True),
        sa.Column("file_id", sa.String(length=255), nullable=False),
        sa.Column("file_unique_id", sa.String(length=100), nullable=False),
        sa.Column("file_name", sa.String(length=255), nullable=True),
        sa.Column("mime_type", sa.String(length=100), nullable=True),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("path", sa.String(length=500), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["task_id"], ["tasks.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"]),
        sa.ForeignKeyConstraint(["report_id"], ["reports.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint(
            "task_id", "unit_id", "file_unique_id", name="ux_evidence_task_unit_file"
        ),
    )
    op.create_index("ix_evidence_task_id", "evidence", ["task_id"])


def downgrade() -> None:
    op.drop_index("ix_evidence_task_id", table_name="evidence")
    op.drop_table("evidence")
