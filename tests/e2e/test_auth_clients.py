"""ISSUEBRIDGE_TOKEN end to end: the SDK's MCP clients over both transports, and the event stream."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import httpx2
import pytest
from mcp import Client
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamable_http_client

from tests.conftest import ServerProcess, start_server
from tests.sse import open_event_stream

TOKEN = "e2e-secret-token"


@pytest.fixture
def guarded(tmp_path: Path, server_env: dict[str, str]) -> Iterator[ServerProcess]:
    running = start_server(tmp_path, {**server_env, "ISSUEBRIDGE_TOKEN": TOKEN})
    yield running
    running.stop()
    assert TOKEN not in running.log


async def test_mcp_over_sse_needs_the_token(guarded: ServerProcess) -> None:
    with pytest.raises(BaseException, match="401"):
        async with Client(sse_client(f"{guarded.url}/sse"), mode="legacy") as client:
            await client.list_tools()
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with Client(sse_client(f"{guarded.url}/sse", headers=headers), mode="legacy") as client:
        result = await client.call_tool("publish_to_dashboard", {"title": "Hello", "summary_markdown": "over SSE"})
    assert not result.is_error


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_mcp_over_streamable_http_needs_the_token(guarded: ServerProcess, mode: str) -> None:
    with pytest.raises(BaseException):  # noqa: B017 - the SDK wraps the 401 differently per era
        async with Client(f"{guarded.url}/mcp", mode=mode) as client:
            await client.list_tools()
    async with (
        httpx2.AsyncClient(headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30) as http,
        Client(streamable_http_client(f"{guarded.url}/mcp", http_client=http), mode=mode) as client,
    ):
        result = await client.call_tool("get_dashboard", {})
    assert not result.is_error


async def test_the_event_stream_takes_the_bearer_token_or_the_cookie(guarded: ServerProcess) -> None:
    async with httpx.AsyncClient(base_url=guarded.url) as http:
        assert (await http.get("/api/dashboard/events")).status_code == 401
        signed_in = await http.get(f"/?token={TOKEN}")
        cookie = signed_in.cookies
    async with open_event_stream(
        f"{guarded.url}/api/dashboard/events", headers={"Authorization": f"Bearer {TOKEN}"}
    ) as stream:
        assert (await stream.next()).event == "initial_data"
    cookie_header = "; ".join(f"{name}={value}" for name, value in cookie.items())
    async with open_event_stream(f"{guarded.url}/api/dashboard/events", headers={"Cookie": cookie_header}) as stream:
        assert (await stream.next()).event == "initial_data"
