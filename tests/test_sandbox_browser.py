"""The sandbox page in a browser: an invite binds a liaison, a reminder comes, a report is stored.

Playwright (a dev dependency from PyPI) drives Debian's Chromium, since Playwright's own browser
download cannot work without network access beyond the package registries. A missing Chromium
is installed with apt-get (we are root in CI); if that is impossible the test is skipped with
the reason, or fails when CI=true. A screenshot lands in tests/artifacts/ (ignored by git).
"""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.config import Settings
from bot.domain.roles import Role
from bot.sandbox import PageServer, Sandbox, browser
from db.models import Evidence, Report

if TYPE_CHECKING:
    from playwright.async_api import FilePayload, ViewportSize

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
CHROMIUM_ARGS = list(browser.CHROMIUM_ARGS)
START = datetime(2026, 3, 16, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
UNIT = "人社局"
# The step finished and the transcript on screen was fetched after it.
SYNCED = """() => !document.body.dataset.busy
    && document.querySelector('#transcript').dataset.generation
       === document.body.dataset.generation"""
REPORT = "已完成全年新增就业目标的30%，预计6月底前完成过半"


def _unavailable(reason: str) -> None:
    if IN_CI:
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def chromium() -> Path:
    """Debian's Chromium, installed on first use."""
    problem = browser.ensure_browser()
    if problem is not None:
        _unavailable(f"Chromium is needed for the browser test: {problem}")
    try:
        import playwright.async_api  # noqa: F401
    except ImportError:
        _unavailable("playwright is not installed (pip install -e '.[dev]')")
    return browser.CHROMIUM


@pytest.fixture
async def sandbox_url(tmp_path: Path) -> AsyncIterator[tuple[Sandbox, str]]:
    """A sandbox on a temporary database with its page on a free port."""
    settings = Settings(_env_file=None)
    async with Sandbox(
        settings, database_url=f"sqlite+aiosqlite:///{tmp_path / 'sandbox.db'}", start=START
    ) as sandbox:
        server = PageServer(sandbox, "127.0.0.1", 0)
        await server.start()
        try:
            yield sandbox, server.url
        finally:
            await server.stop()


def _artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    ignore = ARTIFACTS / ".gitignore"
    if not ignore.exists():
        ignore.write_text("*\n", encoding="utf-8")
    return ARTIFACTS


async def test_bind_a_liaison_get_a_reminder_and_report(
    chromium: Path, sandbox_url: tuple[Sandbox, str]
) -> None:
    from playwright.async_api import async_playwright, expect

    sandbox, url = sandbox_url
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS)
        page = await browser.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")
        page.set_default_timeout(15_000)
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        try:
            await _flow(page, expect, sandbox, url)
        finally:
            await page.screenshot(path=str(_artifacts() / "sandbox.png"), full_page=True)
            await browser.close()
        assert errors == [], errors


async def _flow(page: Any, expect: Any, sandbox: Sandbox, url: str) -> None:
    await page.goto(url)
    await expect(page.locator("#clock-label")).to_have_text("2026年3月16日 周一 09:00")
    await expect(page.locator("#day-kind")).to_have_text("工作日")

    # The admin creates a liaison invite for a unit with the bot's buttons.
    await page.locator("[data-persona=admin]").click()
    chat = page.locator("#transcript")
    await expect(chat).to_contain_text("您已登记为管理员")
    await expect(page.locator("#menu [data-command=invite]")).to_be_visible()
    await page.locator("#text").fill("/invite")
    await page.locator("#text").press("Enter")
    await chat.get_by_role("button", name="联络员", exact=True).click()
    # The units may come grouped by kind first (市直部门, 乡镇街道, ...).
    unit = chat.get_by_role("button", name=UNIT, exact=True)
    kind = chat.get_by_role("button", name=re.compile("市直部门"))
    await expect(unit.or_(kind).first).to_be_visible()
    if not await unit.count():
        await kind.last.click()
    await unit.last.click()
    link = chat.locator("a.deeplink").last
    await expect(link).to_be_visible()
    code = await link.get_attribute("data-code")
    assert code and re.fullmatch(r"[A-Za-z0-9_\-]{16,64}", code)
    await link.click()  # fills "/start <code>" into the text box

    # A new person redeems it (after saying hello in markup, which stays text).
    await page.locator("#new-person").click()
    await expect(page.locator("#chat-title")).to_have_text("新用户 1")
    await expect(page.locator("#text")).to_have_value(f"/start {code}")
    hello = "<b>你好</b><img src=x onerror=alert(1)>"
    await page.locator("#text").fill(hello)
    await page.locator("#send").click()
    mine = chat.locator(".msg.user").last
    await expect(mine.locator(".bubble")).to_have_text(hello)
    assert await mine.locator("b, img").count() == 0
    await expect(chat.locator(".msg.bot").last).to_contain_text("邀请")
    await page.locator("#text").fill(f"/start {code}")
    await page.locator("#send").click()
    await expect(chat).to_contain_text(re.compile(f"绑定成功.*{UNIT}联络员"))
    await expect(page.locator("#menu [data-command=report]")).to_be_visible()
    # The persona list follows: the new person is now listed as the unit's liaison.
    await expect(page.locator("#personas [data-persona=new1]")).to_contain_text(f"{UNIT}联络员")
    await expect(page.locator("#chat-title")).to_have_text(f"{UNIT}联络员")

    # Workday by workday until the first reminder shows in the liaison's chat.
    reminder = chat.locator(".msg.bot", has_text="尚未报送")
    for _ in range(6):
        await page.locator("[data-step=next_workday]").click()
        await page.wait_for_function(SYNCED)
        if await reminder.count():
            break
    await expect(reminder.first).to_be_visible()
    await expect(page.locator("#clock-label")).to_contain_text("2026年3月20日 周五")

    # Reply to it; pick a task if it covered several; confirm.
    await reminder.first.locator(".reply-link").click()
    await expect(page.locator("#replybar")).to_contain_text("回复：")
    await page.locator("#text").fill(REPORT)
    await page.locator("#text").press("Enter")
    await expect(chat.locator(".msg.user").last).to_contain_text(REPORT)
    confirm = chat.get_by_role("button", name="确认提交")
    picker = chat.locator(".msg.bot").last.get_by_role("button", name=re.compile(r"^第\d+项"))
    await expect(confirm.or_(picker.first)).to_be_visible()
    if not await confirm.count():
        await picker.first.click()
    await confirm.click()
    await expect(chat).to_contain_text("已提交。")
    await expect(chat).to_contain_text("进展已于")

    # The report is in the database (the pump is sequential: /history is answered after it).
    await page.locator("#menu [data-command=history]").click()
    await expect(chat.locator(".msg.bot").last).not_to_contain_text("已提交。")
    async with sandbox.services.sessionmaker() as session:
        reports = (await session.scalars(select(Report))).all()
    assert len(reports) == 1
    assert reports[0].text == REPORT
    assert reports[0].cycle_key == "2026-03"
    assert reports[0].tg_user_id == sandbox.persona("new1").user_id


# --- every role through a month, on a desktop and on phones (issue 20) --------------------------

VIEWPORTS: dict[str, ViewportSize] = {
    "desktop": {"width": 1280, "height": 900},
    "phone": {"width": 390, "height": 844},
}
# Other phone widths the page must fit, checked after the walk on the 390 px phone.
PHONE_WIDTHS: tuple[ViewportSize, ...] = (
    {"width": 360, "height": 740},
    {"width": 430, "height": 932},
)
# The page must never scroll sideways: the document no wider than the window.
OVERFLOW = """() => Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)
    - window.innerWidth"""
# What each role's chat shows after a month (the bot's texts, matched loosely).
ROLE_SCREENS = {
    "fgj": re.compile("尚未报送"),
    "office": re.compile("进展摘要"),
    "leader": re.compile("分管任务进展摘要"),
    "admin": re.compile("管理员"),
    "group": re.compile("通报"),
}
SHOWN = """key => !document.body.dataset.busy
    && document.querySelector('#transcript').dataset.persona === key"""


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
async def test_every_role_through_a_month_without_sideways_scrolling(
    chromium: Path, sandbox_url: tuple[Sandbox, str], viewport: str
) -> None:
    from playwright.async_api import async_playwright, expect

    sandbox, url = sandbox_url
    phone = viewport == "phone"
    async with async_playwright() as pw:
        browser_ = await pw.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS)
        page = await browser_.new_page(viewport=VIEWPORTS[viewport], locale="zh-CN")
        page.set_default_timeout(15_000)
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        try:
            await _walk(page, expect, sandbox, url, phone=phone)
            if phone:
                for size in PHONE_WIDTHS:
                    await page.set_viewport_size(size)
                    for key in ROLE_SCREENS:
                        await _show(page, expect, key, phone=True)
                        await _fits(page, f"{key} at {size['width']}px")
        finally:
            await page.screenshot(path=str(_artifacts() / f"sandbox-{viewport}.png"))
            await browser_.close()
        assert errors == [], errors


async def _no_overflow(page: Any, where: str) -> None:
    excess = await page.evaluate(OVERFLOW)
    assert excess <= 0, f"{where}: the page is {excess}px wider than the window"


async def _fits(page: Any, where: str) -> None:
    """No sideways scrolling, every message within the window, the text box wide enough."""
    await _no_overflow(page, where)
    width = page.viewport_size["width"]
    # Also to the left, which no scroll bar shows (a right-aligned bubble grows leftwards).
    outside = await page.evaluate(
        """width => [...document.querySelectorAll(
                '#transcript .msg, #transcript .bubble, #transcript .keyboard')]
            .map(el => el.getBoundingClientRect())
            .filter(r => r.width && (r.left < -0.5 || r.right > width + 0.5))
            .map(r => [Math.round(r.left), Math.round(r.right)])""",
        width,
    )
    assert outside == [], f"{where}: messages outside the window {outside}"
    text = await page.locator("#text").bounding_box()
    assert text is None or text["width"] >= 0.6 * width, f"{where}: text box {text}"


async def _show(page: Any, expect: Any, key: str, *, phone: bool) -> None:
    """Switch to a persona as a person would: on a phone through the drawer."""
    button = page.locator(f"#personas [data-persona={key}]")
    if phone:
        await page.locator("#drawer-open").click()
        await expect(button).to_be_in_viewport()
        await _no_overflow(page, f"drawer open for {key}")
        await button.click()
        await expect(page.locator("body")).not_to_have_class(re.compile("drawer-open"))
    else:
        await button.click()
    await page.wait_for_function(SHOWN, arg=key)
    await _no_overflow(page, key)


async def _walk(page: Any, expect: Any, sandbox: Sandbox, url: str, *, phone: bool) -> None:
    await page.goto(url)
    await expect(page.locator("#clock-label")).to_have_text("2026年3月16日 周一 09:00")
    await expect(page.locator("#limits-note")).to_contain_text("沙盒中群组限速已加快")
    await expect(page.locator("#drawer-open")).to_be_visible(visible=phone)
    # The personas: a sidebar on a desktop, a closed drawer on a phone.
    first = page.locator("#personas [data-persona=fgj]")
    await (expect(first).not_to_be_in_viewport() if phone else expect(first).to_be_in_viewport())
    await _fits(page, "start")

    # The admin's invite menu (its buttons stay within the width).
    await _show(page, expect, "admin", phone=phone)
    await page.locator("#text").fill("/invite")
    await page.locator("#text").press("Enter")
    chat = page.locator("#transcript")
    await expect(chat.get_by_role("button", name="联络员", exact=True)).to_be_visible()
    await _fits(page, "admin's invite menu")

    # Two weeks, then the month's button, each role looked at after each step.
    for step in ("week", "week", "month"):
        before = await page.locator("#clock-label").text_content()
        labels: set[str] = set()
        await page.locator(f"[data-step={step}]").click()
        while await page.evaluate("() => document.body.dataset.busy === '1'"):
            labels.add(str(await page.locator("#clock-label").text_content()))
            await page.wait_for_timeout(40)
        await page.wait_for_function(SYNCED)
        await _no_overflow(page, f"after {step}")
        for key in ROLE_SCREENS:
            await _show(page, expect, key, phone=phone)
    # The label moved while the month ran, not only at its end.
    assert len(labels - {before}) >= 3, labels
    await expect(page.locator("#clock-label")).to_have_text("2026年4月30日 周四 09:00")

    # Each role's chat shows what it is for, within the width.
    for key, pattern in ROLE_SCREENS.items():
        await _show(page, expect, key, phone=phone)
        await expect(chat.locator(".msg.bot, .service", has_text=pattern).last).to_be_visible()
        await _fits(page, key)
    # The messages kept their own times: the liaison's reminders at 09:00 on different days.
    await _show(page, expect, "fgj", phone=phone)
    times = await chat.locator(".msg.bot", has_text="尚未报送").locator(".meta").all_text_contents()
    assert len({t[:11] for t in times}) == len(times) > 3, times
    assert all(" 09:00" in t for t in times), times

    # A reply quoting the reminder, and the bot's answer with its buttons, fit too.
    await chat.locator(".msg.bot", has_text="尚未报送").last.locator(".reply-link").click()
    await page.locator("#text").fill(REPORT)
    await page.locator("#text").press("Enter")
    await expect(chat.locator(".msg.user").last.locator(".quote")).to_be_visible()
    answer = chat.locator(".msg.user").last.locator("xpath=following-sibling::div[1]")
    await expect(answer.locator(".keyboard button").first).to_be_visible()
    await _fits(page, "a reply and the bot's buttons")

    # A new person bound with an invite is then listed as what they were bound as.
    code = await sandbox.invite(Role.LIAISON, unit=UNIT)
    assert code is not None
    if phone:
        await page.locator("#drawer-open").click()
    await page.locator("#new-person").click()
    await expect(page.locator("#chat-title")).to_have_text("新用户 1")
    await page.locator("#text").fill(f"/start {code}")
    await page.locator("#send").click()
    await expect(chat).to_contain_text("绑定成功")
    await expect(page.locator("#chat-title")).to_have_text(f"{UNIT}联络员")
    if phone:
        await page.locator("#drawer-open").click()
    listed = page.locator("#personas [data-persona=new1]")
    await expect(listed).to_contain_text(f"{UNIT}联络员")
    await expect(listed).to_be_in_viewport()
    await _no_overflow(page, "after binding")
    if phone:
        await page.locator("#drawer-close").click()
        await expect(listed).not_to_be_in_viewport()


# --- 佐证材料: a file attached from the page (issue 21) ----------------------------------------


async def test_a_liaison_attaches_a_file_to_a_task_card_from_the_page(
    chromium: Path, sandbox_url: tuple[Sandbox, str]
) -> None:
    from playwright.async_api import async_playwright, expect

    sandbox, url = sandbox_url
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS)
        page = await browser.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")
        page.set_default_timeout(15_000)
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        try:
            await page.goto(url)
            await page.locator("#personas [data-persona=fgj]").click()
            chat = page.locator("#transcript")
            await page.locator("#text").fill("/task 6")
            await page.locator("#text").press("Enter")
            card = chat.locator(".msg.bot", has_text="第6项任务").last
            await expect(card).to_be_visible()
            # Reply to the card with a PDF.
            await card.locator(".reply-link").click()
            pdf: FilePayload = {
                "name": "开工证明.pdf",
                "mimeType": "application/pdf",
                "buffer": b"%PDF",
            }
            await page.locator("#file").set_input_files(files=[pdf])
            await expect(chat.locator(".msg.user").last).to_contain_text("开工证明.pdf")
            await expect(chat.locator(".msg.bot").last).to_contain_text(
                "作为发改局第6项任务的佐证材料保存"
            )
            # The card now offers it; pressing sends it back as a file to download.
            await page.locator("#text").fill("/task 6")
            await page.locator("#text").press("Enter")
            await chat.get_by_role("button", name="查看佐证材料（1）").last.click()
            await expect(chat.locator(".msg.bot a.doc").last).to_contain_text("开工证明.pdf")
        finally:
            await page.screenshot(path=str(_artifacts() / "sandbox-evidence.png"), full_page=True)
            await browser.close()
        assert errors == [], errors
    async with sandbox.services.sessionmaker() as session:
        files = (await session.scalars(select(Evidence))).all()
    assert [(f.file_name, f.kind) for f in files] == [("开工证明.pdf", "document")]
