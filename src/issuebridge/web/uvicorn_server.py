"""The one place that reaches into uvicorn: the address it listens on, when it begins shutting
down, and cutting connections whose client stopped reading.

ASGI tells an app none of these. :func:`running_server` finds the running uvicorn ``Server``
through the SIGTERM handler uvicorn installed (its bound ``handle_exit``, as sse-starlette finds
it too); outside uvicorn it finds nothing, and nothing here acts.

- :func:`listening_on`: the host uvicorn was told to listen on (``--host``), which the app checks
  before serving a network address without a token (``web/exposure.py``).
- :func:`shutdown_begun`: once uvicorn has been told to exit, so that event streams end cleanly
  before it waits for them (``live/stream.py``).

Cutting connections: why it is needed. A client that stops reading leaves bytes in its connection's write buffer
that never drain, and uvicorn ends a connection with ``transport.close()``, which waits for
that buffer to drain first. So ending the response does not release such a connection: it
keeps its buffer until the client reads or goes away, and uvicorn's shutdown, which waits for
every connection to be lost (for ever, without ``--timeout-graceful-shutdown``), waits for it
too. ASGI has no way to abort a connection, so this module finds the running uvicorn
``Server`` (as sse-starlette does: through the SIGTERM handler uvicorn installed) and calls
``transport.abort()``:

- :func:`cut`: the connection serving one request (a stream whose client stopped reading);
- :func:`release_at_shutdown`: once uvicorn is shutting down, every connection that still holds
  unsent bytes after ``grace`` seconds, and every response still streaming (an MCP stream, say,
  whose end never comes) or request body still arriving after ``streaming_grace``. Requests
  being answered are left to uvicorn's graceful shutdown.

What this relies on, in the uvicorn versions ``pyproject.toml`` allows (pinned; the behaviour is
tested in ``tests/test_connections.py`` and ``tests/e2e/test_lifecycle.py``, which starts
uvicorn on 0.0.0.0 and sees it refuse): the SIGTERM handler is the running ``Server``'s bound
``handle_exit``; ``Server.config`` (``host``, ``uds``, ``fd``); ``Server.should_exit``;
``Server.server_state.connections``, one protocol object per open connection, each with its
``transport`` and its current request's ``cycle`` (``scope``, ``response_started``,
``response_complete``, ``more_body``). Under another server, or when none is found, nothing is
cut: streams still end at shutdown, and a connection whose client stopped reading is released
when its client goes away.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Iterable
from typing import Any, Protocol

from starlette.types import Scope

logger = logging.getLogger(__name__)

SHUTDOWN_POLL_SECONDS = 0.1  # as often as uvicorn's own main loop looks at its exit flag


class UvicornServer(Protocol):
    """The parts of ``uvicorn.Server`` this module uses."""

    should_exit: bool
    config: Any  # .host, .uds, .fd
    server_state: Any  # .connections: set of protocols


def running_server() -> UvicornServer | None:
    """The uvicorn ``Server`` running this process, found through its SIGTERM handler, if any."""
    handler = signal.getsignal(signal.SIGTERM)
    server = getattr(handler, "__self__", None)
    if hasattr(server, "should_exit") and hasattr(getattr(server, "server_state", None), "connections"):
        return server
    return None


def listening_on(server: UvicornServer | None = None) -> str | None:
    """The host uvicorn listens on; None outside uvicorn, or on a Unix socket or an inherited
    descriptor (not a network address that can be judged)."""
    server = server or running_server()
    config = getattr(server, "config", None)
    if config is None or getattr(config, "uds", None) or getattr(config, "fd", None) is not None:
        return None
    return str(getattr(config, "host", "127.0.0.1"))


def _connections(server: UvicornServer) -> Iterable[Any]:
    return list(server.server_state.connections)


def cut(scope: Scope, server: UvicornServer | None = None) -> bool:
    """Abort the connection serving ``scope`` (what it still holds is dropped); False if not found.

    The request is known by its scope: uvicorn hands the same dict down to the endpoint.
    """
    server = server or running_server()
    if server is None:
        return False
    for connection in _connections(server):
        cycle = getattr(connection, "cycle", None)
        if cycle is not None and getattr(cycle, "scope", None) is scope:
            connection.transport.abort()
            return True
    return False


async def shutdown_begun(server: UvicornServer) -> None:
    """Return once uvicorn has been told to exit (SIGTERM, Ctrl+C, ``should_exit``)."""
    # uvicorn sets a plain attribute from its signal handler; there is no event to wait on.
    while not server.should_exit:  # noqa: ASYNC110
        await asyncio.sleep(SHUTDOWN_POLL_SECONDS)


async def release_at_shutdown(server: UvicornServer, grace: float = 1.0, streaming_grace: float = 3.0) -> None:
    """Cut what would keep uvicorn's shutdown waiting, until every connection is gone.

    Called once shutdown has begun and the app's own streams were told to end. A connection
    still holding unsent bytes after ``grace`` seconds has a client that is not reading; a
    response still streaming after ``streaming_grace`` is one that did not end when asked, and
    a request body still arriving then will not be complete in time.
    """
    loop = asyncio.get_running_loop()
    started = loop.time()
    cut_off: set[int] = set()
    while connections := _connections(server):
        elapsed = loop.time() - started
        for connection in connections:
            transport = getattr(connection, "transport", None)
            if transport is None or id(connection) in cut_off:
                continue
            cycle = getattr(connection, "cycle", None)
            streaming = cycle is not None and cycle.response_started and not cycle.response_complete
            # A request whose body is still arriving (slowly) cannot be answered before the end either.
            receiving = cycle is not None and not cycle.response_started and getattr(cycle, "more_body", False)
            stuck = transport.get_write_buffer_size() > 0
            if (stuck and elapsed >= grace) or ((streaming or receiving) and elapsed >= streaming_grace):
                transport.abort()
                cut_off.add(id(connection))
        await asyncio.sleep(SHUTDOWN_POLL_SECONDS)
    if cut_off:
        logger.info("issuebridge: cut %d connection(s) that would have kept the shutdown waiting", len(cut_off))
