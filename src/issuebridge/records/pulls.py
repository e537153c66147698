"""Pull-request boards: one repository's pull requests, with what needs a person's attention."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field, StringConstraints

from issuebridge.records.base import (
    ItemNumber,
    Label,
    Record,
    ShortText,
    StateFilter,
    UtcDatetime,
    WebUrl,
    now,
    repository_key,
    sorted_for_display,
)
from issuebridge.records.bodies import Body
from issuebridge.records.kind import MAX_ROWS, BoardQuery, Delta, EntryView, Kind, RowView, SyncTool, entry_view
from issuebridge.records.tracked import TrackedBoard, diff_rows

ATTENTION_OLDEST = 5


class PullRequest(Record):
    number: ItemNumber
    title: Annotated[str, StringConstraints(max_length=1024)]
    state: Literal["open", "closed"]
    draft: bool = False
    merged: bool = False
    author: ShortText | None = None
    labels: Annotated[list[Label], Field(max_length=100)] = []
    assignees: Annotated[list[ShortText], Field(max_length=100)] = []
    requested_reviewers: Annotated[list[ShortText], Field(max_length=100)] = []
    # Team slugs (CODEOWNERS asks teams): a pending request as much as a person's.
    requested_teams: Annotated[list[ShortText], Field(max_length=100)] = []
    # Whether anyone has reviewed it: GitHub's pulls list does not say (a reviewer leaves
    # ``requested_reviewers`` once they review), so the fetch asks the search (``client.py``).
    # None: not known (a pushed board, a search that failed or stopped short).
    reviewed: bool | None = None
    head: Annotated[str, StringConstraints(max_length=256)] = ""
    base: Annotated[str, StringConstraints(max_length=256)] = ""
    created_at: UtcDatetime | None = None
    updated_at: UtcDatetime | None = None
    html_url: WebUrl | None = None
    body: Body | None = None  # records/bodies.py: None where not known
    body_trimmed: bool = False


class PullsBoard(TrackedBoard):
    """One repository's pull requests, with what needs a person's attention."""

    rows_field: ClassVar[str] = "pulls"

    kind: Literal["pulls"] = "pulls"
    state: StateFilter
    pulls: list[PullRequest]

    @property
    def drafts(self) -> list[PullRequest]:
        return [p for p in self.pulls if p.draft and p.state == "open"]

    @property
    def waiting_for_review(self) -> list[PullRequest]:
        """Open, ready, not known to be reviewed, and no person or team asked to review them:
        nobody will look at them unless someone acts."""
        return [p for p in self.pulls if awaits_review(p)]

    @property
    def review_unknown(self) -> list[PullRequest]:
        """Those of :attr:`waiting_for_review` whose reviews are not known: they may have one."""
        return [p for p in self.waiting_for_review if p.reviewed is None]

    @property
    def oldest_open(self) -> list[PullRequest]:
        dated = [p for p in self.pulls if p.state == "open" and p.created_at is not None]
        return sorted(dated, key=lambda p: (p.created_at, p.number))[:ATTENTION_OLDEST]


def awaits_review(pull: PullRequest) -> bool:
    """Open, not a draft, no pending user or team request, and no review known."""
    return (
        pull.state == "open"
        and not pull.draft
        and not pull.requested_reviewers
        and not pull.requested_teams
        and pull.reviewed is not True
    )


def pulls_key(repository: str) -> str:
    return repository_key("pulls", repository)


def derived(board: PullsBoard) -> dict[str, Any]:
    return {
        "attention": {
            "drafts": [p.number for p in board.drafts],
            "waiting_for_review": [p.number for p in board.waiting_for_review],
            "review_unknown": [p.number for p in board.review_unknown],
            "oldest_open": [p.number for p in board.oldest_open],
        }
    }


def read_back(board: PullsBoard) -> EntryView:
    pulls = sorted_for_display(board.pulls)
    return entry_view(
        board,
        title=f"{board.repository} pull requests ({board.state})",
        count=len(pulls),
        summary=(
            f"{len(pulls)} pull requests; {len(board.drafts)} drafts; "
            f"{len(board.waiting_for_review)} waiting for review"
        ),
        rows=[
            RowView(
                position=n,
                number=p.number,
                title=p.title,
                state="draft" if p.draft else ("merged" if p.merged else p.state),
                labels=[lb.name for lb in p.labels],
                url=p.html_url,
            )
            for n, p in enumerate(pulls[:MAX_ROWS], start=1)
        ],
    )


def pulls_query(repository: str, state: StateFilter) -> BoardQuery[PullsBoard]:
    owner, repo = repository.split("/")
    return BoardQuery(
        "pulls",
        repository,
        pulls_key(repository),
        PullsBoard,
        lambda board: board.state == state,
        lambda github, progress, known: github.list_pulls(owner, repo, state, progress, known),
        lambda fetched, as_of: PullsBoard(
            repository=fetched.renamed_to or repository,
            state=state,
            pulls=fetched.items,
            source="mcp",
            last_updated=now(),
            truncated=fetched.truncated,
            as_of=as_of,
            unreadable=fetched.unreadable,
        ),
    )


def _query_of(board: PullsBoard) -> BoardQuery[Any] | None:
    return pulls_query(board.repository, board.state) if board.source == "mcp" else None


KIND = Kind(
    name="pulls",
    entry=PullsBoard,
    label="pull requests",
    title="pull-request board",
    noun="pull request",
    json_group="pull_boards",
    json_event="board_update",
    template="_pulls.html",
    macro="pulls_section",
    read_back=read_back,
    derived=derived,
    github_query=_query_of,
    repository_query=pulls_query,
    sync_tool=SyncTool("send_pull_requests_to_dashboard", "pull_request_count"),
    row_macro="pull_row",
    # A re-sync sends the header, the attention cards and the changed rows, as for issues.
    delta=Delta(diff_rows, header_macro="pulls_header", summary_macro="pulls_attention"),
)
