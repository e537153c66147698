"""Entries in memory for reads, written through to SQLite so a restart shows the last dashboard."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from pydantic import ValidationError

from issuebridge.records.registry import AnyEntry, read_stored
from issuebridge.store.base import Conflict, NotSaved, Removed, StoreError
from issuebridge.store.local_copy import LocalCopy

logger = logging.getLogger(__name__)
T = TypeVar("T")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS entries (
    key TEXT PRIMARY KEY,
    revision INTEGER NOT NULL,
    body TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS counters (
    name TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
INSERT OR IGNORE INTO counters (name, value) VALUES ('revision', 0);
CREATE TABLE IF NOT EXISTS claims (
    name TEXT PRIMARY KEY,
    expires REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS claims_by_expiry ON claims (expires);
CREATE TABLE IF NOT EXISTS notes (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"""


class SQLiteStore(LocalCopy):
    """One SQLite file (or ``:memory:``); each change is one transaction, so nothing is half-written.

    Reads are served from memory. Writes run in a worker thread, one at a time, so a large
    board does not stall the event loop. A write SQLite refuses (the disk is full, say) raises
    :class:`NotSaved` saying why, leaves the copy in memory and the revision as they were, and
    shows on ``health()`` until a write succeeds again.
    """

    name = "sqlite"

    def __init__(self, path: Path | str) -> None:
        super().__init__()
        self._path = str(path)
        self.location = self._path
        self._connection: sqlite3.Connection | None = None
        self._write_lock = asyncio.Lock()
        self._notes: dict[str, str] = {}
        self._failing: str | None = None  # why the last write failed, until a change is saved again

    def health(self) -> str | None:
        if self._failing is None:
            return None
        return f"{self._failing}: the last change was not saved (each new one tries again)"

    async def reach_latest(self) -> None:
        """Every change is made by this process, and applied before its write returns."""

    async def open(self) -> None:
        self._connection = await asyncio.to_thread(self._connect)
        try:
            self._revision, self._entries = await asyncio.to_thread(self._load, self._connection)
            self._notes = await asyncio.to_thread(self._load_notes, self._connection)
        except sqlite3.Error as exc:
            await self.close()
            raise StoreError(
                f"ISSUEBRIDGE_DB={self._path!r} cannot be read ({refusal(exc)}: {exc}); "
                "restore it from a backup or point ISSUEBRIDGE_DB at a new file"
            ) from None

    async def close(self) -> None:
        if self._connection is not None:
            connection, self._connection = self._connection, None
            await asyncio.to_thread(connection.close)

    async def save(self, entry: AnyEntry, *, if_revision: int | None = None) -> AnyEntry:
        async with self._write_lock:
            current = self._entries.get(entry.key)
            if if_revision is not None and (current.revision if current else 0) != if_revision:
                raise Conflict(f"{entry.key} is at another revision than {if_revision}")
            stored = entry.model_copy(update={"revision": self._revision + 1})
            body = stored.model_dump_json()  # what read_stored reads back; a third of its time to write
            await self._write(
                stored.revision,
                lambda c: c.execute(
                    "INSERT INTO entries (key, revision, body) VALUES (?, ?, ?) "
                    "ON CONFLICT(key) DO UPDATE SET revision = excluded.revision, body = excluded.body",
                    (stored.key, stored.revision, body),
                ),
            )
            await self._report(self._keep(stored))
            return stored

    async def remove(self, key: str) -> int | None:
        async with self._write_lock:
            if key not in self._entries:
                return None
            revision = self._revision + 1
            await self._write(revision, lambda c: c.execute("DELETE FROM entries WHERE key = ?", (key,)))
            await self._report(Removed(revision, self._entries.pop(key)))
            return revision

    async def clear(self) -> int:
        async with self._write_lock:
            revision = self._revision + 1
            await self._write(revision, lambda c: c.execute("DELETE FROM entries"))
            await self._report(self._forget_all(revision))
            return revision

    async def read_note(self, name: str) -> str | None:
        return self._notes.get(name)

    async def write_note(self, name: str, value: str | None) -> None:
        def change(connection: sqlite3.Connection) -> None:
            if value is None:
                connection.execute("DELETE FROM notes WHERE name = ?", (name,))
            else:
                connection.execute(
                    "INSERT INTO notes (name, value) VALUES (?, ?) "
                    "ON CONFLICT(name) DO UPDATE SET value = excluded.value",
                    (name, value),
                )

        async with self._write_lock:
            await self._transaction(change)
            if value is None:
                self._notes.pop(name, None)
            else:
                self._notes[name] = value

    async def claim(self, name: str, ttl_seconds: float) -> bool:
        """One row per live claim, expiring at a wall-clock time (so it holds across a restart);
        each claim first prunes the expired ones."""

        def take(connection: sqlite3.Connection) -> bool:
            at = time.time()
            connection.execute("DELETE FROM claims WHERE expires <= ?", (at,))
            taken = connection.execute(
                "INSERT OR IGNORE INTO claims (name, expires) VALUES (?, ?)", (name, at + ttl_seconds)
            )
            return taken.rowcount == 1

        async with self._write_lock:  # one transaction at a time on the shared connection
            return await self._transaction(take)

    async def release(self, name: str) -> None:
        async with self._write_lock:
            await self._transaction(lambda c: c.execute("DELETE FROM claims WHERE name = ?", (name,)))

    async def claimed(self, name: str) -> bool:
        if self._connection is None:
            raise StoreError("the store is not open")
        connection = self._connection

        def query() -> bool:
            row = connection.execute("SELECT 1 FROM claims WHERE name = ? AND expires > ?", (name, time.time()))
            return row.fetchone() is not None

        async with self._write_lock:  # one statement at a time on the shared connection
            try:
                return await asyncio.to_thread(query)
            except sqlite3.Error as exc:
                logger.warning("issuebridge: SQLite at %s could not be read: %s", self.location, exc)
                raise StoreError(f"the dashboard's database cannot be read ({refusal(exc)})") from None

    async def _write(self, revision: int, change: Callable[[sqlite3.Connection], object]) -> None:
        """Apply ``change`` and move the revision counter in one transaction."""

        def both(connection: sqlite3.Connection) -> None:
            connection.execute("UPDATE counters SET value = ? WHERE name = 'revision'", (revision,))
            change(connection)

        await self._transaction(both)
        self._revision = revision
        if self._failing is not None:  # a change to the dashboard was saved: not a small claim or note
            logger.warning("issuebridge: SQLite at %s takes writes again", self.location)
            self._failing = None

    async def _transaction(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """``work`` in one transaction, off the event loop: committed whole, or rolled back whole
        and raised as :class:`NotSaved` with what SQLite's error means."""
        if self._connection is None:
            raise StoreError("the store is not open")
        connection = self._connection

        def transaction() -> T:
            with connection:  # commits, or rolls back on any error
                connection.execute("BEGIN IMMEDIATE")
                return work(connection)

        try:
            result = await asyncio.to_thread(transaction)
        except sqlite3.Error as exc:
            self._failing = refusal(exc)
            logger.warning("issuebridge: SQLite at %s refused a write: %s (%s)", self.location, self._failing, exc)
            raise NotSaved(self._failing) from None
        return result

    def _connect(self) -> sqlite3.Connection:
        if self._path != ":memory:":
            parent = Path(self._path).resolve().parent
            if not parent.is_dir():
                raise StoreError(
                    f"ISSUEBRIDGE_DB={self._path!r}: the directory {str(parent)!r} does not exist; "
                    "create it or point ISSUEBRIDGE_DB at a writable path"
                )
        try:
            connection = sqlite3.connect(self._path, check_same_thread=False, isolation_level=None)
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")
            connection.executescript(_SCHEMA)
        except sqlite3.Error as exc:
            raise StoreError(
                f"ISSUEBRIDGE_DB={self._path!r} cannot be used as a SQLite database ({exc}); "
                "point ISSUEBRIDGE_DB at a writable path"
            ) from exc
        return connection

    @staticmethod
    def _load_notes(connection: sqlite3.Connection) -> dict[str, str]:
        return dict(connection.execute("SELECT name, value FROM notes"))

    @staticmethod
    def _load(connection: sqlite3.Connection) -> tuple[int, dict[str, AnyEntry]]:
        (revision,) = connection.execute("SELECT value FROM counters WHERE name = 'revision'").fetchone()
        entries: dict[str, AnyEntry] = {}
        for key, body in connection.execute("SELECT key, body FROM entries ORDER BY revision"):
            try:
                entries[key] = read_stored(body)
            except ValidationError:
                logger.warning("Skipping the stored entry %r: its row is not a valid entry", key)
        return revision, entries


# What SQLite's primary result codes mean for whoever runs the server. A real ENOSPC reaches
# here as SQLITE_FULL too (SQLite's unix VFS maps it so), as does a database at max_page_count.
_REFUSALS = {
    sqlite3.SQLITE_FULL: "the disk is full",
    sqlite3.SQLITE_IOERR: "the disk could not be written (an I/O error)",
    sqlite3.SQLITE_READONLY: "the database file is read-only",
    sqlite3.SQLITE_PERM: "the server may not write the database file",
    sqlite3.SQLITE_CANTOPEN: "the database file cannot be opened",
    sqlite3.SQLITE_BUSY: "the database file is locked by another program",
    sqlite3.SQLITE_LOCKED: "the database file is locked by another program",
    sqlite3.SQLITE_CORRUPT: "the database file is damaged",
    sqlite3.SQLITE_NOTADB: "the database file is not a SQLite database",
    sqlite3.SQLITE_NOMEM: "the server is out of memory",
}


def refusal(exc: sqlite3.Error) -> str:
    """What ``exc`` means, in words for the person running the server; no path (``/healthz`` is
    open to anyone), the file is named in the log."""
    code = getattr(exc, "sqlite_errorcode", None)
    if isinstance(code, int) and (code & 0xFF) in _REFUSALS:
        return _REFUSALS[code & 0xFF]
    name = getattr(exc, "sqlite_errorname", None) or type(exc).__name__
    return f"SQLite refused the write ({name})"
