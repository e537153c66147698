"""The dashboard's JSON wire form, writes that change nothing, and writes that fail changing nothing."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any, cast

import pytest
from pydantic import ValidationError

from issuebridge.github.mapping import commit_from_github, issue_from_github, pull_from_github
from issuebridge.live.announcer import SNAPSHOT_MAX_AGE_SECONDS, Unannounceable
from issuebridge.live.changes import Change, Touched, WireFormat
from issuebridge.live.json_format import JsonFormat, entry_json, entry_payload
from issuebridge.records.base import GITHUB_INT_MAX, now
from issuebridge.records.commits import CommitsBoard
from issuebridge.records.issues import IssuesBoard, SyncIssuesRequest
from issuebridge.records.panels import Panel
from issuebridge.records.pulls import PullRequest, PullsBoard
from issuebridge.records.registry import AnyEntry
from issuebridge.services import Core, core
from issuebridge.settings import Settings
from issuebridge.store import DashboardStore, store_for
from testkit.fake_github import make_commit, make_issue, make_pull

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


def issues_board() -> IssuesBoard:
    board = entries()[0]
    assert isinstance(board, IssuesBoard)
    return board


def panel() -> Panel:
    entry = entries()[3]
    assert isinstance(entry, Panel)
    return entry


@pytest.fixture
async def store(store_settings: dict[str, Any], backend: str) -> AsyncIterator[DashboardStore]:
    """The test's store, open. Each test that takes it runs on SQLite and on Redis: a write that
    fails must change nothing in either, and each reports its changes its own way."""
    opened = store_for(Settings(**store_settings))
    await opened.open()
    yield opened
    await opened.close()


@pytest.fixture
def parts(store: DashboardStore) -> Core:
    """A dashboard on the test's store, announcing JSON events."""
    return core(store)


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


async def test_a_refresh_with_the_same_content_writes_and_sends_nothing(parts: Core) -> None:
    store, hub, dashboard = parts.store, parts.hub, parts.dashboard
    board = entries()[0]
    assert isinstance(board, IssuesBoard)
    stored, changed = await dashboard.put_if_changed(board)
    assert changed and store.revision == 1
    async with hub.subscribe() as subscription:
        # Written later, rows in another order: the same board.
        again = board.model_copy(update={"last_updated": now(), "issues": board.issues[::-1]})
        kept, changed = await dashboard.put_if_changed(again)
        assert not changed and kept == stored and store.revision == 1
        retitled = [replace(board.issues[0], title="new"), board.issues[1]]
        _, changed = await dashboard.put_if_changed(board.model_copy(update={"issues": retitled}))
        assert changed and store.revision == 2
        events = aiter(subscription)
        assert (await asyncio.wait_for(anext(events), 1)).id == 2  # one event: the retitled board


async def test_update_reads_and_writes_under_the_write_lock(parts: Core) -> None:
    store, dashboard = parts.store, parts.dashboard
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


# Nothing changes on an error (issue 14, item 8): numbers are bounded on the way in, a write's
# event is built before it is stored, and an event that was never published is noticed.


def board_with(number: int, comments: int = 0) -> dict[str, Any]:
    return {"repository": REPO, "issues": [{"number": number, "title": "t", "state": "open", "comments": comments}]}


@pytest.mark.parametrize(
    ("number", "comments"),
    [(2**31, 0), (2**63 + 1, 0), (2**64 + 5, 0), (10**30, 0), (1, 2**31), (1, 2**64), (0, 0), (1, -1)],
)
def test_numbers_no_github_record_could_hold_are_refused(number: int, comments: int) -> None:
    with pytest.raises(ValidationError):
        SyncIssuesRequest.model_validate(board_with(number, comments))


def test_the_largest_numbers_github_has_are_kept() -> None:
    request = SyncIssuesRequest.model_validate(board_with(GITHUB_INT_MAX, GITHUB_INT_MAX))
    board = IssuesBoard(repository=REPO, state="all", source="api", issues=request.issues, last_updated=now())
    assert json.loads(entry_json(board))["issues"][0]["number"] == 2**31 - 1
    with pytest.raises(ValidationError):
        PullRequest(number=2**31, title="t", state="open")


class Refuses:
    """A wire format that cannot encode boards whose repository is ``octo/bad`` (as a bug would)."""

    def __init__(self) -> None:
        self.inner = JsonFormat()

    def change(self, change: Change) -> bytes:
        if change.entry.related_repository == "octo/bad":
            raise ValueError("cannot encode this")
        return self.inner.change(change)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


async def test_a_write_whose_event_cannot_be_built_is_refused_and_changes_nothing(store: DashboardStore) -> None:
    parts = core(store, {"json": JsonFormat(), "html": cast(WireFormat, Refuses())})
    dashboard = parts.dashboard
    good = issues_board()
    await dashboard.put(good)
    async with parts.hub.subscribe() as page:
        bad = IssuesBoard(repository="octo/bad", state="open", source="api", issues=[], last_updated=now())
        with pytest.raises(Unannounceable, match="could not be built"):
            await dashboard.put(bad)
        assert store.revision == 1 and await store.get(bad.key) is None
        assert page.pop() is None and not page.ended  # nothing was announced, nobody reconnects
        await dashboard.put(good.model_copy(update={"last_updated": now()}))
        following = await asyncio.wait_for(page.next(), 1)
        assert following is not None and following.id == 2  # the next write follows on


async def test_a_change_whose_event_cannot_be_built_sends_every_page_to_a_snapshot(store: DashboardStore) -> None:
    """Another process's change (here: straight into the store) is only encoded when announced."""
    parts = core(store, {"json": cast(WireFormat, Refuses())})
    await parts.dashboard.put(issues_board())
    async with parts.hub.subscribe() as page:
        bad = IssuesBoard(repository="octo/bad", state="open", source="api", issues=[], last_updated=now())
        await store.save(bad)
        assert page.ended  # reconnects, rather than never hearing of revision 2
    revision, frames = await parts.announcer.resume("json", last_event_id=1)
    assert revision == 2 and len(frames) == 1 and b"event: initial_data" in frames[0]


class Counting:
    def __init__(self) -> None:
        self.inner = JsonFormat()
        self.snapshots = 0

    def snapshot(self, entries: list[AnyEntry], revision: int) -> bytes:
        self.snapshots += 1
        return self.inner.snapshot(entries, revision)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


async def test_a_snapshot_is_built_once_per_revision_and_shared(store_settings: dict[str, Any]) -> None:
    store = store_for(Settings(**store_settings))
    await store.open()
    clock = [100.0]
    counting = Counting()
    parts = core(store, {"json": cast(WireFormat, counting)}, clock=lambda: clock[0])
    dashboard, announcer = parts.dashboard, parts.announcer
    try:
        await dashboard.put(issues_board())
        first = [await announcer.resume("json", None) for _ in range(60)]  # a burst of connections
        assert counting.snapshots == 1 and all(frames[0] is first[0][1][0] for _, frames in first)
        await dashboard.put(panel())
        revision, _ = await announcer.resume("json", None)
        assert revision == 2 and counting.snapshots == 2  # a new revision, a new snapshot
        clock[0] += SNAPSHOT_MAX_AGE_SECONDS + 1
        await announcer.resume("json", None)
        assert counting.snapshots == 3  # and an old one is rebuilt, for its "3 minutes ago"
    finally:
        await store.close()


async def test_a_failing_listener_fails_neither_the_write_nor_the_others(parts: Core) -> None:
    heard: list[list[Touched]] = []

    def broken(touched: list[Touched]) -> None:
        raise RuntimeError("listener bug")

    parts.announcer.listeners.extend([broken, heard.append])
    stored = await parts.dashboard.put(panel())
    assert stored.revision == 1 and heard == [[Touched("panel:triage", None)]]
