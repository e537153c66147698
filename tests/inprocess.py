"""The app on a real socket in the test's own process, for tests where a socket is the point.

:class:`AppServer` is what ``uvicorn issuebridge.app:app`` runs for the same environment
(``create_app(Settings.from_env(env))``), served by uvicorn's ``Server`` with the same routes,
middleware, lifespan and HTTP protocol, without an interpreter start and an import per test:
on a thread of its own (:meth:`AppServer.start`, for any test, sync or async, and for tests that
block on a command-line client) or in the test's own loop (``async with``, where the test
reaches into the running uvicorn). The process itself (SIGTERM, kill -9, several workers, the
installed package and command) is tested with subprocesses (``testkit/servers.py``).

Every server listens on a socket bound once and handed over (a ``Listener``): no port is picked
by binding and closing a socket, which another process could take in between.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
import socket
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.types import ASGIApp

from issuebridge.app import create_app
from issuebridge.settings import Settings
from testkit.servers import START_SECONDS, Listener


@dataclass
class Served:
    server: uvicorn.Server
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def uvicorn_server(app: ASGIApp, **config: Any) -> uvicorn.Server:
    """uvicorn's ``Server`` for ``app``: the lifespan on, logging left to the test's own set-up."""
    return uvicorn.Server(uvicorn.Config(app, **{"log_config": None, "lifespan": "on", **config}))


@asynccontextmanager
async def serving(
    app: ASGIApp, *, listener: Listener | None = None, send_buffer: int | None = None, **config: Any
) -> AsyncIterator[Served]:
    """Serve ``app`` in this loop until the block ends (then shut down as on SIGTERM), on
    ``listener`` or a listener of its own (with ``send_buffer``, see ``Listener``)."""
    with contextlib.ExitStack() as owned:
        listening = listener or owned.enter_context(Listener(send_buffer=send_buffer))
        sock = owned.enter_context(listening.handoff())
        server = uvicorn_server(app, **config)
        task = asyncio.create_task(server.serve(sockets=[sock]))
        try:
            while not server.started:  # uvicorn has no event for this
                if task.done():
                    task.result()  # start-up failed: raise what it raised
                    raise AssertionError("the server stopped during start-up")
                await asyncio.sleep(0.01)
            yield Served(server, listening.port)
        finally:
            server.should_exit = True
            await task


# Which server the running code belongs to: set in the context the server's task starts from,
# so everything the server does (connections, lifespan, background tasks, threads it hands work
# to) carries it, and the test's own code (its HTTP clients log too) does not.
_serving: ContextVar[object | None] = ContextVar("serving", default=None)
_root_level_lock = threading.Lock()
_capturing = 0  # servers whose log is being captured; the root logger is at INFO while any is
_level_before = logging.WARNING


class LogCapture(logging.Handler):
    """What one server logs (uvicorn's access and error logs, the app's), as its process prints it."""

    def __init__(self, server: object) -> None:
        super().__init__(logging.INFO)
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        self.lines: list[str] = []
        self._server = server

    def emit(self, record: logging.LogRecord) -> None:
        if _serving.get() is self._server:
            self.lines.append(self.format(record))

    @contextlib.contextmanager
    def attached(self) -> Iterator[None]:
        """Capture until the block ends. The root logger is at INFO meanwhile (as a server
        process has it, ``services.plain_log_lines``), since pytest leaves it at WARNING."""
        global _capturing, _level_before
        root = logging.getLogger()
        with _root_level_lock:
            if _capturing == 0:
                _level_before = root.level
                root.setLevel(min(root.level, logging.INFO))
            _capturing += 1
        root.addHandler(self)
        try:
            yield
        finally:
            root.removeHandler(self)
            with _root_level_lock:
                _capturing -= 1
                if _capturing == 0:
                    root.setLevel(_level_before)


def build_app(env: Mapping[str, str]) -> Starlette:
    """The app ``uvicorn issuebridge.app:app`` builds from an environment holding ``env``."""
    return create_app(Settings.from_env(env))


class AppServer:
    """``create_app`` for ``env`` on a real socket in this process.

    :meth:`start` runs it on a thread with its own event loop, :meth:`stop` shuts it down as
    SIGTERM would; ``async with`` runs it in the test's loop instead. ``listener`` keeps the
    address across a restart: start the next server on the previous one's; otherwise the server
    has its own, closed when it stops. ``log`` is everything this server logged, access log
    included, for as long as it ran.
    """

    def __init__(self, env: Mapping[str, str], *, listener: Listener | None = None, **uvicorn_config: Any) -> None:
        self.app = build_app(env)
        self._own_listener = listener is None
        self.listener = listener or Listener(send_buffer=uvicorn_config.pop("send_buffer", None))
        self._config = uvicorn_config
        self._logs = LogCapture(self)
        self._stack = contextlib.ExitStack()
        self._async_stack = contextlib.AsyncExitStack()
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._failure: BaseException | None = None

    @property
    def port(self) -> int:
        return self.listener.port

    @property
    def url(self) -> str:
        return self.listener.url

    @property
    def server(self) -> uvicorn.Server:
        """The running uvicorn ``Server``."""
        assert self._server is not None, "the server is not running"
        return self._server

    @property
    def log(self) -> str:
        return "\n".join(self._logs.lines)

    def start(self) -> AppServer:
        """Serve on a thread of its own; returns once the app has started (raises if it failed to)."""
        self._stack.enter_context(self._logs.attached())
        sock = self._stack.enter_context(self.listener.handoff())
        server = self._server = uvicorn_server(self.app, **self._config)
        self._stack.enter_context(_found_by_the_app(server))
        self._thread = threading.Thread(target=self._run, args=(server, sock), name=f"app-{self.port}", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + START_SECONDS
        while not server.started:  # uvicorn has no event for this
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise AssertionError(f"the server did not start:\n{self.log}") from self._failure
            time.sleep(0.005)
        # The app's start-up freezes everything alive into the permanent generation (it lives as
        # long as a server process); in a test process that is every earlier test's leftovers.
        gc.unfreeze()
        return self

    def _run(self, server: uvicorn.Server, sock: socket.socket) -> None:
        _serving.set(self)  # this thread's context, which the loop's tasks copy
        try:
            asyncio.run(server.serve(sockets=[sock]))
        except BaseException as exc:  # reported by start() or stop(), in the test's thread
            self._failure = exc

    def stop(self, timeout: float = 15.0) -> float:
        """Shut down (connections closed, lifespan ended) as on SIGTERM, once; returns the seconds it took."""
        started = time.monotonic()
        try:
            if self._thread is not None:
                self.server.should_exit = True
                self._thread.join(timeout)
                if self._thread.is_alive():
                    raise AssertionError(f"the server did not stop within {timeout}s:\n{self.log}")
                self._thread = None
                if self._failure is not None and not isinstance(self._failure, SystemExit):
                    raise AssertionError(f"the server failed:\n{self.log}") from self._failure
            return time.monotonic() - started
        finally:
            self._stack.close()
            if self._own_listener:
                self.listener.close()

    async def __aenter__(self) -> AppServer:
        self._async_stack.enter_context(self._logs.attached())
        ours = _serving.set(self)  # the server's task starts from this context, and keeps it
        try:
            served = await self._async_stack.enter_async_context(
                serving(self.app, listener=self.listener, **self._config)
            )
        finally:
            _serving.reset(ours)
        self._server = served.server
        gc.unfreeze()  # as in start()
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            await self._async_stack.aclose()
        finally:
            if self._own_listener:
                self.listener.close()


_found: list[uvicorn.Server] = []  # servers on threads whose handler is installed, the latest last
_handler_before: Any = signal.SIG_DFL


@contextlib.contextmanager
def _found_by_the_app(server: uvicorn.Server) -> Iterator[None]:
    """Install ``server``'s SIGTERM handler, as uvicorn does when it runs in the main thread.

    The app finds the uvicorn ``Server`` it runs under through that handler
    (``issuebridge.web.uvicorn_server``: the exit flag it watches to end streams, the
    connections it cuts); uvicorn installs it only from the main thread, which a server on a
    thread of its own is not. When the server stops, the handler of the latest server still
    running is put back, or the one from before: never a stopped server's, whose exit flag
    would tell the next app it is shutting down.
    """
    global _handler_before
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    if not _found:
        _handler_before = signal.getsignal(signal.SIGTERM)
    _found.append(server)
    signal.signal(signal.SIGTERM, server.handle_exit)
    try:
        yield
    finally:
        _found.remove(server)
        signal.signal(signal.SIGTERM, _found[-1].handle_exit if _found else _handler_before)


def start_app(env: Mapping[str, str], *, listener: Listener | None = None, **uvicorn_config: Any) -> AppServer:
    """An :class:`AppServer` for ``env``, started on its thread; the caller stops it."""
    return AppServer(env, listener=listener, **uvicorn_config).start()


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
