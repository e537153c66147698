"""Debian's Chromium, as the browser tests, the page benchmark and the docs' screenshots launch it.

Driven through Playwright's ``executable_path``; Playwright's own download (``playwright install``)
is never used. Debian builds two binaries from its one Chromium source, at one version:
``chromium`` (the browser) and ``chromium-headless-shell`` (the same Blink, V8 and network stack,
without the browser's window and its UI), which is what Playwright itself runs for headless
Chromium. The headless shell is used where it is installed: the full browser, even headless, gives
each new context a window with its UI, whose omnibox popup is a web page of its own in a renderer
of its own. Measured on a 2-core VM, that renderer burns 0.75-0.88 s of CPU per context, a
20-issue dashboard costs 1.4 core-seconds to open in all against 0.6, and the browser tests took
163 s against 80 s (docs/testing.md). ``ISSUEBRIDGE_TEST_CHROMIUM`` names another binary
(``/usr/bin/chromium`` to run everything in the full browser; the tests pass in both).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping


def chromium_path(environ: Mapping[str, str] = os.environ) -> str:
    """The Chromium to launch: ``ISSUEBRIDGE_TEST_CHROMIUM``, else the headless shell, else the
    browser (``/usr/bin/chromium`` when neither is on the ``PATH``, for the not-installed message)."""
    return (
        environ.get("ISSUEBRIDGE_TEST_CHROMIUM")
        or shutil.which("chromium-headless-shell")
        or shutil.which("chromium")
        or "/usr/bin/chromium"
    )


CHROMIUM = chromium_path()
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
