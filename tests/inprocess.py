"""A real uvicorn server in the test's own event loop, for tests where a socket is the point.

Cheaper than a subprocess (no interpreter start, no import of the app), and the test can reach
into the app it started (the dashboard, the notifier). The process itself (SIGTERM, packaging,
the installed command) is tested with subprocesses in ``tests/e2e/test_lifecycle.py``.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import uvicorn
from starlette.types import ASGIApp


@dataclass
class Served:
    server: uvicorn.Server
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@asynccontextmanager
async def serving(app: ASGIApp, *, send_buffer: int | None = None, **config: Any) -> AsyncIterator[Served]:
    """Serve ``app`` on a free loopback port until the block ends (then shut down as on SIGTERM).

    ``send_buffer`` sets the listening socket's ``SO_SNDBUF``, which the connections it accepts
    inherit: a client that stops reading then fills the kernel's buffers after a few KB, not 4 MB.
    """
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if send_buffer is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, send_buffer)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, **{"log_config": None, "lifespan": "on", **config}))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:  # uvicorn has no event for this
            if task.done():
                task.result()  # start-up failed: raise what it raised
                raise AssertionError("the server stopped during start-up")
            await asyncio.sleep(0.01)
        yield Served(server, port)
    finally:
        server.should_exit = True
        await task
        sock.close()


async def until(condition: Callable[[], object], within: float = 10.0) -> None:
    """Wait until ``condition()`` holds; a ``TimeoutError`` if it does not within ``within`` seconds.

    For state the server changes in its own tasks (a session dropped, a connection cut), which
    offers no event to wait on: it is looked at every 20 ms.
    """
    async with asyncio.timeout(within):
        while not condition():  # noqa: ASYNC110
            await asyncio.sleep(0.02)


async def raw_request(port: int, request: bytes, *, wait: float = 10.0) -> bytes:
    """Send ``request`` as bytes on a fresh connection and read until the server closes it."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(request)
        await writer.drain()
        return await asyncio.wait_for(reader.read(), wait)
    finally:
        writer.close()


async def never_reading_client(port: int, path: str = "/") -> socket.socket:
    """A client that sends ``GET path`` and then never reads, with a tiny receive window, so that
    what the server sends it soon stays in the server's buffers."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.setblocking(False)
    loop = asyncio.get_running_loop()
    await loop.sock_connect(sock, ("127.0.0.1", port))
    await loop.sock_sendall(sock, f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
    return sock
