"""one 催办 per task, unit and day, decided by the database

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 19:00:00

Office staff pressing 催办 at the same moment each read "not nudged today" and each wrote a
nudge (check-then-insert). The local day is now a column with a unique index on (task, unit,
day), and a nudge is written by an INSERT that skips a row whose key exists, so concurrent
presses make one. Nudges written before this revision keep a NULL day (NULLs never conflict).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("nudges") as batch:
        batch.add_column(sa.Column("day", sa.Date(), nullable=True))
        batch.create_index("ux_nudges_task_unit_day", ["task_id", "unit_id", "day"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("nudges") as batch:
        batch.drop_index("ux_nudges_task_unit_day")
        batch.drop_column("day")
