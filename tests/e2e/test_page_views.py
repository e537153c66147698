"""Search views on the page, in Chromium: a view appears live in a group of its own, each row with
its repository, in GitHub's order; filtering and sorting work over its rows and come back to it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.async_api import Locator, Page, expect

from testkit.fake_github import FakeGitHub, make_issue, make_pull, make_pull_request
from testkit.mcp_clients import TRANSPORTS
from tests.browser import BROWSER_TESTS
from tests.e2e.test_stream import push
from tests.inprocess import AppServer

pytestmark = BROWSER_TESTS
SEP_1, OCT_1, NOV_1 = "2026-09-01T00:00:00Z", "2026-10-01T00:00:00Z", "2026-11-01T00:00:00Z"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def seed(fake: FakeGitHub) -> None:
    """Same numbers in two repositories; created and updated orders disagree, so that a page that
    re-sorted by the last update would show another order than GitHub's."""
    fake.add_repo(
        "octo/app",
        [
            make_issue("octo/app", 1, title="<b>App</b> crash", labels=[("bug", "d73a4a")], updated_at=NOV_1),
            make_issue("octo/app", 2, title="App docs", created_at=OCT_1, updated_at="2026-10-02T00:00:00Z"),
        ],
    )
    fake.add_repo(
        "octo/lib",
        [
            make_issue("octo/lib", 1, title="Lib crash", created_at=SEP_1, updated_at="2026-11-30T00:00:00Z"),
            make_pull_request("octo/lib", 2, title="Lib fix"),
        ],
    )
    fake.add_pulls("octo/lib", [make_pull("octo/lib", 2, title="Lib fix", draft=True)])


def shown(view: Locator) -> Any:
    return view.locator("tbody tr:not([hidden])").evaluate_all("rows => rows.map(r => r.dataset.item)")


async def test_a_view_appears_live_in_its_own_group_with_each_rows_repository(
    server: AppServer, fake_github: FakeGitHub, page: Page
) -> None:
    seed(fake_github)
    await push(server.url, "octo/app", [{"number": 7, "title": "A board of octo/app", "state": "open"}])
    await page.goto(server.url)
    await expect(page.locator("#connection")).to_have_attribute("data-state", "live")
    await page.evaluate("window.__sameDocument = true")

    async with TRANSPORTS["streamable-http"](server.url) as client:
        result = await client.call_tool(
            "send_search_to_dashboard", {"query": "org:octo is:issue", "title": "Every octo issue"}
        )
    assert not result.is_error, result.content
    view = page.locator(f'section.view[data-id="{result.structured_content["board_id"]}"]')
    await expect(view.locator("tbody tr")).to_have_count(3)
    assert await page.evaluate("window.__sameDocument") is True
    # Its own group, not the octo/app board's.
    assert await view.evaluate("s => s.parentElement.dataset.group") == view_id(result)
    await expect(view.locator("h2")).to_have_text("Every octo issue search")
    await expect(view.locator(".view-query")).to_have_text("org:octo is:issue")
    # GitHub's order (the fake's best match: newest created first), with each row's repository.
    assert await shown(view) == ["octo/app#2", "octo/lib#1", "octo/app#1"]  # by update: lib#1, app#1, app#2
    repositories = view.locator("tbody tr td.repository a")
    await expect(repositories).to_have_text(["octo/app", "octo/lib", "octo/app"])
    await expect(repositories.first).to_have_attribute("href", "https://github.com/octo/app")
    await expect(view.locator('tr[data-item="octo/app#1"] .title a')).to_have_text("<b>App</b> crash")

    await view.locator(".filter-text").fill("crash")
    assert await shown(view) == ["octo/lib#1", "octo/app#1"]  # both #1s: rows told apart by repository
    await expect(view.locator(".shown")).to_have_text("2 of 3 shown")
    await view.locator(".filter-text").fill("")
    assert await shown(view) == ["octo/app#2", "octo/lib#1", "octo/app#1"]  # back to GitHub's order
    await view.locator(".filter-text").fill("crash")
    await view.locator('th[data-sort="updated"] button').click()  # newest update first
    await view.locator('th[data-sort="updated"] button').click()  # then oldest
    assert await shown(view) == ["octo/app#1", "octo/lib#1"]
    await view.locator(".filter-text").fill("")
    assert await shown(view) == ["octo/app#2", "octo/app#1", "octo/lib#1"]

    # The same search again, as a re-sync: the new result arrives, in GitHub's order.
    async with TRANSPORTS["streamable-http"](server.url) as client:
        await client.call_tool("send_search_to_dashboard", {"query": "is:open org:octo"})
    both = page.locator("section.view").last
    await expect(both.locator("tbody tr")).to_have_count(4)
    await expect(both.locator('tr[data-item="octo/lib#2"] .state')).to_have_text("draft")
    await expect(page.locator("section.view")).to_have_count(2)
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / "search-views.png"), full_page=True)


def view_id(result: Any) -> str:
    return str(result.structured_content["board_id"])


async def test_a_view_rows_checkbox_selects_the_item_wherever_it_is_shown(
    server: AppServer, fake_github: FakeGitHub, page: Page
) -> None:
    seed(fake_github)
    await push(server.url, "octo/app", [{"number": 1, "title": "App crash", "state": "open"}])
    await page.goto(server.url)
    await expect(page.locator("#connection")).to_have_attribute("data-state", "live")
    async with TRANSPORTS["streamable-http"](server.url) as client:
        result = await client.call_tool("send_search_to_dashboard", {"query": "org:octo is:issue"})
        assert not result.is_error, result.content
        view = page.locator(f'section.view[data-id="{result.structured_content["board_id"]}"]')
        board = page.locator('section.board[data-id="issues:octo/app"]')
        await view.get_by_role("checkbox", name="Select octo/app#1").check()
        # The same item on its repository's board, not octo/lib#1 (same number, other repository).
        await expect(board.get_by_role("checkbox", name="Select #1")).to_be_checked()
        await expect(view.get_by_role("checkbox", name="Select octo/lib#1")).not_to_be_checked()
        await expect(view.locator(".selection-status")).to_have_text("1 selected Clear")
        read = await client.call_tool("get_dashboard", {})
        assert read.structured_content is not None
        assert [(s["repository"], s["number"]) for s in read.structured_content["selected"]] == [("octo/app", 1)]
        await board.get_by_role("checkbox", name="Select #1").uncheck()
        await expect(view.get_by_role("checkbox", name="Select octo/app#1")).not_to_be_checked()
