"""What changed, visibly (#16), in Chromium: rows marked new or updated until seen, closed rows
struck through until dismissed, the strip that counts and filters them, the tab title's count,
the polite live region, and "since you last looked" across a reload.

Time is Playwright's clock, paused once the page is live: a row counts as seen after two seconds
in view, so the tests move the clock rather than wait.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from playwright.async_api import Locator, Page, expect

from testkit.fake_github import FakeGitHub, make_pull
from testkit.mcp_clients import TRANSPORTS
from testkit.servers import Listener
from tests.browser import BROWSER_TESTS
from tests.e2e.test_stream import push
from tests.inprocess import AppServer, start_app

pytestmark = BROWSER_TESTS

REPO = "octo/app"
TITLE = "issuebridge dashboard"
START = datetime(2026, 1, 1, tzinfo=UTC)
# Every row of the table, in the order shown, as "n" (a row of the board) or "closed n".
SHOWN_ROWS = """rows => rows.filter(r => r.checkVisibility())
  .map(r => r.dataset.number ?? `closed ${r.dataset.closedNumber}`)"""
# Each row's height by its number, as laid out (to 1/64 px).
HEIGHTS = "rows => Object.fromEntries(rows.map(r => [r.dataset.number, r.getBoundingClientRect().height]))"


def issue(n: int, title: str | None = None) -> dict[str, Any]:
    """Issue n, updated n hours after START: the higher the number, the higher in the table."""
    updated = (START + timedelta(hours=n)).isoformat().replace("+00:00", "Z")
    return {"number": n, "title": title or f"Issue {n}", "state": "open", "updated_at": updated}


def board(page: Page, repository: str = REPO) -> Locator:
    return page.locator(f'section.entry[data-id="issues:{repository}"]')


def strip_parts(section: Locator) -> Locator:
    return section.locator(".changes-strip .changes-parts")


async def shown_rows(section: Locator) -> list[str]:
    rows: list[str] = await section.locator("tbody tr, tfoot tr").evaluate_all(SHOWN_ROWS)
    return rows


async def open_live(page: Page, url: str) -> None:
    """Opens the dashboard with the clock installed, and pauses the clock once the page is live."""
    await page.clock.install(time=START + timedelta(days=30))
    await page.goto(url)
    await expect(page.locator("#connection")).to_have_attribute("data-state", "live")
    now = await page.evaluate("Date.now()")
    await page.clock.pause_at(datetime.fromtimestamp(now / 1000 + 1, UTC))


async def intersections_delivered(page: Page) -> None:
    """Returns once the page's IntersectionObserver callbacks for the current layout have run: a
    new observer's first callback comes after those of every older one."""
    await page.evaluate(
        "new Promise(resolve => new IntersectionObserver((_, observer) => { observer.disconnect(); resolve(); })"
        ".observe(document.body))"
    )


async def set_visibility(page: Page, state: str) -> None:
    """As the browser does when the tab is switched away from and back to."""
    await page.evaluate(
        """state => {
          Object.defineProperty(document, "visibilityState", { value: state, configurable: true });
          document.dispatchEvent(new Event("visibilitychange"));
        }""",
        state,
    )


async def look(page: Page) -> None:
    """The reader looks at the page for a while: what is in view for two seconds is seen."""
    await intersections_delivered(page)
    await page.clock.run_for(2100)


async def test_the_strip_counts_the_changes_and_filters_the_table_to_them(server: AppServer, page: Page) -> None:
    await push(server.url, REPO, [issue(n) for n in range(1, 11)])
    await open_live(page, server.url)
    section = board(page)
    await expect(section.locator(".changes-strip")).to_be_hidden()  # first sight: nothing to say

    # A re-sync: 3 closed (gone from the open board), 9 and 10 changed, 11 added.
    issues = [issue(n) for n in range(1, 11) if n != 3]
    issues[-2:] = [issue(9, "Nine, renamed"), issue(10, "Ten, renamed")]
    await push(server.url, REPO, [*issues, issue(11)])

    await expect(strip_parts(section)).to_have_text("1 new · 2 updated · 1 closed")
    await expect(section.locator('tr[data-number="11"]')).to_have_attribute("data-change", "new")
    await expect(section.locator('tr[data-number="10"]')).to_have_attribute("data-change", "updated")
    await expect(section.locator('tr[data-number="8"]')).not_to_have_attribute("data-change", "updated")
    await expect(section.locator(".count")).to_have_text("10")  # closed rows are not the board's
    every_row = [str(n) for n in range(11, 3, -1)] + ["2", "1", "closed 3"]
    assert await shown_rows(section) == every_row

    updated = section.get_by_role("button", name="2 updated")
    await updated.click()
    await expect(updated).to_have_attribute("aria-pressed", "true")
    assert await shown_rows(section) == ["10", "9"]
    closed = section.get_by_role("button", name="1 closed")
    await closed.click()  # another part: its rows instead
    await expect(updated).to_have_attribute("aria-pressed", "false")
    assert await shown_rows(section) == ["closed 3"]
    await closed.click()  # the same part again: every row
    await expect(closed).to_have_attribute("aria-pressed", "false")
    assert await shown_rows(section) == every_row

    # The filter box and the part combine; rows the part shows stay shown once seen.
    await section.get_by_role("button", name="2 updated").click()
    await section.locator(".filter-text").fill("ten")
    assert await shown_rows(section) == ["10"]
    await look(page)
    await expect(section.locator('tr[data-number="10"]')).not_to_have_attribute("data-change", "updated")
    await expect(strip_parts(section)).to_have_text("1 new · 1 updated · 1 closed")  # 11 and 9 unseen: filtered out
    assert await shown_rows(section) == ["10"]


async def test_marks_stay_until_the_row_is_seen_or_all_are_marked_seen(server: AppServer, page: Page) -> None:
    await push(server.url, REPO, [issue(n) for n in range(1, 61)])
    await open_live(page, server.url)
    section = board(page)
    # 60 (the top row, in view) and 1 (the last, far below the fold) change.
    await push(server.url, REPO, [issue(1, "One, renamed"), *[issue(n) for n in range(2, 60)], issue(60, "Sixty")])
    top, bottom = section.locator('tr[data-number="60"]'), section.locator('tr[data-number="1"]')
    await expect(top).to_have_attribute("data-change", "updated")
    await expect(bottom).to_have_attribute("data-change", "updated")
    await expect(top.locator("td.number")).to_have_text("#60")  # the mark's word is CSS, not text

    await set_visibility(page, "hidden")  # the reader is in another tab: nothing is seen
    await look(page)
    await expect(top).to_have_attribute("data-change", "updated")
    await set_visibility(page, "visible")
    await intersections_delivered(page)
    await page.clock.run_for(1500)  # not long enough
    await expect(top).to_have_attribute("data-change", "updated")
    await look(page)
    await expect(top).not_to_have_attribute("data-change", "updated")
    await expect(bottom).to_have_attribute("data-change", "updated")  # never in view
    await expect(strip_parts(section)).to_have_text("1 updated")

    await bottom.scroll_into_view_if_needed()
    await intersections_delivered(page)
    await page.evaluate("window.scrollTo(0, 0)")  # scrolled past too fast to read it
    await look(page)
    await expect(bottom).to_have_attribute("data-change", "updated")

    await section.get_by_role("button", name="Mark all seen").click()
    await expect(bottom).not_to_have_attribute("data-change", "updated")
    await expect(section.locator(".changes-strip")).to_be_hidden()
    await expect(section.locator(".filter-text")).to_be_focused()  # not dropped to the page


async def test_a_mark_leaves_the_rows_height_as_it_was(server: AppServer, page: Page) -> None:
    """Rows on screen lose their marks as they are seen, above what the reader is reading: were a
    marked row any taller (the mark's word once made it 0.19 px taller), the page would creep.
    Wide rows and the compact rows beside the editor; on a phone (390 px) a title and labels
    that fill their line take one more beside the word (the next test)."""

    def row(n: int, title: str | None = None) -> dict[str, Any]:
        labelled = [{"name": "bug", "color": "d73a4a"}, {"name": "needs triage", "color": "ededed"}]
        author = {"author": "octocat"} if n % 3 else {}  # and some without an author
        return {**issue(n, title), **author, "labels": labelled if n % 2 else []}

    shown = [row(n) for n in range(1, 21)]
    await push(server.url, REPO, shown)
    await open_live(page, server.url)
    section = board(page)
    rows = section.locator("tbody tr[data-number]")
    # Wide rows, and the compact two-line rows beside the editor.
    for step, width in enumerate((1280, 760), start=1):
        await page.set_viewport_size({"width": width, "height": 900})
        unmarked = await rows.evaluate_all(HEIGHTS)
        # Ten rows updated (a longer title, still one line), two new.
        shown = [row(n, f"Issue {n}{'!' * step}") if n <= 10 else item for n, item in enumerate(shown, start=1)]
        shown += [row(len(shown) + 1), row(len(shown) + 2)]
        await push(server.url, REPO, shown)
        await expect(section.locator('tr[data-change="updated"]')).to_have_count(10)
        await expect(section.locator('tr[data-change="new"]')).to_have_count(2)
        marked = await rows.evaluate_all(HEIGHTS)
        await section.get_by_role("button", name="Mark all seen").click()
        await expect(section.locator("tr[data-change]")).to_have_count(0)
        seen = await rows.evaluate_all(HEIGHTS)
        assert marked == seen, width  # to the layout's 1/64 px
        assert {n: height for n, height in seen.items() if n in unmarked} == unmarked, width


async def test_rows_seen_above_the_reader_on_a_phone_leave_the_row_being_read_where_it_was(
    server: AppServer, page: Page
) -> None:
    """On a phone a marked row can take one more line (its word beside a title and labels that
    fill theirs) and gives it back once seen: the page holds the row being read where it was."""
    sentence = "flaky test on the arm64 runner after the cache upgrade breaks the nightly build"

    def row(n: int, suffix: str = "") -> dict[str, Any]:
        title = " ".join(sentence.split()[: 3 + n % 11]) + f" {n}{suffix}"  # from one line to three
        labels = [{"name": "bug", "color": "d73a4a"}, {"name": "ci", "color": "ededed"}][: n % 3]
        return {**issue(n, title), "labels": labels}

    await page.set_viewport_size({"width": 390, "height": 800})
    count = 40
    await push(server.url, REPO, [row(n) for n in range(1, count + 1)])
    await open_live(page, server.url)
    section = board(page)
    rows = section.locator("tbody tr[data-number]")
    await push(server.url, REPO, [row(n, "!") for n in range(1, count + 1)])  # every row updated
    await expect(section.locator('tr[data-change="updated"]')).to_have_count(count)
    marked = await rows.evaluate_all(HEIGHTS)
    unmarked = await rows.evaluate_all(  # each row's height without its mark, measured and put back
        """rows => Object.fromEntries(rows.map(r => {
             const mark = r.getAttribute("data-change");
             r.removeAttribute("data-change");
             const height = r.getBoundingClientRect().height;
             r.setAttribute("data-change", mark);
             return [r.dataset.number, height];
           }))"""
    )
    # The reader reads a row two below one that is taller while marked, a third of the way down
    # the screen (the page scrolled: at the very top the reader sees what arrives there).
    taller = [n for n in range(count - 3, 2, -1) if marked[str(n)] > unmarked[str(n)] + 1]
    assert taller, "no row is taller while marked: nothing to prove here"
    read = section.locator(f'tr[data-number="{taller[0] - 2}"]')
    await read.evaluate("r => window.scrollBy(0, r.getBoundingClientRect().top - innerHeight / 3)")
    assert await page.evaluate("scrollY") > 0
    before = await read.evaluate("r => r.getBoundingClientRect().top")
    await look(page)
    await expect(section.locator(f'tr[data-number="{taller[0]}"]')).not_to_have_attribute("data-change", "updated")
    seen = await rows.evaluate_all(HEIGHTS)
    assert seen[str(taller[0])] < marked[str(taller[0])] - 1  # it gave its line back, above the reader
    await page.clock.run_for(50)  # the frames after (the page's clock is Playwright's)
    after = await read.evaluate("r => r.getBoundingClientRect().top")
    assert abs(after - before) < 1, f"the row being read moved by {after - before} px"


async def test_closed_rows_stay_struck_through_until_dismissed(server: AppServer, page: Page) -> None:
    await push(server.url, REPO, [issue(n) for n in range(1, 6)])
    await open_live(page, server.url)
    section = board(page)
    await push(server.url, REPO, [issue(n) for n in (1, 3, 5)])  # 2 and 4 closed

    closed = section.locator("tr.closed-row")
    await expect(closed).to_have_count(2)
    await expect(closed.locator(".title > span")).to_have_text(["Issue 4", "Issue 2"])  # the rows as they were
    for cell in await closed.locator("td.title").all():
        await expect(cell).to_have_css("text-decoration-line", "line-through")
    assert await shown_rows(section) == ["5", "3", "1", "closed 4", "closed 2"]
    await section.locator('th[data-sort="number"] button').click()  # number, descending first
    await section.locator('th[data-sort="number"] button').click()  # sorting moves the board's rows only
    assert await shown_rows(section) == ["1", "3", "5", "closed 4", "closed 2"]

    await look(page)  # seen, but still there until dismissed
    await expect(closed).to_have_count(2)
    await expect(strip_parts(section)).to_have_text("2 closed")

    await section.get_by_role("button", name="Dismiss closed #4").click()
    await expect(closed).to_have_count(1)
    await expect(strip_parts(section)).to_have_text("1 closed")
    await expect(section.get_by_role("button", name="Dismiss closed #2")).to_be_focused()
    await push(server.url, REPO, [issue(n) for n in (1, 5)])  # 3 closes too
    await expect(closed).to_have_count(2)
    await section.get_by_role("button", name="Dismiss closed", exact=True).click()
    await expect(closed).to_have_count(0)
    await expect(section.locator(".changes-strip")).to_be_hidden()
    await expect(section.locator(".filter-text")).to_be_focused()

    await page.reload()  # dismissed for good
    await expect(page.locator("#connection")).to_have_attribute("data-state", "live")
    await expect(section.locator("tr.closed-row")).to_have_count(0)
    await expect(section.locator(".changes-strip")).to_be_hidden()


async def test_the_tab_title_counts_unseen_changes(server: AppServer, page: Page) -> None:
    await push(server.url, REPO, [issue(n) for n in range(1, 4)])
    await push(server.url, "octo/web", [issue(n) for n in range(1, 4)])
    await page.set_viewport_size({"width": 1280, "height": 2000})  # both boards in view
    await open_live(page, server.url)
    await expect(page).to_have_title(TITLE)

    await push(server.url, REPO, [issue(n) for n in range(1, 5)])  # 4 is new
    await expect(page).to_have_title(f"(1) {TITLE}")
    await push(server.url, "octo/web", [issue(1, "Renamed"), issue(3)])  # 1 updated, 2 closed
    await expect(page).to_have_title(f"(3) {TITLE}")

    await look(page)
    await expect(page).to_have_title(TITLE)
    await push(server.url, "octo/web", [issue(1, "Renamed again"), issue(3)])
    await expect(page).to_have_title(f"(1) {TITLE}")
    async with TRANSPORTS["streamable-http"](server.url) as client:
        result = await client.call_tool("remove_from_dashboard", {"board_or_panel_id": "issues:octo/web"})
    assert not result.is_error, result.content
    await expect(page).to_have_title(TITLE)  # its changes went with it


async def test_a_polite_live_region_says_what_changed(server: AppServer, fake_github: FakeGitHub, page: Page) -> None:
    await push(server.url, REPO, [issue(n) for n in range(1, 6)])
    pulls_repo = "octo/pulls"
    fake_github.add_pulls(pulls_repo, [make_pull(pulls_repo, n, title=f"Pull {n}") for n in range(1, 4)])
    async with TRANSPORTS["streamable-http"](server.url) as client:
        result = await client.call_tool("send_pull_requests_to_dashboard", {"owner": "octo", "repo": "pulls"})
        assert not result.is_error, result.content
        await open_live(page, server.url)
        region = page.get_by_role("status").and_(page.locator(".changes-announcer"))
        await expect(region).to_have_text("")

        await push(server.url, REPO, [*[issue(n) for n in range(2, 5)], issue(5, "Five, renamed"), issue(6)])
        await expect(region).to_have_text("octo/app issues: 1 new, 1 updated, 1 closed.")

        # A pull-request board comes whole (a `board` event): its rows before and after are compared.
        fake_github.add_pulls(
            pulls_repo,
            [
                make_pull(pulls_repo, 1, title="Pull 1"),
                make_pull(pulls_repo, 2, title="Pull 2, renamed"),
                make_pull(pulls_repo, 4, title="Pull 4"),
            ],
        )
        result = await client.call_tool("send_pull_requests_to_dashboard", {"owner": "octo", "repo": "pulls"})
        assert not result.is_error, result.content
    await expect(region).to_have_text("octo/pulls pull requests: 1 new, 1 updated, 1 closed.")
    pulls = page.locator(f'section.entry[data-id="pulls:{pulls_repo}"]')
    await expect(strip_parts(pulls)).to_have_text("1 new · 1 updated · 1 closed")
    await expect(pulls.locator('tr[data-number="4"]')).to_have_attribute("data-change", "new")
    await expect(pulls.locator("tr.closed-row .title a")).to_have_text("Pull 3")
    # Marks carried over a re-render that changed nothing more.
    async with TRANSPORTS["streamable-http"](server.url) as client:
        result = await client.call_tool("send_pull_requests_to_dashboard", {"owner": "octo", "repo": "pulls"})
        assert not result.is_error, result.content
    await expect(pulls.locator("tr.closed-row")).to_have_count(1)
    await expect(strip_parts(pulls)).to_have_text("1 new · 1 updated · 1 closed")


async def test_since_you_last_looked_across_a_reload(server: AppServer, page: Page) -> None:
    await push(server.url, REPO, [issue(n) for n in range(1, 6)])
    await open_live(page, server.url)
    await page.goto("about:blank")  # the page is closed

    await push(server.url, REPO, [issue(1), issue(3, "Three, renamed"), issue(4), issue(5), issue(6)])
    await page.goto(server.url)
    section = board(page)
    await expect(strip_parts(section)).to_have_text("1 new · 1 updated · 1 closed")
    await expect(section.locator(".changes-heading")).to_have_text("Since you last looked:")
    await expect(section.locator('tr[data-number="6"]')).to_have_attribute("data-change", "new")
    await expect(section.locator('tr[data-number="3"]')).to_have_attribute("data-change", "updated")
    placeholder = section.locator("tr.closed-row")
    await expect(placeholder).to_contain_text("No longer on this board (closed or removed)")
    await expect(placeholder.locator("a")).to_have_attribute("href", f"https://github.com/{REPO}/issues/2")
    await expect(page).to_have_title(f"(3) {TITLE}")
    await page.clock.run_for(600)  # said once the page has settled
    await expect(page.locator(".changes-announcer")).to_have_text(
        "Since you last looked: octo/app issues: 1 new, 1 updated, 1 closed."
    )

    await look(page)
    await expect(page).to_have_title(TITLE)
    await page.reload()  # what was seen stays seen; the closed row stays until dismissed
    await expect(page.locator("#connection")).to_have_attribute("data-state", "live")
    await expect(strip_parts(section)).to_have_text("1 closed")
    await expect(section.locator("[data-change=new], [data-change=updated]")).to_have_count(0)
    await expect(page).to_have_title(TITLE)


async def test_what_one_tab_saw_is_seen_in_the_others(server: AppServer, page: Page) -> None:
    await push(server.url, REPO, [issue(n) for n in range(1, 4)])
    await open_live(page, server.url)
    other = await page.context.new_page()
    await other.goto(server.url)
    await expect(other.locator("#connection")).to_have_attribute("data-state", "live")
    await set_visibility(other, "hidden")  # a tab in the background: it sees nothing itself
    await push(server.url, REPO, [issue(1), issue(2, "Two, renamed")])  # 2 updated, 3 closed
    for tab in (page, other):
        await expect(strip_parts(board(tab))).to_have_text("1 updated · 1 closed")

    await look(page)
    await board(page).get_by_role("button", name="Dismiss closed #3").click()
    await page.clock.run_for(1000)  # saved
    await expect(board(other).locator('tr[data-number="2"]')).not_to_have_attribute("data-change", "updated")
    await expect(board(other).locator("tr.closed-row")).to_have_count(0)
    await expect(other).to_have_title(TITLE)


async def test_what_changed_across_a_server_restart_is_marked_once_the_page_catches_up(
    server_env: dict[str, str], listener: Listener, page: Page
) -> None:
    first = start_app(server_env, listener=listener)
    await push(first.url, REPO, [issue(1), issue(2)])
    await open_live(page, first.url)
    first.stop()
    await expect(page.locator("#connection")).to_have_attribute("data-state", "reconnecting")
    elsewhere = start_app(server_env)  # the same store, where the page is not listening
    await push(elsewhere.url, REPO, [issue(2), issue(3)])
    elsewhere.stop()
    second = start_app(server_env, listener=listener)
    try:
        # The restarted server never had the event the page missed: it sends a snapshot.
        section = board(page)
        await expect(strip_parts(section)).to_have_text("1 new · 1 closed", timeout=10_000)
        await expect(section.locator("tr.closed-row .title > span")).to_have_text("Issue 1")
        await expect(page.locator(".changes-announcer")).to_have_text("octo/app issues: 1 new, 1 closed.")
    finally:
        second.stop()


async def test_what_this_browser_keeps_is_bounded_and_read_with_care(server: AppServer, page: Page) -> None:
    await page.goto(server.url)
    await page.evaluate(
        """() => {
          const index = [];
          for (let i = 0; i < 60; i++) {
            index.push([`issues:old/board${i}`, i, 11]);
            localStorage.setItem(`issuebridge.rows-seen:issues:old/board${i}`, "1:abc 2:def");
          }
          // A tampered baseline: only "1:abc" is a row number and a fingerprint.
          index.push(["issues:octo/app", 100, 40]);
          localStorage.setItem("issuebridge.rows-seen:issues:octo/app", "<img src=x>:1 2:<b> 3:zzzzzzzzzz 1:abc");
          localStorage.setItem("issuebridge.rows-seen", JSON.stringify(index));
          localStorage.setItem("issuebridge.rows-seen:issues:stray/one", "1:abc"); // listed nowhere
          localStorage.setItem("unrelated", "kept");
        }"""
    )
    await page.reload()
    await expect(page.locator("#connection")).to_have_attribute("data-state", "live")
    await push(server.url, REPO, [issue(n) for n in range(1, 4)])
    await push(server.url, "octo/new", [issue(1)])  # first sight: its baseline is saved, the oldest go
    await expect(board(page, "octo/new").locator("tr.issue")).to_have_count(1)
    section = board(page)
    await expect(section.locator('tr[data-number="1"]')).to_have_attribute("data-change", "updated")
    await expect(section.locator("tr[data-change=new]")).to_have_count(2)

    stored = await page.evaluate("({...localStorage})")
    index = [entry[0] for entry in json.loads(stored["issuebridge.rows-seen"])]
    assert len(index) == 50 and index[-1] == "issues:octo/new"
    assert index[0] == "issues:old/board12"  # the least recently saved went first
    kept = {key for key in stored if key.startswith("issuebridge.rows-seen:")}
    assert kept == {f"issuebridge.rows-seen:{board_id}" for board_id in index}  # the stray key went too
    assert stored["unrelated"] == "kept"


async def test_baselines_an_earlier_version_kept_are_dropped_not_read(server: AppServer, page: Page) -> None:
    """Before the server hashed each row (``data-fingerprint``), the page hashed them differently:
    read, those baselines would mark every row updated."""
    await push(server.url, REPO, [issue(n) for n in range(1, 4)])
    await page.goto(server.url)
    await page.evaluate(
        """() => {
          localStorage.setItem("issuebridge.seen", JSON.stringify([["issues:octo/app", 1, 23]]));
          localStorage.setItem("issuebridge.seen:issues:octo/app", "1:abc 2:def 3:ghi");
        }"""
    )
    await page.reload()
    await expect(page.locator("#connection")).to_have_attribute("data-state", "live")
    await expect(board(page).locator("tr.issue")).to_have_count(3)
    await expect(board(page).locator("tr[data-change]")).to_have_count(0)
    stored = await page.evaluate("({...localStorage})")
    assert not any(key.startswith("issuebridge.seen") for key in stored)
    assert json.loads(stored["issuebridge.rows-seen"])[0][0] == f"issues:{REPO}"
