"""The naive way to broadcast over Server-Sent Events, as the baseline for ``bench.fanout``.

A plain sse-starlette broadcast: one unbounded ``asyncio.Queue`` per subscriber, every event
JSON-encoded again for every subscriber, sse-starlette's defaults (a ping task per stream).
Run it under uvicorn with uvloop and httptools, as ``bench.fanout`` does::

    python -m uvicorn bench.naive_broadcast:app --loop uvloop --http httptools

``POST /publish`` takes a JSON object, stamps it with the wall-clock time at which it was
accepted (``accepted_at``, like the real server's ``last_updated``) and queues it for every
subscriber; it answers with the event's id and that stamp.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncIterator
from typing import Any

from sse_starlette import EventSourceResponse, JSONServerSentEvent
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

subscribers: set[asyncio.Queue[tuple[int, dict[str, Any]]]] = set()
ids = itertools.count(1)


async def events(request: Request) -> Response:
    queue: asyncio.Queue[tuple[int, dict[str, Any]]] = asyncio.Queue()

    async def stream() -> AsyncIterator[JSONServerSentEvent]:
        subscribers.add(queue)
        try:
            while True:
                event_id, data = await queue.get()
                # Encoded here, once per subscriber: the cost the real hub avoids.
                yield JSONServerSentEvent(data, event="update", id=str(event_id))
        finally:
            subscribers.discard(queue)

    return EventSourceResponse(stream())


async def publish(request: Request) -> Response:
    data = await request.json()
    accepted_at = time.time()
    event_id = next(ids)
    event = {**data, "accepted_at": accepted_at}
    for queue in list(subscribers):
        queue.put_nowait((event_id, event))
    return JSONResponse({"id": event_id, "accepted_at": accepted_at})


async def healthz(request: Request) -> Response:
    return JSONResponse({"subscribers": len(subscribers)})


app = Starlette(
    routes=[
        Route("/events", events, methods=["GET"]),
        Route("/publish", publish, methods=["POST"]),
        Route("/healthz", healthz, methods=["GET"]),
    ]
)
