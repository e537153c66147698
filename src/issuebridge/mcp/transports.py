"""The MCP server's two transports as plain routes, ready to sit beside the dashboard's own."""

from __future__ import annotations

from mcp.server.mcpserver import MCPServer
from mcp.server.transport_security import TransportSecuritySettings
from starlette.requests import Request
from starlette.routing import BaseRoute, Route
from starlette.types import Receive, Scope, Send

from issuebridge.mcp.sessions import CappedSse, CappedStreamableHttp, McpSessions
from issuebridge.settings import Settings

# Host and Origin are checked for every route, these included, by ``web/hosts.py``. The SDK's
# own check compares ``localhost:*`` as a string prefix (``localhost:evil.com`` passes it), and
# left to its defaults it switches itself off for any host setting but 127.0.0.1: it is off
# here, explicitly. (It still insists on ``Content-Type: application/json`` for POSTs.)
CHECKED_BY_THE_APP = TransportSecuritySettings(enable_dns_rebinding_protection=False)


def mcp_routes(mcp: MCPServer, settings: Settings, sessions: McpSessions | None = None) -> list[BaseRoute]:
    """``/sse`` + ``/messages/`` (SSE transport) and ``/mcp`` (Streamable HTTP).

    The transports' routes are used directly: mounting their sub-apps would redirect
    ``POST /mcp`` to ``/mcp/``. The parent app's lifespan must run ``mcp.session_manager``.
    Sessions are capped per client and in total (``mcp/sessions.py``); the SDK closes idle
    Streamable HTTP sessions after the same time, and refuses past the same total itself too.
    """
    if sessions is None:
        sessions = McpSessions.from_settings(settings)
    sse = mcp.sse_app(sse_path="/sse", message_path="/messages/", transport_security=CHECKED_BY_THE_APP).routes
    http = mcp.streamable_http_app(
        streamable_http_path="/mcp",
        transport_security=CHECKED_BY_THE_APP,
        session_idle_timeout=sessions.idle_seconds,
        max_sessions=sessions.total,
    ).routes
    return [*(_sse_stream(route, sessions) for route in sse), *(_capped(route, sessions) for route in http)]


def _capped(route: BaseRoute, sessions: McpSessions) -> BaseRoute:
    if not (isinstance(route, Route) and route.path == "/mcp"):
        return route
    return Route("/mcp", CappedStreamableHttp(route.app, sessions), methods=route.methods)


def _sse_stream(route: BaseRoute, sessions: McpSessions) -> BaseRoute:
    """``GET /sse`` as a plain ASGI endpoint under the session caps.

    The SDK's endpoint streams the whole response itself and then returns a fresh ``Response``,
    which Starlette would try to send as well (a RuntimeError in the log when the stream ends) if
    it were routed as a request handler.
    """
    if not (isinstance(route, Route) and route.path == "/sse"):
        return route
    sdk_endpoint = route.endpoint

    async def stream(scope: Scope, receive: Receive, send: Send) -> None:
        await sdk_endpoint(Request(scope, receive, send))

    return Route("/sse", CappedSse(stream, sessions), methods=["GET"])
