"""Search views end to end: the MCP SDK's client, the server in this process, the fake GitHub's
search, the JSON event stream, the resources, webhooks and ``issuebridge push --search``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from mcp import Client

from testkit.fake_github import FakeGitHub, make_issue, make_pull, make_pull_request, make_webhook, webhook_request
from testkit.sse import open_event_stream
from tests.e2e.test_cli import run
from tests.inprocess import AppServer, start_app

SECRET = "whsec-views-0123456789"
CROSS_REPO = "is:open repo:octo/app repo:octo/lib"


def seed(fake: FakeGitHub) -> None:
    """Two repositories with the same numbers, so that only the repository tells rows apart."""
    fake.add_repo(
        "octo/app",
        [
            make_issue("octo/app", 1, title="Crash on start", labels=[("bug", "d73a4a")]),
            make_issue("octo/app", 2, title="Closed one", state="closed"),
            make_pull_request("octo/app", 3, title="Fix the crash"),
        ],
    )
    fake.add_pulls("octo/app", [make_pull("octo/app", 3, title="Fix the crash", draft=True)])
    fake.add_repo("octo/lib", [make_issue("octo/lib", 1, title="Lib crash", created_at="2026-11-30T00:00:00Z")])


async def call(server: AppServer, tool: str, **arguments: Any) -> Any:
    async with Client(f"{server.url}/mcp") as client:
        return await client.call_tool(tool, arguments)


async def test_a_cross_repository_view_is_sent_live_read_back_replaced_and_removed(
    server: AppServer, fake_github: FakeGitHub
) -> None:
    seed(fake_github)
    async with open_event_stream(f"{server.url}/api/dashboard/events") as stream:
        assert (await stream.next()).json()["data"]["views"] == []
        result = await call(server, "send_search_to_dashboard", query=CROSS_REPO, title="Open work")
        assert not result.is_error, result.content
        answer = result.structured_content
        assert answer["board_id"].startswith("view:") and answer["query"] == CROSS_REPO
        assert (answer["title"], answer["total_count"], answer["item_count"]) == ("Open work", 3, 3)
        assert (answer["issue_count"], answer["pull_request_count"], answer["truncated"]) == (2, 1, False)
        assert answer["changed"] is True and answer["dashboard_url"] == f"{server.url}/"
        assert result.content[0].text.startswith(
            f"Sent a view of 3 results (2 issues, 1 pull request) for {CROSS_REPO!r} to the dashboard: "
        )
        while (event := await stream.next()).event != "view_update":
            assert event.event == "sync_progress"
        view = event.json()["data"]
        assert view["kind"] == "view" and view["id"] == answer["board_id"]
        # Newest created first (two searches merged): octo/lib#1 was created in 2026, the others in 2024.
        assert [(i["repository"], i["number"]) for i in view["items"]] == [
            ("octo/lib", 1),
            ("octo/app", 3),
            ("octo/app", 1),
        ]
        assert view["repositories"] == ["octo/app", "octo/lib"] and "body" not in view["items"][0]

    async with Client(f"{server.url}/mcp") as client:
        read = (await client.call_tool("get_dashboard", {})).structured_content
        [entry] = read["entries"]
        assert (entry["id"], entry["kind"], entry["count"]) == (answer["board_id"], "view", answer["item_count"])
        assert [row["note"] for row in entry["rows"]] == ["octo/lib#1", "octo/app#3", "octo/app#1"]
        boards = json.loads((await client.read_resource("dashboard://boards")).contents[0].text)  # type: ignore[union-attr]
        assert boards["entries"][0]["id"] == answer["board_id"]
        html = (await client.read_resource(f"ui://issuebridge/board/{answer['board_id']}")).contents[0].text  # type: ignore[union-attr]
        assert 'data-item="octo/lib#1"' in html and ">octo/app</a>" in html

        same = await client.call_tool("send_search_to_dashboard", {"query": "Repo:octo/lib  repo:octo/app is:open"})
        assert same.structured_content["board_id"] == answer["board_id"] and same.structured_content["changed"] is False
        other = await client.call_tool("send_search_to_dashboard", {"query": "is:pr is:open org:octo"})
        assert other.structured_content["pull_request_count"] == 1 and other.structured_content["issue_count"] == 0
        assert len((await client.call_tool("get_dashboard", {})).structured_content["entries"]) == 2

        removed = await client.call_tool("remove_from_dashboard", {"board_or_panel_id": answer["board_id"]})
        assert removed.structured_content == {"id": answer["board_id"], "removed": True}
        cleared = await client.call_tool("clear_dashboard", {})
        assert cleared.structured_content == {"removed_count": 1}


async def test_search_errors_are_clear_tool_errors(server: AppServer, fake_github: FakeGitHub) -> None:
    seed(fake_github)
    me = await call(server, "send_search_to_dashboard", query="is:pr review-requested:@me")
    assert me.is_error and "@me" in me.content[0].text and "GITHUB_TOKEN" in me.content[0].text
    invalid = await call(server, "send_search_to_dashboard", query="repo:octo/nowhere is:issue")
    assert invalid.is_error and "The listed users and repositories cannot be searched" in invalid.content[0].text
    fake_github.search_rate_limited = True
    limited = await call(server, "send_search_to_dashboard", query="repo:octo/app is:issue")
    assert limited.is_error and "search rate limit (10 searches a minute without a token)" in limited.content[0].text
    assert "set GITHUB_TOKEN" in limited.content[0].text
    empty = await call(server, "send_search_to_dashboard", query="   ")
    assert empty.is_error and "empty" in empty.content[0].text


@pytest.fixture
def tokened(tmp_path: Path, server_env: dict[str, str]) -> Iterator[tuple[AppServer, FakeGitHub]]:
    with FakeGitHub(token="ghp_views_token") as fake:
        running = start_app({**server_env, "GITHUB_API_URL": fake.url, "GITHUB_TOKEN": "ghp_views_token"})
        yield running, fake
        running.stop()


async def test_with_a_token_at_me_is_the_user_and_the_rate_limit_gives_no_token_advice(
    tokened: tuple[AppServer, FakeGitHub],
) -> None:
    server, fake = tokened
    seed(fake)
    fake.add_pulls("octo/app", [make_pull("octo/app", 3, title="Fix the crash", requested_reviewers=["mona"])])
    mine = await call(server, "send_search_to_dashboard", query="is:pr review-requested:@me")
    assert not mine.is_error and mine.structured_content["item_count"] == 1
    fake.search_rate_limited, fake.search_retry_after = True, 30
    limited = await call(server, "send_search_to_dashboard", query="repo:octo/app is:issue")
    text = limited.content[0].text
    assert limited.is_error and "search rate limit (30 searches a minute with a token)" in text
    assert "in about 30 s" in text and "GITHUB_TOKEN" not in text and "ghp_views_token" not in text


async def test_the_item_limit_is_smaller_than_githubs_cap_and_wins(
    tmp_path: Path, server_env: dict[str, str], fake_github: FakeGitHub
) -> None:
    fake_github.add_repo("big/one", [make_issue("big/one", n) for n in range(1, 1201)])
    running = start_app({**server_env, "ISSUEBRIDGE_MAX_ITEMS": "150"})
    try:
        capped = (await call(running, "send_search_to_dashboard", query="repo:big/one is:issue")).structured_content
    finally:
        running.stop()
    assert (capped["item_count"], capped["total_count"], capped["truncated"]) == (150, 1200, True)


async def test_a_webhook_updates_the_row_a_view_shows(
    tmp_path: Path, server_env: dict[str, str], fake_github: FakeGitHub
) -> None:
    seed(fake_github)
    running = start_app({**server_env, "ISSUEBRIDGE_WEBHOOK_SECRET": SECRET})
    try:
        board_id = (await call(running, "send_search_to_dashboard", query=CROSS_REPO)).structured_content["board_id"]
        edited = make_issue("octo/lib", 1, title="Lib crash, now understood", updated_at="2026-12-01T10:00:00Z")
        payload = make_webhook("issues", "edited", "octo/lib", issue=edited)
        body, headers = webhook_request(SECRET, "issues", payload)
        async with httpx.AsyncClient(base_url=running.url) as http:
            answer = await http.post("/webhooks/github", content=body, headers=headers)
        assert answer.status_code == 200 and answer.json()["views"] == [board_id]
        read = (await call(running, "get_dashboard")).structured_content
        assert read["entries"][0]["rows"][0]["title"] == "Lib crash, now understood"
    finally:
        running.stop()


async def test_push_search_through_the_server(server: AppServer, fake_github: FakeGitHub, tmp_path: Path) -> None:
    seed(fake_github)
    done = run(["push", "--search", CROSS_REPO, "--server", server.url], {}, tmp_path)
    assert done.returncode == 0, done.stderr
    assert f"Pushed {CROSS_REPO!r} through {server.url}:" in done.stdout
    assert ": 3 results, sent: " in done.stdout
    [view] = (await call(server, "get_dashboard")).structured_content["entries"]
    assert (view["kind"], view["count"]) == ("view", 3)
    neither = run(["push"], {}, tmp_path)
    assert neither.returncode == 2 and "--search QUERY" in neither.stderr
