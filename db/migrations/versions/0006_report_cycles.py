"""keep each (task, unit, cycle)'s first report time in report_cycles, by a trigger on reports

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 18:00:00

The obligation model (bot.domain.obligations) decides, per unit and task, which cycles were reported
on time, late or not at all over the whole year: the record behind 报送率 and the missed counts,
and the "此前另有N期未报送" beside a chased cycle. Reading that from `reports` would read every
report of the year; this table holds one row per reported (task, unit, cycle) with the time of
its first report, so a view reads at most a pair's cycles, however many reports and corrections
there are. A trigger keeps it on SQLite and PostgreSQL alike, whatever writes a report; reports
are never updated, and are deleted only with their task, which deletes the rows too.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from db.types import UTCDateTime

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UPSERT = """
INSERT INTO report_cycles (task_id, unit_id, cycle_key, first_at)
VALUES (NEW.task_id, NEW.unit_id, NEW.cycle_key, NEW.created_at)
ON CONFLICT (task_id, unit_id, cycle_key) DO UPDATE SET
    first_at = CASE WHEN excluded.first_at < report_cycles.first_at
               THEN excluded.first_at ELSE report_cycles.first_at END
"""


def upgrade() -> None:
    op.create_table(
        "report_cycles",
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("cycle_key", sa.String(length=20), nullable=False),
        sa.Column("first_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["task_id"],
            ["tasks.id"],
            name=op.f("fk_report_cycles_task_id_tasks"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("task_id", "unit_id", "cycle_key", name=op.f("pk_report_cycles")),
    )
    op.execute(
        "INSERT INTO report_cycles (task_id, unit_id, cycle_key, first_at) "
        "SELECT task_id, unit_id, cycle_key, min(created_at) FROM reports "
        "GROUP BY task_id, unit_id, cycle_key"
    )
    if op.get_context().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION report_cycles_keep() RETURNS trigger LANGUAGE plpgsql AS $$\n"
            f"BEGIN\n{UPSERT};\nRETURN NULL;\nEND\n$$"
        )
        op.execute(
            "CREATE TRIGGER tr_reports_cycles AFTER INSERT ON reports "
            "FOR EACH ROW EXECUTE FUNCTION report_cycles_keep()"
        )
    else:
        op.execute(f"CREATE TRIGGER tr_reports_cycles AFTER INSERT ON reports BEGIN {UPSERT}; END")


def downgrade() -> None:
    op.execute(
        "DROP TRIGGER IF EXISTS tr_reports_cycles"
        + (" ON reports" if op.get_context().dialect.name == "postgresql" else "")
    )
    if op.get_context().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS report_cycles_keep()")
    op.drop_table("report_cycles")
