"""The interface every dashboard store implements."""

from __future__ import annotations

from typing import Protocol

from issuebridge.entries import AnyEntry


class StoreError(RuntimeError):
    """The store cannot be opened or written; the message says what to fix."""


class DashboardStore(Protocol):
    """Entries (boards and panels) by key, each replaced whole by a save.

    ``revision`` grows by one with every change (save, remove, clear) and survives restarts;
    it doubles as the id of the event that announces the change.
    """

    @property
    def revision(self) -> int: ...

    async def open(self) -> None: ...

    async def close(self) -> None: ...

    async def save(self, entry: AnyEntry) -> AnyEntry:
        """Store ``entry`` atomically (all or nothing) and return it with its new revision."""
        ...

    async def get(self, key: str) -> AnyEntry | None: ...

    async def entries(self) -> list[AnyEntry]:
        """Every entry, most recently saved first."""
        ...

    async def remove(self, key: str) -> int | None:
        """Remove one entry; the revision of the removal, or None if there was no such entry."""
        ...

    async def clear(self) -> int:
        """Remove every entry; the revision of the clearing."""
        ...

    async def claim(self, name: str, ttl_seconds: float) -> bool:
        """True the first time ``name`` is claimed within ``ttl_seconds``, False while that claim holds.

        Shared by every worker using the store, and kept across restarts where the store is, so
        that work named ``name`` (a webhook delivery, a board's refresh for one interval) runs once.
        """
        ...

    async def release(self, name: str) -> None:
        """Drop the claim on ``name`` (if any): its work failed, and the next claim may retry it."""
        ...
