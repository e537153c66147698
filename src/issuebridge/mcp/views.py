"""The dashboard inline in the chat: MCP Apps (``io.modelcontextprotocol/ui``) views of the boards.

Two ``ui://`` resources, both served as ``text/html;profile=mcp-app``:

``ui://issuebridge/board`` (``VIEW_URI``)
    The view the board tools name in ``_meta.ui.resourceUri``. The spec and the SDK's ``Apps``
    want that URI fixed and predeclared (a host may fetch and cache it before any call), so it
    holds no data: a small inline script does the MCP Apps handshake with the host, takes the
    board's id from the tool result the host passes it (``ui/notifications/tool-result``), and
    asks the host to read the board below (``resources/read``). Without that, it shows the
    result's text.

``ui://issuebridge/board/{+key}`` (``BOARD_URI``)
    One board or panel, rendered on the server by the page's own macros (``_entries.html``, with
    ``web/rows.py`` for issue rows): the same escaping and sanitising as the page, no script at
    all. Any MCP client can read it; an unknown key is a resource error.

Both declare an empty CSP (no outside connections, scripts, styles, images or frames): the
stylesheet is inlined, and the script is inline too.
"""

from __future__ import annotations

from typing import Any

from jinja2 import Environment
from markupsafe import Markup
from mcp.server.apps import APP_MIME_TYPE, Apps, ResourceCsp
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ResourceNotFoundError

from issuebridge.assets import STATIC
from issuebridge.dashboard.entries import Dashboard
from issuebridge.records.registry import AnyEntry

VIEW_URI = "ui://issuebridge/board"
BOARD_URI = VIEW_URI + "/{+key}"

# Nothing from anywhere: every list empty (the spec's secure default, said out loud).
CSP = ResourceCsp(connect_domains=[], resource_domains=[], frame_domains=[], base_uri_domains=[])
UI_META: dict[str, Any] = {"ui": {"csp": CSP.model_dump(by_alias=True), "prefersBorder": True}}


def board_uri(key: str) -> str:
    """The ``ui://`` resource of the board or panel stored under ``key`` (``issues:owner/repo``)."""
    return f"{VIEW_URI}/{key}"


class Views:
    """Renders the two kinds of view from the page's templates."""

    def __init__(self, env: Environment) -> None:
        self._template = env.get_template("app_view.html")
        css = (STATIC / "dashboard.css").read_text("utf-8")
        if "</" in css:  # it goes inside <style>; our own file, but never let it close the element
            raise ValueError("dashboard.css must not contain '</'")
        self._css = Markup(css)  # noqa: S704 - our own stylesheet, checked above

    def board(self, entry: AnyEntry) -> str:
        """A whole HTML document showing one entry as the page shows it; no script."""
        return self._template.render(entry=entry, css=self._css, bridge=False)

    def shell(self) -> str:
        """The tools' view: no data, the inline bridge that fetches the board a call updated."""
        return self._template.render(entry=None, css=self._css, bridge=True)


def board_apps(env: Environment) -> Apps:
    """The MCP Apps extension with the tools' view registered; the board tools bind to it with
    ``apps.tool(resource_uri=VIEW_URI, ...)``."""
    apps = Apps()
    apps.add_html_resource(
        VIEW_URI,
        Views(env).shell(),
        name="board-view",
        title="Dashboard board (inline)",
        description="Shows the board a tool just updated, as the dashboard page shows it.",
        csp=CSP,
        prefers_border=True,
    )
    return apps


def register_board_views(mcp: MCPServer, dashboard: Dashboard, env: Environment) -> None:
    views = Views(env)

    @mcp.resource(
        BOARD_URI,
        name="board-view-of",
        title="One board, as HTML (MCP Apps)",
        mime_type=APP_MIME_TYPE,
        meta=UI_META,
    )
    async def board_view(key: str) -> str:
        """A board or panel rendered as on the dashboard page: ``issues:owner/repo``,
        ``pulls:owner/repo``, ``commits:owner/repo`` or ``panel:<panel_id>``."""
        entry = await dashboard.get(key)
        if entry is None:
            raise ResourceNotFoundError(f"no board {key!r} is on the dashboard")
        return views.board(entry)
