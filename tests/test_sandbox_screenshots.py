"""``python -m bot.sandbox.screenshots``: every role's main screens, at desktop and phone size.

The run itself fails (SceneError) when a scene's message cannot be found; here the files are
checked: each scene at each size, PNG of the window's size, small enough to commit.
"""

from __future__ import annotations

import os
import struct
from pathlib import Path

import pytest

from bot.sandbox import browser
from bot.sandbox.screenshots import SIZES, capture, main

SCENES = (
    "admin-invite",
    "liaison-acknowledge",
    "liaison-reminder",
    "liaison-report-card",
    "group-circular",
    "office-digest",
    "leader-digest",
    "leader-chart",
    "office-overdue",
    "leader-instruction",
    "liaison-instruction",
    "office-card-loop",
    "liaison-extension",
    "office-extension",
    "office-return",
    "liaison-return",
    "liaison-evidence",
    "office-closeout",
    "office-card-closeout",
    "office-ranking",
    "office-bulletin",
)
MAX_BYTES = 300 * 1024
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def _png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n", f"{path.name} is not a PNG"
    width, height = struct.unpack(">II", head[16:24])
    return int(width), int(height)


@pytest.fixture(scope="module")
def chromium() -> None:
    problem = browser.ensure_browser()
    if problem is not None:
        reason = f"Chromium is needed for the screenshots: {problem}"
        if IN_CI:
            pytest.fail(reason)
        pytest.skip(reason)


async def test_each_roles_screens_at_each_size(chromium: None, tmp_path: Path) -> None:
    written = await capture(tmp_path)
    _check(tmp_path, [p.name for p in written])


def _check(out: Path, written: list[str]) -> None:
    expected = {f"{size.name}-{scene}.png" for size in SIZES for scene in SCENES}
    expected.add("phone-personas.png")
    assert sorted(written) == sorted(expected)
    assert sorted(p.name for p in out.iterdir()) == sorted(expected)
    for size in SIZES:
        pixels = (
            round(size.viewport["width"] * size.scale),
            round(size.viewport["height"] * size.scale),
        )
        for path in out.glob(f"{size.name}-*.png"):
            assert _png_size(path) == pixels, path.name
            assert path.stat().st_size < MAX_BYTES, (path.name, path.stat().st_size)


def test_the_command_line_reports_a_missing_browser(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(browser, "ensure_browser", lambda: "apt-get is not available")
    assert main(["--out", str(tmp_path / "shots")]) == 1
    assert "截图需要 Chromium：apt-get is not available" in capsys.readouterr().err
    assert not (tmp_path / "shots").exists()
