"""BoardSync.refresh in-process, against the fake GitHub: what a background refresh may overwrite."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from issuebridge.boards import IssuesBoard, now
from issuebridge.dashboard import Dashboard, JsonFormat
from issuebridge.events import EventHub
from issuebridge.github import GitHubSource
from issuebridge.store import SQLiteStore
from issuebridge.sync import BoardSync, issues_query
from tests.fake_github import FakeGitHub, make_issue

REPO = "octo/app"


@pytest.fixture
async def boards(fake_github: FakeGitHub) -> AsyncIterator[BoardSync]:
    store = SQLiteStore(":memory:")
    await store.open()
    github = GitHubSource(fake_github.url, None, timeout=10, max_items=1000)
    yield BoardSync(Dashboard(store, EventHub(), {"json": JsonFormat()}), github)
    await store.close()


def numbers(board: object) -> list[int]:
    assert isinstance(board, IssuesBoard)
    return [issue.number for issue in board.issues]


async def test_a_board_replaced_during_a_refresh_keeps_its_replacement(
    boards: BoardSync, fake_github: FakeGitHub
) -> None:
    fake_github.add_repo(REPO, [make_issue(REPO, 1)])
    await boards.sync(issues_query(REPO, "open"))
    fake_github.add_repo(REPO, [make_issue(REPO, 1), make_issue(REPO, 2)])
    fake_github.latency = 0.3
    refreshing = asyncio.create_task(boards.refresh(f"issues:{REPO}"))
    await asyncio.sleep(0.1)  # the fetch is under way
    pushed = IssuesBoard(repository=REPO, state="open", source="api", issues=[], last_updated=now())
    await boards.dashboard.put(pushed)
    assert await refreshing is None
    assert numbers(await boards.dashboard.store.get(f"issues:{REPO}")) == []


async def test_a_board_removed_during_a_refresh_stays_removed(boards: BoardSync, fake_github: FakeGitHub) -> None:
    fake_github.add_repo(REPO, [make_issue(REPO, 1)])
    await boards.sync(issues_query(REPO, "open"))
    fake_github.add_repo(REPO, [make_issue(REPO, 1), make_issue(REPO, 2)])
    fake_github.latency = 0.3
    refreshing = asyncio.create_task(boards.refresh(f"issues:{REPO}"))
    await asyncio.sleep(0.1)
    await boards.dashboard.remove(f"issues:{REPO}")
    assert await refreshing is None
    assert await boards.dashboard.store.get(f"issues:{REPO}") is None


async def test_a_refresh_skips_a_board_being_synced_and_api_boards(boards: BoardSync, fake_github: FakeGitHub) -> None:
    fake_github.add_repo(REPO, [make_issue(REPO, 1)])
    await boards.sync(issues_query(REPO, "open"))
    fake_github.add_repo(REPO, [make_issue(REPO, 1), make_issue(REPO, 2)])
    fake_github.latency = 0.3
    syncing = asyncio.create_task(boards.sync(issues_query(REPO, "open")))
    await asyncio.sleep(0.1)
    assert await boards.refresh(f"issues:{REPO}") is None  # skipped at once, not queued
    assert numbers((await syncing).board) == [2, 1]

    fake_github.latency = 0
    await boards.dashboard.put(
        IssuesBoard(repository="octo/api", state="all", source="api", issues=[], last_updated=now())
    )
    seen = len(fake_github.requests)
    assert await boards.refresh("issues:octo/api") is None and await boards.refresh("issues:octo/none") is None
    assert len(fake_github.requests) == seen  # nothing asked of GitHub


async def test_a_refresh_writes_a_change_and_confirms_no_change_with_304s(
    boards: BoardSync, fake_github: FakeGitHub
) -> None:
    fake_github.add_repo(REPO, [make_issue(REPO, 1)])
    await boards.sync(issues_query(REPO, "open"))
    revision = boards.dashboard.store.revision
    seen = len(fake_github.requests)
    same = await boards.refresh(f"issues:{REPO}")
    assert same is not None and not same.changed and boards.dashboard.store.revision == revision
    assert [r.status for r in fake_github.requests[seen:]] == [304]
    fake_github.add_repo(REPO, [make_issue(REPO, 1), make_issue(REPO, 3)])
    changed = await boards.refresh(f"issues:{REPO}")
    assert changed is not None and changed.changed and numbers(changed.board) == [3, 1]
    assert changed.board.source == "mcp" and boards.dashboard.store.revision == revision + 1
