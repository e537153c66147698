"""End to end: a real server process, the fake GitHub, the SDK's MCP clients, and a dashboard subscriber."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from testkit.fake_github import FakeGitHub, make_issue, make_pull_request
from testkit.mcp_clients import INITIALIZE, ONE_TRANSPORT, PROTOCOL_ERAS, TRANSPORTS
from testkit.sse import open_event_stream
from tests.inprocess import AppServer, start_app

REPO = "facebook/react"


def seed(fake: FakeGitHub, count: int = 230) -> list[dict[str, Any]]:
    """Issues and pull requests mixed, as GitHub lists them; some titles are hostile HTML."""
    items: list[dict[str, Any]] = []
    for n in range(1, count + 1):
        if n % 4 == 0:
            items.append(make_pull_request(REPO, n, title=f"PR {n}"))
        else:
            title = f"<script>alert({n})</script> bug {n}" if n % 7 == 0 else f"Issue number {n}"
            items.append(
                make_issue(
                    REPO,
                    n,
                    title=title,
                    state="closed" if n % 3 == 0 else "open",
                    labels=[("bug", "d73a4a"), ("good first issue", "7057ff")] if n % 2 else [],
                )
            )
    fake.add_repo(REPO, items)
    return items


def open_issue_numbers(items: list[dict[str, Any]]) -> list[int]:
    numbers = [i["number"] for i in items if "pull_request" not in i and i["state"] == "open"]
    return sorted(numbers, reverse=True)  # GitHub's order: newest first


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_tool_call_fills_the_dashboard_live(server: AppServer, fake_github: FakeGitHub, transport: str) -> None:
    items = seed(fake_github)
    expected = open_issue_numbers(items)

    async with open_event_stream(f"{server.url}/api/dashboard/events") as stream:
        initial = await stream.next()
        assert initial.event == "initial_data" and initial.json() == {
            "type": "initial_data",
            "data": {"boards": [], "pull_boards": [], "commit_boards": [], "views": [], "panels": [], "selection": []},
        }

        async with TRANSPORTS[transport](server.url) as client:
            result = await client.call_tool(
                "send_issues_to_dashboard", {"owner": "facebook", "repo": "react", "state": "open"}
            )
        assert not result.is_error, result.content
        summary = result.structured_content
        assert summary is not None
        assert summary["repository"] == REPO and summary["state"] == "open"
        assert summary["issue_count"] == len(expected)
        assert summary["pull_requests_skipped"] == sum(1 for i in items if "pull_request" in i and i["state"] == "open")
        assert summary["dashboard_url"] == f"{server.url}/"
        assert result.content[0].text == (  # type: ignore[union-attr]
            f"Sent {len(expected)} open issues of {REPO} to the dashboard: {server.url}/"
        )

        progress = []
        while (update := await stream.next()).event == "sync_progress":
            assert update.id is None  # progress is not replayed
            progress.append(update.json()["data"])
        listed = sum(1 for i in items if i["state"] == "open")  # pull requests are listed too
        pages = -(-listed // 100)
        assert [(p["done"], p["total"]) for p in progress] == [(n, pages) for n in range(1, pages + 1)]
        assert progress[0]["id"] == f"issues:{REPO}"
        assert update.event == "issues_update" and update.id == "1"
        payload = update.json()
        assert payload["type"] == "issues_update"
        assert set(payload["data"]) >= {"issues", "repository", "last_updated"}
        assert payload["data"]["repository"] == REPO
        assert [issue["number"] for issue in payload["data"]["issues"]] == expected
        by_number = {issue["number"]: issue for issue in payload["data"]["issues"]}
        assert by_number[7]["title"] == "<script>alert(7)</script> bug 7"
        assert by_number[1]["labels"] == [
            {"name": "bug", "color": "d73a4a"},
            {"name": "good first issue", "color": "7057ff"},
        ]
        assert by_number[1]["author"] == "octocat" and by_number[1]["html_url"] == f"https://github.com/{REPO}/issues/1"

    async with httpx.AsyncClient(base_url=server.url) as http:
        board = (await http.get("/api/dashboard/issues", params={"repository": REPO})).json()
        assert [issue["number"] for issue in board["issues"]] == expected
        assert board["last_updated"] == payload["data"]["last_updated"]
        page = (await http.get("/")).text
    assert "Issue number 1<" in page and 'data-number="2"' in page
    assert "&lt;script&gt;alert(7)&lt;/script&gt; bug 7" in page and "<script>alert(7)" not in page
    assert "PR 4" not in page  # pull requests are not issues


@pytest.mark.usefixtures("backend")  # what the store keeps across a restart
async def test_boards_survive_a_restart(server_env: dict[str, str], fake_github: FakeGitHub) -> None:
    transport = "streamable-http"  # the transport is not the point: what survives the restart is
    items = seed(fake_github, 40)
    first = start_app(server_env)
    try:
        async with TRANSPORTS[transport](first.url) as client:
            result = await client.call_tool(
                "send_issues_to_dashboard", {"owner": "facebook", "repo": "react", "state": "all"}
            )
        assert not result.is_error
    finally:
        first.stop()

    second = start_app(server_env)
    try:
        expected = sorted((i["number"] for i in items if "pull_request" not in i), reverse=True)
        async with httpx.AsyncClient(base_url=second.url) as http:
            board = (await http.get("/api/dashboard/issues")).json()
            page = (await http.get("/")).text
        assert board["repository"] == REPO and board["state"] == "all"
        assert [issue["number"] for issue in board["issues"]] == expected
        assert "Issue number 1<" in page
        async with open_event_stream(f"{second.url}/api/dashboard/events") as stream:
            initial = (await stream.next()).json()
        assert [b["repository"] for b in initial["data"]["boards"]] == [REPO]
        assert [i["number"] for i in initial["data"]["boards"][0]["issues"]] == expected
    finally:
        second.stop()


@pytest.mark.parametrize("transport", ONE_TRANSPORT)
async def test_failures_are_prompt_tool_errors_and_keep_the_board(
    server: AppServer, fake_github: FakeGitHub, transport: str
) -> None:
    items = seed(fake_github, 10)
    async with TRANSPORTS[transport](server.url) as client:
        ok = await client.call_tool("send_issues_to_dashboard", {"owner": "facebook", "repo": "react"})
        assert not ok.is_error

        missing = await client.call_tool("send_issues_to_dashboard", {"owner": "facebook", "repo": "nope"})
        assert missing.is_error and "facebook/nope was not found" in missing.content[0].text  # type: ignore[union-attr]

        bad_name = await client.call_tool("send_issues_to_dashboard", {"owner": "face book", "repo": "react"})
        assert bad_name.is_error and "not a valid GitHub owner" in bad_name.content[0].text  # type: ignore[union-attr]

        bad_state = await client.call_tool(
            "send_issues_to_dashboard", {"owner": "facebook", "repo": "react", "state": "merged"}
        )
        assert bad_state.is_error and "state" in bad_state.content[0].text  # type: ignore[union-attr]

        fake_github.rate_limited = True
        fake_github.rate_limit_reset = int(time.time()) + 600
        asked = len(fake_github.requests)
        limited = await client.call_tool("send_issues_to_dashboard", {"owner": "facebook", "repo": "react"})
        # Prompt: the answer is the first refusal itself, not retried, with no wait for the reset.
        assert [r.status for r in fake_github.requests[asked:]] == [403]
        assert limited.is_error and "rate limit" in limited.content[0].text  # type: ignore[union-attr]
        assert "resets at" in limited.content[0].text and "(in about 10 min)" in limited.content[0].text  # type: ignore[union-attr]

    async with httpx.AsyncClient(base_url=server.url) as http:
        board = (await http.get("/api/dashboard/issues", params={"repository": REPO})).json()
        health = (await http.get("/healthz")).json()
    assert [issue["number"] for issue in board["issues"]] == open_issue_numbers(items)
    assert health["revision"] == 1 and health["entries"] == 1  # no failed call wrote anything


@pytest.mark.parametrize("transport", PROTOCOL_ERAS)
async def test_tool_is_described_for_the_model(server: AppServer, transport: str) -> None:
    async with TRANSPORTS[transport](server.url) as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
        assert client.instructions and "send_issues_to_dashboard" in client.instructions
    tool = tools["send_issues_to_dashboard"]
    assert tool.description and "facebook/react" in tool.description
    properties = tool.input_schema["properties"]
    assert properties["state"]["enum"] == ["open", "closed", "all"] and properties["state"]["default"] == "open"
    assert tool.input_schema["required"] == ["owner", "repo"]
    assert tool.output_schema is not None and "issue_count" in tool.output_schema["properties"]
    assert tool.annotations is not None and tool.annotations.read_only_hint is False
    assert tool.annotations.open_world_hint is True


async def test_api_push_reaches_subscribers(server: AppServer) -> None:
    async with open_event_stream(f"{server.url}/api/dashboard/events") as stream:
        await stream.next()
        async with httpx.AsyncClient(base_url=server.url) as http:
            response = await http.post(
                "/api/dashboard/sync-issues",
                json={
                    "repository": "octo/app",
                    "issues": [{"number": 3, "title": "From CI", "state": "open"}],
                },
            )
            assert response.status_code == 200
            rejected = await http.post("/api/dashboard/sync-issues", json={"repository": "octo/app"})
            assert rejected.status_code == 422
        update = (await stream.next()).json()
    assert update["data"]["repository"] == "octo/app" and update["data"]["source"] == "api"
    assert [i["title"] for i in update["data"]["issues"]] == ["From CI"]


async def test_mcp_transports_reject_foreign_hosts_and_origins(server: AppServer) -> None:
    headers = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
    async with httpx.AsyncClient(base_url=server.url) as http:
        assert (
            await http.post("/mcp", json=INITIALIZE, headers={**headers, "Host": "evil.example:80"})
        ).status_code == 421
        assert (
            await http.post("/mcp", json=INITIALIZE, headers={**headers, "Origin": "http://evil.example"})
        ).status_code == 403
        assert (await http.get("/sse", headers={"Host": "evil.example"})).status_code == 421
        ok = await http.post("/mcp", json=INITIALIZE, headers={**headers, "Origin": server.url})
        assert ok.status_code == 200


async def test_a_wrong_token_is_reported_but_never_shown(tmp_path: Path) -> None:
    secret = "ghp_wrong_secret_0123456789"
    with FakeGitHub(token="ghp_the_right_one") as fake:
        seed(fake, 5)
        env = {"GITHUB_API_URL": fake.url, "GITHUB_TOKEN": secret, "ISSUEBRIDGE_DB": str(tmp_path / "b.db")}
        server = start_app(env)
        try:
            async with TRANSPORTS["sse"](server.url) as client:
                result = await client.call_tool("send_issues_to_dashboard", {"owner": "facebook", "repo": "react"})
            async with httpx.AsyncClient(base_url=server.url) as http:
                page = (await http.get("/")).text
        finally:
            server.stop()
        assert fake.requests[0].headers["authorization"] == f"Bearer {secret}"
    text = result.content[0].text  # type: ignore[union-attr]
    assert result.is_error and "401 Bad credentials" in text and "GITHUB_TOKEN" in text
    for shown in (text, page, server.log):
        assert secret not in shown


async def test_an_unreachable_github_is_a_prompt_tool_error(tmp_path: Path, closed_port: int) -> None:
    closed = f"http://127.0.0.1:{closed_port}"
    # The server's own deadline is the clock: had it waited (a connect timeout, a back-off), the
    # call would end with "did not finish answering within 3 s" instead of the refusal.
    env = {"GITHUB_API_URL": closed, "ISSUEBRIDGE_DB": str(tmp_path / "b.db"), "ISSUEBRIDGE_CALL_TIMEOUT": "3"}
    server = start_app(env)
    try:
        async with TRANSPORTS["streamable-http"](server.url) as client:
            result = await client.call_tool("send_issues_to_dashboard", {"owner": "facebook", "repo": "react"})
    finally:
        server.stop()
    assert result.is_error
    assert f"Could not reach the GitHub API at {closed}" in result.content[0].text  # type: ignore[union-attr]


async def test_an_unchanged_repository_is_confirmed_without_sending_the_board(
    server: AppServer, fake_github: FakeGitHub
) -> None:
    items = seed(fake_github, count=450)
    async with open_event_stream(f"{server.url}/api/dashboard/events") as stream:
        await stream.next()
        async with TRANSPORTS["streamable-http"](server.url) as client:
            args = {"owner": "facebook", "repo": "react"}
            first = await client.call_tool("send_issues_to_dashboard", args)
            await stream.next_past_progress()  # the board
            fake_github.requests.clear()

            again = await client.call_tool("send_issues_to_dashboard", args)
            assert not again.is_error, again.content
            assert again.structured_content is not None and first.structured_content is not None
            assert again.structured_content["changed"] is False
            assert again.structured_content["issue_count"] == first.structured_content["issue_count"]
            assert (
                again.structured_content["pull_requests_skipped"] == first.structured_content["pull_requests_skipped"]
            )
            assert again.structured_content["last_updated"] == first.structured_content["last_updated"]
            assert again.content[0].text.startswith("No change on GitHub since")  # type: ignore[union-attr]
            # Two conditional requests (first and last page), both answered 304.
            assert [r.status for r in fake_github.requests] == [304, 304]

            unchanged = await stream.next()
            assert unchanged.event == "sync_unchanged" and unchanged.id is None
            assert unchanged.json()["data"] == {"id": f"issues:{REPO}", "kind": "issues", "repository": REPO}
            assert len(unchanged.data) < 200

            # An edit on GitHub: the next call reads the lists again and sends the change.
            edited = [
                make_issue(REPO, 1, title="Edited on GitHub", updated_at="2030-01-01T00:00:00Z")
                if i["number"] == 1
                else i
                for i in items
            ]
            fake_github.add_repo(REPO, edited)
            changed = await client.call_tool("send_issues_to_dashboard", args)
            assert changed.structured_content is not None and changed.structured_content["changed"] is True
            update = await stream.next_past_progress()
            assert update.event == "issues_update"
            board = update.json()["data"]
            assert board["issues"][0]["title"] == "Edited on GitHub"


async def test_a_board_replaced_through_the_api_is_fetched_again_in_full(
    server: AppServer, fake_github: FakeGitHub
) -> None:
    seed(fake_github, count=30)
    async with TRANSPORTS["streamable-http"](server.url) as client:
        args = {"owner": "facebook", "repo": "react", "state": "all"}
        await client.call_tool("send_issues_to_dashboard", args)
        async with httpx.AsyncClient(base_url=server.url) as http:
            pushed = {"repository": REPO, "state": "all", "issues": [{"number": 1, "title": "Pushed", "state": "open"}]}
            assert (await http.post("/api/dashboard/sync-issues", json=pushed)).status_code == 200
        fake_github.requests.clear()
        again = await client.call_tool("send_issues_to_dashboard", args)
    assert again.structured_content is not None and again.structured_content["changed"] is True
    assert again.structured_content["issue_count"] == 23
    assert all(r.status == 200 and "if-none-match" not in r.headers for r in fake_github.requests)


async def test_a_refetch_that_finds_the_same_issues_writes_nothing(server: AppServer, fake_github: FakeGitHub) -> None:
    items = seed(fake_github, count=150)
    async with open_event_stream(f"{server.url}/api/dashboard/events") as stream:
        await stream.next()
        async with TRANSPORTS["streamable-http"](server.url) as client:
            args = {"owner": "facebook", "repo": "react"}
            await client.call_tool("send_issues_to_dashboard", args)
            await stream.next_past_progress()
            # A pull request changes: the issues list changes, the issues board does not.
            bumped = [
                make_pull_request(REPO, 4, title="PR 4, edited", updated_at="2030-01-01T00:00:00Z")
                if i["number"] == 4
                else i
                for i in items
            ]
            fake_github.add_repo(REPO, bumped)
            fake_github.requests.clear()
            again = await client.call_tool("send_issues_to_dashboard", args)
        assert again.structured_content is not None and again.structured_content["changed"] is False
        assert 200 in [r.status for r in fake_github.requests]  # it did read the lists again
        update = await stream.next_past_progress()
        assert update.event == "sync_unchanged"
        # And no board follows: the next event is a board pushed after it.
        async with httpx.AsyncClient(base_url=server.url) as http:
            marker = {"repository": "octo/marker", "issues": [{"number": 1, "title": "after", "state": "open"}]}
            assert (await http.post("/api/dashboard/sync-issues", json=marker)).status_code == 200
        after = await stream.next(wait=10)
        assert after.event == "issues_update" and after.json()["data"]["repository"] == "octo/marker"


@pytest.mark.usefixtures("backend")  # the validators the store keeps across a restart
async def test_a_restart_keeps_what_confirms_a_board_unchanged(
    server_env: dict[str, str], fake_github: FakeGitHub
) -> None:
    seed(fake_github, count=250)
    args = {"owner": "facebook", "repo": "react"}
    server = start_app(server_env)
    try:
        async with TRANSPORTS["streamable-http"](server.url) as client:
            assert (await client.call_tool("send_issues_to_dashboard", args)).structured_content["changed"]
    finally:
        server.stop()
    fake_github.requests.clear()
    restarted = start_app(server_env)
    try:
        async with TRANSPORTS["streamable-http"](restarted.url) as client:
            again = await client.call_tool("send_issues_to_dashboard", args)
        assert again.structured_content is not None and again.structured_content["changed"] is False
        assert [r.status for r in fake_github.requests] == [304, 304]  # the validators were kept
    finally:
        restarted.stop()


TOOL_NAMES = {
    "send_issues_to_dashboard",
    "send_pull_requests_to_dashboard",
    "send_commit_summary_to_dashboard",
    "send_search_to_dashboard",
    "publish_to_dashboard",
    "get_dashboard",
    "remove_from_dashboard",
    "clear_dashboard",
    "get_issue_details",
}


async def test_tool_descriptions_reach_the_model_without_source_indentation(server: AppServer) -> None:
    async with TRANSPORTS["streamable-http"](server.url) as client:
        tools = (await client.list_tools()).tools
    assert {tool.name for tool in tools} == TOOL_NAMES
    for tool in tools:
        assert tool.description, tool.name
        lines = tool.description.splitlines()
        assert lines[0] == lines[0].strip() and not any(line.startswith("    ") for line in lines), tool.name
