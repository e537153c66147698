"""A small Server-Sent Events reader for tests: reads the stream the way a browser's EventSource does."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx


@dataclass
class SseEvent:
    event: str = "message"
    id: str | None = None
    data_lines: list[str] = field(default_factory=list)
    retry: int | None = None

    @property
    def data(self) -> str:
        return "\n".join(self.data_lines)

    def json(self) -> Any:
        return json.loads(self.data)


class EventStream:
    """Parsed events from one open response; comments (heartbeats) are counted, not returned."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self.comments = 0
        self._lines = response.aiter_lines()

    async def next(self, wait: float = 5.0) -> SseEvent:
        """The next event, failing the test if none arrives within ``wait`` seconds."""
        return await asyncio.wait_for(self._read_event(), wait)

    async def next_past_progress(self, wait: float = 5.0) -> SseEvent:
        """The next event that is not a ``sync_progress`` (a sync reports each page before its board)."""
        while (event := await self.next(wait)).event == "sync_progress":
            pass
        return event

    async def _read_event(self) -> SseEvent:
        event = SseEvent()
        async for line in self._lines:
            if line == "":
                if event.data_lines or event.id is not None:
                    return event
                continue
            if line.startswith(":"):
                self.comments += 1
                continue
            name, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if name == "data":
                event.data_lines.append(value)
            elif name == "event":
                event.event = value
            elif name == "id":
                event.id = value
            elif name == "retry":
                event.retry = int(value)
        raise EOFError("the event stream ended")


@asynccontextmanager
async def open_event_stream(url: str, headers: dict[str, str] | None = None) -> AsyncIterator[EventStream]:
    timeout = httpx.Timeout(10.0, read=None)
    async with (
        httpx.AsyncClient(timeout=timeout) as client,
        client.stream("GET", url, headers={"Accept": "text/event-stream", **(headers or {})}) as response,
    ):
        yield EventStream(response)
