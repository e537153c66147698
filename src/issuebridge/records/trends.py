"""A board's trend: a short history of its syncs (when, how many rows, what opened and closed
since the sync before, per-label counts), kept with the board itself.

A point is added when a sync (a tool call, a background refresh, a push) writes a board whose
rows say something new: another count, items opened or closed, other label counts. A webhook's
change is not a sync: it builds on the stored board, whose trend it keeps as it is. The items
opened and closed are kept on the newest point only (the page filters its table to them); older
points keep their counts. Everything is bounded: ``MAX_POINTS`` points, ``MAX_LABELS`` labels
a point, ``MAX_ITEMS`` items named.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from issuebridge.records.base import Count, UtcDatetime

MAX_POINTS = 90
MAX_LABELS = 20
MAX_ITEMS = 1000
# How a search that keeps only open items reads: an item that left it was closed (or its labels
# changed; the search cannot tell, and "closed" is what a reader of "is:open" expects).
_OPEN_ONLY = ("is:open", "state:open")

ItemName = Annotated[str, StringConstraints(min_length=1, max_length=300)]


class SyncPoint(BaseModel):
    model_config = ConfigDict(frozen=True)

    at: UtcDatetime
    count: Count
    # None on a board's first sync: there was nothing to compare with.
    opened: Count | None = None
    closed: Count | None = None
    labels: Annotated[dict[ItemName, Count], Field(max_length=MAX_LABELS)] = {}
    # The newest point only: the items counted (numbers on a repository's board, owner/repo#N on a view).
    opened_items: Annotated[list[ItemName], Field(max_length=MAX_ITEMS)] = []
    closed_items: Annotated[list[ItemName], Field(max_length=MAX_ITEMS)] = []


Trend = Annotated[list[SyncPoint], Field(max_length=MAX_POINTS)]


def with_trend(previous: Any, board: Any, at: datetime) -> Any:
    """``board``, about to replace ``previous`` after a sync, with its trend: the one ``previous``
    kept, and a point for this sync if it says something the last point did not."""
    if not hasattr(board, "trend"):
        return board
    kept: list[SyncPoint] = list(previous.trend) if type(previous) is type(board) else []
    now = _states(board)
    labels = _label_counts(_rows(board))
    if type(previous) is type(board):
        before = _states(previous)
        opened = [item for item, is_open in now.items() if is_open and not before.get(item, False)]
        gone_closed = leaves_when_closed(board)
        closed = [
            item
            for item, was_open in before.items()
            if was_open and ((item in now and not now[item]) or (item not in now and gone_closed))
        ]
        point = SyncPoint(
            at=at,
            count=len(now),
            opened=len(opened),
            closed=len(closed),
            labels=labels,
            opened_items=opened[:MAX_ITEMS],
            closed_items=closed[:MAX_ITEMS],
        )
    else:
        point = SyncPoint(at=at, count=len(now), labels=labels)
    last = kept[-1] if kept else None
    if (
        last is not None
        and point.count == last.count
        and not point.opened
        and not point.closed
        and point.labels == last.labels
    ):
        trend = kept  # nothing a trend shows has moved
    else:
        older = [p.model_copy(update={"opened_items": [], "closed_items": []}) for p in kept]
        trend = [*older, point][-MAX_POINTS:]
    return board if trend == board.trend else board.model_copy(update={"trend": trend})


def _states(board: Any) -> dict[str, bool]:
    """Each row's name (what the page's rows are told apart by) and whether it is open."""
    return {str(getattr(row, "item", row.number)): row.state == "open" for row in _rows(board)}


def _rows(board: Any) -> list[Any]:
    rows: list[Any] = getattr(board, board.rows_field)
    return rows


def leaves_when_closed(board: Any) -> bool:
    """Whether an item that left ``board`` was closed: an open board, or a search for open items."""
    if getattr(board, "state", None) == "open":
        return True
    terms = str(getattr(board, "query", "")).lower().split()
    return any(term in terms for term in _OPEN_ONLY)


def _label_counts(rows: Iterable[Any]) -> dict[str, int]:
    counts = Counter(label.name for row in rows for label in row.labels)
    return dict(counts.most_common(MAX_LABELS))
