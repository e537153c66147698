"""Per-address limits: on the requests that do work, and on failed attempts to authenticate.

A client is its address (``scope["client"]``; an IPv6 address by its /64, which one machine
usually holds whole). Nothing a client merely sends can give it a fresh allowance: a bearer
value is only ever the key of anything once it has been verified, and there is one token, so
verified clients would share one allowance; the address tells them apart. Behind a reverse
proxy every client has the proxy's address unless uvicorn is told to trust its
``X-Forwarded-For`` (``--proxy-headers --forwarded-allow-ips``; docs/security.md, "Behind a reverse proxy").

- :class:`RateLimit`: MCP messages, writes and webhooks (``ISSUEBRIDGE_RATE_LIMIT``). Reads,
  the page and the event stream are not limited: they cost little, and a person reloading a
  page should never see a 429.
- :class:`AuthFailures`: wrong tokens, whichever way they come (bearer, the sign-in form,
  ``/?token=``) and forged session cookies (``ISSUEBRIDGE_AUTH_FAILURE_LIMIT``). Over the
  limit, ``web/auth.py`` checks no token from that address until the window has passed. All
  addresses together may fail :data:`ALL_ADDRESSES` times as often, and no more: so that many
  addresses, or the ``X-Forwarded-For`` that uvicorn trusts from loopback by default, buy an
  attacker nothing beyond that.

Both are kept in this process's memory: with several workers each keeps its own count.
"""

from __future__ import annotations

import ipaddress
import math
import time

from limits import RateLimitItem
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from issuebridge.web.errors import error

LIMITED = ("/mcp", "/messages/", "/api/dashboard/sync-issues", "/webhooks/")
ALL_ADDRESSES = 10  # failed authentications from everywhere, as a multiple of one address's limit
_EVERYWHERE = "all addresses"


def client_key(scope: Scope) -> str:
    """The address a limit counts against: IPv4 whole, IPv6 by its /64."""
    client = scope.get("client")
    host = str(client[0]) if client else ""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return f"address:{host or 'unknown'}"  # a Unix socket, or a test client's name
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is None:
            return f"address:{ipaddress.IPv6Network((address, 64), strict=False)}"
        address = address.ipv4_mapped
    return f"address:{address}"


class _Limiter:
    def __init__(self, rate: RateLimitItem) -> None:
        self.rate = rate
        self._limiter = MovingWindowRateLimiter(MemoryStorage())

    def hit(self, key: str) -> bool:
        return self._limiter.hit(self.rate, key)

    def allows(self, key: str) -> bool:
        return self._limiter.test(self.rate, key)

    def retry_after(self, key: str) -> int:
        """Whole seconds until ``key`` may try again (at least 1)."""
        reset = self._limiter.get_window_stats(self.rate, key).reset_time
        return max(1, math.ceil(reset - time.time()))


def too_many(message: str, retry_after: int) -> JSONResponse:
    return error(429, f"{message}; try again in {retry_after} s", headers={"Retry-After": str(retry_after)})


class RateLimit:
    """ASGI middleware: at most ``rate`` limited requests per address, then 429 with ``Retry-After``."""

    def __init__(self, app: ASGIApp, rate: RateLimitItem) -> None:
        self.app = app
        self._limit = _Limiter(rate)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or not scope["path"].startswith(LIMITED):
            await self.app(scope, receive, send)
            return
        key = client_key(scope)
        if self._limit.hit(key):
            await self.app(scope, receive, send)
            return
        response = too_many(f"too many requests: the limit is {self._limit.rate}", self._limit.retry_after(key))
        await response(scope, receive, send)


class AuthFailures:
    """How many times each address, and all of them together, failed to authenticate."""

    def __init__(self, rate: RateLimitItem) -> None:
        self._limit = _Limiter(rate)
        everywhere = type(rate)(rate.amount * ALL_ADDRESSES, rate.multiples, rate.namespace)
        self._everywhere = _Limiter(everywhere)

    def refusal(self, scope: Scope) -> JSONResponse | None:
        """The 429 while this address (or everyone) has failed too often, or None if it may try."""
        key = client_key(scope)
        if not self._limit.allows(key):
            message = f"too many failed attempts to authenticate from this address (the limit is {self._limit.rate})"
            return too_many(message, self._limit.retry_after(key))
        if not self._everywhere.allows(_EVERYWHERE):
            message = f"too many failed attempts to authenticate from anywhere (the limit is {self._everywhere.rate})"
            return too_many(message, self._everywhere.retry_after(_EVERYWHERE))
        return None

    def failed(self, scope: Scope) -> None:
        self._limit.hit(client_key(scope))
        self._everywhere.hit(_EVERYWHERE)
