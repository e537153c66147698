"""The Redis store as several workers see it: one shared Redis, each worker with its own copy.

The backend-neutral behaviour (saving, ordering, revisions, persistence) is in
``tests/test_store.py``, which runs against both stores.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from urllib.parse import urlsplit

import pytest

from issuebridge.boards import Issue, IssuesBoard, now
from issuebridge.curated import Panel
from issuebridge.dashboard import Dashboard, JsonFormat
from issuebridge.entries import AnyEntry
from issuebridge.events import EventHub
from issuebridge.store import RedisStore, StoreError
from issuebridge.store.base import Cleared, Conflict, Reloaded, Removed, Saved, StoreChange
from issuebridge.store.redis import LOG
from tests.conftest import RedisServer, free_port
from tests.tcp_proxy import TcpProxy
from tests.unvalidated import board_with_colours, hostile_colours


def panel(panel_id: str, title: str = "Triage") -> Panel:
    return Panel(panel_id=panel_id, title=title, source="mcp", last_updated=datetime.now(UTC))


class Worker:
    """One worker's store, and every change it was told about."""

    def __init__(self, url: str) -> None:
        self.store = RedisStore(url, poll_seconds=0.2)
        self.changes: list[StoreChange] = []
        self._seen = asyncio.Condition()
        self.store.follow(self._record)

    async def _record(self, change: StoreChange) -> None:
        async with self._seen:
            self.changes.append(change)
            self._seen.notify_all()

    async def wait_for(self, predicate: Callable[[], bool]) -> None:
        async with self._seen:
            await asyncio.wait_for(self._seen.wait_for(predicate), 5)

    async def until_revision(self, revision: int) -> None:
        await self.wait_for(lambda: self.store.revision >= revision)


class Workers:
    """Workers sharing one fresh Redis database."""

    def __init__(self, redis_server: RedisServer) -> None:
        self.redis = redis_server
        self.url = redis_server.fresh_url()
        self.database = int(urlsplit(self.url).path.strip("/"))
        self.opened: list[Worker] = []

    async def start(self, proxy: TcpProxy | None = None) -> Worker:
        """A worker on the shared database, reaching Redis directly or through ``proxy``."""
        url = self.url if proxy is None else f"redis://127.0.0.1:{proxy.port}/{self.database}"
        worker = Worker(url)
        await worker.store.open()
        self.opened.append(worker)
        return worker

    def command(self, *args: str) -> str:
        return self.redis.command(*args, database=self.database)


@pytest.fixture
async def workers(redis_server: RedisServer) -> AsyncIterator[Workers]:
    cluster = Workers(redis_server)
    yield cluster
    for worker in cluster.opened:
        await worker.store.close()


async def test_a_write_on_one_worker_is_reported_and_readable_on_the_other(workers: Workers) -> None:
    a, b = await workers.start(), await workers.start()
    first = await a.store.save(panel("notes", "First"))
    await b.until_revision(first.revision)
    seen = await b.store.get("panel:notes")
    assert isinstance(seen, Panel) and seen.title == "First" and seen.revision == first.revision
    assert b.changes == [Saved(seen, None)]

    second = await b.store.save(panel("notes", "Second"))
    await a.until_revision(second.revision)
    saved = a.changes[-1]
    assert isinstance(saved, Saved) and saved.previous is not None
    assert (saved.previous.revision, saved.entry.revision) == (first.revision, second.revision)

    assert await a.store.remove("panel:notes") == 3
    assert await b.store.remove("panel:notes") is None  # already gone: no revision used
    await a.store.save(panel("other"))
    assert await b.store.clear() == 5
    await a.until_revision(5)
    assert [type(c) for c in a.changes] == [Saved, Saved, Removed, Saved, Cleared]
    assert [c.revision for c in a.changes] == [c.revision for c in b.changes] == [1, 2, 3, 4, 5]
    assert await a.store.entries() == [] and await b.store.entries() == []


async def test_concurrent_writers_are_reported_in_the_same_order_everywhere(workers: Workers) -> None:
    a, b, watcher = await workers.start(), await workers.start(), await workers.start()
    await asyncio.gather(*(writer.store.save(panel(f"p{n % 3}", f"{n}")) for n in range(30) for writer in (a, b)))
    for worker in (a, b, watcher):
        await worker.until_revision(60)
    sequences = [
        [(c.revision, c.entry.model_dump_json()) for c in w.changes if isinstance(c, Saved)] for w in (a, b, watcher)
    ]
    assert sequences[0] == sequences[1] == sequences[2]
    assert [revision for revision, _ in sequences[0]] == list(range(1, 61))
    assert [e.model_dump() for e in await a.store.entries()] == [e.model_dump() for e in await b.store.entries()]


async def test_a_worker_that_loses_redis_keeps_reading_and_catches_up(workers: Workers) -> None:
    writer = await workers.start()
    with TcpProxy(workers.redis.port) as proxy:
        away = await workers.start(proxy)
        await writer.store.save(panel("kept", "Before"))
        await away.until_revision(1)

        proxy.cut()
        for _ in range(50):
            if away.store.health() is not None:
                break
            await asyncio.sleep(0.1)
        problem = away.store.health()
        assert problem is not None and problem.startswith("Redis is unreachable")
        assert str(proxy.port) not in problem  # /healthz is open to anyone: no addresses
        assert [e.key for e in await away.store.entries()] == ["panel:kept"]  # still served from memory
        with pytest.raises(StoreError, match="cannot be written"):
            await away.store.save(panel("lost"))
        assert await writer.store.get("panel:lost") is None
        await writer.store.save(panel("kept", "While away"))
        await writer.store.save(panel("new"))

        proxy.restore()
        await away.until_revision(3)
        assert away.store.health() is None
        assert [type(c) for c in away.changes] == [Saved, Saved, Saved]  # caught up from the log, no reload
        kept = await away.store.get("panel:kept")
        assert isinstance(kept, Panel) and kept.title == "While away"


async def test_a_log_trimmed_past_a_worker_makes_it_reload(workers: Workers) -> None:
    writer = await workers.start()
    with TcpProxy(workers.redis.port) as proxy:
        away = await workers.start(proxy)
        await writer.store.save(panel("one"))
        await away.until_revision(1)
        proxy.cut()
        await writer.store.save(panel("two"))
        await writer.store.remove("panel:one")
        await writer.store.save(panel("three"))
        workers.command("XTRIM", LOG, "MAXLEN", "1")
        proxy.restore()
        await away.until_revision(4)
    assert away.changes[-1] == Reloaded(4)
    assert [e.key for e in await away.store.entries()] == ["panel:three", "panel:two"]


async def test_redis_that_lost_its_data_is_noticed_and_reloaded(workers: Workers) -> None:
    worker = await workers.start()
    await worker.store.save(panel("one"))
    await worker.store.save(panel("two"))
    workers.command("FLUSHDB")
    await worker.wait_for(lambda: bool(worker.changes) and isinstance(worker.changes[-1], Reloaded))
    assert worker.store.revision == 0 and await worker.store.entries() == []
    assert (await worker.store.save(panel("after"))).revision == 1


async def test_claims_are_shared_between_workers_and_expire(workers: Workers) -> None:
    a, b = await workers.start(), await workers.start()
    assert await a.store.claim("delivery:1", 0.3)
    assert not await b.store.claim("delivery:1", 0.3)
    assert await b.store.claim("delivery:2", 0.3)
    await asyncio.sleep(0.4)
    assert await b.store.claim("delivery:1", 0.3)


async def test_an_unreachable_redis_stops_start_up_with_a_clear_message_and_no_password() -> None:
    store = RedisStore(f"redis://user:hunter2@127.0.0.1:{free_port()}/3")
    with pytest.raises(StoreError) as failure:
        await store.open()
    message = str(failure.value)
    assert "ISSUEBRIDGE_REDIS_URL" in message and "redis://127.0.0.1:" in message and "/3" in message
    assert "hunter2" not in message and "user" not in message


async def test_a_conditional_save_that_lost_to_another_worker_waits_to_see_the_winner(workers: Workers) -> None:
    a, b = await workers.start(), await workers.start()
    await a.store.save(panel("notes", "First"))
    await b.until_revision(1)
    # Both read revision 1 and build on it; a gets in first.
    await a.store.save(panel("notes", "From a"), if_revision=1)
    with pytest.raises(Conflict):
        await b.store.save(panel("notes", "From b"), if_revision=1)
    seen = await b.store.get("panel:notes")  # the Conflict came after b had applied a's write
    assert isinstance(seen, Panel) and seen.title == "From a" and seen.revision == 2
    assert (await b.store.save(panel("notes", "From b"), if_revision=2)).revision == 3


async def test_read_modify_writes_from_two_workers_lose_nothing(workers: Workers) -> None:
    """Webhooks change one row of a board at a time; two workers doing so at once keep both rows."""
    a, b = await workers.start(), await workers.start()
    await a.store.save(IssuesBoard(repository="octo/app", state="all", source="mcp", issues=[], last_updated=now()))
    await b.until_revision(1)
    dashboards = [Dashboard(worker.store, EventHub(), {"json": JsonFormat()}) for worker in (a, b)]

    def adding(number: int) -> Callable[[AnyEntry | None], IssuesBoard | None]:
        def change(board: AnyEntry | None) -> IssuesBoard | None:
            assert isinstance(board, IssuesBoard)
            issue = Issue(number=number, title=f"Issue {number}", state="open")
            return board.model_copy(update={"issues": [*board.issues, issue]})

        return change

    await asyncio.gather(
        *(dashboards[n % 2].update("issues:octo/app", adding(n)) for n in range(1, 21)),
    )
    for worker in (a, b):
        board = await worker.store.get("issues:octo/app")
        assert isinstance(board, IssuesBoard) and sorted(i.number for i in board.issues) == list(range(1, 21))


async def test_pages_on_a_worker_that_reloaded_reconnect_to_a_snapshot(workers: Workers) -> None:
    writer = await workers.start()
    with TcpProxy(workers.redis.port) as proxy:
        away = await workers.start(proxy)
        dashboard = Dashboard(away.store, EventHub(), {"json": JsonFormat()})
        await writer.store.save(panel("one"))
        async with dashboard.hub.subscribe() as page:
            assert (await asyncio.wait_for(page.next(), 5)) is not None  # revision 1, live
            proxy.cut()
            await writer.store.save(panel("two"))
            workers.command("XTRIM", LOG, "MAXLEN", "0")
            proxy.restore()
            assert (await asyncio.wait_for(page.next(), 5)) is None  # the stream ends: reconnect
        revision, frames = await dashboard.catch_up("json", last_event_id=1)
    assert revision == 2 and len(frames) == 1 and b"event: initial_data" in frames[0] and b"panel:two" in frames[0]


async def test_a_read_modify_write_starts_from_what_another_worker_just_wrote(workers: Workers) -> None:
    """A webhook reaching one worker right after a tool created the board on another finds the board."""
    a, b = await workers.start(), await workers.start()
    on_b = Dashboard(b.store, EventHub(), {"json": JsonFormat()})
    for round_ in range(20):  # no waiting in between: b may not have read a's write from the log yet
        key = f"panel:p{round_}"
        await a.store.save(panel(f"p{round_}", "Created on a"))
        changed, _ = await on_b.update(
            key, lambda entry: entry.model_copy(update={"title": "Changed on b"}) if isinstance(entry, Panel) else None
        )
        assert isinstance(changed, Panel) and changed.title == "Changed on b", round_


async def test_a_change_logged_with_a_colour_an_older_worker_let_through_is_applied_grey(workers: Workers) -> None:
    older, newer = await workers.start(), await workers.start()
    colours = hostile_colours("https://evil.example/")
    written = await older.store.save(board_with_colours("evil/logged", colours))  # as an older version saves
    await newer.until_revision(written.revision)
    board = await newer.store.get("issues:evil/logged")
    assert isinstance(board, IssuesBoard) and len(board.issues) == len(colours)
    assert {label.color for issue in board.issues for label in issue.labels} == {"ededed"}
