"""佐证材料 (issue 21): a liaison attaches photos and documents to a task — in the report
conversation, or replying to the bot's reminder or card; a file of another type, over the size
limit, from a stranger or a unit not on the task, or sent twice is refused and changes nothing;
the card lists the files and sends them back to those who may see them; the ledger counts them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot import texts
from bot.domain.roles import Role
from bot.emulator import Person, TranscriptMessage
from bot.runtime.scheduling import run_planning
from db.models import AuditEntry, Evidence, Report, Task
from handlers.base import encode
from tests.flows.conftest import SHANGHAI, START
from tests.flows.test_office import buttons
from tests.flows.test_report import pick_task
from tests.harness import WAIT, Harness, start_harness, stop_harness

PHOTO = b"\xff\xd8\xff\xe0fake jpeg" + b"\x00" * 64
PDF = b"%PDF-1.4 fake" + b"\x00" * 64
TYPES = "jpg,jpeg,png,pdf,doc,docx,xls,xlsx,wps,et"


@pytest.fixture
async def h(engine: AsyncEngine, database_url: str, tmp_path: Path) -> AsyncIterator[Harness]:
    """The flows' bot, keeping 佐证材料 under tmp_path, at most 1 MB each."""
    settings = {"evidence_dir": tmp_path / "evidence", "evidence_max_mb": 1}
    harness = await start_harness(database_url, now=START, settings=settings)
    try:
        yield harness
    finally:
        await stop_harness(harness)
    assert harness.errors == [], f"handler errors: {harness.errors!r}"


def evidence_dir(h: Harness) -> Path:
    return h.runtime.settings.evidence_dir


async def task_id(h: Harness, no: int) -> int:
    async with h.sessionmaker() as session:
        found = await session.scalar(select(Task.id).where(Task.no == no, Task.year == 2026))
        assert found is not None
        return found


async def send_photo(h: Harness, who: Person, *, reply_to: int | None = None) -> TranscriptMessage:
    await h.people.send_photo(who.id, PHOTO, reply_to=reply_to)
    return await h.people.wait_for_bot_message(who.id, timeout=WAIT)


async def send_file(
    h: Harness, who: Person, name: str, data: bytes = PDF, *, reply_to: int | None = None
) -> TranscriptMessage:
    await h.people.send_document(who.id, name, data, reply_to=reply_to)
    return await h.people.wait_for_bot_message(who.id, timeout=WAIT)


async def test_files_sent_in_the_report_conversation_go_with_the_report(h: Harness) -> None:
    fgj = await h.bound("发改局联络员", Role.LIAISON, unit="发改局")
    await pick_task(h, fgj, 6)
    got = await send_photo(h, fgj)
    assert got.plain == texts.evidence_stored(6, "发改局", "照片.jpg", 1)
    got = await send_file(h, fgj, "项目开工照片说明.PDF")
    assert got.plain == texts.evidence_stored(6, "发改局", "项目开工照片说明.PDF", 2)
    card = await h.say(fgj, "已完成投资320亿元，预计6月底前完成")
    assert "进展报送确认" in (card.plain or "")
    await h.press(fgj, card, "确认提交")

    [report] = await h.rows(Report)
    files = sorted(await h.rows(Evidence), key=lambda e: e.id)
    assert [(f.kind, f.task_id, f.report_id, f.by_user_id) for f in files] == [
        ("photo", report.task_id, report.id, fgj.id),
        ("document", report.task_id, report.id, fgj.id),
    ]
    assert files[1].file_name == "项目开工照片说明.PDF" and files[1].size == len(PDF)
    # The local copies, under EVIDENCE_DIR/<year>/<序号>/.
    assert files[0].path.startswith("2026/6/") and files[0].path.endswith(".jpg")
    assert (evidence_dir(h) / files[0].path).read_bytes() == PHOTO
    assert (evidence_dir(h) / files[1].path).read_bytes() == PDF
    audit = [a for a in await h.rows(AuditEntry) if a.action == "evidence"]
    assert len(audit) == 2 and {a.actor_user_id for a in audit} == {fgj.id}


async def test_a_file_replying_to_a_reminder_or_a_card_is_for_that_task(h: Harness) -> None:
    # 国资办 leads one task (17).
    gzb = await h.bound("国资办联络员", Role.LIAISON, unit="国资办")
    h.clock.set(datetime(2026, 3, 20, 9, 30, tzinfo=SHANGHAI))  # 3 workdays before 3-25
    services, sender = h.runtime.services, h.runtime.sender
    assert services is not None and sender is not None
    await run_planning(services, None)
    await sender.run_once()
    reminder = await h.people.wait_for_bot_message(gzb.id)
    assert "第17项任务" in (reminder.plain or "")
    got = await send_file(h, gzb, "资产台账.xlsx", b"PK\x03\x04xlsx", reply_to=reminder.message_id)
    assert got.plain == texts.evidence_stored(17, "国资办", "资产台账.xlsx", 1)

    card = await h.command(gzb, "task", "17")
    assert "佐证材料1份" in (card.plain or "")
    got = await send_photo(h, gzb, reply_to=card.message_id)
    assert got.plain == texts.evidence_stored(17, "国资办", "照片.jpg", 2)
    seventeen = await task_id(h, 17)
    files = await h.rows(Evidence)
    assert {(f.task_id, f.report_id) for f in files} == {(seventeen, None)}

    # A reply to a bot message naming no task, or no reply at all: which task is asked.
    help_message = await h.command(gzb, "help")
    got = await send_photo(h, gzb, reply_to=help_message.message_id)
    assert got.plain == texts.EVIDENCE_WHICH_TASK
    got = await send_photo(h, gzb)
    assert got.plain == texts.EVIDENCE_WHICH_TASK
    assert len(await h.rows(Evidence)) == 2

    # The next report on the task takes them.
    card = await h.say(gzb, "资产规模已达1050亿元", reply_to=reminder.message_id)
    await h.press(gzb, card, "确认提交")
    [report] = await h.rows(Report)
    assert {f.report_id for f in await h.rows(Evidence)} == {report.id}


async def test_a_wrong_type_or_a_file_too_big_is_refused_and_nothing_kept(h: Harness) -> None:
    fgj = await h.bound("发改局联络员", Role.LIAISON, unit="发改局")
    await pick_task(h, fgj, 6)
    got = await send_file(h, fgj, "setup.exe", b"MZ" + b"\x00" * 32)
    assert got.plain == texts.evidence_bad_type(TYPES.split(","))
    got = await send_file(h, fgj, "说明.txt", b"plain text")
    assert got.plain == texts.evidence_bad_type(TYPES.split(","))
    got = await send_file(h, fgj, "全年台账.pdf", b"%PDF" + b"\x00" * (1024 * 1024 + 1))
    assert got.plain == texts.evidence_too_big(1)
    assert await h.rows(Evidence) == []
    assert not evidence_dir(h).exists() or not any(evidence_dir(h).rglob("*.*"))
    assert not [a for a in await h.rows(AuditEntry) if a.action == "evidence"]


async def test_strangers_others_and_units_not_on_the_task_are_refused(h: Harness) -> None:
    stranger = await h.person("陌生人")
    await h.people.start_bot(stranger.id, send_command=False)
    got = await send_photo(h, stranger)
    assert got.plain == texts.UNBOUND
    office = await h.bound("督导办", Role.OFFICE)
    got = await send_photo(h, office)
    assert got.plain == texts.DENIED

    # 商务局 is not on task 17; a bot message naming 第17项 it replies to does not make it so.
    swj = await h.bound("商务局联络员", Role.LIAISON, unit="商务局")
    bot = h.server.emulator.bot
    chat = {"id": swj.id, "type": "private", "first_name": swj.first_name}
    sender = {"id": swj.id, "is_bot": False, "first_name": swj.first_name}
    named = {
        "message_id": 1,
        "from": {"id": bot.id, "is_bot": True, "first_name": "督办助手"},
        "chat": chat,
        "date": 1,
        "text": "第17项任务",
    }
    photo = [
        {"file_id": "nope", "file_unique_id": "nope", "file_size": 10, "width": 9, "height": 9}
    ]
    message = {"message_id": 999, "from": sender, "chat": chat, "date": 2, "photo": photo}
    await h.people.inject_update({"message": {**message, "reply_to_message": named}})
    got = await h.people.wait_for_bot_message(swj.id, timeout=WAIT)
    assert got.plain == texts.EVIDENCE_WHICH_TASK
    assert await h.rows(Evidence) == []


async def test_a_repeated_update_or_file_is_kept_once(h: Harness) -> None:
    fgj = await h.bound("发改局联络员", Role.LIAISON, unit="发改局")
    await pick_task(h, fgj, 6)
    sent = await h.people.send_photo(fgj.id, PHOTO)
    await h.people.wait_for_bot_message(fgj.id, timeout=WAIT)
    updates = await h.people.updates()
    update = next(u for u in updates if u.get("message", {}).get("message_id") == sent.message_id)
    await h.people.duplicate_update(update["update_id"])
    await h.command(fgj, "help")  # the duplicate was fetched before this
    assert len(await h.rows(Evidence)) == 1

    # The same photo (same file_unique_id) in a new message: already kept.
    again: dict[str, Any] = {**update["message"], "message_id": sent.message_id + 100}
    await h.people.inject_update({"message": again})
    got = await h.people.wait_for_bot_message(fgj.id, timeout=WAIT)
    assert got.plain == texts.evidence_duplicate(6)
    assert len(await h.rows(Evidence)) == 1


async def test_the_card_lists_and_sends_the_files_to_those_who_may_see_them(h: Harness) -> None:
    fgj = await h.bound("发改局联络员", Role.LIAISON, unit="发改局")  # lead of 16
    gxj = await h.bound("工信局联络员", Role.LIAISON, unit="工信局")  # co-responsible on 16
    swj = await h.bound("商务局联络员", Role.LIAISON, unit="商务局")  # not on 16
    leader = await h.bound("吴振强", Role.LEADER, leader="吴振强")
    office = await h.bound("督导办", Role.OFFICE)
    await pick_task(h, fgj, 16)
    await send_file(h, fgj, "方案.docx", b"PK\x03\x04docx")
    await send_photo(h, fgj)
    await pick_task(h, gxj, 16)
    await send_file(h, gxj, "工信局材料.pdf")

    card = await h.command(office, "task", "16")
    assert "佐证材料3份" in (card.plain or "")
    assert texts.evidence_button(3) in buttons(card)
    before = len(await h.people.bot_messages(office.id))
    await h.press(office, card, texts.evidence_button(3))

    async def all_sent() -> bool:
        return len(await h.people.bot_messages(office.id)) >= before + 3

    await h.people.wait_until(all_sent, timeout=WAIT)
    sent = (await h.people.bot_messages(office.id))[before:]  # newest first
    assert [m.photo for m in sent] == [False, True, False]
    assert "工信局" in (sent[0].plain or "") and "工信局材料.pdf" in (sent[0].plain or "")
    assert "方案.docx" in (sent[2].plain or "") and "第16项" in (sent[2].plain or "")
    stored = {f.file_id for f in await h.rows(Evidence)}
    assert {m.document.file_id for m in sent if m.document} == stored

    # The leader sees them all; the lead unit its own and its co-responsible unit's; the
    # co-responsible unit only its own.
    assert texts.evidence_button(3) in buttons(await h.command(leader, "task", "16"))
    assert texts.evidence_button(3) in buttons(await h.command(fgj, "task", "16"))
    own = await h.command(gxj, "task", "16")
    assert texts.evidence_button(1) in buttons(own) and "佐证材料1份" in (own.plain or "")
    # A unit not on the task cannot open them, even with a forged button.
    sixteen = await task_id(h, 16)
    menu = await h.command(swj, "help")
    answer = await h.press_data(swj, menu.message_id, encode("evl", sixteen))
    assert answer == texts.TASK_NOT_VISIBLE
    assert (await h.people.bot_messages(swj.id))[-1].message_id == menu.message_id
    # A task without files: no line and no button.
    empty = await h.command(office, "task", "6")
    assert "佐证材料" not in (empty.plain or "") and not any(
        b.startswith("查看佐证材料") for b in buttons(empty)
    )


def _sheet(data: bytes) -> Worksheet:
    ws = load_workbook(BytesIO(data)).active
    assert isinstance(ws, Worksheet)
    return ws


async def test_the_ledger_counts_each_tasks_files(h: Harness) -> None:
    fgj = await h.bound("发改局联络员", Role.LIAISON, unit="发改局")
    office = await h.bound("督导办", Role.OFFICE)
    await pick_task(h, fgj, 6)
    await send_photo(h, fgj)
    await send_file(h, fgj, "a.pdf")
    message = await h.command(office, "export")
    assert message.document is not None and message.document.data is not None
    ws = _sheet(message.document.data)
    header = [c.value for c in ws[3]]
    column = header.index("佐证材料")
    counts: dict[Any, Any] = {}
    for r in ws.iter_rows(min_row=4, values_only=True):
        if isinstance(r[0], int):
            counts[r[0]] = r[column]
    assert counts[6] == 2
    assert counts[16] == 0


async def test_a_closeout_application_carries_the_files_sent_before_it(h: Harness) -> None:
    from db.models import Closure
    from tests.flows.test_reminders import drain

    office = await h.bound("督导办", Role.OFFICE)
    fgj = await h.bound("发改局联络员", Role.LIAISON, unit="发改局")  # leads task 16
    card = await h.command(fgj, "task", "16")
    got = await send_photo(h, fgj, reply_to=card.message_id)
    assert "佐证材料" in (got.plain or "")
    card = await h.command(fgj, "task", "16")
    await h.press(fgj, card, texts.CLOSE_APPLY_BUTTON)
    await h.say(fgj, "改革试点任务已全部完成，方案已印发。")
    await drain(h)
    application = await h.people.wait_for_bot_message(
        office.id, lambda m: "销号申请" in (m.plain or "")
    )
    assert "附佐证材料1份" in (application.plain or "")
    [closure] = await h.rows(Closure)
    [kept] = await h.rows(Evidence)
    assert kept.report_id == closure.report_id is not None
