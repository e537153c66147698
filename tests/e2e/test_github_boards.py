"""Pull-request boards and commit timelines, end to end through the MCP client and the page."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.conftest import ServerProcess
from tests.e2e.mcp_clients import TRANSPORTS
from tests.fake_github import FakeGitHub, make_commit, make_pull
from tests.sse import open_event_stream

REPO = "vercel/next.js"


def seed_pulls(fake: FakeGitHub) -> list[dict[str, Any]]:
    pulls = [
        make_pull(REPO, 1, title="Old and forgotten", created_at="2025-01-01T00:00:00Z", requested_reviewers=["ana"]),
        make_pull(
            REPO,
            2,
            title="WIP: router",
            draft=True,
            labels=[("area: router", "0e8a16")],
            created_at="2026-11-01T00:00:00Z",
        ),
        make_pull(REPO, 3, title="Needs eyes <script>x</script>", created_at="2025-06-01T00:00:00Z"),
        make_pull(
            REPO,
            4,
            title="Ready",
            requested_reviewers=["bo", "cy"],
            head="fix/cache",
            base="canary",
            created_at="2026-11-02T00:00:00Z",
        ),
        make_pull(REPO, 5, title="Merged one", state="closed", merged=True),
    ]
    fake.add_pulls(REPO, pulls)
    return pulls


@pytest.mark.parametrize("transport", ["sse", "streamable-http"])
async def test_pull_requests_board_with_what_needs_attention(
    server: ServerProcess, fake_github: FakeGitHub, transport: str
) -> None:
    seed_pulls(fake_github)
    async with open_event_stream(f"{server.url}/api/dashboard/events") as stream:
        await stream.next()
        async with TRANSPORTS[transport](server.url) as client:
            result = await client.call_tool("send_pull_requests_to_dashboard", {"owner": "vercel", "repo": "next.js"})
        assert not result.is_error, result.content
        summary = result.structured_content
        assert summary is not None
        assert summary["board_id"] == f"pulls:{REPO}" and summary["pull_request_count"] == 4
        assert summary["drafts"] == [2]
        assert summary["without_reviewers"] == [3]
        assert summary["oldest_open"] == [1, 3, 2, 4]  # oldest first; drafts are open too
        event = await stream.next_past_progress()
    assert event.event == "board_update"
    board = event.json()["data"]
    assert board["kind"] == "pulls" and board["id"] == f"pulls:{REPO}"
    ready = next(p for p in board["pulls"] if p["number"] == 4)
    assert ready["requested_reviewers"] == ["bo", "cy"] and (ready["head"], ready["base"]) == ("fix/cache", "canary")
    assert next(p for p in board["pulls"] if p["number"] == 2)["draft"] is True
    assert board["attention"] == {"drafts": [2], "without_reviewers": [3], "oldest_open": summary["oldest_open"]}

    async with httpx.AsyncClient(base_url=server.url) as http:
        page = (await http.get("/")).text
    assert f'data-id="pulls:{REPO}"' in page and "Needs eyes &lt;script&gt;x&lt;/script&gt;" in page
    assert "<code>fix/cache</code> → <code>canary</code>" in page and 'class="draft-badge"' in page


async def test_closed_and_all_pull_requests(server: ServerProcess, fake_github: FakeGitHub) -> None:
    seed_pulls(fake_github)
    async with TRANSPORTS["streamable-http"](server.url) as client:
        closed = await client.call_tool(
            "send_pull_requests_to_dashboard", {"owner": "vercel", "repo": "next.js", "state": "closed"}
        )
        everything = await client.call_tool(
            "send_pull_requests_to_dashboard", {"owner": "vercel", "repo": "next.js", "state": "all"}
        )
        missing = await client.call_tool("send_pull_requests_to_dashboard", {"owner": "vercel", "repo": "nope"})
    assert closed.structured_content and closed.structured_content["pull_request_count"] == 1
    assert everything.structured_content and everything.structured_content["pull_request_count"] == 5
    assert missing.is_error and "vercel/nope was not found" in missing.content[0].text  # type: ignore[union-attr]


def seed_commits(fake: FakeGitHub) -> None:
    main = [
        make_commit(REPO, 1, message="Fix cache\n\nLong body <b>here</b>", date="2026-11-20T10:00:00Z", author="ana"),
        make_commit(REPO, 2, message="Add router", date="2026-11-20T12:00:00Z", author="ana"),
        make_commit(REPO, 3, message="Docs <script>", date="2026-11-22T09:00:00Z", author=None, author_name="Bo Bot"),
        make_commit(REPO, 4, message="Old", date="2026-10-01T09:00:00Z", author="cy"),
    ]
    fake.add_commits(REPO, main, branch="main")
    fake.add_commits(REPO, [make_commit(REPO, 9, message="Canary only", date="2026-11-21T00:00:00Z")], branch="canary")


async def test_commit_timeline(server: ServerProcess, fake_github: FakeGitHub) -> None:
    seed_commits(fake_github)
    async with TRANSPORTS["sse"](server.url) as client:
        result = await client.call_tool(
            "send_commit_summary_to_dashboard",
            {"owner": "vercel", "repo": "next.js", "branch": "main", "since": "2026-11-15", "until": "2026-11-30"},
        )
        assert not result.is_error, result.content
        summary = result.structured_content
        assert summary is not None
        assert summary["commit_count"] == 3 and summary["active_days"] == 2
        assert summary["top_authors"] == [{"author": "ana", "commits": 2}, {"author": "Bo Bot", "commits": 1}]
        assert summary["since"] == "2026-11-15T00:00:00Z" and summary["branch"] == "main"
        request = [r for r in fake_github.requests if r.path.endswith("/commits")][-1]
        assert request.query["sha"] == "main" and request.query["since"].startswith("2026-11-15")

        view = (await client.call_tool("get_dashboard", {})).structured_content
        assert view is not None
        commits = view["entries"][0]
        assert commits["id"] == f"commits:{REPO}" and [r["title"] for r in commits["rows"]] == [
            "Docs <script>",
            "Add router",
            "Fix cache",
        ]

        canary = await client.call_tool(
            "send_commit_summary_to_dashboard",
            {"owner": "vercel", "repo": "next.js", "branch": "canary", "since": "2026-11-01"},
        )
        assert canary.structured_content and canary.structured_content["commit_count"] == 1

        no_branch = await client.call_tool(
            "send_commit_summary_to_dashboard", {"owner": "vercel", "repo": "next.js", "branch": "nope"}
        )
        assert no_branch.is_error and "no branch 'nope'" in no_branch.content[0].text  # type: ignore[union-attr]
        bad_date = await client.call_tool(
            "send_commit_summary_to_dashboard", {"owner": "vercel", "repo": "next.js", "since": "last tuesday"}
        )
        assert bad_date.is_error and "since must be an ISO 8601 date" in bad_date.content[0].text  # type: ignore[union-attr]

    async with httpx.AsyncClient(base_url=server.url) as http:
        page = (await http.get("/")).text
    assert "Commits per day" in page
    assert "Canary only" in page and "Docs" not in page  # the canary timeline replaced main's


async def test_an_empty_repository_gives_an_empty_timeline(server: ServerProcess, fake_github: FakeGitHub) -> None:
    fake_github.add_commits("octo/empty", [])
    async with TRANSPORTS["streamable-http"](server.url) as client:
        result = await client.call_tool("send_commit_summary_to_dashboard", {"owner": "octo", "repo": "empty"})
    assert not result.is_error and result.structured_content and result.structured_content["commit_count"] == 0
