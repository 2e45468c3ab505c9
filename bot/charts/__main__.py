"""The chart renderer: charts as JSON on stdin (bot.charts._spec.dump), a JSON list of
base64 PNGs on stdout."""

from __future__ import annotations

import base64
import gc
import json
import sys

from bot.charts._draw import draw
from bot.charts._spec import load


def main() -> int:
    """Draw every chart read from stdin."""
    charts = load(sys.stdin.read())
    out = []
    for chart in charts:
        out.append(base64.b64encode(draw(chart)).decode("ascii"))
        # A figure is a web of reference cycles: freed now, not when the collector gets to it
        # (a morning's 20 charts grew the process by ~3 MB each).
        gc.collect()
    json.dump(out, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
