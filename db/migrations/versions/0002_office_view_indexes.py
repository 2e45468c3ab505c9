"""index reports by cycle, task and unit for the office views

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 12:00:00

/overdue asks, for every owing (task, unit), whether a report exists for one cycle key; /units
and the summaries ask which of a few cycle keys each (task, unit) reported. Both are an index
probe or an index-only range scan on (cycle_key, task_id, unit_id); the existing indexes lead
with (task_id, unit_id, created_at) or (unit_id, cycle_key) and would scan every report of a
pair or of a unit instead.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.create_index(
            "ix_reports_cycle_task_unit", ["cycle_key", "task_id", "unit_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.drop_index("ix_reports_cycle_task_unit")
