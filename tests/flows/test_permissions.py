"""Deny by default: every command and every kind of button, for every kind of account.

The expected cells are written here independently of the command table, so a command added
without deciding who may use it fails this test.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot import texts
from bot.domain.roles import Role
from bot.emulator import Person
from db.models import AuditEntry, Base, Task
from handlers.base import encode
from handlers.commands import BUTTONS, COMMANDS
from tests.flows.conftest import START
from tests.flows.test_office import buttons, insert_report
from tests.harness import Harness, start_harness, stop_harness

UNBOUND = "unbound"
LIAISON_A = "liaison_a"  # 发改局
LIAISON_B = "liaison_b"  # 工信局
LEADER = "leader"  # 吴振强
OFFICE = "office"
ADMIN = "admin"
EVERYONE = {UNBOUND, LIAISON_A, LIAISON_B, LEADER, OFFICE, ADMIN}
BOUND = EVERYONE - {UNBOUND}
LIAISONS = {LIAISON_A, LIAISON_B}

# Who may use each command.
COMMAND_ACCESS: dict[str, set[str]] = {
    "start": EVERYONE,
    "help": EVERYONE,
    "tasks": LIAISONS,
    "report": LIAISONS,
    "history": LIAISONS,
    "cancel": BOUND,
    "invite": {ADMIN},
    "contacts": {ADMIN},
    "invites": {ADMIN},
    "overdue": {OFFICE, LEADER},
    "task": BOUND,
    "units": {OFFICE, ADMIN},
    "summary": {OFFICE, LEADER},
    "export": {OFFICE, ADMIN},
    "bulletin": {OFFICE},
    "closeyear": {OFFICE},
}

# Who may press each kind of button (by the prefix of its callback data).
BUTTON_ACCESS: dict[str, set[str]] = {
    "tp": LIAISONS,
    "rp": LIAISONS,
    "rt": LIAISONS,
    "rc": LIAISONS,
    "re": LIAISONS,
    "rq": LIAISONS,
    "rx": LIAISONS,
    "rv": LIAISONS,
    "ak": LIAISONS,
    "iv": {ADMIN},
    "ivk": {ADMIN},
    "ivc": {ADMIN},
    "cl": {ADMIN},
    "ivr": {ADMIN},
    "cr": {ADMIN},
    "crc": {ADMIN},
    "cx": {ADMIN},
    "ovp": {OFFICE, LEADER},
    "ovn": {OFFICE},
    "ovu": {OFFICE},
    "tkh": BOUND,
    "tkc": BOUND,
    "ins": {LEADER},
    "rqc": LIAISONS,
    "evl": BOUND,
    "rtl": {OFFICE},
    "rtr": {OFFICE},
    "cla": LIAISONS,
    "clo": {OFFICE},
    "clr": {OFFICE},
    "clx": {OFFICE},
    "exq": LIAISONS,
    "exk": LIAISONS,
    # Who decides a 延期 (the office, or by setting the task's leader) is checked on the
    # request itself (tests/flows/test_extension.py).
    "exa": {OFFICE, LEADER},
    "exr": {OFFICE, LEADER},
    "asr": {OFFICE, ADMIN},
    "cy": {OFFICE},
}

SKIP_TABLES = {"audit_log", "inbox"}


@pytest.fixture
async def h(engine: AsyncEngine, database_url: str) -> AsyncIterator[Harness]:
    """As the flows' `h`, but the unbound account is answered every time: the matrix asks it
    every command in a row (how often it is answered is tested in test_binding)."""
    harness = await start_harness(database_url, now=START, settings={"unbound_answers": 10_000})
    try:
        yield harness
    finally:
        await stop_harness(harness)
    assert harness.errors == [], (
        f"handler errors: {harness.errors!r}"
    )  # these record the attempt itself


async def population(h: Harness) -> dict[str, Person]:
    """One account of each kind."""
    return {
        UNBOUND: await h.person("未绑定"),
        LIAISON_A: await h.bound("发改局联络员", Role.LIAISON, unit="发改局"),
        LIAISON_B: await h.bound("工信局联络员", Role.LIAISON, unit="工信局"),
        LEADER: await h.bound("吴振强", Role.LEADER, leader="吴振强"),
        OFFICE: await h.bound("督导办", Role.OFFICE),
        ADMIN: await h.bound("管理员", Role.ADMIN),
    }


async def snapshot(h: Harness) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table that a refused action must not change."""
    await h.settle()
    out: dict[str, list[tuple[Any, ...]]] = {}
    async with h.sessionmaker() as session:
        for table in Base.metadata.sorted_tables:
            if table.name in SKIP_TABLES:
                continue
            rows = (await session.execute(select(table))).all()
            out[table.name] = sorted((tuple(r) for r in rows), key=repr)
    return out


def denial(who: str) -> str:
    return texts.UNBOUND if who == UNBOUND else texts.DENIED


def test_every_command_and_button_has_a_decision() -> None:
    assert {c.name for c in COMMANDS} <= set(COMMAND_ACCESS)
    assert {b.prefix for b in BUTTONS} <= set(BUTTON_ACCESS)


async def test_command_matrix(h: Harness) -> None:
    accounts = await population(h)
    for name in sorted(c.name for c in COMMANDS):
        for who, person in accounts.items():
            before = await snapshot(h)
            reply = await h.command(person, name)
            text = reply.plain or ""
            if who in COMMAND_ACCESS[name]:
                assert text != texts.DENIED, (name, who)
                if name not in ("start", "help"):
                    assert text != texts.UNBOUND, (name, who)
                if who != UNBOUND:
                    await h.command(person, "cancel")  # leave any conversation it opened
            else:
                assert text == denial(who), (name, who, text)
                assert await snapshot(h) == before, (name, who)
    denied = [a for a in await h.rows(AuditEntry) if a.action == "denied"]
    assert denied, "denials are audited"


def forged(prefix: str, task_id: int, shared_task_id: int) -> str:
    """Plausible data for each kind of button."""
    args: dict[str, tuple[object, ...]] = {
        "tp": (0,),
        "rp": (0,),
        "rt": (task_id,),
        "rc": ("0123456789abcdef",),
        "re": ("0123456789abcdef",),
        "rq": ("0123456789abcdef", 0, "x"),
        "rx": (),
        "rv": (999,),
        "ak": ("t", 999999),  # a task nobody leads: an allowed press acknowledges nothing
        "iv": ("l", 0),
        "ivk": ("l", 1, 0),
        "ivc": ("l", 1),
        "cl": (0,),
        "ivr": (999,),  # an invite nobody has
        # Ids nobody has: an allowed press must not change the population under test.
        "cr": (999,),
        "crc": (999,),
        "cx": (999,),
        "ovp": (0, ""),
        # A unit nobody has: an allowed nudge must not change the population under test.
        "ovn": (task_id, 999, "o", 0, ""),
        "ovu": (999, 0, ""),  # a unit nobody has
        # Task 31 is led by both liaisons' units, so both may open it.
        "tkh": (shared_task_id, 0),
        "tkc": (shared_task_id,),
        "ins": (999999,),  # a task nobody has: an allowed press writes nothing
        "rqc": (999999,),
        "evl": (999999,),  # a task nobody has: an allowed press sends nothing
        # Ids nobody has: an allowed press returns, applies or decides nothing.
        "rtl": (999999,),
        "rtr": (999999,),
        "cla": (999999,),
        "clo": (999999,),
        "clr": (999999,),
        "clx": (999999,),
        "exq": (999999,),
        "exk": (999999, "t"),
        "exa": (999999,),
        "exr": (999999,),
        "asr": (1999,),  # a year with no register: an empty ranking
        # A year with no register: an allowed press must not close anything.
        "cy": (1999,),
    }
    return encode(prefix, *args.get(prefix, (1,)))


async def test_button_matrix(h: Harness) -> None:
    accounts = await population(h)
    async with h.sessionmaker() as session:
        task6 = await session.scalar(select(Task.id).where(Task.no == 6))
        task31 = await session.scalar(select(Task.id).where(Task.no == 31))
    assert task6 is not None
    assert task31 is not None
    for spec in BUTTONS:
        data = forged(spec.prefix, task6, task31)
        for who, person in accounts.items():
            message = await h.command(person, "help")
            before = await snapshot(h)
            answer = await h.press_data(person, message.message_id, data)
            if who in BUTTON_ACCESS[spec.prefix]:
                assert answer != denial(who), (spec.prefix, who)
            else:
                assert answer == denial(who), (spec.prefix, who, answer)
                assert await snapshot(h) == before, (spec.prefix, who)


@pytest.mark.parametrize(
    "data",
    [
        "zz:1",  # unknown kind
        "rt:abc",  # not a number
        "rt:1:2:3:4:5:6:7",  # too many parts
        "rt:" + "9" * 60,  # over 64 bytes
        "rt:-1",
        "<b>rt</b>",
        "",
    ],
)
async def test_malformed_button_data_is_refused(h: Harness, data: str) -> None:
    liaison = await h.bound("发改局联络员", Role.LIAISON, unit="发改局")
    message = await h.command(liaison, "help")
    before = await snapshot(h)
    answer = await h.press_data(liaison, message.message_id, data)
    assert answer in (texts.STALE_BUTTON, texts.NOT_YOUR_TASK)
    assert await snapshot(h) == before


async def test_another_units_task_is_refused(h: Harness) -> None:
    """工信局's liaison forges a button for task 6, which only 发改局 leads."""
    other = await h.bound("工信局联络员", Role.LIAISON, unit="工信局")
    async with h.sessionmaker() as session:
        task6 = await session.scalar(select(Task.id).where(Task.no == 6))
    menu = await h.command(other, "report")
    before = await snapshot(h)
    answer = await h.press_data(other, menu.message_id, encode("rt", task6))
    assert answer == texts.NOT_YOUR_TASK
    after = await snapshot(h)
    assert after == before
    audit = [a for a in await h.rows(AuditEntry) if a.target == "report:foreign_task"]
    assert len(audit) == 1


async def test_revoked_account_loses_access_at_once(h: Harness) -> None:
    admin = await h.bound("管理员", Role.ADMIN)
    liaison = await h.bound("发改局联络员", Role.LIAISON, unit="发改局")
    assert "发改局" in ((await h.command(liaison, "tasks")).plain or "")
    listing = await h.command(admin, "contacts", "发改局")
    assert "发改局联络员" in (listing.plain or "")
    row = next(r for r in listing.buttons if r[0].text.startswith("撤销"))
    _, confirm = await h.press(admin, listing, row[0].text)
    assert "确认撤销" in (confirm.plain or "")
    _, done = await h.press(admin, confirm, "确认撤销")
    assert "已撤销" in (done.plain or "")
    assert (await h.command(liaison, "tasks")).plain == texts.UNBOUND


async def test_replace_liaison_issues_new_link(h: Harness) -> None:
    admin = await h.bound("管理员", Role.ADMIN)
    old = await h.bound("旧联络员", Role.LIAISON, unit="发改局")
    listing = await h.command(admin, "contacts", "发改局")
    label = next(b.text for row in listing.buttons for b in row if b.text.startswith("更换"))
    _, created = await h.press(admin, listing, label)
    assert "发改局联络员邀请链接" in (created.plain or "")
    assert (await h.command(old, "report")).plain == texts.UNBOUND
    code = (created.plain or "").split("start=")[1].split()[0]
    new = await h.person("新联络员")
    assert "绑定成功" in ((await h.start(new, code)).plain or "")


async def test_group_added_by_admin_is_kept_by_others_left(h: Harness) -> None:
    admin = await h.bound("管理员", Role.ADMIN)
    office = await h.bound("督导办", Role.OFFICE)
    group = await h.people.create_group("督办工作群", [admin.id, office.id])
    await h.people.add_bot_to_group(group, admin.id)
    notice = await h.people.wait_for_bot_message(group)
    assert "登记为工作群" in (notice.plain or "")
    rogue = await h.person("外人")
    other_group = await h.people.create_group("无关群", [rogue.id])
    await h.people.add_bot_to_group(other_group, rogue.id)

    async def left() -> bool:
        return any("leaveChat" in k for k in (await h.people.stats())["calls"])

    await h.people.wait_until(left)
    from db.models import WorkGroup

    groups = await h.rows(WorkGroup)
    assert [(g.chat_id, g.active) for g in groups] == [(group, True)]


async def test_promoting_the_bot_is_not_a_join(h: Harness) -> None:
    """Any group admin (a liaison too) may promote or demote the bot: it stays, the group stays
    registered; a group the office adds is registered like one an admin adds."""
    office = await h.bound("督导办", Role.OFFICE)
    liaison = await h.bound("发改局联络员", Role.LIAISON, unit="发改局")
    group = await h.people.create_group("督办工作群", [office.id, liaison.id])
    await h.people.add_bot_to_group(group, office.id)
    notice = await h.people.wait_for_bot_message(group)
    assert "登记为工作群" in (notice.plain or "")
    await h.people.set_bot_rights(group, liaison.id, admin=True)
    await h.people.set_bot_rights(group, liaison.id, admin=False)
    await h.settle()
    from db.models import WorkGroup

    assert [(g.chat_id, g.active) for g in await h.rows(WorkGroup)] == [(group, True)]
    assert not any("leaveChat" in k for k in (await h.people.stats())["calls"])


async def test_menu_follows_role(h: Harness) -> None:
    liaison = await h.bound("发改局联络员", Role.LIAISON, unit="发改局")
    admin = await h.bound("管理员", Role.ADMIN)

    async def names(person: Person) -> set[str]:
        return {c["command"] for c in await h.people.visible_commands(person.id, person.id)}

    liaison_menu = await names(liaison)
    assert {"tasks", "report", "history"} <= liaison_menu
    assert "invite" not in liaison_menu
    admin_menu = await names(admin)
    assert {"invite", "contacts"} <= admin_menu
    assert "report" not in admin_menu
    stranger = await h.person("陌生人")
    assert await names(stranger) == {"help"}


async def test_help_by_role(h: Harness) -> None:
    liaison = await h.bound("发改局联络员", Role.LIAISON, unit="发改局")
    text = (await h.command(liaison, "help")).plain or ""
    assert "发改局联络员" in text
    assert "/report" in text
    assert "/invite" not in text
    admin = await h.bound("管理员", Role.ADMIN)
    text = (await h.command(admin, "help")).plain or ""
    assert "/invite" in text
    assert "/report" not in text


async def test_who_reads_which_reports_on_a_task(h: Harness) -> None:
    """Task 16: lead 发改局 and 资源局, co-responsible 工信局 (issue 19, finding 7). 工信局 sees
    the status and its own report, not 发改局's text; 发改局 (lead) reads 工信局's report but
    not 资源局's (another lead unit); the office and the leader read every report."""
    fgj = await h.bound("发改局联络员", Role.LIAISON, unit="发改局")
    gxj = await h.bound("工信局联络员", Role.LIAISON, unit="工信局")
    office = await h.bound("督导办", Role.OFFICE)
    leader = await h.bound("吴振强", Role.LEADER, leader="吴振强")
    secret = "资金缺口3亿元，暂勿外传"
    at = h.clock.now()
    await insert_report(h, 16, "发改局", at, text=secret)
    await insert_report(h, 16, "资源局", at, text="资源局用地报批进展")
    await insert_report(h, 16, "工信局", at, text="工信局配合完成设备更新")

    async def card_and_history(who: Person) -> str:
        card = await h.command(who, "task", "16")
        _, history = await h.press(who, card, next(b for b in buttons(card) if "报送记录" in b))
        return (card.plain or "") + "\n" + (history.plain or "")

    seen_by_gxj = await card_and_history(gxj)
    assert "工信局配合完成设备更新" in seen_by_gxj
    assert secret not in seen_by_gxj and "资源局用地报批进展" not in seen_by_gxj
    assert texts.CARD_RESTRICTED in seen_by_gxj and "状态：" in seen_by_gxj
    seen_by_fgj = await card_and_history(fgj)
    assert secret in seen_by_fgj and "工信局配合完成设备更新" in seen_by_fgj
    assert "资源局用地报批进展" not in seen_by_fgj
    for who in (office, leader):
        everything = await card_and_history(who)
        assert secret in everything and "资源局用地报批进展" in everything
        assert texts.CARD_RESTRICTED not in everything
