"""Stream delivery without its fast path, for ``python -m bench.fanout --ablation``.

:class:`issuebridge.live.delivery.Delivery` writes an event from the publisher's call while its
stream waits (``Subscription.deliver``). The variants here, served by :func:`serve` in the
benchmark's own server process, take that away so that the benchmark can say what it is worth:

- *queued*: the stream never registers ``deliver``; every event is queued and the stream's own
  task wakes up and sends it. Sends are still started by hand (``Delivery.message``), so this
  isolates the delivery from the publish call.
- *plain*: as *queued*, and each send is simply awaited under its deadline: the code as it would
  be with no hand-stepped coroutine at all. (It leaves out the stalls' budget, which only
  costs when a send has to wait, as none does here.)

Nothing here is production API: the server is the shipped app with ``issuebridge.live.stream``'s
``Delivery`` replaced in this process only.
"""

from __future__ import annotations

import asyncio

from starlette.types import Message

from issuebridge.live import stream
from issuebridge.live.delivery import Delivery, Stalled


class QueuedDelivery(Delivery):
    """Every event queued and sent by the stream's own task."""

    __slots__ = ()

    async def run(self, revision: int) -> None:
        self._revision = revision
        subscription = self._subscription
        while True:
            while (event := subscription.pop()) is not None:
                if self._take(event):
                    await self.frame(event.frames[self._wire_format])
            subscription.finished()
            if subscription.ended:
                return
            await subscription.wait()


class PlainDelivery(QueuedDelivery):
    """As :class:`QueuedDelivery`, and each send awaited under its deadline (no hand-stepping)."""

    __slots__ = ()

    async def message(self, message: Message) -> None:
        try:
            async with asyncio.timeout(self._timeout):
                await self._send(message)
        except TimeoutError:
            raise Stalled(f"the client took nothing for {self._timeout:g} s") from None


VARIANTS: dict[str, type[Delivery]] = {"queued": QueuedDelivery, "plain": PlainDelivery}


def serve(variant: str, fd: int) -> None:
    """The shipped app with ``variant``'s delivery on the listening socket inherited as ``fd``,
    served as uvicorn's CLI would."""
    import uvicorn

    from issuebridge.app import create_app

    stream.Delivery = VARIANTS[variant]  # type: ignore[attr-defined]  # this process only
    uvicorn.run(create_app(), fd=fd)
