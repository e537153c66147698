"""A dashboard with every kind of entry, as a user's assistant would fill it.

One repository's open issues (labels in GitHub's colours, white and near-white ones included,
assignees, comments, a long title), its pull requests (a draft, one waiting on a team, a
labelled one), its commit timeline and a panel with Markdown, metrics and items. The browser
tests of the page's layout and accessibility look at it, and ``python -m testkit.screenshots``
photographs it for the docs. Times are fixed relative to now, so "3 days ago" reads the same on
every run.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from testkit.fake_github import FakeGitHub, make_commit, make_issue, make_pull
from testkit.mcp_clients import TRANSPORTS

REPO = "octo/webapp"
# GitHub's default label colours, and the light ones that vanish on white or glare in the dark.
LABELS = {
    "bug": "d73a4a",
    "documentation": "0075ca",
    "enhancement": "a2eeef",
    "good first issue": "7057ff",
    "question": "d876e3",
    "needs triage": "ffffff",
    "wontfix": "ededed",
    "help wanted": "008672",
    "p1": "fef2c0",
}
ISSUES: list[tuple[str, list[str], str | None, list[str], int]] = [
    ("Login form loses focus after a failed attempt", ["bug", "p1"], "mona", ["hubot"], 7),
    ("Document the webhook secret rotation", ["documentation"], "octocat", [], 2),
    ("Dark mode for the settings page", ["enhancement", "help wanted"], "hubot", [], 12),
    ("Crash when a repository name contains a dot", ["bug", "needs triage"], "monalisa", ["mona"], 0),
    ("Is there a way to export a board as CSV?", ["question"], "defunkt", [], 3),
    ("Rename “Oldest open” to something clearer", ["wontfix"], "mona", [], 1),
    ("Typo in the README's configuration table", ["good first issue", "documentation"], "octocat", [], 0),
    (
        "The sync progress bar stays at 99% for a long time on repositories with tens of thousands of "
        "closed issues and a slow network",
        ["bug", "enhancement", "needs triage", "p1"],
        "hubot",
        ["octocat", "monalisa"],
        24,
    ),
    ("Support GitHub Enterprise Server", ["enhancement"], "defunkt", [], 5),
    ("Flaky test: test_reconnect_after_restart", ["bug"], None, [], 1),
    ("Keyboard shortcut to focus the filter", ["enhancement", "good first issue"], "mona", [], 0),
    ("Timestamps should follow the browser's locale", [], "octocat", [], 4),
]


def _ago(now: datetime, hours: float) -> str:
    return (now - timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M:%SZ")


def seed(fake: FakeGitHub, now: datetime | None = None) -> None:
    """The repository's issues, pull requests and commits on the fake GitHub."""
    now = now or datetime.now(UTC)
    fake.add_repo(
        REPO,
        [
            make_issue(
                REPO,
                n,
                title=title,
                labels=[(name, LABELS[name]) for name in labels],
                user=user,
                assignees=assignees,
                comments=comments,
                created_at=_ago(now, 24 * (40 - 3 * n)),
                updated_at=_ago(now, 5 * n * n),
            )
            for n, (title, labels, user, assignees, comments) in enumerate(ISSUES, start=1)
        ],
    )
    fake.add_pulls(
        REPO,
        [
            make_pull(REPO, 101, title="Sticky board headers", draft=True, created_at=_ago(now, 30)),
            make_pull(
                REPO,
                102,
                title="Fix focus after a failed login",
                user="mona",
                labels=[("bug", LABELS["bug"])],
                requested_reviewers=["hubot"],
                head="fix/login-focus",
                created_at=_ago(now, 50),
                updated_at=_ago(now, 2),
            ),
            make_pull(
                REPO,
                103,
                title="Export a board as CSV",
                user="defunkt",
                requested_teams=["octo/frontend"],
                head="feature/export-board-as-csv-with-a-long-branch-name",
                created_at=_ago(now, 24 * 20),
                updated_at=_ago(now, 26),
            ),
            make_pull(REPO, 104, title="Bump markdown-it to 4.1", user="dependabot", created_at=_ago(now, 24 * 3)),
        ],
    )
    authors = ["mona", "octocat", "hubot", "mona", "defunkt"]
    fake.add_commits(
        REPO,
        [
            make_commit(
                REPO,
                n,
                message=f"{['Fix', 'Add', 'Document', 'Refactor'][n % 4]} part {n} of the dashboard",
                author=authors[n % len(authors)],
                date=_ago(now, 9 * n),
            )
            for n in range(1, 40)
        ],
    )


PANEL: dict[str, Any] = {
    "title": "This week in octo/webapp",
    "summary_markdown": (
        "Login bugs dominate. **Fix #102 first**; the CSV export has waited longest for review.\n\n"
        "> The sync bar ([#8](https://github.com/octo/webapp/issues/8)) needs a design first.\n\n"
        "| Area | Open | Trend |\n| :--- | ---: | :---: |\n| Login | 3 | up |\n| Docs | 2 | flat |"
    ),
    "metrics": [
        {"label": "Open issues", "value": len(ISSUES), "trend": "up"},
        {"label": "Waiting for review", "value": 1, "trend": "flat"},
        {"label": "Commits this week", "value": 18, "trend": "down"},
    ],
    "items": [
        {
            "title": "Fix focus after a failed login",
            "url": f"https://github.com/{REPO}/pull/102",
            "note": "ready, needs hubot",
            "tags": ["p1"],
        },
        {"title": "Support GitHub Enterprise Server", "note": "asked three times this month", "tags": ["roadmap"]},
    ],
    "repository": REPO,
}


async def send(base_url: str) -> None:
    """What an assistant sends: the open issues, the pull requests, the commits and a panel."""
    async with TRANSPORTS["streamable-http"](base_url) as client:
        for tool in ["send_commit_summary_to_dashboard", "send_pull_requests_to_dashboard", "send_issues_to_dashboard"]:
            result = await client.call_tool(tool, {"owner": "octo", "repo": "webapp"})
            assert not result.is_error, result.content
        result = await client.call_tool("publish_to_dashboard", PANEL)
        assert not result.is_error, result.content
