"""``GET /api/dashboard/events``: the Server-Sent Events stream that keeps pages live.

``?format=json`` (the default) sends the documented JSON events; ``?format=html`` sends the
page's HTML fragments. A client that reconnects with ``Last-Event-ID`` (or ``?last_event_id=``,
for clients that cannot set the header) receives what it missed, or a snapshot.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
from collections.abc import AsyncIterator, Generator
from typing import Any

from sse_starlette import EventSourceResponse
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Message, Receive, Scope, Send

from issuebridge.dashboard import Dashboard
from issuebridge.events import RETRY_FRAME, Event, EventHub, Subscription
from issuebridge.web.api import error


def last_event_id(request: Request) -> int | None:
    """The id the client last saw: the header wins (EventSource sends it on its own reconnects)."""
    raw = request.headers.get("last-event-id") or request.query_params.get("last_event_id") or ""
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 19 else None


async def end_streams_at_shutdown(hub: EventHub) -> None:
    """Wait for the server to begin shutting down, then end every stream.

    Ending the subscriptions lets each response finish cleanly, instead of being cancelled
    mid-stream; uvicorn waits for open responses before it runs the lifespan's shutdown, so this
    cannot wait for that. sse-starlette's watcher of uvicorn's exit flag does the detecting; this
    is its one waiter for all streams.
    """
    await EventSourceResponse._listen_for_exit_signal()
    hub.close()


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

    sse-starlette supplies the response headers, the answer to HEAD, the frame encoding (in
    ``issuebridge.events``) and the shutdown detection (``live_streams``). Its
    ``EventSourceResponse.__call__`` is not used for the stream: per open stream it runs a task
    group of four or five tasks (the stream, pings, a shutdown listener, a disconnect listener,
    a sender) and wraps every send in a cancel scope. Here an open stream is its request's task,
    one task waiting for the client to go away, and a subscription; heartbeats and shutdown are
    handled once for all streams; and an event is written to the socket within the hub's publish
    call. ``bench/fanout.py`` measures the difference (BENCHMARKS.md).
    """

    def __init__(self, dashboard: Dashboard) -> None:
        self._dashboard = dashboard
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
        dashboard = self._dashboard
        # Subscribe before catching up, so no event can fall between the two.
        async with dashboard.hub.subscribe() as subscription:
            disconnected = asyncio.create_task(_disconnect(receive))
            disconnected.add_done_callback(lambda _: subscription.end())
            try:
                await send(self._start)
                await send(_chunk(RETRY_FRAME))
                revision, catch_up = await dashboard.catch_up(wire_format, seen)
                for frame in catch_up:
                    await send(_chunk(frame))
                await Follower(subscription, send, wire_format, revision).run()
                await send({"type": "http.response.body", "body": b"", "more_body": False})
            finally:
                disconnected.cancel()

    def _parse(self, scope: Scope) -> tuple[str, int | None] | Response:
        """The wire format and the last event id the client saw, or the response that ends the request."""
        request = Request(scope)
        wire_format = request.query_params.get("format", "json")
        if wire_format not in self._dashboard.formats:
            return error(400, f"format must be one of {', '.join(sorted(self._dashboard.formats))}")
        if scope["method"] == "HEAD":
            return EventSourceResponse(NO_CONTENT, ping=0)  # headers only: a stream never ends (sse-starlette #218)
        return wire_format, last_event_id(request)


class Follower:
    """Sends a subscription's events to one stream until the subscription ends.

    While the stream waits, the hub's publish call sends each event itself (``deliver``). The
    send normally completes at once (uvicorn writes to the socket), which spares a task wake-up
    per stream per event. A send that has to wait (the client reads slowly, the socket buffer is
    full) is handed back to the stream's task, and later events queue behind it until it is
    through; if they fill the queue, the hub drops the subscriber.
    """

    __slots__ = ("_context", "_failed", "_revision", "_send", "_subscription", "_waiting", "_wire_format")

    def __init__(self, subscription: Subscription, send: Send, wire_format: str, revision: int) -> None:
        self._subscription = subscription
        self._send = send
        self._wire_format = wire_format
        self._revision = revision
        self._context = contextvars.copy_context()  # sends run in the stream's context, not the publisher's
        self._waiting: tuple[Generator[Any, None, None], Any] | None = None
        self._failed: Exception | None = None

    async def run(self) -> None:
        subscription, send, wire_format, revision = self._subscription, self._send, self._wire_format, self._revision
        while True:
            if self._waiting is not None:
                sending, awaited = self._waiting
                self._waiting = None
                await _finish(self._context, sending, awaited)
            while (event := subscription.pop()) is not None:
                if event.id is None or event.id > revision:  # older ones were in the catch-up
                    await send(_chunk(event.frames[wire_format]))
            if self._failed is not None:
                raise self._failed
            if subscription.ended:
                return
            subscription.deliver = self.deliver
            await subscription.wait()
            subscription.deliver = None

    def deliver(self, event: Event) -> None:
        if event.id is not None and event.id <= self._revision:
            return
        try:
            sending = self._send(_chunk(event.frames[self._wire_format])).__await__()
            awaited = self._context.run(sending.send, None)
        except StopIteration:
            return
        except Exception as exc:  # raised by the stream's own task, not into the publisher's loop
            self._failed = exc
            self._subscription.end()
            return
        self._subscription.deliver = None  # queue what follows until this send is through
        self._waiting = (sending, awaited)
        self._subscription.wake()


async def _finish(context: contextvars.Context, sending: Generator[Any, None, None], awaited: Any) -> None:
    """Drive a started send to its end the way its own task would: wait for what it awaits, resume it."""
    while True:
        try:
            if awaited is None:  # a bare yield: give the loop one turn
                await asyncio.sleep(0)
            else:
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


def stream_routes(dashboard: Dashboard) -> list[Route]:
    # Named "events", as the endpoint function it replaces was: the page links to it by that name.
    return [Route("/api/dashboard/events", EventStream(dashboard), methods=["GET"], name="events")]
