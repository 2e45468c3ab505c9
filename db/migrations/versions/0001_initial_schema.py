"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-27 04:14:46.519853
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "app_state",
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("value", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_app_state")),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_user_id", sa.BigInteger(), nullable=True),
        sa.Column("action", sa.String(length=50), nullable=False),
        sa.Column("target", sa.String(length=200), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index(
            "ix_audit_actor_action_at", ["actor_user_id", "action", "at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_audit_log_at"), ["at"], unique=False)

    op.create_table(
        "calendar_overrides",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("is_workday", sa.Boolean(), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=True),
        sa.Column("created_by_user_id", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_calendar_overrides")),
    )
    op.create_table(
        "inbox",
        sa.Column("update_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("update_id", name=op.f("pk_inbox")),
    )
    with op.batch_alter_table("inbox", schema=None) as batch_op:
        batch_op.create_index("ix_inbox_status", ["status", "update_id"], unique=False)

    op.create_table(
        "leaders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_leaders")),
        sa.UniqueConstraint("name", name=op.f("uq_leaders_name")),
    )
    op.create_table(
        "tasks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("no", sa.Integer(), nullable=False),
        sa.Column("section", sa.String(length=200), nullable=False),
        sa.Column("subsection", sa.String(length=200), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("cycle_kind", sa.String(length=20), nullable=False),
        sa.Column("cycle_dates", sa.JSON(), nullable=True),
        sa.Column("completed_on", sa.Date(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tasks")),
        sa.UniqueConstraint("year", "no", name=op.f("uq_tasks_year_no")),
    )
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_tasks_year"), ["year"], unique=False)

    op.create_table(
        "units",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_units")),
        sa.UniqueConstraint("name", name=op.f("uq_units_name")),
    )
    op.create_table(
        "work_groups",
        sa.Column("chat_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("registered_by_user_id", sa.BigInteger(), nullable=True),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("chat_id", name=op.f("pk_work_groups")),
    )
    op.create_table(
        "contacts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tg_user_id", sa.BigInteger(), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("username", sa.String(length=100), nullable=True),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("leader_id", sa.Integer(), nullable=True),
        sa.Column("deputy", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("reachable", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deactivated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("deactivated_reason", sa.String(length=50), nullable=True),
        sa.ForeignKeyConstraint(
            ["leader_id"], ["leaders.id"], name=op.f("fk_contacts_leader_id_leaders")
        ),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"], name=op.f("fk_contacts_unit_id_units")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contacts")),
    )
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_contacts_leader_id"), ["leader_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_contacts_unit_id"), ["unit_id"], unique=False)
        batch_op.create_index("ix_contacts_user_active", ["tg_user_id", "active"], unique=False)

    op.create_table(
        "invites",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("leader_id", sa.Integer(), nullable=True),
        sa.Column("deputy", sa.Boolean(), nullable=False),
        sa.Column("created_by_user_id", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("used_by_user_id", sa.BigInteger(), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["leader_id"], ["leaders.id"], name=op.f("fk_invites_leader_id_leaders")
        ),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"], name=op.f("fk_invites_unit_id_units")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invites")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_invites_code_hash")),
    )
    op.create_table(
        "nudges",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("cycle_key", sa.String(length=20), nullable=True),
        sa.Column("by_user_id", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["task_id"], ["tasks.id"], name=op.f("fk_nudges_task_id_tasks"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"], name=op.f("fk_nudges_unit_id_units")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_nudges")),
    )
    with op.batch_alter_table("nudges", schema=None) as batch_op:
        batch_op.create_index("ix_nudges_task_unit", ["task_id", "unit_id"], unique=False)

    op.create_table(
        "targets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("metric", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("unit", sa.String(length=20), nullable=False),
        sa.Column("comparator", sa.String(length=20), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["task_id"], ["tasks.id"], name=op.f("fk_targets_task_id_tasks"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_targets")),
        sa.UniqueConstraint("task_id", "position", name=op.f("uq_targets_task_id_position")),
    )
    op.create_table(
        "task_leaders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("leader_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["leader_id"], ["leaders.id"], name=op.f("fk_task_leaders_leader_id_leaders")
        ),
        sa.ForeignKeyConstraint(
            ["task_id"],
            ["tasks.id"],
            name=op.f("fk_task_leaders_task_id_tasks"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_task_leaders")),
        sa.UniqueConstraint("task_id", "position", name=op.f("uq_task_leaders_task_id_position")),
    )
    with op.batch_alter_table("task_leaders", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_task_leaders_leader_id"), ["leader_id"], unique=False)

    op.create_table(
        "task_units",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["task_id"], ["tasks.id"], name=op.f("fk_task_units_task_id_tasks"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["units.id"], name=op.f("fk_task_units_unit_id_units")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_task_units")),
        sa.UniqueConstraint(
            "task_id", "role", "position", name=op.f("uq_task_units_task_id_role_position")
        ),
    )
    with op.batch_alter_table("task_units", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_task_units_unit_id"), ["unit_id"], unique=False)

    op.create_table(
        "unit_aliases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("alias", sa.String(length=100), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["unit_id"],
            ["units.id"],
            name=op.f("fk_unit_aliases_unit_id_units"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_unit_aliases")),
        sa.UniqueConstraint("alias", name=op.f("uq_unit_aliases_alias")),
    )
    with op.batch_alter_table("unit_aliases", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_unit_aliases_unit_id"), ["unit_id"], unique=False)

    op.create_table(
        "unit_group_members",
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["units.id"],
            name=op.f("fk_unit_group_members_group_id_units"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["units.id"],
            name=op.f("fk_unit_group_members_member_id_units"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("group_id", "member_id", name=op.f("pk_unit_group_members")),
    )
    with op.batch_alter_table("unit_group_members", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_unit_group_members_member_id"), ["member_id"], unique=False
        )

    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dedup_key", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("reply_markup", sa.JSON(), nullable=True),
        sa.Column("document", sa.JSON(), nullable=True),
        sa.Column("meta", sa.JSON(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("tg_message_id", sa.BigInteger(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["contacts.id"], name=op.f("fk_outbox_contact_id_contacts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
        sa.UniqueConstraint("dedup_key", name=op.f("uq_outbox_dedup_key")),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index("ix_outbox_status_next", ["status", "next_attempt_at"], unique=False)

    op.create_table(
        "reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("cycle_key", sa.String(length=20), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.Column("tg_user_id", sa.BigInteger(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("percent", sa.Float(), nullable=True),
        sa.Column("quantities", sa.JSON(), nullable=True),
        sa.Column("expected_date", sa.Date(), nullable=True),
        sa.Column("difficulties", sa.JSON(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("supersedes_id", sa.Integer(), nullable=True),
        sa.Column("source_key", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["contacts.id"], name=op.f("fk_reports_contact_id_contacts")
        ),
        sa.ForeignKeyConstraint(
            ["supersedes_id"], ["reports.id"], name=op.f("fk_reports_supersedes_id_reports")
        ),
        sa.ForeignKeyConstraint(
            ["task_id"], ["tasks.id"], name=op.f("fk_reports_task_id_tasks"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"], name=op.f("fk_reports_unit_id_units")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reports")),
        sa.UniqueConstraint("source_key", name=op.f("uq_reports_source_key")),
    )
    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.create_index("ix_reports_created", ["created_at"], unique=False)
        batch_op.create_index(
            "ix_reports_task_unit_created", ["task_id", "unit_id", "created_at"], unique=False
        )
        batch_op.create_index("ix_reports_unit_cycle", ["unit_id", "cycle_key"], unique=False)

    op.create_table(
        "outbox_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("outbox_id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("cycle_key", sa.String(length=20), nullable=False),
        sa.Column("step", sa.String(length=30), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["contacts.id"], name=op.f("fk_outbox_items_contact_id_contacts")
        ),
        sa.ForeignKeyConstraint(
            ["outbox_id"],
            ["outbox.id"],
            name=op.f("fk_outbox_items_outbox_id_outbox"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["task_id"],
            ["tasks.id"],
            name=op.f("fk_outbox_items_task_id_tasks"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["units.id"], name=op.f("fk_outbox_items_unit_id_units")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_items")),
        sa.UniqueConstraint(
            "task_id",
            "unit_id",
            "cycle_key",
            "step",
            "contact_id",
            name=op.f("uq_outbox_items_task_id_unit_id_cycle_key_step_contact_id"),
        ),
    )
    with op.batch_alter_table("outbox_items", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_outbox_items_outbox_id"), ["outbox_id"], unique=False)

    op.create_table(
        "report_drafts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(length=32), nullable=False),
        sa.Column("tg_user_id", sa.BigInteger(), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=True),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("cycle_key", sa.String(length=20), nullable=True),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("parsed", sa.JSON(), nullable=True),
        sa.Column("supersedes_id", sa.Integer(), nullable=True),
        sa.Column("card_message_id", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["contacts.id"], name=op.f("fk_report_drafts_contact_id_contacts")
        ),
        sa.ForeignKeyConstraint(
            ["supersedes_id"], ["reports.id"], name=op.f("fk_report_drafts_supersedes_id_reports")
        ),
        sa.ForeignKeyConstraint(
            ["task_id"], ["tasks.id"], name=op.f("fk_report_drafts_task_id_tasks")
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["units.id"], name=op.f("fk_report_drafts_unit_id_units")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_drafts")),
        sa.UniqueConstraint("tg_user_id", name=op.f("uq_report_drafts_tg_user_id")),
        sa.UniqueConstraint("token", name=op.f("uq_report_drafts_token")),
    )
    with op.batch_alter_table("report_drafts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_report_drafts_expires_at"), ["expires_at"], unique=False
        )


def downgrade() -> None:

    with op.batch_alter_table("report_drafts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_report_drafts_expires_at"))

    op.drop_table("report_drafts")
    with op.batch_alter_table("outbox_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_items_outbox_id"))

    op.drop_table("outbox_items")
    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.drop_index("ix_reports_unit_cycle")
        batch_op.drop_index("ix_reports_task_unit_created")
        batch_op.drop_index("ix_reports_created")

    op.drop_table("reports")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_status_next")

    op.drop_table("outbox")
    with op.batch_alter_table("unit_group_members", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_unit_group_members_member_id"))

    op.drop_table("unit_group_members")
    with op.batch_alter_table("unit_aliases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_unit_aliases_unit_id"))

    op.drop_table("unit_aliases")
    with op.batch_alter_table("task_units", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_task_units_unit_id"))

    op.drop_table("task_units")
    with op.batch_alter_table("task_leaders", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_task_leaders_leader_id"))

    op.drop_table("task_leaders")
    op.drop_table("targets")
    with op.batch_alter_table("nudges", schema=None) as batch_op:
        batch_op.drop_index("ix_nudges_task_unit")

    op.drop_table("nudges")
    op.drop_table("invites")
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.drop_index("ix_contacts_user_active")
        batch_op.drop_index(batch_op.f("ix_contacts_unit_id"))
        batch_op.drop_index(batch_op.f("ix_contacts_leader_id"))

    op.drop_table("contacts")
    op.drop_table("work_groups")
    op.drop_table("units")
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tasks_year"))

    op.drop_table("tasks")
    op.drop_table("leaders")
    with op.batch_alter_table("inbox", schema=None) as batch_op:
        batch_op.drop_index("ix_inbox_status")

    op.drop_table("inbox")
    op.drop_table("calendar_overrides")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_log_at"))
        batch_op.drop_index("ix_audit_actor_action_at")

    op.drop_table("audit_log")
    op.drop_table("app_state")
