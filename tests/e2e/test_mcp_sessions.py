"""MCP sessions against a real server in the test's loop: stalled sessions never hold up a write,
and sessions are capped per client and in total on both transports (issue 14, items 13 and 14)."""

from __future__ import annotations

import asyncio
import re
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import mcp_types as types
import pytest
from mcp import Client
from mcp.client.sse import sse_client

from issuebridge.app import create_app
from issuebridge.mcp import notifications
from issuebridge.mcp.notifications import ResourceNotifier
from issuebridge.services import Services
from issuebridge.settings import Settings
from testkit.mcp_clients import INITIALIZE
from tests.inprocess import Served, serving, until

MCP_HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}


def settings(tmp_path: Path, **overrides: Any) -> Settings:
    return Settings(db_path=tmp_path / "boards.db", rate_limit="100000/minute", **overrides)


def notifier_of(served_app: Any) -> ResourceNotifier:
    services: Services = served_app.state.services
    notifiers = [getattr(listener, "__self__", None) for listener in services.announcer.listeners]
    notifier = next(n for n in notifiers if isinstance(n, ResourceNotifier))
    return notifier


async def stalled_sse_session(served: Served, http: httpx.AsyncClient, big_uri: str) -> socket.socket:
    """A real SSE session subscribed to ``dashboard://boards`` whose client stops reading at once.

    It reads just the endpoint event, then asks for ``big_uri`` three times: the answers fill the
    socket buffers (small on both sides) and uvicorn's, so every later message to the session,
    notifications included, waits for a client that never reads.
    """
    loop = asyncio.get_running_loop()
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.setblocking(False)
    await loop.sock_connect(sock, ("127.0.0.1", served.port))
    request = f"GET /sse HTTP/1.1\r\nHost: 127.0.0.1:{served.port}\r\nAccept: text/event-stream\r\n\r\n"
    await loop.sock_sendall(sock, request.encode())
    received = b""
    while (found := re.search(rb"session_id=([0-9a-f]{32})", received)) is None:
        received += await loop.sock_recv(sock, 4096)
    messages = f"/messages/?session_id={found[1].decode()}"
    await http.post(messages, json=INITIALIZE)
    await http.post(messages, json={"jsonrpc": "2.0", "method": "notifications/initialized"})
    subscribe = {"jsonrpc": "2.0", "id": 2, "method": "resources/subscribe", "params": {"uri": "dashboard://boards"}}
    await http.post(messages, json=subscribe)
    for n in range(3):
        read = {"jsonrpc": "2.0", "id": 10 + n, "method": "resources/read", "params": {"uri": big_uri}}
        await http.post(messages, json=read)
    return sock


async def push(http: httpx.AsyncClient, repository: str, count: int, title: str = "x") -> int:
    issues = [{"number": n, "title": f"{title} {n}", "state": "open"} for n in range(1, count + 1)]
    response = await http.post("/api/dashboard/sync-issues", json={"repository": repository, "issues": issues})
    assert response.status_code == 200, response.text
    return int(response.json()["revision"])


# The handshake era's resources/subscribe is deprecated by the SDK; testing it is the point here.
@pytest.mark.filterwarnings("ignore:resources/subscribe is removed")
async def test_ten_stalled_sessions_never_hold_up_a_write(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A bound far longer than the test: a stalled session is still waiting when the write returns.
    monkeypatch.setattr(notifications, "NOTIFY_TIMEOUT_SECONDS", 60.0)
    app = create_app(settings(tmp_path))
    notifier = notifier_of(app)
    updates: list[str] = []
    notified = asyncio.Event()

    async def on_message(message: Any) -> None:
        if isinstance(message, types.ResourceUpdatedNotification):
            updates.append(str(message.params.uri))
            notified.set()

    async with (
        serving(app, send_buffer=4096) as served,
        httpx.AsyncClient(base_url=served.url, timeout=30) as http,
    ):
        await push(http, "octo/big", 800, "a fairly long title to make the board weigh something")
        stalled = [await stalled_sse_session(served, http, "dashboard://boards/octo/big") for _ in range(10)]
        try:
            async with Client(sse_client(f"{served.url}/sse"), mode="legacy", message_handler=on_message) as healthy:
                await healthy.subscribe_resource("dashboard://boards")
                await until(lambda: notifier.sessions == 11)
                # The first write queues a notification for each; the stalled ones cannot take it.
                await asyncio.wait_for(push(http, "octo/first", 1), 20)
                await until(lambda: notifier.sending == 10)
                await asyncio.wait_for(notified.wait(), 10)
                notified.clear()
                # Another write, and a third one right behind it: each returns while all ten are still stuck.
                revisions = [await asyncio.wait_for(push(http, f"octo/w{n}", 1), 20) for n in range(2)]
                assert notifier.sending == 10 and notifier.sessions == 11
                assert revisions[1] == revisions[0] + 1
                await asyncio.wait_for(notified.wait(), 10)  # the healthy session is told, as ever
                assert updates[-1] == "dashboard://boards"
                # Of every write: and the client leaves only then, as the SDK's SSE client fails
                # (BrokenResourceError) on a message that arrives while it is closing.
                await until(lambda: len(updates) == 3)
        finally:
            for sock in stalled:
                sock.close()
        # The stalled clients went away: their sessions end, their sends fail, they are forgotten.
        await until(lambda: notifier.sessions == 0)


async def initialize(http: httpx.AsyncClient, client: str = "127.0.0.1") -> httpx.Response:
    """A handshake-era ``initialize`` POST that opens a Streamable HTTP session (from ``client``)."""
    return await http.post("/mcp", json=INITIALIZE, headers={**MCP_HEADERS, "X-Forwarded-For": client})


@pytest.fixture
async def capped(tmp_path: Path) -> AsyncIterator[tuple[Served, httpx.AsyncClient, Any]]:
    app = create_app(settings(tmp_path, mcp_sessions_per_client=2, mcp_max_sessions=3))
    async with serving(app) as served, httpx.AsyncClient(base_url=served.url, timeout=10) as http:
        yield served, http, app


def refusal(response: httpx.Response) -> str:
    assert int(response.headers["retry-after"]) >= 1
    body = response.json()
    assert body["jsonrpc"] == "2.0" and body["id"] is None
    return str(body["error"]["message"])


async def test_streamable_http_sessions_are_capped_per_client_and_in_total(
    capped: tuple[Served, httpx.AsyncClient, Any],
) -> None:
    _, http, app = capped
    first, second = await initialize(http), await initialize(http)
    assert first.status_code == second.status_code == 200
    refused = await initialize(http)
    assert refused.status_code == 429
    assert "already has 2 MCP sessions open" in refusal(refused) and "DELETE /mcp" in refusal(refused)
    # Another client still gets one, until the server is full.
    assert (await initialize(http, "10.0.0.2")).status_code == 200
    full = await initialize(http, "10.0.0.3")
    assert full.status_code == 503 and "the server has 3 MCP sessions open" in refusal(full)
    # A deleted session makes room at once.
    deleted = await http.delete("/mcp", headers={**MCP_HEADERS, "Mcp-Session-Id": first.headers["mcp-session-id"]})
    assert deleted.status_code == 200
    assert app.state.services.sessions.open_for("127.0.0.1") == 1
    assert (await initialize(http)).status_code == 200
    # 2026-era requests open no session and are never refused for sessions.
    modern = await http.post("/mcp", json=INITIALIZE, headers={**MCP_HEADERS, "Mcp-Protocol-Version": "2026-07-28"})
    assert modern.status_code != 429 and modern.status_code != 503


async def test_sse_sessions_count_while_their_stream_is_open(capped: tuple[Served, httpx.AsyncClient, Any]) -> None:
    _, http, app = capped

    async def open_sse() -> tuple[httpx.Response, Callable[[], Awaitable[None]]]:
        stream = http.stream("GET", "/sse", headers={"Accept": "text/event-stream"})
        response = await stream.__aenter__()

        async def close() -> None:
            await stream.__aexit__(None, None, None)

        return response, close

    (first, close_first), (second, close_second) = await open_sse(), await open_sse()
    assert first.status_code == second.status_code == 200
    refused = await http.get("/sse", headers={"Accept": "text/event-stream"})
    assert refused.status_code == 429 and "close their /sse stream" in refusal(refused)
    assert (await initialize(http)).status_code == 429  # one count for both transports
    await close_first()
    await until(lambda: app.state.services.sessions.open_for("127.0.0.1") == 1)
    third, close_third = await open_sse()
    assert third.status_code == 200
    await close_second()
    await close_third()


async def test_idle_streamable_http_sessions_are_reaped_and_make_room(tmp_path: Path) -> None:
    app = create_app(settings(tmp_path, mcp_sessions_per_client=1, mcp_session_idle_seconds=0.2))
    async with serving(app) as served, httpx.AsyncClient(base_url=served.url, timeout=10) as http:
        opened = await initialize(http)
        assert opened.status_code == 200
        assert (await initialize(http)).status_code == 429
        session = {**MCP_HEADERS, "Mcp-Session-Id": opened.headers["mcp-session-id"]}
        ping = {"jsonrpc": "2.0", "id": 5, "method": "ping"}

        # The SDK closes it after 0.2 s without a request in flight; each look is a request (and
        # keeps it open), so look less often than that: polled, no window asserted.
        async with asyncio.timeout(10):
            while (await http.post("/mcp", json=ping, headers=session)).status_code != 404:  # noqa: ASYNC110
                await asyncio.sleep(0.3)
        assert (await initialize(http)).status_code == 200  # and its place is free again


@pytest.mark.filterwarnings("ignore:resources/subscribe is removed")
async def test_a_session_that_ends_takes_its_subscriptions_with_it(
    capped: tuple[Served, httpx.AsyncClient, Any],
) -> None:
    served, _, app = capped
    notifier = notifier_of(app)
    async with Client(f"{served.url}/mcp", mode="legacy") as client:
        await client.subscribe_resource("dashboard://boards")
        assert notifier.sessions == 1
    # The client deleted its session on the way out: nothing of it is kept.
    await until(lambda: notifier.sessions == 0)
    assert app.state.services.sessions.open_for("127.0.0.1") == 0
