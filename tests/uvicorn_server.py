"""A real uvicorn server in the test's own event loop (as uvicorn's own tests run theirs), for
tests where the socket or the server's own behaviour is the point but a subprocess is not."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import uvicorn


@dataclass
class RunningServer:
    server: uvicorn.Server
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@asynccontextmanager
async def serving(config: uvicorn.Config) -> AsyncIterator[RunningServer]:
    """Serve ``config`` (give it ``port=0``) until the block ends."""
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
            raise AssertionError("uvicorn stopped before it started")
        await asyncio.sleep(0.01)
    port = int(server.servers[0].sockets[0].getsockname()[1])
    try:
        yield RunningServer(server, port)
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 15)


async def raw_request(port: int, request: bytes, *, wait: float = 10.0) -> bytes:
    """Send ``request`` as bytes on a fresh connection and read until the server closes it."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(request)
        await writer.drain()
        return await asyncio.wait_for(reader.read(), wait)
    finally:
        writer.close()
