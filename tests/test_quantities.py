"""Numbers, quantities, progress, measurement against targets, and difficulty words."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.numerals import cn_to_int, parse_number, replace_cn_numerals
from bot.domain.quantities import (
    Target,
    convert,
    detect_difficulty,
    extract_quantities,
    measure_against_targets,
    parse_percent,
    parse_unit,
)

# ------------------------------------------------------------------------------------ numerals


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("320", 320.0),
        ("3.2", 3.2),
        ("1,200", 1200.0),
        ("三百二十", 320.0),
        ("一千一百", 1100.0),
        ("两千", 2000.0),
        ("十二", 12.0),
        ("十", 10.0),
        ("二十五", 25.0),
        ("一千零一", 1001.0),
        ("一万二千", 12000.0),
        ("1.27万", 12700.0),
        ("三万", 30000.0),
        ("3千万", 30_000_000.0),
        ("5亿", 500_000_000.0),
        ("0.5亿", 50_000_000.0),
        ("三亿五千万", 350_000_000.0),
        ("二〇二六", 2026.0),
        ("", None),
        ("abc", None),
    ],
)
def test_parse_number(text: str, expected: float | None) -> None:
    assert parse_number(text) == expected


@pytest.mark.parametrize(("text", "expected"), [("二零二六", 2026), ("三十一", 31), ("万", 10000)])
def test_cn_to_int(text: str, expected: int) -> None:
    assert cn_to_int(text) == expected


def test_replace_cn_numerals_keeps_words_without_digits() -> None:
    assert replace_cn_numerals("二〇二六年六月三十日，千方百计") == "2026年6月30日，千方百计"


# ------------------------------------------------------------------------------------ progress


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("完成45%", 45.0),
        ("完成率45%", 45.0),
        ("45%", 45.0),
        ("进度50%", 50.0),
        ("完成了百分之四十五", 45.0),
        ("工程形象进度达到百分之七十五点五", 75.5),
        ("完成年度目标的45%", 45.0),
        ("完成全年任务的120%", 120.0),
        ("完成１００％", 100.0),
        ("完成率为百分之百", 100.0),
        ("截至目前完成投资12.5亿元，占年度计划的62.5%", 62.5),
        ("新建充电桩120个，完成全年目标的52%", 52.0),
        ("项目整体进度约70%，主体已完工", 70.0),
        ("已完成年度任务的三成", 30.0),
        ("计划完成80%", None),
        ("已完成四成", 40.0),
        ("完成四成五", 45.0),
        ("已完成45%，预计6月底完成80%", 45.0),
        ("一期已完工，二期完成60%", None),  # phase two's progress, not the task's
        ("征迁完成72%", None),
        ("设计完成80%，施工招标已挂网", None),
        ("已报市政府，完成约三分之一", 33.3),
        ("完成任务的三分之二", 66.7),
        ("已完成八成", 80.0),
        ("已完成大半", 60.0),
        ("目前完成率60%", 60.0),
        ("过半", 50.0),
        ("时间过半、任务过半", 50.0),
        ("近半", 45.0),
        ("接近一半", 45.0),
        ("未过半", None),
        ("已完成", 100.0),
        ("已经完成", 100.0),
        ("全面完成", 100.0),
        ("已竣工", 100.0),
        ("完工", 100.0),
        ("已办结", 100.0),
        ("已完成全部建设任务", 100.0),
        ("该项工作已全部完成，无困难", 100.0),
        ("项目已全部完成并投入使用", 100.0),
        ("已全面完成年度任务", 100.0),
        ("未完成", None),
        ("尚未完成", None),
        ("完成了部分", None),
        ("部分完成", None),
        ("基本完成", None),
        ("已完成投资320亿元", None),
        ("已完成前期工作", None),
        ("预计6月底前完成竣工验收", None),
        ("地区生产总值增长4.2%", None),
        ("空气优良率98.5%", None),
        ("进展顺利", None),
        ("", None),
    ],
)
def test_parse_percent(text: str, expected: float | None) -> None:
    assert parse_percent(text) == expected


# ---------------------------------------------------------------------------------- quantities


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("已完成投资320亿元", [("完成投资", 320.0, "亿元")]),
        ("新增规上企业56家", [("新增规上企业", 56.0, "家")]),
        ("铺设管网120公里", [("铺设管网", 120.0, "公里")]),
        ("签约项目总投资560亿元", [("签约项目总投资", 560.0, "亿元")]),
        ("新增学位1.27万个", [("新增学位", 1.27, "万个")]),
        ("完成投资三百二十亿元", [("完成投资", 320.0, "亿元")]),
        ("累计完成投资1,200万元", [("完成投资", 1200.0, "万元")]),
        ("截至5月底已完成投资100亿元", [("完成投资", 100.0, "亿元")]),
        ("完成投资5亿", [("完成投资", 5.0, "亿")]),
        ("完成3千万元", [("完成", 3000.0, "万元")]),
        ("种植两千亩", [("种植", 2000.0, "亩")]),
        ("净增38万亩", [("净增", 38.0, "万亩")]),
        ("新增入驻企业300多家", [("新增入驻企业", 300.0, "家")]),
        ("标准化厂房招商3.5万平方米", [("标准化厂房招商", 3.5, "万平方米")]),
        ("建设5G基站500个", [("建设5G基站", 500.0, "个")]),
        ("地区生产总值增长4.2%", [("地区生产总值增长", 4.2, "%")]),
        ("提高2个百分点", [("提高", 2.0, "百分点")]),
        ("完成了百分之四十", [("完成", 40.0, "%")]),
        (
            "新增规上企业56家、专精特新企业12家",
            [("新增规上企业", 56.0, "家"), ("专精特新企业", 12.0, "家")],
        ),
        ("用3个月时间，预计6月30日前完成", []),
        ("三个工作日内完成", []),
        ("一户一策", []),
        ("", []),
    ],
)
def test_extract_quantities(text: str, expected: list[tuple[str | None, float, str]]) -> None:
    assert [(q.metric, q.value, q.unit) for q in extract_quantities(text)] == expected


def test_quantity_keeps_its_source_and_span() -> None:
    text = "已完成投资320亿元，预计6月底前完成竣工验收"
    (quantity,) = extract_quantities(text)
    assert quantity.source == "320亿元"
    assert quantity.span == (5, 10)
    assert text[slice(*quantity.span)] == quantity.source


@given(st.text(max_size=200))
def test_arbitrary_text_never_breaks_the_parsers(text: str) -> None:
    for quantity in extract_quantities(text):
        assert text[slice(*quantity.span)] == quantity.source
    parse_percent(text)
    detect_difficulty(text)


# ------------------------------------------------------------------------------------- units


@pytest.mark.parametrize(
    ("value", "unit", "to_unit", "expected"),
    [
        (1, "亿元", "万元", 10000.0),
        (3200, "万元", "亿元", 0.32),
        (1.27, "万个", "个", 12700.0),
        (2, "万亩", "亩", 20000.0),
        (3, "公顷", "亩", 45.0),
        (5, "千米", "公里", 5.0),
        (1500, "米", "公里", 1.5),
        (3.5, "万平方米", "平方米", 35000.0),
        (2, "吨", "公斤", 2000.0),
        (5, "亿", "亿元", 5.0),
        (1.27, "万", "个", 12700.0),
        (56, "个", "家", 56.0),
        (56, "家", "座", None),
        (100, "亩", "平方米", None),
        (5, "%", "亿元", None),
        (5, "亿", "%", None),
        (7, "标准件", "标准件", 7.0),
        (7, "标准件", "个", None),
    ],
)
def test_convert(value: float, unit: str, to_unit: str, expected: float | None) -> None:
    assert convert(value, unit, to_unit) == expected


@pytest.mark.parametrize(
    ("unit", "expected"),
    [
        ("亿元", ("money", 100_000_000.0)),
        ("万千瓦", ("power", 10000.0)),
        ("千米", ("length", 1000.0)),
        ("万", ("scalar", 10000.0)),
        ("斤两", None),
    ],
)
def test_parse_unit(unit: str, expected: tuple[str, float] | None) -> None:
    assert parse_unit(unit) == expected


# ----------------------------------------------------------------------------------- measuring

INVESTMENT = Target("完成投资", "amount", 800, "亿元")
GDP = Target("地区生产总值", "growth", 5, "%")
FIRMS = Target("新增规上企业", "amount", 100, "家")
REGISTER = [INVESTMENT, GDP, FIRMS]


@pytest.mark.parametrize(
    ("text", "targets", "expected"),
    [
        ("已完成投资320亿元", REGISTER, [(INVESTMENT, 320.0, 40.0)]),
        (
            "完成投资3200万元",
            [Target("完成投资", "amount", 1, "亿元")],
            [(Target("完成投资", "amount", 1, "亿元"), 0.32, 32.0)],
        ),
        ("完成投资8亿", REGISTER, [(INVESTMENT, 8.0, 1.0)]),
        (
            "1-4月完成固定资产投资85亿元，同比增长6.3%",
            [Target("固定资产投资", "growth", 4, "%"), INVESTMENT],
            [(INVESTMENT, 85.0, 10.63), (Target("固定资产投资", "growth", 4, "%"), 6.3, 157.5)],
        ),
        ("地区生产总值增长4.2%", REGISTER, [(GDP, 4.2, 84.0)]),
        ("地区生产总值下降1%", REGISTER, [(GDP, -1.0, 0.0)]),
        ("地区生产总值增长12%", REGISTER, [(GDP, 12.0, 200.0)]),
        ("增长12%", REGISTER, [(None, None, None)]),  # growth of what? unread
        ("新增规上企业56家", REGISTER, [(FIRMS, 56.0, 56.0)]),
        ("新增企业56个", REGISTER, [(FIRMS, 56.0, 56.0)]),
        (
            "完成投资320亿元，同比增长4.2%，新增规上企业56家",
            REGISTER,
            # 4.2% is the investment's growth, not the GDP's: unread.
            [(INVESTMENT, 320.0, 40.0), (None, None, None), (FIRMS, 56.0, 56.0)],
        ),
        ("资金缺口50亿元", REGISTER, [(None, None, None)]),
        ("预计全年完成投资800亿元", REGISTER, [(None, None, None)]),
        ("完成率45%", REGISTER, [(None, None, None)]),
        (
            "完成投资320亿元，其中民间投资100亿元",
            [INVESTMENT],
            [(INVESTMENT, 320.0, 40.0), (None, None, None)],
        ),
        (
            "完成投资320亿元，其中技改投资54亿元",
            [Target("完成技改投资", "amount", 135, "亿元"), INVESTMENT],
            [
                (INVESTMENT, 320.0, 40.0),
                (Target("完成技改投资", "amount", 135, "亿元"), 54.0, 40.0),
            ],
        ),
    ],
)
def test_measure_against_targets(
    text: str,
    targets: list[Target],
    expected: list[tuple[Target | None, float | None, float | None]],
) -> None:
    got = measure_against_targets(text, targets)
    assert [(m.target, m.value_in_target_unit, m.percent_of_target) for m in got] == expected


SCHOOLS = Target("新（改、扩）建学校", "amount", 15, "所")
PLACES = Target("新增学位", "amount", 12700, "个")
AIR = Target("空气优良率", "level", 98, "%")
JOBLESS = Target("城镇调查失业率", "level", 5.5, "%", "at_most")
GRAIN = Target("粮食播种面积", "level", 38, "万亩")


@pytest.mark.parametrize(
    ("text", "targets", "expected"),
    [
        ("已开工9所", [SCHOOLS, PLACES], (None, None, None)),  # started is not built
        ("已建成9所", [SCHOOLS, PLACES], (SCHOOLS, 9.0, 60.0)),
        ("新增学位6350个", [SCHOOLS, PLACES], (PLACES, 6350.0, 50.0)),
        ("新增学位0.635万个", [SCHOOLS, PLACES], (PLACES, 6350.0, 50.0)),
        ("空气优良率98.5%", [AIR], (AIR, 98.5, 100.0)),
        ("空气优良率93.1%", [AIR], (AIR, 93.1, 95.0)),
        ("城镇调查失业率5%", [JOBLESS], (JOBLESS, 5.0, 100.0)),
        ("城镇调查失业率6.25%", [JOBLESS], (JOBLESS, 6.25, 88.0)),
        ("粮食播种面积38.5万亩", [GRAIN], (GRAIN, 38.5, 100.0)),
        ("完成投资320亿元", [], (None, None, None)),
    ],
)
def test_measure_single(
    text: str,
    targets: list[Target],
    expected: tuple[Target | None, float | None, float | None],
) -> None:
    (got,) = measure_against_targets(text, targets)
    assert (got.target, got.value_in_target_unit, got.percent_of_target) == expected


def test_unmatched_quantity_is_kept() -> None:
    (got,) = measure_against_targets("铺设管网120公里", [INVESTMENT])
    assert got.target is None
    assert (got.quantity.metric, got.quantity.value, got.quantity.unit) == (
        "铺设管网",
        120.0,
        "公里",
    )


# -------------------------------------------------------------------------------- difficulties


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("已完成投资320亿元，预计6月底前完成竣工验收，用地指标需协调", ["用地指标需协调"]),
        ("存在资金缺口，进度滞后", ["资金缺口", "进度滞后"]),
        ("项目推进缓慢，需协调解决", ["项目推进缓慢，需协调解决"]),
        ("征地受阻，部分路段停工", ["征地受阻", "部分路段停工"]),
        ("主要卡点是拆迁，堵点在审批", ["卡点是拆迁", "堵点在审批"]),
        ("受资金制约，工期推迟", ["受资金制约", "工期推迟"]),
        ("存在安全风险", ["安全风险"]),
        ("投资未达预期", ["投资未达预期"]),
        ("难点在于资金", ["难点在于资金"]),
        ("项目延期", ["项目延期"]),
        ("短板是人才不足", ["短板是人才不足"]),
        ("无法解决困难", ["无法解决困难"]),
        ("无困难，但审批滞后", ["审批滞后"]),
        ("受征迁影响进度滞后，需市级层面协调", ["受征迁影响进度滞后，需市级层面协调"]),
        ("亟需省里协调解决", ["亟需省里协调解决"]),
        # The clause that says what is needed and from whom (issue 18's observations).
        ("征地拆迁进度偏慢，需市里协调用地指标", ["征地拆迁进度偏慢，需市里协调用地指标"]),
        ("因场地问题需民政局协调", ["因场地问题需民政局协调"]),
        (
            "因低空经济政策尚未出台，请上级部门给予支持",
            ["因低空经济政策尚未出台，请上级部门给予支持"],
        ),
        ("红线内杆线迁改难度大，需供电公司配合", ["红线内杆线迁改难度大，需供电公司配合"]),
        ("本月无进展，土地指标需市里协调", ["土地指标需市里协调"]),
        ("资金拨付需财政局协调。", ["资金拨付需财政局协调"]),
        ("征迁完成72%，剩余3户需镇里协调", ["剩余3户需镇里协调"]),
        ("进展顺利，无困难", []),
        ("已协调解决", []),
        ("不需要市里协调", []),
        ("无困难", []),
        ("没有问题", []),
        ("暂无问题", []),
        ("未发现问题", []),
        ("不存在困难", []),
        ("无需协调", []),
        ("暂无困难和问题", []),
        ("没有什么问题", []),
        ("问题已解决", []),
        ("已协调解决用地问题", []),
        ("进展顺利", []),
        ("", []),
    ],
)
def test_detect_difficulty(text: str, expected: list[str]) -> None:
    assert detect_difficulty(text) == expected
