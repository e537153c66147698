"""MCP Apps end to end: the board tools' ``ui://`` view, and the boards as server-rendered HTML.

A real server process, the fake GitHub, and the SDK's own clients, some of which negotiate the
extension (``io.modelcontextprotocol/ui``) and some of which do not.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import mcp_types as types
import pytest
from mcp import Client
from mcp.client.extension import advertise
from mcp.client.sse import sse_client
from mcp.server.apps import APP_MIME_TYPE, EXTENSION_ID

from issuebridge.mcp.views import BOARD_URI, VIEW_URI, board_uri
from testkit.fake_github import FakeGitHub, make_commit, make_pull
from testkit.mcp_clients import ONE_TRANSPORT, PROTOCOL_ERAS, TRANSPORTS
from tests.e2e.test_mcp_tool import REPO, open_issue_numbers, seed
from tests.inprocess import AppServer

BOARD_TOOLS = {
    "send_issues_to_dashboard",
    "send_pull_requests_to_dashboard",
    "send_commit_summary_to_dashboard",
    "send_search_to_dashboard",
    "publish_to_dashboard",
}
EMPTY_CSP: dict[str, list[str]] = {
    "connectDomains": [],
    "resourceDomains": [],
    "frameDomains": [],
    "baseUriDomains": [],
}

# The same three clients as TRANSPORTS, each advertising MCP Apps support as a host would.
APPS_SETTINGS = {"mimeTypes": [APP_MIME_TYPE]}
APPS_TRANSPORTS: dict[str, Callable[[str], Client]] = {
    "sse": lambda base: Client(
        sse_client(f"{base}/sse"), mode="legacy", extensions=[advertise(EXTENSION_ID, APPS_SETTINGS)]
    ),
    "streamable-http": lambda base: Client(f"{base}/mcp", extensions=[advertise(EXTENSION_ID, APPS_SETTINGS)]),
    "streamable-http-legacy": lambda base: Client(
        f"{base}/mcp", mode="legacy", extensions=[advertise(EXTENSION_ID, APPS_SETTINGS)]
    ),
}


def html_of(read: types.ReadResourceResult, uri: str) -> tuple[str, dict[str, Any]]:
    """The one HTML document a ``ui://`` read returns, and its content item's ``_meta``."""
    assert len(read.contents) == 1
    content = read.contents[0]
    assert isinstance(content, types.TextResourceContents)
    assert content.uri == uri
    assert content.mime_type == APP_MIME_TYPE
    assert content.text.startswith("<!doctype html>")
    return content.text, dict(content.meta or {})


def assert_loads_nothing_remote(html: str) -> None:
    assert not re.search(r"<script[^>]*\bsrc\s*=", html, re.IGNORECASE)
    assert not re.search(r"<link\b", html, re.IGNORECASE)
    assert "@import" not in html
    assert not re.search(r"<(img|iframe|object|embed)\b", html, re.IGNORECASE)


@pytest.mark.parametrize("transport", PROTOCOL_ERAS)
async def test_board_tools_name_their_view_and_the_view_is_listed(server: AppServer, transport: str) -> None:
    async with TRANSPORTS[transport](server.url) as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
        for name in BOARD_TOOLS:
            assert (tools[name].meta or {}).get("ui") == {"resourceUri": VIEW_URI}, name
        for name in set(tools) - BOARD_TOOLS:  # get_dashboard, remove_from_dashboard, clear_dashboard
            assert "ui" not in (tools[name].meta or {}), name

        listed = {resource.uri: resource for resource in (await client.list_resources()).resources}
        view = listed[VIEW_URI]
        assert view.mime_type == APP_MIME_TYPE
        assert (view.meta or {})["ui"]["csp"] == EMPTY_CSP
        templates = {t.uri_template: t for t in (await client.list_resource_templates()).resource_templates}
        assert templates[BOARD_URI].mime_type == APP_MIME_TYPE
        assert (templates[BOARD_URI].meta or {})["ui"]["csp"] == EMPTY_CSP


@pytest.mark.parametrize("transport", ONE_TRANSPORT)
async def test_the_view_is_self_contained(server: AppServer, transport: str) -> None:
    async with TRANSPORTS[transport](server.url) as client:
        html, meta = html_of(await client.read_resource(VIEW_URI), VIEW_URI)
    assert meta["ui"]["csp"] == EMPTY_CSP and meta["ui"]["prefersBorder"] is True
    assert_loads_nothing_remote(html)
    assert html.count("<script>") == 1  # the inline bridge, and nothing else
    assert '"ui/initialize"' in html and '"ui/notifications/tool-result"' in html
    assert '"resources/read"' in html and '"ui://issuebridge/board/"' in html
    assert "<style>" in html and "--bg:" in html  # the page's stylesheet, inlined
    assert "token" not in html.lower() and "secret" not in html.lower()


@pytest.mark.parametrize("transport", ONE_TRANSPORT)
async def test_a_synced_board_reads_as_the_page_shows_it(
    server: AppServer, fake_github: FakeGitHub, transport: str
) -> None:
    items = seed(fake_github, count=40)
    fake_github.add_commits(
        REPO,
        [make_commit(REPO, n, message=f"<script>alert({n})</script> fix {n}" if n == 3 else None) for n in range(1, 5)],
    )
    fake_github.add_pulls(
        REPO, [make_pull(REPO, n, title="<script>alert('pr')</script>" if n == 2 else None) for n in (1, 2, 3)]
    )
    async with TRANSPORTS[transport](server.url) as client:
        synced = await client.call_tool("send_issues_to_dashboard", {"owner": "facebook", "repo": "react"})
        assert not synced.is_error and synced.structured_content is not None
        key = synced.structured_content["board_id"]
        uri = board_uri(key)
        html, meta = html_of(await client.read_resource(uri), uri)

        pulls = await client.call_tool("send_pull_requests_to_dashboard", {"owner": "facebook", "repo": "react"})
        assert not pulls.is_error and pulls.structured_content is not None
        pulls_uri = board_uri(pulls.structured_content["board_id"])
        pulls_html, _ = html_of(await client.read_resource(pulls_uri), pulls_uri)

        commits = await client.call_tool(
            "send_commit_summary_to_dashboard", {"owner": "facebook", "repo": "react", "since": "2024-01-01"}
        )
        assert not commits.is_error and commits.structured_content is not None
        commits_uri = board_uri(commits.structured_content["board_id"])
        commits_html, _ = html_of(await client.read_resource(commits_uri), commits_uri)

    assert key == "issues:facebook/react"
    assert meta["ui"]["csp"] == EMPTY_CSP
    numbers = [int(n) for n in re.findall(r'<tr class="issue" data-number="(\d+)"', html)]
    assert numbers and sorted(numbers) == sorted(open_issue_numbers(items))
    assert ">Issue number 1</a>" in html
    # Titles from GitHub are hostile HTML (#7, #14, ...: "<script>alert(7)</script> bug 7").
    assert "&lt;script&gt;alert(7)&lt;/script&gt; bug 7" in html
    assert "<script" not in html  # a board's view runs nothing, not even the bridge
    assert_loads_nothing_remote(html)

    assert "&lt;script&gt;alert(&#39;pr&#39;)&lt;/script&gt;" in pulls_html
    assert "<script" not in pulls_html
    assert len(re.findall(r'data-number="\d+"', pulls_html)) == 3

    assert commits_uri == board_uri("commits:facebook/react")
    assert len(re.findall(r'<tr class="commit" data-sha="[0-9a-f]{40}"', commits_html)) == 4
    assert "&lt;script&gt;alert(3)&lt;/script&gt; fix 3" in commits_html and "<script" not in commits_html


@pytest.mark.parametrize("transport", ONE_TRANSPORT)
async def test_a_published_panel_reads_sanitised(server: AppServer, transport: str) -> None:
    async with TRANSPORTS[transport](server.url) as client:
        published = await client.call_tool(
            "publish_to_dashboard",
            {
                "title": "Triage <b>now</b>",
                "summary_markdown": "## Findings <script>window.__pwned = 1</script>\n\n"
                '* [bad](javascript:alert(1))\n* <img src=x onerror="alert(1)">\n',
                "items": [{"title": "<script>x()</script>", "url": "https://github.com/facebook/react/issues/1"}],
            },
        )
        assert not published.is_error and published.structured_content is not None
        uri = board_uri(f"panel:{published.structured_content['panel_id']}")
        html, _ = html_of(await client.read_resource(uri), uri)
    assert "Triage &lt;b&gt;now&lt;/b&gt;" in html
    assert "<script" not in html and 'href="javascript' not in html and "<img" not in html
    assert "&lt;img src=x onerror=" in html  # raw HTML in markdown is shown as text
    assert "&lt;script&gt;x()&lt;/script&gt;" in html
    assert_loads_nothing_remote(html)


@pytest.mark.parametrize("transport", ONE_TRANSPORT)
async def test_a_board_that_is_not_there_is_a_clear_resource_error(server: AppServer, transport: str) -> None:
    async with TRANSPORTS[transport](server.url) as client:
        with pytest.raises(Exception, match=r"no board 'issues:nobody/nothing' is on the dashboard"):
            await client.read_resource(board_uri("issues:nobody/nothing"))
        with pytest.raises(Exception, match=r"no board 'panel:missing' is on the dashboard"):
            await client.read_resource(board_uri("panel:missing"))


@pytest.mark.parametrize("transport", PROTOCOL_ERAS)
async def test_a_host_with_apps_gets_the_same_result_as_one_without(
    server: AppServer, fake_github: FakeGitHub, transport: str
) -> None:
    seed(fake_github, count=20)
    arguments = {"owner": "facebook", "repo": "react", "state": "all"}
    async with TRANSPORTS[transport](server.url) as plain:
        without = await plain.call_tool("send_issues_to_dashboard", arguments)
    async with APPS_TRANSPORTS[transport](server.url) as host:
        # The SDK advertises extensions in the 2026 protocol era only; the handshake era has no
        # field for them, and hosts there go by the tools' _meta alone.
        advertised = host.server_capabilities.extensions
        assert advertised == ({EXTENSION_ID: {}} if transport == "streamable-http" else None)
        tools = {tool.name: tool for tool in (await host.list_tools()).tools}
        assert (tools["send_issues_to_dashboard"].meta or {})["ui"] == {"resourceUri": VIEW_URI}
        with_apps = await host.call_tool("send_issues_to_dashboard", arguments)

    for result in (without, with_apps):
        assert not result.is_error
        assert [block.type for block in result.content] == ["text"]
        assert result.structured_content is not None
    assert without.structured_content is not None and with_apps.structured_content is not None
    ignore = {"changed", "last_updated"}
    assert {k: v for k, v in without.structured_content.items() if k not in ignore} == {
        k: v for k, v in with_apps.structured_content.items() if k not in ignore
    }
    assert set(without.structured_content) == set(with_apps.structured_content)
    assert without.content[0].text.startswith("Sent 15 issues of facebook/react to the dashboard: ")  # type: ignore[union-attr]
