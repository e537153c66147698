"""The interface every board store implements."""

from __future__ import annotations

from typing import Protocol

from issuebridge.boards import Board


class StoreError(RuntimeError):
    """The store cannot be opened or written; the message says what to fix."""


class BoardStore(Protocol):
    """Boards keyed by repository (case-insensitively), each replaced whole by a save.

    ``revision`` grows by one with every save and survives restarts; it doubles as the id of
    the event that announces the save.
    """

    @property
    def revision(self) -> int: ...

    async def open(self) -> None: ...

    async def close(self) -> None: ...

    async def save(self, board: Board) -> Board:
        """Store ``board`` atomically (all or nothing) and return it with its new revision."""
        ...

    async def get(self, repository: str) -> Board | None: ...

    async def boards(self) -> list[Board]:
        """Every board, most recently saved first."""
        ...
