"""A stable page, in Chromium: entries keep their place across re-syncs and reloads, a reader's own
order (buttons from the keyboard, dragging) is kept in the browser, the scroll position holds
while things above the viewport change, a pull-request re-sync keeps the filter box's focus, and
the board index jumps between boards, and a review webhook changes the attention cards. The
server's side is tests/test_page_order.py."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from playwright.async_api import Page, expect

from testkit.fake_github import FakeGitHub, make_pull, webhook_request
from testkit.mcp_clients import TRANSPORTS
from testkit.servers import Listener
from tests.browser import BROWSER_TESTS
from tests.e2e.test_stream import push
from tests.inprocess import AppServer, start_app

pytestmark = BROWSER_TESTS


def issues(count: int, *, title: str = "Issue", first: int = 1, day: int = 1) -> list[dict[str, Any]]:
    """Open issues ``first``.. ``first + count - 1``, the higher the number the more recently updated."""
    return [
        {
            "number": n,
            "title": f"{title} {n}",
            "state": "open",
            "updated_at": f"2030-01-{day:02d}T{n // 3600 % 24:02d}:{n // 60 % 60:02d}:{n % 60:02d}Z",
        }
        for n in range(first, first + count)
    ]


async def live(page: Page, url: str) -> None:
    await page.goto(url)
    await expect(page.locator("#connection")).to_have_attribute("data-state", "live")


async def order(page: Page) -> list[str]:
    return list(await page.locator("#groups section.entry").evaluate_all("els => els.map(el => el.dataset.id)"))


async def counts(page: Page, key: str, count: int) -> None:
    """Waits until the page's entry ``key`` counts ``count`` rows (a re-sync has arrived)."""
    await expect(page.locator(f'section.entry[data-id="{key}"] .board-header .count')).to_have_text(str(count))


ONE, TWO, THREE, FOUR = (f"issues:octo/{name}" for name in ("one", "two", "three", "four"))


async def test_entries_keep_their_place_across_a_resync_and_a_reload(server: AppServer, page: Page) -> None:
    for key in (ONE, TWO, THREE):
        await push(server.url, key.split(":")[1], issues(3))
    await live(page, server.url)
    assert await order(page) == [ONE, TWO, THREE]
    await page.evaluate("window.__sameDocument = true")
    await push(server.url, "octo/three", issues(5, title="Changed"))  # a delta
    await counts(page, THREE, 5)
    await push(server.url, "octo/one", issues(4, title="Changed"))
    await counts(page, ONE, 4)
    assert await order(page) == [ONE, TWO, THREE]  # the newest activity moved nothing
    await push(server.url, "octo/four", issues(1))  # a new board: at the end
    await counts(page, FOUR, 1)
    assert await order(page) == [ONE, TWO, THREE, FOUR]
    assert await page.evaluate("window.__sameDocument") is True
    await page.reload()
    await expect(page.locator("#connection")).to_have_attribute("data-state", "live")
    assert await order(page) == [ONE, TWO, THREE, FOUR]  # as the server renders it


async def test_the_readers_own_order_from_the_keyboard_and_by_dragging_survives_reload_and_resync(
    server: AppServer, page: Page
) -> None:
    for key in (ONE, TWO, THREE):
        await push(server.url, key.split(":")[1], issues(2))
    await live(page, server.url)
    up = page.get_by_role("button", name="Move up: octo/three issues")
    await up.focus()
    await page.keyboard.press("Enter")
    assert await order(page) == [ONE, THREE, TWO]
    await expect(up).to_be_focused()  # the focus moves with the board
    await page.keyboard.press("Enter")
    assert await order(page) == [THREE, ONE, TWO]
    await page.get_by_role("button", name="Pin to top: octo/two issues").click()
    assert await order(page) == [TWO, THREE, ONE]
    await page.get_by_role("button", name="Move down: octo/two issues").press("Enter")
    assert await order(page) == [THREE, TWO, ONE]
    index = page.locator("#board-index a")
    await expect(index).to_have_text(["octo/three issues 2", "octo/two issues 2", "octo/one issues 2"])

    # Dragging a board by its handle onto the upper half of another puts it before that one (both
    # on screen: Playwright presses first and moves after scrolling to the target).
    await page.set_viewport_size({"width": 1280, "height": 1600})
    one = page.locator(f'section.entry[data-id="{ONE}"]')
    await one.locator(".drag-handle").drag_to(
        page.locator(f'section.entry[data-id="{THREE}"]'), target_position={"x": 200, "y": 60}
    )
    assert await order(page) == [ONE, THREE, TWO]

    await push(server.url, "octo/three", issues(6, title="Changed"))  # a re-sync moves nothing
    await counts(page, THREE, 6)
    await push(server.url, "octo/five", issues(1))  # a new board: after the reader's
    await counts(page, "issues:octo/five", 1)
    assert await order(page) == [ONE, THREE, TWO, "issues:octo/five"]
    await page.reload()
    await expect(page.locator("#connection")).to_have_attribute("data-state", "live")
    assert await order(page) == [ONE, THREE, TWO, "issues:octo/five"]  # kept in this browser
    stored = await page.evaluate("JSON.parse(localStorage.getItem('issuebridge.order'))")
    assert stored[:3] == [ONE, THREE, TWO]


# What a paint while the page is still parsing would show (readystatechange "interactive" comes
# once parsing ends, before any module runs): whether the boards are visible.
BEFORE_THE_SCRIPT = """
document.addEventListener("readystatechange", () => {
  if (document.readyState === "interactive")
    window.beforeTheScript = getComputedStyle(document.getElementById("groups")).visibility;
});
"""


async def test_a_reload_never_shows_the_server_order_before_the_readers_own(server: AppServer, page: Page) -> None:
    for key in (ONE, TWO, THREE):
        await push(server.url, key.split(":")[1], issues(2))
    await page.add_init_script(BEFORE_THE_SCRIPT)
    await live(page, server.url)
    assert await page.evaluate("window.beforeTheScript") == "visible"  # no order of the reader's to wait for
    await page.get_by_role("button", name="Pin to top: octo/three issues").click()
    assert await order(page) == [THREE, ONE, TWO]

    await page.reload()
    await expect(page.locator("#connection")).to_have_attribute("data-state", "live")
    assert await page.evaluate("window.beforeTheScript") == "hidden"  # until the reader's order is applied
    await expect(page.locator("#groups")).to_be_visible()
    assert await order(page) == [THREE, ONE, TWO]

    # Should the script never run, the boards show anyway, in the server's order.
    await page.route("**/static/dashboard.js*", lambda route: route.abort())
    await page.reload()
    await expect(page.locator(f'section.entry[data-id="{ONE}"] h2')).to_be_visible()
    assert await order(page) == [ONE, TWO, THREE]


async def scroll_to(page: Page, selector: str, y: float) -> None:
    """Scrolls until ``selector`` is ``y`` px down the window. Chunks of rows off screen are laid
    out only as they come near (content-visibility), so one scroll may land short of the row by
    however much the chunks it brought on screen differ from their estimated height: as a
    reader's scrolling does, it settles in a few steps (bounded)."""
    for _ in range(5):
        await page.locator(selector).evaluate(
            f"row => window.scrollTo(0, row.getBoundingClientRect().top + scrollY - {y})"
        )
        if abs(await top_of(page, selector) - y) < 1:
            return


async def top_of(page: Page, selector: str) -> float:
    """Where ``selector`` is on screen as the next frame paints it (the scroll is kept before then)."""
    await page.evaluate("new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))")
    return float(await page.locator(selector).evaluate("el => el.getBoundingClientRect().top"))


async def test_the_scroll_position_holds_while_rows_above_the_viewport_change(server: AppServer, page: Page) -> None:
    await push(server.url, "octo/one", issues(10))
    await push(server.url, "octo/two", issues(200))
    await live(page, server.url)
    reading = f'section.entry[data-id="{TWO}"] tr[data-number="100"]'
    await scroll_to(page, reading, 300)
    scrolled = await page.evaluate("scrollY")
    assert scrolled > 1500 and abs(await top_of(page, reading) - 300) < 1

    # A board above grows by 50 rows.
    above = await page.locator(f'section.entry[data-id="{ONE}"]').evaluate("el => el.offsetHeight")
    await push(server.url, "octo/one", issues(60))
    await counts(page, ONE, 60)
    grown = await page.locator(f'section.entry[data-id="{ONE}"]').evaluate("el => el.offsetHeight") - above
    assert grown > 500
    assert abs(await top_of(page, reading) - 300) < 1
    assert abs(await page.evaluate("scrollY") - (scrolled + grown)) < 2  # heights in fractions of a pixel

    # The board being read gets 30 newer rows on top, and the rows on screen change (each row
    # node replaced, so nothing on screen survives for the browser's own scroll anchoring).
    scrolled = await page.evaluate("scrollY")
    changed = [{**row, "title": f"Edited {row['number']}"} for row in issues(200)]  # same order, new text
    await push(server.url, "octo/two", changed + issues(30, first=201))
    await counts(page, TWO, 230)
    await expect(page.locator(f"{reading} .title")).to_contain_text("Edited 100")
    assert abs(await top_of(page, reading) - 300) < 1
    assert await page.evaluate("scrollY") > scrolled + 30 * 20  # moved down by the 30 new rows above


async def test_a_pull_request_resync_keeps_the_filter_its_focus_and_updates_the_cards(
    server: AppServer, fake_github: FakeGitHub, page: Page
) -> None:
    repo = "octo/pulls"
    pulls = [make_pull(repo, n, title=f"Feature {n}") for n in range(1, 6)]
    fake_github.add_pulls(repo, pulls)
    await live(page, server.url)

    async def sync() -> None:
        async with TRANSPORTS["streamable-http"](server.url) as client:
            result = await client.call_tool("send_pull_requests_to_dashboard", {"owner": "octo", "repo": "pulls"})
        assert not result.is_error, result.content

    await sync()
    board = page.locator(f'section[data-id="pulls:{repo}"]')
    waiting = board.locator('.attention-card[data-attention="waiting"]')
    await expect(waiting.locator(".big")).to_have_text("5")
    await board.evaluate("el => { el.__kept = true; el.querySelector('tbody tr').__kept = true; }")
    box = board.locator(".filter-text")
    await box.click()
    await page.keyboard.type("Feat")
    await waiting.locator(".attention-filter").evaluate("el => el.click()")  # the card filters too; focus stays

    fake_github.add_pulls(
        repo,
        [
            *pulls[:3],
            make_pull(repo, 4, title="Feature 4 reworked", draft=True),
            make_pull(repo, 6, title="Feature 6"),
            make_pull(repo, 7, title="Other 7"),
        ],
    )
    await sync()
    await counts(page, f"pulls:{repo}", 6)
    await expect(box).to_be_focused()
    assert await board.evaluate("el => el.__kept === true")  # the same board node: updated, not replaced
    await expect(board.locator(".count")).to_have_text("6")
    await expect(waiting.locator(".big")).to_have_text("5")  # 1-3, 6, 7 (4 is a draft now, 5 gone)
    await expect(board.locator('.attention-card[data-attention="drafts"] .big')).to_have_text("1")
    await expect(waiting.locator(".attention-filter")).to_have_attribute("aria-pressed", "true")
    shown = board.locator("tbody tr.pull:not([hidden])")
    await expect(shown).to_have_count(5)  # waiting and matching "feat" (titles, branches): 1, 2, 3, 6, 7
    await page.keyboard.type("ure 6")  # the next keystrokes still go to the box
    await expect(box).to_have_value("Feature 6")
    await expect(shown).to_have_count(1)

    # The card's own button keeps the focus too, though the re-sync replaces the cards.
    card_button = waiting.locator(".attention-filter")
    await card_button.focus()
    fake_github.add_pulls(repo, [*pulls[:3], make_pull(repo, 6, title="Feature 6")])
    await sync()
    await counts(page, f"pulls:{repo}", 4)
    await expect(waiting.locator(".big")).to_have_text("4")
    await expect(card_button).to_be_focused()
    await expect(card_button).to_have_attribute("aria-pressed", "true")
    await page.keyboard.press("Enter")  # and works: the card's filter is off
    await expect(card_button).to_have_attribute("aria-pressed", "false")


async def test_the_board_index_counts_and_jumps_between_boards(server: AppServer, page: Page) -> None:
    for key, count in ((ONE, 80), (TWO, 120), (THREE, 3)):
        await push(server.url, key.split(":")[1], issues(count))
    await live(page, server.url)
    index = page.get_by_role("navigation", name="Boards")
    links = index.get_by_role("link")
    await expect(links).to_have_text(["octo/one issues 80", "octo/two issues 120", "octo/three issues 3"])
    await page.locator(f'section.entry[data-id="{ONE}"] .filter-text').fill("crash")
    await links.nth(2).click()
    heading = page.locator(f'section.entry[data-id="{THREE}"] h2')
    await expect(heading).to_be_focused()
    assert abs(await top_of(page, f'section.entry[data-id="{THREE}"]')) < 2 or await page.evaluate(
        "scrollY + innerHeight >= document.documentElement.scrollHeight - 1"
    )
    # The fragment keeps the filters; the board jumped to is now the one worked on (board=).
    assert parse_qs(urlsplit(page.url).fragment) == {f"filter.{ONE}": ["crash"], "board": [THREE]}
    await push(server.url, "octo/three", issues(7))
    await counts(page, THREE, 7)
    await expect(links.nth(2)).to_have_text("octo/three issues 7")


REVIEWS = Path(__file__).resolve().parents[1] / "fixtures" / "webhooks" / "api.github.com" / "pull_request_review"
SECRET = "whsec-for-the-stable-page-tests"


def recorded_review(name: str, updated_at: str) -> dict[str, Any]:
    """A recorded ``pull_request_review`` delivery, dated ``updated_at`` and asking nobody to review."""
    payload: dict[str, Any] = json.loads((REVIEWS / name).read_text())
    payload["pull_request"] |= {"updated_at": updated_at, "requested_reviewers": [], "requested_teams": []}
    return payload


async def test_a_review_webhook_updates_the_attention_cards_live(
    server_env: dict[str, str], fake_github: FakeGitHub, page: Page
) -> None:
    hooked = start_app({**server_env, "ISSUEBRIDGE_WEBHOOK_SECRET": SECRET})
    try:
        submitted = recorded_review("submitted.json", "2099-01-01T00:00:00Z")
        repo, number = submitted["repository"]["full_name"], submitted["pull_request"]["number"]
        fake_github.add_pulls(repo, [make_pull(repo, n, title=f"Feature {n}") for n in (1, number, 3)])
        await live(page, hooked.url)
        owner, name = repo.split("/")
        async with TRANSPORTS["streamable-http"](hooked.url) as client:
            result = await client.call_tool("send_pull_requests_to_dashboard", {"owner": owner, "repo": name})
        assert not result.is_error, result.content
        waiting = page.locator(f'section[data-id="pulls:{repo.lower()}"] .attention-card[data-attention="waiting"]')
        await expect(waiting.locator(".big")).to_have_text("3")

        async def deliver(payload: dict[str, Any]) -> None:
            body, headers = webhook_request(SECRET, "pull_request_review", payload)
            async with httpx.AsyncClient(base_url=hooked.url) as http:
                response = await http.post("/webhooks/github", content=body, headers=headers)
            assert response.status_code == 200 and response.json()["changed"] is True, response.text

        await deliver(submitted)  # reviewed: no longer waiting
        await expect(waiting.locator(".big")).to_have_text("2")
        await expect(waiting.locator(".attention-list")).not_to_contain_text(f"#{number} ")
        dismissed = recorded_review("dismissed.with-organization.with-installation.json", "2099-01-02T00:00:00Z")
        await deliver(dismissed)  # dismissed: whether a review stands is not known, so it counts again
        await expect(waiting.locator(".big")).to_have_text("3")
        await expect(waiting.locator(".attention-note")).to_have_text(
            "1 of them may have a review GitHub's search did not report"
        )
    finally:
        hooked.stop()


async def test_a_snapshot_after_a_restart_keeps_the_focus_caret_and_scroll_position(
    server_env: dict[str, str], listener: Listener, page: Page
) -> None:
    first = start_app(server_env, listener=listener)
    await push(first.url, "octo/one", issues(40))
    await push(first.url, "octo/two", issues(100))
    await push(first.url, "octo/three", issues(100))  # room below, to scroll by what grows above
    await live(page, first.url)
    reading = f'section.entry[data-id="{TWO}"] tr[data-number="50"]'
    await scroll_to(page, reading, 300)
    box = page.locator(f'section.entry[data-id="{TWO}"] .filter-text')
    await box.evaluate("el => { el.focus({ preventScroll: true }); window.__oldBox = el; }")
    await page.keyboard.type('"Issue 5"')  # a phrase (two words would match any row with a 5)
    await page.keyboard.press("ArrowLeft")
    await page.keyboard.press("ArrowLeft")  # the caret before the "5"
    shown = page.locator(f'section.entry[data-id="{TWO}"] tbody tr:not([hidden])')
    await expect(shown).to_have_count(11)  # 5, 50-59
    # The row read 300 px down the window, below the board's sticky headers.
    await scroll_to(page, reading, 300)
    reading_at = await top_of(page, reading)
    assert 0 < reading_at < 900 and await page.evaluate("scrollY") > 500  # on screen, well down the page
    # The page stays away while a change is made that no running server holds in its history
    # (made on a server since stopped): it resumes with a snapshot, which replaces every node.
    await page.route("**/api/dashboard/events*", lambda route: route.abort())
    first.stop()
    await expect(page.locator("#connection")).to_have_attribute("data-state", "reconnecting")
    between = start_app(server_env, listener=listener)
    await push(between.url, "octo/one", issues(50))
    between.stop()
    second = start_app(server_env, listener=listener)
    try:
        await push(second.url, "octo/one", issues(70))  # 30 rows more above the reader
        await page.unroute("**/api/dashboard/events*")
        await expect(page.locator("#connection")).to_have_attribute("data-state", "live", timeout=10_000)
        await counts(page, ONE, 70)
        await expect(box).to_be_focused()
        assert await page.evaluate("!window.__oldBox.isConnected")  # a new node (a snapshot replaces them all)
        await expect(box).to_have_value('"Issue 5"')
        await expect(shown).to_have_count(11)
        assert abs(await top_of(page, reading) - reading_at) < 2  # the row read stays where it was
        # The caret is kept: typing goes where it was. (Filtering to one row hides the row read,
        # and the browser scrolls the box being typed in into view: the scroll is not asserted after.)
        await page.keyboard.type("1")
        await expect(box).to_have_value('"Issue 15"')  # typed at the caret
        await expect(shown).to_have_count(1)
        await page.keyboard.press("Backspace")
        await page.keyboard.press("Delete")
        await page.keyboard.type("5")
        await expect(shown).to_have_count(11)
    finally:
        second.stop()
