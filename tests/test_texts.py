"""A text pass over what people read, for every task of the notice: no 。（, no stray space
between Chinese characters, an input example drawn from the task's own targets that the bot
then reads right."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from bot import texts
from bot.domain.model import Target
from bot.domain.replies import understand
from bot.domain.roles import LeaderRef, Principal, Role, UnitRef
from bot.domain.workcal import WorkCalendar

SEED = json.loads((Path(__file__).resolve().parents[1] / "seed_tasks.json").read_text("utf-8"))
TASKS = SEED["tasks"]
# A space between Chinese characters is stray, except the one that sets a 序号 label off from
# the task's words in a list (· 第6项 开展…), a deliberate separator.
STRAY_SPACE = re.compile(
    r"(?<!第\d)(?<!第\d\d)(?<!第\d\d\d)[\u4e00-\u9fff（）。，：；] +[\u4e00-\u9fff（）]"
)


def targets(task: dict[str, object]) -> list[Target]:
    found = task.get("targets") or []
    assert isinstance(found, list)
    return [
        Target(g["metric"], g["kind"], g["value"], g["unit"], g["comparator"], g["source"])
        for g in found
    ]


def plain(html: str) -> str:
    return re.sub(r"<[^>]+>", "", html)


def check(text: str) -> None:
    assert "。（" not in text, text
    assert not STRAY_SPACE.search(text), text


@pytest.mark.parametrize("task", TASKS, ids=lambda t: f"task{t['no']}")
def test_texts_about_each_task_read_cleanly(task: dict[str, object]) -> None:
    no, text = int(str(task["no"])), str(task["text"])
    check(plain(texts.ask_progress(no, text, False, targets(task))))
    deadline = datetime(2026, 12, 24, 9, tzinfo=UTC)
    lines = [
        texts.ReminderLine(no, text, "发改局", "2026-12", deadline, "due"),
        texts.ReminderLine(no + 100, text, "发改局", "2026-11", deadline, "overdue", 3, 1),
        texts.ReminderLine(no, text, "发改局", "2026-11", deadline, "overdue", 3),
    ]
    for body, _ in [*texts.reminder(lines[:1]), *texts.reminder(lines), *texts.unit_nudge(lines)]:
        check(plain(body))


@pytest.mark.parametrize(
    "task", [t for t in TASKS if t.get("targets")], ids=lambda t: f"task{t['no']}"
)
def test_the_input_example_is_the_tasks_own_and_is_read_against_its_target(
    task: dict[str, object],
) -> None:
    own = targets(task)
    example = texts.progress_example(own)
    understood = understand(example, own, date(2026, 5, 13), WorkCalendar(), str(task["text"]))
    read = {q.target_metric for q in understood.quantities if q.target_metric}
    first = next((t for t in own if t.kind == "amount"), own[0])
    assert first.metric in example
    assert read == {first.metric}, example
    assert understood.difficulties == () or "需" in example


@pytest.mark.parametrize("role", list(Role))
def test_each_roles_help_names_every_command_it_may_use_and_no_other(role: Role) -> None:
    from handlers.menu import ENTRIES, help_sections

    principal = Principal(
        1,
        units=(UnitRef(1, "发改局"),) if role is Role.LIAISON else (),
        leaders=(LeaderRef(1, "吴振强"),) if role is Role.LEADER else (),
        office=role is Role.OFFICE,
        admin=role is Role.ADMIN,
    )
    text = texts.help_text(principal, help_sections(principal))
    for entry in ENTRIES:
        if not entry.in_menu:
            continue
        allowed = not entry.roles or role in entry.roles
        named = re.search(rf"/{entry.name}\b", text) is not None
        if entry.roles:
            assert named == allowed, (role, entry.name)
    if role is Role.ADMIN:
        assert texts.SEARCH_HELP in text and texts.GROUP_HELP in text
    assert not STRAY_SPACE.search(plain(text)) and "。（" not in text
