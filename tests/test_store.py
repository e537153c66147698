import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from issuebridge.boards import Board, Issue
from issuebridge.store import SQLiteBoardStore, StoreError


def board(repository: str, *numbers: int, state: str = "open") -> Board:
    return Board(
        repository=repository,
        state=state,  # type: ignore[arg-type]
        source="api",
        issues=[Issue(number=n, title=f"Issue {n}", state="open") for n in numbers],
        last_updated=datetime.now(UTC),
    )


async def test_save_replaces_a_board_and_orders_boards_newest_first(tmp_path: Path) -> None:
    store = SQLiteBoardStore(tmp_path / "boards.db")
    await store.open()
    first = await store.save(board("octo/one", 1, 2))
    second = await store.save(board("octo/two", 3))
    replaced = await store.save(board("Octo/One", 4, state="all"))
    assert (first.revision, second.revision, replaced.revision) == (1, 2, 3)
    assert store.revision == 3
    assert [b.repository for b in await store.boards()] == ["Octo/One", "octo/two"]
    fetched = await store.get("OCTO/one")
    assert fetched is not None and [i.number for i in fetched.issues] == [4] and fetched.state == "all"
    assert await store.get("octo/three") is None
    await store.close()


async def test_boards_and_revision_survive_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "boards.db"
    store = SQLiteBoardStore(path)
    await store.open()
    await store.save(board("octo/one", 1))
    await store.save(board("octo/two", 2, 3))
    await store.close()

    reopened = SQLiteBoardStore(path)
    await reopened.open()
    assert reopened.revision == 2
    assert [(b.repository, [i.number for i in b.issues]) for b in await reopened.boards()] == [
        ("octo/two", [2, 3]),
        ("octo/one", [1]),
    ]
    assert (await reopened.save(board("octo/three"))).revision == 3
    await reopened.close()


async def test_a_failed_write_changes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "boards.db"
    store = SQLiteBoardStore(path)
    await store.open()
    await store.save(board("octo/one", 1))
    # Make SQLite itself refuse the next board write, after the revision counter has moved.
    with sqlite3.connect(path) as raw:
        raw.execute(
            "CREATE TRIGGER refuse BEFORE UPDATE ON boards BEGIN SELECT RAISE(ABORT, 'disk says no'); END"
        )
    with pytest.raises(sqlite3.IntegrityError, match="disk says no"):
        await store.save(board("octo/one", 7, 8, 9))
    kept = await store.get("octo/one")
    assert store.revision == 1 and kept is not None and [i.number for i in kept.issues] == [1]
    await store.close()

    reopened = SQLiteBoardStore(path)
    await reopened.open()
    on_disk = await reopened.get("octo/one")
    assert reopened.revision == 1 and on_disk is not None and [i.number for i in on_disk.issues] == [1]
    await reopened.close()


async def test_memory_store_works_without_a_file() -> None:
    store = SQLiteBoardStore(":memory:")
    await store.open()
    await store.save(board("octo/one", 1))
    assert len(await store.boards()) == 1
    await store.close()


async def test_missing_directory_fails_with_a_clear_message(tmp_path: Path) -> None:
    store = SQLiteBoardStore(tmp_path / "nope" / "boards.db")
    with pytest.raises(StoreError, match=r"does not exist.*ISSUEBRIDGE_DB"):
        await store.open()


async def test_a_file_that_is_not_a_database_fails_with_a_clear_message(tmp_path: Path) -> None:
    path = tmp_path / "boards.db"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match="cannot be used as a SQLite database"):
        await SQLiteBoardStore(path).open()


async def test_saving_before_open_is_an_error() -> None:
    with pytest.raises(StoreError, match="not open"):
        await SQLiteBoardStore(":memory:").save(board("octo/one"))
