"""Reading a reply as a whole: what is no report at all."""

from __future__ import annotations

import pytest

from bot.domain.replies import content_free


@pytest.mark.parametrize(
    "text",
    [
        "👍👍",
        "好的",
        "收到",
        "收到，马上报",
        "OK",
        "嗯嗯",
        "好的，稍后报送。",
        "收到了，谢谢领导",
        "🙏",
    ],
)
def test_acknowledgements_and_emoji_are_no_report(text: str) -> None:
    assert content_free(text)


@pytest.mark.parametrize(
    "text",
    [
        "完成投资320亿元",
        "100%",
        "本月无进展",
        "进展顺利",
        "已报市政府审批",
        "已完成",
        "好的，已完成80%",
    ],
)
def test_anything_about_the_work_is_read(text: str) -> None:
    assert not content_free(text)
