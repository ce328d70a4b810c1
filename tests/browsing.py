"""Launching Debian's Chromium for the browser tests, one way for every module: the flags this
machine needs (no sandbox as root, no background connections to a closed network), and a
module-level skip where Chromium or Playwright is missing."""

from __future__ import annotations

import os

import pytest

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def playwright_or_skip():
    """The sync Playwright module; skips the calling test module when the browser is missing."""
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"browser tests need Debian's Chromium at {CHROMIUM} (apt-get install chromium)",
                    allow_module_level=True)
    return pytest.importorskip("playwright.sync_api", reason="browser tests need playwright")


def launch(playwright):
    """A headless Chromium from a running ``sync_playwright()``."""
    return playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
