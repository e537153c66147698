"""``GET /api/dashboard/events``: the Server-Sent Events stream that keeps pages live.

``?format=json`` (the default) sends the documented JSON events; ``?format=html`` sends the
page's HTML fragments. A client that reconnects with ``Last-Event-ID`` (or ``?last_event_id=``,
for clients that cannot set the header) receives what it missed, or a snapshot.

What one stream may cost is bounded. Frames go to the connection in pieces of at most
``PIECE_BYTES``, each handed over only once uvicorn's buffer is below its high-water mark, so
a connection holds at most a piece past that mark however large the event (a snapshot of a
5,000-issue board is 3.6 MB). Each piece must be taken within ``send_timeout`` seconds; all the
streams waiting for their clients at once hold at most ``max_stalled_bytes``. A stream past
either is dropped and its connection cut (``web/uvicorn_server.py``): its client reconnects and
catches up. How fast one client address may open streams is limited too: each opening builds
or replays a catch-up.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import math
import time
from collections.abc import AsyncIterator, Callable, Generator
from typing import Any

from limits import RateLimitItem
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from sse_starlette import EventSourceResponse
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Message, Receive, Scope, Send

from issuebridge.live.announcer import Announcer
from issuebridge.live.frames import RETRY_FRAME
from issuebridge.live.hub import Event, EventHub, Subscription
from issuebridge.web import uvicorn_server
from issuebridge.web.errors import error

PIECE_BYTES = 64 * 1024  # the most one send hands to the connection
# What a stream whose client stopped reading can leave in its connection: a piece past uvicorn's
# high-water mark (64 KiB, where it stops taking more until the buffer drains).
STALL_BYTES = PIECE_BYTES + 64 * 1024
MAX_STALLED_BYTES = 64 << 20  # about 500 streams waiting for their clients at once
SEND_TIMEOUT_SECONDS = 10.0


def last_event_id(request: Request) -> int | None:
    """The id the client last saw: the header wins (EventSource sends it on its own reconnects)."""
    raw = request.headers.get("last-event-id") or request.query_params.get("last_event_id") or ""
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 19 else None


async def end_streams_at_shutdown(hub: EventHub) -> None:
    """Wait for the server to begin shutting down, end every stream, then release stuck connections.

    Ending the subscriptions lets each response finish cleanly, instead of being cancelled
    mid-stream; uvicorn waits for open responses before it runs the lifespan's shutdown, so this
    cannot wait for that. Under uvicorn its exit flag is watched here, and connections that
    would keep the shutdown waiting are cut (``web/uvicorn_server.py``). Under another server
    there is no such flag to watch (ASGI has no shutdown signal before the lifespan's): streams
    end when the lifespan shuts down (:func:`live_streams`), or when that server cancels them.
    """
    server = uvicorn_server.running_server()
    if server is None:
        return
    await uvicorn_server.shutdown_begun(server)
    hub.close()
    await uvicorn_server.release_at_shutdown(server)


@contextlib.asynccontextmanager
async def live_streams(hub: EventHub, heartbeat_seconds: float) -> AsyncIterator[None]:
    """What all streams share, for as long as the app runs: one heartbeat timer and one shutdown watcher."""
    tasks = [asyncio.create_task(hub.keep_alive(heartbeat_seconds)), asyncio.create_task(end_streams_at_shutdown(hub))]
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        hub.close()


class Stalled(Exception):
    """A stream's client did not take what was sent in time, or too many streams are waiting."""


class Stalls:
    """What the streams waiting for their clients hold, together: each up to ``STALL_BYTES``."""

    def __init__(self, max_bytes: int = MAX_STALLED_BYTES) -> None:
        self.max_bytes = max_bytes
        self.held = 0

    def begin(self) -> bool:
        if self.held + STALL_BYTES > self.max_bytes:
            return False
        self.held += STALL_BYTES
        return True

    def end(self) -> None:
        self.held -= STALL_BYTES


class Sender:
    """Writes one stream's messages: frames in pieces, each taken within the deadline.

    A send is first run in the caller's own call (``start``): uvicorn normally writes to the
    socket at once, and the publisher then needs no task wake-up per stream. A send that has to
    wait is finished by ``finish``, under the deadline and counted among the stalls.
    """

    __slots__ = ("_stalls", "_timeout", "context", "send")

    def __init__(self, send: Send, timeout: float, stalls: Stalls) -> None:
        self.send = send
        self._timeout = timeout
        self._stalls = stalls
        self.context = contextvars.copy_context()  # sends run in the stream's context, not the publisher's

    def start(self, message: Message) -> tuple[Generator[Any, None, None], Any] | None:
        """Run ``message``'s send as far as it goes now: None if it is done, else what to ``finish``."""
        sending = self.send(message).__await__()
        try:
            awaited = self.context.run(sending.send, None)
        except StopIteration:
            return None
        return sending, awaited

    async def finish(self, sending: Generator[Any, None, None], awaited: Any) -> None:
        if not self._stalls.begin():
            sending.close()
            raise Stalled("too many streams are waiting for their clients")
        try:
            async with asyncio.timeout(self._timeout):
                await _finish(self.context, sending, awaited)
        except TimeoutError:
            raise Stalled(f"the client took nothing for {self._timeout:g} s") from None
        finally:
            self._stalls.end()

    async def message(self, message: Message) -> None:
        started = self.start(message)
        if started is not None:
            await self.finish(*started)

    async def frame(self, frame: bytes, stop: Subscription | None = None) -> None:
        """Send ``frame`` in pieces; stop early once ``stop`` ends (the client is gone, or shutdown)."""
        if len(frame) <= PIECE_BYTES:
            await self.message(_chunk(frame))
            return
        for start in range(0, len(frame), PIECE_BYTES):
            if stop is not None and stop.ended:
                return  # an event cut short is never dispatched: EventSource waits for its blank line
            await self.message(_chunk(frame[start : start + PIECE_BYTES]))


class EventStream:
    """The endpoint itself: a plain ASGI app, so that an open stream holds as little as possible.

    sse-starlette supplies the response headers, the answer to HEAD and the frame layout
    (``live/frames.py``). Its ``EventSourceResponse.__call__`` is not used for the stream: per
    open stream it runs a task group of four or five tasks (the stream, pings, a shutdown
    listener, a disconnect listener, a sender) and wraps every send in a cancel scope. Here an
    open stream is its request's task, one task waiting for the client to go away, and a
    subscription; heartbeats and shutdown are handled once for all streams; and an event is
    written to the socket within the hub's publish call. ``bench/fanout.py`` measures the
    difference (BENCHMARKS.md).
    """

    def __init__(
        self,
        announcer: Announcer,
        *,
        open_rate: RateLimitItem | None = None,
        send_timeout: float = SEND_TIMEOUT_SECONDS,
        stalls: Stalls | None = None,
        cut: Callable[[Scope], bool] = uvicorn_server.cut,
    ) -> None:
        self._announcer = announcer
        self._open_rate = open_rate
        self._limiter = MovingWindowRateLimiter(MemoryStorage())
        self._send_timeout = send_timeout
        self._stalls = stalls or Stalls()
        self._cut = cut
        self._start: Message = {
            "type": "http.response.start",
            "status": 200,
            "headers": EventSourceResponse(NO_CONTENT, ping=0).raw_headers,  # built once, shared
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        parsed = self._parse(scope)
        if isinstance(parsed, Response):
            await parsed(scope, receive, send)
            return
        wire_format, seen = parsed
        announcer = self._announcer
        sender = Sender(send, self._send_timeout, self._stalls)
        # Subscribe before resuming, so no event can fall between the two.
        async with announcer.subscribe() as subscription:
            disconnected = asyncio.create_task(_disconnect(receive))
            disconnected.add_done_callback(lambda _: subscription.end())
            try:
                await sender.message(self._start)
                await sender.message(_chunk(RETRY_FRAME))
                revision, first = await announcer.resume(wire_format, seen)
                for frame in first:
                    await sender.frame(frame, stop=subscription)
                await Follower(subscription, sender, wire_format, revision).run()
                await sender.message({"type": "http.response.body", "body": b"", "more_body": False})
            except Stalled:
                subscription.end()
                # Cut the connection, or it would keep what it holds until its client reads; then
                # return once uvicorn has seen it go, so the response does not count as unfinished.
                if self._cut(scope):
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(1):
                            await asyncio.shield(disconnected)
            finally:
                disconnected.cancel()

    def _parse(self, scope: Scope) -> tuple[str, int | None] | Response:
        """The wire format and the last event id the client saw, or the response that ends the request."""
        request = Request(scope)
        wire_format = request.query_params.get("format", "json")
        if wire_format not in self._announcer.formats:
            return error(400, f"format must be one of {', '.join(self._announcer.formats)}")
        if scope["method"] == "HEAD":
            return EventSourceResponse(NO_CONTENT, ping=0)  # headers only: a stream never ends (sse-starlette #218)
        refused = self._refuse_if_too_fast(request)
        if refused is not None:
            return refused
        return wire_format, last_event_id(request)

    def _refuse_if_too_fast(self, request: Request) -> Response | None:
        """429 for an address that opens streams faster than ``open_rate`` (churn costs every page)."""
        if self._open_rate is None:
            return None
        address = request.client.host if request.client else "unknown"
        if self._limiter.hit(self._open_rate, address):
            return None
        reset = self._limiter.get_window_stats(self._open_rate, address).reset_time
        retry_after = max(1, math.ceil(reset - time.time()))
        return JSONResponse(
            {
                "error": f"this address opened more event streams than {self._open_rate} allows "
                f"(ISSUEBRIDGE_STREAM_RATE_LIMIT); reconnect in {retry_after} s"
            },
            status_code=429,
            headers={"Retry-After": str(retry_after)},
        )


class Follower:
    """Sends a subscription's events to one stream until the subscription ends.

    While the stream waits, the hub's publish call sends each event itself (``deliver``). The
    send normally completes at once (uvicorn writes to the socket), which spares a task wake-up
    per stream per event. A send that has to wait (the client reads slowly, the socket buffer is
    full) is handed back to the stream's task, and later events queue behind it until it is
    through; if they fill the queue, the hub drops the subscriber. Frames larger than a piece
    are always sent by the stream's task.

    Event ids are consecutive revisions: an id that skips one means an event was never
    published (it could not be built), so the stream ends, and the client's reconnect with
    the last id it saw gets a snapshot instead of silently missing a change.
    """

    __slots__ = ("_failed", "_revision", "_sender", "_subscription", "_waiting", "_wire_format")

    def __init__(self, subscription: Subscription, sender: Sender, wire_format: str, revision: int) -> None:
        self._subscription = subscription
        self._sender = sender
        self._wire_format = wire_format
        self._revision = revision
        self._waiting: tuple[Generator[Any, None, None], Any] | None = None
        self._failed: Exception | None = None

    async def run(self) -> None:
        subscription, sender, wire_format = self._subscription, self._sender, self._wire_format
        while True:
            if self._waiting is not None:
                sending, awaited = self._waiting
                self._waiting = None
                await sender.finish(sending, awaited)
            while (event := subscription.pop()) is not None:
                if self._take(event):
                    await sender.frame(event.frames[wire_format], stop=subscription)
            subscription.finished()
            if self._failed is not None:
                raise self._failed
            if subscription.ended:
                return
            subscription.deliver = self.deliver
            await subscription.wait()
            subscription.deliver = None

    def _take(self, event: Event) -> bool:
        """Whether to send ``event``: not one the catch-up already covered; a gap ends the stream."""
        if event.id is None:
            return True
        if event.id <= self._revision:
            return False
        if event.id != self._revision + 1:
            self._subscription.end()
            return False
        self._revision = event.id
        return True

    def deliver(self, event: Event) -> bool:
        """Write ``event`` within the publisher's call (once per stream per event: kept lean)."""
        frame = event.frames[self._wire_format]
        if len(frame) > PIECE_BYTES:
            return False  # in pieces, by the stream's task
        event_id = event.id
        if event_id is not None:  # _take, inlined
            if event_id <= self._revision:
                return True
            if event_id != self._revision + 1:
                self._subscription.end()
                return True
            self._revision = event_id
        sender = self._sender
        try:
            sending = sender.send({"type": "http.response.body", "body": frame, "more_body": True}).__await__()
            awaited = sender.context.run(sending.send, None)
        except StopIteration:
            return True
        except Exception as exc:  # raised by the stream's own task, not into the publisher's loop
            self._failed = exc
            self._subscription.end()
            return True
        subscription = self._subscription
        subscription.deliver = None  # queue what follows until this send is through
        subscription.carry(event)
        self._waiting = (sending, awaited)
        subscription.wake()
        return True


async def _finish(context: contextvars.Context, sending: Generator[Any, None, None], awaited: Any) -> None:
    """Drive a started send to its end the way its own task would: wait for what it awaits, resume it.

    As a task does with a future its coroutine yields, the future's "blocking" flag is taken
    down first: awaiting it again with the flag still up fails at once ("await wasn't used
    with future"). Cancelling this (the deadline, shutdown) cancels the future and throws the
    cancellation into the send, as a task would.
    """
    while True:
        try:
            if awaited is None:  # a bare yield: give the loop one turn
                await asyncio.sleep(0)
            else:
                awaited._asyncio_future_blocking = False
                await awaited
        except BaseException as exc:  # this stream was cancelled: so is the send
            try:
                awaited = context.run(sending.throw, exc)
            except StopIteration:
                return
        else:
            try:
                awaited = context.run(sending.send, None)
            except StopIteration:
                return


class _NoContent:
    """An empty body for sse-starlette's response, which is only used for its headers and HEAD."""

    def __aiter__(self) -> _NoContent:
        return self

    async def __anext__(self) -> bytes:
        raise StopAsyncIteration


NO_CONTENT = _NoContent()


def _chunk(frame: bytes) -> Message:
    return {"type": "http.response.body", "body": frame, "more_body": True}


async def _disconnect(receive: Receive) -> None:
    """Return once the client has gone away (the request's own body, if any, is read and ignored)."""
    while (await receive())["type"] != "http.disconnect":
        pass


def stream_routes(announcer: Announcer, **options: Any) -> list[Route]:
    """The event stream's route; ``options`` are :class:`EventStream`'s (rate of opening, deadline)."""
    # Named "events": the page links to it by that name (``url_for("events")``).
    return [Route("/api/dashboard/events", EventStream(announcer, **options), methods=["GET"], name="events")]
