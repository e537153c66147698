"""The dashboard as MCP resources, and notifications to clients subscribed to them.

``dashboard://boards`` (everything, compactly), ``dashboard://boards/{owner}/{repo}`` (one
repository's boards and panels, whole) and ``dashboard://panels/{panel_id}``. When a write
touches one, subscribed clients are told, in both protocol eras: 2026-07-28 clients through the
server's subscription bus (``subscriptions/listen``), handshake-era clients through
``resources/subscribe`` and ``notifications/resources/updated``.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import anyio
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ResourceError, ResourceNotFoundError
from mcp.server.subscriptions import ResourceUpdated, SubscriptionBus
from mcp.shared.exceptions import MCPError
from mcp_types import (
    INVALID_PARAMS,
    CompleteRequestParams,
    CompleteResult,
    Completion,
    EmptyResult,
    ResourceTemplateReference,
    SubscribeRequestParams,
    UnsubscribeRequestParams,
)
from starlette.requests import Request

from issuebridge.dashboard.entries import Dashboard
from issuebridge.dashboard.readback import read_back
from issuebridge.live.changes import Touched
from issuebridge.live.json_format import entry_payload
from issuebridge.records.base import InvalidRepository, repository_name
from issuebridge.records.panels import Panel, panel_key

logger = logging.getLogger(__name__)

BOARDS = "dashboard://boards"
REPOSITORY_TEMPLATE = f"{BOARDS}/{{owner}}/{{repo}}"
PANEL_TEMPLATE = "dashboard://panels/{panel_id}"
MAX_COMPLETIONS = 100  # the spec's limit per answer
NOTIFY_TIMEOUT_SECONDS = 2.0  # for one notification to one session, in that session's own task
MAX_SUBSCRIPTIONS = 100  # per session; there are three kinds of resource


def uris_for(touched: Touched) -> list[str]:
    """The resources whose content a change to ``touched`` changed."""
    uris = [BOARDS]
    if touched.repository:
        uris.append(f"{BOARDS}/{touched.repository.lower()}")
    if touched.key.startswith("panel:"):
        uris.append(f"dashboard://panels/{touched.key.removeprefix('panel:')}")
    return uris


def register_resources(mcp: MCPServer, dashboard: Dashboard) -> None:
    @mcp.resource(BOARDS, name="boards", title="Everything on the dashboard", mime_type="application/json")
    async def boards() -> str:
        """Every board and panel, newest activity first, with rows in the page's order (compact)."""
        return (await read_back(dashboard)).model_dump_json()

    @mcp.resource(REPOSITORY_TEMPLATE, name="repository", title="One repository's boards", mime_type="application/json")
    async def repository_boards(owner: str, repo: str) -> str:
        """A repository's issues, pull-request and commit boards and the panels about it, whole."""
        try:
            wanted = repository_name(owner, repo).lower()
        except InvalidRepository as exc:
            raise ResourceError(str(exc)) from None
        return _json([entry_payload(entry) for entry in await dashboard.entries(wanted)])

    @mcp.resource(PANEL_TEMPLATE, name="panel", title="One panel", mime_type="application/json")
    async def panel(panel_id: str) -> str:
        """A panel the assistant published: markdown, metrics and items."""
        entry = await dashboard.get(panel_key(panel_id))
        if not isinstance(entry, Panel):
            raise ResourceNotFoundError(f"no panel {panel_id!r} is on the dashboard")
        return _json(entry_payload(entry))

    async def complete(ctx: Any, params: CompleteRequestParams) -> CompleteResult:
        """The templates' arguments from what is on the dashboard: owners, their repositories, panel ids.

        Matching is by case-insensitive prefix; anything else (there are no prompts) completes to nothing.
        """
        ref, argument = params.ref, params.argument
        if not isinstance(ref, ResourceTemplateReference):
            return CompleteResult(completion=Completion(values=[]))
        entries = await dashboard.entries()
        repositories = sorted({e.related_repository.lower() for e in entries if e.related_repository})
        if ref.uri == REPOSITORY_TEMPLATE and argument.name == "owner":
            candidates = sorted({name.partition("/")[0] for name in repositories})
        elif ref.uri == REPOSITORY_TEMPLATE and argument.name == "repo":
            owner = ((params.context.arguments if params.context else None) or {}).get("owner", "").strip().lower()
            candidates = sorted({r for o, _, r in (n.partition("/") for n in repositories) if not owner or o == owner})
        elif ref.uri == PANEL_TEMPLATE and argument.name == "panel_id":
            candidates = sorted(e.panel_id for e in entries if isinstance(e, Panel))
        else:
            candidates = []
        prefix = argument.value.strip().lower()
        matches = [c for c in candidates if c.lower().startswith(prefix)]
        completion = Completion(
            values=matches[:MAX_COMPLETIONS], total=len(matches), has_more=len(matches) > MAX_COMPLETIONS
        )
        return CompleteResult(completion=completion)

    # MCPServer's own completion() decorator is untyped; the low-level server's registration is not.
    mcp._lowlevel_server.add_request_handler("completion/complete", CompleteRequestParams, complete)


def _json(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False)


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
    queue, and :meth:`forget` drops them when the session ends (``web/mcp_sessions.py`` says so).
    """

    def __init__(self, mcp: MCPServer, bus: SubscriptionBus) -> None:
        self._bus = bus
        self._bus_pending: dict[str, None] = {}
        self._bus_task: asyncio.Task[None] | None = None
        self._outboxes: dict[str, _Outbox] = {}  # session key -> its subscriptions and queue
        # MCPServer serves no resources/subscribe of its own; the SDK points to the low-level
        # server's add_request_handler for spec methods like this one.
        server = mcp._lowlevel_server
        server.add_request_handler("resources/subscribe", SubscribeRequestParams, self._subscribe)
        server.add_request_handler("resources/unsubscribe", UnsubscribeRequestParams, self._unsubscribe)

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
    """The transport's id for the session a request belongs to, as ``web/mcp_sessions.py`` names it.

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
