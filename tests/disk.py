"""A full disk, without mounting anything: SQLite's ``max_page_count`` held at the file's size.

SQLite then answers a write that needs another page with SQLITE_FULL ("database or disk is
full"), the result code its unix VFS gives for ENOSPC (and for a short write), so the store takes
the path a real full disk takes. A test asks for the ``disk`` fixture, opens its stores, and
calls :meth:`Disk.fill` and :meth:`Disk.free`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

import pytest

from issuebridge.store import SQLiteStore

UNLIMITED_PAGES = 4_294_967_294  # SQLite's largest max_page_count


class Disk:
    """Every SQLite connection a store opened during the test, and their room to grow."""

    def __init__(self) -> None:
        self.connections: list[sqlite3.Connection] = []

    def fill(self) -> None:
        """No room left: free pages compacted away, the limit set to the pages in use."""
        for connection in self._open():
            connection.execute("VACUUM")
            (pages,) = connection.execute("PRAGMA page_count").fetchone()
            connection.execute(f"PRAGMA max_page_count = {pages}")

    def free(self) -> None:
        for connection in self._open():
            connection.execute(f"PRAGMA max_page_count = {UNLIMITED_PAGES}")

    def _open(self) -> list[sqlite3.Connection]:
        self.connections = [c for c in self.connections if _is_open(c)]
        return self.connections


def _is_open(connection: sqlite3.Connection) -> bool:
    try:
        connection.total_changes  # noqa: B018 - raises once the connection is closed
    except sqlite3.ProgrammingError:
        return False
    return True


@pytest.fixture
def disk(monkeypatch: pytest.MonkeyPatch) -> Iterator[Disk]:
    """A :class:`Disk` that sees every SQLite store opened from now on (in this process)."""
    seen = Disk()
    connect = SQLiteStore._connect

    def recorded(store: SQLiteStore) -> sqlite3.Connection:
        connection = connect(store)
        seen.connections.append(connection)
        return connection

    monkeypatch.setattr(SQLiteStore, "_connect", recorded)
    yield seen
