"""The dashboard in a real browser (Debian's Chromium driven by Playwright) against the real server."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote

import httpx
import pytest
from playwright.async_api import Browser, Locator, Page, expect

from testkit.fake_github import FakeGitHub, make_commit, make_issue, make_pull
from testkit.mcp_clients import TRANSPORTS
from testkit.servers import Listener
from tests.browser import BROWSER_TESTS, PWN
from tests.e2e.test_mcp_tool import REPO, open_issue_numbers, seed
from tests.e2e.test_page_filter import clear_labels, pick_label
from tests.e2e.test_stream import push
from tests.inprocess import AppServer, start_app
from tests.unvalidated import board_with_colours, hostile_colours, store_unvalidated

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
# Where a colour that escaped its attribute would send every viewer (nothing listens there).
ELSEWHERE = "http://127.0.0.1:9/pwned"
GREY = "rgb(237, 237, 237)"  # the default label colour, #ededed

# The session's Chromium (tests/browser.py), skipped or failed without it.
pytestmark = BROWSER_TESTS


def row_numbers(board: Locator) -> Any:
    return board.locator("tr.issue:not([hidden])").evaluate_all("rows => rows.map(r => Number(r.dataset.number))")


async def test_a_tool_call_fills_the_open_page_without_reload(
    server: AppServer, fake_github: FakeGitHub, page: Page
) -> None:
    items = seed(fake_github, 60)
    expected = open_issue_numbers(items)
    await page.goto(server.url)
    await expect(page.locator("#empty")).to_be_visible()
    await expect(page.locator("#empty")).to_contain_text(f"{server.url}/sse")
    await expect(page.locator("#connection")).to_have_attribute("data-state", "live")
    await page.evaluate("window.__sameDocument = true")

    async with TRANSPORTS["streamable-http"](server.url) as client:
        result = await client.call_tool("send_issues_to_dashboard", {"owner": "facebook", "repo": "react"})
    assert not result.is_error

    board = page.locator(f'section.board[data-repository="{REPO}"]')
    await expect(board.locator("tr.issue")).to_have_count(len(expected), timeout=1000)
    assert await page.evaluate("window.__sameDocument") is True  # updated in place, no reload
    await expect(page.locator("#empty")).to_be_hidden()
    assert await row_numbers(board) == expected  # most recently updated first
    await expect(board.locator(".count")).to_have_text(str(len(expected)))
    await expect(board.locator(".filter")).to_have_text("open")
    await expect(board.locator(".provenance")).to_have_attribute("title", "Sent by an MCP tool call")
    await expect(board.locator(".board-meta")).not_to_contain_text("via")  # the header says what matters
    await expect(board.locator(".last-updated")).to_have_text("just now")
    await expect(board.locator(".repository")).to_have_attribute("href", f"https://github.com/{REPO}")

    hostile = board.locator('tr.issue[data-number="7"] .title a')
    await expect(hostile).to_have_text("<script>alert(7)</script> bug 7")
    await expect(hostile).to_have_attribute("href", f"https://github.com/{REPO}/issues/7")
    chip = board.locator('tr.issue[data-number="1"] .label').first
    await expect(chip).to_have_text("bug")
    await expect(chip).to_have_css("background-color", "rgb(215, 58, 74)")
    await expect(chip).to_have_css("color", "rgb(255, 255, 255)")
    labelled = sum(1 for n in expected if n % 2)  # seed() labels odd numbers "bug" and "good first issue"
    await expect(board.locator(".chart-labels svg")).to_have_attribute(
        "aria-label",
        f"By label: bug {labelled}, good first issue {labelled}, no label {len(expected) - labelled}",
    )

    ARTIFACTS.mkdir(exist_ok=True)
    await page.wait_for_timeout(2600)  # let the arrival highlight fade
    await page.screenshot(path=str(ARTIFACTS / "dashboard.png"))


def crash_and_docs() -> list[dict[str, Any]]:
    """Ten issues: odd ones "Crash n" labelled bug, even ones "Docs n" labelled docs, #10 the newest."""
    return [
        {
            "number": n,
            "title": f"{'Crash' if n % 2 else 'Docs'} {n}",
            "state": "open",
            "labels": [{"name": "bug" if n % 2 else "docs", "color": "d73a4a" if n % 2 else "0075ca"}],
            "updated_at": f"2026-01-{n:02d}T00:00:00Z",
        }
        for n in range(1, 11)
    ]


async def test_filter_and_sort_survive_live_updates(server: AppServer, page: Page) -> None:
    issues = crash_and_docs()
    await push(server.url, "octo/app", issues)
    await page.goto(server.url)
    await expect(page.locator("#connection")).to_have_attribute("data-state", "live")
    board = page.locator('section.board[data-repository="octo/app"]')

    await board.locator(".filter-text").fill("crash")
    await pick_label(board, "bug")
    await board.locator('th[data-sort="number"] button').click()  # number, descending first
    await board.locator('th[data-sort="number"] button').click()  # then ascending
    await expect(board.locator('th[data-sort="number"]')).to_have_attribute("aria-sort", "ascending")
    assert await row_numbers(board) == [1, 3, 5, 7, 9]
    await expect(board.locator(".shown")).to_have_text("5 of 10 shown")

    # A re-sync: 3 removed, 5 changed to "Docs", 11 (a crash) and 12 (docs) added.
    issues = [i for i in issues if i["number"] != 3]
    issues[3] = {**issues[3], "title": "Docs 5", "labels": [{"name": "docs", "color": "0075ca"}]}
    issues += [
        {"number": 11, "title": "Crash 11", "state": "open", "labels": [{"name": "bug", "color": "d73a4a"}]},
        {"number": 12, "title": "Docs 12", "state": "open", "labels": [{"name": "docs", "color": "0075ca"}]},
    ]
    await page.evaluate("window.__sameDocument = true")
    await push(server.url, "octo/app", issues)

    await expect(board.locator('tr.issue[data-number="11"]')).to_have_class("issue flash")
    await expect(board.locator('tr.issue[data-number="3"]')).to_have_count(0)  # removed rows go
    await expect(board.locator(".filter-text")).to_have_value("crash")
    await expect(board.locator(".label-picker-toggle")).to_have_text("Label: bug")
    await expect(board.locator('th[data-sort="number"]')).to_have_attribute("aria-sort", "ascending")
    assert await row_numbers(board) == [1, 7, 9, 11]
    await expect(board.locator(".shown")).to_have_text("4 of 11 shown")
    await expect(board.locator(".count")).to_have_text("11")
    # The charts were redrawn by the server for the new board.
    bugs = sum(1 for i in issues if i["labels"][0]["name"] == "bug")
    assert bugs == 4
    label_chart = f"By label: docs {len(issues) - bugs}, bug {bugs}"
    await expect(board.locator(".chart-labels svg")).to_have_attribute("aria-label", label_chart)
    assert await page.evaluate("window.__sameDocument") is True


@pytest.mark.usefixtures("backend")  # what the restart keeps, and the revisions it resumes from
async def test_the_page_survives_a_restart_and_catches_up(
    server_env: dict[str, str], listener: Listener, page: Page
) -> None:
    first = start_app(server_env, listener=listener)
    await push(first.url, "octo/app", [{"number": 1, "title": "Before the restart", "state": "open"}])
    await page.goto(first.url)
    await expect(page.locator("#connection")).to_have_attribute("data-state", "live")
    await page.evaluate("window.__sameDocument = true")

    first.stop()
    await expect(page.locator("#connection")).to_have_attribute("data-state", "reconnecting")
    await expect(page.locator("#connection")).to_have_text("reconnecting…")

    second = start_app(server_env, listener=listener)
    try:
        # Synced while the page was away (it reconnects within a few seconds).
        await push(second.url, "octo/app", [{"number": 2, "title": "While it was away", "state": "open"}])
        await push(second.url, "octo/other", [{"number": 9, "title": "A new board", "state": "open"}])
        await expect(page.locator("#connection")).to_have_attribute("data-state", "live", timeout=10_000)
        # The board's rows (tbody); "Before the restart" stays below them, struck through as closed.
        await expect(page.locator("tbody .title")).to_have_text(["While it was away", "A new board"], timeout=10_000)
        assert await page.evaluate("window.__sameDocument") is True
    finally:
        second.stop()


async def test_hostile_github_content_stays_inert(server: AppServer, fake_github: FakeGitHub, page: Page) -> None:
    payloads = [
        f'<img src=x onerror="{PWN}">',
        f"<script>{PWN}</script>",
        f'"><svg onload="{PWN}">',
        f'<a href="javascript:{PWN}">click</a>',
    ]
    items = []
    for n, payload in enumerate(payloads, start=1):
        item = make_issue(
            "evil/repo", n, title=payload, body=payload, labels=[(payload[:50], "ff0000")], user="mallory"
        )
        item["labels"][0]["color"] = f'ff0000" onmouseover="{PWN}'  # quotes in a colour
        item["html_url"] = f"javascript:{PWN}"
        items.append(item)
    fake_github.add_repo("evil/repo", items)

    await page.goto(server.url)
    await expect(page.locator("#connection")).to_have_attribute("data-state", "live")
    async with TRANSPORTS["sse"](server.url) as client:
        result = await client.call_tool("send_issues_to_dashboard", {"owner": "evil", "repo": "repo"})
    assert not result.is_error
    board = page.locator('section.board[data-repository="evil/repo"]')
    await expect(board.locator("tr.issue")).to_have_count(len(payloads))
    titles = await board.locator(".title > span").all_text_contents()
    assert sorted(titles) == sorted(payloads)  # shown as text, and not as links: the URLs were dropped
    await expect(board.locator(".title a")).to_have_count(0)
    await expect(board.locator("tbody script, tbody img, tbody svg, tbody [onerror], tbody [onload]")).to_have_count(0)
    await expect(board.locator(".label").first).to_have_css("background-color", "rgb(237, 237, 237)")
    for label in await board.locator(".label").all():
        await label.hover()
    # The same payloads pushed through the API, then the page reloaded (the server-rendered path).
    await push(server.url, "evil/api", [{"number": 1, "title": payloads[0], "state": "open"}])
    await page.reload()
    await expect(page.locator('section.board[data-repository="evil/api"] .title')).to_have_text(payloads[0])


@pytest.mark.usefixtures("backend")  # with Redis, another worker's write reaches the open page too
async def test_a_hostile_label_colour_neither_navigates_nor_runs_script(
    tmp_path: Path, server_env: dict[str, str], store_env: dict[str, str], page: Page
) -> None:
    colours = hostile_colours(ELSEWHERE)[:5]
    # An older version let such colours into the store; the server loads them with the rest.
    await store_unvalidated(store_env, board_with_colours("evil/stored", colours))
    server = start_app(server_env)
    try:
        requests: list[str] = []
        page.on("request", lambda request: requests.append(request.url))
        async with httpx.AsyncClient(base_url=server.url) as http:
            for colour in colours:  # and the API refuses every one of them
                issues = [{"number": 1, "title": "x", "state": "open", "labels": [{"name": "l", "color": colour}]}]
                refused = await http.post(
                    "/api/dashboard/sync-issues", json={"repository": "evil/api", "issues": issues}
                )
                assert refused.status_code == 422, (colour, refused.text)

        await page.goto(server.url)
        await expect(page.locator("#connection")).to_have_attribute("data-state", "live")
        await page.evaluate("window.__sameDocument = true")
        stored = page.locator('section.board[data-repository="evil/stored"]')
        await expect(stored.locator(".label")).to_have_count(len(colours))
        for chip in await stored.locator(".label").all():
            await expect(chip).to_have_css("background-color", GREY)
            await chip.hover()
        if "ISSUEBRIDGE_REDIS_URL" in store_env:  # another (older) worker writes one while the page is open
            await store_unvalidated(store_env, board_with_colours("evil/live", colours))
            live = page.locator('section.board[data-repository="evil/live"]')
            await expect(live.locator(".label")).to_have_count(len(colours))
            await expect(live.locator(".label").first).to_have_css("background-color", GREY)
        # A board pushed after them arrives in the same document: nothing navigated meanwhile.
        await push(server.url, "octo/after", [{"number": 1, "title": "After", "state": "open"}])
        await expect(page.locator('section.board[data-repository="octo/after"] .title')).to_have_text("After")
        assert await page.evaluate("window.__sameDocument") is True
        await page.reload()  # the server-rendered page
        await expect(page.locator("#connection")).to_have_attribute("data-state", "live")
        await expect(stored.locator(".label").first).to_have_css("background-color", GREY)
        await push(server.url, "octo/after", [{"number": 2, "title": "After the reload", "state": "open"}])
        # The board's rows (tbody): issue 1 stays below them, struck through as closed.
        await expect(page.locator('section.board[data-repository="octo/after"] tbody .title')).to_have_text(
            "After the reload"
        )
        assert page.url == f"{server.url}/"
        assert [url for url in requests if "pwned" in url] == []
    finally:
        server.stop()


async def test_a_populated_board_on_a_phone_in_dark_mode(
    server: AppServer, fake_github: FakeGitHub, browser: Browser
) -> None:
    seed(fake_github, 30)
    async with TRANSPORTS["sse"](server.url) as client:
        await client.call_tool("send_issues_to_dashboard", {"owner": "facebook", "repo": "react", "state": "all"})
    context = await browser.new_context(viewport={"width": 390, "height": 844}, color_scheme="dark")
    phone = await context.new_page()
    await phone.goto(server.url)
    await expect(phone.locator("#connection")).to_have_attribute("data-state", "live")
    await expect(phone.locator("body")).to_have_css("background-color", "rgb(13, 17, 23)")
    # Nothing wider than the screen but the table, which scrolls inside its own box.
    width = await phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 390
    ARTIFACTS.mkdir(exist_ok=True)
    await phone.screenshot(path=str(ARTIFACTS / "dashboard-phone-dark.png"))
    await context.close()


async def test_going_offline_is_announced_and_recovered_from(server: AppServer, page: Page) -> None:
    await page.goto(server.url)
    status = page.locator("#connection")
    await expect(status).to_have_attribute("data-state", "live")
    await expect(status).to_have_attribute("aria-live", "polite")
    await page.context.set_offline(True)
    await expect(status).to_have_attribute("data-state", "offline")
    await expect(status).to_have_text("offline, retrying")
    await page.context.set_offline(False)
    await expect(status).to_have_attribute("data-state", "live", timeout=10_000)
    await push(server.url, "octo/back", [{"number": 1, "title": "Back online", "state": "open"}])
    await expect(page.locator('section.board[data-repository="octo/back"] .title')).to_have_text("Back online")


async def test_curated_panels_progress_failures_and_removal_on_the_page(
    server: AppServer, fake_github: FakeGitHub, page: Page
) -> None:
    await page.goto(server.url)
    await expect(page.locator("#connection")).to_have_attribute("data-state", "live")
    async with TRANSPORTS["streamable-http"](server.url) as client:
        published = await client.call_tool(
            "publish_to_dashboard",
            {
                "title": "Release readiness",
                "summary_markdown": (
                    f'**Two** blockers. <img src=x onerror="{PWN}"> [click](javascript:{PWN}) '
                    "[tracker](https://github.com/facebook/react/milestone/1)"
                ),
                "metrics": [{"label": "Blockers", "value": 2, "trend": "down"}],
                "items": [
                    {"title": "Fix hydration", "url": "https://github.com/facebook/react/issues/7", "tags": ["p1"]}
                ],
                "repository": REPO,
            },
        )
        assert published.structured_content is not None
        panel_id = published.structured_content["panel_id"]
        panel = page.locator(f'section.entry.panel[data-id="panel:{panel_id}"]')
        await expect(panel.locator("h2")).to_have_text("Release readiness")
        await expect(panel.locator(".metric .value")).to_have_text("2")
        await expect(panel.locator(".markdown strong")).to_have_text("Two")
        await expect(panel.locator('.markdown a[href^="https://"]')).to_have_attribute("target", "_blank")
        await expect(panel.locator(".markdown a")).to_have_count(1)  # the javascript: link stayed text
        await expect(panel.locator(".markdown img")).to_have_count(0)

        await client.call_tool(
            "publish_to_dashboard",
            {"title": "Release readiness (revised)", "summary_markdown": "ok", "panel_id": panel_id},
        )
        await expect(page.locator("section.entry.panel")).to_have_count(1)
        await expect(panel.locator("h2")).to_have_text("Release readiness (revised)")

        # A fetch of 3 pages: the page shows a progress bar until the board arrives. GitHub
        # answers page 1 and holds pages 2 and 3 (fetched together), so progress shows for as
        # long as the test looks, not for as long as a round trip happens to take.
        seed(fake_github, 290)
        fake_github.hold(after=1)
        call = asyncio.create_task(client.call_tool("send_issues_to_dashboard", {"owner": "facebook", "repo": "react"}))
        pending = page.locator(f'#pending section[data-id="issues:{REPO}"]')
        await expect(pending.locator(".sync-text")).to_have_text(re.compile(rf"Syncing {REPO} issues… 1 of 3 pages"))
        await expect(pending.locator("progress")).to_have_attribute("max", "3")
        fake_github.release()
        assert not (await call).is_error
        await expect(pending).to_have_count(0)
        board = page.locator(f'section.board[data-id="issues:{REPO}"]')
        await expect(board.locator("tr.issue")).to_have_count(len(open_issue_numbers(seed(fake_github, 290))))
        # The panel about the same repository sits beside its board.
        group = page.locator(f'.group[data-group="{REPO}"]')
        await expect(group.locator("section.entry")).to_have_count(2)

        # A failed re-sync: the board stays, and says why.
        fake_github.fail_next = 10
        failed = await client.call_tool("send_issues_to_dashboard", {"owner": "facebook", "repo": "react"})
        assert failed.is_error
        status = board.locator(".sync-status.error")
        await expect(status).to_be_visible()
        await expect(status.locator(".sync-text")).to_contain_text("answered 500")
        await expect(board.locator("tr.issue").first).to_be_visible()

        # GitHub recovers with nothing new: the board says so and clears the error.
        fake_github.fail_next = 0
        again = await client.call_tool("send_issues_to_dashboard", {"owner": "facebook", "repo": "react"})
        assert again.structured_content is not None and again.structured_content["changed"] is False
        await expect(board.locator(".sync-status.error")).to_have_count(0)
        await expect(board.locator(".sync-status .sync-text")).to_have_text(
            re.compile(r"No change on GitHub \(checked .+\)")
        )

        await client.call_tool("remove_from_dashboard", {"board_or_panel_id": panel_id})
        await expect(page.locator("section.entry.panel")).to_have_count(0)
        await client.call_tool("clear_dashboard", {})
        await expect(page.locator("section.entry")).to_have_count(0)
        await expect(page.locator("#empty")).to_be_visible()


async def test_a_repository_with_every_kind_of_entry(server: AppServer, fake_github: FakeGitHub, page: Page) -> None:
    seed(fake_github, 40)
    fake_github.add_pulls(
        REPO,
        [
            make_pull(REPO, 101, title="Add useOptimistic docs", draft=True, created_at="2026-10-01T00:00:00Z"),
            make_pull(
                REPO, 102, title="Fix hydration mismatch", requested_reviewers=["gaearon"], labels=[("bug", "d73a4a")]
            ),
            make_pull(REPO, 103, title="Compiler: memoize props", created_at="2025-03-01T00:00:00Z"),
        ],
    )
    fake_github.add_commits(
        REPO,
        [
            make_commit(REPO, n, message=f"Commit number {n}", date=f"2026-11-{10 + n % 12:02d}T12:00:00Z", author=a)
            for n, a in zip(range(1, 30), ["acdlite", "sebmarkbage", "gaearon"] * 10, strict=False)
        ],
    )
    await page.goto(server.url)
    await expect(page.locator("#connection")).to_have_attribute("data-state", "live")
    async with TRANSPORTS["streamable-http"](server.url) as client:
        for tool, arguments in [
            ("send_issues_to_dashboard", {}),
            ("send_pull_requests_to_dashboard", {}),
            ("send_commit_summary_to_dashboard", {"since": "2026-11-01"}),
        ]:
            result = await client.call_tool(tool, {"owner": "facebook", "repo": "react", **arguments})
            assert not result.is_error, result.content
        await client.call_tool(
            "publish_to_dashboard",
            {
                "title": "This week in facebook/react",
                "summary_markdown": "Hydration bugs dominate. **Fix #102 first**; the compiler PR has waited longest.",
                "metrics": [
                    {"label": "Open issues", "value": 20, "trend": "up"},
                    {"label": "PRs waiting for review", "value": 1, "trend": "flat"},
                    {"label": "Commits this month", "value": 29, "trend": "down"},
                ],
                "items": [
                    {
                        "title": "Fix hydration mismatch",
                        "url": "https://github.com/facebook/react/pull/102",
                        "tags": ["p1"],
                    }
                ],
                "repository": REPO,
            },
        )
    group = page.locator(f'.group[data-group="{REPO}"]')
    await expect(group.locator("section.entry")).to_have_count(4)
    kinds = await group.locator("section.entry").evaluate_all("els => els.map(e => e.dataset.id.split(':')[0])")
    assert kinds == ["issues", "pulls", "commits", "panel"]  # in the order they first appeared
    pulls = group.locator(f'section[data-id="pulls:{REPO}"]')
    await expect(pulls.locator(".attention-card").nth(1).locator(".big")).to_have_text("1")
    await expect(group.locator(f'section[data-id="commits:{REPO}"] .chart-days rect')).not_to_have_count(0)
    ARTIFACTS.mkdir(exist_ok=True)
    await page.wait_for_timeout(2600)
    await page.screenshot(path=str(ARTIFACTS / "dashboard-everything.png"), full_page=True)


async def test_a_token_link_opens_the_guarded_dashboard(tmp_path: Path, server_env: dict[str, str], page: Page) -> None:
    token = "browser-secret"
    guarded = start_app({**server_env, "ISSUEBRIDGE_TOKEN": token})
    try:
        await page.goto(guarded.url)
        await expect(page.locator("form[action='/login']")).to_be_visible()  # no token yet: the sign-in form
        await page.goto(f"{guarded.url}/?token={token}")
        assert page.url == f"{guarded.url}/"  # the token left the address bar
        await expect(page.locator("#connection")).to_have_attribute("data-state", "live")  # the stream took the cookie
        async with httpx.AsyncClient(base_url=guarded.url, headers={"Authorization": f"Bearer {token}"}) as http:
            await http.post(
                "/api/dashboard/sync-issues",
                json={"repository": "octo/safe", "issues": [{"number": 1, "title": "Behind a token", "state": "open"}]},
            )
        await expect(page.locator('section.board[data-repository="octo/safe"] .title')).to_have_text("Behind a token")
        cookies = await page.context.cookies()
        assert [(c["httpOnly"], c["sameSite"]) for c in cookies] == [(True, "Strict")]
        assert all(token not in c["value"] for c in cookies)
    finally:
        guarded.stop()
    assert token not in guarded.log


async def test_the_content_security_policy_blocks_injected_script(server: AppServer, browser: Browser) -> None:
    context = await browser.new_context()
    page = await context.new_page()
    blocked: list[str] = []
    page.on(
        "console", lambda message: blocked.append(message.text) if "Content Security Policy" in message.text else None
    )
    response = await page.goto(server.url)
    assert response is not None
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "object-src 'none'" in policy and "frame-ancestors 'none'" in policy
    await expect(page.locator("#connection")).to_have_attribute("data-state", "live")
    # Suppose some HTML slipped past escaping: its inline handler and inline script still do not run.
    await page.evaluate(
        """() => {
            document.body.insertAdjacentHTML("beforeend", '<img src="data:," onload="window.__pwned = 1">');
            const script = document.createElement("script");
            script.textContent = "window.__pwned = 2";
            document.body.append(script);
        }"""
    )
    await page.wait_for_timeout(300)
    assert await page.evaluate("window.__pwned") is None
    assert len(blocked) >= 2  # Chromium reports each refusal
    await context.close()


async def test_the_favicon_loads_under_the_content_security_policy(server: AppServer, page: Page) -> None:
    await page.goto(server.url)
    icon = page.locator('head link[rel="icon"]')
    await expect(icon).to_have_attribute("type", "image/svg+xml")
    # Decoded as an image by the page itself: img-src allows it, and it is a valid picture.
    size = await page.evaluate(
        """async () => {
            const image = new Image();
            image.src = document.querySelector('link[rel="icon"]').href;
            await image.decode();
            return [image.naturalWidth, image.naturalHeight];
        }"""
    )
    assert size[0] > 0 and size[1] > 0
    guessed = await page.evaluate("fetch('/favicon.ico').then(r => [r.status, r.headers.get('content-type')])")
    assert guessed == [200, "image/svg+xml"]  # where a browser looks without being told


GITHUB_LINKS = 'section.entry a[href^="https://github.com/"]'


async def assert_links_open_in_a_new_tab(page: Page, expected: int) -> None:
    links = await page.locator(GITHUB_LINKS).evaluate_all(
        "links => links.map(a => [a.getAttribute('href'), a.target, a.rel])"
    )
    assert len(links) == expected
    for href, target, rel in links:
        assert target == "_blank", href
        assert {"noopener", "noreferrer"} <= set(rel.split()), href


async def test_links_to_github_open_in_a_new_tab(server: AppServer, fake_github: FakeGitHub, page: Page) -> None:
    fake_github.add_commits(
        REPO, [make_commit(REPO, n, message=f"Commit {n}", date=f"2026-11-2{n}T12:00:00Z") for n in range(1, 4)]
    )
    await page.goto(server.url)
    await expect(page.locator("#connection")).to_have_attribute("data-state", "live")
    await page.evaluate("window.__sameDocument = true")

    def issue(n: int) -> dict[str, Any]:
        return {
            "number": n,
            "title": f"Issue {n}",
            "state": "open",
            "html_url": f"https://github.com/{REPO}/issues/{n}",
        }

    await push(server.url, REPO, [issue(1), issue(2)])  # a new board: the whole section arrives
    board = page.locator(f'section.board[data-repository="{REPO}"]')
    await expect(board.locator("tr.issue")).to_have_count(2)
    await push(server.url, REPO, [issue(1), {**issue(2), "title": "Renamed"}, issue(3)])  # a delta: rows only
    await expect(board.locator('tr.issue[data-number="3"] .title a')).to_have_count(1)
    await expect(board.locator('tr.issue[data-number="2"] .title a')).to_have_text("Renamed")
    async with TRANSPORTS["streamable-http"](server.url) as client:
        commits = await client.call_tool(
            "send_commit_summary_to_dashboard", {"owner": "facebook", "repo": "react", "since": "2026-11-01"}
        )
        assert not commits.is_error, commits.content
        await client.call_tool(
            "publish_to_dashboard",
            {
                "title": "Triage",
                "summary_markdown": f"See [the milestone](https://github.com/{REPO}/milestone/1).",
                "items": [{"title": "Fix hydration", "url": f"https://github.com/{REPO}/issues/7"}],
                "repository": REPO,
            },
        )
    await expect(page.locator(f'section[data-id="commits:{REPO}"] .sha a')).to_have_count(3)
    await expect(page.locator("section.entry.panel .markdown a")).to_have_count(1)
    # 2 board titles, 3 issue rows, 3 commits, and the panel's repository, item and Markdown link
    await assert_links_open_in_a_new_tab(page, 11)
    assert await page.evaluate("window.__sameDocument") is True
    await page.reload()  # the same links, rendered into the page by the server
    await expect(page.locator("#connection")).to_have_attribute("data-state", "live")
    await assert_links_open_in_a_new_tab(page, 11)

    fake_github.add_pulls(REPO, [make_pull(REPO, n, title=f"Pull {n}") for n in (1, 2)])
    async with TRANSPORTS["streamable-http"](server.url) as client:
        pulls = await client.call_tool("send_pull_requests_to_dashboard", {"owner": "facebook", "repo": "react"})
        assert not pulls.is_error, pulls.content
    to_pulls = page.locator('section.entry a[href*="/pull/"]')
    await expect(page.locator('section.entry a[href$="/pull/2"]').first).to_be_visible()
    for target, rel in await to_pulls.evaluate_all("links => links.map(a => [a.target, a.rel])"):
        assert target == "_blank" and {"noopener", "noreferrer"} <= set(rel.split())
    assert await to_pulls.count() >= 4  # each pull request's title and number


async def publish_panel(server: AppServer, markdown: str) -> None:
    async with TRANSPORTS["streamable-http"](server.url) as client:
        result = await client.call_tool("publish_to_dashboard", {"title": "Notes", "summary_markdown": markdown})
    assert not result.is_error, result.content


async def test_markdown_table_alignment_survives_the_sanitiser(server: AppServer, page: Page) -> None:
    await publish_panel(
        server, "| left | centre | right | default |\n| :--- | :---: | ---: | --- |\n| 1 | 2 | 3 | 4 |\n"
    )
    await page.goto(server.url)
    panel = page.locator("section.entry.panel .markdown")
    for tag in ("th", "td"):
        aligned = await panel.locator(tag).evaluate_all("cells => cells.map(c => getComputedStyle(c).textAlign)")
        assert aligned[:3] == ["left", "center", "right"], (tag, aligned)
    # As classes the stylesheet styles: the page's CSP and the sanitiser never meet a style attribute.
    await expect(panel.locator("[style]")).to_have_count(0)


SCHEMES: list[tuple[Literal["light", "dark"], str]] = [("light", "rgb(89, 99, 110)"), ("dark", "rgb(145, 152, 161)")]


async def test_block_quotes_are_styled_in_light_and_dark(server: AppServer, browser: Browser) -> None:
    await publish_panel(server, "> Quoted from the issue\n\nAnd the answer.")
    borders = {}
    for scheme, muted in SCHEMES:
        context = await browser.new_context(color_scheme=scheme)
        page = await context.new_page()
        await page.goto(server.url)
        quote = page.locator("section.entry.panel .markdown blockquote")
        await expect(quote).to_have_css("border-left-style", "solid")
        await expect(quote).to_have_css("border-left-width", "4px")
        await expect(quote).to_have_css("color", muted)
        borders[scheme] = await quote.evaluate("q => getComputedStyle(q).borderLeftColor")
        await context.close()
    assert borders["light"] != borders["dark"]  # the bar follows the scheme


async def test_wide_screens_use_the_width(server: AppServer, page: Page) -> None:
    await push(server.url, "octo/app", [{"number": 1, "title": "One", "state": "open"}])
    await page.goto(server.url)
    board = page.locator('section.board[data-repository="octo/app"]')
    widths = {}
    for viewport in (1440, 1920, 3000):
        await page.set_viewport_size({"width": viewport, "height": 900})
        widths[viewport] = await board.evaluate("b => b.getBoundingClientRect().width")
    assert widths[1440] <= 1400  # as before, up to 1,600 px
    assert widths[1920] >= 1920 - 2 * 40  # the whole width but the page's margins
    assert 2200 <= widths[3000] <= 2400  # and a line length that stays readable on a huge screen


async def test_attention_cards_list_titles_with_more_and_filter_the_table(
    server: AppServer, fake_github: FakeGitHub, page: Page
) -> None:
    repo = "octo/attention"
    waiting = [make_pull(repo, n, title=f"Waiting <b>{n}</b>") for n in range(1, 15)]
    others = [
        make_pull(repo, 20, title="Draft work", draft=True),
        make_pull(repo, 21, title="Asked a team", requested_teams=["core"]),
        make_pull(repo, 22, title="Reviewed already", requested_reviewers=["ana"]),
    ]
    fake_github.add_pulls(repo, waiting + others)
    fake_github.review(repo, 22, "ana")
    await page.goto(server.url)
    await expect(page.locator("#connection")).to_have_attribute("data-state", "live")
    async with TRANSPORTS["streamable-http"](server.url) as client:
        result = await client.call_tool("send_pull_requests_to_dashboard", {"owner": "octo", "repo": "attention"})
    assert not result.is_error, result.content
    board = page.locator(f'section[data-id="pulls:{repo}"]')
    card = board.locator('.attention-card[data-attention="waiting"]')
    await expect(card.locator(".big")).to_have_text("14")
    await expect(card.locator(".attention-list li")).to_have_count(10)
    await expect(card.locator(".attention-more")).to_have_text("+4 more")
    await expect(card.locator(".attention-list li").first).to_contain_text("Waiting <b>")  # escaped, shown as text

    def shown() -> Any:
        return board.locator("tr.pull:not([hidden])").evaluate_all("rows => rows.map(r => Number(r.dataset.number))")

    assert len(await shown()) == 17
    button = card.locator(".attention-filter")
    await button.click()
    await expect(button).to_have_attribute("aria-pressed", "true")
    assert sorted(await shown()) == list(range(1, 15))
    await expect(board.locator(".shown")).to_have_text("14 of 17 shown")
    drafts = board.locator('.attention-card[data-attention="drafts"] .attention-filter')
    await drafts.click()  # another card: its pull requests instead
    assert await shown() == [20]
    await expect(button).to_have_attribute("aria-pressed", "false")
    await drafts.click()  # the same card again: the filter is off
    assert len(await shown()) == 17

    # A draft wears its own badge in the State column: not the green "open" pill, not a label chip.
    draft_state = board.locator('tr.pull[data-number="20"] td.state')
    await expect(draft_state.locator(".draft-badge")).to_have_text("draft")
    await expect(draft_state.locator(".state-badge")).to_have_count(0)
    await expect(board.locator('tr.pull[data-number="20"] td.title .draft-badge')).to_have_count(0)
    open_pill = await board.locator('tr.pull[data-number="1"] .state-badge').evaluate(
        "el => getComputedStyle(el).backgroundColor"
    )
    draft_look = await draft_state.locator(".draft-badge").evaluate(
        "el => [getComputedStyle(el).backgroundColor, getComputedStyle(el).borderStyle]"
    )
    assert draft_look[0] != open_pill and draft_look[1] == "dashed"


# WCAG 2 contrast from computed styles: each colour composited (alpha) over what is behind it, up
# the ancestors to the page's opaque background. Returns the text's ratio against its own
# background, the border's against the background behind the element, and sizes as rendered.
CONTRAST_JS = """el => {
  const rgba = s => {
    const srgb = s.match(/color\\(srgb ([\\d.]+) ([\\d.]+) ([\\d.]+)(?: \\/ ([\\d.]+))?\\)/);
    if (srgb) return [+srgb[1] * 255, +srgb[2] * 255, +srgb[3] * 255, srgb[4] === undefined ? 1 : +srgb[4]];
    const p = s.match(/[\\d.]+/g).map(Number);
    return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
  };
  const over = (top, under) => [0, 1, 2].map(i => top[i] * top[3] + under[i] * (1 - top[3])).concat(1);
  const behind = node => {
    const layers = [];
    for (let n = node; n; n = n.parentElement) {
      const c = rgba(getComputedStyle(n).backgroundColor);
      if (c[3] > 0) layers.push(c);
      if (c[3] >= 1) break;
    }
    return layers.reverse().reduce((under, top) => over(top, under), [255, 255, 255, 1]);
  };
  const luminance = c => {
    const [r, g, b] = c.slice(0, 3).map(v => v / 255).map(v => v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const ratio = (a, b) => {
    const [x, y] = [luminance(a), luminance(b)].sort((p, q) => q - p);
    return (x + 0.05) / (y + 0.05);
  };
  const style = getComputedStyle(el);
  const own = behind(el);
  const outside = el.parentElement ? behind(el.parentElement) : own;
  const text = over(rgba(el instanceof SVGElement ? style.fill : style.color), own);
  const scale = el instanceof SVGElement ? el.getScreenCTM().a : 1;
  return {
    text: ratio(text, own),
    border: ratio(over(rgba(style.borderTopColor), outside), outside),
    borderWidth: parseFloat(style.borderTopWidth), borderStyle: style.borderTopStyle,
    decoration: style.textDecorationLine,
    px: parseFloat(style.fontSize) * scale,
    name: el.className.baseVal ?? el.className, content: el.textContent,
  };
}"""


async def measured(page: Page, selector: str) -> Any:
    return await page.locator(selector).evaluate_all(f"els => els.map({CONTRAST_JS})")


async def open_in(browser: Browser, url: str, scheme: Literal["light", "dark"], width: int = 1280) -> Page:
    context = await browser.new_context(color_scheme=scheme, viewport={"width": width, "height": 900})
    opened = await context.new_page()
    await opened.goto(url)
    await expect(opened.locator("#connection")).to_have_attribute("data-state", "live")
    return opened


async def test_contrast_of_state_badges_in_light_and_dark(server: AppServer, browser: Browser) -> None:
    await push(
        server.url,
        "octo/app",
        [
            {"number": 1, "title": "Open one", "state": "open"},
            {"number": 2, "title": "Closed one", "state": "closed"},
        ],
    )
    for scheme, _ in SCHEMES:
        page = await open_in(browser, server.url, scheme)
        badges = await measured(page, "section.board .state-badge")
        assert {b["content"] for b in badges} == {"open", "closed"}
        for badge in badges:
            assert badge["text"] >= 4.5, (scheme, badge)
        await page.context.close()


async def test_contrast_of_links_in_text_blocks_in_light_and_dark(server: AppServer, browser: Browser) -> None:
    await publish_panel(
        server,
        "See [the issue](https://github.com/octo/app/issues/1).\n\n> Quoted, [with a link](https://example.com).",
    )
    for scheme, _ in SCHEMES:
        page = await open_in(browser, server.url, scheme)
        links = await measured(page, "section.entry.panel .markdown a")
        assert len(links) == 2
        for link in links:
            # Told apart from the text around it by more than colour, and readable on its background.
            assert "underline" in link["decoration"], (scheme, link)
            assert link["text"] >= 4.5, (scheme, link)
        await page.context.close()


# Any colour GitHub may send: white and near-white, black, GitHub's defaults, and mid-tones where
# GitHub's own text rule picks white below 4.5:1 (a saturated green, a bright red).
LABEL_COLOURS = ["ffffff", "ededed", "fef2c0", "000000", "d73a4a", "0e8a16", "00a000", "ff0000", "7057ff", "1d76db"]


async def test_contrast_of_label_chips_in_light_and_dark(server: AppServer, browser: Browser) -> None:
    labels = [{"name": f"c{colour}", "color": colour} for colour in LABEL_COLOURS]
    await push(server.url, "octo/app", [{"number": 1, "title": "Labelled", "state": "open", "labels": labels}])
    async with TRANSPORTS["streamable-http"](server.url) as client:
        result = await client.call_tool(
            "publish_to_dashboard",
            {
                "title": "Tags",
                "summary_markdown": "Tagged.",
                "items": [{"title": "Tagged", "url": "https://github.com/octo/app/issues/1", "tags": ["p1"]}],
            },
        )
    assert not result.is_error, result.content
    for scheme, _ in SCHEMES:
        page = await open_in(browser, server.url, scheme)
        chips = await measured(page, ".label")
        assert len(chips) == len(LABEL_COLOURS) + 1
        for chip in chips:
            assert chip["text"] >= 4.5, (scheme, chip)  # the name on the chip's own colour
            # Its edge seen on the page, whatever its fill: a white chip on white, in the dark.
            assert chip["borderStyle"] == "solid" and chip["borderWidth"] >= 1, (scheme, chip)
            assert chip["border"] >= 3, (scheme, chip)
        await page.context.close()


async def test_chips_badges_and_chart_text_are_at_least_11_px(
    server: AppServer, fake_github: FakeGitHub, browser: Browser
) -> None:
    fake_github.add_repo(REPO, [make_issue(REPO, n, labels=[("bug", "d73a4a")]) for n in range(1, 4)])
    fake_github.add_pulls(REPO, [make_pull(REPO, 101, draft=True), make_pull(REPO, 102, labels=[("p1", "ededed")])])
    fake_github.add_commits(
        REPO, [make_commit(REPO, n, date=f"2026-11-{n:02d}T12:00:00Z", author="gaearon") for n in range(1, 20)]
    )
    async with TRANSPORTS["streamable-http"](server.url) as client:
        for tool, arguments in [
            ("send_issues_to_dashboard", {"state": "all"}),
            ("send_pull_requests_to_dashboard", {}),
            ("send_commit_summary_to_dashboard", {"since": "2026-11-01"}),
        ]:
            result = await client.call_tool(tool, {"owner": "facebook", "repo": "react", **arguments})
            assert not result.is_error, result.content
    for width in (1280, 760, 390):  # desktop, beside the editor, a phone: SVG scaling shrinks its text
        page = await open_in(browser, server.url, "light", width)
        texts = await measured(page, ".label, .state-badge, .draft-badge, .chart text, .chart-range")
        names = {t["name"].split()[0] for t in texts}
        assert {"label", "state-badge", "draft-badge", "chart-name", "chart-value", "chart-range"} <= names
        for text in texts:
            assert text["px"] >= 11, (width, text)
        await page.context.close()


# ---- filter and sort kept in the URL (#16) ------------------------------------------------------

URL_BOARD = "issues:octo/app"


async def push_crash_and_docs(server: AppServer) -> Any:
    """:func:`crash_and_docs` on octo/app."""
    await push(server.url, "octo/app", crash_and_docs())


def url_board(page: Page) -> Locator:
    return page.locator(f'section.board[data-id="{URL_BOARD}"]')


async def fragment_of(page: Page) -> dict[str, str]:
    """The page's URL fragment as the script wrote it, decoded."""
    pairs = await page.evaluate("[...new URLSearchParams(location.hash.slice(1))]")
    return dict(pairs)


async def filtered_crashes_by_number(page: Page) -> Locator:
    await expect(page.locator("#connection")).to_have_attribute("data-state", "live")
    board = url_board(page)
    history_before = await page.evaluate("history.length")
    await board.locator(".filter-text").press_sequentially("crash")
    await board.locator('th[data-sort="number"] button').click()  # number, descending first
    await board.locator('th[data-sort="number"] button').click()  # then ascending
    assert await page.evaluate("history.length") == history_before  # replaced, never pushed
    return board


async def expect_crashes_by_number(board: Locator) -> None:
    await expect(board.locator(".filter-text")).to_have_value("crash")
    await expect(board.locator('th[data-sort="number"]')).to_have_attribute("aria-sort", "ascending")
    assert await row_numbers(board) == [1, 3, 5, 7, 9]
    await expect(board.locator(".shown")).to_have_text("5 of 10 shown")


async def test_url_keeps_filter_and_sort_across_reload(server: AppServer, page: Page) -> None:
    await push_crash_and_docs(server)
    await page.goto(server.url)
    board = await filtered_crashes_by_number(page)
    await pick_label(board, "bug")
    assert await fragment_of(page) == {
        f"filter.{URL_BOARD}": "crash",
        f"label.{URL_BOARD}": "bug",
        f"sort.{URL_BOARD}": "number",
        "board": URL_BOARD,  # the board worked on (tests/e2e/test_page_filter.py)
    }
    assert f"#filter.{URL_BOARD}=crash&" in page.url  # legible: the board id is not percent-encoded

    await page.reload()
    await expect_crashes_by_number(board)
    await expect(board.locator(".label-picker-toggle")).to_have_text("Label: bug")

    # Clearing the filter and going back to the default sort leaves nothing of the board's state.
    await board.locator(".filter-text").fill("")
    await clear_labels(board)
    await board.locator('th[data-sort="updated"] button').click()  # updated, descending: the default
    assert await fragment_of(page) == {"board": URL_BOARD}

    # Someone edits the URL's fragment: the board follows it (`hashchange`).
    await page.evaluate(f"location.hash = 'filter.{URL_BOARD}=docs&sort.{URL_BOARD}=-number'")
    await expect(board.locator(".filter-text")).to_have_value("docs")
    assert await row_numbers(board) == [10, 8, 6, 4, 2]


async def test_url_a_shared_link_shows_the_same_rows_in_a_fresh_browser(
    server: AppServer, page: Page, browser: Browser
) -> None:
    await push_crash_and_docs(server)
    await page.goto(server.url)
    await filtered_crashes_by_number(page)
    shared = page.url

    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    other = await context.new_page()
    # Applied as the page loads (the deferred script), not after the stream's first update.
    await other.goto(shared, wait_until="domcontentloaded")
    assert await row_numbers(url_board(other)) == [1, 3, 5, 7, 9]
    await expect_crashes_by_number(url_board(other))


async def test_url_back_shows_the_rows_the_filter_box_says(server: AppServer, page: Page) -> None:
    await push_crash_and_docs(server)
    await page.goto(server.url)
    board = await filtered_crashes_by_number(page)

    await page.goto(f"{server.url}/healthz")  # another page, then Back
    await page.go_back()
    await page.wait_for_load_state("load")
    await expect(page.locator("#connection")).to_have_attribute("data-state", "live")
    # Whatever the browser refilled into the box, the rows shown are the ones it says.
    value = (await board.locator(".filter-text").input_value()).lower()
    titles = await board.locator("tr.issue .title").all_inner_texts()
    hidden = await board.locator("tr.issue").evaluate_all("rows => rows.map(r => r.hidden)")
    assert hidden == [value not in title.lower() for title in titles], f"box says {value!r}"
    await expect_crashes_by_number(board)

    await page.go_forward()
    await page.go_back()
    await expect_crashes_by_number(board)


async def test_url_hostile_values_stay_text_and_bounded(server: AppServer, page: Page) -> None:
    await push_crash_and_docs(server)
    board = url_board(page)
    markup = f'<img src=x onerror="{PWN}"><script>{PWN}</script>'
    hostile = "&".join(
        [
            f"filter.{URL_BOARD}={quote(markup)}",
            f"label.{URL_BOARD}={quote(markup)}",
            f"sort.{URL_BOARD}=-constructor",  # no such column
            "sort.issues:other/repo=number",  # no such board
            f"filter.__proto__={quote(markup)}",
            "nonsense=1",
        ]
    )
    await page.goto(f"{server.url}/#{hostile}")
    await expect(page.locator("#connection")).to_have_attribute("data-state", "live")
    await expect(board.locator(".filter-text")).to_have_value(markup)  # text in the box, no markup
    assert await board.locator("img, script").count() == 0
    # The label the link asks for is offered as a choice of its own (text), right after "No label".
    assert await board.locator(".label-choice .choice-chip").nth(1).text_content() == markup
    await expect(board.locator('th[data-sort="updated"]')).to_have_attribute("aria-sort", "descending")
    await expect(board.locator(".no-matches")).to_be_visible()

    # A value longer than the box's 500 characters is cut; a fragment over 8 KB is ignored whole.
    await page.goto(f"{server.url}/#filter.{URL_BOARD}={'c' * 600}")
    await page.reload()
    await expect(board.locator(".filter-text")).to_have_value("c" * 500)
    await page.goto(f"{server.url}/#filter.{URL_BOARD}=crash&sort.{URL_BOARD}=number&pad={'x' * 100_000}")
    await page.reload()
    await expect(board.locator(".filter-text")).to_have_value("")
    assert await row_numbers(board) == list(range(10, 0, -1))
