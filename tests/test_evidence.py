"""佐证材料's pure rules: a file's type, whether it is accepted, where its copy goes, and the
task a bot message names."""

from __future__ import annotations

import pytest

from bot.config import ConfigError, load_settings
from bot.domain.evidence import (
    DOCUMENT,
    PHOTO,
    Incoming,
    Refusal,
    local_path,
    refusal,
    task_no_in,
)

TYPES = frozenset({"jpg", "pdf", "docx", "wps"})
MB = 1024 * 1024


def doc(name: str | None, mime: str | None = None, size: int | None = 10) -> Incoming:
    return Incoming(DOCUMENT, "id", "uniq", name, mime, size)


@pytest.mark.parametrize(
    ("incoming", "expected"),
    [
        (Incoming(PHOTO, "id", "u", None, None, 10), "jpg"),
        (doc("方案.DOCX"), "docx"),
        (doc("报告.final.pdf"), "pdf"),
        (doc(None, "application/pdf"), "pdf"),
        (doc("无扩展名", "application/kswps"), "wps"),
        (doc(None, None), None),
    ],
)
def test_the_type_of_a_file(incoming: Incoming, expected: str | None) -> None:
    assert incoming.file_type == expected


def test_type_then_size_decide() -> None:
    assert refusal(doc("a.pdf", size=MB), TYPES, MB) is None
    assert refusal(doc("a.pdf", size=None), TYPES, MB) is None  # checked after the download
    assert refusal(doc("a.pdf", size=MB + 1), TYPES, MB) is Refusal.SIZE
    assert refusal(doc("a.exe", size=MB + 1), TYPES, MB) is Refusal.TYPE
    assert refusal(doc(None, None), TYPES, MB) is Refusal.TYPE


def test_the_local_copy_is_one_path_per_task_unit_and_file() -> None:
    incoming = Incoming(DOCUMENT, "id", "AgAD/../x", "../../etc/passwd.pdf", None, 1)
    path = local_path(2026, 6, 12, incoming)
    assert path.as_posix() == "2026/6/12-AgADx.pdf"
    assert ".." not in path.parts


@pytest.mark.parametrize(
    ("text", "no"),
    [
        ("第6项任务　🟡黄灯", 6),
        ("已提交。发改局第16项任务3月进展已于3月16日入库。", 16),
        ("您单位牵头的第3项、第5项任务尚未报送", None),
        ("第6项 … 第6项", 6),
        ("帮助", None),
    ],
)
def test_the_task_a_bot_message_names(text: str, no: int | None) -> None:
    assert task_no_in(text) == no


def test_evidence_settings() -> None:
    settings = load_settings(_env_file=None, evidence_types=" JPG, .pdf ,docx")
    assert settings.evidence_extensions == {"jpg", "pdf", "docx"}
    assert settings.evidence_max_bytes == 20 * MB
    with pytest.raises(ConfigError, match="EVIDENCE_TYPES"):
        load_settings(_env_file=None, evidence_types="pdf,*.exe")
    with pytest.raises(ConfigError, match="EVIDENCE_MAX_MB"):
        load_settings(_env_file=None, evidence_max_mb=0)
