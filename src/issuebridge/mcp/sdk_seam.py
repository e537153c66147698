"""The one place that reaches past the MCP SDK's public surface.

``MCPServer`` (mcp 2.3) serves no ``resources/subscribe`` or ``resources/unsubscribe``, and
offers no public way to add a handler for a spec method: its extensions may only add methods
the spec does not define, and the SDK's own docs (``mcp.server.extension.MethodBinding``) send
spec methods to the low-level ``Server.add_request_handler``, which ``MCPServer`` keeps in the
private ``_lowlevel_server``. Handshake-era clients subscribe this way, so it is used here and
nowhere else.

``pyproject.toml`` pins mcp to 2.3.x. The behaviour relied on, that a handler registered here
answers the method and the server then advertises ``resources.subscribe``, is exercised through
the SDK's own clients by ``tests/e2e/test_curation.py`` (the capability, subscribing, being
notified of only what was subscribed) and ``tests/e2e/test_mcp_sessions.py`` (a subscribed
session that stops reading), and by the conformance suite's ``resources-subscribe`` scenario.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from mcp.server.mcpserver import MCPServer
from pydantic import BaseModel


def add_request_handler(
    mcp: MCPServer, method: str, params: type[BaseModel], handler: Callable[[Any, Any], Awaitable[Any]]
) -> None:
    """Serve the spec method ``method`` (its params validated as ``params``) with ``handler``."""
    mcp._lowlevel_server.add_request_handler(method, params, handler)
