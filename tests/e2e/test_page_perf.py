"""Fast at 5,000 rows (#16): what the speed is made of, checked for being right in Chromium.

The rows come in chunks the browser skips when off screen; sorting and filtering go through an
index of the rows and keep the chunks packed; a re-sync places only its rows; relative times are
updated where they can be seen. How fast it is, is measured by ``python -m bench.page_browser``
(BENCHMARKS.md), not here: these tests check that every step shows the right rows.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from playwright.async_api import Browser, Locator, Page, expect

from issuebridge.web.templating import CHUNK_ROWS as CHUNK
from testkit.fake_github import FakeGitHub, make_pull
from testkit.mcp_clients import TRANSPORTS
from tests.browser import BROWSER_TESTS
from tests.e2e.test_stream import push
from tests.inprocess import AppServer

pytestmark = BROWSER_TESTS

REPO = "octo/big"
BOARD = f"issues:{REPO}"
COUNT = 250  # five chunks
WORDS = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel"]
WORDS += ["india", "juliet", "kilo", "lima", "mike", "november", "oscar"]
PEOPLE = ["ana", "bo", "cy", "dee", "ed"]
START = datetime(2026, 1, 1, tzinfo=UTC)


def stamp(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


def issue(n: int, *, title: str | None = None, updated: datetime | None = None) -> dict[str, Any]:
    """Issue ``n``: values that repeat (so ties are broken by number) and some left empty."""
    return {
        "number": n,
        "title": title or f"{WORDS[n % 15]} {WORDS[(n * 7) % 15]} {WORDS[(n * 11) % 15]}",
        "state": "closed" if n % 4 == 0 else "open",
        "author": PEOPLE[n % 5],
        "assignees": [PEOPLE[(n + 2) % 5]] if n % 3 == 0 else [],
        "comments": (n * 7) % 13,
        "labels": [{"name": "bug", "color": "d73a4a"}] if n % 2 else [],
        "updated_at": stamp(updated or START + timedelta(hours=(n * 37) % 500)),
        "html_url": f"https://github.com/{REPO}/issues/{n}",
    }


def board_of(page: Page) -> Locator:
    return page.locator(f'section[data-id="{BOARD}"]')


async def open_board(page: Page, server: AppServer) -> Locator:
    await page.goto(server.url)
    await expect(page.locator("#connection")).to_have_attribute("data-state", "live")
    return board_of(page)


async def layout(board: Locator) -> Any:
    """Each chunk's shown rows' numbers, in page order, once the chunks off the screen have theirs
    (the table is aria-busy until then)."""
    await expect(board.locator("table.chunked")).not_to_have_attribute("aria-busy", "true")
    return await board.locator("tbody.rows").evaluate_all(
        """chunks => chunks.filter((c) => !c.hidden)
             .map((c) => [...c.rows].filter((r) => !r.hidden).map((r) => Number(r.dataset.number)))"""
    )


async def shown(board: Locator) -> list[int]:
    return [number for chunk in await layout(board) for number in chunk]


def packed(numbers: list[int]) -> list[list[int]]:
    return [numbers[i : i + CHUNK] for i in range(0, len(numbers), CHUNK)]


def expected_order(issues: list[dict[str, Any]], column: str, direction: str) -> list[int]:
    """As the page sorts: empty values last either way, ties newest number first."""

    def value(i: dict[str, Any]) -> Any:
        return {
            "number": i["number"],
            "title": i["title"].casefold(),
            "state": i["state"],
            "author": i["author"],
            "assignees": ", ".join(i["assignees"]),
            "comments": i["comments"],
            "updated": i["updated_at"],
        }[column]

    present = [i for i in issues if value(i) != ""]
    empty = [i for i in issues if value(i) == ""]
    by_number = sorted(present, key=lambda i: -i["number"])
    ordered = sorted(by_number, key=value, reverse=direction == "descending")
    return [i["number"] for i in ordered] + sorted((i["number"] for i in empty), reverse=True)


async def test_rows_come_in_chunks_and_only_chunks_near_the_screen_are_drawn(
    server: AppServer, page: Page, browser: Browser
) -> None:
    issues = [issue(n) for n in range(1, COUNT + 1)]
    await push(server.url, REPO, issues)
    board = await open_board(page, server)
    newest_first = expected_order(issues, "updated", "descending")
    assert await layout(board) == packed(newest_first)
    drawn = await board.locator("tbody.rows").evaluate_all(
        "chunks => chunks.map((c) => c.rows[0].checkVisibility({ contentVisibilityAuto: true }))"
    )
    assert drawn == [True] + [False] * 4  # the chunks below the first screen or two are not laid out

    # Without JavaScript, every row is there and readable: the chunks are plain table markup.
    context = await browser.new_context(java_script_enabled=False, viewport={"width": 1280, "height": 900})
    static = await context.new_page()
    await static.goto(server.url)
    await expect(static.locator("#connection")).to_have_text("not live (JavaScript is off)")
    static_board = board_of(static)
    await expect(static_board.locator("tr.issue")).to_have_count(COUNT)
    assert await layout(static_board) == packed(newest_first)
    assert await static.get_by_role("row").count() == COUNT + 1  # still a table to assistive technology
    last = static_board.locator(f'tr[data-number="{newest_first[-1]}"]')
    await last.scroll_into_view_if_needed()
    await expect(last.locator(".title")).to_contain_text(issues[newest_first[-1] - 1]["title"])
    await context.close()


async def test_every_column_sorts_across_chunks_both_ways(server: AppServer, page: Page) -> None:
    issues = [issue(n) for n in range(1, COUNT + 1)]
    await push(server.url, REPO, issues)
    board = await open_board(page, server)
    headers = board.locator("thead th")
    columns = await board.locator("th[data-sort]").evaluate_all("ths => ths.map((th) => th.dataset.sort)")
    assert len(columns) == await headers.count()  # every column sorts
    assert columns == ["number", "title", "state", "author", "assignees", "comments", "updated"]
    for column in columns:
        header = board.locator(f'th[data-sort="{column}"]')
        for _ in range(2):
            await header.locator("button").click()
            # The chunks off the screen get their rows after the next frame; no row is ever
            # out of the table meanwhile.
            assert await board.locator("tbody.rows > tr").count() == COUNT
            direction = await header.get_attribute("aria-sort")
            assert direction in ("ascending", "descending")
            assert await layout(board) == packed(expected_order(issues, column, direction)), (column, direction)


async def test_the_filter_keeps_chunks_packed_and_survives_a_resync(server: AppServer, page: Page) -> None:
    issues = [issue(n) for n in range(1, COUNT + 1)]
    await push(server.url, REPO, issues)
    board = await open_board(page, server)
    await board.locator('th[data-sort="number"] button').click()  # number, descending
    await board.locator(".filter-text").fill("li")  # charlie, lima
    matching = [n for n in range(COUNT, 0, -1) if "li" in issues[n - 1]["title"]]
    assert CHUNK < len(matching) < COUNT // 2
    assert await layout(board) == packed(matching)  # packed into the first chunks; the others hidden
    await expect(board.locator(".shown")).to_have_text(f"{len(matching)} of {COUNT} shown")

    # A re-sync: one row leaves the filter, one joins it, one is removed, one is added; the
    # rest stay where they were.
    leaving, joining, removed = matching[0], next(n for n in range(1, COUNT) if n not in matching), matching[1]
    changed = [dict(i) for i in issues if i["number"] != removed]
    for i in changed:
        if i["number"] == leaving:
            i["title"] = "no longer matching"
        if i["number"] == joining:
            i["title"] = "li now"
    changed.append(issue(COUNT + 1, title="li added"))
    await page.evaluate("window.__sameDocument = true")
    await push(server.url, REPO, changed)
    await expect(board.locator(f'tr[data-number="{COUNT + 1}"]')).to_be_visible()
    now_matching = sorted(
        {n for n in matching if n not in (leaving, removed)} | {joining, COUNT + 1},
        reverse=True,
    )
    assert await layout(board) == packed(now_matching)
    await expect(board.locator(".shown")).to_have_text(f"{len(now_matching)} of {COUNT} shown")
    await expect(board.locator(f'tr[data-number="{removed}"]')).to_have_count(0)
    assert await page.evaluate("window.__sameDocument") is True

    await board.locator(".filter-text").fill("")
    everything = sorted({i["number"] for i in changed}, reverse=True)
    assert await layout(board) == packed(everything)
    await expect(board.locator(".shown")).to_have_text("")


async def test_typing_and_erasing_a_filter_key_by_key_keeps_every_step_packed_and_in_order(
    server: AppServer, page: Page
) -> None:
    """Each key narrows or widens the rows shown, and the chunks gather hidden rows as it goes
    (the rows a chunk shows are moved as few as can be, the others stay where they are). Free
    text is found within what a row shows, not across its cells: "fo" is not "golf" + "open"."""
    issues = [issue(n) for n in range(1, COUNT + 1)]
    await push(server.url, REPO, issues)
    board = await open_board(page, server)
    box = board.locator(".filter-text")
    by_update = expected_order(issues, "updated", "descending")
    # Letters only titles have (not the states, people, label, numbers or times of the rows).
    steps = ["f", "fo", "fox", "fo", "f", "", "j", "ju", "jul", "ju", "j", ""]
    await box.click()
    for step in steps:
        typed = await box.input_value()
        await (page.keyboard.press("Backspace") if len(step) < len(typed) else page.keyboard.type(step[-1]))
        await expect(box).to_have_value(step)
        matching = [n for n in by_update if step in issues[n - 1]["title"]]
        assert await layout(board) == packed(matching), f"after typing to {step!r}"
    await board.locator('th[data-sort="number"] button').click()  # every row moves after all that
    assert await layout(board) == packed(list(range(COUNT, 0, -1)))


async def test_a_resync_puts_changed_rows_in_their_sorted_place(server: AppServer, page: Page) -> None:
    issues = [issue(n) for n in range(1, COUNT + 1)]
    await push(server.url, REPO, issues)
    board = await open_board(page, server)
    newest = START + timedelta(days=100)
    # Three rows updated now (to the top, newest first), one from the end of the last chunk.
    oldest_first = expected_order(issues, "updated", "ascending")
    moved = [oldest_first[0], oldest_first[120], oldest_first[-1]]
    resynced = [
        issue(i["number"], updated=newest + timedelta(minutes=moved.index(i["number"]))) if i["number"] in moved else i
        for i in issues
    ]
    # The last row of the first chunk moves on into the second (three rows came in above it).
    shifted = expected_order(issues, "updated", "descending")[CHUNK - 1]
    focused = board.locator(f'tr[data-number="{shifted}"] .title a')
    await focused.focus()
    await push(server.url, REPO, resynced)
    await expect(board.locator(f'tr[data-number="{moved[0]}"]')).to_have_class("issue flash")
    assert await layout(board) == packed(expected_order(resynced, "updated", "descending"))
    assert (await shown(board))[:3] == moved[::-1]
    assert (await layout(board))[1][:3].count(shifted) == 1
    await expect(focused).to_be_focused()  # moved to another chunk, and kept the focus


async def test_relative_times_are_updated_only_where_they_can_be_seen(server: AppServer, page: Page) -> None:
    at = datetime.now(UTC).replace(microsecond=0)
    issues = [issue(n, updated=at - timedelta(seconds=n)) for n in range(1, COUNT + 1)]  # 1 newest
    await push(server.url, REPO, issues)
    await page.clock.install(time=at)
    board = await open_board(page, server)

    def time_of(number: int) -> Locator:
        return board.locator(f'tr[data-number="{number}"] time')

    await expect(time_of(1)).to_have_text("just now")
    await expect(time_of(250)).to_have_text("4 minutes ago")  # as the server rendered it
    await page.clock.run_for(10 * 60 * 1000)  # ten minutes of the page's 30-second ticks
    await expect(time_of(1)).to_have_text("10 minutes ago")
    await expect(board.locator(".last-updated")).to_have_text("10 minutes ago")  # outside the rows too
    for far in (220, 250):  # chunks far down: not drawn, left alone
        assert await time_of(far).text_content() in ("2 minutes ago", "3 minutes ago", "4 minutes ago")

    # A sort brings them near the top, up to date.
    await board.locator('th[data-sort="number"] button').click()  # number, descending: 250, 249, ...
    await expect(time_of(250)).to_have_text("14 minutes ago")
    await expect(time_of(220)).to_have_text("14 minutes ago")

    # Row 36 is now in the last chunk: ticks leave it alone until it is scrolled to.
    await page.clock.run_for(10 * 60 * 1000)
    await expect(time_of(250)).to_have_text("24 minutes ago")
    assert await time_of(36).text_content() == "11 minutes ago"
    await time_of(36).scroll_into_view_if_needed()
    await expect(time_of(36)).to_have_text("21 minutes ago")


async def test_pull_request_boards_sort_by_every_column(server: AppServer, fake_github: FakeGitHub, page: Page) -> None:
    repo = "octo/pulls"
    pulls = [
        make_pull(repo, 1, title="beta", requested_reviewers=["zed"], head="b-branch"),
        make_pull(repo, 2, title="alpha", requested_reviewers=[], head="c-branch"),
        make_pull(repo, 3, title="gamma", requested_reviewers=["amy"], head="a-branch"),
    ]
    fake_github.add_pulls(repo, pulls)
    await page.goto(server.url)
    await expect(page.locator("#connection")).to_have_attribute("data-state", "live")
    async with TRANSPORTS["streamable-http"](server.url) as client:
        result = await client.call_tool("send_pull_requests_to_dashboard", {"owner": "octo", "repo": "pulls"})
    assert not result.is_error, result.content
    board = page.locator(f'section[data-id="pulls:{repo}"]')
    await expect(board.locator("tr.pull")).to_have_count(3)
    assert await board.locator("th[data-sort]").count() == await board.locator("thead th").count()

    async def sorted_by(column: str) -> list[int]:
        await board.locator(f'th[data-sort="{column}"] button').click()
        rows = board.locator("tr.pull:not([hidden])")
        return list(await rows.evaluate_all("rows => rows.map((r) => Number(r.dataset.number))"))

    assert await sorted_by("reviewers") == [3, 1, 2]  # amy, zed, then none
    assert await sorted_by("branches") == [3, 1, 2]  # a-, b-, c-branch
    assert await sorted_by("title") == [2, 1, 3]
