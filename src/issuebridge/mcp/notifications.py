"""Notifying MCP clients subscribed to ``dashboard://`` resources when a write touches them.

Both protocol eras are served: 2026-07-28 clients through the server's subscription bus
(``subscriptions/listen``), handshake-era clients through ``resources/subscribe`` and
``notifications/resources/updated`` (which MCPServer does not serve itself: ``sdk_seam.py``).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import anyio
from mcp.server.mcpserver import MCPServer
from mcp.server.subscriptions import ResourceUpdated, SubscriptionBus
from mcp.shared.exceptions import MCPError
from mcp_types import INVALID_PARAMS, EmptyResult, SubscribeRequestParams, UnsubscribeRequestParams
from starlette.requests import Request

from issuebridge.live.changes import Touched
from issuebridge.mcp import sdk_seam
from issuebridge.mcp.resources import BOARDS, SELECTION
from issuebridge.records.selection import SELECTION_KEY

logger = logging.getLogger(__name__)

NOTIFY_TIMEOUT_SECONDS = 2.0  # for one notification to one session, in that session's own task
MAX_SUBSCRIPTIONS = 100  # per session; there are three kinds of resource


def uris_for(touched: Touched) -> list[str]:
    """The resources whose content a change to ``touched`` changed."""
    uris = [BOARDS]
    if touched.repository:
        uris.append(f"{BOARDS}/{touched.repository.lower()}")
    if touched.key.startswith("panel:"):
        uris.append(f"dashboard://panels/{touched.key.removeprefix('panel:')}")
    if touched.key == SELECTION_KEY:
        uris.append(SELECTION)
    return uris


class _Outbox:
    """One handshake-era session: what it subscribed to, and the notifications waiting for it.

    ``pending`` is the session's queue, in order, each resource at most once: a resource that
    changes again before its notification went out is notified once, which is all the
    notification says ("read it again"). So the queue never holds more than the session's
    subscriptions, ``MAX_SUBSCRIPTIONS`` at most.
    """

    __slots__ = ("pending", "sending", "session", "uris")

    def __init__(self, session: Any) -> None:
        self.session = session  # the latest request's session object: any of them reaches the client
        self.uris: set[str] = set()
        self.pending: dict[str, None] = {}
        self.sending: asyncio.Task[None] | None = None


class ResourceNotifier:
    """Tells subscribed clients which ``dashboard://`` resources changed, without a write ever waiting.

    :meth:`changed` is called within a write and only takes note: each subscribed session's
    queue gets the resources it cares about, and that session's own task sends them, each
    within ``NOTIFY_TIMEOUT_SECONDS``. A session that does not take a notification in time
    (its client stopped reading), or whose connection is gone, is dropped and no longer
    notified; nothing it does reaches the write or the other sessions. 2026-era clients are
    told through the server's subscription bus, by a task of its own.

    Sessions are known by their transport's session id, so a session's subscriptions are one
    queue, and :meth:`forget` drops them when the session ends (``mcp/sessions.py`` says so).
    """

    def __init__(self, mcp: MCPServer, bus: SubscriptionBus) -> None:
        self._bus = bus
        self._bus_pending: dict[str, None] = {}
        self._bus_task: asyncio.Task[None] | None = None
        self._outboxes: dict[str, _Outbox] = {}  # session key -> its subscriptions and queue
        sdk_seam.add_request_handler(mcp, "resources/subscribe", SubscribeRequestParams, self._subscribe)
        sdk_seam.add_request_handler(mcp, "resources/unsubscribe", UnsubscribeRequestParams, self._unsubscribe)

    @property
    def sessions(self) -> int:
        """Handshake-era sessions with at least one subscription."""
        return len(self._outboxes)

    @property
    def sending(self) -> int:
        """Sessions whose notifications are being sent now (a stalled client's stay here until dropped)."""
        return sum(1 for outbox in self._outboxes.values() if outbox.sending is not None)

    def changed(self, touched: list[Touched]) -> None:
        """Queue the notifications for a change; returns at once (a write calls this)."""
        uris = sorted({uri for entry in touched for uri in uris_for(entry)})
        self._bus_pending.update(dict.fromkeys(uris))
        if self._bus_task is None:
            self._bus_task = asyncio.get_running_loop().create_task(self._publish_to_bus())
        for key, outbox in self._outboxes.items():
            wanted = [uri for uri in uris if uri in outbox.uris]
            if wanted:
                outbox.pending.update(dict.fromkeys(wanted))
                if outbox.sending is None:
                    outbox.sending = asyncio.get_running_loop().create_task(self._send(key, outbox))

    def forget(self, key: str) -> None:
        """Drop a session's subscriptions (it ended), and stop a send to it that is under way."""
        outbox = self._outboxes.pop(key, None)
        if outbox is not None and outbox.sending is not None and outbox.sending is not asyncio.current_task():
            outbox.sending.cancel()

    async def _send(self, key: str, outbox: _Outbox) -> None:
        try:
            while outbox.pending:
                uri = next(iter(outbox.pending))
                del outbox.pending[uri]
                # A client that stopped reading must not hold up its own queue for ever either.
                with anyio.fail_after(NOTIFY_TIMEOUT_SECONDS):
                    await outbox.session.send_resource_updated(uri)
        except Exception:  # closed or stuck: forget it
            logger.debug("dropping MCP session %s: it did not take a notification", key)
            self.forget(key)
        finally:
            outbox.sending = None

    async def _publish_to_bus(self) -> None:
        try:
            while self._bus_pending:
                uri = next(iter(self._bus_pending))
                del self._bus_pending[uri]
                await self._bus.publish(ResourceUpdated(uri=uri))
        finally:
            self._bus_task = None

    async def _subscribe(self, ctx: Any, params: SubscribeRequestParams) -> EmptyResult:
        key = session_key(ctx)
        outbox = self._outboxes.get(key)
        if outbox is None:
            outbox = self._outboxes[key] = _Outbox(ctx.session)
        outbox.session = ctx.session
        uri = str(params.uri)
        if uri not in outbox.uris and len(outbox.uris) >= MAX_SUBSCRIPTIONS:
            raise MCPError(INVALID_PARAMS, f"a session may subscribe to at most {MAX_SUBSCRIPTIONS} resources")
        outbox.uris.add(uri)
        return EmptyResult()

    async def _unsubscribe(self, ctx: Any, params: UnsubscribeRequestParams) -> EmptyResult:
        outbox = self._outboxes.get(session_key(ctx))
        if outbox is not None:
            outbox.uris.discard(str(params.uri))
            outbox.pending.pop(str(params.uri), None)
        return EmptyResult()


def session_key(ctx: Any) -> str:
    """The transport's id for the session a request belongs to, as ``mcp/sessions.py`` names it.

    ``/messages/?session_id=`` on SSE, the ``Mcp-Session-Id`` header on Streamable HTTP; a
    session reached some other way is known by its session object.
    """
    request = getattr(ctx, "request", None)
    if isinstance(request, Request):
        if (header := request.headers.get("mcp-session-id")) is not None:
            return f"http:{header}"
        if (query := request.query_params.get("session_id")) is not None:
            return f"sse:{query}"
    return f"object:{id(ctx.session)}"
