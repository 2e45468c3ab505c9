"""After import, the database holds the notice's 88 tasks cell for cell (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.domain.register import load_json
from db.models import Leader, Target, Task, TaskLeader, TaskUnit, Unit, UnitAlias
from db.register import import_register

SEED = Path(__file__).resolve().parent.parent / "seed_tasks.json"
NOW = datetime(2026, 1, 2, tzinfo=UTC)


async def test_88_tasks_match_the_notice(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    async with sessionmaker() as s, s.begin():
        result = await import_register(s, load_json(SEED), now=NOW)
    assert len(result.tasks_created) == 88
    seed: dict[str, Any] = json.loads(SEED.read_text(encoding="utf-8"))
    async with sessionmaker() as s:
        tasks = {t.no: t for t in (await s.scalars(select(Task).where(Task.year == 2026))).all()}
        assert sorted(tasks) == list(range(1, 89))
        units = (
            await s.execute(
                select(TaskUnit.task_id, TaskUnit.role, TaskUnit.label).order_by(
                    TaskUnit.task_id, TaskUnit.role, TaskUnit.position
                )
            )
        ).all()
        leaders = (
            await s.execute(
                select(TaskLeader.task_id, Leader.name)
                .join(Leader, Leader.id == TaskLeader.leader_id)
                .order_by(TaskLeader.task_id, TaskLeader.position)
            )
        ).all()
        targets = (
            await s.execute(
                select(Target.task_id, Target.metric, Target.value, Target.unit).order_by(
                    Target.task_id, Target.position
                )
            )
        ).all()
    for entry in seed["tasks"]:
        task = tasks[entry["no"]]
        assert task.text == entry["text"]
        assert task.section == entry["section"]
        assert task.subsection == entry["subsection"]
        lead = [label for tid, role, label in units if tid == task.id and role == "lead"]
        resp = [label for tid, role, label in units if tid == task.id and role == "responsible"]
        assert lead == entry["lead_units"], entry["no"]
        assert resp == entry["responsible_units"], entry["no"]
        assert [n for tid, n in leaders if tid == task.id] == entry["leaders"], entry["no"]
        assert [(m, v, u) for tid, m, v, u in targets if tid == task.id] == [
            (t["metric"], float(t["value"]), t["unit"]) for t in entry["targets"]
        ], entry["no"]


async def test_aliases_point_to_units(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    async with sessionmaker() as s, s.begin():
        await import_register(s, load_json(SEED), now=NOW)
    async with sessionmaker() as s:
        rows = (
            await s.execute(
                select(UnitAlias.alias, Unit.name).join(Unit, Unit.id == UnitAlias.unit_id)
            )
        ).all()
    mapping = dict(rows)
    assert mapping["霞美镇政府"] == "霞美镇"
    assert mapping["开发区"] == "雪峰开发区"
    assert mapping["住建局（城建办）"] == "住建局"


async def test_reimport_is_a_no_op(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    async with sessionmaker() as s, s.begin():
        await import_register(s, load_json(SEED), now=NOW)
    async with sessionmaker() as s, s.begin():
        result = await import_register(s, load_json(SEED), now=NOW)
    assert not result.changed
    assert result.tasks_unchanged == 88
