"""Rendering charts in a process of their own (`python -m bot.charts`).

Why not in the bot's process: matplotlib and numpy add ~50 MB to it for the rest of the day
and drawing holds the GIL (~0.2 s a chart), which a thread would not hide from the people the
bot is answering meanwhile. The renderer starts, draws a morning's charts and exits.
"""

from __future__ import annotations

import asyncio
import base64
import json
import sys
from collections.abc import Sequence

from bot.charts._spec import Chart, dump

TIMEOUT = 180.0  # seconds for a whole batch (a cold font cache takes a few)


class ChartError(RuntimeError):
    """The renderer failed (its stderr's last lines say why)."""


async def render(charts: Sequence[Chart], *, seconds: float = TIMEOUT) -> list[bytes]:
    """Each chart as a PNG, in order, drawn by one renderer process."""
    if not charts:
        return []
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.charts",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        async with asyncio.timeout(seconds):
            out, err = await proc.communicate(dump(list(charts)).encode("utf-8"))
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise ChartError(f"the chart renderer took over {seconds:.0f} s") from None
    if proc.returncode != 0:
        tail = err.decode("utf-8", "replace").strip().splitlines()[-5:]
        raise ChartError(f"the chart renderer exited {proc.returncode}: {' | '.join(tail)}")
    pngs = [base64.b64decode(p) for p in json.loads(out)]
    if len(pngs) != len(charts):
        raise ChartError(f"the chart renderer drew {len(pngs)} of {len(charts)} charts")
    return pngs
