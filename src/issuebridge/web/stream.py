"""``GET /api/dashboard/events``: the Server-Sent Events stream that keeps pages live."""

from __future__ import annotations

from collections.abc import AsyncIterator

import anyio
from sse_starlette import EventSourceResponse
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from issuebridge.dashboard import Dashboard

# How long a stream may take to end by itself once the server starts shutting down.
SHUTDOWN_GRACE_SECONDS = 1.0


def stream_routes(dashboard: Dashboard, heartbeat_seconds: float) -> list[Route]:
    async def events(request: Request) -> Response:
        async def frames() -> AsyncIterator[bytes]:
            # Subscribe before taking the snapshot, so no save can fall between the two.
            async with dashboard.hub.subscribe() as subscription:
                revision, snapshot = await dashboard.snapshot_event()
                yield snapshot
                async for event in subscription:
                    if event.id > revision:  # older ones are already in the snapshot
                        yield event.frame

        shutting_down = anyio.Event()

        async def end_streams_on_shutdown() -> None:
            # Ending the subscription lets the response finish cleanly, instead of being
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
