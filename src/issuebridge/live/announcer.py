"""The one announcer: every change the store reports, encoded once per wire format and published.

The store reports each change once, in revision order, whichever process made it (with Redis,
another worker's writes too). The announcer encodes it in every format (``json_format.py``,
``html_format.py``), with its difference from what it replaced, publishes the bytes to the hub
(a list append per open stream), and tells ``listeners`` which entries it touched (the MCP
resource notifications, which queue them for their own tasks). Nothing here waits, so a write
returns once its change is stored and applied, however many pages and sessions are open.

A write made in this process has its event built before it is stored (:meth:`Announcer.expect`),
so a write whose event cannot be built is refused and changes nothing.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, NamedTuple

from issuebridge.live.changes import Activity, Change, Touched, WireFormat
from issuebridge.live.hub import Event, EventHub, Subscription
from issuebridge.records.registry import AnyEntry, kind_of
from issuebridge.store import DashboardStore
from issuebridge.store.base import Cleared, Removed, Saved, StoreChange, StoreError

logger = logging.getLogger(__name__)

SNAPSHOT_MAX_AGE_SECONDS = 60.0  # a snapshot's relative times ("3 minutes ago") are this fresh at worst


class Unannounceable(StoreError):
    """A write whose event could not be built: refused before anything was stored."""


class _Prepared(NamedTuple):
    """A write's event, built before the write is stored (with the revision it should get)."""

    entry: AnyEntry
    frames: dict[str, bytes]


class Announcer:
    """Announces the store's changes to the open streams, and a sync's activity beside them."""

    def __init__(
        self,
        store: DashboardStore,
        hub: EventHub,
        formats: Mapping[str, WireFormat],
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self._hub = hub
        self._formats = formats
        self.listeners: list[Callable[[list[Touched]], None]] = []
        self._prepared: _Prepared | None = None
        self._snapshots: dict[str, tuple[int, float, bytes]] = {}  # format -> (revision, built at, frame)
        self._clock = clock
        store.follow(self._announce)

    @property
    def formats(self) -> list[str]:
        """The wire formats a stream may ask for."""
        return sorted(self._formats)

    @property
    def subscribers(self) -> int:
        return self._hub.subscriber_count

    def subscribe(self) -> contextlib.AbstractAsyncContextManager[Subscription]:
        """A subscription to every event from now on (subscribe before :meth:`resume`)."""
        return self._hub.subscribe()

    @contextlib.contextmanager
    def expect(self, entry: AnyEntry, previous: AnyEntry | None) -> Iterator[None]:
        """Around the store write of ``entry`` (replacing ``previous``): its event is built first,
        in every format, as if stored at the next revision; :class:`Unannounceable` if it cannot be.

        With one process (SQLite) that is the revision it gets, and :meth:`_announce` sends these
        frames; if another process took that revision first (Redis), they are built again there.
        """
        candidate = entry.model_copy(update={"revision": self._store.revision + 1})
        try:
            self._prepared = _Prepared(candidate, self._encode(_change(candidate, previous)))
        except Exception as exc:
            raise Unannounceable(f"its event for the open pages could not be built ({type(exc).__name__})") from exc
        try:
            yield
        finally:
            self._prepared = None

    def report(self, activity: Activity) -> None:
        """Show a sync's progress or failure on open pages (not stored, not replayed)."""
        self._hub.publish(Event(None, {name: wire.activity(activity) for name, wire in self._formats.items()}))

    def prepare(self, key: str, rows: Sequence[Any]) -> None:
        """Rows a fetch in progress will write under ``key``; formats may render them early.

        A sync spends most of its time waiting for GitHub; rendering each page's rows meanwhile
        takes that work off the path from the last page to the open pages.
        """
        for wire in self._formats.values():
            wire.prepare(key, rows)

    async def resume(self, wire_format: str, last_event_id: int | None) -> tuple[int, list[bytes]]:
        """What a (re)connecting subscriber needs first, and the revision it brings it to.

        The events it missed if the hub still holds them all, otherwise a snapshot of everything.
        A snapshot is built once per revision and format and shared by every stream that needs
        it (rebuilt after ``SNAPSHOT_MAX_AGE_SECONDS``, for its relative times): on a
        5,000-issue board it is 3.6 MB and 30 ms of work, and clients may connect in bursts.
        """
        revision = self._store.revision
        missed = None if last_event_id is None else self._hub.missed_since(last_event_id, revision)
        if missed is not None:
            return revision, [event.frames[wire_format] for event in missed]
        kept = self._snapshots.get(wire_format)
        at = self._clock()
        if kept is None or kept[0] != revision or at - kept[1] > SNAPSHOT_MAX_AGE_SECONDS:
            entries = await self._store.entries()
            revision = self._store.revision  # the entries and the revision belong together
            kept = self._snapshots[wire_format] = (revision, at, self._formats[wire_format].snapshot(entries, revision))
        return revision, [kept[2]]

    def _encode(self, change: Change) -> dict[str, bytes]:
        return {name: wire.change(change) for name, wire in self._formats.items()}

    async def _announce(self, change: StoreChange) -> None:
        """Publish one change the store reports, then hand the listeners what it touched.

        Nothing here waits: publishing happens before any ``await``, so the store's revision
        and the hub's history move together (which :meth:`resume` relies on), and listeners
        only take note. A change whose event cannot be built (another process's: this
        process's own writes were built before they were stored) is logged and every stream
        restarted, so that no page silently misses it.
        """
        if isinstance(change, Saved):
            stored, previous = change
            prepared = self._prepared
            if prepared is not None and _same_write(prepared.entry, stored):
                self._hub.publish(Event(stored.revision, prepared.frames))
            else:
                self._publish(stored.revision, lambda: self._encode(_change(stored, previous)))
            touched = [stored]
        elif isinstance(change, Removed):
            revision, entry = change
            self._publish(
                revision, lambda: {name: wire.removed(entry.key, revision) for name, wire in self._formats.items()}
            )
            touched = [entry]
        elif isinstance(change, Cleared):
            revision, touched = change
            self._publish(revision, lambda: {name: wire.cleared(revision) for name, wire in self._formats.items()})
        else:
            self._snapshots.clear()  # revisions may repeat with other content (a flushed Redis)
            self._hub.restart()  # nothing replayable: every stream reconnects and gets a snapshot
            touched = await self._store.entries()
        self._tell_listeners([Touched(e.key, e.related_repository) for e in touched])

    def _publish(self, revision: int, encode: Callable[[], dict[str, bytes]]) -> None:
        try:
            frames = encode()
        except Exception:
            logger.exception("issuebridge: the event for revision %d could not be built; every page reloads", revision)
            self._hub.restart()
            return
        self._hub.publish(Event(revision, frames))

    def _tell_listeners(self, touched: list[Touched]) -> None:
        for listener in self.listeners:
            try:
                listener(touched)
            except Exception:  # one broken listener must not fail the write or starve the others
                logger.exception("issuebridge: a change listener failed")


def _change(entry: AnyEntry, previous: AnyEntry | None) -> Change:
    delta = kind_of(entry).delta
    if delta is None:
        return Change(entry, previous, None)
    return Change(entry, previous, delta.diff(previous if type(previous) is type(entry) else None, entry))


def _same_write(prepared: AnyEntry, stored: AnyEntry) -> bool:
    """Whether ``stored`` is the entry that was prepared, at the revision it was prepared for.

    Both are copies of the entry being written, differing only in ``revision``, so every other
    field is the very same object: cheap to check, and no entry parsed from another process's
    write shares them (its ``last_updated`` alone is a new object).
    """
    if type(stored) is not type(prepared) or stored.revision != prepared.revision:
        return False
    fields = (name for name in type(stored).model_fields if name != "revision")
    return all(getattr(stored, name) is getattr(prepared, name) for name in fields)
