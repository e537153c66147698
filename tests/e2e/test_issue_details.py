"""``get_issue_details`` end to end: the SDK's MCP client, the server in this process and the fake
GitHub's issue, comments, pull request and reviews endpoints."""

from __future__ import annotations

import json
from typing import Any

import pytest
from mcp import Client

from testkit.fake_github import (
    FakeGitHub,
    make_comment,
    make_issue,
    make_pull,
    make_pull_request,
    make_review,
)
from tests.inprocess import AppServer

REPO = "octo/app"
HIDDEN = "\U000e0049\U000e0047\U000e004e\U000e004f\U000e0052\U000e0045"  # "IGNORE" in Unicode tag characters


def comments(repo: str, number: int, count: int, body: str = "comment {n}") -> list[dict[str, Any]]:
    return [make_comment(repo, number, n, body=body.format(n=n), user=f"user{n}") for n in range(1, count + 1)]


async def details(client: Client, number: int, **arguments: Any) -> Any:
    owner, repo = REPO.split("/")
    return await client.call_tool("get_issue_details", {"owner": owner, "repo": repo, "number": number, **arguments})


def comment_pages(fake: FakeGitHub, number: int, since: int = 0) -> list[str]:
    """The pages of the comments asked for, under the repository's name or (Link headers) its id."""
    return [r.query.get("page", "1") for r in fake.requests[since:] if r.path.endswith(f"/issues/{number}/comments")]


async def test_an_issue_reads_in_full_with_exactly_its_latest_comments(
    server: AppServer, fake_github: FakeGitHub
) -> None:
    issue = make_issue(
        REPO, 7, title="Crash on start", labels=[("bug", "d73a4a")], user="alice", assignees=["bob"],
        body="It **crashes**.\n\n    trace line",
    )  # fmt: skip
    fake_github.add_repo(REPO, [issue])
    fake_github.add_comments(REPO, 7, comments(REPO, 7, 230))
    async with Client(f"{server.url}/mcp") as client:
        five = await details(client, 7)
        assert not five.is_error, five.content
        read = five.structured_content
        assert json.loads(five.content[0].text) == read  # the model reads the same, as compact JSON
        assert (read["repository"], read["number"], read["kind"], read["state"]) == (REPO, 7, "issue", "open")
        assert (read["title"], read["author"], read["labels"], read["assignees"]) == (
            "Crash on start", "alice", ["bug"], ["bob"],
        )  # fmt: skip
        assert read["body"] == "It **crashes**.\n\n    trace line" and read["body_trimmed"] is False
        assert read["created_at"] == issue["created_at"] and read["url"] == issue["html_url"]
        assert read["comment_count"] == 230 and read["pull_request"] is None
        # The latest five, oldest of them first: only the last page was asked for.
        assert [c["body"] for c in read["comments"]] == [f"comment {n}" for n in range(226, 231)]
        assert read["comments"][0]["author"] == "user226"
        assert comment_pages(fake_github, 7) == ["3"]

        since = len(fake_github.requests)
        hundred = (await details(client, 7, comments=100)).structured_content
        assert [c["body"] for c in hundred["comments"]] == [f"comment {n}" for n in range(131, 231)]
        assert sorted(comment_pages(fake_github, 7, since)) == ["2", "3"]

        since = len(fake_github.requests)
        none = (await details(client, 7, comments=0)).structured_content
        assert none["comments"] == [] and none["comment_count"] == 230
        assert comment_pages(fake_github, 7, since) == []


async def test_a_pull_request_has_its_branches_draft_state_reviewers_and_reviews(
    server: AppServer, fake_github: FakeGitHub
) -> None:
    fake_github.add_repo(REPO, [make_pull_request(REPO, 12, title="Fix the crash", user="carol")])
    fake_github.add_pulls(
        REPO,
        [make_pull(REPO, 12, title="Fix the crash", draft=True, head="fix-crash", requested_reviewers=["dave"],
                   requested_teams=["core"])],
    )  # fmt: skip
    fake_github.add_reviews(
        REPO,
        12,
        [
            make_review(REPO, 12, 1, user="alice", state="APPROVED"),
            make_review(REPO, 12, 2, user="alice", state="COMMENTED"),  # a comment does not undo the approval
            make_review(REPO, 12, 3, user="bob", state="CHANGES_REQUESTED"),
            make_review(REPO, 12, 4, user="erin", state="PENDING"),  # her own draft: not a review yet
        ],
    )
    async with Client(f"{server.url}/mcp") as client:
        read = (await details(client, 12, comments=0)).structured_content
    assert (read["kind"], read["title"], read["author"]) == ("pull_request", "Fix the crash", "carol")
    pull = read["pull_request"]
    assert (pull["head"], pull["base"], pull["draft"], pull["merged"]) == ("fix-crash", "main", True, False)
    assert (pull["requested_reviewers"], pull["requested_teams"]) == (["dave"], ["core"])
    assert [(r["reviewer"], r["state"]) for r in pull["reviews"]] == [
        ("alice", "approved"),
        ("bob", "changes_requested"),
    ]
    assert pull["review_state"] == "changes_requested"

    fake_github.review(REPO, 12, "dave")  # dave approves: he leaves requested_reviewers
    async with Client(f"{server.url}/mcp") as client:
        pull = (await details(client, 12, comments=0)).structured_content["pull_request"]
    assert pull["requested_reviewers"] == [] and ("dave", "approved") in [
        (r["reviewer"], r["state"]) for r in pull["reviews"]
    ]


async def test_a_second_read_asks_changed_and_gets_304s_until_something_changes(
    server: AppServer, fake_github: FakeGitHub
) -> None:
    fake_github.add_repo(REPO, [make_pull_request(REPO, 3, title="Add a flag")])
    fake_github.add_pulls(REPO, [make_pull(REPO, 3, title="Add a flag")])
    fake_github.add_comments(REPO, 3, comments(REPO, 3, 4))
    async with Client(f"{server.url}/mcp") as client:
        first = (await details(client, 3)).structured_content
        since = len(fake_github.requests)
        again = (await details(client, 3)).structured_content
        repeated = fake_github.requests[since:]
        assert again == first
        assert len(repeated) == 4  # the issue, its comments, the pull request, its reviews
        assert all(r.headers.get("if-none-match") and r.status == 304 for r in repeated)

        fake_github.add_comments(REPO, 3, comments(REPO, 3, 5))
        since = len(fake_github.requests)
        changed = (await details(client, 3)).structured_content
    assert [c["body"] for c in changed["comments"]] == [f"comment {n}" for n in range(1, 6)]
    assert {r.path: r.status for r in fake_github.requests[since:]}[f"/repos/{REPO}/issues/3/comments"] == 200
    assert [r.query.get("page") for r in fake_github.requests[since:] if r.path.endswith("/comments")] == ["1"]


async def test_invisible_characters_are_gone_from_what_the_model_reads(
    server: AppServer, fake_github: FakeGitHub
) -> None:
    title = f"Crash\u200b on start{HIDDEN}"
    fake_github.add_repo(
        REPO, [make_issue(REPO, 1, title=title, labels=[("bug\u202e", "d73a4a")], body=f"Body{HIDDEN}\u2066 text")]
    )
    fake_github.add_comments(REPO, 1, [make_comment(REPO, 1, 1, body=f"A{HIDDEN} comment\ufe0f", user=None)])
    async with Client(f"{server.url}/mcp") as client:
        read = (await details(client, 1)).structured_content
        assert (read["title"], read["labels"], read["body"]) == ("Crash on start", ["bug"], "Body text")
        assert read["comments"] == [
            {
                "author": None,
                "created_at": read["comments"][0]["created_at"],
                "body": "A comment",
                "body_trimmed": False,
            }
        ]
        await client.call_tool("send_issues_to_dashboard", {"owner": "octo", "repo": "app"})
        board = (await client.call_tool("get_dashboard", {})).structured_content
    [row] = board["entries"][0]["rows"]
    assert (row["title"], row["labels"]) == ("Crash on start", ["bug"])
    assert "body" not in row and "get_issue_details" in board["read_more"]


async def test_five_calls_on_the_largest_items_stay_small(server: AppServer, fake_github: FakeGitHub) -> None:
    huge = 'Ünïcode "quoted" \\ line\n' * 2600  # near GitHub's 65,536 characters, and costly as JSON
    cjk = "漢字のコメント" * 3000  # 63 KB of UTF-8: a page of 100 stays under the 16 MiB answer limit
    fake_github.add_repo(REPO, [make_issue(REPO, n, title="界" * 256, body=huge) for n in range(1, 6)])
    for n in range(1, 6):
        fake_github.add_comments(REPO, n, [make_comment(REPO, n, c, body=cjk, user="u" * 39) for c in range(1, 121)])
    sizes = []
    async with Client(f"{server.url}/mcp") as client:
        for n in range(1, 6):
            answer = await details(client, n, comments=100)
            read = answer.structured_content
            assert len(read["comments"]) == 100 and read["comments_left_out"] == 0
            assert read["body_trimmed"] and all(c["body_trimmed"] and c["body"] for c in read["comments"])
            assert read["body"] and huge.startswith(read["body"]) and cjk.startswith(read["comments"][0]["body"])
            sizes.append(len(answer.content[0].text.encode()))
        default = await details(client, 1)
    assert max(sizes) <= 16_000
    # Five calls at their largest: under 80 KB of JSON, about 20,000 tokens at 4 bytes a token.
    assert sum(sizes) <= 80_000
    assert len(default.content[0].text.encode()) <= 16_000
    read = default.structured_content
    # Room enough for all: the body keeps its 4,000 bytes (as JSON, escapes counted), each comment 1,500.
    assert (
        len(read["comments"]) == 5 and 3_990 <= len(json.dumps(read["body"], ensure_ascii=False).encode()) - 2 <= 4_000
    )
    assert all(1_490 <= len(c["body"].encode()) <= 1_500 for c in read["comments"])


async def test_a_hostile_server_cannot_make_an_answer_large(server: AppServer, fake_github: FakeGitHub) -> None:
    labels = [(f"{'L' * 45}{n:05}", "d73a4a") for n in range(100)]
    fake_github.add_repo(REPO, [make_pull_request(REPO, 1, title="x" * 1000, labels=labels, body="b" * 60_000)])
    fake_github.add_pulls(REPO, [make_pull(REPO, 1, head="h" * 250, requested_reviewers=[f"r{n}" for n in range(50)])])
    fake_github.add_reviews(REPO, 1, [make_review(REPO, 1, n, user=f"reviewer{n}") for n in range(1, 101)])
    fake_github.add_comments(REPO, 1, [make_comment(REPO, 1, c, body="c" * 5000, user="u" * 39) for c in range(1, 101)])
    async with Client(f"{server.url}/mcp") as client:
        answer = await details(client, 1, comments=100)
    read = answer.structured_content
    assert len(answer.content[0].text.encode()) <= 16_000
    assert len(read["labels"]) == 20 and len(read["title"]) == 256
    assert len(read["comments"]) + read["comments_left_out"] == 100
    assert read["comments"][-1]["author"] == "u" * 39  # what is left out is the oldest


@pytest.mark.parametrize(
    ("arguments", "says"),
    [
        ({"number": 999}, "GitHub has no issue or pull request #999 in octo/app (404)"),
        ({"number": 2}, "#2 of octo/app is gone from GitHub (410: This issue was deleted)"),
        ({"number": 1, "repo": "nowhere"}, "GitHub has no issue or pull request #1 in octo/nowhere (404)"),
        ({"number": 1, "repo": "bad name!"}, "repository name"),
        ({"number": 0}, "number"),
        ({"number": 1, "comments": 101}, "comments"),
    ],
)
async def test_what_cannot_be_read_is_a_clear_tool_error(
    server: AppServer, fake_github: FakeGitHub, arguments: dict[str, Any], says: str
) -> None:
    fake_github.add_repo(REPO, [make_issue(REPO, 1), make_issue(REPO, 2)])
    fake_github.delete_issue(REPO, 2)
    async with Client(f"{server.url}/mcp") as client:
        answer = await client.call_tool("get_issue_details", {"owner": "octo", "repo": "app", **arguments})
    assert answer.is_error and says in answer.content[0].text, answer.content  # type: ignore[union-attr]


async def test_a_repository_with_issues_switched_off_says_so(server: AppServer, fake_github: FakeGitHub) -> None:
    fake_github.add_repo(REPO, [make_issue(REPO, 1)])
    fake_github.disable_issues(REPO)
    async with Client(f"{server.url}/mcp") as client:
        answer = await details(client, 1)
    assert answer.is_error and "410: Issues are disabled for this repo" in answer.content[0].text
