"""The page beside the editor (760 px) and on a phone (390 px): compact two-line rows, sticky
headers, no sideways scroll, headers over their columns, the State column only where it says
something, and light labels toned down in the dark (#16). Measured from the layout Chromium
computed, on a page with every kind of entry (testkit/showcase.py)."""

from __future__ import annotations

from playwright.async_api import Locator, Page, expect

from testkit import showcase
from testkit.fake_github import FakeGitHub
from testkit.mcp_clients import TRANSPORTS
from tests.browser import BROWSER_TESTS
from tests.e2e.test_stream import push
from tests.inprocess import AppServer

pytestmark = BROWSER_TESTS

ISSUES = f'section.entry[data-id="issues:{showcase.REPO}"]'
PULLS = f'section.entry[data-id="pulls:{showcase.REPO}"]'
COMMITS = f'section.entry[data-id="commits:{showcase.REPO}"]'
ALL = 'section.entry[data-id="issues:octo/all"]'
PHONE, BESIDE_THE_EDITOR, DESKTOP = 390, 760, 1280
# A title, a login and a label with no place to break: what used to push a table sideways.
UNBROKEN = "x" * 90


async def everything(server: AppServer, fake_github: FakeGitHub, page: Page, rows: int = 8) -> None:
    """The showcase, plus a pushed board of open and closed issues (an "all" board) with
    unbreakable words; the page open and live."""
    showcase.seed(fake_github)
    await showcase.send(server.url)
    pushed = [
        {
            "number": n,
            "title": UNBROKEN if n == 1 else f"Pushed issue {n}",
            "state": "closed" if n % 2 else "open",
            "author": f"a{UNBROKEN}" if n == 1 else "mona",
            "labels": [{"name": f"l{UNBROKEN}" if n == 1 else "needs triage", "color": "ffffff"}],
            "comments": n,
            "updated_at": f"2026-01-{1 + n // 24:02d}T{n % 24:02d}:00:00Z",
        }
        for n in range(1, rows + 1)
    ]
    await push(server.url, "octo/all", pushed)
    await page.goto(server.url)
    await expect(page.locator("#connection")).to_have_attribute("data-state", "live")


# Boxes of a row's cells that are shown, relative to the viewport: {column: [left, top, right, bottom]},
# the column named by a cell's class or a header's data-column.
CELLS_JS = """row => Object.fromEntries([...row.children]
  .filter(cell => cell.getClientRects().length > 0)
  .map(cell => {
    const r = cell.getBoundingClientRect();
    return [cell.dataset.column || cell.className, [r.left, r.top, r.right, r.bottom]];
  }))"""


async def cells(row: Locator) -> dict[str, list[float]]:
    result: dict[str, list[float]] = await row.evaluate(CELLS_JS)
    return result


async def test_nothing_scrolls_sideways_beside_the_editor_or_on_a_phone(
    server: AppServer, fake_github: FakeGitHub, page: Page
) -> None:
    await everything(server, fake_github, page)
    for width in (DESKTOP, BESIDE_THE_EDITOR, PHONE):
        await page.set_viewport_size({"width": width, "height": 900})
        assert await page.evaluate("document.documentElement.scrollWidth") <= width
        # Nor inside a board: every part of every entry (issues, pull requests, commits, the
        # panel) ends within the entry's box, none in a box of its own that scrolls.
        sticking_out = await page.locator("section.entry").evaluate_all(
            """entries => entries.flatMap(entry => {
                 const edge = entry.getBoundingClientRect().right + 0.5;
                 return [...entry.querySelectorAll('*')]
                   .filter(el => el.getClientRects().length > 0 && el.getBoundingClientRect().right > edge)
                   .filter(el => !el.closest('.markdown table'))  // a panel's Markdown table may scroll
                   .map(el => `${entry.dataset.id} ${el.tagName}.${el.className}`);
               })"""
        )
        assert sticking_out == [], width
        kinds = await page.locator("section.entry").evaluate_all("els => els.map(e => e.dataset.id.split(':')[0])")
        assert {"issues", "pulls", "commits", "panel"} <= set(kinds)


async def assert_two_lines(row: Locator, first: list[str], beneath: list[str]) -> None:
    """``first`` on the row's first line, then ``beneath`` on one line under it, left to right."""
    boxes = await cells(row)
    assert set(boxes) == set(first) | set(beneath), boxes
    top_line_bottom = max(boxes[c][3] for c in first)
    second = [boxes[c] for c in beneath if boxes[c][3] > boxes[c][1]]  # an empty cell has no line
    assert all(box[1] >= top_line_bottom - 1 for box in second), boxes  # beneath the title line
    assert max(box[1] for box in second) - min(box[1] for box in second) <= 2, boxes  # one line
    lefts = [box[0] for box in second]
    assert lefts == sorted(lefts), boxes  # in this order
    line_height = max(box[3] - box[1] for box in second)
    assert line_height <= 24, boxes
    # The row is these two lines and its padding, nothing more.
    row_box = await row.evaluate("r => { const b = r.getBoundingClientRect(); return [b.top, b.bottom]; }")
    assert row_box[1] - max(box[3] for box in second) <= 12, (row_box, boxes)


async def test_rows_take_two_lines_on_narrow_boards(server: AppServer, fake_github: FakeGitHub, page: Page) -> None:
    await everything(server, fake_github, page)
    issues, pulls, commits = page.locator(ISSUES), page.locator(PULLS), page.locator(COMMITS)
    for width in (BESIDE_THE_EDITOR, PHONE):
        await page.set_viewport_size({"width": width, "height": 900})
        # A title that fits on one line: the row is two lines, about 50 px (it was three or four).
        short = page.locator(ALL).locator('tr[data-number="2"]')
        await assert_two_lines(short, ["state", "title"], ["number", "author", "comments", "updated"])
        assert await short.evaluate("r => r.getBoundingClientRect().height") <= 64, width
        for row in await issues.locator("tbody tr").all():
            await assert_two_lines(row, ["title"], ["number", "author", "comments", "updated"])
        for row in await page.locator(ALL).locator("tbody tr").all():
            await assert_two_lines(row, ["state", "title"], ["number", "author", "comments", "updated"])
        beneath = ["number", "author", "reviewers", "updated"] if width > PHONE else ["number", "author", "updated"]
        for row in await pulls.locator("tbody tr").all():
            await assert_two_lines(row, ["state", "title"], beneath)
        # Still a table to a screen reader: its headers and rows keep their roles.
        await expect(issues.get_by_role("columnheader", name="Updated")).to_be_visible()
        await expect(issues.get_by_role("row")).to_have_count(1 + len(showcase.ISSUES))
    await page.set_viewport_size({"width": PHONE, "height": 900})
    for row in await commits.locator("tbody tr").all():
        await assert_two_lines(row, ["message"], ["sha", "author", "updated"])
    # On a desktop, one line per row as before, every column side by side.
    await page.set_viewport_size({"width": DESKTOP, "height": 900})
    boxes = await cells(issues.locator('tr[data-number="2"]'))
    assert list(boxes) == ["number", "title", "author", "assignees", "comments", "updated"]
    assert max(box[1] for box in boxes.values()) - min(box[1] for box in boxes.values()) <= 1


async def test_header_cells_sit_over_their_columns(server: AppServer, fake_github: FakeGitHub, page: Page) -> None:
    await everything(server, fake_github, page)
    for width in (DESKTOP, BESIDE_THE_EDITOR, PHONE):
        await page.set_viewport_size({"width": width, "height": 900})
        for board in (ISSUES, ALL, PULLS, COMMITS):
            table = page.locator(board).locator("table")
            heads = await cells(table.locator("thead tr"))
            shown = await cells(table.locator("tbody tr").first)
            # The same columns, each heading starting where its cells start.
            assert set(heads) == set(shown), (width, board, heads, shown)
            for name, box in heads.items():
                assert abs(box[0] - shown[name][0]) <= 1, (width, board, name, heads, shown)


async def test_the_state_column_only_on_boards_of_both_states(
    server: AppServer, fake_github: FakeGitHub, page: Page
) -> None:
    await everything(server, fake_github, page)
    issues, both = page.locator(ISSUES), page.locator(ALL)
    for width in (DESKTOP, PHONE):
        await page.set_viewport_size({"width": width, "height": 900})
        await expect(issues.locator(".filter")).to_have_text("open")
        await expect(issues.locator('th[data-column="state"]')).to_be_hidden()
        await expect(issues.locator("td.state")).to_have_count(len(showcase.ISSUES))
        assert await issues.locator("td.state").evaluate_all("cells => cells.every(c => !c.checkVisibility())")
        await expect(both.locator('th[data-column="state"]')).to_be_visible()
        await expect(both.locator("td.state").first).to_be_visible()
        await expect(both.locator("td.state .state-closed").first).to_have_text("closed")
        # Pull requests keep theirs: it tells drafts from open ones.
        await expect(page.locator(PULLS).locator("td.state .draft-badge")).to_be_visible()
    # The same board re-synced with both states (a delta: the rows stay, the header changes).
    async with TRANSPORTS["streamable-http"](server.url) as client:
        result = await client.call_tool("send_issues_to_dashboard", {"owner": "octo", "repo": "webapp", "state": "all"})
    assert not result.is_error, result.content
    await expect(issues.locator(".filter")).to_have_text("open and closed")
    await expect(issues.locator('th[data-column="state"]')).to_be_visible()
    await expect(issues.locator("td.state").first).to_be_visible()


STUCK_JS = """section => {
  const box = el => el.getBoundingClientRect();
  const [header, controls, head] = [".board-header", ".board-controls", "thead"]
    .map(s => box(section.querySelector(s)));
  // A row under the column headers' box: scrolled beneath them (wherever row boundaries fall).
  const beneath = [...section.querySelectorAll("tbody tr")].map(box)
    .some(r => r.top < head.bottom - 1 && r.bottom > head.top + 1);
  return {header: [header.top, header.bottom], controls: [controls.top, controls.bottom],
          head: [head.top, head.bottom], section: [box(section).top, box(section).bottom],
          rowBeneath: beneath};
}"""


async def test_board_header_filter_and_column_headers_stick_while_scrolling(
    server: AppServer, fake_github: FakeGitHub, page: Page
) -> None:
    await everything(server, fake_github, page, rows=60)
    # And one that arrives while the page is open (placed by the script, measured as it comes).
    await push(server.url, "octo/later", [{"number": n, "title": f"Later {n}", "state": "open"} for n in range(1, 61)])
    later = page.locator('section.entry[data-id="issues:octo/later"]')
    await expect(later.locator("tbody tr")).to_have_count(60)
    # Room below the last board, so that any board can be scrolled past.
    await page.evaluate("document.body.style.paddingBottom = '200vh'")
    for board, width in [(page.locator(ALL), w) for w in (DESKTOP, BESIDE_THE_EDITOR, PHONE)] + [(later, PHONE)]:
        await page.set_viewport_size({"width": width, "height": 800})
        # Halfway down the board's rows, its top long gone above the window.
        await board.locator('tr[data-number="30"]').evaluate("row => row.scrollIntoView({block: 'center'})")
        await page.wait_for_function(
            "s => Math.abs(s.querySelector('.board-header').getBoundingClientRect().top) < 1",
            arg=await board.element_handle(),
        )
        at = await board.evaluate(STUCK_JS)
        assert at["section"][0] < -500, at  # the board's own top is far above the window
        assert abs(at["header"][0]) < 1, at  # its header at the top
        assert abs(at["controls"][0] - at["header"][1]) < 1, at  # the filter right under it
        assert abs(at["head"][0] - at["controls"][1]) < 1, at  # then the column headers
        assert at["rowBeneath"], at  # rows pass beneath
        await expect(board.locator(".filter-text")).to_be_in_viewport()
        await expect(board.locator('th[data-sort="updated"] button')).to_be_in_viewport()
        # Past the board, its headers leave with it rather than cover the next board.
        await board.evaluate("el => window.scrollTo(0, el.getBoundingClientRect().bottom + scrollY)")
        at = await board.evaluate(STUCK_JS)
        assert at["header"][1] <= at["section"][1] + 1 and at["section"][1] <= 1, at


CHIP_JS = """chip => {
  const parse = s => s.match(/[\\d.]+/g).map(Number);
  const style = getComputedStyle(chip);
  const fill = parse(style.backgroundColor);
  const layer = style.backgroundImage === "none" ? [0, 0, 0, 0] : parse(style.backgroundImage);
  const alpha = layer.length > 3 ? layer[3] : 1;
  const shown = [0, 1, 2].map(i => layer[i] * alpha + fill[i] * (1 - alpha));
  const lum = c => {
    const [r, g, b] = c.map(v => v / 255).map(v => v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const text = lum(parse(style.color).slice(0, 3));
  const [hi, lo] = [lum(shown), text].sort((a, b) => b - a);
  return {name: chip.textContent, luminance: lum(shown), contrast: (hi + 0.05) / (lo + 0.05)};
}"""


async def test_light_labels_are_toned_down_in_the_dark(server: AppServer, fake_github: FakeGitHub, page: Page) -> None:
    await everything(server, fake_github, page)
    light = page.locator(f"{ISSUES} .label-light")
    names = set(await light.all_text_contents())
    assert names == {"needs triage", "wontfix", "p1", "enhancement"}  # white, #ededed, #fef2c0, #a2eeef
    others = await page.locator(f"{ISSUES} .label:not(.label-light)").all_text_contents()
    assert "bug" in others and "documentation" in others  # strong colours are left as they are
    seen = {}
    for scheme in ("light", "dark"):
        await page.emulate_media(color_scheme=scheme)
        seen[scheme] = {chip["name"]: chip for chip in await light.evaluate_all(f"els => els.map({CHIP_JS})")}
    for name, chip in seen["light"].items():
        assert chip["luminance"] > 0.6, chip  # its own colour on a light page
        dark = seen["dark"][name]
        assert dark["luminance"] < 0.5, dark  # toned down: white glared at 1.0
        assert dark["contrast"] >= 4.5, dark  # its text still readable
