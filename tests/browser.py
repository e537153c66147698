"""One Chromium per test session (per xdist worker), a fresh context for each test.

Starting Playwright's driver and Chromium takes about 2 s; a context takes milliseconds and
shares nothing with the one before it (cookies, storage, cache, pages). The browser belongs to
the session's event loop, so the tests that use it run in that loop too: their modules mark
them with :data:`BROWSER_TESTS`, and their async fixtures take ``loop_scope="session"``.

Debian's Chromium is driven through ``executable_path``: its headless shell where installed
(``apt-get install chromium-headless-shell``), else the browser (``chromium``), or the binary
``ISSUEBRIDGE_TEST_CHROMIUM`` names (testkit/chromium.py says why); Playwright's own download
(``playwright install``) is never used. Without one the browser tests are skipped, or fail where
``ISSUEBRIDGE_TEST_REQUIRE_CHROMIUM`` (or ``CI``) is set, as for Redis.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from playwright.async_api import Browser, Page, async_playwright

from testkit.chromium import CHROMIUM, CHROMIUM_ARGS

# What a successful injection would do; the page fixture asserts it never happens.
PWN = "window.__pwned = (window.__pwned || 0) + 1"
# For a module's ``pytestmark`` (or one test): marked as a browser test, run in the session's loop.
BROWSER_TESTS = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="session")]


def installed_chromium() -> str:
    """The path to Chromium; skips the test without it, or fails it where Chromium is required."""
    if not os.path.exists(CHROMIUM):
        if os.environ.get("ISSUEBRIDGE_TEST_REQUIRE_CHROMIUM") or os.environ.get("CI"):
            raise AssertionError(f"Chromium is not installed at {CHROMIUM}; .ci/run installs the Debian package")
        pytest.skip("Chromium is not installed (apt-get install chromium-headless-shell): browser tests not run")
    return CHROMIUM


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def chromium() -> AsyncIterator[Browser]:
    """The session's Chromium, launched on first use; tests take :func:`browser` instead."""
    path = installed_chromium()
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        yield launched
        await launched.close()


@pytest_asyncio.fixture(loop_scope="session")
async def browser(chromium: Browser) -> AsyncIterator[Browser]:
    """The session's Chromium for one test: every context the test opened is closed after it,
    so the next test starts with none."""
    yield chromium
    for context in chromium.contexts:
        await context.close()


@pytest_asyncio.fixture(loop_scope="session")
async def page(browser: Browser) -> AsyncIterator[Page]:
    """A fresh 1280x900 page that fails its test if the page threw, opened a dialog, tripped its
    Content-Security-Policy or ran injected script (:data:`PWN`)."""
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    opened = await context.new_page()
    problems: list[str] = []
    opened.on("dialog", lambda dialog: problems.append(f"dialog: {dialog.message}"))
    opened.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    # Our own page must never trip its Content-Security-Policy.
    opened.on(
        "console",
        lambda message: (
            problems.append(f"console: {message.text}") if "Content Security Policy" in message.text else None
        ),
    )
    yield opened
    pwned = await opened.evaluate("window.__pwned")
    await context.close()
    assert pwned is None, "hostile content ran script"
    assert problems == [], "the page opened a dialog or threw"
