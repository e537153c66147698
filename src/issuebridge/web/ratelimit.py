"""Per-client rate limits on the requests that do work: MCP messages, writes and webhooks.

A client is its bearer token when it sends one (hashed, never kept), else its address. Reads,
the page and the event stream are not limited: they cost little and a person reloading a page
should never see a 429.
"""

from __future__ import annotations

import hashlib
import math
import time

from limits import RateLimitItem
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

LIMITED = ("/mcp", "/messages/", "/api/dashboard/sync-issues", "/webhooks/")


class RateLimit:
    """ASGI middleware: at most ``rate`` limited requests per client, then 429 with ``Retry-After``."""

    def __init__(self, app: ASGIApp, rate: RateLimitItem) -> None:
        self.app = app
        self._rate = rate
        self._limiter = MovingWindowRateLimiter(MemoryStorage())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or not scope["path"].startswith(LIMITED):
            await self.app(scope, receive, send)
            return
        client = _client_key(Request(scope))
        if self._limiter.hit(self._rate, client):
            await self.app(scope, receive, send)
            return
        reset = self._limiter.get_window_stats(self._rate, client).reset_time
        retry_after = max(1, math.ceil(reset - time.time()))
        response = JSONResponse(
            {"error": f"too many requests: the limit is {self._rate}; try again in {retry_after} s"},
            status_code=429,
            headers={"Retry-After": str(retry_after)},
        )
        await response(scope, receive, send)


def _client_key(request: Request) -> str:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token:
        return "token:" + hashlib.sha256(token.encode()).hexdigest()
    return "address:" + (request.client.host if request.client else "unknown")
