"""Commit timelines: a repository's commits in a window, per day, by author, and the latest ones."""

from __future__ import annotations

import re
from collections import Counter
from datetime import date, datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import StringConstraints

from issuebridge.errors import InvalidInput
from issuebridge.records.base import (
    Record,
    RepositoryBoard,
    ShortText,
    StateFilter,
    UtcDatetime,
    WebUrl,
    full_match,
    now,
    repository_key,
    to_utc,
)
from issuebridge.records.kind import MAX_ROWS, BoardQuery, EntryView, Kind, RowView, SyncTool, entry_view

SHA = re.compile(r"[0-9a-f]{7,64}")
TOP_AUTHORS = 8
TIMELINE_DAYS = 366  # the longest commit timeline drawn or sent, in days
DEFAULT_WINDOW = timedelta(days=30)  # how far back a timeline goes unless told


class Commit(Record):
    sha: Annotated[str, full_match(SHA, "7 to 64 lowercase hex digits")]
    message: Annotated[str, StringConstraints(max_length=300)]
    author: ShortText | None = None
    date: UtcDatetime | None = None
    html_url: WebUrl | None = None


class CommitsBoard(RepositoryBoard):
    """A repository's recent commits: per day, by author, and the latest ones."""

    kind: Literal["commits"] = "commits"
    branch: Annotated[str, StringConstraints(max_length=256)] | None = None
    since: UtcDatetime | None = None
    until: UtcDatetime | None = None
    commits: list[Commit]

    @property
    def per_day(self) -> list[tuple[date, int]]:
        """Commits per calendar day (UTC), oldest first, days without commits included, over the
        last :data:`TIMELINE_DAYS` days at most: a commit dated year 1 beside one of today must
        not make a list of 740,000 days."""
        days = Counter(c.date.date() for c in self.commits if c.date is not None)
        if not days:
            return []
        last = max(days).toordinal()
        first = max(min(days).toordinal(), last - TIMELINE_DAYS + 1)
        return [(date.fromordinal(day), days[date.fromordinal(day)]) for day in range(first, last + 1)]

    @property
    def top_authors(self) -> list[tuple[str, int]]:
        return Counter(c.author or "unknown" for c in self.commits).most_common(TOP_AUTHORS)


def commits_key(repository: str) -> str:
    return repository_key("commits", repository)


def derived(board: CommitsBoard) -> dict[str, Any]:
    return {
        "per_day": [{"date": day.isoformat(), "count": count} for day, count in board.per_day],
        "top_authors": [{"author": author, "count": count} for author, count in board.top_authors],
    }


def read_back(board: CommitsBoard) -> EntryView:
    authors = ", ".join(f"{a} ({n})" for a, n in board.top_authors[:3])
    return entry_view(
        board,
        title=f"{board.repository} commits" + (f" on {board.branch}" if board.branch else ""),
        count=len(board.commits),
        summary=f"{len(board.commits)} commits; top authors: {authors or 'none'}",
        rows=[
            RowView(position=n, sha=c.sha[:12], title=c.message, url=c.html_url, note=c.author)
            for n, c in enumerate(board.commits[:MAX_ROWS], start=1)
        ],
    )


def commits_query(
    repository: str, branch: str | None, since: datetime, until: datetime | None
) -> BoardQuery[CommitsBoard]:
    """A fixed window: ``since`` is a time, not "30 days ago", so repeating the query (a
    refresh) asks GitHub the same question and an unchanged history costs two 304s."""
    owner, repo = repository.split("/")
    return BoardQuery(
        "commits",
        repository,
        commits_key(repository),
        CommitsBoard,
        lambda board: (board.branch, board.since, board.until) == (branch, since, until),
        lambda github, progress, known: github.list_commits(
            owner, repo, branch=branch, since=since, until=until, progress=progress, known=known
        ),
        lambda fetched, _: CommitsBoard(
            repository=fetched.renamed_to or repository,
            branch=branch,
            since=since,
            until=until,
            commits=fetched.items,
            source="mcp",
            last_updated=now(),
            truncated=fetched.truncated,
            unreadable=fetched.unreadable,
        ),
    )


def latest_commits_query(repository: str, state: StateFilter) -> BoardQuery[CommitsBoard]:
    """The default branch over the default window (commits have no state)."""
    return commits_query(repository, None, now() - DEFAULT_WINDOW, None)


def _query_of(board: CommitsBoard) -> BoardQuery[Any] | None:
    if board.source != "mcp" or board.since is None:
        return None
    return commits_query(board.repository, board.branch, board.since, board.until)


def parse_since(value: str | None, name: str) -> datetime | None:
    """An ISO 8601 date or date-time from a tool argument, or a clear error naming it."""
    if value is None or not value.strip():
        return None
    text = value.strip().replace("Z", "+00:00")
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput(
            f"{name} must be an ISO 8601 date or date-time, like 2026-11-01 or 2026-11-01T12:00:00Z"
        ) from None
    try:
        return to_utc(parsed)  # a bare date or time means UTC
    except ValueError as exc:
        raise InvalidInput(f"{name} {exc}") from None


KIND = Kind(
    name="commits",
    entry=CommitsBoard,
    label="commits",
    title="commit timeline",
    noun="commit",
    json_group="commit_boards",
    json_event="board_update",
    template="_commits.html",
    macro="commits_section",
    read_back=read_back,
    derived=derived,
    github_query=_query_of,
    repository_query=latest_commits_query,
    sync_tool=SyncTool("send_commit_summary_to_dashboard", "commit_count", takes_state=False),
)
