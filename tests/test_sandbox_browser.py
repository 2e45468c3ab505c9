"""The sandbox page in a browser: an invite binds a liaison, a reminder comes, a report is stored.

Playwright (a dev dependency from PyPI) drives Debian's Chromium, since Playwright's own browser
download cannot work without network access beyond the package registries. A missing Chromium
is installed with apt-get (we are root in CI); if that is impossible the test is skipped with
the reason, or fails when CI=true. A screenshot lands in tests/artifacts/ (ignored by git).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.config import Settings
from bot.sandbox import PageServer, Sandbox
from db.models import Report

CHROMIUM = Path("/usr/bin/chromium")
CJK_FONT = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
APT_PACKAGES = ["chromium", "fonts-wqy-microhei"]
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
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


def _install_browser() -> str | None:
    """apt-get install Chromium and a CJK font; the reason it could not, or None."""
    apt = shutil.which("apt-get")
    if apt is None:
        return "apt-get is not available to install chromium"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in ([apt, "update", "-qq"], [apt, "install", "-y", "-qq", *APT_PACKAGES]):
        try:
            done = subprocess.run(
                command, env=env, capture_output=True, text=True, timeout=900, check=False
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            return f"{' '.join(command)} failed: {exc}"
        if done.returncode != 0:
            return f"{' '.join(command)} failed: {(done.stderr or done.stdout)[-500:]}"
    return None


@pytest.fixture(scope="session")
def chromium() -> Path:
    """Debian's Chromium, installed on first use."""
    if not CHROMIUM.exists() or not CJK_FONT.exists():
        problem = _install_browser()
        if problem is not None and not CHROMIUM.exists():
            _unavailable(f"Chromium is needed for the browser test: {problem}")
    try:
        import playwright.async_api  # noqa: F401
    except ImportError:
        _unavailable("playwright is not installed (pip install -e '.[dev]')")
    return CHROMIUM


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
    await chat.get_by_role("button", name=UNIT, exact=True).click()
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
    await expect(chat).to_contain_text(f"绑定成功。您已登记为 {UNIT}联络员")
    await expect(page.locator("#menu [data-command=report]")).to_be_visible()

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
