"""The event hub: each dashboard event is encoded once per wire format and the bytes fanned out.

Subscribers are the open ``/api/dashboard/events`` streams. Each has a queue bounded in events
and in bytes: one that stops reading is dropped when its queue fills (its client reconnects and
catches up) instead of slowing the others or growing memory without bound. Every subscriber
queues the same ``Event`` objects, in the same order, so all of them together hold no more
event bytes than the one furthest behind: at most one subscriber's bound.

A bounded history of recent events lets a reconnecting client receive exactly what it missed,
and only that: the history is trusted only where its ids run on without a gap.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager

from sse_starlette import ServerSentEvent


class Event:
    """An event ready to send: its id (the store revision it announces) and its bytes per wire format.

    Events that announce no revision (sync progress) have no id and are not kept for replay.
    ``size`` (every format's bytes) is counted once here, not once per subscriber it is offered to.
    """

    __slots__ = ("frames", "id", "size")

    def __init__(self, id: int | None, frames: Mapping[str, bytes]) -> None:
        self.id = id
        self.frames = frames
        self.size = sum(len(frame) for frame in frames.values())

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Event) and (self.id, self.frames) == (other.id, other.frames)

    __hash__ = None  # type: ignore[assignment]  # compared by value, so never a dictionary key

    def __repr__(self) -> str:
        return f"Event(id={self.id!r}, size={self.size})"


class _EveryFormat(dict[str, bytes]):
    """The same frame whatever the wire format (comments such as the heartbeat)."""

    def __init__(self, frame: bytes) -> None:
        super().__init__()
        self.frame = frame

    def __missing__(self, wire_format: str) -> bytes:
        return self.frame


# The heartbeat: a comment line, which EventSource ignores. It keeps idle streams open through
# proxies and lets the server notice clients that went away.
HEARTBEAT = Event(None, _EveryFormat(ServerSentEvent(comment="ping").encode()))


class Subscription:
    """What one stream reads from: events in publish order, until it is ended or overflows.

    Deliberately small (it exists once per open stream): a list and, while its stream waits, one
    future. ``offer`` never blocks the publisher: a queue past its bound in events or in bytes
    means this subscriber has fallen behind, and it is dropped.

    The bytes counted are what the subscriber keeps alive: its queued events and the one its
    stream is sending (taken by ``pop`` or ``carry``, until ``finished``), every wire format of
    each, since an event holds them all.

    A stream that is waiting with nothing queued may set ``deliver``: ``offer`` then hands the
    event straight to it, in the publisher's call, instead of queueing it and waking the stream;
    ``deliver`` returns False to have it queued after all (a frame too large to write at once).
    """

    __slots__ = (
        "_ended",
        "_events",
        "_held",
        "_in_flight",
        "_max_bytes",
        "_max_queued",
        "_waiter",
        "deliver",
        "recently_active",
    )

    def __init__(self, max_queued: int, max_bytes: int = 1 << 62) -> None:
        self._events: list[Event] = []  # a list, not a deque: an empty deque costs 600 bytes more
        self._max_queued = max_queued
        self._max_bytes = max_bytes
        self._held = 0  # bytes of the queued events and of the one in flight
        self._in_flight: Event | None = None
        self._waiter: asyncio.Future[None] | None = None
        self._ended = False
        self.deliver: Callable[[Event], bool] | None = None
        # Something was offered since the hub's last heartbeat tick (or the stream just opened).
        self.recently_active = True

    @property
    def ended(self) -> bool:
        return self._ended

    @property
    def held_bytes(self) -> int:
        return self._held

    def offer(self, event: Event | None) -> bool:
        """Queue ``event`` (``None`` ends the stream); False if this subscriber has fallen behind or ended."""
        if event is None:
            self.end()
            return True
        if self._ended:
            return False
        events = self._events
        if not events and self.deliver is not None:  # the stream is waiting: it may write it at once
            self.recently_active = True
            if self._held + event.size <= self._max_bytes and self.deliver(event):
                return True
        if len(events) >= self._max_queued or self._held + event.size > self._max_bytes:
            return False
        self.recently_active = True
        events.append(event)
        self._held += event.size
        self.wake()
        return True

    def end(self) -> None:
        """End the stream at once. What is still queued is dropped: a reconnecting client catches up."""
        self._ended = True
        self.deliver = None
        self._events.clear()
        self._in_flight = None
        self._held = 0
        self.wake()

    def pop(self) -> Event | None:
        """The next queued event, if any, without waiting; it counts as held until ``finished``."""
        self.finished()
        if not self._events:
            return None
        self._in_flight = event = self._events.pop(0)
        return event

    def carry(self, event: Event) -> None:
        """``event`` was delivered but its send is still under way: count it as held until ``finished``."""
        self.finished()
        if not self._ended:
            self._in_flight = event
            self._held += event.size

    def finished(self) -> None:
        """The event in flight has been written (or given up): it no longer counts."""
        if self._in_flight is not None:
            self._held -= self._in_flight.size
            self._in_flight = None

    async def wait(self) -> None:
        """Wait until an event is queued, the subscription ends, or ``wake`` is called."""
        if not self._events and not self._ended:
            self._waiter = asyncio.get_running_loop().create_future()
            await self._waiter

    def wake(self) -> None:
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def next(self) -> Event | None:
        """The next event, waiting for one; None once the subscription has ended."""
        while not self._events:
            if self._ended:
                return None
            await self.wait()
        return self.pop()

    def __aiter__(self) -> AsyncIterator[Event]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[Event]:
        while (event := await self.next()) is not None:
            yield event


class EventHub:
    """Fan-out of encoded events to every current subscriber, in publish order, with replay.

    Every subscriber receives the same ``Event`` object, whose frames were encoded once per wire
    format: publishing costs one queue append per subscriber, whatever the event's size.
    """

    def __init__(
        self,
        max_queued: int = 256,
        history_events: int = 512,
        history_bytes: int = 64 << 20,
        max_queued_bytes: int = 64 << 20,
    ) -> None:
        self._max_queued = max_queued
        self._max_queued_bytes = max_queued_bytes
        self._subscribers: set[Subscription] = set()
        self._history: deque[tuple[int, Event]] = deque()  # (id, event), oldest first
        self._history_events = history_events
        self._history_bytes = history_bytes
        self._history_size = 0
        self._closed = False

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)

    def publish(self, event: Event) -> None:
        """Remember one event and hand it to every subscriber; drop those that cannot keep up."""
        if event.id is not None:
            self._remember(event.id, event)
        self._offer(event, list(self._subscribers))

    def heartbeat(self) -> None:
        """One heartbeat tick: a ping to every subscriber that was sent nothing since the previous tick.

        Called every half heartbeat interval, so that no stream stays silent for longer than the
        interval, and a stream that receives events is not pinged at all.
        """
        idle = []
        for subscriber in self._subscribers:
            if subscriber.recently_active:
                subscriber.recently_active = False
            else:
                idle.append(subscriber)
        self._offer(HEARTBEAT, idle)

    async def keep_alive(self, interval: float) -> None:
        """Send heartbeats until cancelled: one timer for every stream, instead of one per stream."""
        while True:
            await asyncio.sleep(interval / 2)
            self.heartbeat()

    def missed_since(self, last_id: int, current_id: int) -> list[Event] | None:
        """The events after ``last_id`` up to ``current_id``, or None if history no longer holds them all.

        Event ids are store revisions, one per change, so the client missed exactly the ids
        ``last_id + 1`` to ``current_id``; any of them missing from the history (trimmed, or
        never published because its event could not be built) means a snapshot instead. An id
        from the future (another database, or one that was reset) also needs a snapshot.
        """
        if last_id == current_id:
            return []
        if last_id > current_id or not self._history or self._history[0][0] > last_id + 1:
            return None
        missed = [event for event_id, event in self._history if last_id < event_id <= current_id]
        # Ids in the history only grow, so as many as there are revisions means every one of them.
        return missed if len(missed) == current_id - last_id else None

    @asynccontextmanager
    async def subscribe(self) -> AsyncIterator[Subscription]:
        subscription = Subscription(self._max_queued, self._max_queued_bytes)
        if self._closed:
            subscription.end()
        else:
            self._subscribers.add(subscription)
        try:
            yield subscription
        finally:
            self._subscribers.discard(subscription)

    def restart(self) -> None:
        """Forget the history and end every open stream: its client reconnects and gets a snapshot.

        For when the events sent so far can no longer be built on (the store was reloaded).
        """
        self._history.clear()
        self._history_size = 0
        for subscriber in self._subscribers:
            subscriber.end()
        self._subscribers.clear()

    def close(self) -> None:
        """End every open stream, and any opened later (server shutdown)."""
        self._closed = True
        for subscriber in self._subscribers:
            subscriber.end()
        self._subscribers.clear()

    def _offer(self, event: Event, subscribers: list[Subscription]) -> None:
        for subscriber in subscribers:
            if not subscriber.offer(event):
                self._subscribers.discard(subscriber)
                subscriber.end()

    def _remember(self, event_id: int, event: Event) -> None:
        self._history.append((event_id, event))
        self._history_size += event.size
        while self._history and (len(self._history) > self._history_events or self._history_size > self._history_bytes):
            self._history_size -= self._history.popleft()[1].size
