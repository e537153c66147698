"""A board pushed through the JSON API (``POST /api/dashboard/sync-issues``), not fetched from GitHub."""

from __future__ import annotations

from issuebridge.dashboard.entries import Dashboard
from issuebridge.records.base import Source, StateFilter, now
from issuebridge.records.issues import Issue, IssuesBoard


async def push_issues(
    dashboard: Dashboard,
    repository: str,
    issues: list[Issue],
    *,
    state: StateFilter,
    source: Source,
    truncated: bool = False,
) -> IssuesBoard:
    """Replace ``repository``'s issues board with ``issues``."""
    at = now()
    board = IssuesBoard(
        repository=repository,
        state=state,
        source=source,
        issues=issues,
        last_updated=at,
        truncated=truncated,
        as_of=at,  # the pushed list is the board as of now: older webhook events cannot add to it
    )
    return await dashboard.put(board, synced=True)
