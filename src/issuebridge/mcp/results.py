"""What the MCP tools answer: their structured results (each becomes the tool's output schema)
and the sentences that go with them."""

from __future__ import annotations

from typing import Any

from mcp_types import CallToolResult, TextContent
from pydantic import BaseModel, Field

from issuebridge.dashboard.sync import Synced
from issuebridge.records.base import Entry, StateFilter, iso_utc

CHANGED = "False if GitHub had nothing new: the board was left as it was and the page only told so."
TRUNCATED = (
    "True if the sync stopped at the server's limit (ISSUEBRIDGE_MAX_ITEMS items from GitHub) with more to come."
)
UNREADABLE = "Items GitHub sent in a shape that could not be read, left out of the board."
RENAMED_FROM = "The name asked for, if GitHub said the repository was renamed: the board moved to the new name."


class SyncResult(BaseModel):
    """What every sync's result says besides its board's own figures (see :func:`sync_outcome`)."""

    truncated: bool = Field(description=TRUNCATED)
    changed: bool = Field(description=CHANGED)
    dashboard_url: str = Field(description="Where the user sees the board.")
    last_updated: str = Field(description="When the board last changed (ISO 8601, UTC).")
    unreadable: int = Field(0, description=UNREADABLE)
    renamed_from: str | None = Field(None, description=RENAMED_FROM)


def sync_outcome(synced: Synced[Any], dashboard_url: str) -> dict[str, Any]:
    """:class:`SyncResult`'s fields for ``synced``, for a result model's constructor."""
    board = synced.board
    return {
        "truncated": board.truncated,
        "changed": synced.changed,
        "dashboard_url": dashboard_url,
        "last_updated": iso_utc(board.last_updated),
        "unreadable": synced.unreadable,
        "renamed_from": synced.renamed_from,
    }


class IssuesSyncResult(SyncResult):
    """What an issues sync put on the dashboard."""

    board_id: str = Field(description="The board's id, for remove_from_dashboard.")
    repository: str = Field(description="The repository as owner/repo.")
    state: StateFilter = Field(description="Which issues the board shows: open, closed or all.")
    issue_count: int = Field(description="How many issues the board now shows.")
    pull_requests_skipped: int = Field(description="Pull requests GitHub listed among the issues, left out.")


class PullsSyncResult(SyncResult):
    """What a pull-request sync put on the dashboard, and what needs attention."""

    board_id: str
    repository: str
    state: StateFilter
    pull_request_count: int
    drafts: list[int] = Field(description="Numbers of open draft pull requests.")
    waiting_for_review: list[int] = Field(
        description="Open, ready pull requests with no review yet and no pending request to a person or team."
    )
    review_unknown: list[int] = Field(
        [],
        description="Those of waiting_for_review whose reviews GitHub's search could not tell (they may have one).",
    )
    oldest_open: list[int] = Field(description="The oldest open pull requests, oldest first.")


class AuthorCount(BaseModel):
    author: str
    commits: int


class CommitsSyncResult(SyncResult):
    """What a commit summary put on the dashboard."""

    board_id: str
    repository: str
    branch: str | None = Field(description="The branch, or null for the default branch.")
    since: str
    until: str | None
    commit_count: int
    active_days: int = Field(description="Days with at least one commit.")
    top_authors: list[AuthorCount]


class ViewSyncResult(SyncResult):
    """What a search put on the dashboard, as a view."""

    board_id: str = Field(description="The view's id (view:...), for remove_from_dashboard; the same query keeps it.")
    query: str = Field(description="The GitHub search, as sent (spaces tidied).")
    title: str
    total_count: int = Field(description="How many results GitHub reported (both searches, when split).")
    item_count: int = Field(description="How many rows the view shows (at most 1,000 per search).")
    issue_count: int
    pull_request_count: int


class PublishResult(BaseModel):
    panel_id: str = Field(description="Pass this panel_id again to update the panel in place.")
    created: bool = Field(description="True if a new panel was made, false if one was updated.")
    dashboard_url: str
    last_updated: str


class RemoveResult(BaseModel):
    id: str
    removed: bool = Field(description="False if nothing on the dashboard had that id.")


class ClearResult(BaseModel):
    removed_count: int


def notes(synced: Synced[Any], max_items: int) -> str:
    """What a result's text adds about the sync: a rename followed, a limit reached, items left out."""
    board = synced.board
    said = []
    if synced.renamed_from:
        said.append(f"{synced.renamed_from} is now {board.repository} on GitHub; the board moved with it")
    if board.truncated:
        said.append(f"stopped at the server's limit, ISSUEBRIDGE_MAX_ITEMS={max_items}; GitHub lists more")
    if synced.unreadable:
        were = "was" if synced.unreadable == 1 else "were"
        said.append(f"{count(synced.unreadable, 'item')} GitHub sent could not be read and {were} left out")
    return f" ({'; '.join(said)})" if said else ""


def unchanged_text(shown: str, board: Entry) -> str:
    return f"No change on GitHub since {iso_utc(board.last_updated)}: the dashboard already shows {shown}: "


def count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def result(text: str, structured: BaseModel) -> CallToolResult:
    return CallToolResult(
        content=[TextContent(type="text", text=text)], structured_content=structured.model_dump(mode="json")
    )
