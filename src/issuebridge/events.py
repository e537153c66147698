"""The event hub: encodes each dashboard event once and fans the bytes out to every subscriber.

Subscribers are the open ``/api/dashboard/events`` streams. Each has a bounded queue: one that
stops reading is dropped when its queue fills (its client reconnects and receives a fresh
snapshot) instead of slowing the others or growing memory without bound.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, NamedTuple

from sse_starlette import ServerSentEvent

# Tells EventSource clients how long to wait before reconnecting after the stream drops.
RETRY_MILLISECONDS = 2000


def encode_event(name: str, data: dict[str, Any], event_id: int, *, retry: int | None = None) -> bytes:
    """The wire form of one event: ``id``, ``event`` and a single-line JSON ``data`` field.

    ``data`` is ``{"type": name, "data": ...}`` so that a client can route on the payload alone.
    """
    payload = json.dumps({"type": name, "data": data}, separators=(",", ":"), ensure_ascii=False)
    return ServerSentEvent(data=payload, event=name, id=str(event_id), retry=retry).encode()


class Event(NamedTuple):
    """An event ready to send: its id (the store revision it announces) and its encoded bytes."""

    id: int
    frame: bytes


class Subscription:
    """What one stream reads from: encoded events in order, until it is closed or overflows."""

    def __init__(self, max_queued: int) -> None:
        self._queue: asyncio.Queue[Event | None] = asyncio.Queue(max_queued)

    def offer(self, event: Event | None) -> bool:
        """Queue ``event`` (``None`` ends the stream); False if this subscriber has fallen behind."""
        try:
            self._queue.put_nowait(event)
        except asyncio.QueueFull:
            return False
        return True

    def end(self) -> None:
        """End the stream at once. What is still queued is dropped: a reconnecting client gets a snapshot."""
        while not self._queue.empty():
            self._queue.get_nowait()
        self._queue.put_nowait(None)

    def __aiter__(self) -> AsyncIterator[Event]:
        return self._events()

    async def _events(self) -> AsyncIterator[Event]:
        while (event := await self._queue.get()) is not None:
            yield event


class EventHub:
    """Fan-out of encoded events to every current subscriber, in publish order."""

    def __init__(self, max_queued: int = 256) -> None:
        self._max_queued = max_queued
        self._subscribers: set[Subscription] = set()

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)

    def publish(self, event: Event) -> None:
        """Hand one encoded event to every subscriber; drop those that cannot keep up."""
        for subscriber in list(self._subscribers):
            if not subscriber.offer(event):
                self._subscribers.discard(subscriber)
                subscriber.end()

    @asynccontextmanager
    async def subscribe(self) -> AsyncIterator[Subscription]:
        subscription = Subscription(self._max_queued)
        self._subscribers.add(subscription)
        try:
            yield subscription
        finally:
            self._subscribers.discard(subscription)

    def close(self) -> None:
        """End every open stream (server shutdown)."""
        for subscriber in list(self._subscribers):
            subscriber.end()
        self._subscribers.clear()
