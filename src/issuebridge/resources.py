"""The dashboard as MCP resources, and notifications to clients subscribed to them.

``dashboard://boards`` (everything, compactly), ``dashboard://boards/{owner}/{repo}`` (one
repository's boards and panels, whole) and ``dashboard://panels/{panel_id}``. When a write
touches one, subscribed clients are told, in both protocol eras: 2026-07-28 clients through the
server's subscription bus (``subscriptions/listen``), handshake-era clients through
``resources/subscribe`` and ``notifications/resources/updated``.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import anyio
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ResourceError, ResourceNotFoundError
from mcp.server.subscriptions import ResourceUpdated, SubscriptionBus
from mcp_types import (
    CompleteRequestParams,
    CompleteResult,
    Completion,
    EmptyResult,
    ResourceTemplateReference,
    SubscribeRequestParams,
    UnsubscribeRequestParams,
)

from issuebridge.boards import InvalidRepository, repository_name
from issuebridge.curated import Panel, panel_key
from issuebridge.dashboard import Dashboard, Touched, entry_payload
from issuebridge.readback import view_of

logger = logging.getLogger(__name__)

BOARDS = "dashboard://boards"
REPOSITORY_TEMPLATE = f"{BOARDS}/{{owner}}/{{repo}}"
PANEL_TEMPLATE = "dashboard://panels/{panel_id}"
MAX_COMPLETIONS = 100  # the spec's limit per answer
NOTIFY_TIMEOUT_SECONDS = 2.0


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
        return view_of(await dashboard.store.entries()).model_dump_json()

    @mcp.resource(REPOSITORY_TEMPLATE, name="repository", title="One repository's boards", mime_type="application/json")
    async def repository_boards(owner: str, repo: str) -> str:
        """A repository's issues, pull-request and commit boards and the panels about it, whole."""
        try:
            wanted = repository_name(owner, repo).lower()
        except InvalidRepository as exc:
            raise ResourceError(str(exc)) from None
        entries = [e for e in await dashboard.store.entries() if (e.related_repository or "").lower() == wanted]
        return _json([entry_payload(entry) for entry in entries])

    @mcp.resource(PANEL_TEMPLATE, name="panel", title="One panel", mime_type="application/json")
    async def panel(panel_id: str) -> str:
        """A panel the assistant published: markdown, metrics and items."""
        entry = await dashboard.store.get(panel_key(panel_id))
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
        entries = await dashboard.store.entries()
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


class ResourceNotifier:
    """Tells subscribed clients which ``dashboard://`` resources changed."""

    def __init__(self, mcp: MCPServer, bus: SubscriptionBus) -> None:
        self._bus = bus
        self._sessions: dict[str, set[Any]] = {}  # uri -> handshake-era sessions subscribed to it
        # MCPServer serves no resources/subscribe of its own; the SDK points to the low-level
        # server's add_request_handler for spec methods like this one.
        server = mcp._lowlevel_server
        server.add_request_handler("resources/subscribe", SubscribeRequestParams, self._subscribe)
        server.add_request_handler("resources/unsubscribe", UnsubscribeRequestParams, self._unsubscribe)

    async def changed(self, touched: list[Touched]) -> None:
        uris = sorted({uri for entry in touched for uri in uris_for(entry)})
        for uri in uris:
            await self._bus.publish(ResourceUpdated(uri=uri))
            for session in list(self._sessions.get(uri, ())):
                try:
                    # A client that stopped reading must not hold up the write that notifies it.
                    with anyio.fail_after(NOTIFY_TIMEOUT_SECONDS):
                        await session.send_resource_updated(uri)
                except Exception:  # closed or stuck: forget it rather than fail the write
                    logger.debug("dropping a session subscribed to %s that did not take a notification", uri)
                    self._sessions[uri].discard(session)

    async def _subscribe(self, ctx: Any, params: SubscribeRequestParams) -> EmptyResult:
        self._sessions.setdefault(str(params.uri), set()).add(ctx.session)
        return EmptyResult()

    async def _unsubscribe(self, ctx: Any, params: UnsubscribeRequestParams) -> EmptyResult:
        self._sessions.get(str(params.uri), set()).discard(ctx.session)
        return EmptyResult()
