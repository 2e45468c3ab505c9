"""keep each (task, unit)'s latest reports in report_latest, by a trigger on reports

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27 12:30:00

A leader's summary at 10,000 tasks and 1,000,000 reports needs, for ~3,000 (task, unit) pairs,
the newest report and the newest stating a percentage and an expected date: three index
searches per pair, 30-55 ms of a 100 ms budget. This table holds the answer, one row per pair,
read by task id. A trigger keeps it, on SQLite and PostgreSQL alike, whatever writes a report
(the bot, an import, a hand-written INSERT); reports are never updated, and are deleted only
with their task, which deletes the pair's row too. Ties in created_at go to the later insert.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from db.types import UTCDateTime

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _keep_newer(columns: tuple[str, ...], stated: str, at: str) -> str:
    """SET clauses: each column from the new report if it states `stated` and is as new."""
    newer = (
        f"excluded.{stated} IS NOT NULL AND (report_latest.{at} IS NULL "
        f"OR excluded.{at} >= report_latest.{at})"
    )
    return ",\n    ".join(
        f"{c} = CASE WHEN {newer} THEN excluded.{c} ELSE report_latest.{c} END" for c in columns
    )


# The new report's row; on conflict, each of the three kept reports is replaced only by a
# report at least as new (SET reads the row as it was before the update, on both engines).
UPSERT = f"""
INSERT INTO report_latest
    (task_id, unit_id, last_id, last_at, pct_id, pct_at, percent, exp_id, exp_at, expected_date)
VALUES (
    NEW.task_id, NEW.unit_id, NEW.id, NEW.created_at,
    CASE WHEN NEW.percent IS NOT NULL THEN NEW.id END,
    CASE WHEN NEW.percent IS NOT NULL THEN NEW.created_at END,
    NEW.percent,
    CASE WHEN NEW.expected_date IS NOT NULL THEN NEW.id END,
    CASE WHEN NEW.expected_date IS NOT NULL THEN NEW.created_at END,
    NEW.expected_date
)
ON CONFLICT (task_id, unit_id) DO UPDATE SET
    {_keep_newer(("last_id", "last_at"), "last_id", "last_at")},
    {_keep_newer(("pct_id", "pct_at", "percent"), "pct_id", "pct_at")},
    {_keep_newer(("exp_id", "exp_at", "expected_date"), "exp_id", "exp_at")}
"""


def _newest(column: str | None) -> str:
    """A pair's newest report (stating `column`), as a correlated subquery on reports r."""
    stated = f" AND r2.{column} IS NOT NULL" if column else ""
    return (
        "(SELECT r2.id FROM reports r2 WHERE r2.task_id = p.task_id AND r2.unit_id = p.unit_id"
        f"{stated} ORDER BY r2.created_at DESC, r2.id DESC LIMIT 1)"
    )


def upgrade() -> None:
    op.create_table(
        "report_latest",
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("last_id", sa.Integer(), nullable=False),
        sa.Column("last_at", UTCDateTime(), nullable=False),
        sa.Column("pct_id", sa.Integer(), nullable=True),
        sa.Column("pct_at", UTCDateTime(), nullable=True),
        sa.Column("percent", sa.Float(), nullable=True),
        sa.Column("exp_id", sa.Integer(), nullable=True),
        sa.Column("exp_at", UTCDateTime(), nullable=True),
        sa.Column("expected_date", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["task_id"],
            ["tasks.id"],
            name=op.f("fk_report_latest_task_id_tasks"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("task_id", "unit_id", name=op.f("pk_report_latest")),
    )
    # The reports already written.
    op.execute(
        "INSERT INTO report_latest (task_id, unit_id, last_id, last_at, pct_id, exp_id) "
        f"SELECT p.task_id, p.unit_id, {_newest(None)}, p.last_at, "
        f"{_newest('percent')}, {_newest('expected_date')} "
        "FROM (SELECT task_id, unit_id, max(created_at) AS last_at FROM reports "
        "GROUP BY task_id, unit_id) p"
    )
    op.execute(
        "UPDATE report_latest SET "
        "pct_at = (SELECT created_at FROM reports WHERE id = report_latest.pct_id), "
        "percent = (SELECT percent FROM reports WHERE id = report_latest.pct_id), "
        "exp_at = (SELECT created_at FROM reports WHERE id = report_latest.exp_id), "
        "expected_date = (SELECT expected_date FROM reports WHERE id = report_latest.exp_id)"
    )
    if op.get_context().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION report_latest_keep() RETURNS trigger LANGUAGE plpgsql AS $$\n"
            f"BEGIN\n{UPSERT};\nRETURN NULL;\nEND\n$$"
        )
        op.execute(
            "CREATE TRIGGER tr_reports_latest AFTER INSERT ON reports "
            "FOR EACH ROW EXECUTE FUNCTION report_latest_keep()"
        )
    else:
        op.execute(f"CREATE TRIGGER tr_reports_latest AFTER INSERT ON reports BEGIN {UPSERT}; END")


def downgrade() -> None:
    op.execute(
        "DROP TRIGGER IF EXISTS tr_reports_latest"
        + (" ON reports" if op.get_context().dialect.name == "postgresql" else "")
    )
    if op.get_context().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS report_latest_keep()")
    op.drop_table("report_latest")
