"""The tools' MCP Apps view in a real browser, inside a minimal host that speaks the Apps protocol.

The host frames the view as the spec has it (a sandboxed iframe, the spec's restrictive default
CSP when a resource declares no domains), answers ``ui/initialize``, hands the view the tool
result, and proxies its ``resources/read`` to the real server through the SDK client.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import mcp_types as types
import pytest_asyncio
from playwright.async_api import Browser, Page, expect

from issuebridge.mcp.views import VIEW_URI, board_uri
from testkit.fake_github import FakeGitHub
from testkit.mcp_clients import TRANSPORTS
from tests.browser import BROWSER_TESTS
from tests.e2e.test_mcp_tool import REPO, open_issue_numbers, seed
from tests.inprocess import AppServer, start_app
from tests.unvalidated import board_with_colours, hostile_colours, store_unvalidated

# The spec's default for a view that declares no domains (ours declares every list empty).
VIEW_CSP = (
    "default-src 'none'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; media-src 'self' data:; object-src 'none'; connect-src 'none'; frame-src 'none'"
)

HOST = """<!doctype html><html><head><meta http-equiv="Content-Security-Policy" content="__CSP__"></head>
<body><iframe id="view" sandbox="allow-scripts" style="width:1000px;height:700px"></iframe>
<script>
window.seen = [];
window.serve = function (view, toolResult, reads) {
  var frame = document.getElementById("view");
  var send = function (message) { frame.contentWindow.postMessage(Object.assign({jsonrpc: "2.0"}, message), "*"); };
  window.addEventListener("message", function (event) {
    if (event.source !== frame.contentWindow) return;
    var m = event.data;
    window.seen.push(m.method || "response");
    if (m.method === "ui/initialize") {
      send({id: m.id, result: {protocolVersion: "2026-01-26", hostInfo: {name: "test-host", version: "1"},
                               hostCapabilities: {serverResources: {}}, hostContext: {displayMode: "inline"}}});
    } else if (m.method === "ui/notifications/initialized") {
      send({method: "ui/notifications/tool-result", params: toolResult});
    } else if (m.method === "resources/read") {
      var read = reads[m.params.uri];
      send(read ? {id: m.id, result: read} : {id: m.id, error: {code: -32002, message: "not found"}});
    }
  });
  frame.srcdoc = view;
};
</script></body></html>""".replace("__CSP__", VIEW_CSP.replace("'", "&#39;"))


# The session's Chromium (tests/browser.py), skipped or failed without it.
pytestmark = BROWSER_TESTS


@pytest_asyncio.fixture(loop_scope="session")
async def host(browser: Browser) -> AsyncIterator[Page]:
    """A page for the host; nothing in it or its frames may run injected script, open a dialog or throw."""
    context = await browser.new_context(viewport={"width": 1100, "height": 800})
    page = await context.new_page()
    problems: list[str] = []
    page.on("dialog", lambda dialog: problems.append(f"dialog: {dialog.message}"))
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    try:
        yield page
        pwned = [await frame.evaluate("window.__pwned") for frame in page.frames]
    finally:
        await context.close()
    assert pwned == [None] * len(pwned), "hostile content ran script"
    assert problems == []


def wire(model: Any) -> Any:
    return model.model_dump(by_alias=True, exclude_none=True, mode="json")


async def host_the_view(page: Page, view: str, tool_result: Any, reads: dict[str, Any]) -> list[str]:
    """Frame ``view`` in the host; the URLs the page then requests (there should be none)."""
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    await page.set_content(HOST)
    await page.evaluate("([view, result, reads]) => window.serve(view, result, reads)", [view, tool_result, reads])
    return requests


async def test_the_view_shows_the_board_a_tool_call_updated(
    server: AppServer, fake_github: FakeGitHub, host: Page
) -> None:
    items = seed(fake_github, 40)
    async with TRANSPORTS["streamable-http"](server.url) as client:
        result = await client.call_tool("send_issues_to_dashboard", {"owner": "facebook", "repo": "react"})
        assert not result.is_error and result.structured_content is not None
        uri = board_uri(result.structured_content["board_id"])
        board = await client.read_resource(uri)
        view = await client.read_resource(VIEW_URI)
    assert isinstance(view.contents[0], types.TextResourceContents)

    requests = await host_the_view(host, view.contents[0].text, wire(result), {uri: wire(board)})

    frame = host.frame_locator("#view")
    section = frame.locator(f'section.board[data-repository="{REPO}"]')
    await expect(section.locator("tr.issue")).to_have_count(len(open_issue_numbers(items)))
    await expect(frame.locator("#app-status")).to_be_hidden()
    hostile = section.locator('tr.issue[data-number="7"] .title a')
    await expect(hostile).to_have_text("<script>alert(7)</script> bug 7")
    seen = await host.evaluate("window.seen")
    assert seen[0] == "ui/initialize"
    assert seen.index("ui/notifications/initialized") < seen.index("resources/read")
    assert seen.count("resources/read") == 1 and "ui/notifications/size-changed" in seen
    assert requests == [], "the view loaded something from outside"


async def test_without_a_board_to_read_the_view_shows_the_results_text(
    server: AppServer, fake_github: FakeGitHub, host: Page
) -> None:
    seed(fake_github, 10)
    async with TRANSPORTS["streamable-http"](server.url) as client:
        result = await client.call_tool("send_issues_to_dashboard", {"owner": "facebook", "repo": "react"})
        view = await client.read_resource(VIEW_URI)
    assert isinstance(view.contents[0], types.TextResourceContents)

    requests = await host_the_view(host, view.contents[0].text, wire(result), {})  # this host proxies no reads

    status = host.frame_locator("#view").locator("#app-status")
    await expect(status).to_be_visible()
    await expect(status).to_contain_text(f"issues of {REPO} to the dashboard")
    assert requests == []


async def test_a_hostile_label_colour_runs_no_script_in_the_views(
    tmp_path: Path, server_env: dict[str, str], store_env: dict[str, str], host: Page
) -> None:
    colours = hostile_colours("http://127.0.0.1:9/pwned")
    # An older version let such colours into the store; the views render the board from there.
    await store_unvalidated(store_env, board_with_colours("evil/stored", colours))
    server = start_app(server_env)
    try:
        uri = board_uri("issues:evil/stored")
        async with TRANSPORTS["streamable-http"](server.url) as client:
            board = await client.read_resource(uri)
            view = await client.read_resource(VIEW_URI)
    finally:
        server.stop()
    assert isinstance(view.contents[0], types.TextResourceContents)
    assert isinstance(board.contents[0], types.TextResourceContents)
    result = {"content": [{"type": "text", "text": "Sent."}], "structuredContent": {"board_id": "issues:evil/stored"}}

    # The tools' view, which places the board's server-rendered HTML into itself ...
    requests = await host_the_view(host, view.contents[0].text, result, {uri: wire(board)})
    labels = host.frame_locator("#view").locator('section.board[data-repository="evil/stored"] .label')
    await expect(labels).to_have_count(len(colours))
    for chip in await labels.all():
        await expect(chip).to_have_css("background-color", "rgb(237, 237, 237)")
        await chip.hover()
    # ... and the board's own view, framed by a host as it is.
    requests += await host_the_view(host, board.contents[0].text, result, {})
    labels = host.frame_locator("#view").locator(".label")
    await expect(labels).to_have_count(len(colours))
    for chip in await labels.all():
        await expect(chip).to_have_css("background-color", "rgb(237, 237, 237)")
        await chip.hover()
    assert [url for url in requests if "pwned" in url] == []
    assert len(host.frames) == 2  # the host and its view: nothing navigated or opened
