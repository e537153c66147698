"""Search views: a board defined by a GitHub issue search, across repositories.

A view shows issues and pull requests together, each row with its repository, in GitHub's order
(or the query's ``sort:``; two searches merged newest first, see :func:`searches`). It belongs to
no repository, so the page gives it a group of its own. It is keyed by its normalised query
(:func:`normalise`): the same search again replaces it, another search adds another view.

A webhook event about an item a view shows updates that row (:func:`view_after`); which items
a view shows changes only with the next fetch, as only GitHub's search can say that.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal

from pydantic import Field, StringConstraints
from pydantic.dataclasses import dataclass as pydantic_dataclass

from issuebridge.errors import InvalidInput
from issuebridge.records.base import (
    ROW,
    Count,
    Entry,
    IssueState,
    ItemNumber,
    Label,
    RepositoryName,
    ShortText,
    UtcDatetime,
    WebUrl,
    now,
    with_fields,
)
from issuebridge.records.bodies import Body
from issuebridge.records.kind import MAX_ROWS, BoardQuery, EntryView, Kind, RowView, entry_view
from issuebridge.records.trends import Trend

if TYPE_CHECKING:
    from issuebridge.records.tracked import RowChange

MAX_QUERY = 256  # GitHub refuses longer search queries
SEARCH_CAP = 1000  # GitHub's search gives at most this many results per search
MAX_VIEW_ROWS = 2 * SEARCH_CAP  # two searches (issues, pull requests) merged
# Terms that say which kind of item a search finds; a query without one is run as two searches.
TYPED = re.compile(r"-?(?:is|type):(?:issue|pr|pull-request)", re.IGNORECASE)
ME = re.compile(r"-?[a-z-]+:@me", re.IGNORECASE)
SORT = re.compile(r"sort:(created|updated|comments|reactions|interactions)(?:-(asc|desc))?", re.IGNORECASE)
_OPERATORS = re.compile(r"AND|OR|NOT|\(.*|.*\)")
_TOKEN = re.compile(r'(?:[^\s"]+|"[^"]*"?)+')


class InvalidQuery(InvalidInput):
    """A search query that cannot be sent to GitHub; the message says why."""


@pydantic_dataclass(frozen=True, slots=True, config=ROW)
class ViewItem:
    """One row of a view: an issue or a pull request, and the repository it is in."""

    repository: RepositoryName
    number: ItemNumber
    title: Annotated[str, StringConstraints(max_length=1024)]
    state: IssueState
    pull_request: bool = False
    draft: bool = False
    merged: bool = False
    labels: Annotated[list[Label], Field(max_length=100)] = field(default_factory=list)
    author: ShortText | None = None
    assignees: Annotated[list[ShortText], Field(max_length=100)] = field(default_factory=list)
    comments: Count = 0
    created_at: UtcDatetime | None = None
    updated_at: UtcDatetime | None = None
    closed_at: UtcDatetime | None = None
    html_url: WebUrl | None = None
    body: Body | None = None
    body_trimmed: bool = False

    @property
    def item(self) -> str:
        """``owner/repo#N``: what names the item wherever it is shown."""
        return f"{self.repository}#{self.number}"

    @property
    def shown_state(self) -> str:
        return "merged" if self.merged else ("draft" if self.draft and self.state == "open" else self.state)


class View(Entry):
    """The results of one GitHub issue search, as last fetched."""

    rows_field: ClassVar[str] = "items"

    kind: Literal["view"] = "view"
    query: Annotated[str, StringConstraints(min_length=1, max_length=MAX_QUERY)]
    title: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    total_count: Count = 0  # what GitHub reported (the sum of both searches when split)
    items: Annotated[list[ViewItem], Field(max_length=MAX_VIEW_ROWS)]
    truncated: bool = False  # GitHub had more than the view shows (its 1,000 cap, or the item limit)
    unreadable: Annotated[int, Field(ge=0)] = 0
    as_of: UtcDatetime | None = None
    trend: Trend = []  # records/trends.py: a point per sync that moved something

    @property
    def key(self) -> str:
        return view_key(self.query)

    @property
    def related_repository(self) -> str | None:
        return None

    @property
    def issue_count(self) -> int:
        return sum(not item.pull_request for item in self.items)

    @property
    def pull_request_count(self) -> int:
        return sum(item.pull_request for item in self.items)

    @property
    def repositories(self) -> list[str]:
        return sorted({item.repository for item in self.items}, key=str.lower)


def tokens(query: str) -> list[str]:
    """The query's terms: split on spaces outside double quotes (``label:"good first issue"``)."""
    return _TOKEN.findall(query)


def clean(query: str) -> str:
    """The query as given, its terms separated by single spaces; :class:`InvalidQuery` if it is
    empty, too long for GitHub, or holds control characters."""
    if any(ord(char) < 32 or ord(char) == 127 for char in query.replace("\t", " ")):
        raise InvalidQuery("the search query must not contain control characters")
    cleaned = " ".join(tokens(query))
    if not cleaned:
        raise InvalidQuery("the search query is empty: give GitHub search terms, e.g. 'is:open label:bug repo:o/r'")
    if len(cleaned) > MAX_QUERY:
        raise InvalidQuery(f"the search query is {len(cleaned)} characters; GitHub takes at most {MAX_QUERY}")
    return cleaned


def normalise(query: str) -> str:
    """What makes two queries the same view: case and the order of terms do not matter to
    GitHub's search (terms are ANDed), unless the query uses AND, OR, NOT or parentheses."""
    terms = [term.lower() for term in tokens(clean(query))]
    if any(_OPERATORS.fullmatch(term) for term in tokens(clean(query))):
        return " ".join(terms)
    return " ".join(sorted(terms))


def view_key(query: str) -> str:
    """``view:<16 hex digits>``: a key that fits in an id attribute whatever the query holds."""
    return "view:" + hashlib.sha256(normalise(query).encode()).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class Search:
    """One request's worth of query: ``q`` and the sort GitHub's ``sort``/``order`` parameters take."""

    q: str
    sort: str | None = None
    order: str | None = None


def uses_me(query: str) -> bool:
    """Whether a qualifier's value is ``@me``, which only a token can stand for."""
    return any(ME.fullmatch(term) for term in tokens(query))


def searches(query: str) -> list[Search]:
    """The searches a view runs: the query itself if it says issues or pull requests, else both,
    one for each (GitHub's search asks for one). A ``sort:`` term becomes the request's sort."""
    terms = tokens(clean(query))
    sort = order = None
    kept = []
    for term in terms:
        match = SORT.fullmatch(term)
        if match is not None:
            sort, order = match[1].lower(), (match[2] or "desc").lower()
        else:
            kept.append(term)
    q = " ".join(kept)
    if any(TYPED.fullmatch(term) for term in kept):
        return [Search(q, sort, order)]
    return [Search(f"{q} is:issue".strip(), sort, order), Search(f"{q} is:pr".strip(), sort, order)]


def merged(parts: list[list[ViewItem]], search: Search) -> list[ViewItem]:
    """Rows of two searches as one list: by the query's sort, else newest (created) first."""
    if len(parts) == 1:
        return parts[0]
    rows = [row for part in parts for row in part]
    key = {"updated": "updated_at", "comments": "comments"}.get(search.sort or "", "created_at")
    if key == "comments":
        return sorted(rows, key=lambda row: (row.comments, row.number), reverse=search.order != "asc")
    epoch = datetime.min.replace(tzinfo=now().tzinfo)
    return sorted(rows, key=lambda row: (getattr(row, key) or epoch, row.number), reverse=search.order != "asc")


def view_after(view: View, change: RowChange, at: datetime) -> View | None:
    """``view`` with the row of ``change``'s item updated, if it shows that item and the change is
    not older than its row; None if nothing changes. A change never adds or removes a row."""
    repository = change.repository.lower()
    for index, row in enumerate(view.items):
        if row.number != change.number or row.repository.lower() != repository:
            continue
        if row.updated_at is not None and change.updated_at < row.updated_at:
            return None
        fields = {name: value for name, value in change.fields.items() if name in VIEW_ITEM_FIELDS}
        if "state" in fields and fields["state"] == "open":
            fields["closed_at"] = None
        updated = with_fields(row, fields)
        if updated == row:
            return None
        items = list(view.items)
        items[index] = updated
        return view.model_copy(update={"items": items, "last_updated": at})
    return None


VIEW_ITEM_FIELDS = frozenset(ViewItem.__dataclass_fields__) - {"repository", "number", "pull_request"}


def read_back(view: View) -> EntryView:
    return entry_view(
        view,
        title=view.title,
        count=len(view.items),
        summary=(
            f"search {view.query!r}: {len(view.items)} shown of {view.total_count} GitHub found; "
            f"{view.issue_count} issues, {view.pull_request_count} pull requests"
        ),
        rows=[
            RowView(
                position=n,
                number=item.number,
                title=item.title,
                state=item.shown_state,
                labels=[label.name for label in item.labels],
                url=item.html_url,
                note=item.item,
            )
            for n, item in enumerate(view.items[:MAX_ROWS], start=1)
        ],
    )


def derived(view: View) -> dict[str, Any]:
    return {
        "issue_count": view.issue_count,
        "pull_request_count": view.pull_request_count,
        "repositories": view.repositories,
    }


def view_query(query: str, title: str | None = None) -> BoardQuery[View]:
    """The fetch of the view for ``query`` (checked: :class:`InvalidQuery`), named ``title``."""
    given = clean(query)
    shown = " ".join(title.split()) if title and title.strip() else given
    return BoardQuery(
        "view",
        shown,
        view_key(given),
        View,
        lambda view: normalise(view.query) == normalise(given),
        lambda github, progress, known: github.search_issues(given, progress, known),
        lambda fetched, as_of: View(
            query=given,
            title=shown,
            total_count=getattr(fetched, "total_count", len(fetched.items)),
            items=fetched.items,
            source="mcp",
            last_updated=now(),
            truncated=fetched.truncated,
            unreadable=fetched.unreadable,
            as_of=as_of,
        ),
    )


def _query_of(view: View) -> BoardQuery[Any] | None:
    return view_query(view.query, view.title) if view.source == "mcp" else None


KIND = Kind(
    name="view",
    entry=View,
    label="search results",
    title="search view",
    noun="result",
    json_group="views",
    json_event="view_update",
    template="_views.html",
    macro="view_section",
    read_back=read_back,
    derived=derived,
    github_query=_query_of,
    watches=view_after,
    quota="search",
)
