"""The copy of the entries every store keeps in this process: in save order, with its revision and its listener."""

from __future__ import annotations

from issuebridge.records.registry import AnyEntry
from issuebridge.store.base import ChangeListener, Cleared, Saved, StoreChange


class LocalCopy:
    """The copy every read is served from. The stores differ only in how changes reach it: SQLite
    from its own writes, Redis from the change log that every process follows."""

    def __init__(self) -> None:
        self._entries: dict[str, AnyEntry] = {}  # in save order: re-inserting moves a key to the end
        self._revision = 0
        self._listener: ChangeListener | None = None

    @property
    def revision(self) -> int:
        return self._revision

    def follow(self, listener: ChangeListener) -> None:
        self._listener = listener

    async def get(self, key: str) -> AnyEntry | None:
        return self._entries.get(key)

    async def entries(self) -> list[AnyEntry]:
        return list(reversed(self._entries.values()))

    def _keep(self, entry: AnyEntry) -> Saved:
        previous = self._entries.pop(entry.key, None)
        self._entries[entry.key] = entry
        return Saved(entry, previous)

    def _forget_all(self, revision: int) -> Cleared:
        cleared = Cleared(revision, list(reversed(self._entries.values())))
        self._entries.clear()
        return cleared

    async def _report(self, change: StoreChange) -> None:
        if self._listener is not None:
            await self._listener(change)
