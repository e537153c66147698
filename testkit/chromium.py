"""Debian's Chromium, as the browser tests, the page benchmark and the docs' screenshots launch it.

Driven through Playwright's ``executable_path`` (``apt-get install chromium``); Playwright's own
download (``playwright install``) is never used.
"""

from __future__ import annotations

import shutil

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Without these, Chromium tries to reach Google's services, which this network refuses.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
