"""The event hub: each dashboard event is encoded once per wire format and the bytes fanned out.

Subscribers are the open ``/api/dashboard/events`` streams. Each has a bounded queue: one that
stops reading is dropped when its queue fills (its client reconnects and catches up) instead of
slowing the others or growing memory without bound. A bounded history of recent events lets a
reconnecting client receive exactly what it missed.
"""

from __future__ import annotations

import asyncio
import json
from collections import deque
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any, NamedTuple

from sse_starlette import ServerSentEvent

# Tells EventSource clients how long to wait before reconnecting after the stream drops. Sent
# as the first frame of every stream.
RETRY_MILLISECONDS = 2000
RETRY_FRAME = ServerSentEvent(retry=RETRY_MILLISECONDS).encode()


def encode_event(name: str, data: dict[str, Any], event_id: int | None) -> bytes:
    """The wire form of one event: ``id``, ``event`` and a single-line JSON ``data`` field.

    ``data`` is ``{"type": name, "data": ...}`` so that a client can route on the payload alone.
    Events without an id (progress) do not move a client's ``Last-Event-ID``.
    """
    payload = json.dumps({"type": name, "data": data}, separators=(",", ":"), ensure_ascii=False)
    return ServerSentEvent(data=payload, event=name, id=None if event_id is None else str(event_id)).encode()


class Event(NamedTuple):
    """An event ready to send: its id (the store revision it announces) and its bytes per wire format.

    Events that announce no revision (sync progress) have no id and are not kept for replay.
    """

    id: int | None
    frames: Mapping[str, bytes]

    @property
    def size(self) -> int:
        return sum(len(frame) for frame in self.frames.values())


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
    """Fan-out of encoded events to every current subscriber, in publish order, with replay."""

    def __init__(self, max_queued: int = 256, history_events: int = 512, history_bytes: int = 64 << 20) -> None:
        self._max_queued = max_queued
        self._subscribers: set[Subscription] = set()
        self._history: deque[tuple[int, Event]] = deque()  # (id, event), oldest first
        self._history_events = history_events
        self._history_bytes = history_bytes
        self._history_size = 0

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)

    def publish(self, event: Event) -> None:
        """Remember one event and hand it to every subscriber; drop those that cannot keep up."""
        if event.id is not None:
            self._remember(event.id, event)
        for subscriber in list(self._subscribers):
            if not subscriber.offer(event):
                self._subscribers.discard(subscriber)
                subscriber.end()

    def missed_since(self, last_id: int, current_id: int) -> list[Event] | None:
        """The events after ``last_id`` up to ``current_id``, or None if history no longer holds them all.

        Event ids are consecutive store revisions, so the history either holds every missed
        event or the client needs a snapshot. An id from the future (another database, or one
        that was reset) also needs a snapshot.
        """
        if last_id == current_id:
            return []
        if last_id > current_id or not self._history or self._history[0][0] > last_id + 1:
            return None
        return [event for event_id, event in self._history if last_id < event_id <= current_id]

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

    def _remember(self, event_id: int, event: Event) -> None:
        self._history.append((event_id, event))
        self._history_size += event.size
        while self._history and (len(self._history) > self._history_events or self._history_size > self._history_bytes):
            self._history_size -= self._history.popleft()[1].size
