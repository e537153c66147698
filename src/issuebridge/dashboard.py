"""The one place where a sync becomes a stored board and an event on every open page."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any, NamedTuple, Protocol

from issuebridge.boards import Board, Issue, IssuesDiff, Source, StateFilter, diff_issues, now
from issuebridge.events import Event, EventHub, encode_event
from issuebridge.store import BoardStore


class BoardChange(NamedTuple):
    """One sync as a wire format sees it: the board as stored, what it replaced, and the difference."""

    board: Board
    previous: Board | None
    diff: IssuesDiff


class WireFormat(Protocol):
    """How events look on one kind of stream. Each change is encoded once per format."""

    def change(self, change: BoardChange) -> bytes: ...

    def snapshot(self, boards: list[Board], revision: int) -> bytes: ...


def board_payload(board: Board) -> dict[str, Any]:
    """A board as the JSON API and the JSON event stream show it."""
    return {
        "repository": board.repository,
        "state": board.state,
        "source": board.source,
        "issues": [issue.model_dump(mode="json") for issue in board.issues],
        "last_updated": board.last_updated.isoformat().replace("+00:00", "Z"),
        "revision": board.revision,
        "truncated": board.truncated,
    }


class JsonFormat:
    """The documented JSON events: ``initial_data`` with every board, ``issues_update`` with a whole board."""

    def change(self, change: BoardChange) -> bytes:
        return encode_event("issues_update", board_payload(change.board), change.board.revision)

    def snapshot(self, boards: list[Board], revision: int) -> bytes:
        return encode_event("initial_data", {"boards": [board_payload(board) for board in boards]}, revision)


class Dashboard:
    """Writes boards to the store, then announces them to subscribers.

    Tools and HTTP handlers call this, never the store or the hub directly, so that every write
    is announced exactly once, in revision order, with its difference from the board it replaced.
    """

    def __init__(self, store: BoardStore, hub: EventHub, formats: Mapping[str, WireFormat]) -> None:
        self.store = store
        self.hub = hub
        self.formats = formats
        self._write_lock = asyncio.Lock()

    async def sync_issues(
        self,
        repository: str,
        issues: list[Issue],
        *,
        state: StateFilter,
        source: Source,
        truncated: bool = False,
    ) -> Board:
        """Replace ``repository``'s board with ``issues`` and broadcast the change."""
        board = Board(
            repository=repository,
            state=state,
            source=source,
            issues=issues,
            last_updated=now(),
            truncated=truncated,
        )
        async with self._write_lock:  # the diff must be against the revision this one replaces
            previous = await self.store.get(repository)
            stored = await self.store.save(board)
            change = BoardChange(
                stored, previous, diff_issues(previous.issues if previous else [], stored.issues)
            )
            frames = {name: wire.change(change) for name, wire in self.formats.items()}
            self.hub.publish(Event(stored.revision, frames))
        return stored

    async def catch_up(self, wire_format: str, last_event_id: int | None) -> tuple[int, list[bytes]]:
        """What a (re)connecting subscriber needs first, and the revision it brings it to.

        The events it missed if the hub still holds them all, otherwise a snapshot of every board.
        """
        revision = self.store.revision
        missed = None if last_event_id is None else self.hub.missed_since(last_event_id, revision)
        if missed is not None:
            return revision, [event.frames[wire_format] for event in missed]
        boards = await self.store.boards()
        return revision, [self.formats[wire_format].snapshot(boards, revision)]
