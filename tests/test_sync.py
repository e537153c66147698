"""BoardSync.refresh in-process, against the fake GitHub: what a background refresh may overwrite."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from issuebridge.dashboard.sync import BoardSync
from issuebridge.github.client import GitHubSource
from issuebridge.github.errors import GitHubUnavailable
from issuebridge.records.base import now
from issuebridge.records.issues import IssuesBoard, issues_query
from issuebridge.services import core
from issuebridge.store import SQLiteStore
from testkit.fake_github import FakeGitHub, make_issue
from tests.inprocess import until

REPO = "octo/app"


@pytest.fixture
async def store() -> AsyncIterator[SQLiteStore]:
    opened = SQLiteStore(":memory:")
    await opened.open()
    yield opened
    await opened.close()


@pytest.fixture
def boards(store: SQLiteStore, fake_github: FakeGitHub) -> BoardSync:
    github = GitHubSource(fake_github.url, None, timeout=10, max_items=1000)
    return core(store).board_sync(github)


def numbers(board: object) -> list[int]:
    assert isinstance(board, IssuesBoard)
    return [issue.number for issue in board.issues]


async def test_a_board_replaced_during_a_refresh_keeps_its_replacement(
    boards: BoardSync, fake_github: FakeGitHub
) -> None:
    fake_github.add_repo(REPO, [make_issue(REPO, 1)])
    await boards.sync(issues_query(REPO, "open"))
    fake_github.add_repo(REPO, [make_issue(REPO, 1), make_issue(REPO, 2)])
    fake_github.hold()
    refreshing = asyncio.create_task(boards.resync(f"issues:{REPO}"))
    await until(lambda: fake_github.in_flight == 1)  # the fetch is under way
    pushed = IssuesBoard(repository=REPO, state="open", source="api", issues=[], last_updated=now())
    await boards.dashboard.put(pushed)
    fake_github.release()
    assert await refreshing is None
    assert numbers(await boards.dashboard.get(f"issues:{REPO}")) == []


async def test_a_board_removed_during_a_refresh_stays_removed(boards: BoardSync, fake_github: FakeGitHub) -> None:
    fake_github.add_repo(REPO, [make_issue(REPO, 1)])
    await boards.sync(issues_query(REPO, "open"))
    fake_github.add_repo(REPO, [make_issue(REPO, 1), make_issue(REPO, 2)])
    fake_github.hold()
    refreshing = asyncio.create_task(boards.resync(f"issues:{REPO}"))
    await until(lambda: fake_github.in_flight == 1)  # the fetch is under way
    await boards.dashboard.remove(f"issues:{REPO}")
    fake_github.release()
    assert await refreshing is None
    assert await boards.dashboard.get(f"issues:{REPO}") is None


async def test_a_refresh_skips_a_board_being_synced_and_api_boards(boards: BoardSync, fake_github: FakeGitHub) -> None:
    fake_github.add_repo(REPO, [make_issue(REPO, 1)])
    await boards.sync(issues_query(REPO, "open"))
    fake_github.add_repo(REPO, [make_issue(REPO, 1), make_issue(REPO, 2)])
    fake_github.hold()
    syncing = asyncio.create_task(boards.sync(issues_query(REPO, "open")))
    await until(lambda: fake_github.in_flight == 1)  # the sync is under way
    # Skipped at once, not queued: it returns while the sync still waits for GitHub.
    assert await boards.resync(f"issues:{REPO}") is None and not syncing.done()
    fake_github.release()
    assert numbers((await syncing).board) == [2, 1]

    await boards.dashboard.put(
        IssuesBoard(repository="octo/api", state="all", source="api", issues=[], last_updated=now())
    )
    seen = len(fake_github.requests)
    assert await boards.resync("issues:octo/api") is None and await boards.resync("issues:octo/none") is None
    assert len(fake_github.requests) == seen  # nothing asked of GitHub


async def test_a_refresh_writes_a_change_and_confirms_no_change_with_304s(
    boards: BoardSync, fake_github: FakeGitHub
) -> None:
    fake_github.add_repo(REPO, [make_issue(REPO, 1)])
    await boards.sync(issues_query(REPO, "open"))
    revision = boards.dashboard.revision
    seen = len(fake_github.requests)
    same = await boards.resync(f"issues:{REPO}")
    assert same is not None and not same.changed and boards.dashboard.revision == revision
    assert [r.status for r in fake_github.requests[seen:]] == [304]
    fake_github.add_repo(REPO, [make_issue(REPO, 1), make_issue(REPO, 3)])
    changed = await boards.resync(f"issues:{REPO}")
    assert changed is not None and changed.changed and numbers(changed.board) == [3, 1]
    assert changed.board.source == "mcp" and boards.dashboard.revision == revision + 1


async def test_a_renamed_repository_takes_its_board_along(
    boards: BoardSync, store: SQLiteStore, fake_github: FakeGitHub
) -> None:
    fake_github.add_repo(REPO, [make_issue(REPO, n) for n in range(1, 151)])
    await boards.sync(issues_query(REPO, "open"))
    fake_github.rename_repo(REPO, "octo/renamed")

    synced = await boards.sync(issues_query(REPO, "open"))
    assert synced.renamed_from == REPO and synced.changed
    assert synced.board.key == "issues:octo/renamed" and synced.board.repository == "octo/renamed"
    assert [entry.key for entry in await store.entries()] == ["issues:octo/renamed"]
    assert await store.read_note(f"validators:issues:{REPO}") is None  # nothing left of the old board

    seen = len(fake_github.requests)
    again = await boards.sync(issues_query("octo/renamed", "open"))
    assert not again.changed and [r.status for r in fake_github.requests[seen:]] == [304, 304]


async def test_a_refresh_follows_a_rename_too(boards: BoardSync, fake_github: FakeGitHub) -> None:
    fake_github.add_repo(REPO, [make_issue(REPO, 1)])
    await boards.sync(issues_query(REPO, "open"))
    fake_github.rename_repo(REPO, "octo/renamed")
    refreshed = await boards.resync(f"issues:{REPO}")
    assert refreshed is not None and refreshed.renamed_from == REPO
    assert [entry.key for entry in await boards.dashboard.entries()] == ["issues:octo/renamed"]
    same = await boards.resync("issues:octo/renamed")
    assert same is not None and not same.changed  # confirmed with a 304 under the new name


async def test_the_deadline_covers_waiting_for_a_refresh_of_the_same_board(fake_github: FakeGitHub) -> None:
    fake_github.add_repo(REPO, [make_issue(REPO, 1)])
    store = SQLiteStore(":memory:")
    await store.open()
    github = GitHubSource(fake_github.url, None, timeout=10, max_items=1000, call_timeout=0.3)
    boards = core(store).board_sync(github)
    try:
        async with asyncio.timeout(10), boards._holding(f"issues:{REPO}", wait=True):  # as a long refresh would
            with pytest.raises(GitHubUnavailable, match=r"within 0\.3 s"):
                await boards.sync(issues_query(REPO, "open"))
        assert fake_github.requests == []  # it never got as far as asking GitHub
    finally:
        await store.close()


async def test_the_deadline_never_cuts_a_write_short(fake_github: FakeGitHub, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_github.add_repo(REPO, [make_issue(REPO, 1), make_issue(REPO, 2)])
    store = SQLiteStore(":memory:")
    await store.open()
    github = GitHubSource(fake_github.url, None, timeout=10, max_items=1000, call_timeout=0.3)
    boards = core(store).board_sync(github)
    save = store.save

    async def slow_save(entry: Any, **kwargs: Any) -> Any:
        await asyncio.sleep(0.4)  # past the deadline, which no longer applies once the fetch is done
        return await save(entry, **kwargs)

    monkeypatch.setattr(store, "save", slow_save)
    try:
        synced = await boards.sync(issues_query(REPO, "open"))
        assert synced.changed and numbers(await store.get(f"issues:{REPO}")) == [2, 1]
    finally:
        await store.close()


async def test_unreadable_counts_survive_an_unchanged_sync(boards: BoardSync, fake_github: FakeGitHub) -> None:
    fake_github.add_repo(REPO, [make_issue(REPO, 1), make_issue(REPO, 2, title="x" * 5000)])
    first = await boards.sync(issues_query(REPO, "open"))
    again = await boards.sync(issues_query(REPO, "open"))
    assert (first.unreadable, again.unreadable, again.changed) == (1, 1, False)
