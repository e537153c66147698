"""The MCP SDK's own clients, one per way a user's assistant can connect."""

from __future__ import annotations

from collections.abc import Callable

from mcp import Client
from mcp.client.sse import sse_client

# SSE (/sse) is the handshake-era transport that Cursor uses; Streamable HTTP (/mcp) is tried in
# both protocol eras: the 2026 one the SDK negotiates by default, and the handshake one.
TRANSPORTS: dict[str, Callable[[str], Client]] = {
    "sse": lambda base: Client(sse_client(f"{base}/sse"), mode="legacy"),
    "streamable-http": lambda base: Client(f"{base}/mcp"),
    "streamable-http-legacy": lambda base: Client(f"{base}/mcp", mode="legacy"),
}
# What a test is run over when the transport is not its point: the transport a new client uses.
# Each transport still carries a tool call end to end (tests/e2e/test_mcp_tool.py), and the MCP
# clients we did not write use each (tests/e2e/test_node_clients.py).
ONE_TRANSPORT = ["streamable-http"]
# One transport per protocol era, for what the era negotiates (tool metadata, the Apps extension).
PROTOCOL_ERAS = ["sse", "streamable-http"]

# A raw JSON-RPC initialize request (handshake era), for tests that speak HTTP below the SDK.
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}},
}
