"""签收: a lead unit's acknowledgement of its part in a task

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 23:30:00

One row per (task, unit) once the unit's liaison acknowledged it (issue 21). Tasks imported
before this revision start unacknowledged.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "acknowledgements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("by_user_id", sa.BigInteger(), nullable=True),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["task_id"], ["tasks.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("task_id", "unit_id", name="ux_acknowledgements_task_unit"),
    )
    op.create_index("ix_acknowledgements_unit_id", "acknowledgements", ["unit_id"])


def downgrade() -> None:
    op.drop_index("ix_acknowledgements_unit_id", table_name="acknowledgements")
    op.drop_table("acknowledgements")
