"""index tasks by year and reporting rule

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 09:00:00

/overdue reads the monthly tasks of a year through one anti-join and the other tasks through
their boards (five queries, each restricted to `year = ? AND cycle_kind != 'monthly'`). With
ix_tasks_year alone SQLite read all 10,000 task rows of a year for every one of them to test
the rule; (year, cycle_kind) answers it from the index.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.create_index("ix_tasks_year_kind", ["year", "cycle_kind"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.drop_index("ix_tasks_year_kind")
