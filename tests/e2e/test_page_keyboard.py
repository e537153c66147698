"""Keyboard use of the page in Chromium: `/`, `j`/`k`, `o`, Enter, Esc, and a skip link to each board."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

from playwright.async_api import Page, Route, expect

from tests.browser import BROWSER_TESTS
from tests.e2e.test_stream import push
from tests.inprocess import AppServer

pytestmark = BROWSER_TESTS


def issues(repository: str, count: int) -> list[dict[str, Any]]:
    """``count`` open issues, #1 the most recently updated (the page's first row)."""
    return [
        {
            "number": n,
            "title": f"{'Crash' if n % 2 else 'Docs'} {n}",
            "state": "open",
            "updated_at": f"2026-01-{32 - n:02d}T00:00:00Z",
            "html_url": f"https://github.com/{repository}/issues/{n}",
            "body": f"Body of {repository}#{n}",
        }
        for n in range(1, count + 1)
    ]


async def two_boards(server: AppServer, page: Page) -> tuple[Any, Any]:
    """The page with octo/second's board (3 rows) on top and octo/first's (4 rows) below it."""
    # Boards keep the order they first appeared in: octo/second, sent first, is on top.
    await push(server.url, "octo/second", issues("octo/second", 3))
    await push(server.url, "octo/first", issues("octo/first", 4))
    await page.goto(server.url)
    await expect(page.locator("#connection")).to_have_attribute("data-state", "live")
    return (
        page.locator('section.board[data-repository="octo/second"]'),
        page.locator('section.board[data-repository="octo/first"]'),
    )


async def focused(page: Page) -> Any:
    return await page.evaluate(
        """() => {
            const el = document.activeElement;
            const row = el.closest("tr[data-number]");
            const board = el.closest("section.entry");
            return {tag: el.tagName, cls: el.className, number: row ? Number(row.dataset.number) : null,
                    board: board ? board.dataset.repository : null};
        }"""
    )


async def test_j_and_k_move_between_the_rows_shown_across_boards(server: AppServer, page: Page) -> None:
    _, below = await two_boards(server, page)
    await page.keyboard.press("j")
    assert await focused(page) == {"tag": "TR", "cls": "issue", "number": 1, "board": "octo/second"}
    await page.keyboard.press("j")
    assert (await focused(page))["number"] == 2
    await page.keyboard.press("k")
    assert (await focused(page))["number"] == 1
    await page.keyboard.press("k")  # the first row: stays
    assert (await focused(page))["number"] == 1
    for _ in range(3):
        await page.keyboard.press("j")
    assert await focused(page) == {"tag": "TR", "cls": "issue", "number": 1, "board": "octo/first"}

    # Filtered-out rows are skipped.
    await below.locator(".filter-text").fill("crash")
    await expect(below.locator(".shown")).to_have_text("2 of 4 shown")
    await page.keyboard.press("Escape")
    assert await focused(page) == {"tag": "TR", "cls": "issue", "number": 1, "board": "octo/first"}
    await page.keyboard.press("j")
    assert (await focused(page))["number"] == 3
    # A focused row shows it.
    outline = await page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"


async def test_slash_focuses_the_filter_of_the_board_you_are_in_and_esc_leaves_it(
    server: AppServer, page: Page
) -> None:
    top, below = await two_boards(server, page)
    await page.keyboard.press("/")
    await expect(top.locator(".filter-text")).to_be_focused()  # the board on screen
    await page.keyboard.type("docs")
    await expect(top.locator(".filter-text")).to_have_value("docs")  # no "/" typed into it
    await expect(top.locator(".shown")).to_have_text("1 of 3 shown")
    await page.keyboard.press("Escape")
    await expect(top.locator(".filter-text")).not_to_be_focused()
    await expect(top.locator(".filter-text")).to_have_value("docs")  # left, not cleared
    assert await focused(page) == {"tag": "TR", "cls": "issue", "number": 2, "board": "octo/second"}
    # Keys typed into a field stay the field's.
    await page.keyboard.press("/")
    await page.keyboard.type("jk/o")
    await expect(top.locator(".filter-text")).to_have_value("jk/o")

    # In the second board (by j), "/" goes to that board's filter.
    await page.keyboard.press("Escape")
    await top.locator(".filter-text").fill("")
    await page.keyboard.press("Escape")
    for _ in range(3):
        await page.keyboard.press("j")
    assert (await focused(page))["board"] == "octo/first"
    await page.keyboard.press("/")
    await expect(below.locator(".filter-text")).to_be_focused()


async def test_o_opens_the_row_on_github_and_enter_previews_it(server: AppServer, page: Page) -> None:
    async def github(route: Route) -> None:
        await route.fulfill(status=200, content_type="text/html", body="<title>GitHub</title>")

    await page.context.route("https://github.com/**", github)  # GitHub is out of reach here
    await two_boards(server, page)
    await page.keyboard.press("j")
    await page.keyboard.press("j")
    async with page.context.expect_page() as opened:
        await page.keyboard.press("o")
    tab = await opened.value
    assert tab.url == "https://github.com/octo/second/issues/2"
    assert await tab.evaluate("window.opener") is None  # no handle on the dashboard
    await tab.close()
    await page.bring_to_front()

    await page.keyboard.press("Enter")
    drawer = page.locator("dialog#preview")
    await expect(drawer.locator(".preview-body")).to_have_text("Body of octo/second#2")
    assert await page.evaluate("document.getElementById('preview').contains(document.activeElement)")
    await page.keyboard.press("j")  # keys in the drawer are the drawer's: the rows do not move
    await expect(drawer.locator(".preview-body")).to_have_text("Body of octo/second#2")
    await page.keyboard.press("Escape")
    await expect(drawer).to_be_hidden()
    assert await focused(page) == {"tag": "TR", "cls": "issue", "number": 2, "board": "octo/second"}
    await page.keyboard.press("j")
    assert (await focused(page))["number"] == 3


async def test_a_skip_link_reaches_each_board_and_follows_live_updates(server: AppServer, page: Page) -> None:
    _, below = await two_boards(server, page)
    await page.goto(f"{server.url}/#filter.issues:octo/first=crash")
    await expect(page.locator("#connection")).to_have_attribute("data-state", "live")
    await page.keyboard.press("Tab")  # the first thing Tab reaches
    skip = page.locator("#skip-links a")
    await expect(skip).to_have_text(["Skip to octo/second issues", "Skip to octo/first issues"])
    await expect(skip.first).to_be_focused()
    await expect(skip.first).to_be_visible()  # shown once focused
    await page.keyboard.press("Tab")
    await expect(skip.nth(1)).to_be_focused()
    await page.keyboard.press("Enter")
    heading = below.locator("h2")
    await expect(heading).to_be_focused()
    # The URL's filters are left as they were; the board skipped to is now the one worked on.
    assert parse_qs(urlsplit(page.url).fragment) == {
        "filter.issues:octo/first": ["crash"],
        "board": ["issues:octo/first"],
    }
    await expect(below.locator(".filter-text")).to_have_value("crash")
    # Within the board from there: the repository link, the chart bars (each filters), the filter box.
    filter_box = below.locator(".filter-text")
    for _ in range(20):
        await page.keyboard.press("Tab")
        if await filter_box.evaluate("box => box === document.activeElement"):
            break
    await expect(filter_box).to_be_focused()
    assert await page.locator("#skip-links").evaluate("nav => nav.offsetWidth") <= 1  # hidden again

    await push(server.url, "octo/third", issues("octo/third", 1))
    await expect(skip).to_have_text(
        ["Skip to octo/second issues", "Skip to octo/first issues", "Skip to octo/third issues"]  # the page's order
    )
