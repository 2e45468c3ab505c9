"""退回重报 and 办结销号: returned reports, and each unit's close-out of its part of a task

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04 02:10:00

report_returns: one row per return (issue 21). The office returns a unit's report for a cycle;
every report of that (task, unit, cycle) up to `upto_report_id` stops counting: the cycle is
unreported again until a new report, and the returned reports' statements are set aside. The
reports themselves stay (the history keeps both); report_cycles and report_latest are counted
again without them (db.loop.recount).

closures: one row per (task, unit), its 销号 state: applied (with the application's report),
closed, refused or reopened, the decision's comment, and `void_upto`: a stated 100% in a report
up to that id no longer completes the part (set when the office refuses or reopens it).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "report_returns",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("cycle_key", sa.String(length=20), nullable=False),
        sa.Column("upto_report_id", sa.Integer(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("by_user_id", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["task_id"], ["tasks.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_report_returns_pair_cycle",
        "report_returns",
        ["task_id", "unit_id", "cycle_key"],
        unique=False,
    )
    op.create_table(
        "closures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=True),
        sa.Column("applied_by", sa.BigInteger(), nullable=True),
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.BigInteger(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("void_upto", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["task_id"], ["tasks.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"]),
        sa.ForeignKeyConstraint(["report_id"], ["reports.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("task_id", "unit_id", name="ux_closures_task_unit"),
    )


def downgrade() -> None:
    op.drop_table("closures")
    op.drop_index("ix_report_returns_pair_cycle", table_name="report_returns")
    op.drop_table("report_returns")
