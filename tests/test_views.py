"""Office and leader views: pure assembly (bot/domain/, texts) and the queries (db/views/).

Dates on the real 2026 calendar: the March deadline is Wed 25 March 17:00; Fri 27 March is two
workdays after it; the April deadline is Fri 24 April. The register is imported on 16 March, so
February (deadline 25 Feb) is never chased.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import texts
from bot.config import Settings
from bot.domain.boards import (
    Board,
    CountingCalendar,
    CycleBook,
    Standing,
    board_status,
    build_board,
)
from bot.domain.cards import build_card
from bot.domain.ledger import ledger_rows
from bot.domain.model import Latest as LatestInfo
from bot.domain.model import ReportInfo, Target, TaskInfo, UnitOnTask
from bot.domain.overdue import (
    ALL,
    Catalogue,
    FilterProblem,
    OverdueFilter,
    decode_filter,
    flatten,
    group_overdue,
    overdue_rows,
    page_of,
    parse_filter,
)
from bot.domain.status import (
    AllReported100,
    Behind,
    CycleDue,
    Difficulty,
    DueSoonUnreported,
    EndDatePassed,
    ExpectedDatePassed,
    FarBehind,
    Light,
    MarkedComplete,
    OnTrack,
    Overdue,
    Reason,
    ScheduleCheck,
    Status,
    StatusThresholds,
)
from bot.domain.summaries import SummaryBuilder, summarize
from bot.domain.units import LiaisonCount, UnitTally, unit_lines
from bot.domain.workcal import WorkCalendar
from db import people, views, years
from db.models import Contact, Report, Task, Unit
from db.register_cache import RegisterCache
from handlers.base import encode
from tests.harness import import_seed

SH = ZoneInfo("Asia/Shanghai")
CAL = WorkCalendar()
SETTINGS = Settings(_env_file=None, bot_token="1:x")
IMPORTED = datetime(2026, 3, 16, 10, 0, tzinfo=SH)
MAR27 = datetime(2026, 3, 27, 10, 0, tzinfo=SH)
MAR = CycleDue("2026-03", date(2026, 3, 25), datetime(2026, 3, 25, 17, 0, tzinfo=SH))
APR = CycleDue("2026-04", date(2026, 4, 24), datetime(2026, 4, 24, 17, 0, tzinfo=SH))

FGJ = UnitOnTask(1, "发改局", "lead", True)
GXJ = UnitOnTask(2, "工信局", "lead", True)
CZJ = UnitOnTask(3, "财政局", "responsible", False)


def task(no: int, *units: UnitOnTask, **kw: Any) -> TaskInfo:
    """A 2026 task with id == no."""
    values: dict[str, Any] = {
        "id": no,
        "year": 2026,
        "no": no,
        "section": "二、2026年重点工作任务",
        "subsection": "（一）全力激发经济动能",
        "text": f"第{no}项任务的内容",
        "leaders": ((1, "吴振强"),),
        "lead_labels": tuple(u.name for u in units if u.lead),
        "responsible_labels": tuple(u.name for u in units if not u.lead),
        "units": units,
    }
    values.update(kw)
    return TaskInfo(**values)


def report(task_id: int, unit: UnitOnTask, at: datetime, **kw: Any) -> ReportInfo:
    values: dict[str, Any] = {
        "id": int(at.timestamp()) % 100000 + task_id,
        "task_id": task_id,
        "unit_id": unit.unit_id,
        "unit": unit.name,
        "cycle_key": "2026-03",
        "text": "已完成投资320亿元",
        "created_at": at,
    }
    values.update(kw)
    return ReportInfo(**values)


def rep(*keys: str) -> dict[str, datetime]:
    """Cycles reported, each on the day the tests' clock reads."""
    return dict.fromkeys(keys, MAR27)


def book(now: datetime = MAR27, since: datetime | None = IMPORTED) -> CycleBook:
    return CycleBook(SETTINGS, CAL, now, since)


# --- Cycles and boards --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "since", "current", "chased"),
    [
        (MAR27, IMPORTED, "2026-04", "2026-03"),
        (datetime(2026, 3, 25, 16, 59, tzinfo=SH), IMPORTED, "2026-03", None),
        (datetime(2026, 3, 25, 17, 1, tzinfo=SH), IMPORTED, "2026-04", "2026-03"),
        (MAR27, datetime(2026, 3, 26, tzinfo=SH), "2026-04", None),  # imported after it
        (datetime(2026, 12, 28, tzinfo=SH), None, None, "2026-12"),  # year's last is past
    ],
)
def test_cycle_book_current_and_chased(
    now: datetime, since: datetime | None, current: str | None, chased: str | None
) -> None:
    cur, last = book(now, since).cycles(task(1, FGJ))
    assert (cur.key if cur else None, last.key if last else None) == (current, chased)


def test_board_owes_missed_and_current_cycles() -> None:
    t = task(1, FGJ, GXJ, CZJ)
    board = build_board(t, {(1, 1): rep("2026-03")}, {}, book(), MAR27.date())
    fgj, gxj, czj = board.units
    assert (fgj.missed, fgj.current, fgj.reported_current) == (None, APR, False)
    assert gxj.missed == MAR
    assert gxj.nudge == MAR
    assert fgj.nudge is None  # April's report is not due yet: its reminders begin 4-21
    assert (czj.current, czj.missed, czj.nudge) == (None, None, None)  # does not owe


def test_completed_task_owes_nothing() -> None:
    t = task(1, FGJ, completed_on=date(2026, 3, 20))
    board = build_board(t, {}, {}, book(), MAR27.date())
    assert board.completed
    assert board.units[0].nudge is None
    assert overdue_rows([board], CAL, MAR27.date()) == []
    status = board_status(board, StatusThresholds(), CAL, MAR27, SH)
    assert status.light is Light.DONE


def test_board_status_uses_latest_reports() -> None:
    t = task(6, FGJ, targets=(Target("完成投资", "amount", 800, "亿元", "at_least"),))
    r = report(6, FGJ, datetime(2026, 3, 20, 9, tzinfo=SH), difficulties=("用地指标需协调",))
    latest = {(6, 1): LatestInfo(r, 40.0, r.created_at, date(2026, 6, 30))}
    board = build_board(t, {(6, 1): rep("2026-03")}, latest, book(), MAR27.date())
    status = board_status(board, StatusThresholds(), CAL, MAR27, SH)
    # 20 March is day 79 of 365: 21.6% elapsed, 40% reported: ahead; the difficulty makes it yellow.
    assert status.light is Light.YELLOW
    assert [type(x) for x in status.reasons] == [Difficulty]


def test_growth_targets_are_not_measured_against_time() -> None:
    growth = task(1, FGJ, targets=(Target("地区生产总值", "growth", 5, "%", "exact"),))
    mixed = task(2, FGJ, targets=(*growth.targets, Target("投资", "amount", 1, "亿元", "at_least")))
    assert not growth.schedule_applies
    assert mixed.schedule_applies
    assert task(3, FGJ).schedule_applies


def test_counting_calendar_agrees_with_the_calendar() -> None:
    counter = CountingCalendar(CAL)
    for start, end in [
        (date(2026, 3, 25), date(2026, 3, 27)),
        (date(2026, 9, 18), date(2026, 10, 12)),
    ]:
        assert counter.workdays_between(start, end) == CAL.workdays_between(start, end)
        assert counter.workdays_between(start, end) == CAL.workdays_between(start, end)
    assert counter.is_workday(date(2026, 9, 20))  # a make-up Sunday


# --- /overdue -------------------------------------------------------------------------------------


def _boards_for_overdue() -> list[Any]:
    b = book()
    tz = MAR27.date()
    quarterly = CycleDue("2026-Q1", date(2026, 3, 20))
    return [
        build_board(task(1, FGJ, GXJ), {}, {}, b, tz),
        build_board(task(2, GXJ), {}, {}, b, tz),
        build_board(task(3, FGJ), {(3, 1): rep("2026-03")}, {}, b, tz),
        # Built by hand: a quarterly cycle missed since an earlier deadline is worse.
        Board(
            task(4, UnitOnTask(5, "住建局", "lead", True)),
            (Standing(UnitOnTask(5, "住建局", "lead", True), missed=quarterly),),
        ),
    ]


def test_overdue_rows_grouped_worst_first() -> None:
    rows = overdue_rows(_boards_for_overdue(), CAL, MAR27.date())
    groups = group_overdue(rows)
    assert [g.unit for g in groups] == ["住建局", "工信局", "发改局"]
    assert [g.worst for g in groups] == [5, 2, 2]  # 20 March (Fri) → 27 March: 5 workdays
    assert [r.task_no for r in groups[1].rows] == [1, 2]
    row = groups[2].rows[0]
    assert (row.task_no, row.cycle_key, row.workdays, row.days, row.leaders) == (
        1,
        "2026-03",
        2,
        2,
        ("吴振强",),
    )
    assert [r.task_no for r in flatten(groups)] == [4, 1, 2, 1]


@pytest.mark.parametrize(
    ("page", "expected"), [(0, (0, 3)), (1, (1, 3)), (7, (2, 3)), (-1, (0, 3))]
)
def test_page_of_clamps(page: int, expected: tuple[int, int]) -> None:
    items = list(range(25))
    chunk, got, pages = page_of(items, page, 10)
    assert (got, pages) == expected
    assert chunk == items[got * 10 : got * 10 + 10]


CATALOGUE = Catalogue(
    units={"发改局": 1, "工信局": 2, "财政局": 3, "发改局（低空办）": 1, "霞美镇": 7, "洪濑镇": 8},
    unit_names={1: "发改局", 2: "工信局", 3: "财政局", 7: "霞美镇", 8: "洪濑镇"},
    groups={"各乡镇（街道）": (50, (7, 8))},
    leaders={"吴振强": 1, "周  全": 5, "周全": 5},
    headings=(
        "一、2026年主要预期目标",
        "二、2026年重点工作任务",
        "（一）全力激发经济动能",
        "（二）全链驱动产业升级",
    ),
    categories=((1, 2, 3), (7, 8), (), (), ()),
)


@pytest.mark.parametrize(
    ("arg", "kind", "label"),
    [
        ("", "all", ""),
        ("发改局", "unit", "发改局"),
        ("发改局（低空办）", "unit", "发改局"),
        ("工信", "unit", "工信局"),
        ("各乡镇（街道）", "group", "各乡镇（街道）"),
        ("吴振强", "leader", "吴振强"),
        ("周 全", "leader", "周全"),
        ("经济", "section", "（一）全力激发经济动能"),
        ("重点工作", "section", "二、2026年重点工作任务"),
        ("2026-03", "cycle", "2026-03"),
        ("3月", "cycle", "2026-03"),
        ("2026年11月", "cycle", "2026-11"),
        ("第一季度", "cycle", "2026-Q1"),
        ("2026-Q2", "cycle", "2026-Q2"),
        ("2026-05-20", "cycle", "2026-05-20"),
        ("乡镇街道", "kind", "乡镇街道"),
        ("乡镇", "kind", "乡镇街道"),
        ("市直部门", "kind", "市直部门"),
        ("企业", "kind", "企业"),
        ("提请关注", "all", ""),
        ("乡镇街道 提请关注", "kind", "乡镇街道"),
        ("工信 逾期5个工作日以上", "unit", "工信局"),
        ("3月，提请关注", "cycle", "2026-03"),
    ],
)
def test_parse_filter(arg: str, kind: str, label: str) -> None:
    found = parse_filter(arg, CATALOGUE, 2026)
    assert isinstance(found, OverdueFilter)
    assert (found.kind, found.label) == (kind, label)
    assert decode_filter(found.code(), CATALOGUE) == found
    data = encode("ovn", 10**9, 10**9, "o", 9999, found.code())
    assert len(data.encode()) <= 64


@pytest.mark.parametrize(
    ("arg", "candidates"),
    [("不存在的单位", ()), ("2026-02-30", ()), ("镇", ("洪濑镇", "霞美镇")), ("<b>", ())],
)
def test_parse_filter_problems(arg: str, candidates: tuple[str, ...]) -> None:
    found = parse_filter(arg, CATALOGUE, 2026)
    assert found == FilterProblem(arg, candidates)
    text = texts.filter_problem(found)
    assert "<b>" not in text


def test_a_word_in_every_heading_is_too_broad() -> None:
    many = Catalogue({}, {}, {}, {}, tuple(f"（{i}）任务" for i in range(20)))
    assert parse_filter("任务", many, 2026) == FilterProblem("任务")
    some = parse_filter("（1", many, 2026)
    assert isinstance(some, OverdueFilter)
    assert len(some.code()) <= 40 and decode_filter(some.code(), many) == some


def test_a_status_word_keeps_rows_overdue_that_long() -> None:
    escalated = parse_filter("乡镇街道 提请关注", CATALOGUE, 2026, escalate_after=4)
    assert isinstance(escalated, OverdueFilter)
    assert (escalated.min_workdays, escalated.unit_ids) == (4, frozenset({7, 8}))
    assert escalated.title == "乡镇街道，逾期4个工作日以上"
    assert escalated.code() == "k1w4" and decode_filter("k1w4", CATALOGUE) == escalated
    five = parse_filter("逾期5个工作日以上", CATALOGUE, 2026)
    assert isinstance(five, OverdueFilter)
    assert five.code() == "w5" and five.title == "逾期5个工作日以上"
    assert parse_filter("不存在 提请关注", CATALOGUE, 2026) == FilterProblem("不存在 提请关注")
    rows = overdue_rows(_boards_for_overdue(), CAL, MAR27.date())
    assert [(r.task_no, r.unit) for r in rows if five.matches(r)] == [(4, "住建局")]


@pytest.mark.parametrize(
    "code", ["x1", "u999", "g1", "l9", "s9", "s", "u1_", "c2026-13", "u" * 50, "k9", "w", "u1w"]
)
def test_decode_filter_refuses(code: str) -> None:
    assert decode_filter(code, CATALOGUE) is None


def test_filters_match_rows() -> None:
    rows = overdue_rows(_boards_for_overdue(), CAL, MAR27.date())

    def kept(arg: str) -> list[tuple[int, str]]:
        flt = parse_filter(arg, CATALOGUE, 2026)
        assert isinstance(flt, OverdueFilter)
        return sorted((r.task_no, r.unit) for r in rows if flt.matches(r))

    assert kept("工信局") == [(1, "工信局"), (2, "工信局")]
    assert kept("吴振强") == kept("") == sorted((r.task_no, r.unit) for r in rows)
    assert kept("周全") == []
    assert kept("2026-Q1") == [(4, "住建局")]
    assert kept("产业升级") == []
    assert ALL.matches(rows[0])


def test_overdue_page_fits_and_escapes() -> None:
    long = "<b>很长的任务</b>" * 40
    boards = [
        build_board(
            task(n, FGJ, text=long, leaders=((1, "吴振强<i>"),)), {}, {}, book(), MAR27.date()
        )
        for n in range(1, 40)
    ]
    groups = group_overdue(overdue_rows(boards, CAL, MAR27.date()))
    items, _, pages = page_of(flatten(groups), 0, texts.OVERDUE_PAGE_ROWS)
    text = texts.overdue_page(
        items,
        {g.unit_id: g for g in groups},
        label="发改局",
        own=False,
        total=39,
        units=1,
        page=1,
        pages=pages,
        as_of=MAR27,
        continued=False,
        nudged={(1, 1): MAR27},
        year=2026,
    )
    assert len(text) < 4096
    assert "<i>" not in text and "<b>很长" not in text
    assert "（今日10:00已催办）" in text
    assert "第1项" in text and "逾期2个工作日" in text


# --- Reasons as sentences -----------------------------------------------------------------------

D = date(2026, 3, 25)


@pytest.mark.parametrize(
    ("reason", "sentence"),
    [
        (MarkedComplete(date(2026, 3, 20)), "已标记完成（3月20日）"),
        (MarkedComplete(None), "已标记完成"),
        (AllReported100(("发改局", "财政局"), D), "牵头单位均已报送完成（发改局、财政局）"),
        (
            Overdue("发改局", "2026-03", D, 2, 2),
            "发改局3月进展逾期2个工作日未报（截止3月25日（周三））",
        ),
        (
            Overdue("发改局", "2026-Q1", D, 0, 0),
            "发改局第一季度进展已过截止时间未报（截止3月25日（周三））",
        ),
        (EndDatePassed(date(2026, 12, 31), 3), "任务期限12月31日已过3天，尚未完成"),
        (
            ExpectedDatePassed("住建局", date(2026, 6, 30), 2, 45.0),
            "住建局预计完成时间6月30日已过2天，当前进度45%",
        ),
        (
            ExpectedDatePassed("住建局", date(2026, 6, 30), 2, None),
            "住建局预计完成时间6月30日已过2天",
        ),
        (
            FarBehind("发改局", 20.0, 49.6, 29.6, D),
            "发改局进度20%，落后序时进度（49.6%）29.6个百分点，严重滞后",
        ),
        (
            Behind("发改局", 38.5, 49.6, 11.1, D),
            "发改局进度38.5%，落后序时进度（49.6%）11.1个百分点",
        ),
        (
            Difficulty("发改局", ("用地指标需协调", "资金缺口"), D),
            "发改局反映困难或需协调：用地指标需协调；资金缺口",
        ),
        (DueSoonUnreported("发改局", "2026-03", D, 0), "发改局3月进展尚未报送，今日截止"),
        (
            DueSoonUnreported("发改局", "2026-03", D, 2),
            "发改局3月进展尚未报送，2个工作日后截止（3月25日（周三））",
        ),
        (
            OnTrack(ScheduleCheck.CHECKED, "发改局", 60.0, 49.6, -10.4, D, ("发改局",)),
            "进度正常（发改局60%，序时进度49.6%）；本期已报：发改局",
        ),
        (
            OnTrack(
                ScheduleCheck.NO_PERCENT, awaiting=("发改局",), next_deadline=D, workdays_left=7
            ),
            "按期推进（暂无进度数据）；下次截止3月25日（周三）",
        ),
        (OnTrack(ScheduleCheck.NOT_APPLICABLE), "按期推进（增长率类目标，不按序时进度比较）"),
    ],
)
def test_reason_sentences(reason: Reason, sentence: str) -> None:
    assert texts.reason_plain(reason) == sentence


def test_reason_line_escapes_unit_names() -> None:
    assert (
        texts.reason_line(Difficulty("<单位>", ("a&b",), D))
        == "· &lt;单位&gt;反映困难或需协调：a&amp;b"
    )
    brief = texts.reason_plain(Overdue("发改局", "2026-03", D, 2, 2), brief=True)
    assert brief == "发改局3月进展逾期2个工作日未报"


# --- Card -----------------------------------------------------------------------------------------


def test_card_targets_latest_quantity_and_escaping() -> None:
    from bot.domain.model import QuantityInfo

    t = task(
        6,
        FGJ,
        GXJ,
        CZJ,
        targets=(
            Target("完成投资", "amount", 800, "亿元", "at_least"),
            Target("竣工项目", "amount", 60, "个", "at_least"),
        ),
    )
    old = report(
        6,
        FGJ,
        datetime(2026, 3, 10, 9, tzinfo=SH),
        quantities=(QuantityInfo("完成投资", 300, "亿元", 37.5),),
    )
    new = report(
        6,
        GXJ,
        datetime(2026, 3, 20, 9, tzinfo=SH),
        text="<script>已完成投资320亿元</script>",
        percent=40.0,
        quantities=(QuantityInfo("完成投资", 320, "亿元", 40.0),),
    )
    latest = {(6, 1): LatestInfo(old), (6, 2): LatestInfo(new, 40.0, new.created_at)}
    board = build_board(
        t, {(6, 1): rep("2026-03"), (6, 2): rep("2026-03")}, latest, book(), MAR27.date()
    )
    status = board_status(board, StatusThresholds(), CAL, MAR27, SH)
    card = build_card(board, status, book(), 2, nudged_today=[1])
    lines = card.targets
    assert (lines[0].value, lines[0].by, lines[0].percent) == (320, "工信局", 40.0)
    assert lines[1].value is None
    # Both reported March; April's reminders begin 4-21, so nothing is urged yet.
    assert card.nudgeable == ()
    text = texts.task_card(card, SH)
    assert "<script>" not in text and "&lt;script&gt;" in text
    assert "完成投资不低于800亿元：最新320亿元（40%），工信局 3月20日" in text
    assert "竣工项目不低于60个：暂无报送" in text
    assert "牵头单位：发改局、工信局" in text and "责任单位：财政局" in text
    assert "今日已催办：发改局" in text
    assert "其余1个责任单位暂无报送。" in text
    assert len(text) < 4096


# --- /units ---------------------------------------------------------------------------------------


def test_unit_lines_unreachable_first_then_lowest_rate() -> None:
    b = book()
    boards = [
        build_board(task(1, FGJ, GXJ), {(1, 1): rep("2026-04")}, {}, b, MAR27.date()),
        build_board(task(2, FGJ), {}, {}, b, MAR27.date()),
    ]
    lines = unit_lines(
        [(1, "发改局"), (2, "工信局"), (3, "财政局")],
        {1: LiaisonCount(2, 2), 2: LiaisonCount(1, 0)},
        boards,
    )
    assert [u.name for u in lines] == ["工信局", "财政局", "发改局"]
    fgj = lines[2]
    assert (fgj.owed, fgj.reported, fgj.overdue, fgj.rate) == (2, 1, 2, 0.5)
    assert lines[1].rate is None
    text = texts.units_overview(lines, MAR27, year=2026, open_key="2026-04")
    assert "工信局：联络员无法送达（1人）｜当期已报0/1｜逾期未报1项" in text
    assert "财政局：未绑定联络员｜当期无报送任务" in text
    assert "发改局：联络员2人｜当期已报1/2｜逾期未报2项" in text
    assert "全市当期（4月）已报1/3（33%）" in text
    assert text.index("无法提醒") < text.index("已绑定可提醒")


# --- Summary --------------------------------------------------------------------------------------


def _statuses(boards: list[Any], now: datetime) -> dict[int, Status]:
    return {b.task.id: board_status(b, StatusThresholds(), CAL, now, SH) for b in boards}


def test_summary_counts_red_reports_and_due_this_week() -> None:
    now = datetime(2026, 3, 23, 8, 30, tzinfo=SH)  # Monday of the week of the March deadline
    b = CycleBook(SETTINGS, CAL, now, datetime(2026, 2, 1, tzinfo=SH))
    day = now.date()
    done = task(9, FGJ, completed_on=date(2026, 3, 1))
    boards = [
        build_board(task(1, FGJ), {}, {}, b, day),  # February missed: red
        build_board(task(2, GXJ), {(2, 2): rep("2026-02", "2026-03")}, {}, b, day),
        build_board(task(3, GXJ), {(3, 2): rep("2026-02")}, {}, b, day),
        build_board(done, {}, {}, b, day),
    ]
    statuses = _statuses(boards, now)
    first = report(2, GXJ, datetime(2026, 3, 20, 10, tzinfo=SH), id=1, text="第一次")
    fixed = report(2, GXJ, datetime(2026, 3, 20, 11, tzinfo=SH), id=2, text="更正后", version=2)
    other = report(99, GXJ, datetime(2026, 3, 20, 12, tzinfo=SH), id=3)  # another leader's task
    since = datetime(2026, 3, 20, 8, 30, tzinfo=SH)
    s = summarize(
        boards, statuses, [first, fixed, other], leader="吴振强", now=now, since=since, tz=SH
    )
    assert s.total == 4
    assert s.counts[Light.RED] == 1 and s.counts[Light.DONE] == 1
    assert [r.task_no for r in s.red] == [1]
    assert [(no, r.text) for no, r in s.reports] == [(2, "更正后")]
    assert len(s.due) == 1
    due = s.due[0]
    assert (due.deadline, due.owed, due.reported, due.unreported_nos) == (
        date(2026, 3, 25),
        3,
        1,
        (1, 3),
    )
    assert (s.overdue_units, s.overdue_rows) == (1, 1)
    text = texts.summary_text(s, SH)
    assert "分管任务进展摘要</b>（吴振强，3月23日（周一））" in text
    assert "🔴红灯1项" in text and "✅已完成1项" in text
    assert "第1项" in text and "发改局2月进展逾期" in text
    assert "3月25日（周三）：应报3个单位·任务，已报1个，待报第1、3项" in text
    assert "新报送</b>（3月20日（周五）08:30以来1条）" in text
    assert len(text) < 1500  # a phone screen or two: readable in 20 seconds


def test_summary_without_deadlines_this_week_names_the_next() -> None:
    b = book()
    boards = [build_board(task(1, FGJ), {(1, 1): rep("2026-03")}, {}, b, MAR27.date())]
    s = summarize(boards, _statuses(boards, MAR27), [], leader=None, now=MAR27, since=MAR27, tz=SH)
    assert s.due == () and s.next_deadline == date(2026, 4, 24)
    text = texts.summary_text(s, SH)
    assert "全市重点任务进展摘要" in text
    assert "本周无报送截止；下一截止4月24日（周五）" in text
    assert "· 暂无" in text


def test_circular_lists_units_worst_first() -> None:
    groups = group_overdue(overdue_rows(_boards_for_overdue(), CAL, MAR27.date()))
    text = texts.circular(groups, MAR27)
    assert "以下3个单位共4个单位·任务进展逾期未报送" in text
    assert "1. 住建局：第4项（第一季度，逾期5个工作日）" in text
    assert "2. 工信局：第1、2项（3月，逾期2个工作日）" in text


# --- Ledger rows ----------------------------------------------------------------------------------


def test_ledger_rows_take_slowest_lead_and_latest_expected() -> None:
    t = task(5, FGJ, GXJ, CZJ)
    a = report(
        5, FGJ, datetime(2026, 3, 20, tzinfo=SH), id=1, percent=60.0, expected=date(2026, 6, 30)
    )
    b_ = report(
        5, GXJ, datetime(2026, 3, 21, tzinfo=SH), id=2, percent=30.0, expected=date(2026, 9, 30)
    )
    c = report(5, CZJ, datetime(2026, 3, 22, tzinfo=SH), id=3, percent=5.0)
    latest = {
        (5, 1): LatestInfo(a, 60.0, a.created_at, a.expected),
        (5, 2): LatestInfo(b_, 30.0, b_.created_at, b_.expected),
        (5, 3): LatestInfo(c, 5.0, c.created_at),
    }
    board = build_board(t, {(5, 1): rep("2026-03")}, latest, book(), MAR27.date())
    rows = ledger_rows([board], _statuses([board], MAR27), {5: 3}, CAL, MAR27.date())
    row = rows[0]
    assert (row.percent, row.expected, row.overdue_workdays, row.nudges) == (
        30.0,
        date(2026, 9, 30),
        2,
        3,
    )
    assert [u for u, _ in row.latest] == ["发改局", "工信局", "财政局"]
    assert row.status.light is Light.RED
    cell = texts.ledger_latest_plain(row.latest, SH)
    assert cell.splitlines()[0] == "发改局（3月20日，3月）：已完成投资320亿元"


# --- Queries (SQLite and PostgreSQL) --------------------------------------------------------------

Maker = async_sessionmaker[AsyncSession]


async def _ids(session: AsyncSession) -> tuple[dict[int, int], dict[str, int]]:
    tasks = {no: tid for tid, no in (await session.execute(select(Task.id, Task.no))).all()}
    units = {name: uid for uid, name in (await session.execute(select(Unit.id, Unit.name))).all()}
    return tasks, units


def add_report(
    session: AsyncSession,
    task_id: int,
    unit_id: int,
    cycle_key: str,
    at: datetime,
    **kw: Any,
) -> None:
    """A stored report, as if confirmed through /report."""
    session.add(
        Report(
            task_id=task_id,
            unit_id=unit_id,
            cycle_key=cycle_key,
            text=kw.pop("text", "进展顺利"),
            source_key=f"test:{task_id}:{unit_id}:{at.isoformat()}:{kw.get('version', 1)}",
            created_at=at,
            **kw,
        )
    )


@pytest.mark.parametrize("responsible", [False, True])
async def test_overdue_query_agrees_with_boards(sessionmaker: Maker, responsible: bool) -> None:
    settings = Settings(_env_file=None, bot_token="1:x", responsible_units_report=responsible)
    await import_seed(sessionmaker, IMPORTED)
    async with sessionmaker() as s, s.begin():
        tasks, units = await _ids(s)
        add_report(s, tasks[6], units["发改局"], "2026-03", datetime(2026, 3, 20, tzinfo=SH))
        add_report(s, tasks[1], units["发改局"], "2026-03", datetime(2026, 3, 24, tzinfo=SH))
        add_report(s, tasks[1], units["溪美街道"], "2026-03", datetime(2026, 3, 24, tzinfo=SH))
        add_report(s, tasks[4], units["工信局"], "2026-04", datetime(2026, 3, 26, tzinfo=SH))
        t2 = await s.get(Task, tasks[2])
        t3 = await s.get(Task, tasks[3])
        t7 = await s.get(Task, tasks[7])
        assert t2 is not None and t3 is not None and t7 is not None
        t2.cycle_kind = "quarterly"  # Q1 due 25 March: chased on 27 March
        t3.completed_on = date(2026, 3, 26)
        t7.cycle_kind = "dates"
        t7.cycle_dates = ["2026-03-20", "2026-06-20"]
    for scope in (views.Scope(2026), views.Scope(2026, leader_ids=(1,))):
        async with sessionmaker() as s:
            fast = await views.overdue(s, scope=scope, now=MAR27, settings=settings, calendar=CAL)
            found = await views.boards(
                s, scope=scope, now=MAR27, settings=settings, calendar=CAL, with_latest=False
            )
        slow = overdue_rows(found.boards, CAL, MAR27.date())

        def key(r: Any) -> tuple[Any, ...]:
            return (r.task_no, r.unit, r.lead, r.cycle_key, r.workdays, r.days, r.leaders)

        assert sorted(map(key, fast)) == sorted(map(key, slow))
        if scope.leader_ids:
            assert all("吴振强" in r.leaders for r in fast)
            continue
        got = {(r.task_no, r.unit): r for r in fast}
        assert (6, "发改局") not in got and (1, "发改局") not in got and (3, "发改局") not in got
        assert (4, "工信局") in got  # an April report does not answer March
        assert got[(2, "财政局")].cycle_key == "2026-Q1"
        assert got[(7, "商务局")].cycle_key == "2026-03-20"
        assert ((1, "柳城街道") in got) is responsible  # a member of 各乡镇（街道）
        assert (1, "溪美街道") not in got


@pytest.mark.parametrize("responsible", [False, True])
async def test_overdue_page_agrees_with_the_whole_list(
    sessionmaker: Maker, responsible: bool
) -> None:
    """overdue_page counts in the database and reads one page: the same page, groups and
    counts as filtering the whole list and paging it (group_overdue → flatten → page_of)."""
    settings = Settings(_env_file=None, bot_token="1:x", responsible_units_report=responsible)
    await import_seed(sessionmaker, IMPORTED)
    async with sessionmaker() as s, s.begin():
        tasks, units = await _ids(s)
        add_report(s, tasks[6], units["发改局"], "2026-03", datetime(2026, 3, 20, tzinfo=SH))
        add_report(s, tasks[1], units["溪美街道"], "2026-03", datetime(2026, 3, 24, tzinfo=SH))
        add_report(s, tasks[9], units["工信局"], "2026-03", datetime(2026, 3, 24, tzinfo=SH))
        t2 = await s.get(Task, tasks[2])
        t3 = await s.get(Task, tasks[3])
        t7 = await s.get(Task, tasks[7])
        assert t2 is not None and t3 is not None and t7 is not None
        t2.cycle_kind = "quarterly"  # Q1 due 25 March: chased on 27 March
        t3.completed_on = date(2026, 3, 26)
        t7.cycle_kind = "dates"
        t7.cycle_dates = ["2026-03-20", "2026-06-20"]
    async with sessionmaker() as s:
        catalogue = await views.catalogue(s, 2026)
    args = ["", "发改局", "各乡镇（街道）", "吴振强", "全力激发经济动能", "2026-03", "2026-Q1"]
    args += ["2026-03-20", "2026-02", "财政局"]
    filters = [ALL] + [
        f for a in args if isinstance(f := parse_filter(a, catalogue, 2026), OverdueFilter)
    ]
    assert len(filters) == len(args) + 1
    for scope in (views.Scope(2026), views.Scope(2026, leader_ids=(1,))):
        async with sessionmaker() as s:
            everything = await views.overdue(
                s, scope=scope, now=MAR27, settings=settings, calendar=CAL
            )
        for flt in filters:
            rows = [r for r in everything if flt.matches(r)]
            groups = group_overdue(rows)
            flat = flatten(groups)
            per_page = 7
            pages = max(1, -(-len(flat) // per_page))
            for wanted in [*range(pages), pages + 3]:
                async with sessionmaker() as s:
                    found = await views.overdue_page(
                        s,
                        scope=scope,
                        flt=flt,
                        page=wanted,
                        per_page=per_page,
                        now=MAR27,
                        settings=settings,
                        calendar=CAL,
                    )
                items, page, pages = page_of(flat, wanted, per_page)
                continued = page > 0 and flat[page * per_page - 1].unit_id == items[0].unit_id
                assert (found.total, found.units) == (len(rows), len(groups)), flt
                assert (found.page, found.pages, found.continued) == (page, pages, continued)
                assert found.rows == items, (flt, wanted)
                assert found.groups == {
                    g.unit_id: g for g in groups if g.unit_id in {r.unit_id for r in items}
                }
    assert any(len(g.rows) > 7 for g in group_overdue(everything))  # groups span pages


async def test_latest_reports_and_reported_keys(sessionmaker: Maker) -> None:
    await import_seed(sessionmaker, IMPORTED)
    async with sessionmaker() as s, s.begin():
        tasks, units = await _ids(s)
        t6, fgj = tasks[6], units["发改局"]
        add_report(s, t6, fgj, "2026-02", datetime(2026, 3, 17, tzinfo=SH), percent=20.0)
        add_report(
            s, t6, fgj, "2026-03", datetime(2026, 3, 18, tzinfo=SH), expected_date=date(2026, 6, 30)
        )
        add_report(
            s,
            t6,
            fgj,
            "2026-03",
            datetime(2026, 3, 19, tzinfo=SH),
            text="最新",
            difficulties=["用地"],
            quantities=[{"target_metric": "完成投资", "value": 320, "unit": "亿元"}, "junk"],
            version=2,
        )
    async with sessionmaker() as s:
        latest = await views.latest(s, views.Scope(2026, task_id=t6))
        keys = await views.reported_keys(s, views.Scope(2026), {"2026-03", "2026-04"})
        history, total = await views.task_reports(s, t6, offset=1, limit=1)
    item = latest[(t6, fgj)]
    assert (item.report.text, item.report.version, item.report.difficulties) == (
        "最新",
        2,
        ("用地",),
    )
    assert item.report.quantities[0].metric == "完成投资"
    assert (item.percent, item.expected) == (20.0, date(2026, 6, 30))
    assert item.percent_at == datetime(2026, 3, 17, tzinfo=SH)
    assert set(keys[(t6, fgj)]) == {"2026-03"}
    assert total == 3 and [r.cycle_key for r in history] == ["2026-03"]


async def test_catalogue_and_people(sessionmaker: Maker) -> None:
    await import_seed(sessionmaker, IMPORTED)
    async with sessionmaker() as s, s.begin():
        _, units = await _ids(s)
        for i, (unit, reachable) in enumerate(
            [("发改局", True), ("发改局", False), ("工信局", False)]
        ):
            s.add(
                Contact(
                    tg_user_id=100 + i,
                    chat_id=100 + i,
                    name="x",
                    role="liaison",
                    unit_id=units[unit],
                    reachable=reachable,
                    created_at=IMPORTED,
                )
            )
    async with sessionmaker() as s:
        cat = await views.catalogue(s, 2026)
        counts = await views.liaison_counts(s)
        everything = [(u.id, u.name) for u in await people.reportable_units(s)]
    assert cat.units["发改局（低空办）"] == cat.units["发改局"]
    assert cat.leaders["周全"] in cat.leaders.values()
    assert len(cat.groups["各乡镇（街道）"][1]) == 26
    assert "（一）全力激发经济动能" in cat.headings and cat.headings[0] == "一、2026年主要预期目标"
    assert counts[units["发改局"]] == LiaisonCount(2, 1)
    assert counts[units["工信局"]] == LiaisonCount(1, 0)
    assert len(everything) == 80 and all(name != "各乡镇（街道）" for _, name in everything)


async def test_nudges_counted_per_task_and_day(sessionmaker: Maker) -> None:
    await import_seed(sessionmaker, IMPORTED)
    async with sessionmaker() as s, s.begin():
        tasks, units = await _ids(s)
        for at in (MAR27 - timedelta(days=1), MAR27, MAR27 + timedelta(hours=1)):
            await views.add_nudge(
                s,
                task_id=tasks[6],
                unit_id=units["发改局"],
                cycle_key="2026-03",
                by_user_id=1,
                now=at,
                day=at.date(),
            )  # the third, the same day as the second, is not recorded
    async with sessionmaker() as s:
        counts = await views.nudge_counts(s, views.Scope(2026))
        today = await views.nudged_since(s, views.Scope(2026), views.day_start(MAR27, SETTINGS))
    assert counts == {tasks[6]: 2}
    assert today == {(tasks[6], units["发改局"]): MAR27}
    assert views.day_start(MAR27, SETTINGS) == datetime.combine(MAR27.date(), time(0), tzinfo=SH)


async def test_ledger_holds_every_task(sessionmaker: Maker) -> None:
    await import_seed(sessionmaker, IMPORTED)
    async with sessionmaker() as s:
        rows = [
            row
            async for chunk in views.ledger_chunks(
                s, year=2026, now=MAR27, settings=SETTINGS, calendar=CAL
            )
            for row in chunk
        ]
        empty_year = await years.working_year(s, 2031)
    assert [r.no for r in rows] == list(range(1, 89))
    assert empty_year == 2026


async def test_views_in_chunks_match_the_views_at_once(sessionmaker: Maker) -> None:
    """The city-wide views read a chunk of tasks at a time: the chunks' seams change nothing."""
    await import_seed(sessionmaker, IMPORTED)
    async with sessionmaker() as s, s.begin():
        tasks, units = await _ids(s)
        fgj, gxj = units["发改局"], units["工信局"]
        for no in range(1, 89, 3):  # some reported, some late, some stuck, some done
            at = datetime(2026, 3, 20 + no % 7, 9, tzinfo=SH)
            add_report(s, tasks[no], fgj, "2026-03", at, percent=float(no % 5 * 30))
            if no % 2:
                add_report(s, tasks[no], gxj, "2026-03", at, difficulties=["资金"])
    since = datetime(2026, 3, 26, 9, tzinfo=SH)
    async with sessionmaker() as s:
        leader = (await views.catalogue(s, 2026)).leaders["周全"]
        for scope in (views.Scope(2026), views.Scope(2026, leader_ids=(leader,))):
            whole = await views.boards(
                s, scope=scope, now=MAR27, settings=SETTINGS, calendar=CAL, details=False
            )
            reports = await views.reports_between(s, scope, since, MAR27, limit=5000)
            builder = SummaryBuilder(leader="x", now=MAR27, since=since, tz=SH)
            tally = UnitTally()
            sizes = []
            async for chunk in views.board_chunks(
                s, scope=scope, now=MAR27, settings=SETTINGS, calendar=CAL, details=False, size=7
            ):
                sizes.append(len(chunk.boards))
                builder.add(chunk.boards, chunk.statuses)
                tally.add(chunk.boards)
            assert len(sizes) > 1 and sum(sizes) == len(whole.boards)
            at_once = summarize(
                whole.boards, whole.statuses, reports, leader="x", now=MAR27, since=since, tz=SH
            )
            assert builder.build(reports) == at_once
            assert at_once.red and at_once.reports  # the comparison covers the lists
            everyone = [(u.id, u.name) for u in await people.reportable_units(s)]
            counts = await views.liaison_counts(s)
            assert unit_lines(everyone, counts, tally) == unit_lines(everyone, counts, whole.boards)
        whole = await views.boards(
            s, scope=views.Scope(2026), now=MAR27, settings=SETTINGS, calendar=CAL
        )
        nudges = await views.nudge_counts(s, views.Scope(2026))
        chunked = [
            row
            async for rows in views.ledger_chunks(
                s, year=2026, now=MAR27, settings=SETTINGS, calendar=CAL, size=7
            )
            for row in rows
        ]
    assert chunked == ledger_rows(whole.boards, whole.statuses, nudges, CAL, MAR27.date())


async def test_tasks_kept_in_memory_read_as_from_the_database(sessionmaker: Maker) -> None:
    await import_seed(sessionmaker, IMPORTED)
    register = RegisterCache()
    async with sessionmaker() as s:
        await register.validate(s)
        tasks, _ = await _ids(s)
        some = (tasks[40], tasks[3], 10**9, tasks[17])  # out of order, one that is no task
        for scope in (
            views.Scope(2026, ids=some),
            views.Scope(2027, ids=some),  # another year's scope finds none of them
            views.Scope(2026),
            views.Scope(2026, ids=some),  # now all kept
        ):
            kept = await views.load_tasks(s, scope, responsible_report=True, register=register)
            fresh = await views.load_tasks(s, scope, responsible_report=True)
            assert kept == fresh
        assert [t.no for t in kept] == [3, 17, 40]


def test_light_changes_name_each_move_once_worst_new_light_first() -> None:
    from bot.domain.summaries import LightChange, light_changes

    before = {1: Light.GREEN, 2: Light.GREEN, 3: Light.RED, 4: Light.YELLOW}
    after = {1: Light.RED, 2: Light.RED, 3: Light.DONE, 4: Light.YELLOW, 5: Light.RED}
    nos = {1: 11, 2: 7, 3: 30, 4: 40, 5: 50}
    assert light_changes(before, after, nos) == (
        LightChange(Light.GREEN, Light.RED, (7, 11)),
        LightChange(Light.RED, Light.DONE, (30,)),
    )  # task 5 is new in the register: no change; task 4 kept its light
