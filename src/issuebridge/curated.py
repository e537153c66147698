"""The other things an assistant puts on the dashboard: pull-request boards, commit timelines, and
its own panels. Like issues, each is a compact, validated record; nothing from GitHub or the
assistant reaches the page unchecked.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints, field_validator

from issuebridge.boards import (
    Entry,
    ItemNumber,
    Label,
    Record,
    RepositoryBoard,
    RepositoryName,
    ShortText,
    StateFilter,
    TrackedBoard,
    UtcDatetime,
    WebUrl,
    full_match,
    label_from_github,
    to_utc,
    web_url_or_none,
)

PANEL_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,63}")
SHA = re.compile(r"[0-9a-f]{7,64}")
ATTENTION_OLDEST = 5
TOP_AUTHORS = 8
TIMELINE_DAYS = 366  # the longest commit timeline drawn or sent, in days


class PullRequest(Record):
    number: ItemNumber
    title: Annotated[str, StringConstraints(max_length=1024)]
    state: Literal["open", "closed"]
    draft: bool = False
    merged: bool = False
    author: ShortText | None = None
    labels: Annotated[list[Label], Field(max_length=100)] = []
    requested_reviewers: Annotated[list[ShortText], Field(max_length=100)] = []
    head: Annotated[str, StringConstraints(max_length=256)] = ""
    base: Annotated[str, StringConstraints(max_length=256)] = ""
    created_at: UtcDatetime | None = None
    updated_at: UtcDatetime | None = None
    html_url: WebUrl | None = None


class PullsBoard(TrackedBoard):
    """One repository's pull requests, with what needs a person's attention."""

    kind: Literal["pulls"] = "pulls"
    state: StateFilter
    pulls: list[PullRequest]

    @property
    def key(self) -> str:
        return pulls_key(self.repository)

    @property
    def rows(self) -> Sequence[PullRequest]:
        return self.pulls

    @property
    def drafts(self) -> list[PullRequest]:
        return [p for p in self.pulls if p.draft and p.state == "open"]

    @property
    def without_reviewers(self) -> list[PullRequest]:
        """Open, ready for review, and nobody asked to review them."""
        return [p for p in self.pulls if p.state == "open" and not p.draft and not p.requested_reviewers]

    @property
    def oldest_open(self) -> list[PullRequest]:
        dated = [p for p in self.pulls if p.state == "open" and p.created_at is not None]
        return sorted(dated, key=lambda p: (p.created_at, p.number))[:ATTENTION_OLDEST]


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
    def key(self) -> str:
        return commits_key(self.repository)

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


class Metric(Record):
    label: Annotated[str, StringConstraints(min_length=1, max_length=80)]
    value: Annotated[str, StringConstraints(min_length=1, max_length=40)]
    trend: Literal["up", "down", "flat"] | None = None

    @field_validator("value", mode="before")
    @classmethod
    def _number_as_text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int | float) and not isinstance(value, bool) else value


class PanelItem(Record):
    title: Annotated[str, StringConstraints(min_length=1, max_length=300)]
    url: WebUrl | None = None
    note: Annotated[str, StringConstraints(max_length=1000)] | None = None
    tags: Annotated[list[Annotated[str, StringConstraints(min_length=1, max_length=50)]], Field(max_length=20)] = []


class Panel(Entry):
    """The assistant's own curated content: markdown, key metrics, and a table of items."""

    kind: Literal["panel"] = "panel"
    panel_id: Annotated[str, full_match(PANEL_ID, "1-64 lowercase letters, digits or '-', not starting with '-'")]
    title: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    summary_markdown: Annotated[str, StringConstraints(max_length=20_000)] = ""
    metrics: Annotated[list[Metric], Field(max_length=24)] = []
    items: Annotated[list[PanelItem], Field(max_length=500)] = []
    repository: RepositoryName | None = None

    @property
    def key(self) -> str:
        return panel_key(self.panel_id)

    @property
    def related_repository(self) -> str | None:
        return self.repository


def pulls_key(repository: str) -> str:
    return f"pulls:{repository.lower()}"


def commits_key(repository: str) -> str:
    return f"commits:{repository.lower()}"


def panel_key(panel_id: str) -> str:
    return f"panel:{panel_id}"


def panel_id_from_title(title: str) -> str:
    """A readable id for a new panel: ``Weekly triage!`` becomes ``weekly-triage``."""
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:64].strip("-")
    return slug or "panel"


def pull_from_github(item: dict[str, Any]) -> PullRequest:
    return PullRequest(**pull_fields(item))


def pull_fields(item: dict[str, Any]) -> dict[str, Any]:
    """The fields of a :class:`PullRequest` from one item of GitHub's pulls list, not yet validated."""
    user = item.get("user") or {}
    return {
        "number": item["number"],
        "title": item.get("title") or "",
        "state": item["state"],
        "draft": bool(item.get("draft")),
        "merged": bool(item.get("merged_at")),
        "author": user.get("login"),
        "labels": [label for raw in item.get("labels") or [] if (label := label_from_github(raw))],
        "requested_reviewers": [r["login"] for r in item.get("requested_reviewers") or [] if r and r.get("login")],
        "head": str((item.get("head") or {}).get("ref") or "")[:256],
        "base": str((item.get("base") or {}).get("ref") or "")[:256],
        "created_at": item.get("created_at"),
        "updated_at": item.get("updated_at"),
        "html_url": web_url_or_none(item.get("html_url")),
    }


def commit_from_github(item: dict[str, Any]) -> Commit:
    return Commit(**commit_fields(item))


def commit_fields(item: dict[str, Any]) -> dict[str, Any]:
    """The fields of a :class:`Commit` from one item of GitHub's commits list, not yet validated."""
    detail = item.get("commit") or {}
    git_author = detail.get("author") or {}
    account = item.get("author") or {}
    first_line = str(detail.get("message") or "").strip().split("\n", 1)[0]
    return {
        "sha": item["sha"],
        "message": first_line[:300],
        "author": account.get("login") or (git_author.get("name") or None),
        "date": git_author.get("date"),
        "html_url": web_url_or_none(item.get("html_url")),
    }


def parse_since(value: str | None, name: str) -> datetime | None:
    """An ISO 8601 date or date-time from a tool argument, or a clear error naming it."""
    if value is None or not value.strip():
        return None
    text = value.strip().replace("Z", "+00:00")
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(
            f"{name} must be an ISO 8601 date or date-time, like 2026-11-01 or 2026-11-01T12:00:00Z"
        ) from None
    try:
        return to_utc(parsed)  # a bare date or time means UTC
    except ValueError as exc:
        raise ValueError(f"{name} {exc}") from None
