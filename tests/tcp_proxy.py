"""A TCP proxy on loopback that a test can cut and restore: Redis going away, as a worker sees it."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from collections.abc import Coroutine
from types import TracebackType
from typing import Any


class TcpProxy:
    """Forwards 127.0.0.1:``port`` to ``target_port``, on its own event loop in a thread.

    ``cut()`` drops every open connection and refuses new ones until ``restore()``. The port is
    the proxy's throughout: a socket stays bound to it while it refuses (bound, not listening),
    so no other process can take it meanwhile. ``hold()`` keeps every connection open and passes
    what clients send, but holds back what the server answers (a server that took a command and
    went silent), until ``release()``.
    """

    def __init__(self, target_port: int) -> None:
        self._bound: socket.socket | None = self._bind(0)  # while nothing listens
        self.port: int = self._bound.getsockname()[1]
        self._target_port = target_port
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._answering = asyncio.Event()
        self._answering.set()

    def __enter__(self) -> TcpProxy:
        self._thread.start()
        self.restore()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.cut()
        self._call(self._finish())
        if self._bound is not None:
            self._bound.close()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        self._loop.close()

    def cut(self) -> None:
        self._call(self._cut())

    def restore(self) -> None:
        self._call(self._listen())

    def hold(self) -> None:
        self._loop.call_soon_threadsafe(self._answering.clear)

    def release(self) -> None:
        self._loop.call_soon_threadsafe(self._answering.set)

    def _call(self, coroutine: Coroutine[Any, Any, None]) -> None:
        asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(5)

    def _bind(self, port: int) -> socket.socket:
        # SO_REUSEPORT on every socket bound to the port lets the next one be bound before the
        # last is closed; only a listening one is ever connected to.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind(("127.0.0.1", port))
        return sock

    async def _listen(self) -> None:
        if self._bound is not None:  # the socket that held the port now listens on it
            listening, self._bound = self._bound, None
            self._server = await asyncio.start_server(self._connect, sock=listening)

    async def _cut(self) -> None:
        if self._server is not None:
            self._bound = self._bind(self.port)  # the port stays held, and refuses connections
            self._server.close()
            self._server = None
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()

    async def _finish(self) -> None:
        """Let the connections' tasks end before the loop stops."""
        tasks = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _connect(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection("127.0.0.1", self._target_port)
        except OSError:
            writer.transport.abort()
            return
        self._writers |= {writer, upstream_writer}
        with contextlib.suppress(asyncio.CancelledError):  # the proxy closing: not an error to report
            await asyncio.gather(self._pipe(reader, upstream_writer), self._pipe(upstream_reader, writer, answers=True))

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *, answers: bool = False) -> None:
        with contextlib.suppress(OSError):
            while data := await reader.read(65536):
                if answers:
                    await self._answering.wait()
                writer.write(data)
                await writer.drain()
        writer.transport.abort()
        self._writers.discard(writer)
