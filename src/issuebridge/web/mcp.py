"""The MCP server's two transports as plain routes, ready to sit beside the dashboard's own."""

from __future__ import annotations

from mcp.server.mcpserver import MCPServer
from mcp.server.transport_security import TransportSecuritySettings
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from starlette.types import Receive, Scope, Send

# Host and Origin are checked for every route, these included, by ``web/hosts.py``. The SDK's
# own check compares ``localhost:*`` as a string prefix (``localhost:evil.com`` passes it), and
# left to its defaults it switches itself off for any host setting but 127.0.0.1: it is off
# here, explicitly. (It still insists on ``Content-Type: application/json`` for POSTs.)
CHECKED_BY_THE_APP = TransportSecuritySettings(enable_dns_rebinding_protection=False)


def mcp_routes(mcp: MCPServer) -> list[BaseRoute]:
    """``/sse`` + ``/messages/`` (SSE transport) and ``/mcp`` (Streamable HTTP).

    The transports' routes are used directly: mounting their sub-apps would redirect
    ``POST /mcp`` to ``/mcp/``. The parent app's lifespan must run ``mcp.session_manager``.
    """
    sse = mcp.sse_app(sse_path="/sse", message_path="/messages/", transport_security=CHECKED_BY_THE_APP).routes
    http = mcp.streamable_http_app(streamable_http_path="/mcp", transport_security=CHECKED_BY_THE_APP).routes
    return [*(_sent_once(route) for route in sse), *http]


def _sent_once(route: BaseRoute) -> BaseRoute:
    """``GET /sse`` without a second response: the SDK's endpoint streams the whole response
    itself, then returns a fresh ``Response`` that Starlette would try to send as well (a
    RuntimeError in the log when the stream ends)."""
    if not (isinstance(route, Route) and route.path == "/sse"):
        return route
    sdk_endpoint = route.endpoint

    async def sse(request: Request) -> Response:
        await sdk_endpoint(request)
        return _AlreadySent()

    return Route("/sse", sse, methods=["GET"])


class _AlreadySent(Response):
    """Stands for a response the endpoint has already sent over the ASGI channel."""

    def __init__(self) -> None:
        super().__init__()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        return None
