"""The dashboard's entries: what it shows, and the one write path every change takes.

Tools, HTTP routes, webhooks and the background refresh read and write through
:class:`Dashboard`, never the store directly. A write returns once its change is stored and
applied in this process; announcing it to open pages and MCP sessions (``live/announcer.py``)
never holds it up.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from typing import Any, TypeVar, cast

from issuebridge.live.announcer import Announcer
from issuebridge.records.base import Entry, appearing, now
from issuebridge.records.registry import AnyEntry, kind_of, kind_of_key
from issuebridge.records.tracked import TrackedBoard, carry
from issuebridge.records.trends import with_trend
from issuebridge.store import DashboardStore
from issuebridge.store.base import Conflict, StoreError

E = TypeVar("E", bound=Entry)
WRITE_ATTEMPTS = 20  # a key written this often by other processes during one write is a fight to report


class Dashboard:
    """Reads entries from the store, and writes them: one write at a time from this process,
    each conditional on the entry it replaces, so no other process's write is lost."""

    def __init__(self, store: DashboardStore, announcer: Announcer) -> None:
        self._store = store
        self._announcer = announcer
        self._write_lock = asyncio.Lock()

    @property
    def revision(self) -> int:
        """The revision of the last change applied here (a page resumes its event stream from it)."""
        return self._store.revision

    @property
    def store_name(self) -> str:
        return self._store.name

    def health(self) -> str | None:
        """None while the store works, else what is wrong (no addresses or paths)."""
        return self._store.health()

    async def entries(self, repository: str | None = None) -> list[AnyEntry]:
        """Every listed entry (``Kind.listed``: not the selection), newest activity first; only
        those about ``repository`` if given."""
        entries = [entry for entry in await self._store.entries() if kind_of(entry).listed]
        if repository is None:
            return entries
        wanted = repository.lower()
        return [entry for entry in entries if (entry.related_repository or "").lower() == wanted]

    async def get(self, key: str) -> AnyEntry | None:
        return await self._store.get(key)

    async def put(self, entry: E, *, synced: bool = False) -> E:
        """Store ``entry`` in place of the one with the same key, and broadcast the change.
        ``synced``: a board as GitHub (or a push) has it now, which adds to its trend."""
        stored, _ = await self._write(entry.key, lambda _: entry, always=True, synced=synced)
        assert stored is not None
        return cast(E, stored)

    async def put_if_changed(self, entry: E, *, synced: bool = False) -> tuple[E, bool]:
        """Like :meth:`put`, unless the stored entry already shows the same thing.

        A re-fetch that found nothing new then writes nothing and sends no board to the pages;
        returns the stored entry and whether it changed. The time of writing does not count as
        content, and neither does the order of a board's rows where its kind says so (the page
        sorts them).
        """
        stored, changed = await self._write(entry.key, lambda _: entry, always=False, synced=synced)
        assert stored is not None
        return stored, changed

    async def update(
        self, key: str, change: Callable[[AnyEntry | None], E | None], *, synced: bool = False
    ) -> tuple[E | None, bool]:
        """:meth:`put_if_changed` with ``change(the entry stored under key)``: no other write, from
        this process or another, lands between the read and the write (read-modify-write, as
        webhooks do).

        ``change`` returns the new entry for ``key``, or None to write nothing (then this returns
        None and False). It may be called again, with the newer entry, if another process wrote
        ``key`` meanwhile.
        """
        await self._store.reach_latest()  # a board another process wrote a moment ago is there to change
        return await self._write(key, change, always=False, synced=synced)

    async def remove(self, key: str) -> bool:
        """Remove a listed entry (the selection is cleared by deselecting, not removed)."""
        if (kind := kind_of_key(key)) is not None and not kind.listed:
            return False
        async with self._write_lock:
            return await self._store.remove(key) is not None

    async def clear(self) -> int:
        """Remove everything; how many entries there were."""
        async with self._write_lock:
            count = len(await self.entries())
            await self._store.clear()
            return count

    async def _write(
        self, key: str, make: Callable[[AnyEntry | None], Entry | None], *, always: bool, synced: bool = False
    ) -> tuple[Any, bool]:
        """Write what ``make`` builds on the stored entry; the entry as stored (the caller's type:
        ``make`` builds entries of one type) and whether it changed."""
        async with self._write_lock:  # one write at a time from this process
            for attempt in range(1, WRITE_ATTEMPTS + 1):
                previous = await self._store.get(key)
                entry = make(previous)
                if entry is None:
                    return None, False
                entry = carry(previous, entry)  # a board that replaces another remembers what it knew
                entry = appearing(previous, entry)  # and keeps its place on the page
                if synced:
                    entry = with_trend(previous, entry, now())  # and adds this sync to its trend
                assert entry.key == key, "an entry is written under its own key"
                if not always and isinstance(previous, type(entry)) and _same_content(previous, entry):
                    return previous, False
                written = cast(AnyEntry, entry)  # every entry is of a kind in the registry
                try:
                    with self._announcer.expect(written, previous):
                        stored = await self._store.save(written, if_revision=previous.revision if previous else 0)
                except Conflict:  # another process wrote ``key`` meanwhile: build again on what it wrote
                    await asyncio.sleep(random.uniform(0, 0.005 * attempt))  # noqa: S311 (jitter: out of step with the other writer)
                    continue
                assert isinstance(stored, type(entry))
                return stored, True
        raise StoreError(f"{key} changed {WRITE_ATTEMPTS} times while this write was being made; try again")


def _same_content(previous: Entry, entry: Entry) -> bool:
    """Whether ``entry`` shows what ``previous`` shows, whenever each was written (or fetched: a
    board keeps the older ``as_of`` of the same content, which is just as true)."""
    delta = kind_of(entry).delta
    if delta is not None and isinstance(previous, TrackedBoard) and isinstance(entry, TrackedBoard):
        if delta.diff(previous, entry):  # the rows differ in more than their order
            return False
        previous = previous.model_copy(update={entry.rows_field: []})
        entry = entry.model_copy(update={entry.rows_field: []})
    # When it first appeared is not content either (an entry stored before that was kept gets it here).
    written: dict[str, Any] = {
        "last_updated": entry.last_updated,
        "revision": entry.revision,
        "appeared": entry.appeared,
    }
    if isinstance(entry, TrackedBoard):
        written["as_of"] = entry.as_of
    if hasattr(entry, "trend"):
        written["trend"] = entry.trend  # a sync's point comes with rows that differ, or not at all
    return previous.model_copy(update=written) == entry
