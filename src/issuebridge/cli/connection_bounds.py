"""Bounds on connections that only the server can set: how long headers may take, and how many.

uvicorn has a keep-alive timeout, but it runs only between requests and is cancelled by the
first byte of the next one; nothing times a connection that is opened and never sends, or sends
its headers a byte at a time. So ``issuebridge serve`` runs uvicorn's own HTTP protocols with
one addition, a deadline for each request's headers (``ISSUEBRIDGE_HEADER_TIMEOUT``): armed
when the connection opens and again after each response, disarmed once a request's headers are
complete, never pushed back by data arriving. When it passes, the connection is closed.

This subclasses uvicorn's protocol classes, which uvicorn accepts through its public ``http``
option but does not document as an extension point: the methods used (``connection_made``,
``data_received``, ``on_response_complete``, ``connection_lost``, and the ``cycle``,
``transport`` and ``loop`` attributes) are pinned by the uvicorn range in ``pyproject.toml``
and by ``tests/test_slow_clients.py``, which runs both protocols.

The number of connections is bounded by uvicorn's ``limit_concurrency`` (past it, a request
gets 503 rather than the server running out of file descriptors and resetting connections,
``/healthz`` included): ``ISSUEBRIDGE_MAX_CONNECTIONS``, or what the file-descriptor limit
allows once its soft value is raised to the hard one, less a reserve for everything else the
process opens.
"""

from __future__ import annotations

import asyncio
import resource
from functools import partial
from typing import Any, cast

from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

# File descriptors kept for what is not a client connection: the database and its WAL, Redis,
# the GitHub connection pool, logs, the event loop's own, a reloader's pipes.
RESERVED_DESCRIPTORS = 128
# More than one dashboard process needs, and a soft limit every system accepts (macOS refuses
# "unlimited"); also keeps one process's connections within what its memory can hold.
MOST_DESCRIPTORS = 65_536


class HeaderTimer:
    """The deadline for one connection's next request headers."""

    def __init__(self, loop: asyncio.AbstractEventLoop, timeout: float) -> None:
        self._loop = loop
        self._timeout = timeout
        self._handle: asyncio.TimerHandle | None = None
        self._cycle_before: object = None

    def arm(self, transport: asyncio.BaseTransport, protocol: asyncio.BaseProtocol, cycle: object) -> None:
        """Start waiting for headers; ``cycle`` is the protocol's current request, which a new one replaces."""
        self.disarm()
        self._cycle_before = cycle
        self._handle = self._loop.call_later(self._timeout, self._expire, transport, protocol)

    def headers_seen(self, cycle: object) -> None:
        """Called after data arrived: a new request cycle means its headers are complete."""
        if self._handle is not None and cycle is not self._cycle_before:
            self.disarm()

    def disarm(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None

    def _expire(self, transport: asyncio.BaseTransport, protocol: asyncio.BaseProtocol) -> None:
        self._handle = None
        # Not a connection that was handed on to another protocol (a WebSocket upgrade).
        if not transport.is_closing() and transport.get_protocol() is protocol:
            transport.close()


def _idle(cycle: Any) -> bool:
    return cycle is None or bool(cycle.response_complete)


class _HeaderDeadline(asyncio.Protocol):
    """The header deadline on top of one of uvicorn's HTTP protocols (listed first among the bases)."""

    # What uvicorn's protocols have (see the module docstring).
    loop: asyncio.AbstractEventLoop
    transport: asyncio.Transport
    cycle: Any

    def __init__(self, *args: Any, header_timeout: float, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._headers = HeaderTimer(self.loop, header_timeout)

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._headers.arm(transport, self, self.cycle)

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        self._headers.headers_seen(self.cycle)

    def on_response_complete(self) -> None:
        super().on_response_complete()  # type: ignore[misc]
        if _idle(self.cycle) and not self.transport.is_closing():
            self._headers.arm(self.transport, self, self.cycle)

    def connection_lost(self, exc: Exception | None) -> None:
        self._headers.disarm()
        super().connection_lost(exc)


class HttpToolsWithHeaderDeadline(_HeaderDeadline, HttpToolsProtocol):
    pass


class H11WithHeaderDeadline(_HeaderDeadline, H11Protocol):
    pass


def http_protocol(header_timeout: float, *, httptools: bool) -> type[asyncio.Protocol]:
    """The protocol for uvicorn's ``http`` option. uvicorn calls it like a class, with its own
    arguments; a partial keeps it picklable for ``--workers``, which start fresh processes."""
    protocol = HttpToolsWithHeaderDeadline if httptools else H11WithHeaderDeadline
    return cast("type[asyncio.Protocol]", partial(protocol, header_timeout=header_timeout))


def connection_limit() -> int:
    """How many connections this process can hold: raise the soft file-descriptor limit as far as
    allowed (up to :data:`MOST_DESCRIPTORS`), and keep :data:`RESERVED_DESCRIPTORS` for the rest."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = MOST_DESCRIPTORS if hard == resource.RLIM_INFINITY else min(hard, MOST_DESCRIPTORS)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
            soft = wanted
        except (ValueError, OSError):
            pass  # keep the soft limit there is
    usable = wanted if soft == resource.RLIM_INFINITY else min(soft, MOST_DESCRIPTORS)
    return max(usable - RESERVED_DESCRIPTORS, usable // 2)
