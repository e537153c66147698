"""GitHub boards end to end: pull-request boards and commit timelines through the MCP client and
the page, and what a hostile, broken or slow GitHub does to a tool call."""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from mcp import Client
from mcp_types import CallToolResult, TextContent
from starlette.testclient import TestClient

from issuebridge.app import create_app
from issuebridge.dashboard.entries import Dashboard
from issuebridge.records.issues import IssuesBoard
from issuebridge.services import Services
from issuebridge.settings import Settings
from issuebridge.store import SQLiteStore
from testkit.fake_github import FakeGitHub, make_commit, make_issue, make_pull
from testkit.mcp_clients import ONE_TRANSPORT, TRANSPORTS
from testkit.sse import open_event_stream
from tests.inprocess import AppServer

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


@pytest.mark.parametrize("transport", ONE_TRANSPORT)
async def test_pull_requests_board_with_what_needs_attention(
    server: AppServer, fake_github: FakeGitHub, transport: str
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
        assert summary["waiting_for_review"] == [3] and summary["review_unknown"] == []
        assert summary["oldest_open"] == [1, 3, 2, 4]  # oldest first; drafts are open too
        event = await stream.next_past_progress()
    assert event.event == "board_update"
    board = event.json()["data"]
    assert board["kind"] == "pulls" and board["id"] == f"pulls:{REPO}"
    ready = next(p for p in board["pulls"] if p["number"] == 4)
    assert ready["requested_reviewers"] == ["bo", "cy"] and (ready["head"], ready["base"]) == ("fix/cache", "canary")
    assert next(p for p in board["pulls"] if p["number"] == 2)["draft"] is True
    assert board["attention"] == {
        "drafts": [2],
        "waiting_for_review": [3],
        "review_unknown": [],
        "oldest_open": summary["oldest_open"],
    }

    async with httpx.AsyncClient(base_url=server.url) as http:
        page = (await http.get("/")).text
    assert f'data-id="pulls:{REPO}"' in page and "Needs eyes &lt;script&gt;x&lt;/script&gt;" in page
    assert "<code>fix/cache</code> → <code>canary</code>" in page and 'class="draft-badge"' in page
    assert "state-badge state-draft" not in page and 'data-state="draft"' in page


async def test_waiting_for_review_through_the_tool_leaves_out_reviewed_and_team_requested(
    server: AppServer, fake_github: FakeGitHub
) -> None:
    fake_github.add_pulls(
        REPO,
        [
            make_pull(REPO, 1, title="Nobody looked", user=None),
            make_pull(REPO, 2, title="Reviewed, so no longer requested", requested_reviewers=["ana"]),
            make_pull(REPO, 3, title="Waiting on a team", requested_teams=["core"]),
        ],
    )
    fake_github.review(REPO, 2, "ana")
    async with TRANSPORTS["streamable-http"](server.url) as client:
        result = await client.call_tool("send_pull_requests_to_dashboard", {"owner": "vercel", "repo": "next.js"})
    assert not result.is_error, result.content
    summary = result.structured_content
    assert summary is not None and summary["waiting_for_review"] == [1] and summary["review_unknown"] == []
    text = result.content[0]
    assert isinstance(text, TextContent) and "1 waiting for review" in text.text
    assert len([r for r in fake_github.requests if r.path == "/search/issues"]) == 1
    async with httpx.AsyncClient(base_url=server.url) as http:
        page = (await http.get("/")).text
    assert "core (team)" in page and 'data-numbers="1"' in page


async def test_closed_and_all_pull_requests(server: AppServer, fake_github: FakeGitHub) -> None:
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


async def test_commit_timeline(server: AppServer, fake_github: FakeGitHub) -> None:
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


async def test_an_empty_repository_gives_an_empty_timeline(server: AppServer, fake_github: FakeGitHub) -> None:
    fake_github.add_commits("octo/empty", [])
    async with TRANSPORTS["streamable-http"](server.url) as client:
        result = await client.call_tool("send_commit_summary_to_dashboard", {"owner": "octo", "repo": "empty"})
    assert not result.is_error and result.structured_content and result.structured_content["commit_count"] == 0


# ---------------------------------------------------------------------------------------------
# A hostile, broken or slow GitHub, through the MCP tools (the SDK's in-process client)
# ---------------------------------------------------------------------------------------------

TOKEN = "ghp_secret_token_value"


@contextlib.asynccontextmanager
async def tools(
    fake: FakeGitHub, *, progress_every: float = 5.0, **settings: Any
) -> AsyncIterator[tuple[Client, Dashboard]]:
    """The server's MCP tools over its real GitHub source, store and dashboard, in this process."""
    config = Settings(github_api_url=fake.url, **{"github_timeout": 5.0, "call_timeout": 10.0, **settings})
    store = SQLiteStore(str(config.db_path) if "db_path" in settings else ":memory:")
    await store.open()
    services = Services.build(config, store=store, progress_every=progress_every)
    try:
        async with Client(services.mcp) as client:
            yield client, services.dashboard
    finally:
        await store.close()


def text_of(result: CallToolResult) -> str:
    return " ".join(part.text for part in result.content if isinstance(part, TextContent))


ISSUES = {"owner": "octo", "repo": "app"}


@pytest.mark.parametrize(
    ("misbehaviour", "says"),
    [
        ({"link_to": "THIEF"}, r"pointed at http://127\.0\.0\.1:\d+, outside GITHUB_API_URL"),
        ({"redirect_to": "THIEF"}, r"outside GITHUB_API_URL"),
        ({"trickle": 0.05}, r"did not finish answering within 1 s \(ISSUEBRIDGE_CALL_TIMEOUT, retries included\)"),
        ({"body_bytes": 300 * 2**20, "declare_length": False}, r"larger than 16 MiB"),
        ({"body_bytes": 17 * 2**20, "gzip_bomb": True}, r"larger than 16 MiB"),
    ],
    ids=["link-elsewhere", "redirect-elsewhere", "trickle", "huge-body", "gzip-bomb"],
)
async def test_a_hostile_github_ends_the_tool_call_with_a_clear_error_and_keeps_the_board(
    misbehaviour: dict[str, Any], says: str
) -> None:
    with FakeGitHub(token=TOKEN) as fake, FakeGitHub() as thief:
        fake.add_repo("octo/app", [make_issue("octo/app", n) for n in range(1, 151)])
        # Each failure must come from its own defence, well before the deadline; the trickle's from the deadline.
        call_timeout = 1.0 if "trickle" in misbehaviour else 10.0
        async with tools(fake, github_token=TOKEN, call_timeout=call_timeout) as (client, dashboard):
            assert not (await client.call_tool("send_issues_to_dashboard", ISSUES)).is_error
            fake.add_repo("octo/app", [make_issue("octo/app", n) for n in range(1, 152)])  # changed: read again
            fake.misbehave("octo/app", **{k: thief.url if v == "THIEF" else v for k, v in misbehaviour.items()})
            async with asyncio.timeout(30):  # a safety net: each of these used to hang or to leak
                result = await client.call_tool("send_issues_to_dashboard", ISSUES)
            assert result.is_error and re.search(says, text_of(result)), text_of(result)
            assert TOKEN not in text_of(result)
            board = await dashboard.get("issues:octo/app")
            assert isinstance(board, IssuesBoard) and len(board.issues) == 150  # as it was
        assert thief.requests == []


@pytest.mark.parametrize(
    ("issues", "misbehaviour", "kept"),
    [(150, {"endless": True}, 150), (0, {"last_page": 1_000_000_000}, 0)],
    ids=["endless-next", "empty-pages-to-a-huge-last"],
)
async def test_endless_pages_end_truncated_and_the_result_says_so(
    fake_github: FakeGitHub, issues: int, misbehaviour: dict[str, Any], kept: int
) -> None:
    fake_github.add_repo("octo/app", [make_issue("octo/app", n) for n in range(1, issues + 1)])
    fake_github.misbehave("octo/app", **misbehaviour)
    async with tools(fake_github, max_items=250) as (client, _):
        async with asyncio.timeout(30):
            result = await client.call_tool("send_issues_to_dashboard", ISSUES)
    assert not result.is_error and result.structured_content is not None
    assert result.structured_content["truncated"] is True and result.structured_content["issue_count"] == kept
    assert "stopped at the server's limit, ISSUEBRIDGE_MAX_ITEMS=250; GitHub lists more" in text_of(result)
    assert len(fake_github.requests_for("octo/app", "issues")) == 3


async def test_a_slow_github_keeps_the_client_waiting_with_progress(fake_github: FakeGitHub) -> None:
    fake_github.add_repo("octo/app", [make_issue("octo/app", n) for n in range(1, 151)])
    fake_github.hold()  # GitHub says nothing until released
    notes: list[tuple[float, str | None]] = []
    waiting = asyncio.Event()

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        notes.append((progress, message))
        if message and "waiting for GitHub" in message and len(notes) >= 2:
            fake_github.release()
            waiting.set()

    async with tools(fake_github, progress_every=0.05, call_timeout=30.0) as (client, _):
        async with asyncio.timeout(30):
            result = await client.call_tool("send_issues_to_dashboard", ISSUES, progress_callback=on_progress)
    assert not result.is_error and waiting.is_set()
    assert notes[0] == (0.5, "octo/app: waiting for GitHub (page 1)") and notes[1][0] == 0.75
    assert (1.0, "octo/app: page 1 of 2") in notes and notes[-1] == (2.0, "octo/app: page 2 of 2")
    values = [value for value, _ in notes]
    assert values == sorted(set(values))  # progress only ever grows, as MCP requires


async def test_a_stalled_github_fails_the_call_at_the_deadline_after_progress(fake_github: FakeGitHub) -> None:
    fake_github.add_repo("octo/app", [make_issue("octo/app", 1)])
    fake_github.hold()
    notes: list[str | None] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        notes.append(message)

    async with tools(fake_github, progress_every=0.1, call_timeout=0.5) as (client, _):
        async with asyncio.timeout(30):
            result = await client.call_tool("send_issues_to_dashboard", ISSUES, progress_callback=on_progress)
    assert result.is_error and "did not finish answering within 0.5 s" in text_of(result)
    assert notes and all(note == "octo/app: waiting for GitHub (page 1)" for note in notes)


async def test_unreadable_items_are_left_out_and_the_result_and_page_say_how_many(
    fake_github: FakeGitHub, tmp_path: Path
) -> None:
    broken = [make_issue("octo/app", 2, title="x" * 5000), make_issue("octo/app", 3, comments=-1)]
    fake_github.add_repo("octo/app", [make_issue("octo/app", 1), *broken])
    async with tools(fake_github, db_path=tmp_path / "boards.db") as (client, _):
        result = await client.call_tool("send_issues_to_dashboard", ISSUES)
    assert not result.is_error and result.structured_content is not None
    assert (result.structured_content["issue_count"], result.structured_content["unreadable"]) == (1, 2)
    assert "(2 items GitHub sent could not be read and were left out)" in text_of(result)
    with TestClient(create_app(Settings(db_path=tmp_path / "boards.db")), base_url="http://127.0.0.1:8000") as page:
        assert "2 unreadable items from GitHub left out" in page.get("/").text


async def test_a_renamed_repository_moves_its_board_and_the_result_says_so(fake_github: FakeGitHub) -> None:
    fake_github.add_pulls("octo/app", [make_pull("octo/app", 1)])
    async with tools(fake_github) as (client, dashboard):
        assert not (await client.call_tool("send_pull_requests_to_dashboard", ISSUES)).is_error
        fake_github.rename_repo("octo/app", "octo/renamed")
        result = await client.call_tool("send_pull_requests_to_dashboard", ISSUES)
        assert not result.is_error and result.structured_content is not None
        summary = result.structured_content
        assert (summary["board_id"], summary["repository"], summary["renamed_from"]) == (
            "pulls:octo/renamed",
            "octo/renamed",
            "octo/app",
        )
        assert "octo/app is now octo/renamed on GitHub; the board moved with it" in text_of(result)
        assert [entry.key for entry in await dashboard.entries()] == ["pulls:octo/renamed"]


async def test_githubs_refusals_reach_the_model_in_our_words(fake_github: FakeGitHub) -> None:
    fake_github.disable_issues("octo/app")
    async with tools(fake_github) as (client, _):
        disabled = await client.call_tool("send_issues_to_dashboard", ISSUES)
        assert disabled.is_error and "pull requests and commits can still be fetched" in text_of(disabled)
        fake_github.secondary_limit = 403
        limited = await client.call_tool("send_pull_requests_to_dashboard", ISSUES)
        assert limited.is_error and "secondary rate limit is exhausted" in text_of(limited)
        assert "scope" not in text_of(limited)
