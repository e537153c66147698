"""Boards in memory for reads, written through to SQLite so a restart shows the last boards."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from pathlib import Path

from pydantic import ValidationError

from issuebridge.boards import Board, board_key
from issuebridge.store.base import StoreError

logger = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS boards (
    key TEXT PRIMARY KEY,
    revision INTEGER NOT NULL,
    body TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS counters (
    name TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
INSERT OR IGNORE INTO counters (name, value) VALUES ('revision', 0);
"""


class SQLiteBoardStore:
    """One SQLite file (or ``:memory:``); each save is one transaction, so a board is never half-written.

    Reads are served from memory. Writes run in a worker thread, one at a time, so a large
    board does not stall the event loop.
    """

    def __init__(self, path: Path | str) -> None:
        self._path = str(path)
        self._connection: sqlite3.Connection | None = None
        self._boards: dict[str, Board] = {}
        self._revision = 0
        self._write_lock = asyncio.Lock()

    @property
    def revision(self) -> int:
        return self._revision

    async def open(self) -> None:
        self._connection = await asyncio.to_thread(self._connect)
        self._revision, self._boards = await asyncio.to_thread(self._load, self._connection)

    async def close(self) -> None:
        if self._connection is not None:
            connection, self._connection = self._connection, None
            await asyncio.to_thread(connection.close)

    async def save(self, board: Board) -> Board:
        connection = self._require_connection()
        async with self._write_lock:
            stored = board.model_copy(update={"revision": self._revision + 1})
            await asyncio.to_thread(self._write, connection, stored)
            self._revision = stored.revision
            # Re-inserting moves the board to the end: the dict stays in save order.
            self._boards.pop(stored.key, None)
            self._boards[stored.key] = stored
            return stored

    async def get(self, repository: str) -> Board | None:
        return self._boards.get(board_key(repository))

    async def boards(self) -> list[Board]:
        return list(reversed(self._boards.values()))

    def _require_connection(self) -> sqlite3.Connection:
        if self._connection is None:
            raise StoreError("the board store is not open")
        return self._connection

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
    def _load(connection: sqlite3.Connection) -> tuple[int, dict[str, Board]]:
        (revision,) = connection.execute("SELECT value FROM counters WHERE name = 'revision'").fetchone()
        boards: dict[str, Board] = {}
        for key, body in connection.execute("SELECT key, body FROM boards ORDER BY revision"):
            try:
                boards[key] = Board.model_validate_json(body)
            except ValidationError:
                logger.warning("Skipping the stored board %r: its row is not a valid board", key)
        return revision, boards

    @staticmethod
    def _write(connection: sqlite3.Connection, board: Board) -> None:
        body = board.model_dump_json()
        with connection:  # one transaction: the counter and the board move together or not at all
            connection.execute("BEGIN IMMEDIATE")
            connection.execute("UPDATE counters SET value = ? WHERE name = 'revision'", (board.revision,))
            connection.execute(
                "INSERT INTO boards (key, revision, body) VALUES (?, ?, ?) "
                "ON CONFLICT(key) DO UPDATE SET revision = excluded.revision, body = excluded.body",
                (board.key, board.revision, body),
            )
