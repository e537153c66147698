"""A board's trend end to end: two syncs, then the page's sparkline and "since ...: +N opened,
-M closed" (a minus sign on the page), whose numbers filter the table, live; and get_dashboard's
numbers (MCP client)."""

from __future__ import annotations

from playwright.async_api import Page, expect

from testkit.fake_github import FakeGitHub, make_issue
from testkit.mcp_clients import TRANSPORTS
from tests.browser import BROWSER_TESTS
from tests.e2e.test_stream import push
from tests.inprocess import AppServer

pytestmark = BROWSER_TESTS
REPO = "octo/app"


def issues(*numbers: int, state: str = "open") -> list[dict[str, object]]:
    return [{"number": n, "title": f"Issue {n}", "state": state} for n in numbers]


async def test_the_trend_shows_live_and_its_numbers_filter_the_table(server: AppServer, page: Page) -> None:
    await push(server.url, REPO, issues(1, 2, 3))
    await page.goto(server.url)
    await expect(page.locator("#connection")).to_have_attribute("data-state", "live")
    board = page.locator(f'section.board[data-id="issues:{REPO}"]')
    await expect(board.locator(".trend")).to_have_count(0)  # one sync: nothing to compare with

    await push(server.url, REPO, [*issues(1, 2, 4, 5, 6), *issues(3, state="closed")])  # live: 4, 5, 6 opened, 3 closed
    trend = board.locator(".trend")
    await expect(trend).to_contain_text("since just now: +3 opened, \u22121 closed")
    await expect(trend.get_by_role("img")).to_have_accessible_name("Rows over the last 2 syncs: 3, 6")
    closed = trend.get_by_role("button", name="\u22121 closed")
    await closed.click()
    rows = board.locator("tbody tr[data-number]:not([hidden])")
    await expect(rows).to_have_count(1)
    await expect(rows).to_have_attribute("data-number", "3")
    opened = trend.get_by_role("button", name="+3 opened")
    await opened.click()
    await expect(opened).to_have_attribute("aria-pressed", "true")
    await expect(rows).to_have_count(3)
    assert sorted(await rows.evaluate_all("rs => rs.map(r => Number(r.dataset.number))")) == [4, 5, 6]
    await opened.click()
    await expect(rows).to_have_count(6)

    async with TRANSPORTS["streamable-http"](server.url) as client:
        result = await client.call_tool("get_dashboard", {})
    assert result.structured_content is not None
    [entry] = [e for e in result.structured_content["entries"] if e["id"] == f"issues:{REPO}"]
    assert {k: entry["trend"][k] for k in ("opened", "closed", "counts")} == {
        "opened": 3,
        "closed": 1,
        "counts": [3, 6],
    }


async def test_a_view_has_a_trend_of_its_searches_too(server: AppServer, fake_github: FakeGitHub, page: Page) -> None:
    fake_github.add_repo("octo/app", [make_issue("octo/app", 1, title="One"), make_issue("octo/app", 2, title="Two")])
    async with TRANSPORTS["streamable-http"](server.url) as client:
        first = await client.call_tool("send_search_to_dashboard", {"query": "is:issue is:open org:octo"})
        assert not first.is_error, first.content
        fake_github.add_repo("octo/lib", [make_issue("octo/lib", 1, title="Lib one")])
        second = await client.call_tool("send_search_to_dashboard", {"query": "is:issue is:open org:octo"})
        assert not second.is_error, second.content
    assert second.structured_content is not None
    await page.goto(server.url)
    view = page.locator(f'section.view[data-id="{second.structured_content["board_id"]}"]')
    opened = view.locator(".trend").get_by_role("button", name="+1 opened")
    await opened.click()
    shown = view.locator("tbody tr:not([hidden])")
    await expect(shown).to_have_count(1)
    await expect(shown).to_have_attribute("data-item", "octo/lib#1")  # not octo/app#1, the same number
