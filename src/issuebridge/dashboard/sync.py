"""Fetching a repository's list from GitHub into its board: one service for the MCP tools (which
report every page) and the background refresher (which stays silent unless the board changed).

A board fetched from GitHub records what is needed to fetch it again (repository and state;
for commits the branch and the window), so its kind rebuilds its query from the board.
A repository renamed on GitHub takes its board along: it is written under the new name, and the
board under the old one goes.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any, Generic, NamedTuple, TypeVar, cast

from issuebridge.dashboard.entries import Dashboard
from issuebridge.github.client import GitHubSource
from issuebridge.github.conditional import Freshness, Unchanged
from issuebridge.github.errors import GitHubError
from issuebridge.github.paging import Fetched, Progress
from issuebridge.live.announcer import Announcer
from issuebridge.live.changes import Activity
from issuebridge.records.base import Entry, now
from issuebridge.records.kind import BoardQuery
from issuebridge.records.registry import AnyEntry, kind_of

B = TypeVar("B", bound=Entry)


def query_for(entry: AnyEntry) -> BoardQuery[Any] | None:
    """The query that fetched ``entry``, to repeat it; None for what has no GitHub query behind
    it (panels, and boards pushed through the JSON API)."""
    return kind_of(entry).github_query(entry)


def listed_as_of(fetched: Fetched[Any], started: datetime) -> datetime:
    """When a fetched list is complete as of: GitHub's own clock for its first page (lists are most
    recently updated first, so every change before then is on it), so that a server clock running
    ahead of GitHub's never makes a newer webhook event look older than the list; when the fetch
    began if GitHub sent no ``Date``. Never later than this server's clock: a ``Date`` from the
    future could otherwise make every later event look old.
    """
    return started if fetched.listed_at is None else min(fetched.listed_at, now())


class Synced(NamedTuple, Generic[B]):
    board: B
    changed: bool
    skipped: int  # pull requests left out of an issues board
    unreadable: int = 0  # items GitHub sent that could not be read, left out
    renamed_from: str | None = None  # the name asked for, when GitHub said the repository moved


class BoardSync:
    """Fetches boards from GitHub, asking "changed since?" whenever the stored board allows.

    A fetch and the write it leads to hold a per-board lock: a tool call waits for a refresh of
    the same board to finish, and a refresh skips a board that is being synced. One deadline
    (the source's ``call_timeout``) covers the wait for that lock and the fetch; the write that
    follows is never cut short, so a board is written whole or not at all.
    """

    def __init__(self, dashboard: Dashboard, announcer: Announcer, github: GitHubSource, freshness: Freshness) -> None:
        self.dashboard = dashboard
        self.github = github
        self.freshness = freshness
        self._announcer = announcer
        self._locks: dict[str, asyncio.Lock] = {}
        self._users: dict[str, int] = {}

    async def sync(self, query: BoardQuery[B], progress: Progress | None = None) -> Synced[B]:
        """Fetch ``query`` into its board, or learn from GitHub that the board is current.

        Pages see each page's progress and any failure next to the board, and when nothing
        changed (GitHub answered 304, or the fetch found what the board shows) nothing is
        written and they get a small "unchanged" event instead. ``progress`` is told of each
        page too (MCP progress). Raises :class:`GitHubError`, leaving the board as it was.
        """
        announcer = self._announcer
        key, kind, repository = query.key, query.kind, query.repository

        async def on_page(done: int, total: int | None, rows: list[Any]) -> None:
            if progress is not None:
                await progress(done, total, rows)
            announcer.report(Activity(key, kind, repository, done, total))
            announcer.prepare(key, rows)  # the page's rows render while later pages are in flight

        try:
            async with self.github.deadline() as deadline, self._holding(key, wait=True):
                current = await self.dashboard.get(key)
                matching = isinstance(current, query.board_type) and query.matches(current)
                known = await self.freshness.known(current) if matching else None
                started = now()
                fetched = await query.fetch(self.github, on_page, known.validators if known else None)
                deadline.reschedule(None)  # what was fetched is written whole, however long that takes
                if isinstance(fetched, Unchanged):
                    assert isinstance(current, query.board_type) and known is not None
                    synced = Synced(cast(B, current), False, known.skipped, known.unreadable)
                else:
                    synced = await self._write(query, query.build(fetched, listed_as_of(fetched, started)), fetched)
        except GitHubError as exc:
            announcer.report(Activity(key, kind, repository, error=str(exc)))
            raise
        if not synced.changed:
            announcer.report(Activity(key, kind, repository, unchanged=True))
        return synced

    async def resync(self, key: str) -> Synced[Any] | None:
        """Fetch the board under ``key`` again with its own query, telling pages only of a change.

        None if there was nothing to do: no such board, nothing fetched from GitHub, being
        synced right now, or replaced while this fetch was under way (its successor wins).
        Raises :class:`GitHubError`; a resync that outlasts the deadline is one.
        """
        async with self.github.deadline() as deadline, self._holding(key, wait=False) as held:
            current = await self.dashboard.get(key) if held else None
            query = query_for(current) if current is not None else None
            if current is None or query is None:
                return None
            start = current.revision
            known = await self.freshness.known(current)
            started = now()
            fetched = await query.fetch(self.github, None, known.validators if known else None)
            deadline.reschedule(None)
            if isinstance(fetched, Unchanged):
                assert known is not None
                return Synced(current, False, known.skipped, known.unreadable)
            built = query.build(fetched, listed_as_of(fetched, started))
            if built.key != key:  # renamed: moved only if the board is still the one this resync read
                stored = await self.dashboard.get(key)
                return (
                    await self._write(query, built, fetched)
                    if stored is not None and stored.revision == start
                    else None
                )
            board, changed = await self.dashboard.update(
                key, lambda stored: built if stored is not None and stored.revision == start else None, synced=True
            )
            if board is None:
                return None
            await self.freshness.remember(board, fetched.validators, fetched.skipped, fetched.unreadable)
            return Synced(board, changed, fetched.skipped, fetched.unreadable)

    async def _write(self, query: BoardQuery[B], built: B, fetched: Fetched[Any]) -> Synced[B]:
        """Write the board ``query`` fetched; after a rename it is under the new name, and the board
        under the old name goes (with what was recorded for it)."""
        board, changed = await self.dashboard.put_if_changed(built, synced=True)
        await self.freshness.remember(board, fetched.validators, fetched.skipped, fetched.unreadable)
        renamed_from = None
        if board.key != query.key:
            renamed_from = query.repository
            changed = await self.dashboard.remove(query.key) or changed
            await self.freshness.forget(query.key)
        return Synced(board, changed, fetched.skipped, fetched.unreadable, renamed_from)

    @contextlib.asynccontextmanager
    async def _holding(self, key: str, *, wait: bool) -> AsyncIterator[bool]:
        """Hold ``key``'s lock (waiting for it, or not at all if ``wait`` is false and it is
        held); yields whether it is held. Locks exist only while someone uses them."""
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._users[key] = self._users.get(key, 0) + 1
        try:
            if not wait and lock.locked():
                yield False
                return
            async with lock:
                yield True
        finally:
            self._users[key] -= 1
            if not self._users[key]:
                del self._users[key], self._locks[key]
