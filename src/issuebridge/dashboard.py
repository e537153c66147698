"""The one place where a write becomes a stored entry and an event on every open page."""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple, Protocol, TypeVar, cast

import orjson

from issuebridge.events import Event, EventHub, encode_event, encode_json_event
from issuebridge.records import tracked as tombstones
from issuebridge.records.base import Entry, Source, StateFilter, now
from issuebridge.records.issues import Issue, IssuesBoard
from issuebridge.records.kind import RowsDiff
from issuebridge.records.panels import Panel
from issuebridge.records.registry import KINDS, AnyEntry, kind_of
from issuebridge.records.tracked import BOOKKEEPING_FIELDS, TrackedBoard
from issuebridge.store import DashboardStore
from issuebridge.store.base import Cleared, Conflict, Removed, Saved, StoreChange, StoreError

logger = logging.getLogger(__name__)

E = TypeVar("E", bound=Entry)
_NOT_SHOWN = set(BOOKKEEPING_FIELDS)  # what the store keeps and no reader is shown
WRITE_ATTEMPTS = 20  # a key written this often by other processes during one write is a fight to report


class Change(NamedTuple):
    """One write as a wire format sees it: the entry as stored, what it replaced, and for kinds
    whose pages take only changed rows (``Kind.delta``) the difference between the two."""

    entry: AnyEntry
    previous: AnyEntry | None
    diff: RowsDiff | None


class Activity(NamedTuple):
    """A sync in progress, failed, or that found nothing new: shown on the page, never stored."""

    key: str
    kind: str
    repository: str
    done: int = 0
    total: int | None = None
    error: str | None = None
    unchanged: bool = False


class Touched(NamedTuple):
    """An entry a write changed, as the MCP resource notifications need it."""

    key: str
    repository: str | None


class WireFormat(Protocol):
    """How events look on one kind of stream. Each write is encoded once per format."""

    def change(self, change: Change) -> bytes: ...

    def removed(self, key: str, revision: int) -> bytes: ...

    def cleared(self, revision: int) -> bytes: ...

    def snapshot(self, entries: list[AnyEntry], revision: int) -> bytes: ...

    def activity(self, activity: Activity) -> bytes: ...

    def prepare(self, key: str, rows: Sequence[Any]) -> None:
        """Rows that are about to be written under ``key``: do per-row work now if it helps."""


def entry_payload(entry: AnyEntry) -> dict[str, Any]:
    """An entry as the JSON API and the JSON event stream show it, with what is derived from it."""
    return {"id": entry.key, **entry.model_dump(mode="json", exclude=_NOT_SHOWN), **kind_of(entry).derived(entry)}


def entry_json(entry: AnyEntry) -> bytes:
    """:func:`entry_payload` as JSON bytes, serialised by pydantic-core in one pass.

    For a 5,000-issue board this takes about a quarter of the time of building the dict and
    running ``json.dumps`` over it, and every event and API answer carries whole boards.
    """
    # The entry's own serializer: through the union adapter the same bytes take three times as long.
    fields = entry.model_dump_json(exclude=_NOT_SHOWN).encode()  # '{"source":...}': never empty
    derived = kind_of(entry).derived(entry)
    extra = b"," + orjson.dumps(derived)[1:-1] if derived else b""
    return b'{"id":' + orjson.dumps(entry.key) + b"," + fields[1:-1] + extra + b"}"


class JsonFormat:
    """The documented JSON events: each kind's ``json_event`` and ``json_group`` (``registry.py``)."""

    def change(self, change: Change) -> bytes:
        entry = change.entry
        return encode_json_event(kind_of(entry).json_event, entry_json(entry), entry.revision)

    def removed(self, key: str, revision: int) -> bytes:
        return encode_event("removed", {"id": key}, revision)

    def cleared(self, revision: int) -> bytes:
        return encode_event("cleared", {}, revision)

    def snapshot(self, entries: list[AnyEntry], revision: int) -> bytes:
        groups: dict[str, list[bytes]] = {kind.json_group: [] for kind in KINDS}
        for entry in entries:
            groups[kind_of(entry).json_group].append(entry_json(entry))
        data = b",".join(orjson.dumps(name) + b":[" + b",".join(items) + b"]" for name, items in groups.items())
        return encode_json_event("initial_data", b"{" + data + b"}", revision)

    def prepare(self, key: str, rows: Sequence[Any]) -> None:
        """Nothing to do ahead: the JSON of a board is one pydantic-core pass when it is written."""

    def activity(self, activity: Activity) -> bytes:
        data = {"id": activity.key, "kind": activity.kind, "repository": activity.repository}
        if activity.error is not None:
            return encode_event("sync_failed", {**data, "message": activity.error}, None)
        if activity.unchanged:
            return encode_event("sync_unchanged", data, None)
        return encode_event("sync_progress", {**data, "done": activity.done, "total": activity.total}, None)


class Unannounceable(StoreError):
    """A write whose event could not be built: refused before anything was stored."""


class _Prepared(NamedTuple):
    """A write's event, built before the write is stored (with the revision it should get)."""

    entry: AnyEntry
    frames: dict[str, bytes]


SNAPSHOT_MAX_AGE_SECONDS = 60.0  # a snapshot's relative times ("3 minutes ago") are this fresh at worst


class Dashboard:
    """Writes entries to the store, and announces every change the store reports.

    Tools and HTTP handlers call this, never the store or the hub directly. The store reports
    each change once, in revision order, whichever process made it (with Redis, another
    worker's writes too); this announces it to the page streams with its difference from what
    it replaced, and tells ``listeners`` which entries it touched (the MCP resource
    notifications).

    A write waits for nothing but the store: announcing is publishing to the hub (a list
    append per stream) and handing the touched entries to each listener, which must return at
    once (the MCP notifier queues them for its own tasks). A write's event is built before the
    write is stored, so a write whose event cannot be built is refused and changes nothing.
    """

    def __init__(
        self,
        store: DashboardStore,
        hub: EventHub,
        formats: Mapping[str, WireFormat],
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.hub = hub
        self.formats = formats
        self.listeners: list[Callable[[list[Touched]], None]] = []
        self._write_lock = asyncio.Lock()
        self._prepared: _Prepared | None = None
        self._snapshots: dict[str, tuple[int, float, bytes]] = {}  # format -> (revision, built at, frame)
        self._clock = clock
        store.follow(self._announce)

    async def put(self, entry: E) -> E:
        """Store ``entry`` in place of the one with the same key, and broadcast the change."""
        stored, _ = await self._write(entry.key, lambda _: entry, always=True)
        assert stored is not None
        return cast(E, stored)

    async def refresh(self, entry: E) -> tuple[E, bool]:
        """Like :meth:`put`, unless the stored entry already shows the same thing.

        A re-fetch that found nothing new then writes nothing and sends no board to the pages;
        returns the stored entry and whether it changed. The time of writing does not count as
        content, and neither does the order of an issues board's rows (the page sorts them).
        """
        stored, changed = await self._write(entry.key, lambda _: entry, always=False)
        assert stored is not None
        return stored, changed

    async def update(self, key: str, change: Callable[[AnyEntry | None], E | None]) -> tuple[E | None, bool]:
        """:meth:`refresh` with ``change(the entry stored under key)``: no other write, from this
        process or another, lands between the read and the write (read-modify-write, as webhooks do).

        ``change`` returns the new entry for ``key``, or None to write nothing (then this returns
        None and False). It may be called again, with the newer entry, if another process wrote
        ``key`` meanwhile.
        """
        await self.store.catch_up()  # a board another process wrote a moment ago is there to change
        return await self._write(key, change, always=False)

    async def _write(
        self, key: str, make: Callable[[AnyEntry | None], Entry | None], *, always: bool
    ) -> tuple[Any, bool]:
        """Write what ``make`` builds on the stored entry; the entry as stored (the caller's type:
        ``make`` builds entries of one type) and whether it changed."""
        async with self._write_lock:  # one write at a time from this process
            for attempt in range(1, WRITE_ATTEMPTS + 1):
                previous = await self.store.get(key)
                entry = make(previous)
                if entry is None:
                    return None, False
                entry = tombstones.carry(previous, entry)  # a board that replaces another remembers what it knew
                assert entry.key == key, "an entry is written under its own key"
                if not always and isinstance(previous, type(entry)) and _same_content(previous, entry):
                    return previous, False
                written = cast(AnyEntry, entry)  # every entry is of a kind in the registry
                self._prepared = self._prepare(written, previous)
                try:
                    stored = await self.store.save(written, if_revision=previous.revision if previous else 0)
                except Conflict:  # another process wrote ``key`` meanwhile: build again on what it wrote
                    await asyncio.sleep(random.uniform(0, 0.005 * attempt))  # noqa: S311 (jitter: out of step with the other writer)
                    continue
                finally:
                    self._prepared = None
                assert isinstance(stored, type(entry))
                return stored, True
        raise StoreError(f"{key} changed {WRITE_ATTEMPTS} times while this write was being made; try again")

    def _prepare(self, entry: AnyEntry, previous: AnyEntry | None) -> _Prepared:
        """Build ``entry``'s event in every format, as if stored at the next revision; refuse if it cannot be.

        With one process (SQLite) that is the revision it gets, and :meth:`_announce` sends these
        frames; if another process took that revision first (Redis), they are built again there.
        """
        candidate = entry.model_copy(update={"revision": self.store.revision + 1})
        try:
            return _Prepared(candidate, self._encode(_change(candidate, previous)))
        except Exception as exc:
            raise Unannounceable(f"its event for the open pages could not be built ({type(exc).__name__})") from exc

    def _encode(self, change: Change) -> dict[str, bytes]:
        return {name: wire.change(change) for name, wire in self.formats.items()}

    async def sync_issues(
        self,
        repository: str,
        issues: list[Issue],
        *,
        state: StateFilter,
        source: Source,
        truncated: bool = False,
    ) -> IssuesBoard:
        """Replace ``repository``'s issues board with ``issues``."""
        at = now()
        board = IssuesBoard(
            repository=repository,
            state=state,
            source=source,
            issues=issues,
            last_updated=at,
            truncated=truncated,
            as_of=at,  # the pushed list is the board as of now: older webhook events cannot add to it
        )
        return await self.put(board)

    async def remove(self, key: str) -> bool:
        async with self._write_lock:
            return await self.store.remove(key) is not None

    async def clear(self) -> int:
        """Remove everything; how many entries there were."""
        async with self._write_lock:
            count = len(await self.store.entries())
            await self.store.clear()
            return count

    def prepare(self, key: str, rows: Sequence[Any]) -> None:
        """Rows a fetch in progress will write under ``key``; formats may render them early.

        A sync spends most of its time waiting for GitHub; rendering each page's rows meanwhile
        takes that work off the path from the last page to the open pages.
        """
        for wire in self.formats.values():
            wire.prepare(key, rows)

    def report(self, activity: Activity) -> None:
        """Show a sync's progress or failure on open pages (not stored, not replayed)."""
        self.hub.publish(Event(None, {name: wire.activity(activity) for name, wire in self.formats.items()}))

    async def panels(self) -> list[Panel]:
        return [entry for entry in await self.store.entries() if isinstance(entry, Panel)]

    async def catch_up(self, wire_format: str, last_event_id: int | None) -> tuple[int, list[bytes]]:
        """What a (re)connecting subscriber needs first, and the revision it brings it to.

        The events it missed if the hub still holds them all, otherwise a snapshot of everything.
        A snapshot is built once per revision and format and shared by every stream that needs
        it (rebuilt after ``SNAPSHOT_MAX_AGE_SECONDS``, for its relative times): on a
        5,000-issue board it is 3.6 MB and 30 ms of work, and clients may connect in bursts.
        """
        revision = self.store.revision
        missed = None if last_event_id is None else self.hub.missed_since(last_event_id, revision)
        if missed is not None:
            return revision, [event.frames[wire_format] for event in missed]
        kept = self._snapshots.get(wire_format)
        at = self._clock()
        if kept is None or kept[0] != revision or at - kept[1] > SNAPSHOT_MAX_AGE_SECONDS:
            entries = await self.store.entries()
            revision = self.store.revision  # the entries and the revision belong together
            kept = self._snapshots[wire_format] = (revision, at, self.formats[wire_format].snapshot(entries, revision))
        return revision, [kept[2]]

    async def _announce(self, change: StoreChange) -> None:
        """Publish one change the store reports, then hand the listeners what it touched.

        Nothing here waits: publishing happens before any ``await``, so the store's revision
        and the hub's history move together (which :meth:`catch_up` relies on), and listeners
        only take note. A change whose event cannot be built (another process's: this
        process's own writes were built before they were stored) is logged and every stream
        restarted, so that no page silently misses it.
        """
        if isinstance(change, Saved):
            stored, previous = change
            prepared = self._prepared
            if prepared is not None and _same_write(prepared.entry, stored):
                self.hub.publish(Event(stored.revision, prepared.frames))
            else:
                self._publish(stored.revision, lambda: self._encode(_change(stored, previous)))
            touched = [stored]
        elif isinstance(change, Removed):
            revision, entry = change
            self._publish(
                revision, lambda: {name: wire.removed(entry.key, revision) for name, wire in self.formats.items()}
            )
            touched = [entry]
        elif isinstance(change, Cleared):
            revision, touched = change
            self._publish(revision, lambda: {name: wire.cleared(revision) for name, wire in self.formats.items()})
        else:
            self._snapshots.clear()  # revisions may repeat with other content (a flushed Redis)
            self.hub.restart()  # nothing replayable: every stream reconnects and gets a snapshot
            touched = await self.store.entries()
        self._tell_listeners([Touched(e.key, e.related_repository) for e in touched])

    def _publish(self, revision: int, encode: Callable[[], dict[str, bytes]]) -> None:
        try:
            frames = encode()
        except Exception:
            logger.exception("issuebridge: the event for revision %d could not be built; every page reloads", revision)
            self.hub.restart()
            return
        self.hub.publish(Event(revision, frames))

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


def _same_content(previous: Entry, entry: Entry) -> bool:
    """Whether ``entry`` shows what ``previous`` shows, whenever each was written (or fetched: a
    board keeps the older ``as_of`` of the same content, which is just as true)."""
    delta = kind_of(entry).delta
    if delta is not None and isinstance(previous, TrackedBoard) and isinstance(entry, TrackedBoard):
        if delta.diff(previous, entry):  # the rows differ in more than their order
            return False
        previous = previous.model_copy(update={entry.rows_field: []})
        entry = entry.model_copy(update={entry.rows_field: []})
    written: dict[str, Any] = {"last_updated": entry.last_updated, "revision": entry.revision}
    if isinstance(entry, TrackedBoard):
        written["as_of"] = entry.as_of
    return previous.model_copy(update=written) == entry
