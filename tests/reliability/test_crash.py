"""Short form of the crash suite (`python -m bench.crash` is the long one): SIGKILL the real bot
process during a reminder fan-out and a stream of reports; nothing lost, duplicates <= kills."""

from __future__ import annotations

from pathlib import Path

from bench.common import database
from bench.crash import CrashConfig, run_crash


async def test_sigkill_during_a_fan_out_and_reports(tmp_path: Path) -> None:
    cfg = CrashConfig(kills=2, recipients=30, reporters=3, send_rate=10.0, max_up=1.5)
    async with database("sqlite", tmp_path, "crash") as url:
        result = await run_crash(cfg, url, tmp_path, log=lambda _: None)
    assert result.reminders_due > 0 and result.reports_confirmed > 0
    assert result.reminders_lost == 0 and result.reports_lost == 0, result
    assert result.duplicates <= result.kills, result
    assert not result.problems and result.unanswered == 0, result
