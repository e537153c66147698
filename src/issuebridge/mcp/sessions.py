"""Caps on MCP sessions, per client address and in total, on both transports.

An open session costs the server about 38 KB (its streams, dispatcher and state) until it ends,
and a client that opens sessions and abandons them piled them up: 10,000 took RSS from 96 to
470 MB. So sessions are counted, per client address and together, and refused past the caps:

- ``/sse``: a session lives as long as its ``GET /sse`` stream, and is counted while it is open.
- ``/mcp`` (Streamable HTTP, handshake era): a session begins with the answer to a request
  without ``Mcp-Session-Id`` that hands out a new one, and ends when the client deletes it, when
  a request for it answers 404, or after ``idle_seconds`` with no request in flight: the SDK
  closes it then (``session_idle_timeout``, given the same value by ``mcp/transports.py``), and this
  forgets it the moment a count is needed. 2026-era requests open no session and are not counted.

A client at its cap gets 429, a full server 503, both with ``Retry-After`` and a JSON-RPC error
body saying what to do (the SDK answers its own refusals on these routes the same way). Whoever
needs to know that a session ended (the resource notifier, which keeps its subscriptions) is
told through ``on_end``, under the session's key: ``sse:<id>`` or ``http:<Mcp-Session-Id>``.
"""

from __future__ import annotations

import itertools
import math
import re
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS
from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from issuebridge.settings import Settings

# The SSE transport's first event names the session: "data: /messages/?session_id=<32 hex>".
_SSE_SESSION_ID = re.compile(rb"session_id=([0-9a-f]{32})")


@dataclass
class _Session:
    client: str
    in_flight: int = 0
    idle_since: float = 0.0
    expires: bool = False  # Streamable HTTP sessions expire when idle; an SSE one lives with its stream


class McpSessions:
    """Open MCP sessions by client address: admission, and forgetting them when they end."""

    def __init__(
        self, total: int, per_client: int, idle_seconds: float, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.total = total
        self.per_client = per_client
        self.idle_seconds = idle_seconds
        self.on_end: list[Callable[[str], None]] = []
        self._clock = clock
        self._sessions: dict[str, _Session] = {}
        self._by_client: Counter[str] = Counter()
        self._reservations = itertools.count()

    @classmethod
    def from_settings(cls, settings: Settings) -> McpSessions:
        return cls(settings.mcp_max_sessions, settings.mcp_sessions_per_client, settings.mcp_session_idle_seconds)

    def __len__(self) -> int:
        self._expire()
        return len(self._sessions)

    def open_for(self, client: str) -> int:
        self._expire()
        return self._by_client[client]

    def refusal(self, client: str) -> JSONResponse | None:
        """The answer to a request that would open one more session for ``client``, or None to let it."""
        self._expire()
        if self._by_client[client] >= self.per_client:
            return _refused(
                429,
                f"this client already has {self.per_client} MCP sessions open, the most one client may "
                "(ISSUEBRIDGE_MCP_SESSIONS_PER_CLIENT): close the ones it no longer uses (DELETE /mcp "
                f"with their Mcp-Session-Id, or close their /sse stream); idle ones close after "
                f"{self.idle_seconds:g} s",
                self._retry_after(client),
            )
        if len(self._sessions) >= self.total:
            return _refused(
                503,
                f"the server has {self.total} MCP sessions open, its limit (ISSUEBRIDGE_MCP_MAX_SESSIONS); "
                f"try again later: idle sessions close after {self.idle_seconds:g} s",
                self._retry_after(None),
            )
        return None

    def reserve(self, client: str) -> str:
        """Count a session being opened for ``client``, under a key of its own until it has an id."""
        key = f"opening:{next(self._reservations)}"
        self._sessions[key] = _Session(client, in_flight=1)
        self._by_client[client] += 1
        return key

    def rename(self, key: str, new_key: str, *, expires: bool) -> None:
        """The session reserved as ``key`` got its transport's id."""
        session = self._sessions.pop(key, None)
        if session is not None:
            session.expires = expires
            self._sessions[new_key] = session

    def request_began(self, key: str) -> bool:
        """A request for session ``key`` is in flight: it is not idle. False if the session is not known."""
        session = self._sessions.get(key)
        if session is None:
            return False
        session.in_flight += 1
        return True

    def request_ended(self, key: str) -> None:
        session = self._sessions.get(key)
        if session is not None:
            session.in_flight -= 1
            session.idle_since = self._clock()

    def end(self, key: str) -> None:
        session = self._sessions.pop(key, None)
        if session is None:
            return
        self._by_client[session.client] -= 1
        if not self._by_client[session.client]:
            del self._by_client[session.client]
        for listener in self.on_end:
            listener(key)

    def _expire(self) -> None:
        """Forget the Streamable HTTP sessions the SDK has closed for idleness by now."""
        at = self._clock()
        idle = [
            key
            for key, session in self._sessions.items()
            if session.expires and not session.in_flight and at - session.idle_since >= self.idle_seconds
        ]
        for key in idle:
            self.end(key)

    def _retry_after(self, client: str | None) -> int:
        """Seconds until the soonest idle session (of ``client``, or of anyone) closes; else the idle time."""
        at = self._clock()
        waits = [
            session.idle_since + self.idle_seconds - at
            for session in self._sessions.values()
            if session.expires and not session.in_flight and (client is None or session.client == client)
        ]
        return max(1, math.ceil(min(waits, default=self.idle_seconds)))


def _refused(status: int, message: str, retry_after: int) -> JSONResponse:
    body = {"jsonrpc": "2.0", "id": None, "error": {"code": -32000, "message": message}}
    return JSONResponse(body, status_code=status, headers={"Retry-After": str(retry_after)})


def _client(scope: Scope) -> str:
    client = scope.get("client")
    return client[0] if client else "unknown"


class CappedSse:
    """``GET /sse`` under the caps: the session is counted for as long as its stream is open."""

    def __init__(self, app: ASGIApp, sessions: McpSessions) -> None:
        self.app = app
        self._sessions = sessions

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        client = _client(scope)
        refused = self._sessions.refusal(client)
        if refused is not None:
            await refused(scope, receive, send)
            return
        key = self._sessions.reserve(client)
        named = False

        async def noting_the_id(message: Message) -> None:
            nonlocal key, named
            if not named and message["type"] == "http.response.body":
                found = _SSE_SESSION_ID.search(message.get("body", b""))
                if found is not None:
                    named = True
                    new_key = f"sse:{found[1].decode()}"
                    self._sessions.rename(key, new_key, expires=False)
                    key = new_key
            await send(message)

        try:
            await self.app(scope, receive, noting_the_id)
        finally:
            self._sessions.end(key)


class CappedStreamableHttp:
    """``/mcp`` under the caps: counts the sessions it hands out and the requests in flight for each."""

    def __init__(self, app: ASGIApp, sessions: McpSessions) -> None:
        self.app = app
        self._sessions = sessions

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        session_id = headers.get("mcp-session-id")
        if session_id is not None:
            await self._existing(f"http:{session_id}", scope, receive, send)
            return
        version = headers.get("mcp-protocol-version")
        if scope["method"] != "POST" or (version is not None and version not in HANDSHAKE_PROTOCOL_VERSIONS):
            await self.app(scope, receive, send)  # opens no session
            return
        client = _client(scope)
        refused = self._sessions.refusal(client)
        if refused is not None:
            await refused(scope, receive, send)
            return
        key = self._sessions.reserve(client)
        opened = False

        async def noting_the_id(message: Message) -> None:
            nonlocal key, opened
            if message["type"] == "http.response.start":
                new_id = Headers(raw=message.get("headers", [])).get("mcp-session-id")
                if message["status"] < 400 and new_id is not None:
                    opened = True
                    new_key = f"http:{new_id}"
                    self._sessions.rename(key, new_key, expires=True)
                    key = new_key
            await send(message)

        try:
            await self.app(scope, receive, noting_the_id)
        finally:
            if opened:
                self._sessions.request_ended(key)
            else:
                self._sessions.end(key)

    async def _existing(self, key: str, scope: Scope, receive: Receive, send: Send) -> None:
        if not self._sessions.request_began(key):
            await self.app(scope, receive, send)  # not one of ours (ended, or from before a restart)
            return
        status = 0

        async def noting_the_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, noting_the_status)
        finally:
            self._sessions.request_ended(key)
            if status == 404 or (scope["method"] == "DELETE" and 200 <= status < 300):
                self._sessions.end(key)
