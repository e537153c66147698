"""The preview drawer in Chromium: a row's description, fetched and rendered on demand."""

from __future__ import annotations

from typing import Any

import httpx
from playwright.async_api import Browser, Page, expect

from issuebridge.records.bodies import BODY_BYTES
from testkit.fake_github import FakeGitHub, make_issue, make_pull
from testkit.mcp_clients import TRANSPORTS
from tests.browser import BROWSER_TESTS, PWN
from tests.e2e.test_stream import push
from tests.inprocess import AppServer

pytestmark = BROWSER_TESTS

REPO = "octo/app"
BODY = """## Steps to reproduce

1. Run `make` with **two** jobs
2. See [the log](https://example.com/log)

| when | what |
|:--|--:|
| now | crash |

> It worked last week.
"""
HOSTILE = (
    f'<img src=x onerror="{PWN}"> <script>{PWN}</script> <svg onload="{PWN}"></svg> '
    f"[click me](javascript:{PWN}) "
    f'<a href="javascript:{PWN}">raw link</a> <iframe srcdoc="<script>{PWN}</script>"></iframe> '
    f'<style>body {{ display: none }}</style> <form action="https://evil.example"><button>go</button></form>\n\n'
    f"[ref]: javascript:{PWN}\n\n![image](https://evil.example/x.png)"
)


async def sync(server: AppServer, tool: str) -> None:
    async with TRANSPORTS["streamable-http"](server.url) as client:
        result = await client.call_tool(tool, {"owner": "octo", "repo": "app"})
    assert not result.is_error, result.content


async def open_board(page: Page, server: AppServer) -> Any:
    await page.goto(server.url)
    await expect(page.locator("#connection")).to_have_attribute("data-state", "live")
    return page.locator(f'section.board[data-repository="{REPO}"]')


async def test_a_click_on_a_row_shows_its_description_in_a_drawer(
    server: AppServer, fake_github: FakeGitHub, page: Page
) -> None:
    fake_github.add_repo(
        REPO,
        [
            make_issue(REPO, 1, title="Build crashes", body=BODY, labels=[("bug", "d73a4a")], user="mona"),
            make_issue(REPO, 2, title="Hostile", body=HOSTILE),
        ],
    )
    await sync(server, "send_issues_to_dashboard")  # bodies come with GitHub's list
    await page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.url)
    board = await open_board(page, server)

    await board.locator('tr[data-number="1"] td.number').click()
    drawer = page.locator("dialog#preview")
    await expect(drawer).to_be_visible()
    await expect(drawer).to_have_accessible_name("Build crashes")
    await expect(drawer.locator(".preview-body h2")).to_have_text("Steps to reproduce")
    await expect(drawer.locator(".preview-body strong")).to_have_text("two")
    await expect(drawer.locator(".preview-body td.align-right")).to_have_text("crash")
    await expect(drawer.locator(".preview-body blockquote")).to_contain_text("It worked last week.")
    log = drawer.locator(".preview-body a")
    await expect(log).to_have_attribute("href", "https://example.com/log")
    await expect(log).to_have_attribute("target", "_blank")
    await expect(drawer.locator(".preview-reference")).to_contain_text(f"{REPO}#1")
    await expect(drawer.locator(".label")).to_have_text("bug")
    await expect(drawer).not_to_contain_text("Trimmed")
    # Focus moved into the drawer.
    assert await page.evaluate("document.getElementById('preview').contains(document.activeElement)")

    opened = drawer.get_by_role("link", name="Open on GitHub")
    await expect(opened).to_have_attribute("href", f"https://github.com/{REPO}/issues/1")
    await expect(opened).to_have_attribute("target", "_blank")
    await drawer.get_by_role("button", name="Copy reference").click()
    await expect(drawer.get_by_role("button", name="Copied")).to_be_visible()
    assert await page.evaluate("navigator.clipboard.readText()") == f"{REPO}#1"

    await page.keyboard.press("Escape")
    await expect(drawer).to_be_hidden()
    assert await page.evaluate("document.activeElement.dataset.number") == "1"  # back on its row

    # Hostile Markdown stays inert: nothing of it runs, loads or navigates.
    await board.locator('tr[data-number="2"] td.number').click()
    await expect(drawer).to_have_accessible_name("Hostile")
    body = drawer.locator(".preview-body")
    await expect(body).to_contain_text("<script>")  # raw HTML is shown as text
    await expect(body.locator("script, img, svg, iframe, style, form, button, [onerror], [onload]")).to_have_count(0)
    for href in await body.locator("a").evaluate_all("links => links.map(a => a.getAttribute('href'))"):
        assert href is None or href.startswith(("http://", "https://", "mailto:"))
    for link in await body.locator("a").all():
        await link.hover()
    await expect(page.locator("body")).to_be_visible()  # the <style> did not hide the page
    # The drawer leaves the page usable: a click on another row previews that one.
    await board.locator('tr[data-number="1"] td.number').click()
    await expect(drawer).to_have_accessible_name("Build crashes")
    # (the page fixture fails the test on any script run, error, dialog or CSP trip)


async def test_a_pull_requests_description_and_a_trimmed_one_say_what_they_are(
    server: AppServer, fake_github: FakeGitHub, page: Page
) -> None:
    long_body = "Start of the description.\n\n" + "é" * BODY_BYTES + "\n\nTHE END"
    fake_github.add_pulls(REPO, [make_pull(REPO, 5, title="Faster sort", body=long_body, draft=True)])
    await sync(server, "send_pull_requests_to_dashboard")
    await page.goto(server.url)
    await expect(page.locator("#connection")).to_have_attribute("data-state", "live")
    await page.locator('section.pulls tr[data-number="5"] td.author').click()
    drawer = page.locator("dialog#preview")
    await expect(drawer).to_have_accessible_name("Faster sort")
    await expect(drawer.locator(".preview-reference")).to_contain_text(f"pull request {REPO}#5")
    await expect(drawer.locator(".draft-badge")).to_have_text("draft")
    await expect(drawer.locator(".preview-body")).to_contain_text("Start of the description.")
    await expect(drawer.locator(".preview-body")).not_to_contain_text("THE END")
    await expect(drawer.locator(".preview-trimmed")).to_contain_text("Trimmed")
    await drawer.get_by_role("button", name="Close the preview").click()
    await expect(drawer).to_be_hidden()


async def test_the_page_carries_no_bodies_and_a_live_edit_is_previewed(server: AppServer, page: Page) -> None:
    await push(server.url, REPO, [{"number": 1, "title": "One", "state": "open", "body": "FIRST-BODY"}])
    async with httpx.AsyncClient() as http:
        html = (await http.get(server.url)).text
    assert "FIRST-BODY" not in html
    board = await open_board(page, server)
    await push(server.url, REPO, [{"number": 1, "title": "One", "state": "open", "body": "SECOND-BODY"}])
    assert "SECOND-BODY" not in await page.content()  # the live update's row carried no body either
    await board.locator('tr[data-number="1"] td.number').click()
    await expect(page.locator("dialog#preview .preview-body")).to_have_text("SECOND-BODY")
    await page.keyboard.press("Escape")
    # A board without bodies (pushed without, or stored by an older version) says so.
    await push(server.url, REPO, [{"number": 1, "title": "One", "state": "open"}])
    await board.locator('tr[data-number="1"] td.number').click()
    await expect(page.locator("dialog#preview .preview-none")).to_contain_text("not kept")


async def test_an_open_drawer_follows_a_live_edit_of_its_item_and_keeps_focus(server: AppServer, page: Page) -> None:
    await push(server.url, REPO, [{"number": 1, "title": "One", "state": "open", "body": "FIRST-BODY"},
                                  {"number": 2, "title": "Two", "state": "open", "body": "OTHER-BODY"}])  # fmt: skip
    board = await open_board(page, server)
    await board.locator('tr[data-number="1"] td.number').click()
    drawer = page.locator("dialog#preview")
    await expect(drawer.locator(".preview-body")).to_have_text("FIRST-BODY")
    await expect(drawer.locator("#preview-title")).to_be_focused()
    # Another item's edit leaves the drawer alone; its own edit shows in it, focus still inside.
    await push(server.url, REPO, [{"number": 1, "title": "One", "state": "open", "body": "FIRST-BODY"},
                                  {"number": 2, "title": "Two", "state": "open", "body": "OTHER-EDITED"}])  # fmt: skip
    await push(server.url, REPO, [{"number": 1, "title": "One, edited", "state": "open", "body": "SECOND-BODY"},
                                  {"number": 2, "title": "Two", "state": "open", "body": "OTHER-EDITED"}])  # fmt: skip
    await expect(drawer.locator(".preview-body")).to_have_text("SECOND-BODY")
    await expect(drawer).to_have_accessible_name("One, edited")
    await expect(drawer.locator("#preview-title")).to_be_focused()
    # Closed, it asks for nothing more: a later edit does not open it again.
    await page.keyboard.press("Escape")
    await expect(drawer).to_be_hidden()
    await push(server.url, REPO, [{"number": 1, "title": "One", "state": "open", "body": "THIRD-BODY"}])
    await expect(board.locator('tr[data-number="1"] td.title')).to_have_text("One")
    await expect(drawer).to_be_hidden()


async def test_the_drawer_is_a_side_panel_on_a_desktop_and_a_bottom_sheet_on_a_phone_closed_beside_it(
    server: AppServer, browser: Browser
) -> None:
    await push(server.url, REPO, [{"number": 1, "title": "One", "state": "open", "body": "Short."}])
    for width, height in ((1280, 900), (390, 844)):
        context = await browser.new_context(viewport={"width": width, "height": height}, is_mobile=width < 500)
        page = await context.new_page()
        board = await open_board(page, server)
        await board.locator('tr[data-number="1"] td.number').click()
        drawer = page.locator("dialog#preview")
        await expect(drawer.locator(".preview-body")).to_have_text("Short.")
        box = await drawer.bounding_box()
        assert box is not None
        assert abs(box["x"] + box["width"] - width) < 1 and abs(box["y"] + box["height"] - height) < 1
        if width < 500:  # the whole width, at the bottom, not the whole height
            assert box["x"] == 0 and box["width"] == width and box["y"] > 0
        else:  # at the right, the whole height, not the whole width
            assert box["y"] == 0 and box["height"] == height and box["x"] > width / 3
        await page.mouse.click(box["x"] + 20, box["y"] + box["height"] - 5)  # the drawer's own empty space
        await expect(drawer).to_be_visible()
        await page.mouse.click(5, 5)  # beside it, on the page
        await expect(drawer).to_be_hidden()
        await context.close()
