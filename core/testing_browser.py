"""Browser tests' Chromium: Debian's package, driven by Playwright, the same way in every test."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--lang=zh-CN",  # the browser's own widgets (date pickers) in Chinese: needs chromium-l10n
    "--autoplay-policy=no-user-gesture-required",
]
# bin/test installs Debian's chromium; a machine without it skips rather than downloading one.
needs_chromium = pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason="Debian chromium not installed (bin/test installs it)"
)


def screenshot_dir(sub: str = "") -> Path:
    """Where browser tests leave screenshots for people to look at: $AVR_SCREENSHOTS, by
    default ./var/screenshots (a sub-folder per journey where given)."""
    root = Path(__file__).resolve().parent.parent
    folder = Path(os.environ.get("AVR_SCREENSHOTS", root / "var" / "screenshots")) / sub
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def launch_chromium(playwright):
    # Chromium draws date and time pickers in the process's UI language, which --lang alone
    # does not set on Linux: LANGUAGE does (with chromium-l10n's zh-CN pack installed).
    env = {**os.environ, "LANGUAGE": "zh_CN"}
    return playwright.chromium.launch(
        executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS, env=env
    )
