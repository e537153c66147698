import asyncio
import logging
import sqlite3
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from issuebridge.records.issues import Issue, IssuesBoard, issues_key
from issuebridge.records.panels import Panel
from issuebridge.settings import Settings
from issuebridge.store import DashboardStore, NotSaved, SQLiteStore, StoreError, store_for
from issuebridge.store.base import Conflict
from tests.disk import Disk
from tests.unvalidated import board_with_colours, hostile_colours, store_unvalidated


def board(repository: str, *numbers: int, state: str = "open") -> IssuesBoard:
    return IssuesBoard(
        repository=repository,
        state=state,  # type: ignore[arg-type]
        source="api",
        issues=[Issue(number=n, title=f"Issue {n}", state="open") for n in numbers],
        last_updated=datetime.now(UTC),
    )


def panel(panel_id: str, title: str = "Triage") -> Panel:
    return Panel(panel_id=panel_id, title=title, source="mcp", last_updated=datetime.now(UTC))


def numbers(entry: object) -> list[int]:
    assert isinstance(entry, IssuesBoard)
    return [i.number for i in entry.issues]


async def opened(path: Path | str) -> SQLiteStore:
    store = SQLiteStore(path)
    await store.open()
    return store


OpenStore = Callable[[], Awaitable[DashboardStore]]


@pytest.fixture
def open_store(store_env: dict[str, str], backend: str) -> OpenStore:
    """Opens a store of the test's backend (each test that takes this runs on SQLite and on
    Redis: the contract both keep); every store it opens holds the same entries."""

    async def open_() -> DashboardStore:
        store = store_for(Settings.from_env(store_env))
        await store.open()
        return store

    return open_


async def test_save_replaces_an_entry_and_orders_entries_newest_first(open_store: OpenStore) -> None:
    store = await open_store()
    first = await store.save(board("octo/one", 1, 2))
    second = await store.save(panel("notes"))
    replaced = await store.save(board("Octo/One", 4, state="all"))
    assert (first.revision, second.revision, replaced.revision) == (1, 2, 3)
    assert store.revision == 3
    assert [e.key for e in await store.entries()] == ["issues:octo/one", "panel:notes"]
    fetched = await store.get(issues_key("OCTO/one"))
    assert numbers(fetched) == [4] and isinstance(fetched, IssuesBoard) and fetched.state == "all"
    assert await store.get(issues_key("octo/three")) is None
    await store.close()


async def test_entries_and_revision_survive_a_restart(open_store: OpenStore) -> None:
    store = await open_store()
    await store.save(board("octo/one", 1))
    await store.save(panel("notes", "Release notes"))
    await store.save(board("octo/two", 2, 3))
    await store.close()

    reopened = await open_store()
    assert reopened.revision == 3
    entries = await reopened.entries()
    assert [e.key for e in entries] == ["issues:octo/two", "panel:notes", "issues:octo/one"]
    assert numbers(entries[0]) == [2, 3]
    assert isinstance(entries[1], Panel) and entries[1].title == "Release notes"
    assert (await reopened.save(board("octo/three"))).revision == 4
    await reopened.close()


async def test_remove_and_clear_move_the_revision_and_persist(open_store: OpenStore) -> None:
    store = await open_store()
    await store.save(board("octo/one", 1))
    await store.save(panel("notes"))
    assert await store.remove("panel:notes") == 3
    assert await store.remove("panel:notes") is None  # nothing to remove: no revision used
    assert [e.key for e in await store.entries()] == ["issues:octo/one"]
    await store.close()
    store = await open_store()
    assert store.revision == 3 and len(await store.entries()) == 1
    assert await store.clear() == 4
    await store.close()
    store = await open_store()
    assert store.revision == 4 and await store.entries() == []
    await store.close()


async def test_a_failed_write_changes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "boards.db"
    store = await opened(path)
    await store.save(board("octo/one", 1))
    # Make SQLite itself refuse the next write, after the revision counter has moved.
    with sqlite3.connect(path) as raw:
        raw.execute("CREATE TRIGGER refuse BEFORE UPDATE ON entries BEGIN SELECT RAISE(ABORT, 'disk says no'); END")
    with pytest.raises(NotSaved, match=r"^SQLite refused the write \(SQLITE_CONSTRAINT_TRIGGER\)"):
        await store.save(board("octo/one", 7, 8, 9))
    assert store.revision == 1 and numbers(await store.get("issues:octo/one")) == [1]
    await store.close()

    reopened = await opened(path)
    assert reopened.revision == 1 and numbers(await reopened.get("issues:octo/one")) == [1]
    await reopened.close()


async def test_a_full_disk_refuses_the_write_says_so_and_changes_nothing(tmp_path: Path, disk: Disk) -> None:
    path = tmp_path / "boards.db"
    store = await opened(path)
    await store.save(board("octo/one", 1))
    disk.fill()
    with pytest.raises(NotSaved) as refused:
        await store.save(board("octo/one", *range(1, 2001)))
    assert refused.value.about("the board") == "the disk is full: the board was not saved"
    with pytest.raises(NotSaved, match=r"^the disk is full: the change was not saved$"):
        await store.write_note("validators:issues:octo/one", "x" * 100_000)
    # Nothing moved: not the revision, not the copy in memory, not the file.
    assert store.revision == 1 and numbers(await store.get("issues:octo/one")) == [1]
    assert await store.read_note("validators:issues:octo/one") is None
    assert store.health() == "the disk is full: the last change was not saved (each new one tries again)"
    assert str(tmp_path) not in (store.health() or "")
    reopened = await opened(path)
    assert reopened.revision == 1 and numbers(await reopened.get("issues:octo/one")) == [1]
    await reopened.close()

    disk.free()
    assert (await store.save(board("octo/one", *range(1, 2001)))).revision == 2
    assert store.health() is None
    await store.close()


async def test_a_row_that_is_not_a_valid_entry_is_skipped(tmp_path: Path) -> None:
    path = tmp_path / "boards.db"
    store = await opened(path)
    await store.save(board("octo/one", 1))
    await store.close()
    with sqlite3.connect(path) as raw:
        raw.execute("INSERT INTO entries (key, revision, body) VALUES ('issues:bad/row', 9, '{\"kind\": \"nope\"}')")
    reopened = await opened(path)
    assert [e.key for e in await reopened.entries()] == ["issues:octo/one"]
    await reopened.close()


async def test_a_colour_an_older_version_stored_loads_as_grey(
    store_env: dict[str, str], open_store: OpenStore, caplog: pytest.LogCaptureFixture
) -> None:
    colours = hostile_colours("https://evil.example/")
    await store_unvalidated(store_env, board_with_colours("evil/stored", colours))
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        store = await open_store()
    board = await store.get("issues:evil/stored")
    assert isinstance(board, IssuesBoard) and len(board.issues) == len(colours)  # the board, not lost
    assert {label.color for issue in board.issues for label in issue.labels} == {"ededed"}
    assert f"issues:evil/stored was stored with {len(colours)} label colour(s)" in caplog.text
    await store.close()


async def test_memory_store_works_without_a_file() -> None:
    store = await opened(":memory:")
    await store.save(board("octo/one", 1))
    assert len(await store.entries()) == 1
    await store.close()


async def test_missing_directory_fails_with_a_clear_message(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match=r"does not exist.*ISSUEBRIDGE_DB"):
        await opened(tmp_path / "nope" / "boards.db")


async def test_a_file_that_is_not_a_database_fails_with_a_clear_message(tmp_path: Path) -> None:
    path = tmp_path / "boards.db"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match="cannot be used as a SQLite database"):
        await opened(path)


async def test_saving_before_open_is_an_error() -> None:
    with pytest.raises(StoreError, match="not open"):
        await SQLiteStore(":memory:").save(board("octo/one"))


async def test_a_claim_holds_for_its_time_and_survives_a_restart(open_store: OpenStore) -> None:
    store = await open_store()
    assert await store.claim("webhook:abc", 60) is True
    assert await store.claim("webhook:abc", 60) is False  # held: the same work is not done twice
    assert await store.claim("webhook:other", 60) is True  # names are independent
    await store.close()

    reopened = await open_store()
    assert await reopened.claim("webhook:abc", 60) is False  # still held after a restart
    await reopened.close()


async def test_an_expired_claim_can_be_claimed_again_and_is_pruned(tmp_path: Path) -> None:
    path = tmp_path / "boards.db"
    store = await opened(path)
    assert await store.claim("refresh:issues:octo/app", 0.001)
    await asyncio.sleep(0.01)
    assert await store.claim("refresh:issues:octo/app", 60) is True  # the first claim expired
    assert await store.claim("short", 0.001)
    await asyncio.sleep(0.01)
    await store.claim("another", 60)  # every claim prunes what has expired
    with sqlite3.connect(path) as raw:
        names = sorted(name for (name,) in raw.execute("SELECT name FROM claims"))
    assert names == ["another", "refresh:issues:octo/app"]
    await store.close()


async def test_a_released_claim_can_be_claimed_again(open_store: OpenStore) -> None:
    store = await open_store()
    assert await store.claim("webhook:abc", 60)
    await store.release("webhook:abc")
    assert await store.claim("webhook:abc", 60) is True
    await store.release("never-claimed")  # nothing to release is fine
    await store.close()


async def test_concurrent_claims_and_saves_share_the_connection_safely(open_store: OpenStore) -> None:
    store = await open_store()
    results = await asyncio.gather(
        *(store.claim("webhook:same", 60) for _ in range(10)),
        *(store.save(board(f"octo/r{n}", n)) for n in range(1, 6)),
    )
    assert results[:10].count(True) == 1 and store.revision == 5
    await store.close()


async def test_claiming_before_open_is_an_error() -> None:
    with pytest.raises(StoreError, match="not open"):
        await SQLiteStore(":memory:").claim("x", 1)


async def test_a_conditional_save_refuses_to_replace_another_revision(open_store: OpenStore) -> None:
    store = await open_store()
    first = await store.save(board("octo/one", 1), if_revision=0)  # 0: only if there is none
    with pytest.raises(Conflict):
        await store.save(board("octo/one", 2), if_revision=0)
    with pytest.raises(Conflict):
        await store.save(board("octo/one", 3), if_revision=first.revision + 7)
    assert store.revision == 1 and numbers(await store.get("issues:octo/one")) == [1]
    second = await store.save(board("octo/one", 4), if_revision=first.revision)
    assert second.revision == 2 and numbers(await store.get("issues:octo/one")) == [4]
    await store.close()


async def test_notes_are_kept_replaced_dropped_and_survive_a_restart(open_store: OpenStore) -> None:
    store = await open_store()
    assert await store.read_note("validators:issues:octo/one") is None
    await store.write_note("validators:issues:octo/one", '{"etag": "W/\\"1\\""}')
    await store.write_note("validators:issues:octo/one", '{"etag": "W/\\"2\\""}')
    await store.write_note("validators:issues:octo/two", "two")
    await store.write_note("validators:issues:octo/two", None)
    await store.close()
    reopened = await open_store()
    assert await reopened.read_note("validators:issues:octo/one") == '{"etag": "W/\\"2\\""}'
    assert await reopened.read_note("validators:issues:octo/two") is None
    await reopened.close()
