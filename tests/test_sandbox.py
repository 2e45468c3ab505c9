"""The sandbox without a browser: clock steps, the JSON API, personas, restart and a report."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import sys
from collections.abc import AsyncIterator, Callable
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from bot.config import ConfigError, Settings
from bot.domain.roles import Role
from bot.domain.workcal import WorkCalendar
from bot.emulator.limits import RateLimiter
from bot.sandbox import run_sandbox
from bot.sandbox.server import PageServer, make_app
from bot.sandbox.steps import (
    MAX_STEPPED_SPAN,
    Step,
    add_month,
    checkpoints,
    describe,
    target_for,
)
from bot.sandbox.world import GROUP_PER_MINUTE, LIMITS_NOTE, PERSONAS, Sandbox
from db import outbox
from db.models import Report

ROOT = Path(__file__).resolve().parent.parent
TZ = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 3, 16, 9, 0, tzinfo=TZ)  # a Monday, ten days before the deadline
REAL_NOW = datetime(2026, 11, 27, 10, 0, 42, tzinfo=TZ)
CAL = WorkCalendar()
EXAMPLE_CHART = ROOT / "docs" / "examples" / "chart-leader.png"
NINE = time(9, 0)
HALF_EIGHT = time(8, 30)


def _settings() -> Settings:
    return Settings(_env_file=None)


# --- pure clock arithmetic ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("step", "now", "expected"),
    [
        (Step.HOUR, START, datetime(2026, 3, 16, 10, 0, tzinfo=TZ)),
        (Step.DAY, START, datetime(2026, 3, 17, 9, 0, tzinfo=TZ)),
        (Step.WEEK, START, datetime(2026, 3, 23, 9, 0, tzinfo=TZ)),
        (Step.MONTH, START, datetime(2026, 4, 16, 9, 0, tzinfo=TZ)),
        # Friday afternoon → Monday 09:00
        (
            Step.NEXT_WORKDAY,
            datetime(2026, 3, 20, 15, 0, tzinfo=TZ),
            datetime(2026, 3, 23, 9, 0, tzinfo=TZ),
        ),
        # Before the National Day holiday → the first workday after it
        (
            Step.NEXT_WORKDAY,
            datetime(2026, 9, 30, 10, 0, tzinfo=TZ),
            datetime.combine(CAL.add_workdays(date(2026, 9, 30), 1), NINE, tzinfo=TZ),
        ),
        (Step.TODAY, START, datetime(2026, 11, 27, 14, 5, tzinfo=TZ)),
    ],
)
def test_target_for(step: Step, now: datetime, expected: datetime) -> None:
    real_now = datetime(2026, 11, 27, 14, 5, 33, tzinfo=TZ)
    got = target_for(step, now, tz=TZ, calendar=CAL, reminder_time=NINE, real_now=real_now)
    assert got == expected


def test_today_behind_the_simulated_clock_does_not_move() -> None:
    real_now = START - timedelta(days=3)
    assert (
        target_for(Step.TODAY, START, tz=TZ, calendar=CAL, reminder_time=NINE, real_now=real_now)
        is None
    )


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (datetime(2026, 1, 31, 10, 0, tzinfo=TZ), datetime(2026, 2, 28, 10, 0, tzinfo=TZ)),
        (datetime(2026, 12, 15, 9, 0, tzinfo=TZ), datetime(2027, 1, 15, 9, 0, tzinfo=TZ)),
    ],
)
def test_add_month(moment: datetime, expected: datetime) -> None:
    assert add_month(moment) == expected


def test_checkpoints_step_through_each_days_job_times() -> None:
    end = START + timedelta(days=2, hours=1)
    points = checkpoints(START, end, tz=TZ, job_times=(NINE, HALF_EIGHT))
    assert [p.strftime("%m-%d %H:%M") for p in points] == [
        "03-17 08:30",
        "03-17 09:00",
        "03-18 08:30",
        "03-18 09:00",
        "03-18 10:00",
    ]


def test_checkpoints_small_step_is_just_the_end() -> None:
    end = START + timedelta(hours=1)
    points = checkpoints(START, end, tz=TZ, job_times=(NINE, HALF_EIGHT))
    assert points == [end]
    assert checkpoints(START, START, tz=TZ, job_times=(NINE,)) == []


def test_a_long_jump_catches_up_once_then_steps_through_its_last_two_months() -> None:
    end = datetime(2026, 12, 3, 23, 40, tzinfo=TZ)
    points = checkpoints(START, end, tz=TZ, job_times=(NINE, HALF_EIGHT))
    resume = datetime.combine((end - MAX_STEPPED_SPAN).date(), time(0), tzinfo=TZ)
    assert points[0] == resume  # the bot was down until then: one catch-up run
    assert points[1:3] == [resume.replace(hour=8, minute=30), resume.replace(hour=9)]
    assert points[-3:] == [end.replace(hour=8, minute=30), end.replace(hour=9, minute=0), end]
    assert len(points) == 1 + 2 * (MAX_STEPPED_SPAN.days + 1) + 1
    # Just past the limit, the catch-up point would not be after the start: plain stepping.
    near = START + MAX_STEPPED_SPAN + timedelta(hours=1)
    assert checkpoints(START, near, tz=TZ, job_times=(NINE,))[0] == START + timedelta(days=1)


def test_describe_names_weekday_workday_and_holiday() -> None:
    facts = describe(START, tz=TZ, calendar=CAL)
    assert facts["label"] == "2026年3月16日 周一 09:00"
    assert facts["workday"] is True
    assert facts["day_kind"] == "工作日"
    national_day = describe(datetime(2026, 10, 1, 9, 0, tzinfo=TZ), tz=TZ, calendar=CAL)
    assert national_day["workday"] is False
    assert national_day["day_kind"] == "休息日（国庆节）"
    saturday = describe(datetime(2026, 3, 21, 9, 0, tzinfo=TZ), tz=TZ, calendar=CAL)
    assert saturday["weekday"] == "周六"
    assert saturday["day_kind"] == "休息日"
    makeup = next(
        d
        for d in (date(2026, 1, 1) + timedelta(days=n) for n in range(365))
        if d.weekday() >= 5 and CAL.is_workday(d)
    )
    facts = describe(datetime.combine(makeup, NINE, tzinfo=TZ), tz=TZ, calendar=CAL)
    assert facts["workday"] is True
    assert "调休上班" in str(facts["day_kind"])


# --- the running sandbox through its JSON API ---------------------------------------------------


@pytest.fixture
async def api(tmp_path: Path) -> AsyncIterator[tuple[Sandbox, TestClient[Any, Any]]]:
    """A started sandbox on a temporary SQLite file, and a client for its page server."""
    sandbox = Sandbox(
        _settings(),
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'sandbox.db'}",
        start=START,
        real_now=lambda: REAL_NOW,
    )
    async with sandbox:
        client = TestClient(TestServer(make_app(sandbox)))
        await client.start_server()
        try:
            yield sandbox, client
        finally:
            await client.close()


async def _json(resp: Any, status: int = 200) -> Any:
    assert resp.status == status, await resp.text()
    return await resp.json()


async def _transcript(client: TestClient[Any, Any], persona: str, **query: Any) -> Any:
    return await _json(await client.get("/api/transcript", params={"persona": persona, **query}))


Message = dict[str, Any]


async def _wait_for(
    client: TestClient[Any, Any], persona: str, found: Callable[[Message], bool]
) -> Message:
    """Long-poll the persona's transcript until a message satisfies `found`; return it."""
    data = await _transcript(client, persona)
    for _ in range(20):
        for m in data["messages"]:
            if found(m):
                return dict(m)
        data = await _transcript(
            client, persona, since=data["version"], clock=data["clock"]["generation"], wait=5
        )
    raise AssertionError(f"no such message for {persona}: {data['messages'][-3:]}")


def _bot_after(after: int, contains: str = "") -> Callable[[Message], bool]:
    return lambda m: bool(m["from_bot"] and m["id"] > after and contains in m["text"])


def _matches(text: str, label: str | re.Pattern[str]) -> bool:
    return text == label if isinstance(label, str) else label.search(text) is not None


def _button(message: Message, label: str | re.Pattern[str]) -> str:
    return next(b["data"] for row in message["buttons"] for b in row if _matches(b["text"], label))


def _has_button(label: str | re.Pattern[str]) -> Callable[[Message], bool]:
    return lambda m: any(_matches(b["text"], label) for row in m["buttons"] for b in row)


async def _send(client: TestClient[Any, Any], persona: str, text: str, **extra: Any) -> int:
    body = await _json(
        await client.post("/api/send", json={"persona": persona, "text": text, **extra})
    )
    return int(body["message_id"])


async def _press(
    client: TestClient[Any, Any], persona: str, message: Message, label: str | re.Pattern[str]
) -> dict[str, Any]:
    data = _button(message, label)
    return dict(
        await _json(
            await client.post(
                "/api/press", json={"persona": persona, "message_id": message["id"], "data": data}
            )
        )
    )


async def test_page_and_state(api: tuple[Sandbox, TestClient[Any, Any]]) -> None:
    sandbox, client = api
    page = await client.get("/")
    assert page.status == 200
    assert page.charset == "utf-8"
    html = await page.text()
    assert '<meta charset="utf-8">' in html
    assert "http" not in html.split("<script>")[0].replace("http-equiv", "")  # no external assets

    state = await _json(await client.get("/api/state"))
    assert state["clock"]["label"] == "2026年3月16日 周一 09:00"
    assert state["clock"]["workday"] is True
    assert [p["key"] for p in state["personas"]] == [*(s.key for s in PERSONAS), "group"]
    assert [s["step"] for s in state["steps"]] == [s.value for s in Step]
    personas = await _json(await client.get("/api/personas"))
    assert personas == state["personas"]

    # The admin added the bot to a work group, which it registered; the page only reads it.
    group = await _transcript(client, "group")
    assert group["persona"]["kind"] == "group"
    assert group["messages"][0]["text"] == "督办助手 加入了群聊"
    assert "登记为工作群" in group["messages"][1]["text"]
    assert group["commands"] == []
    refused = await client.post("/api/send", json={"persona": "group", "text": "大家好"})
    assert "仅供查看" in (await _json(refused, 400))["error"]

    # Every persona was bound through a real invite and /start.
    for spec in PERSONAS:
        data = await _transcript(client, spec.key)
        first, answer = data["messages"][0], data["messages"][1]
        assert first["text"].startswith("/start ") and not first["from_bot"]
        assert "绑定成功" in answer["text"] and answer["from_bot"]
        assert answer["at"] == "03-16 09:00"
    liaison = await _transcript(client, "fgj")
    assert "report" in [c["command"] for c in liaison["commands"]]
    admin = await _transcript(client, "admin")
    assert "invite" in [c["command"] for c in admin["commands"]]
    assert sandbox.imported_register


async def test_bad_requests_get_short_answers(api: tuple[Sandbox, TestClient[Any, Any]]) -> None:
    _, client = api
    cases = [
        await client.get("/api/transcript", params={"persona": "nobody"}),
        await client.post("/api/send", json={"persona": "fgj", "text": "   "}),
        await client.post("/api/send", json={"persona": "fgj", "text": "字" * 5000}),
        await client.post("/api/send", json={"persona": "nobody", "text": "你好"}),
        await client.post("/api/send", data="persona=fgj&text=hi"),  # not JSON
        await client.post("/api/send", json=["not", "an", "object"]),
        await client.post("/api/press", json={"persona": "fgj", "message_id": 2, "data": "x:1"}),
        await client.post("/api/press", json={"persona": "fgj", "message_id": "x", "data": "x"}),
        await client.post("/api/clock/advance", json={"step": "century"}),
        await client.get("/api/document", params={"persona": "fgj", "message_id": "2"}),
    ]
    for resp in cases:
        body = await _json(resp, 400)
        assert body["ok"] is False and body["error"]


async def test_new_person_is_unbound_until_an_admin_invite(
    api: tuple[Sandbox, TestClient[Any, Any]],
) -> None:
    _, client = api
    created = await _json(await client.post("/api/new-person", json={}))
    key = created["persona"]["key"]
    assert created["persona"]["group"] == "未绑定"
    assert (await _transcript(client, key))["messages"] == []
    sent = await _send(client, key, "/tasks")
    assert "邀请" in (await _wait_for(client, key, _bot_after(sent)))["text"]

    # The admin makes a liaison invite with the bot's buttons; the new person redeems it.
    sent = await _send(client, "admin", "/invite")
    menu = await _wait_for(client, "admin", _bot_after(sent))
    await _press(client, "admin", menu, "联络员")
    # The units may come grouped by kind first (市直部门（42）, 乡镇街道（26）, ...).
    kind = _has_button(re.compile("^市直部门"))
    units = await _wait_for(client, "admin", lambda m: _has_button("人社局")(m) or kind(m))
    if not _has_button("人社局")(units):
        await _press(client, "admin", units, re.compile("^市直部门"))
        units = await _wait_for(client, "admin", _has_button("人社局"))
    await _press(client, "admin", units, "人社局")
    link = await _wait_for(client, "admin", _bot_after(sent, "?start="))
    code = link["text"].split("?start=")[1].split()[0]
    sent = await _send(client, key, f"/start {code}")
    bound = await _wait_for(client, key, _bot_after(sent))
    assert "绑定成功" in bound["text"] and "人社局" in bound["text"]
    data = await _transcript(client, key)
    assert "report" in [c["command"] for c in data["commands"]]


async def test_a_week_brings_a_reminder_and_a_reply_stores_a_report(
    api: tuple[Sandbox, TestClient[Any, Any]],
) -> None:
    sandbox, client = api
    moved = await _json(await client.post("/api/clock/advance", json={"step": "week"}))
    assert moved["clock"]["label"] == "2026年3月23日 周一 09:00"
    assert moved["sent"] >= 3
    reminder = await _wait_for(client, "fgj", _bot_after(0, "尚未报送"))
    assert reminder["at"] == "03-20 09:00"  # three workdays before the 25th, at 09:00

    text = "一季度地区生产总值增长5.2%，预计6月底前完成年度目标过半"
    sent = await _send(client, "fgj", text, reply_to=reminder["id"])
    answer = await _wait_for(client, "fgj", _bot_after(sent))
    if not _has_button("确认提交")(answer):
        # The reminder covered several tasks: pick task 1, then the card comes.
        label = next(
            b["text"] for row in answer["buttons"] for b in row if b["text"].startswith("第1项")
        )
        await _press(client, "fgj", answer, label)
        answer = await _wait_for(client, "fgj", _has_button("确认提交"))
    pressed = await _press(client, "fgj", answer, "确认提交")
    assert pressed["answered"] is True
    stored = await _wait_for(client, "fgj", lambda m: m["id"] == answer["id"] and not m["buttons"])
    assert "第1项" in stored["text"]
    # The pump handles updates one by one: once /history is answered, the press is committed.
    sent = await _send(client, "fgj", "/history")
    await _wait_for(client, "fgj", _bot_after(sent))
    async with sandbox.services.sessionmaker() as session:
        reports = (await session.scalars(select(Report))).all()
    assert len(reports) == 1
    assert reports[0].cycle_key == "2026-03"
    assert reports[0].tg_user_id == sandbox.persona("fgj").user_id
    assert reports[0].text == text


async def test_transcript_long_poll_wakes_on_the_clock_and_on_messages(
    api: tuple[Sandbox, TestClient[Any, Any]],
) -> None:
    sandbox, client = api
    loop = asyncio.get_running_loop()
    first = await _transcript(client, "gxj")
    since = {"since": first["version"], "clock": first["clock"]["generation"]}

    started = loop.time()
    idle = await _transcript(client, "gxj", **since, wait=0.3)
    assert 0.25 <= loop.time() - started < 3
    assert idle["version"] == first["version"]

    started = loop.time()
    waiting = asyncio.create_task(_transcript(client, "gxj", **since, wait=20))
    await asyncio.sleep(0.2)
    await sandbox.advance(Step.HOUR)
    moved = await waiting
    assert loop.time() - started < 10
    assert moved["clock"]["generation"] > first["clock"]["generation"]
    assert moved["clock"]["time"] == "10:00"

    now = await _transcript(client, "gxj")  # the step has finished: nothing else will move
    since = {"since": now["version"], "clock": now["clock"]["generation"]}
    waiting = asyncio.create_task(_transcript(client, "gxj", **since, wait=20))
    await asyncio.sleep(0.2)
    await _send(client, "gxj", "/help")
    woke = await waiting
    assert woke["version"] > now["version"]
    assert "/help" in [m["text"] for m in woke["messages"]]


async def test_jump_to_today_keeps_each_messages_own_time(
    api: tuple[Sandbox, TestClient[Any, Any]],
) -> None:
    """Eight months ahead: the bot was down until late September, then ran day by day, so each
    reminder and digest shows the simulated time it was sent at, not the jump's end."""
    sandbox, client = api
    state = await _json(await client.get("/api/state"))
    assert state["clock"]["real_today_ahead"] is True
    started = asyncio.get_running_loop().time()
    moved = await _json(await client.post("/api/clock/advance", json={"step": "today"}))
    assert asyncio.get_running_loop().time() - started < 20
    assert moved["checkpoints"] > 100
    assert moved["clock"]["label"] == "2026年11月27日 周五 10:00"
    liaison = [m for m in (await _transcript(client, "fgj"))["messages"] if m["from_bot"]][1:]
    assert len(liaison) > 20
    assert {m["at"][-5:] for m in liaison} == {"09:00"}  # the reminder time, every one
    assert len({m["at"] for m in liaison}) == len(liaison)  # one a day, each on its own day
    messages = [m for m in (await _transcript(client, "office"))["messages"] if m["from_bot"]]
    # The charts of the start's digest and of the day the step stops on, not of the ones it
    # passes over.
    charts = [m["at"] for m in messages if m["photo"]]
    assert charts[1:] == ["11-27 08:30"] and len(charts) == 2
    office = [m for m in messages if not m["photo"]][2:]
    assert {m["at"][-5:] for m in office} == {"08:30"}  # the digest's time
    assert "11-27 08:30" in {m["at"] for m in office}
    assert all(m["at"] >= "09-26" for m in liaison + office)  # nothing sent while "down"
    assert moved["clock"]["real_today_ahead"] is False
    again = await _json(await client.post("/api/clock/advance", json={"step": "today"}), 400)
    assert "晚于今天" in again["error"]
    assert sandbox.clock.now() == datetime(2026, 11, 27, 10, 0, tzinfo=TZ)
    # A Friday: no 通报 (weekly on Mondays and the first workday after a deadline, 11-26).
    group = await _transcript(client, "group")
    assert not any(m["at"] == "11-27 10:00" for m in group["messages"])


async def test_documents_download_with_their_name(
    api: tuple[Sandbox, TestClient[Any, Any]],
) -> None:
    sandbox, client = api
    assert sandbox.runtime is not None and sandbox.runtime.application is not None
    payload = b"PK\x03\x04 not really a workbook"
    await sandbox.runtime.application.bot.send_document(
        sandbox.persona("office").user_id, document=payload, filename="督查台账.xlsx"
    )
    message = await _wait_for(
        client, "office", lambda m: m["document"] is not None and not m["photo"]
    )
    assert message["document"]["filename"] == "督查台账.xlsx"
    resp = await client.get(message["document"]["url"])
    assert resp.status == 200
    assert await resp.read() == payload
    assert "filename*=UTF-8''%E7%9D%A3" in resp.headers["Content-Disposition"]
    # Another persona cannot fetch it through their own chat.
    other = await client.get(
        "/api/document", params={"persona": "fgj", "message_id": str(message["id"])}
    )
    assert other.status == 400


async def test_photos_from_the_bot_are_shown(
    api: tuple[Sandbox, TestClient[Any, Any]],
) -> None:
    """A photo the bot sends (a digest's chart) is marked so the page shows it as a picture."""
    sandbox, client = api
    assert sandbox.runtime is not None and sandbox.runtime.application is not None
    png = EXAMPLE_CHART.read_bytes()  # a small file, once
    await sandbox.runtime.application.bot.send_photo(
        sandbox.persona("leader").user_id, photo=png, filename="chart.png", caption="分管任务进展图"
    )
    message = await _wait_for(client, "leader", lambda m: m["text"] == "分管任务进展图")
    assert message["photo"]
    assert message["text"] == "分管任务进展图" and message["document"] is not None
    resp = await client.get(message["document"]["url"])
    assert resp.status == 200 and await resp.read() == png


async def test_restart_continues_with_the_same_personas_and_time(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'sandbox.db'}"
    async with Sandbox(_settings(), database_url=url, start=START) as first:
        await first.advance(Step.DAY)
        await first.new_person()
        ids = {k: p.chat for k, p in first.personas.items()}
        moved_to = first.clock.now()
    async with Sandbox(_settings(), database_url=url) as again:
        assert again.clock.now() == moved_to
        assert {k: p.chat for k, p in again.personas.items()} == ids
        assert not again.imported_register
        # The bot still knows them: the liaison's menu is back, the chat is open.
        assert "report" in [c["command"] for c in await again.commands("fgj")]
        await again.send("fgj", "/tasks")
        reply = await again.control.wait_for_bot_message(again.persona("fgj").user_id)
        assert "发改局" in (reply.plain or "")
        # A new person after the restart does not reuse an id.
        newer = await again.new_person()
        assert newer.user_id not in ids.values()
        # The work group is there again with the bot in it, and not registered twice.
        assert "group" in again.personas
        assert (await again.transcript("group")) == []


async def test_the_api_says_when_it_is_still_starting(tmp_path: Path) -> None:
    sandbox = Sandbox(_settings(), database_url=f"sqlite+aiosqlite:///{tmp_path / 'x.db'}")
    async with TestClient(TestServer(make_app(sandbox))) as client:
        assert (await client.get("/")).status == 200
        body = await _json(await client.get("/api/state"), 503)
        assert body["error"] == "沙盒正在启动，请稍候"


# --- run_sandbox: the command line's entry point ------------------------------------------------


async def test_a_port_in_use_is_one_readable_error_before_anything_starts(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        settings = Settings(_env_file=None, sandbox_port=port)
        with pytest.raises(ConfigError, match="SANDBOX_PORT"):
            await run_sandbox(settings, database_url=f"sqlite+aiosqlite:///{tmp_path / 'x.db'}")
    assert not (tmp_path / "x.db").exists()


async def test_run_sandbox_prints_its_address_and_stops_on_sigterm(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    database = f"sqlite+aiosqlite:///{tmp_path / 'sandbox.db'}"
    code = (
        "import asyncio\n"
        "from bot.config import Settings\n"
        "from bot.sandbox import run_sandbox\n"
        f"asyncio.run(run_sandbox(Settings(_env_file=None, sandbox_port={port}),"
        f" database_url={database!r}))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "BOT_TOKEN"}
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        code,
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None
        line = (await asyncio.wait_for(proc.stdout.readline(), 60)).decode()
        assert f"http://127.0.0.1:{port}/" in line, line
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"http://127.0.0.1:{port}/api/state") as resp,
        ):
            state = await resp.json()
        assert state["clock"]["label"] == "2026年3月16日 周一 09:00"
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), 30) == 0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


async def test_a_foreign_host_header_is_refused(tmp_path: Path) -> None:
    """DNS rebinding: a page on another name that resolves to 127.0.0.1 gets 403, the loopback
    names get the sandbox (issue 19, finding 12)."""
    sandbox = Sandbox(_settings(), database_url=f"sqlite+aiosqlite:///{tmp_path / 'x.db'}")
    server = PageServer(sandbox, "127.0.0.1", 0)
    await server.start()
    try:
        async with aiohttp.ClientSession() as session:
            base = f"http://127.0.0.1:{server.port}/"
            async with session.get(base, headers={"Host": "evil.example:80"}) as resp:
                assert resp.status == 403
            async with session.post(
                base + "api/send", json={}, headers={"Host": f"rebind.example:{server.port}"}
            ) as resp:
                assert resp.status == 403
            for name in ("127.0.0.1", "localhost"):
                async with session.get(base, headers={"Host": f"{name}:{server.port}"}) as resp:
                    assert resp.status == 200
    finally:
        await server.stop()


async def test_the_sandbox_stays_on_the_loopback_address_unless_allowed(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, sandbox_host="0.0.0.0", sandbox_port=1)
    with pytest.raises(ConfigError, match="SANDBOX_ALLOW_REMOTE"):
        await run_sandbox(settings, database_url=f"sqlite+aiosqlite:///{tmp_path / 'x.db'}")
    assert not (tmp_path / "x.db").exists()


# --- issue 20: pace, progress, persona labels ---------------------------------------------------


async def test_the_work_group_gets_many_messages_in_seconds_within_the_sandboxs_limits(
    api: tuple[Sandbox, TestClient[Any, Any]],
) -> None:
    """Telegram's 20 messages a minute per group made a month with more than 20 通报 parts take
    a minute; the sandbox speeds the group limit up, the emulator enforces it, the page says so."""
    sandbox, client = api
    group = sandbox.persona("group").chat
    before = len(await sandbox.control.transcript(group, with_data=False))
    async with sandbox.services.sessionmaker() as session, session.begin():
        for n in range(45):
            await outbox.enqueue(
                session,
                kind="circular",
                chat_id=group,
                contact_id=None,
                text=f"通报 第{n + 1}条",
                now=sandbox.clock.now(),
                key=f"test-circular-{n}",
            )
    await sandbox.control.reset_stats()
    started = asyncio.get_running_loop().time()
    await sandbox.run_jobs()
    assert asyncio.get_running_loop().time() - started < 5
    after = await sandbox.control.transcript(group, with_data=False)
    assert [m.plain for m in after[before:]] == [f"通报 第{n + 1}条" for n in range(45)]
    stats = await sandbox.control.stats()
    assert stats["violations"] == 0
    assert sandbox.server is not None
    limits = sandbox.server.emulator.limiter.config
    assert limits.enabled and limits.group_per_minute == GROUP_PER_MINUTE

    state = await _json(await client.get("/api/state"))
    assert state["limits_note"] == LIMITS_NOTE
    assert "沙盒中群组限速已加快" in state["limits_note"]


async def test_the_emulator_refuses_a_group_burst_beyond_the_sandboxs_limit(
    api: tuple[Sandbox, TestClient[Any, Any]],
) -> None:
    """The limit is real: a client that does not pace itself gets Telegram's 429."""
    sandbox, _ = api
    assert sandbox.server is not None
    limiter = RateLimiter(sandbox.server.emulator.limiter.config)  # the same, on its own clock
    group = sandbox.persona("group").chat
    for _ in range(GROUP_PER_MINUTE):
        assert limiter.check(group, is_private=False, now=1000.0) == 0
    assert limiter.check(group, is_private=False, now=1000.0) > 0
    assert limiter.check(group, is_private=False, now=1061.0) == 0


async def test_a_month_takes_seconds_and_the_clock_moves_while_it_runs(
    api: tuple[Sandbox, TestClient[Any, Any]],
) -> None:
    _, client = api
    seen: list[dict[str, Any]] = []

    async def watch() -> None:
        while True:
            clock = (await _json(await client.get("/api/state")))["clock"]
            if clock["busy"]:
                seen.append(clock)
            await asyncio.sleep(0.02)

    watcher = asyncio.create_task(watch())
    started = asyncio.get_running_loop().time()
    try:
        moved = await _json(await client.post("/api/clock/advance", json={"step": "month"}))
    finally:
        watcher.cancel()
        await asyncio.gather(watcher, return_exceptions=True)
    elapsed = asyncio.get_running_loop().time() - started
    assert elapsed < 10, elapsed
    assert moved["clock"]["label"] == "2026年4月16日 周四 09:00"
    assert moved["clock"]["busy"] is False and moved["clock"]["progress"] is None
    assert moved["sent"] > 50
    # While it ran, the page could read the clock moving and how far the step had got.
    moments = [c["iso"] for c in seen]
    assert len(set(moments)) >= 3, moments
    assert moments == sorted(moments)
    progress = [c["progress"] for c in seen]
    assert all(p["to"] == "4月16日 09:00" for p in progress)
    assert all(p["total"] == moved["checkpoints"] for p in progress)
    done = [p["done"] for p in progress]
    assert done == sorted(done) and done[-1] > done[0]


async def test_a_new_person_is_listed_as_what_they_were_bound_as(
    api: tuple[Sandbox, TestClient[Any, Any]],
) -> None:
    sandbox, client = api
    created = await _json(await client.post("/api/new-person", json={}))
    key = created["persona"]["key"]
    assert (created["persona"]["label"], created["persona"]["group"]) == ("新用户 1", "未绑定")
    code = await sandbox.invite(Role.LIAISON, unit="人社局")
    assert code is not None
    sent = await _send(client, key, f"/start {code}")
    await _wait_for(client, key, _bot_after(sent, "绑定成功"))

    def listed(personas: list[dict[str, Any]]) -> tuple[str, str, str]:
        p = next(p for p in personas if p["key"] == key)
        return p["label"], p["group"], p["name"]

    expected = ("人社局联络员", "联络员", "新用户1")
    assert listed((await _transcript(client, key))["personas"]) == expected
    assert listed((await _json(await client.get("/api/state")))["personas"]) == expected
    assert listed(await _json(await client.get("/api/personas"))) == expected
    # The preset personas keep their labels under the same rule.
    state = await _json(await client.get("/api/state"))
    presets = {p["key"]: (p["label"], p["group"]) for p in state["personas"]}
    assert {s.key: (s.label, s.group) for s in PERSONAS}.items() <= presets.items()

    # A second new person bound as a leader; the labels survive a restart.
    second = await sandbox.new_person()
    code = await sandbox.invite(Role.LEADER, leader="吴振强")
    assert code is not None
    await sandbox.send(second.key, f"/start {code}")
    await sandbox.control.wait_for_bot_message(second.user_id, timeout=15.0)
    data = await _transcript(client, second.key)
    assert listed(data["personas"])[:2] == ("人社局联络员", "联络员")
    p = next(p for p in data["personas"] if p["key"] == second.key)
    assert (p["label"], p["group"]) == ("分管领导 吴振强", "分管领导")
