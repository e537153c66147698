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
import math
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

from limits import RateLimitItem
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from sse_starlette import EventSourceResponse
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Message, Receive, Scope, Send

from issuebridge.live.announcer import Announcer
from issuebridge.live.delivery import Delivery, Stalled, Stalls
from issuebridge.live.frames import RETRY_FRAME
from issuebridge.live.hub import EventHub
from issuebridge.web import uvicorn_server
from issuebridge.web.errors import error

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
        # Subscribe before resuming, so no event can fall between the two.
        async with announcer.subscribe() as subscription:
            delivery = Delivery(subscription, send, wire_format, timeout=self._send_timeout, stalls=self._stalls)
            disconnected = asyncio.create_task(_disconnect(receive))
            disconnected.add_done_callback(lambda _: subscription.end())
            try:
                await delivery.message(self._start)
                await delivery.frame(RETRY_FRAME)
                revision, first = await announcer.resume(wire_format, seen)
                for frame in first:
                    await delivery.frame(frame)
                await delivery.run(revision)
                await delivery.message({"type": "http.response.body", "body": b"", "more_body": False})
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
        return error(
            429,
            f"this address opened more event streams than {self._open_rate} allows "
            f"(ISSUEBRIDGE_STREAM_RATE_LIMIT); reconnect in {retry_after} s",
            headers={"Retry-After": str(retry_after)},
        )


class _NoContent:
    """An empty body for sse-starlette's response, which is only used for its headers and HEAD."""

    def __aiter__(self) -> _NoContent:
        return self

    async def __anext__(self) -> bytes:
        raise StopAsyncIteration


NO_CONTENT = _NoContent()


async def _disconnect(receive: Receive) -> None:
    """Return once the client has gone away (the request's own body, if any, is read and ignored)."""
    while (await receive())["type"] != "http.disconnect":
        pass


def stream_routes(announcer: Announcer, **options: Any) -> list[Route]:
    """The event stream's route; ``options`` are :class:`EventStream`'s (rate of opening, deadline)."""
    # Named "events": the page links to it by that name (``url_for("events")``).
    return [Route("/api/dashboard/events", EventStream(announcer, **options), methods=["GET"], name="events")]
