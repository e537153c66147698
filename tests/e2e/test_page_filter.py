"""A real filter on the dashboard (#16), in Chromium against the real server: tokens combined with
AND, the label picker, chart bars that filter, and the board being worked on kept in the URL.

The page's clock is the test's (``page.clock``), and the issues' times are set from it, so that
`updated:<7d` and the age chart's buckets (the server's clock, the same instant give or take the
test's own run) always fall days away from their bounds.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

from playwright.async_api import Browser, Locator, Page, expect

from testkit.fake_github import FakeGitHub, make_pull
from testkit.mcp_clients import TRANSPORTS
from tests.browser import BROWSER_TESTS, PWN
from tests.e2e.test_stream import push
from tests.inprocess import AppServer

pytestmark = BROWSER_TESTS

REPO = "octo/app"
BOARD = f"issues:{REPO}"
NOW = datetime.now(UTC).replace(microsecond=0)
LABELS = {"bug": "d73a4a", "docs": "0075ca", "good first issue": "7057ff", "stale": "ededed"}


def ago(days: float) -> str:
    return (NOW - timedelta(days=days)).isoformat().replace("+00:00", "Z")


def issue(
    number: int,
    title: str,
    labels: list[str],
    author: str,
    assignees: list[str],
    updated: float,
    created: float,
    state: str = "open",
) -> dict[str, Any]:
    return {
        "number": number,
        "title": title,
        "state": state,
        "labels": [{"name": name, "color": LABELS[name]} for name in labels],
        "author": author,
        "assignees": assignees,
        "updated_at": ago(updated),
        "created_at": ago(created),
    }


# Bug 3 and unlabelled 2; by age (created): < 1 week 1, 1-4 weeks 1, 1-3 months 1, 3-12 months 1, > 1 year 2.
ISSUES = [
    issue(1, "Compiler crash on bug input", ["bug"], "ana", [], updated=1, created=3),
    issue(2, "Docs for the compiler", ["docs", "good first issue"], "bo", ["ana"], updated=10, created=20),
    issue(3, "Stale bug in the compiler", ["bug", "stale"], "ana", [], updated=2, created=60),
    issue(4, "No labels here", [], "cy", ["bo"], updated=3, created=200),
    issue(5, "Another crash", ["bug"], "bo", [], updated=30, created=400),
    issue(6, "Unlabelled and old", [], "ana", [], updated=40, created=500, state="closed"),
]


async def open_board(server: AppServer, page: Page, fragment: str = "") -> Locator:
    await page.clock.set_fixed_time(NOW)
    await page.goto(f"{server.url}/{fragment}")
    await expect(page.locator("#connection")).to_have_attribute("data-state", "live")
    return page.locator(f'section.board[data-id="{BOARD}"]')


async def shown(board: Locator) -> list[int]:
    numbers = await board.locator("tr[data-number]:not([hidden])").evaluate_all(
        "rows => rows.map(r => Number(r.dataset.number))"
    )
    return sorted(numbers)


async def expect_shown(board: Locator, expected: list[int]) -> None:
    """Waits for exactly these rows (any order), then checks the count the board says."""
    await expect(board.locator("tr[data-number]:not([hidden])")).to_have_count(len(expected))
    assert await shown(board) == expected
    total = await board.locator("tr[data-number]").count()
    said = f"{len(expected)} of {total} shown"
    await expect(board.locator(".shown")).to_have_text(re.compile(f"^({said})?$" if len(expected) == total else said))


async def fragment_lists(page: Page) -> dict[str, list[str]]:
    pairs = await page.evaluate("[...new URLSearchParams(location.hash.slice(1))]")
    lists: dict[str, list[str]] = {}
    for name, value in pairs:
        lists.setdefault(name, []).append(value)
    return lists


# ---- tokens --------------------------------------------------------------------------------------


async def test_filter_tokens_combine_with_and(server: AppServer, page: Page) -> None:
    await push(server.url, REPO, ISSUES)
    board = await open_board(server, page)
    box = board.locator(".filter-text")
    await expect_shown(board, [1, 2, 3, 4, 5, 6])
    cases = [
        ("bug compiler", [1, 3]),  # each word anywhere in the row, not the phrase
        ('"bug input"', [1]),
        ("label:bug -label:stale author:ana assignee:none updated:<7d", [1]),
        ('label:"good first issue"', [2]),
        ("label:bug updated:>7d", [5]),
        ("assignee:ana", [2]),
        ("-assignee:none", [2, 4]),
        ("no:label", [4, 6]),
        ("is:closed", [6]),
        ("is:open author:ana", [1, 3]),
        ("created:<1w", [1]),
        ("AUTHOR:BO Crash", [5]),
    ]
    for text, expected in cases:
        await box.fill(text)
        await expect_shown(board, expected)
    # An unknown qualifier is free text: nothing says "colour:red", so nothing matches.
    await box.fill("colour:red")
    await expect_shown(board, [])
    await expect(board.locator(".no-matches")).to_be_visible()
    # The filter survives a re-sync that changes the rows it is about.
    await box.fill("label:bug -label:stale")
    await expect_shown(board, [1, 5])
    changed = [*ISSUES[:3], {**ISSUES[3], "labels": [{"name": "bug", "color": LABELS["bug"]}]}, *ISSUES[4:]]
    await push(server.url, REPO, changed)
    await expect_shown(board, [1, 4, 5])
    await expect(box).to_have_value("label:bug -label:stale")


async def test_is_draft_on_a_pull_request_board(server: AppServer, fake_github: FakeGitHub, page: Page) -> None:
    repo = "octo/pulls"
    fake_github.add_pulls(
        repo,
        [
            make_pull(repo, 1, title="Draft work", draft=True),
            make_pull(repo, 2, title="Ready", user="ana", assignees=["bo"]),
            make_pull(repo, 3, title="Done", state="closed", merged=True),
        ],
    )
    await open_board(server, page)
    async with TRANSPORTS["streamable-http"](server.url) as client:
        result = await client.call_tool(
            "send_pull_requests_to_dashboard", {"owner": "octo", "repo": "pulls", "state": "all"}
        )
    assert not result.is_error, result.content
    board = page.locator(f'section[data-id="pulls:{repo}"]')
    await expect(board.locator("tr.pull")).to_have_count(3)
    for text, expected in [
        ("is:draft", [1]),
        ("is:open", [1, 2]),  # a draft is open
        ("-is:draft is:open", [2]),
        ("is:merged", [3]),
        ("is:closed", [3]),  # merged is closed too
        ("author:ana", [2]),
        ("assignee:bo", [2]),
        ("assignee:none", [1, 3]),
    ]:
        await board.locator(".filter-text").fill(text)
        await expect_shown(board, expected)


# ---- the label picker ----------------------------------------------------------------------------


async def choices(board: Locator) -> list[tuple[str, str, bool]]:
    """The picker's choices: (name, count, ticked)."""
    result: list[list[Any]] = await board.locator(".label-choice").evaluate_all(
        "items => items.map(i => [i.querySelector('.choice-chip').textContent,"
        " i.querySelector('.label-count').textContent, i.querySelector('input').checked])"
    )
    return [(str(name), str(count), bool(ticked)) for name, count, ticked in result]


def choice(board: Locator, name: str) -> Locator:
    return board.locator(".label-choice").filter(has=board.page.get_by_text(name, exact=True)).locator("input")


async def pick_label(board: Locator, name: str) -> None:
    """Ticks one more label in a board's picker, as a user does: open, tick, close."""
    toggle = board.locator(".label-picker-toggle")
    await toggle.click()
    await choice(board, name).check()
    await toggle.click()
    await expect(board.locator(".label-picker-menu")).to_be_hidden()


async def clear_labels(board: Locator) -> None:
    await board.locator(".label-picker-toggle").click()
    await board.locator(".label-picker-clear").click()
    await board.locator(".label-picker-toggle").click()


async def test_label_picker_has_colours_counts_several_labels_and_no_label(server: AppServer, page: Page) -> None:
    await push(server.url, REPO, ISSUES)
    board = await open_board(server, page)
    toggle = board.locator(".label-picker-toggle")
    menu = board.locator(".label-picker-menu")
    await expect(toggle).to_have_text("All labels")
    await expect(menu).to_be_hidden()
    await toggle.click()
    await expect(menu).to_be_visible()
    await expect(toggle).to_have_attribute("aria-expanded", "true")
    assert await choices(board) == [
        ("No label", "2", False),
        ("bug", "3", False),
        ("docs", "1", False),
        ("good first issue", "1", False),
        ("stale", "1", False),
    ]
    # Each label in its GitHub colour, with the text colour of the server's chip.
    bug_chip = board.locator(".label-choice .choice-chip").filter(has_text="bug")
    await expect(bug_chip).to_have_css("background-color", "rgb(215, 58, 74)")
    await expect(bug_chip).to_have_css("color", "rgb(255, 255, 255)")
    await expect(board.locator(".label-choice .choice-chip").filter(has_text="stale")).to_have_css(
        "background-color", "rgb(237, 237, 237)"
    )

    # Several labels: rows with any of them.
    await choice(board, "bug").check()
    await expect_shown(board, [1, 3, 5])
    await expect(toggle).to_have_text("Label: bug")
    await choice(board, "docs").check()
    await expect_shown(board, [1, 2, 3, 5])
    await choice(board, "No label").check()
    await expect_shown(board, [1, 2, 3, 4, 5, 6])
    await expect(toggle).to_have_text("3 labels")
    await choice(board, "bug").uncheck()
    await expect_shown(board, [2, 4, 6])
    assert (await fragment_lists(page))[f"label.{BOARD}"] == ["docs"]
    assert (await fragment_lists(page))[f"nolabel.{BOARD}"] == ["1"]

    # With the filter box: ANDed.
    await board.locator(".filter-text").fill("author:ana")
    await expect_shown(board, [6])
    await board.locator(".filter-text").fill("")

    # Escape closes the list and gives the button back its focus; a click elsewhere closes it too.
    await expect(menu).to_be_hidden()  # typing in the box took the focus out of the list
    await toggle.click()
    await choice(board, "docs").focus()
    await page.keyboard.press("Escape")
    await expect(menu).to_be_hidden()
    await expect(toggle).to_be_focused()
    await toggle.click()
    await page.locator(".page-header h1").click()
    await expect(menu).to_be_hidden()
    await toggle.click()
    await board.locator(".filter-text").focus()  # focus moved on (Tab, a click)
    await expect(menu).to_be_hidden()

    # A re-sync: counts follow the rows, the choice stays, a chosen label no row has stays listed.
    resynced = [{**i, "labels": [lb for lb in i["labels"] if lb["name"] != "docs"]} for i in ISSUES]
    await push(server.url, REPO, resynced)
    await expect(board.locator(".label-choice .label-count").nth(2)).to_have_text("0")
    assert await choices(board) == [
        ("No label", "2", True),
        ("bug", "3", False),
        ("docs", "0", True),
        ("good first issue", "1", False),
        ("stale", "1", False),
    ]
    await expect_shown(board, [4, 6])

    # Reload: the same choice, from the URL.
    await page.reload()
    await expect(page.locator("#connection")).to_have_attribute("data-state", "live")
    await expect_shown(board, [4, 6])
    await expect(toggle).to_have_text("2 labels")
    await toggle.click()
    await expect(choice(board, "No label")).to_be_checked()
    await expect(choice(board, "docs")).to_be_checked()
    await board.locator(".label-picker-clear").click()
    await expect_shown(board, [1, 2, 3, 4, 5, 6])
    await expect(toggle).to_have_text("All labels")
    assert f"label.{BOARD}" not in await fragment_lists(page)


async def test_an_old_single_label_link_still_loads(server: AppServer, page: Page) -> None:
    await push(server.url, REPO, ISSUES)
    board = await open_board(server, page, f"#label.{BOARD}=stale")
    await expect_shown(board, [3])
    await expect(board.locator(".label-picker-toggle")).to_have_text("Label: stale")


async def test_hostile_label_links_stay_text_and_bounded(server: AppServer, page: Page) -> None:
    await push(server.url, REPO, ISSUES)
    markup = f'<img src=x onerror="{PWN}"><script>{PWN}</script>'
    many = "&".join(f"label.{BOARD}=x{n}" for n in range(150))
    board = await open_board(server, page, f"#label.{BOARD}={quote(markup)}&nolabel.{BOARD}={quote(markup)}&{many}")
    await board.locator(".label-picker-toggle").click()
    await expect(choice(board, markup)).to_be_checked()  # shown as text, and chosen
    assert await board.locator("img, script").count() == 0
    # The link's first 100 labels are read, and no more; with "No label", rows 4 and 6 show.
    await expect(board.locator(".label-choice input:checked")).to_have_count(101)
    await expect_shown(board, [4, 6])


# ---- chart bars ----------------------------------------------------------------------------------


def bar(board: Locator, selector: str) -> Locator:
    return board.locator(f".board-summary g.chart-filter{selector}")


async def test_chart_bars_filter_the_table(server: AppServer, page: Page) -> None:
    await push(server.url, REPO, ISSUES)
    board = await open_board(server, page)
    toggle = board.locator(".label-picker-toggle")
    bug = bar(board, '[data-label="bug"]')
    await expect(bug).to_have_attribute("role", "button")
    await expect(bug).to_have_attribute("aria-pressed", "false")
    await bug.click()
    await expect_shown(board, [1, 3, 5])
    await expect(bug).to_have_attribute("aria-pressed", "true")
    await expect(toggle).to_have_text("Label: bug")  # the picker says so too
    await bug.click()  # again: everything
    await expect_shown(board, [1, 2, 3, 4, 5, 6])
    await expect(toggle).to_have_text("All labels")
    await bar(board, "[data-no-label]").click()
    await expect_shown(board, [4, 6])
    await expect(toggle).to_have_text("Label: No label")
    await bar(board, "[data-no-label]").click()

    # Each age bar shows exactly the issues it counts, and says so in the filter box.
    box = board.locator(".filter-text")
    ages = bar(board, "[data-query]")
    await expect(ages).to_have_count(5)
    expected_by_age = {"< 1 week": [1], "1-4 weeks": [2], "1-3 months": [3], "3-12 months": [4], "> 1 year": [5, 6]}
    for index in range(5):
        age = ages.nth(index)
        name, count, query = await age.evaluate("g => [g.dataset.name, g.dataset.count, g.dataset.query]")
        await age.click()
        await expect(box).to_have_value(query)  # replacing the bar pressed before
        await expect_shown(board, expected_by_age[name])
        assert len(expected_by_age[name]) == int(count)
        await expect(age).to_have_attribute("aria-pressed", "true")
    # With other words in the box: the bar's bounds come and go, the words stay.
    await box.fill("crash")
    older = bar(board, '[data-name="> 1 year"]')
    await older.focus()
    await page.keyboard.press("Enter")
    await expect(box).to_have_value("crash created:>=365d")
    await expect_shown(board, [5])
    await page.keyboard.press(" ")
    await expect(box).to_have_value("crash")
    await expect_shown(board, [1, 5])
    assert (await fragment_lists(page))[f"filter.{BOARD}"] == ["crash"]


# ---- the board in the URL ------------------------------------------------------------------------


async def push_three_boards(server: AppServer) -> None:
    for repo in ["octo/first", "octo/second", "octo/third"]:  # the last pushed shows first
        rows = [{"number": n, "title": f"{repo} {n}", "state": "open"} for n in range(1, 41)]
        await push(server.url, repo, rows)


async def board_top(page: Page, board_id: str) -> float:
    top: float = await page.locator(f'section.entry[data-id="{board_id}"]').evaluate(
        "s => s.getBoundingClientRect().top"
    )
    return top


async def test_the_board_worked_on_is_in_the_url_and_a_link_scrolls_to_it(
    server: AppServer, page: Page, browser: Browser
) -> None:
    await push_three_boards(server)
    await page.goto(server.url)
    await expect(page.locator("#connection")).to_have_attribute("data-state", "live")
    second = page.locator('section.board[data-id="issues:octo/second"]')
    await second.locator(".filter-text").fill("1")  # working on the board in the middle
    assert (await fragment_lists(page))["board"] == ["issues:octo/second"]
    shared = page.url

    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    other = await context.new_page()
    await other.goto(shared)
    await other.wait_for_function("() => window.scrollY > 1000")
    assert 0 <= await board_top(other, "issues:octo/second") <= 20  # at the top of the window
    await expect(other.locator('section.board[data-id="issues:octo/second"] .filter-text')).to_have_value("1")

    await other.locator('section.board[data-id="issues:octo/third"] .filter-text').focus()
    assert (await fragment_lists(other))["board"] == ["issues:octo/third"]

    # Editing the URL to another board goes there, and it is the board worked on from then.
    await other.evaluate("location.hash = 'board=issues:octo/first'")
    await other.wait_for_function(
        "() => Math.abs(document.querySelector('section.entry[data-id=\"issues:octo/first\"]')"
        ".getBoundingClientRect().top) <= 20"
    )
    await other.locator('section.board[data-id="issues:octo/first"] th[data-sort="number"] button').click()
    assert (await fragment_lists(other))["board"] == ["issues:octo/first"]
    await context.close()


async def test_a_link_to_no_such_board_stays_put(server: AppServer, page: Page) -> None:
    await push_three_boards(server)
    hostile = quote(f'"]<img src=x onerror="{PWN}">')
    await page.goto(f"{server.url}/#board={hostile}&board=issues:octo/none")
    await expect(page.locator("#connection")).to_have_attribute("data-state", "live")
    assert await page.evaluate("window.scrollY") == 0
    assert await page.locator("img").count() == 0
