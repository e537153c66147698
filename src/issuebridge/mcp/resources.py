"""The dashboard as MCP resources, and completion of their templates' arguments.

``dashboard://boards`` (everything, compactly), ``dashboard://boards/{owner}/{repo}`` (one
repository's boards and panels, whole), ``dashboard://panels/{panel_id}`` and
``dashboard://selection`` (what the user ticked on the page). When a write
touches one, subscribed clients are told (``notifications.py``).
"""

from __future__ import annotations

import json
import logging
from typing import Any

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ResourceError, ResourceNotFoundError
from mcp_types import Completion, CompletionArgument, CompletionContext, PromptReference, ResourceTemplateReference

from issuebridge.dashboard.entries import Dashboard
from issuebridge.dashboard.readback import read_back
from issuebridge.dashboard.selection import selected_views
from issuebridge.live.json_format import entry_payload
from issuebridge.records.base import InvalidRepository, repository_name
from issuebridge.records.panels import Panel, panel_key

logger = logging.getLogger(__name__)

BOARDS = "dashboard://boards"
REPOSITORY_TEMPLATE = f"{BOARDS}/{{owner}}/{{repo}}"
PANEL_TEMPLATE = "dashboard://panels/{panel_id}"
SELECTION = "dashboard://selection"
MAX_COMPLETIONS = 100  # the spec's limit per answer


def register_resources(mcp: MCPServer, dashboard: Dashboard) -> None:
    @mcp.resource(BOARDS, name="boards", title="Everything on the dashboard", mime_type="application/json")
    async def boards() -> str:
        """Every board and panel, newest activity first, with rows in the page's order (compact)."""
        return (await read_back(dashboard)).model_dump_json()

    @mcp.resource(SELECTION, name="selection", title="What the user selected", mime_type="application/json")
    async def selection() -> str:
        """The issues and pull requests the user ticked on the page: "these", "the ones I picked"."""
        return _json({"selected": [view.model_dump() for view in await selected_views(dashboard)]})

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

    # MCPServer.completion() is public but not annotated in mcp 2.3, so mypy sees an untyped call.
    @mcp.completion()  # type: ignore[untyped-decorator, no-untyped-call]
    async def complete(
        ref: PromptReference | ResourceTemplateReference,
        argument: CompletionArgument,
        context: CompletionContext | None,
    ) -> Completion:
        """The templates' arguments from what is on the dashboard: owners, their repositories, panel ids.

        Matching is by case-insensitive prefix; anything else (there are no prompts) completes to nothing.
        """
        if not isinstance(ref, ResourceTemplateReference):
            return Completion(values=[])
        entries = await dashboard.entries()
        repositories = sorted({e.related_repository.lower() for e in entries if e.related_repository})
        if ref.uri == REPOSITORY_TEMPLATE and argument.name == "owner":
            candidates = sorted({name.partition("/")[0] for name in repositories})
        elif ref.uri == REPOSITORY_TEMPLATE and argument.name == "repo":
            owner = ((context.arguments if context else None) or {}).get("owner", "").strip().lower()
            candidates = sorted({r for o, _, r in (n.partition("/") for n in repositories) if not owner or o == owner})
        elif ref.uri == PANEL_TEMPLATE and argument.name == "panel_id":
            candidates = sorted(e.panel_id for e in entries if isinstance(e, Panel))
        else:
            candidates = []
        prefix = argument.value.strip().lower()
        matches = [c for c in candidates if c.lower().startswith(prefix)]
        return Completion(values=matches[:MAX_COMPLETIONS], total=len(matches), has_more=len(matches) > MAX_COMPLETIONS)


def _json(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False)
