"""The dashboard's JSON wire form, and writes that change nothing."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import pytest

from issuebridge.boards import IssuesBoard, issue_from_github, now
from issuebridge.curated import CommitsBoard, Panel, PullsBoard, commit_from_github, pull_from_github
from issuebridge.dashboard import Dashboard, JsonFormat, entry_json, entry_payload
from issuebridge.entries import AnyEntry
from issuebridge.events import EventHub
from issuebridge.settings import Settings
from issuebridge.store import store_for
from tests.fake_github import make_commit, make_issue, make_pull

REPO = "octo/app"
# What JSON must escape, what it must not, and what would break an SSE line if left raw.
NASTY = 'quote " back\\slash </script> new\nline tab\t emoji \U0001f600 sep \u2028 nul \x00'


def entries() -> list[AnyEntry]:
    issues = [issue_from_github(make_issue(REPO, n, title=f"{NASTY} {n}", labels=[("bug", "d73a4a")])) for n in (1, 2)]
    return [
        IssuesBoard(repository=REPO, state="open", source="mcp", issues=issues, last_updated=now()),
        PullsBoard(
            repository=REPO,
            state="open",
            source="mcp",
            pulls=[pull_from_github(make_pull(REPO, 3, title=NASTY, draft=True))],
            last_updated=now(),
        ),
        CommitsBoard(
            repository=REPO,
            since=now(),
            source="mcp",
            commits=[commit_from_github(make_commit(REPO, 1, message=NASTY))],
            last_updated=now(),
        ),
        Panel(panel_id="triage", title=NASTY, summary_markdown=NASTY, source="mcp", last_updated=now()),
    ]


@pytest.fixture
async def dashboard(store_settings: dict[str, Any]) -> AsyncIterator[Dashboard]:
    """A dashboard on the test's store (each test runs on SQLite and on Redis)."""
    store = store_for(Settings(**store_settings))
    await store.open()
    yield Dashboard(store, EventHub(), {"json": JsonFormat()})
    await store.close()


def test_entry_json_is_the_documented_payload_for_every_kind() -> None:
    for entry in entries():
        assert json.loads(entry_json(entry)) == entry_payload(entry), entry.kind


def test_json_events_are_one_data_line_with_the_payload() -> None:
    everything = entries()
    frame = JsonFormat().snapshot(everything, 7).decode()
    lines = frame.removesuffix("\r\n\r\n").split("\r\n")
    assert lines[0] == "id: 7" and lines[1] == "event: initial_data" and lines[2].startswith("data: ")
    assert len(lines) == 3
    data = json.loads(lines[2].removeprefix("data: "))
    assert data["type"] == "initial_data"
    assert data["data"]["boards"] == [entry_payload(everything[0])]
    assert [len(data["data"][group]) for group in ("pull_boards", "commit_boards", "panels")] == [1, 1, 1]


async def test_a_refresh_with_the_same_content_writes_and_sends_nothing(dashboard: Dashboard) -> None:
    store, hub = dashboard.store, dashboard.hub
    board = entries()[0]
    assert isinstance(board, IssuesBoard)
    stored, changed = await dashboard.refresh(board)
    assert changed and store.revision == 1
    async with hub.subscribe() as subscription:
        # Written later, rows in another order: the same board.
        again = board.model_copy(update={"last_updated": now(), "issues": board.issues[::-1]})
        kept, changed = await dashboard.refresh(again)
        assert not changed and kept == stored and store.revision == 1
        retitled = [replace(board.issues[0], title="new"), board.issues[1]]
        _, changed = await dashboard.refresh(board.model_copy(update={"issues": retitled}))
        assert changed and store.revision == 2
        events = aiter(subscription)
        assert (await asyncio.wait_for(anext(events), 1)).id == 2  # one event: the retitled board


async def test_update_reads_and_writes_under_the_write_lock(dashboard: Dashboard) -> None:
    store = dashboard.store
    board = entries()[0]
    assert isinstance(board, IssuesBoard)
    assert await dashboard.update(board.key, lambda current: None) == (None, False)  # nothing to change
    await dashboard.put(board)

    def add_one(current: AnyEntry | None) -> IssuesBoard | None:
        assert isinstance(current, IssuesBoard)
        extra = issue_from_github(make_issue(REPO, 100 + len(current.issues)))
        return current.model_copy(update={"issues": [*current.issues, extra]})

    # Many at once: each sees the board the previous one wrote, so none of the additions is lost.
    await asyncio.gather(*(dashboard.update(board.key, add_one) for _ in range(5)))
    stored = await store.get(board.key)
    assert isinstance(stored, IssuesBoard) and len(stored.issues) == 7 and store.revision == 6
    # A change that shows nothing new writes nothing.
    same, changed = await dashboard.update(
        board.key, lambda current: current if isinstance(current, IssuesBoard) else None
    )
    assert not changed and same == stored and store.revision == 6
