"""The chart renderer: charts as JSON on stdin (bot.charts._spec.dump), a JSON list of
base64 PNGs on stdout."""

from __future__ import annotations

import base64
import json
import sys

from bot.charts._draw import draw
from bot.charts._spec import load


def main() -> int:
    """Draw every chart read from stdin."""
    charts = load(sys.stdin.read())
    json.dump([base64.b64encode(draw(c)).decode("ascii") for c in charts], sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
