"""Issues boards: one repository's issues, as GitHub lists them or an API client pushes them."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Annotated, Any, ClassVar, Literal

from pydantic import ConfigDict, Field, StringConstraints
from pydantic.dataclasses import dataclass as pydantic_dataclass

from issuebridge.records.base import (
    ROW,
    Count,
    IssueState,
    ItemNumber,
    Label,
    Record,
    RepositoryName,
    ShortText,
    StateFilter,
    UtcDatetime,
    WebUrl,
    now,
    repository_key,
    sorted_for_display,
)
from issuebridge.records.bodies import Body
from issuebridge.records.kind import (
    MAX_ROWS,
    BoardQuery,
    Delta,
    EntryView,
    Kind,
    RowsDiff,
    RowView,
    SyncTool,
    entry_view,
)
from issuebridge.records.tracked import TrackedBoard


@pydantic_dataclass(frozen=True, slots=True, config=ROW)
class Issue:
    """One row of an issues board: what the page shows and nothing more."""

    number: ItemNumber
    title: Annotated[str, StringConstraints(max_length=1024)]
    state: IssueState
    labels: Annotated[list[Label], Field(max_length=100)] = field(default_factory=list)
    author: ShortText | None = None
    assignees: Annotated[list[ShortText], Field(max_length=100)] = field(default_factory=list)
    comments: Count = 0
    created_at: UtcDatetime | None = None
    updated_at: UtcDatetime | None = None
    html_url: WebUrl | None = None
    body: Body | None = None  # records/bodies.py: None where not known
    body_trimmed: bool = False


class IssuesBoard(TrackedBoard):
    """One repository's issues as last synced."""

    rows_field: ClassVar[str] = "issues"

    kind: Literal["issues"] = "issues"
    state: StateFilter
    issues: list[Issue]

    def summary(self, at: datetime) -> BoardSummary:
        """Its charts' counts as of ``at`` (:func:`summarize`)."""
        return summarize(self.issues, at)


def issues_key(repository: str) -> str:
    return repository_key("issues", repository)


class SyncIssuesRequest(Record):
    """The body of ``POST /api/dashboard/sync-issues``."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    repository: RepositoryName
    issues: Annotated[list[Issue], Field(max_length=10_000)]
    state: StateFilter = "all"


def diff_issues(old: list[Issue], new: list[Issue]) -> RowsDiff:
    """Added, changed and removed issues between two versions of a board."""
    before = {issue.number: issue for issue in old}
    after = {issue.number: issue for issue in new}
    return RowsDiff(
        added=[issue for number, issue in after.items() if number not in before],
        changed=[issue for number, issue in after.items() if number in before and before[number] != issue],
        removed=[number for number in before if number not in after],
    )


def _diff_boards(previous: IssuesBoard | None, board: IssuesBoard) -> RowsDiff:
    return diff_issues(previous.issues if previous is not None else [], board.issues)


AGE_BUCKETS: tuple[tuple[str, timedelta | None], ...] = (
    ("< 1 week", timedelta(days=7)),
    ("1-4 weeks", timedelta(days=28)),
    ("1-3 months", timedelta(days=91)),
    ("3-12 months", timedelta(days=365)),
    ("> 1 year", None),
)
TOP_LABELS = 8


def _age_queries() -> dict[str, str]:
    """Each age bucket's dashboard filter (static/dashboard/filter_query.js): the same bounds on
    ``created_at``, so that a bar pressed on the page shows exactly the issues it counts."""
    queries: dict[str, str] = {}
    younger: timedelta | None = None
    for name, limit in AGE_BUCKETS:
        bounds = [f"created:>={younger.days}d"] if younger else []
        bounds += [f"created:<{limit.days}d"] if limit else []
        queries[name] = " ".join(bounds)
        younger = limit
    return queries


AGE_QUERIES = _age_queries()


@dataclass(frozen=True, slots=True)
class LabelCount:
    name: str
    color: str
    count: int


@dataclass(frozen=True, slots=True)
class BoardSummary:
    """The counts a person would rather see drawn than read: by label, and by age."""

    labels: list[LabelCount]
    unlabelled: int
    other_labels: int
    ages: list[tuple[str, int]]

    @property
    def largest_label_count(self) -> int:
        return max([label.count for label in self.labels] + [self.unlabelled, 1])

    @property
    def age_filters(self) -> list[tuple[str, int, str]]:
        """Each age bucket, its count, and the filter that shows its issues on the page."""
        return [(name, count, AGE_QUERIES[name]) for name, count in self.ages]

    @property
    def largest_age_count(self) -> int:
        return max([count for _, count in self.ages] + [1])


def summarize(issues: list[Issue], at: datetime) -> BoardSummary:
    """Counts by label (the most common ones) and by age (from ``created_at``) as of ``at``."""
    counts: Counter[str] = Counter()
    colours: dict[str, str] = {}
    unlabelled = 0
    for issue in issues:
        if not issue.labels:
            unlabelled += 1
        for label in issue.labels:
            counts[label.name] += 1
            colours.setdefault(label.name, label.color)
    top = counts.most_common(TOP_LABELS)
    ages = Counter[str]()
    for issue in issues:
        if issue.created_at is not None:
            ages[_age_bucket(at - issue.created_at)] += 1
    return BoardSummary(
        labels=[LabelCount(name, colours[name], count) for name, count in top],
        unlabelled=unlabelled,
        other_labels=len(counts) - len(top),
        ages=[(name, ages[name]) for name, _ in AGE_BUCKETS],
    )


def _age_bucket(age: timedelta) -> str:
    for name, limit in AGE_BUCKETS:
        if limit is None or age < limit:
            return name
    raise AssertionError("the last bucket has no limit")


def read_back(board: IssuesBoard) -> EntryView:
    issues = sorted_for_display(board.issues)
    return entry_view(
        board,
        title=f"{board.repository} issues ({board.state})",
        count=len(issues),
        summary=f"{len(issues)} {'' if board.state == 'all' else board.state + ' '}issues",
        rows=[
            RowView(
                position=n,
                number=i.number,
                title=i.title,
                state=i.state,
                labels=[lb.name for lb in i.labels],
                url=i.html_url,
            )
            for n, i in enumerate(issues[:MAX_ROWS], start=1)
        ],
    )


def issues_query(repository: str, state: StateFilter) -> BoardQuery[IssuesBoard]:
    owner, repo = repository.split("/")
    return BoardQuery(
        "issues",
        repository,
        issues_key(repository),
        IssuesBoard,
        lambda board: board.state == state,
        lambda github, progress, known: github.list_issues(owner, repo, state, progress, known),
        lambda fetched, as_of: IssuesBoard(
            repository=fetched.renamed_to or repository,
            state=state,
            source="mcp",
            issues=fetched.items,
            last_updated=now(),
            truncated=fetched.truncated,
            as_of=as_of,
            unreadable=fetched.unreadable,
        ),
    )


def _query_of(board: IssuesBoard) -> BoardQuery[Any] | None:
    return issues_query(board.repository, board.state) if board.source == "mcp" else None


KIND = Kind(
    name="issues",
    entry=IssuesBoard,
    label="issues",
    title="issues board",
    noun="issue",
    json_group="boards",
    json_event="issues_update",  # documented for clients; other boards say board_update
    template="_issues.html",
    macro="issues_section",
    read_back=read_back,
    github_query=_query_of,
    repository_query=issues_query,
    sync_tool=SyncTool("send_issues_to_dashboard", "issue_count"),
    row_macro="issue_row",
    delta=Delta(_diff_boards, header_macro="issues_header", summary_macro="issues_summary"),
)
