"""What a board remembers of items it no longer shows, so that no older event can bring them back.

A webhook event is applied only if it is not older (by the item's ``updated_at``) than what the
board knows of that item: the row it shows, or else its tombstone (the event that took it off:
closed on an ``open`` board, deleted, transferred), or else the time the board's list was taken
(``as_of``: the start of the fetch that wrote it, or the push; every item it does not show was not
one it shows as of then). So a captured "reopened" sent again after the close, a late "edited"
after a deletion, or a redelivery from before the last sync or push changes nothing.

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

from collections.abc import Iterable
from datetime import datetime
from typing import TypeVar

from issuebridge.boards import TOMBSTONES_PER_BOARD, Tombstone, TrackedBoard
from issuebridge.entries import AnyEntry

E = TypeVar("E")


def tombstone_of(board: TrackedBoard, number: int) -> Tombstone | None:
    """The tombstone of item ``number`` on ``board``, if it has one."""
    return next((stone for stone in board.tombstones if stone.number == number), None)


def with_tombstone(stones: list[Tombstone], stone: Tombstone) -> list[Tombstone]:
    """``stones`` with ``stone`` in place of any older one of the same item."""
    return _newest([stone, *stones])


def carry(previous: AnyEntry | None, entry: E) -> E:
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
