"""Screenshots of each role's main screens in the sandbox, at desktop and phone size.

``python -m bot.sandbox.screenshots`` (``make screenshots``) starts a fresh sandbox on a
temporary database, acts in it through the page as a person would (the admin's invite, a
liaison's 签收, reminder and report card, the office's digest and /overdue, a leader's digest,
the work group's 通报, a 提请协调 answered by a leader's 批示 as the liaison and the office's
task card show it, then the rest of the loop on that task — 延期申请 approved, a report returned
with a comment, 申请销号 and 销号 — and the card with all of it, the 考评 ranking and the
monthly 通报, the persona drawer on a phone) and writes ``docs/screenshots/<size>-<scene>.png``
(the visible window, not the whole page, so each stays small). The bot's texts are matched
loosely: a scene whose message cannot be found stops the run with its name.

Chromium comes from Debian (``bot.sandbox.browser``), installed with apt-get when missing.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import re
import sys
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from bot.config import Settings
from bot.sandbox import browser
from bot.sandbox.server import PageServer
from bot.sandbox.steps import Step
from bot.sandbox.world import ROOT, Sandbox

if TYPE_CHECKING:
    from playwright.async_api import FilePayload, Locator, Page, ViewportSize

OUT = ROOT / "docs" / "screenshots"
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Size:
    """A window the screenshots are taken in."""

    name: str
    viewport: ViewportSize
    scale: float
    phone: bool


SIZES = (
    Size("desktop", {"width": 1280, "height": 800}, 1.0, phone=False),
    Size("phone", {"width": 390, "height": 844}, 1.5, phone=True),
)
REPORT = "一季度地区生产总值增长5.2%，完成年度目标的26%，预计6月底前完成过半，无需协调事项"
LOOP_TASK = 16  # led by 发改局 with 工信局 co-responsible, supervised by 吴振强
COORDINATION = "低效用地再开发试点涉及多宗地块权属核查，需资源局、财政局协同，请领导协调。"
INSTRUCTION = "请抓紧推进，月底前报送方案。"
LOOP_REPORT = "要素市场化配置改革方案已起草，完成年度目标的40%。"
RETURN_COMMENT = "未说明土地要素改革的具体进展，请补充后重新报送。"
CLOSE_OUT = "改革试点任务已全部完成，实施方案已印发，佐证材料另附。"
WAIT_MS = 15_000


class SceneError(RuntimeError):
    """A screen could not be reached (the bot's texts or flow changed)."""


class Shooter:
    """Pages of one sandbox at each size; acts on the first, photographs all."""

    def __init__(self, sandbox: Sandbox, pages: dict[str, Page], out: Path) -> None:
        self.sandbox = sandbox
        self.pages = pages
        self.out = out
        self.act = next(iter(pages.values()))  # the desktop page does the clicking
        self.written: list[Path] = []

    async def show(self, key: str) -> None:
        """Every page shows this persona's chat, up to date."""
        for page in self.pages.values():
            await page.evaluate(
                "key => { location.hash = key; choose(key); setDrawer(false); }", key
            )
        await self.settle(key)

    async def settle(self, key: str | None = None) -> None:
        """Wait until no step runs and each page shows its chat as the emulator has it now."""
        version = int(await self.sandbox.control.call("version"))
        for page in self.pages.values():
            await page.wait_for_function(
                """([key, version]) => {
                    const box = document.querySelector('#transcript');
                    return !document.body.dataset.busy && Number(box.dataset.version) >= version
                        && (key === null || box.dataset.persona === key);
                }""",
                arg=[key, version],
                timeout=WAIT_MS,
            )

    async def shoot(
        self, scene: str, find: Callable[[Page], Locator] | None = None, *, top: bool = True
    ) -> None:
        """Photograph each page; `find` picks the message to bring into view (top or bottom)."""
        for size, page in self.pages.items():
            if find is not None:
                target = find(page)
                try:
                    await target.wait_for(timeout=WAIT_MS)
                except Exception as exc:
                    raise SceneError(f"{scene}: the message was not found") from exc
                await target.evaluate(
                    """(el, top) => {
                        const box = document.querySelector('#transcript');
                        box.scrollTop = top
                            ? el.offsetTop - box.offsetTop - 8
                            : el.offsetTop - box.offsetTop + el.offsetHeight - box.clientHeight + 8;
                    }""",
                    top,
                )
            await page.evaluate("() => document.querySelector('#toast').classList.remove('on')")
            path = self.out / f"{size}-{scene}.png"
            await page.screenshot(path=str(path), animations="disabled", caret="initial")
            self.written.append(path)

    async def type(self, text: str) -> None:
        """The acting page writes `text` in the current chat."""
        await self.act.locator("#text").fill(text)
        await self.act.locator("#text").press("Enter")

    async def press(self, label: str | re.Pattern[str]) -> None:
        """The acting page presses the newest button with this label."""
        button = self.act.locator("#transcript .keyboard button", has_text=label).last
        try:
            await button.click(timeout=WAIT_MS)
        except Exception as exc:
            raise SceneError(f"no button {label!r} in the chat") from exc

    async def command(self, text: str) -> None:
        """The acting page writes `text` and waits for the bot's first answer to it."""
        messages = self.act.locator("#transcript .msg")
        before = await messages.count()
        await self.type(text)
        try:
            await messages.nth(before + 1).wait_for(timeout=WAIT_MS)
        except Exception as exc:
            raise SceneError(f"no answer to {text!r}") from exc

    async def advance_until(self, step: Step, found: Callable[[], Awaitable[bool]]) -> None:
        """Move the clock step by step (at most 10) until `found` says so."""
        for _ in range(10):
            await self.sandbox.advance(step)
            await self.settle()
            if await found():
                return
        raise SceneError(f"nothing found after ten steps of {step.value}")


def bot_message(page: Page, pattern: str) -> Locator:
    """The newest message from the bot whose text matches `pattern`."""
    return page.locator("#transcript .msg.bot", has_text=re.compile(pattern)).last


def chart(page: Page) -> Locator:
    """The newest picture from the bot (a digest's chart), once it has loaded."""
    return page.locator("#transcript .msg.bot", has=page.locator("img.photo[data-loaded]")).last


async def scenes(shot: Shooter) -> None:
    """Each role's main screens, in the order the simulated month brings them."""
    act = shot.act
    chat = act.locator("#transcript")

    # The admin: /invite, a liaison for a unit, the link.
    await shot.show("admin")
    await shot.type("/invite")
    await shot.press(re.compile("^联络员$"))
    pressed: str | None = None
    for _ in range(4):
        # A unit, or first the kind of unit (the bot's texts, matched loosely). The answer to
        # the last press may still be on its way: wait until the keyboard offers something
        # new, or the link is there.
        wanted: str | None = None
        names: list[str] = []
        for _ in range(75):
            await shot.settle("admin")
            if await chat.locator("a.deeplink").count():
                break
            buttons = chat.locator(".msg.bot").last.locator(".keyboard button")
            names = [n.strip() for n in await buttons.all_text_contents()]
            wanted = next(
                (n for prefix in ("人社局", "市直部门") for n in names if n.startswith(prefix)),
                None,
            )
            if wanted is not None and wanted != pressed:
                break
            await asyncio.sleep(0.2)
        if await chat.locator("a.deeplink").count():
            break
        if wanted is None or wanted == pressed:
            raise SceneError(f"admin-invite: neither 人社局 nor 市直部门 among {names}")
        await shot.press(re.compile(f"^{re.escape(wanted)}$"))
        pressed = wanted
    await shot.settle("admin")
    await shot.shoot("admin-invite", lambda p: p.locator("#transcript a.deeplink").last, top=False)

    # A liaison: the welcome asks for 签收 of the unit's lead tasks; the button acknowledges all.
    await shot.show("fgj")
    await shot.press(re.compile(r"^签收全部\d+项任务$"))
    await shot.settle("fgj")
    await shot.shoot("liaison-acknowledge", lambda p: bot_message(p, "✅ 已于.+签收第"), top=False)

    # The reminder three workdays before the deadline, a reply, the report card.
    await shot.advance_until(
        Step.NEXT_WORKDAY, lambda: _has(act, "#transcript .msg.bot", "尚未报送")
    )
    await shot.shoot("liaison-reminder", lambda p: bot_message(p, "尚未报送"))
    await (
        act.locator("#transcript .msg.bot", has_text="尚未报送").last.locator(".reply-link").click()
    )
    await shot.type(REPORT)
    confirm = chat.get_by_role("button", name="确认提交")
    picker = chat.locator(".msg.bot").last.locator(".keyboard button", has_text=re.compile("^第"))
    try:
        await confirm.or_(picker.first).first.wait_for(timeout=WAIT_MS)
    except Exception as exc:
        raise SceneError("liaison-report-card: no card after the reply") from exc
    if not await confirm.count():
        await picker.first.click()
        await confirm.wait_for(timeout=WAIT_MS)
    await shot.settle("fgj")
    await shot.shoot(
        "liaison-report-card",
        lambda p: p.locator("#transcript .msg.bot", has=p.get_by_role("button", name="确认提交")),
        top=False,
    )
    await confirm.click()
    await shot.settle("fgj")

    # After the deadline: the office's and the leader's digest, the group's 通报, /overdue.
    await shot.show("group")
    await shot.advance_until(
        Step.NEXT_WORKDAY, lambda: _has(act, "#transcript .msg.bot", "逾期未报")
    )
    await shot.shoot("group-circular", lambda p: bot_message(p, "通报"))
    await shot.show("office")
    await shot.shoot("office-digest", lambda p: bot_message(p, "进展摘要"))
    await shot.show("leader")
    await shot.shoot("leader-digest", lambda p: bot_message(p, "进展摘要"))
    await shot.shoot("leader-chart", chart, top=False)
    await shot.show("office")
    before = await chat.locator(".msg").count()
    await shot.type("/overdue")
    await act.locator("#transcript .msg").nth(before + 1).wait_for(timeout=WAIT_MS)
    await shot.settle("office")
    await shot.shoot("office-overdue", lambda p: p.locator("#transcript .msg.bot").last)

    # 提请协调 and 批示: a co-responsible unit's liaison asks for coordination on the task, its
    # leader answers from the task card, the lead unit's liaison and the office's card show it.
    await shot.show("gxj")
    await shot.command(f"/task {LOOP_TASK}")
    await shot.press(re.compile("^提请协调$"))
    await shot.type(COORDINATION)
    await bot_message(act, "协调请求已记入任务卡片").wait_for(timeout=WAIT_MS)
    await shot.show("leader")
    await bot_message(act, "提请协调").wait_for(timeout=WAIT_MS)
    await shot.command(f"/task {LOOP_TASK}")
    await shot.press(re.compile("^批示$"))
    await shot.type(INSTRUCTION)
    await shot.settle("leader")
    await shot.shoot(
        "leader-instruction", lambda p: bot_message(p, "批示已记入任务卡片"), top=False
    )
    await shot.show("fgj")  # the outbox's sender delivers it within a second
    await shot.shoot("liaison-instruction", lambda p: bot_message(p, "领导批示"), top=False)
    await shot.show("office")
    await shot.command(f"/task {LOOP_TASK}")
    await shot.settle("office")
    await shot.shoot(
        "office-card-loop",
        lambda p: p.locator("#transcript .msg.bot").last.filter(has_text="领导批示"),
        top=False,
    )

    await _loop_scenes(shot)

    # What the office hands upward: the 考评 ranking under /units, the month's 通报 (Word).
    await shot.show("office")
    await shot.command("/units")
    await shot.press(re.compile("^考评排名$"))
    await bot_message(act, "考评排名　").wait_for(timeout=WAIT_MS)
    await shot.settle("office")
    await shot.shoot("office-ranking", lambda p: bot_message(p, "考评排名　"), top=True)
    await shot.command("/bulletin")
    await bot_message(act, "推进情况通报").wait_for(timeout=WAIT_MS)
    await shot.settle("office")
    await shot.shoot("office-bulletin", lambda p: bot_message(p, "推进情况通报"), top=False)

    # On a phone: the personas in their drawer.
    for size, page in shot.pages.items():
        if size != "phone":
            continue
        await page.locator("#drawer-open").click()
        await page.locator("#personas [data-persona=fgj]").wait_for()
        await asyncio.sleep(0.4)  # the drawer slides in
        path = shot.out / f"{size}-personas.png"
        await page.screenshot(path=str(path), animations="disabled")
        shot.written.append(path)


async def _loop_scenes(shot: Shooter) -> None:
    """The rest of the loop on the same task: 发改局 asks to move its report's deadline and the
    office approves; it reports, the office returns the report and it is told why; it applies
    to close its part and the office closes it; the office's card shows all of it."""
    act = shot.act
    await shot.show("fgj")
    await shot.command(f"/task {LOOP_TASK}")
    await shot.press(re.compile("^申请延期$"))
    await bot_message(act, "请选择申请延期的事项").wait_for(timeout=WAIT_MS)
    await shot.press(re.compile("报送（现截止"))
    prompt = bot_message(act, "最晚可延至")
    await prompt.wait_for(timeout=WAIT_MS)
    found = re.search(r"现截止(\d+)月(\d+)日.*?最晚可延至(\d+)年", await prompt.inner_text())
    if found is None:
        raise SceneError("liaison-extension: the prompt names no deadline")
    month, day, year = (int(g) for g in found.groups())
    wanted = date(year, month, day) + timedelta(days=5)
    await shot.type(f"延至{wanted.month}月{wanted.day}日，相关统计数据将于月初发布")
    await bot_message(act, "延期申请已提交").wait_for(timeout=WAIT_MS)
    await shot.settle("fgj")
    await shot.shoot("liaison-extension", lambda p: bot_message(p, "延期申请已提交"), top=False)
    await shot.show("office")
    await bot_message(act, "延期申请").wait_for(timeout=WAIT_MS)
    await shot.press(re.compile("^同意延期$"))
    await bot_message(act, "已同意，已通知该单位").wait_for(timeout=WAIT_MS)
    await shot.settle("office")
    await shot.shoot("office-extension", lambda p: bot_message(p, "延期申请"), top=True)

    # A report on the task (a reply to the leader's 批示 about it), returned by the office.
    await shot.show("fgj")
    instruction = bot_message(act, "领导批示　第")
    await instruction.locator(".reply-link").click()
    await shot.type(LOOP_REPORT)
    confirm = act.get_by_role("button", name="确认提交")
    await confirm.last.wait_for(timeout=WAIT_MS)
    await confirm.last.click()
    await shot.settle("fgj")
    await shot.show("office")
    await shot.command(f"/task {LOOP_TASK}")
    await shot.press(re.compile("^退回重报$"))
    await bot_message(act, "请选择要退回的").wait_for(timeout=WAIT_MS)
    await shot.press(re.compile("^发改局"))
    await bot_message(act, "请输入退回意见").wait_for(timeout=WAIT_MS)
    await shot.type(RETURN_COMMENT)
    await bot_message(act, "已退回第").wait_for(timeout=WAIT_MS)
    await shot.settle("office")
    await shot.shoot("office-return", lambda p: bot_message(p, "已退回第"), top=False)
    await shot.show("fgj")
    await shot.shoot("liaison-return", lambda p: bot_message(p, "报送退回"), top=False)

    # 佐证材料: a file sent as a reply to the task card, then 申请销号; the office closes it.
    await shot.command(f"/task {LOOP_TASK}")
    card = bot_message(act, f"第{LOOP_TASK}项任务")
    await card.locator(".reply-link").click()
    evidence: FilePayload = {
        "name": "改革实施方案（印发稿）.pdf",
        "mimeType": "application/pdf",
        "buffer": b"%PDF-1.4\n%sandbox\n",
    }
    await act.locator("#file").set_input_files(files=[evidence])
    await bot_message(act, "佐证材料保存").wait_for(timeout=WAIT_MS)
    await shot.settle("fgj")
    await shot.shoot("liaison-evidence", lambda p: bot_message(p, "佐证材料保存"), top=False)
    await shot.command(f"/task {LOOP_TASK}")
    await shot.press(re.compile("^申请销号$"))
    await bot_message(act, "请简要说明办结情况").wait_for(timeout=WAIT_MS)
    await shot.type(CLOSE_OUT)
    await bot_message(act, "销号申请已提交").wait_for(timeout=WAIT_MS)
    await shot.show("office")
    await bot_message(act, "销号申请").wait_for(timeout=WAIT_MS)
    await shot.press(re.compile("^同意销号$"))
    await bot_message(act, "已销号，已通知该单位").wait_for(timeout=WAIT_MS)
    await shot.settle("office")
    await shot.shoot("office-closeout", lambda p: bot_message(p, "销号申请"), top=True)
    await shot.command(f"/task {LOOP_TASK}")
    await shot.settle("office")
    await shot.shoot(
        "office-card-closeout",
        lambda p: p.locator("#transcript .msg.bot").last.filter(has_text="办结销号"),
        top=False,
    )


async def _has(page: Page, selector: str, text: str) -> bool:
    return bool(await page.locator(selector, has_text=text).count())


async def capture(out: Path, *, sizes: tuple[Size, ...] = SIZES) -> list[Path]:
    """Run the scenes on a fresh sandbox and write the screenshots into the directory `out`
    (which must exist); returns the files. Chromium must be installed (`browser`)."""
    from playwright.async_api import async_playwright

    settings = Settings(_env_file=None)
    with tempfile.TemporaryDirectory() as tmp:
        database = f"sqlite+aiosqlite:///{Path(tmp) / 'sandbox.db'}"
        # A fresh sandbox starts on the register year's 16 March (or the first workday after).
        async with Sandbox(settings, database_url=database) as sandbox:
            server = PageServer(sandbox, "127.0.0.1", 0)
            await server.start()
            try:
                async with async_playwright() as pw:
                    chromium = await pw.chromium.launch(
                        executable_path=str(browser.CHROMIUM), args=list(browser.CHROMIUM_ARGS)
                    )
                    try:
                        pages: dict[str, Page] = {}
                        for size in sizes:
                            page = await chromium.new_page(
                                viewport=size.viewport,
                                device_scale_factor=size.scale,
                                locale="zh-CN",
                                is_mobile=size.phone,
                                has_touch=size.phone,
                            )
                            page.set_default_timeout(WAIT_MS)
                            await page.goto(server.url)
                            await (
                                page.locator("#clock-label")
                                .filter(has_text=re.compile(r"\d"))
                                .wait_for()
                            )
                            pages[size.name] = page
                        shot = Shooter(sandbox, pages, out)
                        try:
                            await scenes(shot)
                        except Exception:
                            # Where it stopped: the acting page's chat, for the error report.
                            shown = await shot.act.locator("#transcript .msg").all_inner_texts()
                            log.error(
                                "the chat when the scenes stopped:\n%s", "\n".join(shown[-6:])
                            )
                            raise
                        return shot.written
                    finally:
                        await chromium.close()
            finally:
                await server.stop()


def main(argv: list[str] | None = None) -> int:
    """The command line: write the screenshots, print each file and its size."""
    parser = argparse.ArgumentParser(
        prog="python -m bot.sandbox.screenshots",
        description="Screenshots of each role's main screens in the sandbox (desktop and phone).",
    )
    parser.add_argument("--out", type=Path, default=OUT, help=f"directory (default {OUT})")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    problem = browser.ensure_browser()
    if problem is not None:
        print(f"截图需要 Chromium：{problem}", file=sys.stderr)
        return 1
    args.out.mkdir(parents=True, exist_ok=True)
    try:
        written = asyncio.run(capture(args.out))
    except SceneError as exc:
        print(f"截图失败：{exc}", file=sys.stderr)
        return 1
    for path in written:
        print(f"{path}  {path.stat().st_size // 1024} KB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
