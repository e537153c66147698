"""What a kind of entry decides: the :class:`Kind` each kind's module declares, and the shapes
its decisions take (read-back views, GitHub queries, row differences).

Every place that treats kinds differently asks the entry's :class:`Kind` (through
``registry.kind_of``) instead of testing which class it is, so a new kind is one module, one
template macro and one line in ``registry.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, Generic, TypeVar

from pydantic import AfterValidator, BaseModel, Field

from issuebridge.records.base import Entry, StateFilter, iso_utc
from issuebridge.records.invisible import visible

if TYPE_CHECKING:
    from collections.abc import Awaitable

    from issuebridge.github.client import GitHubSource
    from issuebridge.github.conditional import Unchanged, Validators
    from issuebridge.github.paging import Fetched, Progress

E = TypeVar("E", bound=Entry)
B = TypeVar("B", bound=Entry)

MAX_ROWS = 100  # rows of one entry that reading the dashboard back returns
READ_MORE = (
    "Rows carry no bodies or comments: get_issue_details(owner, repo, number) reads one issue or pull "
    "request in full (body, latest comments, branches and reviews)."
)


# GitHub's text as the assistant reads it back: without invisible characters (``invisible.py``).
VisibleText = Annotated[str, AfterValidator(visible)]


class RowView(BaseModel):
    position: int = Field(description="1 for the first row the page shows.")
    number: int | None = None
    sha: str | None = None
    title: VisibleText
    state: str | None = None
    labels: list[VisibleText] = []
    url: str | None = None
    note: str | None = None


class TrendView(BaseModel):
    since: str = Field(description="The sync before the last one: what opened and closed count from.")
    opened: int | None
    closed: int | None
    counts: list[int] = Field(description="The row count at each sync, oldest first (at most 90).")


class EntryView(BaseModel):
    id: str = Field(description="Pass to remove_from_dashboard.")
    kind: str = Field(description="issues, pulls, commits, view (a search) or panel.")
    repository: str | None
    title: str
    count: int = Field(description="How many rows the entry has in all.")
    summary: str
    last_updated: str
    rows: list[RowView] = Field(description=f"The first {MAX_ROWS} rows, in the page's order.")
    trend: TrendView | None = Field(default=None, description="Boards and views after their second sync.")


class SelectedView(BaseModel):
    repository: str = Field(description="owner/repo, lower case.")
    number: int
    title: VisibleText | None = Field(description="As a board on the dashboard shows it; null if none shows it now.")


class DashboardView(BaseModel):
    selected: list[SelectedView] = Field(
        description="What the user ticked on the page, in the order ticked: 'these', 'the ones I picked'."
    )
    entries: list[EntryView] = Field(description="Newest activity first, as on the page.")
    read_more: str = Field(default=READ_MORE, description="How to read what this leaves out.")


def entry_view(entry: Entry, *, title: str, count: int, summary: str, rows: list[RowView]) -> EntryView:
    """An entry read back: what every kind shows, and what its own read-back chose."""
    return EntryView(
        id=entry.key,
        kind=entry.kind,
        repository=entry.related_repository,
        last_updated=iso_utc(entry.last_updated),
        title=title,
        count=count,
        summary=summary,
        rows=rows,
        trend=trend_view(getattr(entry, "trend", [])),
    )


def trend_view(points: list[Any]) -> TrendView | None:
    """A board's trend (``records/trends.py``) in a few numbers; None before its second sync."""
    if len(points) < 2:
        return None
    last = points[-1]
    return TrendView(
        since=iso_utc(points[-2].at), opened=last.opened, closed=last.closed, counts=[p.count for p in points]
    )


@dataclass(frozen=True, slots=True)
class RowsDiff:
    """What a new version of a board changed among its rows, by number."""

    added: list[Any]
    changed: list[Any]
    removed: list[int]

    def __bool__(self) -> bool:
        return bool(self.added or self.changed or self.removed)


@dataclass(frozen=True, slots=True)
class Delta:
    """A kind whose page updates carry only the rows that changed, not the whole board.

    ``diff`` compares the rows of two versions (the first may be None: a new board); the page
    then gets the board's header and summary (these macros) and the changed rows. Two versions
    whose rows differ only in order show the same thing (the page sorts them).
    """

    diff: Callable[[Any, Any], RowsDiff]
    header_macro: str
    summary_macro: str


@dataclass(frozen=True, slots=True)
class SyncTool:
    """The MCP tool that fetches boards of a kind, as ``issuebridge push`` calls it."""

    name: str
    count_field: str  # the result's field that counts the board's rows
    takes_state: bool = True  # it has a ``state`` argument (open, closed, all)


@dataclass(frozen=True, slots=True)
class BoardQuery(Generic[B]):
    """One board's GitHub query: what to fetch, and how the board is built from what came back."""

    kind: str
    repository: str
    key: str
    board_type: type[B]
    # Whether a stored board shows this very query, so that the validators of the fetch that
    # wrote it may confirm it unchanged.
    matches: Callable[[B], bool]
    fetch: Callable[[GitHubSource, Progress | None, Validators | None], Awaitable[Fetched[Any] | Unchanged]]
    # The board for what came back, under the repository's current name (GitHub may say it moved),
    # and the time it is complete as of (what webhook events are ordered against).
    build: Callable[[Fetched[Any], datetime], B]


def _nothing_derived(entry: Any) -> dict[str, Any]:
    return {}


def _no_query(entry: Any) -> None:
    return None


@dataclass(frozen=True, slots=True)
class Kind(Generic[E]):
    """Everything that differs between kinds of entry. Each kind's module declares one."""

    name: str  # its entries' ``kind`` field, and the prefix of their keys
    entry: type[E]
    label: str  # what the page's sync status calls it ("octo/app pull requests")
    title: str  # what a person calls one ("pull-request board")
    noun: str  # one of its rows ("pull request")
    json_group: str  # its list in the JSON snapshot (``initial_data``)
    json_event: str  # the JSON event that carries a new version of one
    template: str  # the template file with its macros
    macro: str  # the macro that renders one entry: the page, its live updates, the MCP Apps view
    read_back: Callable[[E], EntryView]  # what the assistant reads back of one (get_dashboard)
    derived: Callable[[E], dict[str, Any]] = field(default=_nothing_derived)  # computed fields, for JSON readers
    # The query that fetched a board, to fetch it again (background refresh); None for what has
    # no GitHub query behind it.
    github_query: Callable[[E], BoardQuery[Any] | None] = field(default=_no_query)
    # A repository's board, as a tool call with no options fetches it (``issuebridge push``).
    repository_query: Callable[[str, StateFilter], BoardQuery[Any]] | None = None
    sync_tool: SyncTool | None = None
    row_macro: str | None = None  # its rows are a table rendered once and kept: the macro for one row
    delta: Delta | None = None
    # One of the dashboard's entries (a board or panel on the page and in get_dashboard); False
    # for state kept beside them (the selection): pages get it as its ``json_event``, not a board.
    listed: bool = True
    # For a kind that shows rows of other boards (search views): the entry after a webhook's row
    # change (``records/tracked.RowChange``) written at a time, or None where it shows nothing of it.
    watches: Callable[[E, Any, datetime], E | None] | None = None
    # The GitHub rate limit its syncs draw on: "core", or "search" (GitHub's search has its own,
    # so a spent search limit need not hold up the other boards' refresh).
    quota: str = "core"
