"""The assistant's curation tools end to end: panels, read-back, removal, resources, notifications."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import mcp_types as types
import pytest
from mcp import Client

from issuebridge.records.kind import READ_MORE
from testkit.fake_github import FakeGitHub
from testkit.mcp_clients import ONE_TRANSPORT, TRANSPORTS
from testkit.sse import open_event_stream
from tests.e2e.test_mcp_tool import REPO, TOOL_NAMES, open_issue_numbers, seed
from tests.inprocess import AppServer, until

HOSTILE_MARKDOWN = """\
## Findings <script>window.__pwned = 1</script>

* [safe link](https://github.com/facebook/react/issues/1)
* [script link](javascript:window.__pwned=1)
* <img src=x onerror="window.__pwned=1">

| bug | count |
| --- | ---: |
| crash | 3 |
"""


def text_of(result: types.CallToolResult) -> str:
    block = result.content[0]
    assert isinstance(block, types.TextContent)
    return block.text


async def publish(client: Client, **arguments: Any) -> dict[str, Any]:
    result = await client.call_tool("publish_to_dashboard", arguments)
    assert not result.is_error, text_of(result)
    assert result.structured_content is not None
    return dict(result.structured_content)


@pytest.mark.parametrize("transport", ONE_TRANSPORT)
async def test_a_panel_is_published_rendered_safely_and_updated_in_place(server: AppServer, transport: str) -> None:
    async with (
        open_event_stream(f"{server.url}/api/dashboard/events") as json_stream,
        open_event_stream(f"{server.url}/api/dashboard/events?format=html") as page_stream,
        TRANSPORTS[transport](server.url) as client,
    ):
        await json_stream.next()
        await page_stream.next()
        first = await publish(
            client,
            title="Triage: what to fix first",
            summary_markdown=HOSTILE_MARKDOWN,
            metrics=[{"label": "Open bugs", "value": 42, "trend": "up"}, {"label": "Median age", "value": "9 days"}],
            items=[
                {
                    "title": "Crash on start <b>now</b>",
                    "url": "https://github.com/facebook/react/issues/1",
                    "tags": ["p1"],
                }
            ],
            repository=REPO,
        )
        assert first["panel_id"] == "triage-what-to-fix-first" and first["created"] is True
        update = (await json_stream.next()).json()
        assert update["type"] == "panel_update"
        panel = update["data"]
        assert panel["id"] == "panel:triage-what-to-fix-first" and panel["repository"] == REPO
        assert panel["metrics"][0] == {"label": "Open bugs", "value": "42", "trend": "up"}

        html = (await page_stream.next()).json()["data"]["html"]
        safe = 'href="https://github.com/facebook/react/issues/1" target="_blank" rel="noopener noreferrer nofollow"'
        assert f"<a {safe}>safe link</a>" in html
        assert 'href="javascript' not in html and "<script" not in html and "<img" not in html
        assert "[script link](javascript:window.__pwned=1)" in html  # an unsafe link stays plain text
        assert "&lt;script&gt;window.__pwned = 1&lt;/script&gt;" in html
        assert "<table>" in html and "<td>crash</td>" in html
        assert "Crash on start &lt;b&gt;now&lt;/b&gt;" in html

        second = await publish(
            client, title="Triage, revised", summary_markdown="Only **two** left.", panel_id=first["panel_id"]
        )
        assert second == {**second, "panel_id": first["panel_id"], "created": False}
        revised = (await json_stream.next()).json()["data"]
        assert revised["title"] == "Triage, revised" and revised["summary_markdown"] == "Only **two** left."
        assert len(revised["metrics"]) == 2 and revised["repository"] == REPO  # kept when not given
        await publish(client, title="Triage, revised", summary_markdown="-", panel_id=first["panel_id"], metrics=[])
        assert (await json_stream.next()).json()["data"]["metrics"] == []
        await publish(
            client, title="Triage, revised", summary_markdown="Only **two** left.", panel_id=first["panel_id"]
        )
        await json_stream.next()

        other = await publish(client, title="Triage: what to fix first", summary_markdown="A second panel")
        assert other["panel_id"] == "triage-what-to-fix-first-2"  # the same title does not overwrite

        bad = await client.call_tool(
            "publish_to_dashboard",
            {"title": "x", "summary_markdown": "y", "items": [{"title": "t", "url": "javascript:alert(1)"}]},
        )
        assert bad.is_error and "url" in text_of(bad)
        bad_id = await client.call_tool(
            "publish_to_dashboard", {"title": "x", "summary_markdown": "y", "panel_id": "../x"}
        )
        assert bad_id.is_error and "not a panel id" in text_of(bad_id)

    async with httpx.AsyncClient(base_url=server.url) as http:
        page = (await http.get("/")).text
    assert page.count('class="entry panel"') == 2
    assert "Only <strong>two</strong> left." in page


@pytest.mark.usefixtures("backend")  # removals and clears reach the stream through the store's changes
async def test_read_back_remove_and_clear(server: AppServer, fake_github: FakeGitHub) -> None:
    items = seed(fake_github, 30)
    async with TRANSPORTS["streamable-http"](server.url) as client:
        await client.call_tool("send_issues_to_dashboard", {"owner": "facebook", "repo": "react"})
        await publish(client, title="Notes", summary_markdown="Ship it.", metrics=[{"label": "Risk", "value": "low"}])

        view = (await client.call_tool("get_dashboard", {})).structured_content
        assert view is not None
        assert [e["id"] for e in view["entries"]] == ["panel:notes", f"issues:{REPO}"]
        issues = view["entries"][1]
        assert issues["count"] == len(open_issue_numbers(items))
        third = issues["rows"][2]
        assert third["position"] == 3 and third["number"] == open_issue_numbers(items)[2]  # the page's order
        assert view["entries"][0]["summary"].startswith("Risk: low")

        only_react = (await client.call_tool("get_dashboard", {"repository": "Facebook/React"})).structured_content
        assert only_react is not None and [e["id"] for e in only_react["entries"]] == [f"issues:{REPO}"]

        async with open_event_stream(f"{server.url}/api/dashboard/events?last_event_id=2") as stream:
            removed = (
                await client.call_tool("remove_from_dashboard", {"board_or_panel_id": "notes"})
            ).structured_content
            assert removed == {"id": "panel:notes", "removed": True}
            event = await stream.next()
            assert event.event == "removed" and event.json()["data"] == {"id": "panel:notes"} and event.id == "3"
            again = (
                await client.call_tool("remove_from_dashboard", {"board_or_panel_id": "panel:notes"})
            ).structured_content
            assert again == {"id": "panel:notes", "removed": False}

            cleared = (await client.call_tool("clear_dashboard", {})).structured_content
            assert cleared == {"removed_count": 1}
            event = await stream.next()
            assert event.event == "cleared" and event.id == "4"
        view = (await client.call_tool("get_dashboard", {})).structured_content
        assert view == {"selected": [], "entries": [], "read_more": READ_MORE}


async def test_every_tool_declares_its_schema_and_behaviour(server: AppServer) -> None:
    async with TRANSPORTS["streamable-http"](server.url) as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
        instructions = client.instructions or ""
    assert set(tools) == TOOL_NAMES
    for tool in tools.values():
        assert tool.output_schema is not None and tool.output_schema.get("properties"), tool.name
        assert tool.description and len(tool.description) > 60, tool.name
        assert tool.annotations is not None, tool.name
    hints = {
        name: (t.annotations.read_only_hint, t.annotations.destructive_hint)
        for name, t in tools.items()
        if t.annotations
    }
    assert hints["get_dashboard"] == (True, None)
    assert hints["remove_from_dashboard"] == (False, True) and hints["clear_dashboard"] == (False, True)
    assert hints["publish_to_dashboard"] == (False, False)
    assert tools["send_pull_requests_to_dashboard"].annotations.open_world_hint is True  # type: ignore[union-attr]
    assert tools["get_dashboard"].annotations.open_world_hint is False  # type: ignore[union-attr]
    assert "fetch, curate, publish, read back" in instructions.lower()


async def test_resources_read_the_dashboard(server: AppServer, fake_github: FakeGitHub) -> None:
    seed(fake_github, 12)
    async with TRANSPORTS["streamable-http-legacy"](server.url) as client:
        await client.call_tool("send_issues_to_dashboard", {"owner": "facebook", "repo": "react"})
        await publish(client, title="Weekly", summary_markdown="**ok**", repository=REPO)
        listed = {str(r.uri) for r in (await client.list_resources()).resources}
        templates = {t.uri_template for t in (await client.list_resource_templates()).resource_templates}
        assert "dashboard://boards" in listed
        assert {"dashboard://boards/{owner}/{repo}", "dashboard://panels/{panel_id}"} <= templates

        everything = json.loads(_text(await client.read_resource("dashboard://boards")))
        assert [e["id"] for e in everything["entries"]] == ["panel:weekly", f"issues:{REPO}"]
        repository = json.loads(_text(await client.read_resource(f"dashboard://boards/{REPO}")))
        assert [e["id"] for e in repository] == ["panel:weekly", f"issues:{REPO}"]
        assert repository[1]["issues"][0]["number"] == 11
        panel = json.loads(_text(await client.read_resource("dashboard://panels/weekly")))
        assert panel["summary_markdown"] == "**ok**"
        with pytest.raises(Exception, match="no panel 'missing'"):
            await client.read_resource("dashboard://panels/missing")


def _text(result: types.ReadResourceResult) -> str:
    content = result.contents[0]
    assert isinstance(content, types.TextResourceContents)
    return content.text


# The handshake era's resources/subscribe is deprecated by the SDK; testing it is the point here.
@pytest.mark.filterwarnings("ignore:resources/subscribe is removed")
async def test_subscribed_clients_are_told_when_a_resource_changes(server: AppServer) -> None:
    """Both protocol eras: resources/subscribe (handshake) and subscriptions/listen (2026-07-28)."""
    legacy_updates: list[str] = []

    async def on_message(message: Any) -> None:
        if isinstance(message, types.ResourceUpdatedNotification):
            legacy_updates.append(str(message.params.uri))

    legacy = Client(f"{server.url}/mcp", mode="legacy", message_handler=on_message)
    modern = TRANSPORTS["streamable-http"](server.url)
    async with legacy, modern, TRANSPORTS["sse"](server.url) as writer:
        assert legacy.server_capabilities.resources and legacy.server_capabilities.resources.subscribe
        await legacy.subscribe_resource("dashboard://panels/status")
        async with modern.listen(resource_subscriptions=["dashboard://panels/status"]) as subscription:
            await publish(writer, title="Status", summary_markdown="green")
            event = await asyncio.wait_for(anext(subscription), 5)
            assert getattr(event, "uri", None) == "dashboard://panels/status"
            await until(lambda: "dashboard://panels/status" in legacy_updates)
            assert legacy_updates == ["dashboard://panels/status"]
            await publish(writer, title="Other", summary_markdown="not subscribed")
            # Notifications come in the order of the changes: once the next change to the
            # subscribed panel is told, the one in between would have been told before it.
            await publish(writer, panel_id="status", title="Status", summary_markdown="still green")
            await until(lambda: len(legacy_updates) == 2)
            assert legacy_updates == ["dashboard://panels/status"] * 2  # only what was subscribed


async def test_progress_is_reported_to_the_client_and_the_page(server: AppServer, fake_github: FakeGitHub) -> None:
    items = seed(fake_github, 250)
    reported: list[tuple[float, float | None, str | None]] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        reported.append((progress, total, message))

    async with (
        open_event_stream(f"{server.url}/api/dashboard/events?format=html") as page,
        TRANSPORTS["streamable-http"](server.url) as client,
    ):
        await page.next()
        result = await client.call_tool(
            "send_issues_to_dashboard", {"owner": "facebook", "repo": "react"}, progress_callback=on_progress
        )
        assert not result.is_error
        page_events = [await page.next() for _ in range(3)]
    pages = -(-sum(1 for i in items if i["state"] == "open") // 100)
    assert pages == 2
    assert [(p, t) for p, t, _ in reported] == [(1, 2), (2, 2)]
    assert reported[0][2] == f"{REPO}: page 1 of 2"
    assert [e.event for e in page_events[:2]] == ["sync_progress", "sync_progress"]
    assert page_events[1].json()["data"] == {
        "id": f"issues:{REPO}",
        "group": REPO,
        "label": f"{REPO} issues",
        "done": 2,
        "total": 2,
    }
    assert page_events[2].event == "board"


async def test_a_failed_sync_is_shown_on_the_page_and_keeps_the_board(
    server: AppServer, fake_github: FakeGitHub
) -> None:
    seed(fake_github, 20)
    async with (
        open_event_stream(f"{server.url}/api/dashboard/events?format=html") as page,
        TRANSPORTS["streamable-http"](server.url) as client,
    ):
        await page.next()
        await client.call_tool("send_issues_to_dashboard", {"owner": "facebook", "repo": "react"})
        while (await page.next()).event != "board":
            pass
        fake_github.fail_next = 10
        failed = await client.call_tool("send_issues_to_dashboard", {"owner": "facebook", "repo": "react"})
        assert failed.is_error
        event = await page.next()
    assert event.event == "sync_failed" and event.id is None
    assert event.json()["data"]["id"] == f"issues:{REPO}"
    assert "answered 500" in event.json()["data"]["message"]
    async with httpx.AsyncClient(base_url=server.url) as http:
        board = (await http.get("/api/dashboard/issues", params={"repository": REPO})).json()
    assert board["revision"] == 1 and len(board["issues"]) > 0
