"""``GET /api/dashboard/events``: the Server-Sent Events stream that keeps pages live.

``?format=json`` (the default) sends the documented JSON events; ``?format=html`` sends the
page's HTML fragments. A client that reconnects with ``Last-Event-ID`` (or ``?last_event_id=``,
for clients that cannot set the header) receives what it missed, or a snapshot.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import anyio
from sse_starlette import EventSourceResponse
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from issuebridge.dashboard import Dashboard
from issuebridge.events import RETRY_FRAME
from issuebridge.web.api import error

# How long a stream may take to end by itself once the server starts shutting down.
SHUTDOWN_GRACE_SECONDS = 1.0


def last_event_id(request: Request) -> int | None:
    """The id the client last saw: the header wins (EventSource sends it on its own reconnects)."""
    raw = request.headers.get("last-event-id") or request.query_params.get("last_event_id") or ""
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 19 else None


def stream_routes(dashboard: Dashboard, heartbeat_seconds: float) -> list[Route]:
    async def events(request: Request) -> Response:
        wire_format = request.query_params.get("format", "json")
        if wire_format not in dashboard.formats:
            return error(400, f"format must be one of {', '.join(sorted(dashboard.formats))}")
        seen = last_event_id(request)

        async def frames() -> AsyncIterator[bytes]:
            # Subscribe before catching up, so no event can fall between the two.
            async with dashboard.hub.subscribe() as subscription:
                yield RETRY_FRAME
                revision, catch_up = await dashboard.catch_up(wire_format, seen)
                for frame in catch_up:
                    yield frame
                async for event in subscription:
                    if event.id is None or event.id > revision:  # older ones were in the catch-up
                        yield event.frames[wire_format]

        shutting_down = anyio.Event()

        async def end_streams_on_shutdown() -> None:
            # Ending the subscriptions lets each response finish cleanly, instead of being
            # cancelled mid-stream when uvicorn shuts down.
            await shutting_down.wait()
            dashboard.hub.close()

        # The ping is a comment line: it keeps idle streams open through proxies and lets the
        # server notice clients that went away.
        return EventSourceResponse(
            frames(),
            ping=heartbeat_seconds,
            shutdown_event=shutting_down,
            shutdown_grace_period=SHUTDOWN_GRACE_SECONDS,
            data_sender_callable=end_streams_on_shutdown,
        )

    return [Route("/api/dashboard/events", events, methods=["GET"])]
