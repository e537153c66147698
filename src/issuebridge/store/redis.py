"""Entries in Redis, shared by every worker; each change reaches every worker through a Redis Stream.

Why a stream: a change is written and logged in one Lua script, so the revision counter, the
entry and the log never disagree, and the log's ids *are* the revisions (``<revision>-0``).
Each worker reads the log in order (a blocking ``XREAD``) and applies it to a copy in memory,
which serves every read; the dashboard then announces the change from that worker, with
the same event id on every worker, so a browser that reconnects to another worker sends a
``Last-Event-ID`` that worker understands. Pub/sub would lose whatever is published while a
worker is disconnected; a stream lets it pick up where it stopped, and when the stream no
longer reaches back that far the worker reads everything afresh (:class:`Reloaded`).

Each log record carries the entry's JSON, so every worker applies exactly the same sequence
of entries (and sends the same deltas). The log is trimmed to about ``log_length`` records.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from pydantic import ValidationError
from redis.asyncio import Redis
from redis.exceptions import RedisError

from issuebridge.entries import AnyEntry, entry_adapter
from issuebridge.store.base import (
    Conflict,
    Reloaded,
    Removed,
    StoreChange,
    StoreError,
)
from issuebridge.store.memory import EntriesInMemory

logger = logging.getLogger(__name__)

REVISION = "issuebridge:revision"  # integer: the last revision handed out
ENTRIES = "issuebridge:entries"  # hash: key -> entry JSON
ORDER = "issuebridge:order"  # sorted set: key -> revision of its last save
LOG = "issuebridge:log"  # stream: one record per revision, id "<revision>-0"
CLAIMS = "issuebridge:claim:"  # prefix of keys that expire: SET NX PX
NOTES = "issuebridge:notes"  # hash: name -> small record (a board's validators)

_SAVE = """
if ARGV[4] ~= '' and (redis.call('ZSCORE', KEYS[3], ARGV[1]) or '0') ~= ARGV[4] then
  return -1 - tonumber(redis.call('GET', KEYS[1]) or '0')
end
local revision = redis.call('INCR', KEYS[1])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[3], revision, ARGV[1])
redis.call('XADD', KEYS[4], 'MAXLEN', '~', ARGV[3], revision .. '-0', 'op', 'save', 'key', ARGV[1], 'body', ARGV[2])
return revision
"""
_REMOVE = """
if redis.call('HDEL', KEYS[2], ARGV[1]) == 0 then return 0 end
local revision = redis.call('INCR', KEYS[1])
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('XADD', KEYS[4], 'MAXLEN', '~', ARGV[2], revision .. '-0', 'op', 'remove', 'key', ARGV[1])
return revision
"""
_CLEAR = """
local revision = redis.call('INCR', KEYS[1])
redis.call('DEL', KEYS[2], KEYS[3])
redis.call('XADD', KEYS[4], 'MAXLEN', '~', ARGV[1], revision .. '-0', 'op', 'clear')
return revision
"""
_KEYS = (REVISION, ENTRIES, ORDER, LOG)

COMMAND_TIMEOUT = 5.0  # a command that takes longer means Redis is in trouble: say so, don't hang
APPLY_TIMEOUT = 30.0  # how long a write waits to see itself come back through the log
RECONNECT_DELAYS = (0.1, 0.2, 0.5, 1.0, 2.0)  # then every 2 s


def redacted(url: str) -> str:
    """``url`` without its user name and password, for logs and errors."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


class RedisStore(EntriesInMemory):
    """Entries in Redis (``ISSUEBRIDGE_REDIS_URL``), read from a copy in memory that follows the log.

    Writes are atomic Lua scripts and return once this worker has applied them, so a read
    right after a write sees it. While Redis is unreachable, reads keep being served from the
    copy, writes fail with :class:`StoreError`, ``health()`` says what is wrong, and the worker
    keeps reconnecting.
    """

    name = "redis"

    def __init__(self, url: str, *, log_length: int = 512, poll_seconds: float = 10.0) -> None:
        super().__init__()
        self.location = redacted(url)
        self._url = url
        self._log_length = log_length
        self._poll_milliseconds = int(poll_seconds * 1000)  # one XREAD's wait; then the counter is checked
        self._redis: Redis | None = None
        self._reader: Redis | None = None
        self._follower: asyncio.Task[None] | None = None
        self._waiting: dict[int, asyncio.Future[None]] = {}
        self._own: dict[int, AnyEntry] = {}  # entries this worker wrote, not yet read back
        self._problem: str | None = None
        self._closing = False

    def health(self) -> str | None:
        return self._problem

    def closing(self) -> bool:
        """Whether :meth:`close` was called: the follower stops at its next turn."""
        return self._closing

    async def open(self) -> None:
        self._redis = Redis.from_url(self._url, socket_timeout=COMMAND_TIMEOUT, socket_connect_timeout=COMMAND_TIMEOUT)
        # The follower's XREAD blocks for a while: its own connection, a longer timeout.
        self._reader = Redis.from_url(
            self._url,
            socket_timeout=self._poll_milliseconds / 1000 + COMMAND_TIMEOUT,
            socket_connect_timeout=COMMAND_TIMEOUT,
        )
        try:
            await self._redis.ping()
            self._revision, self._entries = await self._load()
        except (RedisError, OSError) as exc:
            await self.close()
            raise StoreError(
                f"ISSUEBRIDGE_REDIS_URL={self.location!r}: cannot use Redis ({_reason(exc)}); "
                "start Redis there or point ISSUEBRIDGE_REDIS_URL at a running server"
            ) from None
        self._follower = asyncio.create_task(self._follow(), name="issuebridge-redis-follower")

    async def close(self) -> None:
        self._closing = True
        if self._follower is not None:
            # redis-py can swallow a cancellation that lands while it sets up a command (seen with
            # 8.1), so the follower also stops at its next turn, and its blocking read is cut short.
            self._follower.cancel()
            if self._reader is not None:
                await self._reader.connection_pool.disconnect()
            with contextlib.suppress(asyncio.CancelledError):
                await self._follower
            self._follower = None
        for client in (self._redis, self._reader):
            if client is not None:
                await client.aclose()
        self._redis = self._reader = None

    async def save(self, entry: AnyEntry, *, if_revision: int | None = None) -> AnyEntry:
        body = entry.model_dump_json()  # read back with the revision the script gives it
        expected = "" if if_revision is None else str(if_revision)
        revision = await self._run(_SAVE, entry.key, body, self._log_length, expected)
        if revision < 0:  # the script's answer to a conditional save that lost: -1 - the latest revision
            await self._applied(-1 - revision)  # so that a retry builds on the write that got in first
            raise Conflict(f"{entry.key} is at another revision than {if_revision}")
        stored = entry.model_copy(update={"revision": revision})
        if revision > self._revision:  # the follower applies this object instead of parsing the body again
            self._own[revision] = stored
        await self._applied(revision)
        return stored

    async def remove(self, key: str) -> int | None:
        revision = await self._run(_REMOVE, key, self._log_length)
        if revision == 0:
            return None
        await self._applied(revision)
        return revision

    async def clear(self) -> int:
        revision = await self._run(_CLEAR, self._log_length)
        await self._applied(revision)
        return revision

    async def catch_up(self) -> None:
        try:
            latest = int(await self._client().get(REVISION) or 0)
        except (RedisError, OSError) as exc:
            raise self._unreachable(exc) from None
        await self._applied(latest)

    async def read_note(self, name: str) -> str | None:
        try:
            value = await self._client().hget(NOTES, name)
        except (RedisError, OSError) as exc:
            raise self._unreachable(exc) from None
        return value.decode() if isinstance(value, bytes) else value

    async def write_note(self, name: str, value: str | None) -> None:
        redis = self._client()
        try:
            if value is None:
                await redis.hdel(NOTES, name)
            else:
                await redis.hset(NOTES, name, value)
        except (RedisError, OSError) as exc:
            raise self._unreachable(exc) from None

    async def claim(self, name: str, ttl_seconds: float) -> bool:
        """True for the first caller (in any worker) to claim ``name`` within ``ttl_seconds``."""
        redis = self._client()
        try:
            return bool(await redis.set(CLAIMS + name, 1, nx=True, px=max(1, int(ttl_seconds * 1000))))
        except (RedisError, OSError) as exc:
            raise self._unreachable(exc) from None

    async def release(self, name: str) -> None:
        try:
            await self._client().delete(CLAIMS + name)
        except (RedisError, OSError) as exc:
            raise self._unreachable(exc) from None

    async def claimed(self, name: str) -> bool:
        try:
            return bool(await self._client().exists(CLAIMS + name))
        except (RedisError, OSError) as exc:
            raise self._unreachable(exc) from None

    async def _run(self, script: str, *args: str | int) -> int:
        redis = self._client()
        try:
            result: Any = await redis.eval(script, len(_KEYS), *_KEYS, *args)
        except (RedisError, OSError) as exc:
            raise self._unreachable(exc) from None
        return int(result)

    def _client(self) -> Redis:
        if self._redis is None:
            raise StoreError("the store is not open")
        return self._redis

    def _unreachable(self, exc: BaseException) -> StoreError:
        return StoreError(f"the dashboard's Redis at {self.location} cannot be written ({_reason(exc)})")

    async def _applied(self, revision: int) -> None:
        """Wait until the follower has applied ``revision`` (so this worker reads its own write)."""
        if revision <= self._revision:
            return
        waiter = self._waiting.get(revision)
        if waiter is None:
            waiter = self._waiting[revision] = asyncio.get_running_loop().create_future()
        try:
            await asyncio.wait_for(asyncio.shield(waiter), APPLY_TIMEOUT)
        except TimeoutError:
            raise StoreError(
                f"revision {revision} was written to Redis at {self.location} but has not come back "
                f"through its log within {APPLY_TIMEOUT:.0f}s"
            ) from None

    async def _load(self) -> tuple[int, dict[str, AnyEntry]]:
        """Every entry and the revision, read in one transaction so they belong together."""
        async with self._client().pipeline(transaction=True) as pipe:
            pipe.get(REVISION)
            pipe.hgetall(ENTRIES)
            pipe.zrange(ORDER, 0, -1, withscores=True)
            raw_revision, bodies, order = await pipe.execute()
        entries: dict[str, AnyEntry] = {}
        for raw_key, score in order:
            key = raw_key.decode()
            try:
                entry = entry_adapter.validate_json(bodies[raw_key])
            except (KeyError, ValidationError):
                logger.warning("Skipping the stored entry %r: it is not a valid entry", key)
                continue
            entries[key] = entry.model_copy(update={"revision": int(score)})
        return int(raw_revision or 0), entries

    async def _follow(self) -> None:
        """Apply the log to the copy in memory, forever; reconnect whenever Redis goes away."""
        failures = 0
        while not self.closing():
            try:
                await self._read_log()
                if self._problem is not None:
                    logger.warning("issuebridge: Redis at %s is reachable again", self.location)
                    self._problem = None
                failures = 0
            except (RedisError, OSError) as exc:
                if self.closing():
                    return
                if self._problem is None:
                    logger.warning("issuebridge: lost Redis at %s (%s); reconnecting", self.location, _reason(exc))
                self._problem = "Redis is unreachable; reconnecting (the server log says why)"
                await asyncio.sleep(RECONNECT_DELAYS[min(failures, len(RECONNECT_DELAYS) - 1)])
                failures += 1
            except Exception:  # a bug must not leave this worker silently frozen at one revision
                logger.exception("issuebridge: following the Redis log failed; retrying")
                self._problem = "following the Redis log failed; see the server log"
                await asyncio.sleep(RECONNECT_DELAYS[-1])

    async def _read_log(self) -> None:
        """One blocking read of the log past what this worker has applied, and its application."""
        assert self._reader is not None
        # redis-py's return types are loose: [[stream, [(b"<revision>-0", {field: value}), ...]]]
        replies: Any = await self._reader.xread({LOG: f"{self._revision}-0"}, count=100, block=self._poll_milliseconds)
        records: list[tuple[bytes, dict[bytes, bytes]]] = [r for _, stream_records in replies for r in stream_records]
        if not records:
            if await self._log_misses_changes():
                await self._reload()
            return
        for record_id, fields in records:
            revision = int(record_id.split(b"-")[0])
            if revision != self._revision + 1:  # the log was trimmed past what this worker saw
                await self._reload()
                return
            await self._apply(revision, fields)

    async def _log_misses_changes(self) -> bool:
        """After an idle wait: whether Redis lost its data (restarted empty, flushed), or holds
        changes this worker can no longer read from the log (trimmed while it was away)."""
        redis = self._client()
        latest = int(await redis.get(REVISION) or 0)
        if latest == self._revision:
            return False
        if latest < self._revision:
            return True
        following = f"{self._revision + 1}-0"  # a write that landed just now is still in the log
        return not await redis.xrange(LOG, following, following)

    async def _apply(self, revision: int, fields: dict[bytes, bytes]) -> None:
        op = fields[b"op"]
        change: StoreChange | None = None
        if op == b"save":
            entry = self._own.pop(revision, None) or self._parse(revision, fields[b"body"])
            if entry is not None:
                change = self._keep(entry)
        elif op == b"remove":
            removed = self._entries.pop(fields[b"key"].decode(), None)
            change = None if removed is None else Removed(revision, removed)
        elif op == b"clear":
            change = self._forget_all(revision)
        self._revision = revision
        if change is not None:
            await self._report(change)
        self._wake_writers()

    @staticmethod
    def _parse(revision: int, body: bytes) -> AnyEntry | None:
        try:
            return entry_adapter.validate_json(body).model_copy(update={"revision": revision})
        except ValidationError:  # written by another version of issuebridge, say: skip, don't stop
            logger.warning("issuebridge: skipping revision %d in the Redis log: not a valid entry", revision)
            return None

    async def _reload(self) -> None:
        """Read everything afresh after missing part of the log, and say so."""
        self._revision, self._entries = await self._load()
        logger.warning("issuebridge: reloaded %d entries from Redis at %s", len(self._entries), self.location)
        self._own.clear()
        await self._report(Reloaded(self._revision))
        self._wake_writers()

    def _wake_writers(self) -> None:
        for revision in [r for r in self._waiting if r <= self._revision]:
            waiter = self._waiting.pop(revision)
            if not waiter.done():
                waiter.set_result(None)

    async def _report(self, change: StoreChange) -> None:
        try:
            await super()._report(change)
        except Exception:  # one failing announcement must not stop this worker following the log
            logger.exception("issuebridge: announcing revision %d failed", change.revision)


def _reason(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__
