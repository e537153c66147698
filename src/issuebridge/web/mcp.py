"""The MCP server's two transports as plain routes, ready to sit beside the dashboard's own."""

from __future__ import annotations

from mcp.server.mcpserver import MCPServer
from mcp.server.transport_security import TransportSecurityMiddleware, TransportSecuritySettings
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from starlette.types import Receive, Scope, Send

from issuebridge.settings import Settings
from issuebridge.web.mcp_sessions import CappedSse, CappedStreamableHttp, McpSessions


def transport_security(settings: Settings) -> TransportSecuritySettings:
    """DNS-rebinding protection built from settings, not left to the SDK's defaults.

    The SDK switches the protection off silently for any host setting but 127.0.0.1.
    """
    return TransportSecuritySettings(
        enable_dns_rebinding_protection=True,
        allowed_hosts=settings.allowed_hosts,
        allowed_origins=settings.allowed_origins,
    )


def mcp_routes(mcp: MCPServer, settings: Settings, sessions: McpSessions | None = None) -> list[BaseRoute]:
    """``/sse`` + ``/messages/`` (SSE transport) and ``/mcp`` (Streamable HTTP).

    The transports' routes are used directly: mounting their sub-apps would redirect
    ``POST /mcp`` to ``/mcp/``. The parent app's lifespan must run ``mcp.session_manager``.
    Sessions are capped per client and in total (``web/mcp_sessions.py``); the SDK closes idle
    Streamable HTTP sessions after the same time, and refuses past the same total itself too.
    """
    security = transport_security(settings)
    if sessions is None:
        sessions = McpSessions.from_settings(settings)
    sse = mcp.sse_app(sse_path="/sse", message_path="/messages/", transport_security=security).routes
    http = mcp.streamable_http_app(
        streamable_http_path="/mcp",
        transport_security=security,
        session_idle_timeout=sessions.idle_seconds,
        max_sessions=sessions.total,
    ).routes
    return [*(_checked_sse_route(route, security, sessions) for route in sse), *(_capped(r, sessions) for r in http)]


def _capped(route: BaseRoute, sessions: McpSessions) -> BaseRoute:
    if not (isinstance(route, Route) and route.path == "/mcp"):
        return route
    return Route("/mcp", CappedStreamableHttp(route.app, sessions), methods=route.methods)


def _checked_sse_route(route: BaseRoute, security: TransportSecuritySettings, sessions: McpSessions) -> BaseRoute:
    """Answer a bad Host or Origin on ``GET /sse`` ourselves.

    The SDK's SSE endpoint sends the 421/403 and then raises, which logs a traceback for every
    rejected request and drops the client's connection.
    """
    if not (isinstance(route, Route) and route.path == "/sse"):
        return route
    check = TransportSecurityMiddleware(security)
    sdk_endpoint = route.endpoint

    async def stream(scope: Scope, receive: Receive, send: Send) -> None:
        # The SDK's endpoint streams the whole response itself, then returns a fresh
        # Response that Starlette would try to send a second time.
        await sdk_endpoint(Request(scope, receive, send))

    capped = CappedSse(stream, sessions)

    async def sse(request: Request) -> Response:
        rejection = await check.validate_request(request, is_post=False)
        if rejection is not None:
            return rejection
        await capped(request.scope, request.receive, request._send)
        return _AlreadySent()

    return Route("/sse", sse, methods=["GET"])


class _AlreadySent(Response):
    """Stands for a response the endpoint has already sent over the ASGI channel."""

    def __init__(self) -> None:
        super().__init__()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        return None
