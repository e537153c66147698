"""The Redis store as several workers see it: one shared Redis, each worker with its own copy.

The backend-neutral behaviour (saving, ordering, revisions, persistence) is in
``tests/test_store.py``, which runs against both stores.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from issuebridge.records.base import now
from issuebridge.records.issues import Issue, IssuesBoard
from issuebridge.records.panels import Panel
from issuebridge.records.registry import AnyEntry
from issuebridge.services import core
from issuebridge.store import MaybeSaved, NotSaved, RedisStore, StoreError, redis
from issuebridge.store.base import Cleared, Conflict, Reloaded, Removed, Saved, StoreChange
from issuebridge.store.redis import LOG, RECONNECT_DELAYS
from testkit.servers import RedisServer
from tests.inprocess import until
from tests.tcp_proxy import TcpProxy
from tests.unvalidated import board_with_colours, hostile_colours


def panel(panel_id: str, title: str = "Triage") -> Panel:
    return Panel(panel_id=panel_id, title=title, source="mcp", last_updated=datetime.now(UTC))


class Pauses:
    """A store's waits between reconnects, each noted and cut to 10 ms: the back-off is seen,
    not sat through."""

    def __init__(self) -> None:
        self.taken: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.taken.append(seconds)
        await asyncio.sleep(0.01)


class Worker:
    """One worker's store, and every change it was told about."""

    def __init__(self, url: str, poll_seconds: float) -> None:
        self.store = RedisStore(url, poll_seconds=poll_seconds, pause=Pauses())
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

    async def start(self, proxy: TcpProxy | None = None, poll_seconds: float = 0.2) -> Worker:
        """A worker on the shared database, reaching Redis directly or through ``proxy``."""
        url = self.url if proxy is None else f"redis://127.0.0.1:{proxy.port}/{self.database}"
        worker = Worker(url, poll_seconds)
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


async def eventually(check: Callable[[], bool], within: float, what: str) -> None:
    """Poll ``check`` until it holds; fails saying ``what`` once ``within`` seconds pass."""
    try:
        await until(check, within)
    except TimeoutError:
        raise AssertionError(f"{what}: not within {within} s") from None


@pytest.fixture
def quick_timeouts(monkeypatch: pytest.MonkeyPatch) -> None:
    """A command unanswered after 0.5 s times out, and is a stall after 0.2 s (5 s and 2 s in use)."""
    monkeypatch.setattr(redis, "COMMAND_TIMEOUT", 0.5)
    monkeypatch.setattr(redis, "STALL_SECONDS", 0.2)


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
        await eventually(lambda: away.store.health() is not None, 5, "the lost connection on health")
        problem = away.store.health()
        assert problem is not None and problem.startswith("Redis is unreachable")
        assert str(proxy.port) not in problem  # /healthz is open to anyone: no addresses
        assert [e.key for e in await away.store.entries()] == ["panel:kept"]  # still served from memory
        with pytest.raises(NotSaved) as refused:  # no connection: the write never left
            await away.store.save(panel("lost"))
        assert refused.value.about("the panel").endswith(": the panel was not saved")
        assert f"Redis at redis://127.0.0.1:{proxy.port}/" in str(refused.value)  # the writer is told where
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

    # Redis expires the claim on its own clock: polled (a refused claim changes nothing), not slept past.
    async def claim_once_expired() -> bool:
        while not await b.store.claim("delivery:1", 0.3):  # noqa: ASYNC110 - Redis sends no event for it
            await asyncio.sleep(0.02)
        return True

    assert await asyncio.wait_for(claim_once_expired(), 5)


async def test_an_unreachable_redis_stops_start_up_with_a_clear_message_and_no_password(closed_port: int) -> None:
    store = RedisStore(f"redis://user:hunter2@127.0.0.1:{closed_port}/3")
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
    dashboards = [core(worker.store).dashboard for worker in (a, b)]

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
        parts = core(away.store)
        async with parts.hub.subscribe() as page:  # before the write: it must not apply unseen
            await writer.store.save(panel("one"))
            assert (await asyncio.wait_for(page.next(), 5)) is not None  # revision 1, live
            proxy.cut()
            await writer.store.save(panel("two"))
            workers.command("XTRIM", LOG, "MAXLEN", "0")
            proxy.restore()
            assert (await asyncio.wait_for(page.next(), 5)) is None  # the stream ends: reconnect
        revision, frames = await parts.announcer.resume("json", last_event_id=1)
    assert revision == 2 and len(frames) == 1 and b"event: initial_data" in frames[0] and b"panel:two" in frames[0]


async def test_a_read_modify_write_starts_from_what_another_worker_just_wrote(workers: Workers) -> None:
    """A webhook reaching one worker right after a tool created the board on another finds the board."""
    a, b = await workers.start(), await workers.start()
    on_b = core(b.store).dashboard
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


async def test_a_write_redis_took_but_never_answered_may_have_been_saved_and_shows_once_it_answers(
    workers: Workers, quick_timeouts: None
) -> None:
    other = await workers.start()
    with TcpProxy(workers.redis.port) as proxy:
        silent = await workers.start(proxy)
        proxy.hold()  # Redis gets the command and runs it; its answer never arrives
        with pytest.raises(MaybeSaved) as unanswered:
            await silent.store.save(panel("late", "Sent into the silence"))
        assert unanswered.value.about("the panel") == (
            f"Redis at redis://127.0.0.1:{proxy.port}/{workers.database} did not answer within 0.5 s: the panel "
            "may not have been saved; if it was, the dashboard shows it once Redis answers again"
        )
        problem = silent.store.health()
        assert problem is not None and problem.startswith("Redis has not answered for ")
        assert str(proxy.port) not in problem
        await other.until_revision(1)  # it was saved after all ...
        assert await silent.store.get("panel:late") is None
        proxy.release()
        await silent.until_revision(1)  # ... and shows on the silent worker once Redis answers
        late = await silent.store.get("panel:late")
        assert isinstance(late, Panel) and late.title == "Sent into the silence"
        await eventually(lambda: silent.store.health() is None, 5, "health once Redis answers")


async def test_a_stopped_redis_shows_on_health_while_it_lasts_even_on_an_idle_worker(
    tmp_path: Path, quick_timeouts: None
) -> None:
    stopped = RedisServer(tmp_path)  # a server of its own: SIGSTOP below
    url = stopped.fresh_url()
    idle, writer = RedisStore(url, poll_seconds=0.2, pause=Pauses()), RedisStore(url, poll_seconds=0.2, pause=Pauses())
    try:
        for store in (idle, writer):
            await store.open()
        await writer.save(panel("before"))
        await eventually(lambda: idle.revision == 1, 5, "the idle worker applied the write")
        stopped.freeze()
        try:
            await eventually(lambda: (idle.health() or "").startswith("Redis has not answered for "), 5, "a stall")
            with pytest.raises(StoreError) as unanswered:
                await writer.save(panel("stopped"))
            # Sent and unanswered: it may have been saved. Or a fresh connection found no answer
            # before anything was sent (the follower had the pooled one): it was not.
            assert isinstance(unanswered.value, MaybeSaved | NotSaved)
            assert "did not answer within 0.5 s" in str(unanswered.value)
            assert (idle.health() or "").startswith("Redis has not answered for ")  # still, while it lasts
        finally:
            stopped.thaw()
        await eventually(lambda: idle.health() is None and writer.health() is None, 5, "health once it answers")
        # Whether Redis ran the write it got while stopped or dropped it, both workers show what it holds.
        latest = int(stopped.command("GET", "issuebridge:revision", database=int(url.rsplit("/", 1)[1])))
        await eventually(lambda: idle.revision == writer.revision == latest, 5, "both at Redis's revision")
        assert [e.key for e in await idle.entries()] == [e.key for e in await writer.entries()]
    finally:
        for store in (idle, writer):
            await store.close()
        stopped.stop()


async def test_a_refusal_from_redis_is_not_saved_and_says_why(workers: Workers) -> None:
    worker = await workers.start()
    workers.command("CONFIG", "SET", "maxmemory", "1")
    try:
        with pytest.raises(NotSaved) as refused:
            await worker.store.save(panel("big"))
    finally:
        workers.command("CONFIG", "SET", "maxmemory", "0")
    out_of_memory = "Redis is out of memory (its maxmemory is reached)"
    assert refused.value.about("the panel") == f"{out_of_memory}: the panel was not saved"
    assert await worker.store.get("panel:big") is None and worker.store.revision == 0


@pytest.mark.parametrize(
    ("down_long", "writing"), [(False, False), (False, True), (True, False)], ids=["idle", "writing", "down long"]
)
async def test_workers_recover_from_a_redis_restart_within_2_s_of_it_answering(
    tmp_path: Path, down_long: bool, writing: bool
) -> None:
    restarted = RedisServer(tmp_path)  # a server of its own: it loses everything below
    url = restarted.fresh_url()
    pauses = {"idle": Pauses(), "writer": Pauses()}
    # As in use (a 2 s wait for the log), but the waits between reconnects are noted, not sat through.
    idle, writer = RedisStore(url, pause=pauses["idle"]), RedisStore(url, pause=pauses["writer"])
    for store in (idle, writer):
        await store.open()
    stop = asyncio.Event()

    async def keep_writing() -> None:
        n = 0
        while not stop.is_set():
            n += 1
            with contextlib.suppress(StoreError):
                await writer.save(panel(f"w{n % 5}"))
            await asyncio.sleep(0.05)

    try:
        for n in range(5):
            await writer.save(panel(f"p{n}"))
        await eventually(lambda: idle.revision == 5, 5, "the idle worker applied the writes")
        background = asyncio.create_task(keep_writing()) if writing else None
        if down_long:  # down until both have backed off to the longest wait (2 s in use), then back
            await asyncio.to_thread(restarted.stop)
            await eventually(
                lambda: all(p.taken.count(RECONNECT_DELAYS[-1]) >= 2 for p in pauses.values()),
                10,
                "both waiting 2 s between tries",
            )
        await asyncio.to_thread(restarted.restart)  # returns once Redis answers again
        answered = {name: len(p.taken) for name, p in pauses.items()}
        await eventually(lambda: idle.health() is None and writer.health() is None, 10, "healthy again")
        after = await asyncio.wait_for(idle.save(panel("after", "Written on the idle worker")), 10)
        await eventually(lambda: writer.revision >= after.revision, 10, "the other worker sees it")
        # Within 2 s of Redis answering: no wait between tries is ever longer, and once Redis
        # answers each worker is back after at most the one it was in (or one more).
        for name, p in pauses.items():
            assert max(p.taken, default=0) <= RECONNECT_DELAYS[-1] and len(p.taken) - answered[name] <= 1, (name, p)
        if down_long:
            assert all(len(p.taken) > len(RECONNECT_DELAYS) for p in pauses.values())
        stop.set()
        if background is not None:
            await background
        assert {e.key for e in await idle.entries()} == {e.key for e in await writer.entries()}
        seen = await writer.get("panel:after")
        assert isinstance(seen, Panel) and seen.title == "Written on the idle worker"
    finally:
        stop.set()
        for store in (idle, writer):
            await store.close()
        restarted.stop()
