"""The selection in Chromium: tick a row, see "1 selected" live in another open page, keep it
across a reload, clear it; and the assistant reads it (MCP SDK client, both eras, with the
resource's notification)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import mcp_types as types
import pytest
from mcp import Client
from playwright.async_api import Page, expect

from issuebridge.mcp.resources import SELECTION
from testkit.mcp_clients import TRANSPORTS
from tests.e2e.test_stream import push
from tests.inprocess import AppServer, until

REPO = "Octo/App"


@pytest.mark.browser
@pytest.mark.asyncio(loop_scope="session")
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


# The handshake era's resources/subscribe is deprecated by the SDK; testing it is the point here.
@pytest.mark.filterwarnings("ignore:resources/subscribe is removed")
async def test_the_assistant_reads_the_selection_and_is_told_when_it_changes(server: AppServer) -> None:
    """get_dashboard's ``selected`` first, and dashboard://selection in both protocol eras."""
    await push(server.url, REPO, [{"number": 4, "title": "Flaky test", "state": "open"}])
    legacy_updates: list[str] = []

    async def on_message(message: Any) -> None:
        if isinstance(message, types.ResourceUpdatedNotification):
            legacy_updates.append(str(message.params.uri))

    legacy = Client(f"{server.url}/mcp", mode="legacy", message_handler=on_message)
    modern = TRANSPORTS["streamable-http"](server.url)
    async with legacy, modern, httpx.AsyncClient(base_url=server.url) as http:
        await legacy.subscribe_resource(SELECTION)
        async with modern.listen(resource_subscriptions=[SELECTION]) as subscription:
            answer = await http.post("/api/dashboard/selection", json={"add": ["octo/app#4"]})
            assert answer.status_code == 200, answer.text
            event = await asyncio.wait_for(anext(subscription), 5)
            assert getattr(event, "uri", None) == SELECTION
            await until(lambda: SELECTION in legacy_updates)
        read = await modern.read_resource(SELECTION)
        content = read.contents[0]
        assert isinstance(content, types.TextResourceContents)
        picked = {"repository": "octo/app", "number": 4, "title": "Flaky test"}
        assert json.loads(content.text) == {"selected": [picked]}
        result = await modern.call_tool("get_dashboard", {})
        assert result.structured_content is not None
        assert list(result.structured_content) == ["selected", "entries", "read_more"]
        assert result.structured_content["selected"] == [{"repository": "octo/app", "number": 4, "title": "Flaky test"}]
        assert [entry["id"] for entry in result.structured_content["entries"]] == ["issues:octo/app"]
