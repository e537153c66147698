"""The one place where a sync becomes a stored board and an event on every open page."""

from __future__ import annotations

from typing import Any

from issuebridge.boards import Board, Issue, Source, StateFilter, now
from issuebridge.events import RETRY_MILLISECONDS, Event, EventHub, encode_event
from issuebridge.store import BoardStore


def board_payload(board: Board) -> dict[str, Any]:
    """A board as the JSON API and the event stream show it."""
    return {
        "repository": board.repository,
        "state": board.state,
        "source": board.source,
        "issues": [issue.model_dump(mode="json") for issue in board.issues],
        "last_updated": board.last_updated.isoformat().replace("+00:00", "Z"),
        "revision": board.revision,
        "truncated": board.truncated,
    }


class Dashboard:
    """Writes boards to the store, then announces them to subscribers.

    Tools and HTTP handlers call this, never the store or the hub directly, so that every
    write is announced exactly once and in revision order.
    """

    def __init__(self, store: BoardStore, hub: EventHub) -> None:
        self.store = store
        self.hub = hub

    async def sync_issues(
        self,
        repository: str,
        issues: list[Issue],
        *,
        state: StateFilter,
        source: Source,
        truncated: bool = False,
    ) -> Board:
        """Replace ``repository``'s board with ``issues`` and broadcast an ``issues_update``."""
        board = Board(
            repository=repository,
            state=state,
            source=source,
            issues=issues,
            last_updated=now(),
            truncated=truncated,
        )
        stored = await self.store.save(board)
        frame = encode_event("issues_update", board_payload(stored), stored.revision)
        self.hub.publish(Event(stored.revision, frame))
        return stored

    async def snapshot_event(self) -> tuple[int, bytes]:
        """The ``initial_data`` event a new subscriber starts with, and the revision it reflects."""
        revision = self.store.revision
        boards = [board_payload(board) for board in await self.store.boards()]
        frame = encode_event("initial_data", {"boards": boards}, revision, retry=RETRY_MILLISECONDS)
        return revision, frame
