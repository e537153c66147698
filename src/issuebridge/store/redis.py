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

What a writer is told when Redis fails says only what is known: a command that could not be
sent (no connection), or that Redis refused (out of memory, cannot save to its disk, a
read-only replica), changed nothing: :class:`NotSaved`. A write that was sent and got no answer
within ``COMMAND_TIMEOUT`` may still be applied (a busy or paused Redis runs it later):
:class:`MaybeSaved`; if it is, the follower puts it on the pages like any change. No write is
ever sent twice (redis-py's retries are off), so none is applied twice.

Every script also returns the data set's *epoch*, a random name kept in Redis beside the data
and made anew when the data is gone (Redis restarted empty, or was flushed). After a lost
connection the follower checks the epoch and the revision before reading on, and reads
everything afresh at once if Redis no longer holds what this copy does, whether or not anyone
writes; a write that was given a revision in a data set since lost says so (:class:`Lost`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

from pydantic import ValidationError
from redis.asyncio import ConnectionPool, Redis
from redis.asyncio.connection import Connection
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import AuthenticationError, RedisError, ResponseError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from redis.maint_notifications import MaintNotificationsConfig

from issuebridge.records.registry import AnyEntry, read_stored
from issuebridge.store.base import (
    Conflict,
    MaybeSaved,
    NotSaved,
    Reloaded,
    Removed,
    StoreChange,
    StoreError,
)
from issuebridge.store.local_copy import LocalCopy
from issuebridge.store.silence import Silence

logger = logging.getLogger(__name__)
T = TypeVar("T")

REVISION = "issuebridge:revision"  # integer: the last revision handed out
ENTRIES = "issuebridge:entries"  # hash: key -> entry JSON
ORDER = "issuebridge:order"  # sorted set: key -> revision of its last save
LOG = "issuebridge:log"  # stream: one record per revision, id "<revision>-0"
CLAIMS = "issuebridge:claim:"  # prefix of keys that expire: SET NX PX
NOTES = "issuebridge:notes"  # hash: name -> small record (a board's validators)
EPOCH = "issuebridge:epoch"  # string: the data set's name, new once Redis lost the data

# Every script starts here: it names the data set, and names it anew once the data is gone.
_EPOCH = """
local epoch = redis.call('GET', KEYS[5])
if not epoch then
  epoch = ARGV[1]
  redis.call('SET', KEYS[5], epoch)
end
"""
# Redis refuses a script for lack of memory only at its first write, so a refused script wrote nothing.
_SAVE = (
    _EPOCH
    + """
if ARGV[5] ~= '' and (redis.call('ZSCORE', KEYS[3], ARGV[2]) or '0') ~= ARGV[5] then
  return {-1 - tonumber(redis.call('GET', KEYS[1]) or '0'), epoch}
end
local revision = redis.call('INCR', KEYS[1])
redis.call('HSET', KEYS[2], ARGV[2], ARGV[3])
redis.call('ZADD', KEYS[3], revision, ARGV[2])
redis.call('XADD', KEYS[4], 'MAXLEN', '~', ARGV[4], revision .. '-0', 'op', 'save', 'key', ARGV[2], 'body', ARGV[3])
return {revision, epoch}
"""
)
_REMOVE = (
    _EPOCH
    + """
if redis.call('HDEL', KEYS[2], ARGV[2]) == 0 then return {0, epoch} end
local revision = redis.call('INCR', KEYS[1])
redis.call('ZREM', KEYS[3], ARGV[2])
redis.call('XADD', KEYS[4], 'MAXLEN', '~', ARGV[3], revision .. '-0', 'op', 'remove', 'key', ARGV[2])
return {revision, epoch}
"""
)
_CLEAR = (
    _EPOCH
    + """
local revision = redis.call('INCR', KEYS[1])
redis.call('DEL', KEYS[2], KEYS[3])
redis.call('XADD', KEYS[4], 'MAXLEN', '~', ARGV[2], revision .. '-0', 'op', 'clear')
return {revision, epoch}
"""
)
_NAMED = _EPOCH + "return epoch"
_KEYS = (REVISION, ENTRIES, ORDER, LOG, EPOCH)

COMMAND_TIMEOUT = 5.0  # a command that takes longer means Redis is in trouble: say so, don't hang
STALL_SECONDS = 2.0  # an answer this late (past a blocking read's wait) is a stall, shown on /healthz
APPLY_TIMEOUT = 30.0  # how long a write waits to see itself come back through the log
POLL_SECONDS = 2.0  # one XREAD's wait: how soon an idle worker notices a stall or a flushed Redis
RECONNECT_DELAYS = (0.1, 0.2, 0.5, 1.0, 2.0)  # then every 2 s
UNTIL_REDIS_ANSWERS = "once Redis answers again"


def redacted(url: str) -> str:
    """``url`` without its user name and password, for logs and errors."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


class Unconfirmed(StoreError):
    """A write Redis took, that this worker has not seen come back through the log in time."""

    def about(self, subject: str) -> str:
        return f"{subject} was saved, but {self}; the pages show it as soon as it does"


class Lost(NotSaved):
    """Redis took the change, then lost it (restarted empty, or was flushed) before this worker
    saw it come back: Redis does not hold it now."""

    def __init__(self) -> None:
        super().__init__("Redis restarted empty or was flushed right after taking it")


class RedisStore(LocalCopy):
    """Entries in Redis (``ISSUEBRIDGE_REDIS_URL``), read from a copy in memory that follows the log.

    Writes are atomic Lua scripts and return once this worker has applied them, so a read
    right after a write sees it. While Redis is unreachable or silent, reads keep being served
    from the copy, writes fail with :class:`StoreError` saying what is known, ``health()`` says
    what is wrong, and the worker keeps reconnecting, waiting ``RECONNECT_DELAYS`` in turn between
    tries with ``pause`` (a test passes one that notes each wait instead of sitting through it).
    """

    name = "redis"

    def __init__(
        self,
        url: str,
        *,
        log_length: int = 512,
        poll_seconds: float = POLL_SECONDS,
        pause: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        super().__init__()
        self._pause = pause
        self.location = redacted(url)
        self._url = url
        self._log_length = log_length
        self._poll_seconds = poll_seconds
        self._redis: Redis | None = None
        self._reader: Redis | None = None
        self._follower: asyncio.Task[None] | None = None
        self._waiting: dict[tuple[bytes, int], asyncio.Future[None]] = {}  # (epoch, revision) -> writers
        self._own: dict[int, AnyEntry] = {}  # entries this worker wrote, not yet read back
        self._problem: str | None = None
        self._closing = False
        self._silence = Silence()
        self._epoch = b""  # the data set this copy holds (see _EPOCH)
        self._must_check = False  # the follower checks Redis before its next read of the log
        self._checked: asyncio.Future[None] | None = None  # writers waiting for that check

    def health(self) -> str | None:
        silent = self._silence.silent_for()
        if silent is not None:
            return f"Redis has not answered for {silent:.0f} s; changes sent meanwhile may not have been saved"
        return self._problem

    def closing(self) -> bool:
        """Whether :meth:`close` was called: the follower stops at its next turn."""
        return self._closing

    async def open(self) -> None:
        options: dict[str, Any] = {
            "socket_connect_timeout": COMMAND_TIMEOUT,
            # No retries: a write sent twice could be applied twice; reconnecting is the follower's.
            "retry": Retry(NoBackoff(), 0),
            # With maintenance notifications on (redis-py 8.1's "auto"), the pool skips its check
            # for connections the server closed and hands them out: after a Redis restart, the
            # first command on each would fail.
            "maint_notifications_config": MaintNotificationsConfig(enabled=False),
        }
        self._redis = Redis.from_url(self._url, socket_timeout=COMMAND_TIMEOUT, **options)
        # The follower's XREAD blocks for a while: its own connection, a longer timeout.
        self._reader = Redis.from_url(self._url, socket_timeout=self._poll_seconds + COMMAND_TIMEOUT, **options)
        try:
            await self._redis.ping()
            self._epoch, self._revision, self._entries = await self._load()
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
        revision, epoch = await self._script(_SAVE, entry.key, body, self._log_length, expected)
        if revision < 0:  # the script's answer to a conditional save that lost: -1 - the latest revision
            await self._caught_up_with(-1 - revision, epoch)  # so that a retry builds on the write that got in first
            raise Conflict(f"{entry.key} is at another revision than {if_revision}")
        stored = entry.model_copy(update={"revision": revision})
        if epoch == self._epoch and revision > self._revision:  # the follower applies this object, unparsed
            self._own[revision] = stored
        await self._reached(revision, epoch)
        return stored

    async def remove(self, key: str) -> int | None:
        revision, epoch = await self._script(_REMOVE, key, self._log_length)
        if revision == 0:
            return None
        await self._reached(revision, epoch)
        return revision

    async def clear(self) -> int:
        revision, epoch = await self._script(_CLEAR, self._log_length)
        await self._reached(revision, epoch)
        return revision

    async def reach_latest(self) -> None:
        epoch, latest = await self._state(self._send("MGET", EPOCH, REVISION, write=False))
        await self._caught_up_with(latest, epoch)

    async def read_note(self, name: str) -> str | None:
        value = await self._send("HGET", NOTES, name, write=False)
        return value.decode() if isinstance(value, bytes) else value

    async def write_note(self, name: str, value: str | None) -> None:
        if value is None:
            await self._send("HDEL", NOTES, name, write=True)
        else:
            await self._send("HSET", NOTES, name, value, write=True)

    async def claim(self, name: str, ttl_seconds: float) -> bool:
        """True for the first caller (in any worker) to claim ``name`` within ``ttl_seconds``."""
        milliseconds = max(1, int(ttl_seconds * 1000))
        return await self._send("SET", CLAIMS + name, 1, "NX", "PX", milliseconds, write=True) is not None

    async def release(self, name: str) -> None:
        await self._send("DEL", CLAIMS + name, write=True)

    async def claimed(self, name: str) -> bool:
        return bool(await self._send("EXISTS", CLAIMS + name, write=False))

    async def _script(self, script: str, *args: str | int) -> tuple[int, bytes]:
        """Run ``script`` (one of the writes above): its revision, and the epoch of the data set."""
        candidate = secrets.token_hex(8)  # the epoch, should the data set need a new one
        revision, epoch = await self._send("EVAL", script, len(_KEYS), *_KEYS, candidate, *args, write=True)
        return int(revision), bytes(epoch)

    async def _send(self, *command: str | int, write: bool) -> Any:
        """One command on the writers' connection, and what is known when it fails.

        :class:`NotSaved` if it never left whole (no connection) or Redis refused it; for a write
        that left and got no answer, :class:`MaybeSaved`. redis-py's ``execute_command`` cannot
        tell these apart, so the command is sent on a connection taken from the pool here.
        """
        pool = self._client().connection_pool
        for attempt in range(2):
            connection = await self._connection(pool)
            try:
                try:
                    with self._silence.awaiting(STALL_SECONDS):
                        await connection.send_command(*command)
                except RedisConnectionError as exc:
                    # The connection died before the whole command left (a pooled connection that
                    # was reset, say). Redis runs only whole commands: nothing ran. Once more, afresh.
                    if attempt == 0:
                        continue
                    raise NotSaved(self._unreachable(exc)) from None
                with self._silence.awaiting(STALL_SECONDS):
                    return await connection.read_response()
            except (ResponseError, AuthenticationError) as exc:  # Redis's answer: it refused the command
                raise NotSaved(_refusal(exc)) from None
            except (RedisError, OSError) as exc:  # sent (or, timed out while sending, may yet leave)
                await connection.disconnect()
                if write:
                    raise MaybeSaved(self._unanswered(exc), until=UNTIL_REDIS_ANSWERS) from None
                raise NotSaved(self._unanswered(exc)) from None
            except BaseException:  # cancelled while waiting: the answer must not reach the next command
                await connection.disconnect()
                raise
            finally:
                await pool.release(connection)
        raise AssertionError("the second attempt returns or raises")

    async def _connection(self, pool: ConnectionPool) -> Connection:
        """A connected connection from ``pool`` (redis-py replaces one the server closed), or
        :class:`NotSaved`: nothing can be sent."""
        try:
            with self._silence.awaiting(STALL_SECONDS):  # its handshake, if it connects afresh
                connection: Connection = await pool.get_connection()  # type: ignore[no-untyped-call]
        except (RedisTimeoutError, TimeoutError) as exc:
            raise NotSaved(self._unanswered(exc)) from None
        except (RedisError, OSError) as exc:
            raise NotSaved(self._unreachable(exc)) from None
        return connection

    def _client(self) -> Redis:
        if self._redis is None:
            raise StoreError("the store is not open")
        return self._redis

    def _unreachable(self, exc: BaseException) -> str:
        # The writer (a producer, a tool's user) is told where; /healthz never is.
        return f"Redis at {self.location} is unreachable ({_reason(exc)})"

    def _unanswered(self, exc: BaseException) -> str:
        if isinstance(exc, RedisTimeoutError | TimeoutError):
            return f"Redis at {self.location} did not answer within {COMMAND_TIMEOUT:g} s"
        return f"Redis at {self.location} dropped the connection before answering ({_reason(exc)})"

    async def _reached(self, revision: int, epoch: bytes) -> None:
        """Wait until this worker has applied ``revision`` of the data set ``epoch``, which a write
        was just given; :class:`Lost` if Redis lost that data set meanwhile."""
        if epoch != self._epoch:  # Redis holds another data set than this copy: have it read afresh
            await self._rechecked()
            if epoch != self._epoch:
                raise Lost
        if revision <= self._revision:
            return
        waiter = self._waiting.get((epoch, revision))
        if waiter is None:
            waiter = self._waiting[epoch, revision] = asyncio.get_running_loop().create_future()
        try:
            await asyncio.wait_for(asyncio.shield(waiter), APPLY_TIMEOUT)
        except TimeoutError:
            raise Unconfirmed(
                f"this worker has not seen revision {revision} come back through Redis's log "
                f"within {APPLY_TIMEOUT:.0f} s"
            ) from None

    async def _caught_up_with(self, latest: int, epoch: bytes) -> None:
        """Wait until this worker has applied Redis's ``latest`` revision: from the log, or by
        reading everything afresh (which brings it further)."""
        with contextlib.suppress(Lost):
            await self._reached(latest, epoch)

    async def _rechecked(self) -> None:
        """Have the follower check Redis's data set before it reads on, and wait until it has."""
        if self._checked is None:
            self._checked = asyncio.get_running_loop().create_future()
        checked = self._checked
        self._must_check = True
        try:
            await asyncio.wait_for(asyncio.shield(checked), APPLY_TIMEOUT)
        except TimeoutError:
            raise Unconfirmed(
                f"Redis holds data this worker has not read, and it has not read it within {APPLY_TIMEOUT:.0f} s"
            ) from None

    async def _state(self, reply: Awaitable[Any]) -> tuple[bytes, int]:
        """The data set's epoch and latest revision, from ``MGET EPOCH REVISION``."""
        epoch, latest = await reply
        return bytes(epoch or b""), int(latest or 0)

    async def _load(self) -> tuple[bytes, int, dict[str, AnyEntry]]:
        """The data set's epoch (named now if it has none), every entry and the revision, read in
        one transaction so they belong together."""
        with self._silence.awaiting(STALL_SECONDS):
            async with self._client().pipeline(transaction=True) as pipe:
                pipe.eval(_NAMED, len(_KEYS), *_KEYS, secrets.token_hex(8))
                pipe.get(REVISION)
                pipe.hgetall(ENTRIES)
                pipe.zrange(ORDER, 0, -1, withscores=True)
                epoch, raw_revision, bodies, order = await pipe.execute()
        entries: dict[str, AnyEntry] = {}
        for raw_key, score in order:
            key = raw_key.decode()
            try:
                entry = read_stored(bodies[raw_key])
            except (KeyError, ValidationError):
                logger.warning("Skipping the stored entry %r: it is not a valid entry", key)
                continue
            entries[key] = entry.model_copy(update={"revision": int(score)})
        return bytes(epoch), int(raw_revision or 0), entries

    async def _follow(self) -> None:
        """Apply the log to the copy in memory, forever; reconnect whenever Redis goes away."""
        failures = 0
        while not self.closing():
            try:
                if self._must_check:
                    await self._check_data()
                await self._read_log()
                failures = 0
            except (RedisError, OSError) as exc:
                if self.closing():
                    return
                if self._problem is None:
                    logger.warning("issuebridge: lost Redis at %s (%s); reconnecting", self.location, _reason(exc))
                self._problem = "Redis is unreachable; reconnecting (the server log says why)"
                self._must_check = True
                await self._pause(RECONNECT_DELAYS[min(failures, len(RECONNECT_DELAYS) - 1)])
                failures += 1
            except Exception:  # a bug must not leave this worker silently frozen at one revision
                logger.exception("issuebridge: following the Redis log failed; retrying")
                self._problem = "following the Redis log failed; see the server log"
                self._must_check = True
                await self._pause(RECONNECT_DELAYS[-1])

    async def _check_data(self) -> None:
        """Before reading on after a lost connection (or for a writer that found another data set):
        go on from the log if Redis holds the data set of this copy with everything it has; else
        read everything afresh. Either way, Redis answered: it is back."""
        waiting, self._checked = self._checked, None
        self._must_check = False  # a writer that asks again from now on gets a check of its own
        try:
            epoch, latest = await self._state(self._timed(self._client().mget(EPOCH, REVISION)))
            if epoch != self._epoch or latest < self._revision:
                await self._reload()
        except BaseException:
            self._must_check = True
            if waiting is not None and self._checked is None:
                self._checked = waiting
            raise
        if self._problem is not None:
            logger.warning("issuebridge: Redis at %s is reachable again", self.location)
            self._problem = None
        if waiting is not None and not waiting.done():
            waiting.set_result(None)

    async def _timed(self, command: Awaitable[T]) -> T:
        """A command the follower sends, timed for :class:`Silence`."""
        with self._silence.awaiting(STALL_SECONDS):
            return await command

    async def _read_log(self) -> None:
        """One blocking read of the log past what this worker has applied, and its application."""
        assert self._reader is not None
        # redis-py's return types are loose: [[stream, [(b"<revision>-0", {field: value}), ...]]]
        with self._silence.awaiting(self._poll_seconds + STALL_SECONDS):
            replies: Any = await self._reader.xread(
                {LOG: f"{self._revision}-0"}, count=100, block=int(self._poll_seconds * 1000)
            )
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
        epoch, latest = await self._state(self._timed(redis.mget(EPOCH, REVISION)))
        if epoch != self._epoch or latest < self._revision:
            return True
        if latest == self._revision:
            return False
        following = f"{self._revision + 1}-0"  # a write that landed just now is still in the log
        return not await self._timed(redis.xrange(LOG, following, following))

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
            return read_stored(body).model_copy(update={"revision": revision})
        except ValidationError:  # written by another version of issuebridge, say: skip, don't stop
            logger.warning("issuebridge: skipping revision %d in the Redis log: not a valid entry", revision)
            return None

    async def _reload(self) -> None:
        """Read everything afresh after missing part of the log (or when Redis lost its data), and say so."""
        self._epoch, self._revision, self._entries = await self._load()
        logger.warning("issuebridge: reloaded %d entries from Redis at %s", len(self._entries), self.location)
        self._own.clear()
        await self._report(Reloaded(self._revision))
        self._wake_writers()

    def _wake_writers(self) -> None:
        """Writers whose revision this copy holds go on; those of a data set Redis lost learn so."""
        for epoch, revision in list(self._waiting):
            if epoch != self._epoch:
                waiter = self._waiting.pop((epoch, revision))
                if not waiter.done():
                    waiter.set_exception(Lost())
            elif revision <= self._revision:
                waiter = self._waiting.pop((epoch, revision))
                if not waiter.done():
                    waiter.set_result(None)

    async def _report(self, change: StoreChange) -> None:
        try:
            await super()._report(change)
        except Exception:  # one failing announcement must not stop this worker following the log
            logger.exception("issuebridge: announcing revision %d failed", change.revision)


_REFUSALS = {  # the first word of Redis's error reply: nothing was written
    "OOM": "Redis is out of memory (its maxmemory is reached)",
    "MISCONF": "Redis cannot save to its disk (MISCONF), so it refuses writes",
    "READONLY": "Redis is a read-only replica",
    "BUSY": "Redis is busy running a script",
    "LOADING": "Redis is still loading its data",
    "NOAUTH": "Redis wants a password (in ISSUEBRIDGE_REDIS_URL)",
    "WRONGPASS": "Redis refused the user name or password in ISSUEBRIDGE_REDIS_URL",
    "NOPERM": "the Redis user in ISSUEBRIDGE_REDIS_URL may not run this command",
}


def _refusal(exc: RedisError) -> str:
    # redis-py takes the known prefixes off the message ("OOM ...") and keeps them in status_code.
    code = exc.status_code or str(exc).split(" ", 1)[0]
    return _REFUSALS.get(code, f"Redis refused the write ({_reason(exc)})")


def _reason(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__
