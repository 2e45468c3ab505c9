"""Short form of the faults suite (`python -m bench.faults` is the long one): 10% of Bot API
calls fail over the days around a deadline, up to the escalation; everything is delivered,
nothing doubled beyond the lost responses, no crash."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from bench.common import database
from bench.faults import FaultsConfig, run_faults


async def test_ten_percent_of_calls_fail_around_a_deadline(tmp_path: Path) -> None:
    # Friday after the deadline (overdue), a weekend, Monday (the escalation is due).
    cfg = FaultsConfig(start=date(2026, 3, 27), days=4, liaisons=15, reporters=3)
    async with database("sqlite", tmp_path, "faults") as url:
        result = await run_faults(cfg, url, progress=False)
    assert sum(result.faults.values()) > 0
    assert result.reminders[0] > 0 and result.escalations[0] > 0, result
    assert result.delivered_all, result
    assert result.doubled <= result.lost_sends and result.reports_duplicated == 0, result
    assert result.alive and not result.handler_errors and not result.errors_logged, result
