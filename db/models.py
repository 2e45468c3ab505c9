"""SQLAlchemy 2 typed models: the whole schema.

Glossary: 牵头单位 = lead unit, 责任单位 = (co-)responsible unit, 分管领导 = supervising leader,
联络员 = liaison (a unit's contact person), 督导办 = supervision office, 催办 = nudge.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from db.types import UTCDateTime

# Deterministic constraint names, so the same migration names the same objects on both engines.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base with the shared metadata."""

    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSON(),
        list[Any]: JSON(),
    }


# --- The register: units, leaders, tasks -------------------------------------------------------


class Unit(Base):
    """A unit (bureau, town, state enterprise, ...) or a collective name (kind == "group")."""

    __tablename__ = "units"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    kind: Mapped[str] = mapped_column(String(20))  # department | town | enterprise | other | group
    comment: Mapped[str | None] = mapped_column(Text, default=None)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    members: Mapped[list[UnitGroupMember]] = relationship(
        foreign_keys="UnitGroupMember.group_id", back_populates="group", lazy="raise"
    )


class UnitGroupMember(Base):
    """Membership of a unit in a collective name such as 各乡镇（街道）."""

    __tablename__ = "unit_group_members"

    group_id: Mapped[int] = mapped_column(
        ForeignKey("units.id", ondelete="CASCADE"), primary_key=True
    )
    member_id: Mapped[int] = mapped_column(
        ForeignKey("units.id", ondelete="CASCADE"), primary_key=True, index=True
    )

    group: Mapped[Unit] = relationship(foreign_keys=[group_id], back_populates="members")


class UnitAlias(Base):
    """Another spelling of a unit used in the notice (e.g. 霞美镇政府 for 霞美镇)."""

    __tablename__ = "unit_aliases"

    id: Mapped[int] = mapped_column(primary_key=True)
    alias: Mapped[str] = mapped_column(String(100), unique=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"), index=True)
    comment: Mapped[str | None] = mapped_column(Text, default=None)


class Leader(Base):
    """A supervising city leader (市政府分管（挂钩）领导)."""

    __tablename__ = "leaders"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50), unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Task(Base):
    """One numbered task of a year's register."""

    __tablename__ = "tasks"
    __table_args__ = (
        UniqueConstraint("year", "no"),
        # The views' scopes split a year by rule (monthly tasks in one anti-join, the others
        # through their boards): answered from the index, not by reading every task's row.
        Index("ix_tasks_year_kind", "year", "cycle_kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(Integer, index=True)
    no: Mapped[int] = mapped_column(Integer)
    section: Mapped[str] = mapped_column(String(200))
    subsection: Mapped[str | None] = mapped_column(String(200), default=None)
    text: Mapped[str] = mapped_column(Text)
    # Reporting cycle: "monthly" (default), "quarterly" or "dates" (cycle_dates: ISO dates).
    cycle_kind: Mapped[str] = mapped_column(String(20), default="monthly")
    cycle_dates: Mapped[list[Any] | None] = mapped_column(default=None)
    completed_on: Mapped[date | None] = mapped_column(Date, default=None)
    updated_at: Mapped[datetime]

    units: Mapped[list[TaskUnit]] = relationship(
        back_populates="task", order_by="(TaskUnit.role, TaskUnit.position)", lazy="raise"
    )
    leaders: Mapped[list[TaskLeader]] = relationship(
        back_populates="task", order_by="TaskLeader.position", lazy="raise"
    )
    targets: Mapped[list[Target]] = relationship(
        back_populates="task", order_by="Target.position", lazy="raise"
    )


class TaskUnit(Base):
    """A unit's role on a task: lead (牵头) or responsible (责任), in the notice's order."""

    __tablename__ = "task_units"
    __table_args__ = (UniqueConstraint("task_id", "role", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    role: Mapped[str] = mapped_column(String(20))  # lead | responsible
    position: Mapped[int] = mapped_column(Integer)
    label: Mapped[str] = mapped_column(String(100))  # the notice's spelling

    task: Mapped[Task] = relationship(back_populates="units")
    unit: Mapped[Unit] = relationship(lazy="raise")


class TaskLeader(Base):
    """A supervising leader of a task, in the notice's order."""

    __tablename__ = "task_leaders"
    __table_args__ = (UniqueConstraint("task_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"))
    leader_id: Mapped[int] = mapped_column(ForeignKey("leaders.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)

    task: Mapped[Task] = relationship(back_populates="leaders")
    leader: Mapped[Leader] = relationship(lazy="raise")


class Target(Base):
    """A quantitative target in a task's text (完成投资800亿元以上 → 完成投资 ≥ 800 亿元)."""

    __tablename__ = "targets"
    __table_args__ = (UniqueConstraint("task_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    metric: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(20))  # amount | growth | level
    value: Mapped[float] = mapped_column(Float)
    unit: Mapped[str] = mapped_column(String(20))
    comparator: Mapped[str] = mapped_column(String(20))  # at_least | exact | at_most
    source: Mapped[str] = mapped_column(String(200))

    task: Mapped[Task] = relationship(back_populates="targets")


# --- People -----------------------------------------------------------------------------------


class Contact(Base):
    """A Telegram account bound to a role; one person may hold several rows (several roles)."""

    __tablename__ = "contacts"
    __table_args__ = (Index("ix_contacts_user_active", "tg_user_id", "active"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tg_user_id: Mapped[int] = mapped_column(BigInteger)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    name: Mapped[str] = mapped_column(String(200))
    username: Mapped[str | None] = mapped_column(String(100), default=None)
    role: Mapped[str] = mapped_column(String(20))  # liaison | office | leader | admin
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True, default=None)
    leader_id: Mapped[int | None] = mapped_column(
        ForeignKey("leaders.id"), index=True, default=None
    )
    deputy: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    reachable: Mapped[bool] = mapped_column(Boolean, default=True)  # False after a 403
    created_at: Mapped[datetime]
    deactivated_at: Mapped[datetime | None] = mapped_column(default=None)
    deactivated_reason: Mapped[str | None] = mapped_column(String(50), default=None)


class Invite(Base):
    """A single-use invite; only the SHA-256 of the code is stored."""

    __tablename__ = "invites"

    id: Mapped[int] = mapped_column(primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(20))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), default=None)
    leader_id: Mapped[int | None] = mapped_column(ForeignKey("leaders.id"), default=None)
    deputy: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by_user_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None] = mapped_column(default=None)
    used_by_user_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)


class WorkGroup(Base):
    """A group chat an admin registered for the office's daily 通报."""

    __tablename__ = "work_groups"

    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    title: Mapped[str] = mapped_column(String(200))
    registered_by_user_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
    registered_at: Mapped[datetime]
    active: Mapped[bool] = mapped_column(Boolean, default=True)


# --- Progress ---------------------------------------------------------------------------------


class Report(Base):
    """A confirmed progress report; a correction is a new version, the old one kept."""

    __tablename__ = "reports"
    __table_args__ = (
        Index("ix_reports_task_unit_created", "task_id", "unit_id", "created_at"),
        Index("ix_reports_unit_cycle", "unit_id", "cycle_key"),
        Index("ix_reports_created", "created_at"),
        Index("ix_reports_cycle_task_unit", "cycle_key", "task_id", "unit_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    cycle_key: Mapped[str] = mapped_column(String(20))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"), default=None)
    tg_user_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
    text: Mapped[str] = mapped_column(Text)
    percent: Mapped[float | None] = mapped_column(Float, default=None)
    quantities: Mapped[list[Any] | None] = mapped_column(default=None)
    expected_date: Mapped[date | None] = mapped_column(Date, default=None)
    difficulties: Mapped[list[Any] | None] = mapped_column(default=None)
    version: Mapped[int] = mapped_column(Integer, default=1)
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("reports.id"), default=None)
    # What made this report (e.g. "draft:<id>"): a re-sent confirmation cannot store it twice.
    source_key: Mapped[str] = mapped_column(String(100), unique=True)
    created_at: Mapped[datetime]


class ReportLatest(Base):
    """Per (task, unit): its newest report, and the newest stating a percentage and a date.

    Kept by a trigger on `reports` (migration 0004), so every way a report is written keeps it
    right; the office's views read a pair's latest reports from here by the task ids instead
    of searching each pair's reports (db.views.latest). Ties in created_at go to the report
    written last.
    """

    __tablename__ = "report_latest"

    task_id: Mapped[int] = mapped_column(
        ForeignKey("tasks.id", ondelete="CASCADE"), primary_key=True
    )
    unit_id: Mapped[int] = mapped_column(primary_key=True)
    last_id: Mapped[int]
    last_at: Mapped[datetime]
    pct_id: Mapped[int | None]
    pct_at: Mapped[datetime | None]
    percent: Mapped[float | None] = mapped_column(Float)
    exp_id: Mapped[int | None]
    exp_at: Mapped[datetime | None]
    expected_date: Mapped[date | None] = mapped_column(Date)


class ReportCycle(Base):
    """Per (task, unit, cycle) reported: when its first report was stored.

    Kept by a trigger on `reports` (migration 0006): the record of on-time, late and missed
    cycles (bot.domain.obligations) reads one row per reported cycle, not every report and
    correction.
    """

    __tablename__ = "report_cycles"

    task_id: Mapped[int] = mapped_column(
        ForeignKey("tasks.id", ondelete="CASCADE"), primary_key=True
    )
    unit_id: Mapped[int] = mapped_column(primary_key=True)
    cycle_key: Mapped[str] = mapped_column(String(20), primary_key=True)
    first_at: Mapped[datetime]


class ReportDraft(Base):
    """A report conversation in progress; lives here, not in memory, so it survives a restart."""

    __tablename__ = "report_drafts"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(32), unique=True)  # opaque id used in buttons
    tg_user_id: Mapped[int] = mapped_column(BigInteger, unique=True)  # one open draft per person
    chat_id: Mapped[int] = mapped_column(BigInteger)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"), default=None)
    state: Mapped[str] = mapped_column(String(20))  # choose_task | await_text | confirm
    task_id: Mapped[int | None] = mapped_column(ForeignKey("tasks.id"), default=None)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), default=None)
    cycle_key: Mapped[str | None] = mapped_column(String(20), default=None)
    text: Mapped[str | None] = mapped_column(Text, default=None)
    parsed: Mapped[dict[str, Any] | None] = mapped_column(default=None)
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("reports.id"), default=None)
    card_message_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)


class Nudge(Base):
    """A manual nudge (催办) of a unit about a task by the office."""

    __tablename__ = "nudges"
    __table_args__ = (
        Index("ix_nudges_task_unit", "task_id", "unit_id"),
        # One nudge per task, unit and local day, whoever presses (migration 0007).
        Index("ux_nudges_task_unit_day", "task_id", "unit_id", "day", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    cycle_key: Mapped[str | None] = mapped_column(String(20), default=None)
    by_user_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
    created_at: Mapped[datetime]
    day: Mapped[date | None] = mapped_column(Date, default=None)  # local day of created_at


class Acknowledgement(Base):
    """签收: a lead unit's liaison acknowledged the unit's part in a task (once per task and
    unit; a task newly assigned to a unit has none until it is acknowledged)."""

    __tablename__ = "acknowledgements"
    __table_args__ = (UniqueConstraint("task_id", "unit_id", name="ux_acknowledgements_task_unit"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    by_user_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
    acknowledged_at: Mapped[datetime]


class Instruction(Base):
    """领导批示: a supervising leader's instruction on a task, sent to its units and the office,
    kept on the task card; the units' next reports are asked to answer it."""

    __tablename__ = "instructions"
    __table_args__ = (Index("ix_instructions_task_created", "task_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"))
    leader_id: Mapped[int | None] = mapped_column(ForeignKey("leaders.id"), default=None)
    by_user_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]


class CoordinationRequest(Base):
    """提请协调: a unit asks the task's supervising leaders (and the office) to coordinate a
    difficulty, as a request of its own rather than a word in a report."""

    __tablename__ = "coordination_requests"
    __table_args__ = (Index("ix_coordination_requests_task_created", "task_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    by_user_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]


class ReportReturn(Base):
    """退回重报: the office returned a unit's report for a cycle. The unit's reports of that
    cycle up to `upto_report_id` stop counting (the cycle is unreported until a new report);
    they stay in the history."""

    __tablename__ = "report_returns"
    __table_args__ = (Index("ix_report_returns_pair_cycle", "task_id", "unit_id", "cycle_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    cycle_key: Mapped[str] = mapped_column(String(20))
    upto_report_id: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str] = mapped_column(Text)
    by_user_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
    created_at: Mapped[datetime]


class Closure(Base):
    """办结销号: a unit's close-out of its part of a task, one row per (task, unit): applied,
    closed, refused or reopened. A stated 100% in a report up to `void_upto` no longer completes
    the part (the office refused or reopened it)."""

    __tablename__ = "closures"
    __table_args__ = (UniqueConstraint("task_id", "unit_id", name="ux_closures_task_unit"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    state: Mapped[str] = mapped_column(String(20))  # applied | closed | refused | reopened
    report_id: Mapped[int | None] = mapped_column(ForeignKey("reports.id"), default=None)
    applied_by: Mapped[int | None] = mapped_column(BigInteger, default=None)
    applied_at: Mapped[datetime]
    decided_by: Mapped[int | None] = mapped_column(BigInteger, default=None)
    decided_at: Mapped[datetime | None] = mapped_column(default=None)
    comment: Mapped[str | None] = mapped_column(Text, default=None)
    void_upto: Mapped[int | None] = mapped_column(Integer, default=None)


class Extension(Base):
    """延期申请: a unit asks to move a cycle's report deadline (cycle_key) or the task's own
    deadline (cycle_key None); approved, it moves that deadline in every view and reminder."""

    __tablename__ = "extensions"
    __table_args__ = (Index("ix_extensions_task_unit", "task_id", "unit_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    cycle_key: Mapped[str | None] = mapped_column(String(20), default=None)
    old_date: Mapped[date] = mapped_column(Date)
    new_date: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(20))  # requested | approved | refused
    requested_by: Mapped[int | None] = mapped_column(BigInteger, default=None)
    requested_at: Mapped[datetime]
    decided_by: Mapped[int | None] = mapped_column(BigInteger, default=None)
    decided_at: Mapped[datetime | None] = mapped_column(default=None)
    comment: Mapped[str | None] = mapped_column(Text, default=None)


class Evidence(Base):
    """佐证材料: a photo or document a liaison attached to a task for their unit, kept by
    Telegram's file id and as a local copy (`path`, under EVIDENCE_DIR); linked to the unit's
    next stored report on the task. Kept once per task, unit and file."""

    __tablename__ = "evidence"
    __table_args__ = (
        UniqueConstraint("task_id", "unit_id", "file_unique_id", name="ux_evidence_task_unit_file"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    report_id: Mapped[int | None] = mapped_column(ForeignKey("reports.id"), default=None)
    by_user_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
    file_id: Mapped[str] = mapped_column(String(255))
    file_unique_id: Mapped[str] = mapped_column(String(100))
    file_name: Mapped[str | None] = mapped_column(String(255), default=None)
    mime_type: Mapped[str | None] = mapped_column(String(100), default=None)
    size: Mapped[int] = mapped_column(Integer)
    path: Mapped[str] = mapped_column(String(500))  # relative to EVIDENCE_DIR
    kind: Mapped[str] = mapped_column(String(10))  # photo | document
    created_at: Mapped[datetime]


# --- Delivery ---------------------------------------------------------------------------------


class OutboxMessage(Base):
    """A message to deliver; the unique key makes a step impossible to enqueue twice."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_status_next", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    dedup_key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(20))  # reminder | escalation | nudge | summary | ...
    chat_id: Mapped[int] = mapped_column(BigInteger)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"), default=None)
    text: Mapped[str] = mapped_column(Text)
    reply_markup: Mapped[dict[str, Any] | None] = mapped_column(default=None)
    document: Mapped[dict[str, Any] | None] = mapped_column(default=None)
    # Data to re-render the text at send time (e.g. drop a task reported meanwhile).
    meta: Mapped[dict[str, Any] | None] = mapped_column(default=None)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None] = mapped_column(default=None)
    tg_message_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)


class OutboxItem(Base):
    """One (task, unit, cycle, step, recipient) a message covers; unique across all time."""

    __tablename__ = "outbox_items"
    __table_args__ = (UniqueConstraint("task_id", "unit_id", "cycle_key", "step", "contact_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    outbox_id: Mapped[int] = mapped_column(ForeignKey("outbox.id", ondelete="CASCADE"), index=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    cycle_key: Mapped[str] = mapped_column(String(20))
    step: Mapped[str] = mapped_column(String(30))
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id"))


class InboxUpdate(Base):
    """A Telegram update, stored before it is acknowledged and processed from here."""

    __tablename__ = "inbox"
    __table_args__ = (Index("ix_inbox_status", "status", "update_id"),)

    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    payload: Mapped[dict[str, Any]]
    # Who sent it (db.inbox.sender_of), None for a channel post and the like.
    sender_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
    status: Mapped[str] = mapped_column(String(20), default="new")  # new | done | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(default=None)
    received_at: Mapped[datetime]
    processed_at: Mapped[datetime | None] = mapped_column(default=None)
    error: Mapped[str | None] = mapped_column(Text, default=None)


# --- Administration ---------------------------------------------------------------------------


class AuditEntry(Base):
    """Append-only log of who did what, when. Never holds a token or an invite code."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_actor_action_at", "actor_user_id", "action", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    actor_user_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
    action: Mapped[str] = mapped_column(String(50))
    target: Mapped[str | None] = mapped_column(String(200), default=None)
    detail: Mapped[dict[str, Any] | None] = mapped_column(default=None)


class CalendarOverride(Base):
    """An admin's correction of the statutory calendar for one day."""

    __tablename__ = "calendar_overrides"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    is_workday: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str | None] = mapped_column(String(200), default=None)
    created_by_user_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
    created_at: Mapped[datetime]


class AppState(Base):
    """Small facts that must survive a restart (e.g. "admin warned about year 2027")."""

    __tablename__ = "app_state"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[dict[str, Any]]
    updated_at: Mapped[datetime]
