"""gzip for the responses worth compressing: the page, its static files and the JSON reads.

Only those paths go through the compressor. The event stream and MCP's streams (``/sse``,
``/messages/``, ``/mcp``) never do: each event must leave as soon as it is written, and a
compressor in between may hold it back. (Starlette's GZipMiddleware already passes
``text/event-stream`` through untouched; the path list keeps every other stream out too.)

The page is about 700 bytes per issue and compresses about 25 to 1. Level 6 (zlib's default)
takes about a third of level 9's time for 10% more bytes; bodies over 128 KiB are compressed
in a worker thread, off the event loop.
"""

from __future__ import annotations

import time

from starlette.datastructures import MutableHeaders
from starlette.middleware.gzip import GZipMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

COMPRESSED_PATHS = ("/", "/api/dashboard/issues")
COMPRESSED_PREFIXES = ("/static/",)
PAGE = "/"


class Compression:
    """ASGI middleware: gzip for clients that accept it, on the paths above only.

    On the page it also adds ``Server-Timing: total``: from the request reaching it to the
    response's headers, which for a compressed page is after the whole body is compressed.
    """

    def __init__(self, app: ASGIApp, *, level: int = 6) -> None:
        self.app = app
        self._gzip = GZipMiddleware(app, minimum_size=500, compresslevel=level)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if not (path in COMPRESSED_PATHS or path.startswith(COMPRESSED_PREFIXES)):
            await self.app(scope, receive, send)
            return
        if path != PAGE:
            await self._gzip(scope, receive, send)
            return
        started = time.perf_counter()

        async def timed(message: Message) -> None:
            if message["type"] == "http.response.start":
                total = (time.perf_counter() - started) * 1000
                MutableHeaders(scope=message).append("Server-Timing", f"total;dur={total:.1f}")
            await send(message)

        await self._gzip(scope, receive, timed)
