"""The dashboard in a real browser (Debian's Chromium driven by Playwright) against the real server."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, Page, async_playwright, expect

from tests.conftest import ServerProcess
from tests.e2e.mcp_clients import TRANSPORTS
from tests.e2e.test_mcp_tool import REPO, open_issue_numbers, seed
from tests.fake_github import FakeGitHub

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
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not os.path.exists(CHROMIUM) and not os.environ.get("CI"),
        reason="Chromium is not installed (apt-get install chromium); CI always runs these",
    ),
]


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        await launched.close()


@pytest.fixture
async def page(browser: Browser) -> AsyncIterator[Page]:
    context = await browser.new_context()
    opened = await context.new_page()
    dialogs: list[str] = []
    opened.on("dialog", lambda dialog: dialogs.append(dialog.message))
    opened.on("pageerror", lambda error: dialogs.append(f"page error: {error}"))
    yield opened
    await context.close()
    assert dialogs == [], "hostile content ran script, or the page threw"


async def test_a_tool_call_fills_the_open_page_without_reload(
    server: ServerProcess, fake_github: FakeGitHub, page: Page
) -> None:
    items = seed(fake_github, 60)
    expected = open_issue_numbers(items)
    await page.goto(server.url)
    await expect(page.locator("#empty")).to_be_visible()
    await expect(page.locator("#connection")).to_have_attribute("data-state", "live")
    await page.evaluate("window.__sameDocument = true")

    async with TRANSPORTS["streamable-http"](server.url) as client:
        result = await client.call_tool("send_issues_to_dashboard", {"owner": "facebook", "repo": "react"})
    assert not result.is_error

    board = page.locator(f'section.board[data-repository="{REPO}"]')
    await expect(board.locator("tr.issue")).to_have_count(len(expected), timeout=1000)
    assert await page.evaluate("window.__sameDocument") is True  # updated in place, no reload
    await expect(page.locator("#empty")).to_be_hidden()
    numbers = await board.locator("tr.issue").evaluate_all("rows => rows.map(r => Number(r.dataset.number))")
    assert numbers == expected
    await expect(board.locator(".count")).to_have_text(str(len(expected)))
    await expect(board.locator(".filter")).to_have_text("open")
    await expect(board.locator(".source")).to_have_text("MCP tool call")
    await expect(board.locator(".last-updated")).to_have_text("just now")

    hostile = board.locator('tr.issue[data-number="7"] .title a')
    await expect(hostile).to_have_text("<script>alert(7)</script> bug 7")
    await expect(hostile).to_have_attribute("href", f"https://github.com/{REPO}/issues/7")
    chip = board.locator('tr.issue[data-number="1"] .label').first
    await expect(chip).to_have_text("bug")
    assert await chip.evaluate("el => el.style.getPropertyValue('--label-color')") == "#d73a4a"
    await expect(page.locator("section.board script, section.board img")).to_have_count(0)

    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=False)


async def test_newest_board_goes_on_top_and_a_resync_replaces_in_place(
    server: ServerProcess, page: Page
) -> None:
    async with httpx.AsyncClient(base_url=server.url) as http:
        await http.post(
            "/api/dashboard/sync-issues",
            json={"repository": "octo/one", "issues": [{"number": 1, "title": "first", "state": "open"}]},
        )
        await page.goto(server.url)
        await expect(page.locator("section.board")).to_have_count(1)  # server-rendered
        await expect(page.locator("#connection")).to_have_attribute("data-state", "live")

        await http.post(
            "/api/dashboard/sync-issues",
            json={"repository": "octo/two", "issues": [{"number": 2, "title": "second", "state": "closed"}]},
        )
        await expect(page.locator("section.board").first).to_have_attribute("data-repository", "octo/two")
        await expect(page.locator("section.board")).to_have_count(2)
        await expect(page.locator("section.board").first.locator(".source")).to_have_text("API push")

        await http.post(
            "/api/dashboard/sync-issues",
            json={"repository": "Octo/One", "issues": [{"number": 5, "title": "replaced", "state": "open"}]},
        )
        await expect(page.locator("section.board")).to_have_count(2)
        first = page.locator("section.board").first
        await expect(first.locator(".repository")).to_have_text("Octo/One")
        await expect(first.locator("tr.issue .title")).to_have_text(["replaced"])
