"""One stream's delivery: its subscription's events, written to its connection, within bounds.

A :class:`Delivery` writes each event to the connection from the hub's publish call itself,
while its stream waits: ``Subscription.deliver`` hands it the event, and it steps the ASGI
``send`` coroutine by hand (``__await__().send``, in the stream's context) until the first thing
``send`` waits for. uvicorn writes to the socket at once unless the connection's buffer is past
its high-water mark, so the send usually completes right there, and the publisher fans an event
out to every waiting stream without a task wake-up per stream. A send that does have to wait
(the client reads slowly) is handed back to the stream's own task, which finishes it under the
deadline (:func:`_resumed`: ``yield from`` by hand, so the task waits for what the send waits
for, and a cancellation reaches the send, exactly as if the task had run it from the start),
counted among the stalls; events published meanwhile queue behind it (the hub drops the
subscriber if they fill its queue). Frames larger than a piece are always sent by the stream's
task, in pieces.

Why the fast path is kept: ``python -m bench.fanout --ablation`` (BENCHMARKS.md, "Fan-out
ablation: delivery from the publish call") measured it against the stream's own task sending
every event (``bench/delivery_variants.py``). Without it the server's CPU per delivery was 1.5
to 1.6 times as much at 1,000 subscribers and 2.5 to 2.8 times at 10,000 (1.9, and 3.2 to 3.5
times, with plainly awaited sends as well), and an event took 1.2 to 2.3 times as long to reach
the last of 10,000 subscribers (medians of 3 runs, twice).

Bounds: each piece must be taken within ``timeout`` seconds, and all the streams waiting for
their clients at once hold at most :class:`Stalls`' budget; past either, :class:`Stalled`.
Event ids are consecutive revisions: an id that skips one means an event was never published
(it could not be built), so the stream ends, and the client's reconnect with the last id it saw
gets a snapshot instead of silently missing a change.
"""

from __future__ import annotations

import asyncio
import contextvars
import types
from collections.abc import Generator
from typing import Any

from starlette.types import Message, Send

from issuebridge.live.hub import Event, Subscription

PIECE_BYTES = 64 * 1024  # the most one send hands to the connection
# What a stream whose client stopped reading can leave in its connection: a piece past uvicorn's
# high-water mark (64 KiB, where it stops taking more until the buffer drains).
STALL_BYTES = PIECE_BYTES + 64 * 1024
MAX_STALLED_BYTES = 64 << 20  # about 500 streams waiting for their clients at once

# A send stepped as far as it goes without waiting: the coroutine, and what it waits for next.
_Started = tuple[Generator[Any, None, None], Any]


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


class Delivery:
    """Writes ``subscription``'s events in ``wire_format`` with ``send``, until it ends.

    :meth:`message` and :meth:`frame` write what the stream sends first (its headers, a
    catch-up); :meth:`run` then follows the subscription from ``revision``. It exists once per
    open stream, and :meth:`deliver` runs once per stream per event: both are kept lean.
    """

    __slots__ = (
        "_context",
        "_failed",
        "_revision",
        "_send",
        "_stalls",
        "_subscription",
        "_timeout",
        "_waiting",
        "_wire_format",
    )

    def __init__(
        self, subscription: Subscription, send: Send, wire_format: str, *, timeout: float, stalls: Stalls
    ) -> None:
        self._subscription = subscription
        self._send = send
        self._wire_format = wire_format
        self._timeout = timeout
        self._stalls = stalls
        self._context = contextvars.copy_context()  # sends run in the stream's context, not the publisher's
        self._revision = 0
        self._waiting: _Started | None = None  # a send started by deliver() that has to wait
        self._failed: Exception | None = None  # what a send started by deliver() raised

    async def message(self, message: Message) -> None:
        """Send one ASGI message, within the deadline if it has to wait."""
        started = self._start(message)
        if started is not None:
            await self._finish(started)

    async def frame(self, frame: bytes) -> None:
        """Send ``frame`` in pieces; stop early once the subscription ends (the client is gone, or shutdown)."""
        if len(frame) <= PIECE_BYTES:
            await self.message(_chunk(frame))
            return
        for start in range(0, len(frame), PIECE_BYTES):
            if self._subscription.ended:
                return  # an event cut short is never dispatched: EventSource waits for its blank line
            await self.message(_chunk(frame[start : start + PIECE_BYTES]))

    async def run(self, revision: int) -> None:
        """Follow the subscription from ``revision`` (what the catch-up brought the client to)."""
        self._revision = revision
        subscription = self._subscription
        while True:
            if self._waiting is not None:
                started, self._waiting = self._waiting, None
                await self._finish(started)
            while (event := subscription.pop()) is not None:
                if self._take(event):
                    await self.frame(event.frames[self._wire_format])
            subscription.finished()
            if self._failed is not None:
                raise self._failed
            if subscription.ended:
                return
            subscription.deliver = self.deliver
            await subscription.wait()
            subscription.deliver = None

    def deliver(self, event: Event) -> bool:
        """Write ``event`` within the publisher's call; False to have it queued instead (a frame
        larger than a piece, which the stream's task sends)."""
        frame = event.frames[self._wire_format]
        if len(frame) > PIECE_BYTES:
            return False
        event_id = event.id
        if event_id is not None:  # _take, inlined
            if event_id <= self._revision:
                return True
            if event_id != self._revision + 1:
                self._subscription.end()
                return True
            self._revision = event_id
        try:
            sending = self._send({"type": "http.response.body", "body": frame, "more_body": True}).__await__()
            awaited = self._context.run(sending.send, None)
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

    def _start(self, message: Message) -> _Started | None:
        """Run ``message``'s send as far as it goes now: None if it is done."""
        sending = self._send(message).__await__()
        try:
            awaited = self._context.run(sending.send, None)
        except StopIteration:
            return None
        return sending, awaited

    async def _finish(self, started: _Started) -> None:
        """Finish a send that has to wait, within the deadline and the stalls' budget."""
        sending, awaited = started
        if not self._stalls.begin():
            sending.close()
            raise Stalled("too many streams are waiting for their clients")
        try:
            async with asyncio.timeout(self._timeout):
                await _resumed(self._context, sending, awaited)
        except TimeoutError:
            raise Stalled(f"the client took nothing for {self._timeout:g} s") from None
        finally:
            self._stalls.end()


@types.coroutine
def _resumed(
    context: contextvars.Context, sending: Generator[Any, None, None], awaited: Any
) -> Generator[Any, Any, None]:
    """The rest of a started send, for the stream's task to await: ``yield from`` (PEP 380) by hand,
    taking over where :meth:`Delivery._start` left the send.

    What the send waits for goes up to the task as if the task had run the send from the start:
    the task waits for it, and cancelling the task (the deadline, shutdown) cancels it and throws
    the cancellation into the send. Each step runs in the stream's context.
    """
    while True:
        try:
            value = yield awaited
        except GeneratorExit:
            sending.close()
            raise
        except BaseException as exc:
            try:
                awaited = context.run(sending.throw, exc)
            except StopIteration:
                return
        else:
            try:
                awaited = context.run(sending.send, value)
            except StopIteration:
                return


def _chunk(frame: bytes) -> Message:
    return {"type": "http.response.body", "body": frame, "more_body": True}
