"""Debian's Chromium for the sandbox's browser tests and screenshots (Playwright drives it).

Playwright's own browser download needs network access beyond the package registries, which the
CI does not have; Debian's ``chromium`` package (and a CJK and an emoji font, or characters are
boxes) comes through apt-get instead. Installing needs root, as in the CI.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
CJK_FONT = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
EMOJI_FONT = Path("/usr/share/fonts/truetype/noto/NotoColorEmoji.ttf")  # the digest's 🔴🟡🟢
APT_PACKAGES = ("chromium", "fonts-wqy-microhei", "fonts-noto-color-emoji")
# Headless, as root (no sandbox), and nothing that reaches for the network on its own.
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


def browser_ready() -> bool:
    """True if Chromium and the fonts are installed."""
    return CHROMIUM.exists() and CJK_FONT.exists() and EMOJI_FONT.exists()


def install_browser() -> str | None:
    """apt-get install Chromium and a CJK font; the reason it could not, or None."""
    apt = shutil.which("apt-get")
    if apt is None:
        return "apt-get is not available to install chromium"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in ([apt, "update", "-qq"], [apt, "install", "-y", "-qq", *APT_PACKAGES]):
        try:
            done = subprocess.run(
                command, env=env, capture_output=True, text=True, timeout=900, check=False
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            return f"{' '.join(command)} failed: {exc}"
        if done.returncode != 0:
            return f"{' '.join(command)} failed: {(done.stderr or done.stdout)[-500:]}"
    return None


def ensure_browser() -> str | None:
    """Install Chromium and the font if missing; the reason Chromium is unavailable, or None."""
    if browser_ready():
        return None
    problem = install_browser()
    if not CHROMIUM.exists():
        return problem or f"{CHROMIUM} is missing after installing it"
    return None
