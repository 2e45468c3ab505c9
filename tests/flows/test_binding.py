"""Binding: an admin creates an invite with buttons, a liaison binds, a second account fails."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot import texts
from bot.domain.roles import Role
from db.models import AuditEntry, Contact, InboxUpdate, Invite, Unit
from tests.flows.test_office import buttons
from tests.harness import LINK, Harness


async def test_admin_invites_liaison_who_binds_and_code_is_single_use(h: Harness) -> None:
    admin = await h.bound("管理员甲", Role.ADMIN)

    menu = await h.command(admin, "invite")
    assert "请选择邀请对象的身份" in (menu.plain or "")
    _, kinds = await h.press(admin, menu, "联络员")
    assert "或直接发送单位名称" in (kinds.plain or "")
    assert buttons(kinds) == [
        "市直部门（42）", "乡镇街道（26）", "开发区（3）", "企业（7）", "其他单位（2）", "‹ 返回"
    ]  # fmt: skip
    # The towns in the notice's order (溪美街道 first), two a row, with a way back.
    _, towns = await h.press(admin, kinds, "乡镇街道（26）")
    assert buttons(towns)[:4] == ["溪美街道", "柳城街道", "美林街道", "省新镇"]
    assert len(towns.buttons[0]) == 2 and "‹ 返回" in buttons(towns)
    _, kinds = await h.press(admin, towns, "‹ 返回")
    _, page = await h.press(admin, kinds, "市直部门（42）")
    assert buttons(page)[0] == "发改局"  # the notice names it first
    _, created = await h.press(admin, page, "发改局")
    text = created.plain or ""
    assert "发改局联络员邀请链接" in text
    match = LINK.search(text)
    assert match is not None
    code = match.group(1)

    liaison = await h.person("联络员乙")
    welcome = await h.start(liaison, code)
    body = welcome.plain or ""
    assert "绑定成功" in body
    assert "发改局" in body
    assert "本单位牵头任务" in body
    assert "第6项" in body  # 发改局 leads task 6 (项目巩固年)
    assert "下次进展报送截止时间：3月25日（周三）17:00" in body

    intruder = await h.person("他人丙")
    refused = await h.start(intruder, code)
    assert (
        refused.plain
        == "该邀请链接已被使用，每个链接仅能使用一次。如需绑定，请联系管理员重新获取。"
    )

    contacts = await h.rows(Contact)
    assert {(c.tg_user_id, c.role) for c in contacts} == {
        (admin.id, "admin"),
        (liaison.id, "liaison"),
    }
    invites = await h.rows(Invite)
    assert all(code not in (i.code_hash) for i in invites)
    audit = await h.rows(AuditEntry)
    assert [a.action for a in audit if a.actor_user_id == intruder.id] == ["bind_failed"]
    assert not any(code in repr(a.detail) or code in (a.target or "") for a in audit)


async def test_admin_finds_a_unit_by_typing_and_a_second_liaison_is_asked_about(
    h: Harness,
) -> None:
    admin = await h.bound("管理员甲", Role.ADMIN)
    first = await h.bound("工信局联络员甲", Role.LIAISON, unit="工信局")
    # Typing part of a name finds units (and leaders): no liaison hint for an admin.
    found = await h.say(admin, "工信")
    assert "名称含「工信」的单位和领导如下" in (found.plain or "")
    assert buttons(found) == ["工信局联络员", "‹ 返回"]
    none = await h.say(admin, "不存在的局")  # not a name: the usual hint, which says how
    assert texts.SEARCH_HELP in (none.plain or "")
    none = await h.command(admin, "invite", "不存在的局")
    assert "未找到名称含「不存在的局」的单位或领导" in (none.plain or "")
    by_command = await h.command(admin, "invite", "吴振")
    assert "吴振强（分管领导）" in buttons(by_command)
    # 工信局 has a liaison: replace them, or add a deputy?
    _, asked = await h.press(admin, found, "工信局联络员")
    assert "工信局已绑定：工信局联络员甲（联络员）" in (asked.plain or "")
    assert buttons(asked) == [texts.REPLACE_LIAISON, texts.ADD_DEPUTY, "‹ 返回"]
    _, created = await h.press(admin, asked, texts.ADD_DEPUTY)
    assert "工信局副联络员邀请链接" in (created.plain or "")
    match = LINK.search(created.plain or "")
    assert match is not None
    deputy = await h.person("工信局联络员乙")
    welcome = await h.start(deputy, match.group(1))
    assert "绑定成功" in (welcome.plain or "") and "副联络员" in (welcome.plain or "")
    listed = await h.command(admin, "contacts")
    assert "工信局联络员" in (listed.plain or "") and "工信局副联络员" in (listed.plain or "")
    liaisons = sorted(
        (c.tg_user_id, c.deputy, c.active) for c in await h.rows(Contact) if c.role == "liaison"
    )
    assert liaisons == [(first.id, False, True), (deputy.id, True, True)]

    # Replacing: the first liaison's binding ends at once, a new main liaison's link is made.
    again = await h.say(admin, "工信局")
    _, asked = await h.press(admin, again, "工信局联络员")
    assert "工信局联络员乙（副联络员）" in (asked.plain or "")
    _, replaced = await h.press(admin, asked, texts.REPLACE_LIAISON)
    assert "工信局联络员邀请链接" in (replaced.plain or "")
    active = {(c.tg_user_id, c.deputy) for c in await h.rows(Contact) if c.active}
    assert (first.id, False) not in active and (deputy.id, True) in active


async def test_a_main_liaison_invite_redeemed_after_the_seat_was_taken_binds_a_deputy(
    h: Harness,
) -> None:
    code = await h.invite_code(Role.LIAISON, unit="工信局")
    # Meanwhile someone took the main seat (here written directly: a second invite for the
    # seat would have revoked this one).
    async with h.sessionmaker() as session, session.begin():
        unit = await session.scalar(select(Unit.id).where(Unit.name == "工信局"))
        session.add(
            Contact(tg_user_id=999, chat_id=999, name="甲", role="liaison", unit_id=unit,
                    created_at=h.clock.now())
        )  # fmt: skip
    late = await h.person("工信局联络员乙")
    welcome = await h.start(late, code)
    assert "副联络员" in (welcome.plain or "")
    row = next(c for c in await h.rows(Contact) if c.tg_user_id == late.id)
    assert row.deputy is True


async def test_unbound_account_sees_only_how_to_bind(h: Harness) -> None:
    stranger = await h.person("陌生人")
    answer = await h.start(stranger)
    assert "尚未绑定" in (answer.plain or "")
    for command in ("tasks", "report", "overdue", "invite", "help"):
        h.clock.advance(timedelta(minutes=11))  # past the quiet window (a few answers each)
        reply = await h.command(stranger, command)
        assert "尚未绑定" in (reply.plain or ""), command
    h.clock.advance(timedelta(minutes=11))
    reply = await h.say(stranger, "你好")
    assert "尚未绑定" in (reply.plain or "")
    assert await h.rows(Contact) == []


async def test_expired_and_unknown_codes(h: Harness) -> None:
    code = await h.invite_code(Role.LIAISON, unit="工信局", ttl=timedelta(hours=1))
    h.clock.advance(timedelta(hours=2))
    late = await h.person("迟到者")
    answer = await h.start(late, code)
    assert answer.plain == "该邀请链接已过期，请联系管理员重新获取。"
    answer = await h.start(late, "A" * 24)
    assert answer.plain == "邀请链接无效，请核对后重试，或联系管理员重新获取。"
    assert await h.rows(Contact) == []


async def test_repeated_failures_are_slowed_down(h: Harness) -> None:
    guesser = await h.person("猜测者")
    for i in range(5):
        answer = await h.start(guesser, f"{'x' * 20}{i:04d}")
        assert "无效" in (answer.plain or "")
    code = await h.invite_code(Role.LIAISON, unit="工信局")
    answer = await h.start(guesser, code)
    assert "验证失败次数过多" in (answer.plain or "")
    assert await h.rows(Contact) == []
    h.clock.advance(timedelta(minutes=16))
    # The code was refused while the guesser was throttled, so it is burnt for everyone
    # (issue 19, finding 3): a new link is needed.
    burnt = await h.start(guesser, code)
    assert burnt.plain == texts.BIND_FAILED["revoked"]
    other = await h.person("另一人")
    assert (await h.start(other, code)).plain == texts.BIND_FAILED["revoked"]
    answer = await h.start(guesser, await h.invite_code(Role.LIAISON, unit="工信局"))
    assert "绑定成功" in (answer.plain or "")


async def test_links_are_replaced_listed_and_revoked(h: Harness) -> None:
    """A second link for a unit revokes the first; /invites lists and revokes open links; a
    handled /start's code is not kept in the inbox (issue 19, finding 3)."""
    admin = await h.bound("管理员", Role.ADMIN)
    first = await h.invite_code(Role.LIAISON, unit="工信局")
    second = await h.invite_code(Role.LIAISON, unit="工信局")
    other = await h.invite_code(Role.LIAISON, unit="商务局")
    someone = await h.person("甲")
    assert (await h.start(someone, first)).plain == texts.BIND_FAILED["revoked"]
    listing = await h.command(admin, "invites")
    body = listing.plain or ""
    assert "工信局" in body and "商务局" in body and body.count("#") == 2
    newest = body.splitlines()[1]
    assert "商务局" in newest  # newest first: the 商务局 link
    button = next(b for b in buttons(listing) if b.startswith("撤销 #"))
    answer, _ = await h.press(admin, listing, button)
    assert answer == texts.invites_revoked(1)
    assert (await h.start(someone, other)).plain == texts.BIND_FAILED["revoked"]
    assert "绑定成功" in ((await h.start(someone, second)).plain or "")
    await h.settle()
    stored = [
        u.payload["message"].get("text", "")
        for u in await h.rows(InboxUpdate)
        if "message" in u.payload
    ]
    assert not any(code in text for text in stored for code in (first, second, other))
    assert "/start <code removed>" in stored


async def test_a_stranger_is_answered_a_few_times_then_not(h: Harness) -> None:
    """An account that is not bound gets UNBOUND_ANSWERS answers per window, then silence;
    its messages are still taken (and nothing is recorded for them) (issue 19, finding 1)."""
    stranger = await h.person("陌生人")
    for word in ("你好", "/tasks", "/report"):
        assert (await h.say(stranger, word)).plain == texts.UNBOUND
    before = len(await h.people.bot_messages(stranger.id))
    for n in range(20):
        await h.people.send_message(stranger.id, f"第{n}条")
    await h.settle()
    assert len(await h.people.bot_messages(stranger.id)) == before
    assert not [a for a in await h.rows(AuditEntry) if a.action == "denied"]
    # Their content is not kept: the inbox holds the ids, not the 20 messages.
    kept = [u.payload for u in await h.rows(InboxUpdate) if u.sender_id == stranger.id]
    assert sum(1 for p in kept if p == {}) == 20
    h.clock.advance(timedelta(minutes=11))
    assert (await h.say(stranger, "还在吗")).plain == texts.UNBOUND


async def test_stray_text_from_a_liaison_gets_a_few_hints_then_none(h: Harness) -> None:
    """A stream of text that is no report gets the hint a few times per window, not line by
    line (issue 19, finding 1: a bound person's flood must not keep the others waiting)."""
    liaison = await h.bound("发改局联络员", Role.LIAISON, unit="发改局")
    for n in range(3):
        assert (await h.say(liaison, f"测试{n}")).plain == texts.TEXT_HINT
    before = len(await h.people.bot_messages(liaison.id))
    for n in range(10):
        await h.people.send_message(liaison.id, f"再测{n}")
    await h.settle()
    assert len(await h.people.bot_messages(liaison.id)) == before
    tasks = await h.command(liaison, "tasks")  # commands are answered as ever
    assert "发改局任务" in (tasks.plain or "")
