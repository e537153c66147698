"""The interface every dashboard store implements, and the changes it reports."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import NamedTuple, Protocol

from issuebridge.errors import IssuebridgeError
from issuebridge.records.registry import AnyEntry


class StoreError(IssuebridgeError, RuntimeError):
    """The store cannot be opened or written; the message says what to fix.

    Every write error says what is known of the change: :class:`NotSaved` (it certainly was not
    made), :class:`MaybeSaved` (it was sent and no answer came), or any other (not made, for a
    reason the message gives).
    """

    status = 503

    def about(self, subject: str) -> str:
        """This error as one sentence about ``subject`` ("the board", "the panel"), for a user."""
        return f"{subject} was not saved: {self}"


class NotSaved(StoreError):
    """The store refused the change, or it never reached the store: nothing was written.

    ``reason`` says what is wrong, in words for whoever runs the server ("the disk is full").
    """

    def __init__(self, reason: str) -> None:
        super().__init__(f"{reason}: the change was not saved")
        self.reason = reason

    def about(self, subject: str) -> str:
        return f"{self.reason}: {subject} was not saved"


class MaybeSaved(StoreError):
    """The change was sent and no answer came: the store may have made it, or may make it yet.

    Nobody can know which until the store answers again; a change it did make then reaches the
    pages like any other (``until`` says when: "once Redis answers again").
    """

    def __init__(self, reason: str, *, until: str) -> None:
        super().__init__(f"{reason}: the change may not have been saved")
        self.reason = reason
        self.until = until

    def about(self, subject: str) -> str:
        return f"{self.reason}: {subject} may not have been saved; if it was, the dashboard shows it {self.until}"


class Conflict(StoreError):
    """A conditional save found another revision under its key: someone else wrote it first."""


class Saved(NamedTuple):
    """``entry`` (with its new revision) replaced ``previous``, or was new."""

    entry: AnyEntry
    previous: AnyEntry | None

    @property
    def revision(self) -> int:
        return self.entry.revision


class Removed(NamedTuple):
    revision: int
    entry: AnyEntry


class Cleared(NamedTuple):
    revision: int
    entries: list[AnyEntry]


class Reloaded(NamedTuple):
    """The store's content was read afresh and changes may have been missed in between.

    Reported when a store shared with other processes could not follow every change (its
    connection was lost for longer than the change log reaches back); nothing sent before this
    can be built on, so subscribers need a snapshot.
    """

    revision: int


StoreChange = Saved | Removed | Cleared | Reloaded
ChangeListener = Callable[[StoreChange], Awaitable[None]]


class Claims(Protocol):
    """The part of a store (:class:`DashboardStore`) that work done once needs: claims every worker
    sees (webhook deliveries recorded, dashboard sessions revoked)."""

    async def claim(self, name: str, ttl_seconds: float) -> bool: ...

    async def claimed(self, name: str) -> bool: ...


class DashboardStore(Protocol):
    """Entries (boards and panels) by key, each replaced whole by a save.

    ``revision`` grows by one with every change (save, remove, clear) and survives restarts;
    it doubles as the id of the event that announces the change.

    Every change is reported to the listener given to :meth:`follow`, once, in revision order,
    whichever process made it; a write returns after its own change was reported, so a reader
    in the same process sees it.
    """

    name: str  # "sqlite", "redis": shown on /healthz
    location: str  # where the entries live, for the log (no password)

    @property
    def revision(self) -> int:
        """The revision of the last change reported to the listener."""
        ...

    def follow(self, listener: ChangeListener) -> None:
        """Report every change to ``listener`` from now on (one listener per store)."""
        ...

    async def open(self) -> None: ...

    async def close(self) -> None: ...

    async def save(self, entry: AnyEntry, *, if_revision: int | None = None) -> AnyEntry:
        """Store ``entry`` atomically (all or nothing) and return it with its new revision.

        With ``if_revision``, only if the entry stored under its key still has that revision (0:
        if there is none); otherwise raise :class:`Conflict`, once this process has seen the
        write that got in first.
        """
        ...

    async def get(self, key: str) -> AnyEntry | None: ...

    async def reach_latest(self) -> None:
        """Return once this process has applied every change made anywhere before the call, so
        that a read-modify-write starts from the latest entry (a no-op for a single process)."""
        ...

    async def entries(self) -> list[AnyEntry]:
        """Every entry, most recently saved first."""
        ...

    async def remove(self, key: str) -> int | None:
        """Remove one entry; the revision of the removal, or None if there was no such entry."""
        ...

    async def clear(self) -> int:
        """Remove every entry; the revision of the clearing."""
        ...

    def health(self) -> str | None:
        """None while the store works, else what is wrong (shown on ``/healthz``: no addresses or
        paths), from the moment it is noticed until the store works again."""
        ...

    async def read_note(self, name: str) -> str | None:
        """A small record kept beside the entries (a board's GitHub validators), or None."""
        ...

    async def write_note(self, name: str, value: str | None) -> None:
        """Keep ``value`` under ``name`` (None drops it): for every process, across restarts."""
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

    async def claimed(self, name: str) -> bool:
        """Whether a claim on ``name`` holds now, for every worker (a revoked dashboard session)."""
        ...
