"""Boards of items GitHub sends webhook events about (issues, pull requests): applying a row's
change in order, and what a board remembers of items it no longer shows.

A change (from a webhook event) is applied only if it is not older, by the item's
``updated_at``, than what the board knows of that item: the row it shows, or else its
tombstone (the event that took it off: closed on an ``open`` board, deleted, transferred), or
else the time the board's list was taken (``as_of``: the start of the fetch that wrote it, or
the push; every item it does not show was not one it shows as of then). So a captured
"reopened" sent again after the close, a late "edited" after a deletion, or a redelivery from
before the last sync or push changes nothing. GitHub does not promise to deliver in order.

Tombstones live on the board record itself (``TrackedBoard.tombstones``), not in a note beside
it (``store.write_note``, which has no conditional write and is a second write to lose):

- they are written in the same atomic, conditional save as the row change they go with, so
  there is no moment, on any worker sharing Redis, at which an issue has left the board and its
  tombstone is not yet there, and two workers applying events to one board at once cannot lose
  each other's tombstones (the loser of the save builds again on the winner's board);
- they are kept wherever and as long as the board is: across restarts, on every worker.

The price: an event about an item the board does not show, newer than what it knows, is a write
of the whole board (a new revision) that shows nothing new.

The API, the events and the tools leave them out (``BOOKKEEPING_FIELDS``). A board that replaces
another (a sync, a refresh, a push) keeps the tombstones of the one it replaces (:func:`carry`),
except those its own rows make redundant. At most ``TOMBSTONES_PER_BOARD`` are kept, the newest.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Generic, TypeVar, overload

from pydantic import Field
from pydantic.dataclasses import dataclass as pydantic_dataclass

from issuebridge.records.base import ROW, DatedRow, RepositoryBoard, StateFilter, UtcDatetime, with_fields
from issuebridge.records.kind import RowsDiff
from issuebridge.records.trends import Trend

# How many items that left it one board remembers: a few dozen kilobytes.
TOMBSTONES_PER_BOARD = 1000
# What the store keeps of an entry but nobody is shown: the API, the events and the tools leave it
# out (``appeared`` orders the page's entries: ``records/base.py``).
BOOKKEEPING_FIELDS = frozenset({"tombstones", "as_of", "appeared"})


@pydantic_dataclass(frozen=True, slots=True, config=ROW)
class Tombstone:
    """An item a board no longer shows (closed on an ``open`` board, deleted, transferred), as of
    the ``updated_at`` of the event that said so; ``left_repository`` if it can never come back."""

    number: Annotated[int, Field(ge=1)]
    updated_at: UtcDatetime
    left_repository: bool = False


class TrackedBoard(RepositoryBoard):
    """A board of items GitHub sends webhook events about, with what it needs to apply them in
    order and never move backwards."""

    # The field that holds the rows; each kind names its own (``issues``, ``pulls``).
    rows_field: ClassVar[str]

    if TYPE_CHECKING:  # declared by each kind among its own fields, as ``kind`` is (the JSON keeps its order)
        state: StateFilter
    tombstones: Annotated[list[Tombstone], Field(max_length=TOMBSTONES_PER_BOARD)] = []
    # When its list was taken: the start of the fetch that wrote it, or the push. Every item the
    # board does not show was, as of then, not one it shows.
    as_of: UtcDatetime | None = None
    trend: Trend = []  # records/trends.py: a point per sync that moved something

    @property
    def rows(self) -> Sequence[Any]:
        rows: Sequence[Any] = getattr(self, self.rows_field)
        return rows


def tombstone_of(board: TrackedBoard, number: int) -> Tombstone | None:
    """The tombstone of item ``number`` on ``board``, if it has one."""
    return next((stone for stone in board.tombstones if stone.number == number), None)


def with_tombstone(stones: list[Tombstone], stone: Tombstone) -> list[Tombstone]:
    """``stones`` with ``stone`` in place of any older one of the same item."""
    return _newest([stone, *stones])


E = TypeVar("E")


def carry(previous: object, entry: E) -> E:
    """``entry``, about to replace ``previous`` under the same key, with the tombstones of both.

    A tombstone is dropped once ``entry`` shows that item with a row at least as new (or at all,
    for an item that left the repository: only a fetch or a push can show it again, and that is newer).
    """
    if not isinstance(entry, TrackedBoard) or type(previous) is not type(entry):
        return entry
    assert isinstance(previous, TrackedBoard)
    if not previous.tombstones and not entry.tombstones:
        return entry
    shown = {row.number: row.updated_at for row in entry.rows}
    both = (*entry.tombstones, *previous.tombstones)
    stones = _newest(stone for stone in both if not _superseded(stone, shown))
    if stones == entry.tombstones:
        return entry
    return entry.model_copy(update={"tombstones": stones})


def _superseded(stone: Tombstone, shown: dict[int, datetime | None]) -> bool:
    if stone.number not in shown:
        return False
    updated_at = shown[stone.number]
    return stone.left_repository or (updated_at is not None and updated_at >= stone.updated_at)


def _newest(stones: Iterable[Tombstone]) -> list[Tombstone]:
    """One tombstone per item (one that left the repository, else the newest), newest first, at
    most ``TOMBSTONES_PER_BOARD``."""
    best: dict[int, Tombstone] = {}
    for stone in stones:
        known = best.get(stone.number)
        if known is None or (stone.left_repository, stone.updated_at) > (known.left_repository, known.updated_at):
            best[stone.number] = stone
    return sorted(best.values(), key=lambda stone: stone.updated_at, reverse=True)[:TOMBSTONES_PER_BOARD]


@dataclass(frozen=True, slots=True)
class RowChange:
    """One issue or pull request as an event left it: the GitHub event and action that said so,
    and the board (``key``, of ``kind``) the row belongs on."""

    event: str
    action: str
    kind: str
    key: str
    repository: str
    number: int
    updated_at: datetime
    row: Any  # the kind's row (an ``Issue``, a ``PullRequest``); None: the payload carries only part of it

    fields: Mapping[str, Any]  # the row's fields the payload carries, validated
    leaves_repository: bool = False  # deleted or transferred


B = TypeVar("B", bound=TrackedBoard)


@dataclass(frozen=True, slots=True)
class After(Generic[B]):
    """A board after a change, and what the change did to it."""

    board: B  # the board itself if nothing changed
    shown: bool  # whether what the board shows changed (else at most what it remembers)
    message: str


@overload
def board_after(board: B, change: RowChange, at: datetime) -> After[B] | None: ...


@overload
def board_after(board: object, change: RowChange, at: datetime) -> After[Any] | None: ...


def board_after(board: object, change: RowChange, at: datetime) -> After[Any] | None:
    """The board ``board`` (stored under ``change.key``) after ``change``, written at ``at``; None
    if there is no board of the change's kind."""
    if not isinstance(board, TrackedBoard) or board.kind != change.kind:
        return None
    rows = list(board.rows)
    number = change.number
    index = next((i for i, existing in enumerate(rows) if existing.number == number), -1)
    current = rows[index] if index >= 0 else None
    why_not = _older_than_known(board, current, change)
    if why_not is not None:
        return After(board, False, f"ignored: {why_not}; nothing changed")
    row: Any
    if change.leaves_repository:
        row = None
    elif current is not None:
        row = with_fields(current, dict(change.fields))  # all of them, unless the payload is partial
    elif change.row is not None:
        row = change.row
    else:
        message = f"ignored: the payload carries only part of #{number}, which the board does not show"
        return After(board, False, message)
    name = board.rows_field
    if row is not None and board.state in ("all", row.state):
        if current == row:
            return After(board, False, "the board already showed this")
        if current is None:
            rows.insert(0, row)  # the newest change first, where a fetch (most recently updated first) puts it
        else:
            rows[index] = row
        return After(board.model_copy(update={name: rows, "last_updated": at}), True, "the board was updated")
    # Off the board after this event: remember when, so that no older event brings it back.
    stone = Tombstone(number=number, updated_at=change.updated_at, left_repository=change.leaves_repository)
    stones = with_tombstone(board.tombstones, stone)
    if current is not None:
        del rows[index]
        after = board.model_copy(update={name: rows, "tombstones": stones, "last_updated": at})
        return After(after, True, "the board was updated")
    if stones == board.tombstones:
        return After(board, False, "the board already showed this")
    remembered = f"the board does not show #{number}; remembered, so that no older event can put it on the board"
    return After(board.model_copy(update={"tombstones": stones}), False, remembered)


def _older_than_known(board: TrackedBoard, current: DatedRow | None, change: RowChange) -> str | None:
    """Why ``change`` is older than what ``board`` knows of its item, or None if it is not.

    Not older means at least as new: GitHub's times have one-second resolution, and of two
    events in the same second the later delivery wins, as when they arrived in order.
    """
    when, number = change.updated_at, change.number
    stone = tombstone_of(board, number)
    if stone is not None and stone.left_repository:
        return f"#{number} left the repository"
    if current is not None and current.updated_at is not None and when < current.updated_at:
        return f"older than the row the board shows (updated {current.updated_at.isoformat()})"
    if stone is not None and when < stone.updated_at:
        return f"older than the event that took #{number} off the board (updated {stone.updated_at.isoformat()})"
    # To the second, as GitHub's times are: a change in the second the list was taken may be after it.
    if current is None and board.as_of is not None and when < board.as_of.replace(microsecond=0):
        return "older than the list the board shows (its fetch or push), which accounted for it"
    return None


def diff_rows(previous: TrackedBoard | None, board: TrackedBoard) -> RowsDiff:
    """Added, changed and removed rows, by number, between two versions of a board (``previous``
    None: a new board, every row added). Rows that differ only in order are the same rows."""
    before = {row.number: row for row in (previous.rows if previous is not None else ())}
    after = {row.number: row for row in board.rows}
    return RowsDiff(
        added=[row for number, row in after.items() if number not in before],
        changed=[row for number, row in after.items() if number in before and before[number] != row],
        removed=[number for number in before if number not in after],
    )
