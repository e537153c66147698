"""What ``issuebridge.web.uvicorn_server`` relies on in uvicorn, and what it does with it.

If a uvicorn release changes any of this, these fail first (pyproject.toml pins the range):
a connection whose client stopped reading keeps its unsent bytes and survives
``transport.close()``; uvicorn lists it in ``server_state.connections`` with its transport and
its request's scope; the running server is the SIGTERM handler's ``__self__``.
"""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import httpx
from starlette.types import Receive, Scope, Send

from issuebridge.app import create_app
from issuebridge.settings import Settings
from issuebridge.web import uvicorn_server
from tests.inprocess import Served, never_reading_client, raw_request, serving, until

BODY = b"x" * (4 << 20)  # more than the socket buffers hold for a client that never reads


def stuck_connections(served: Served) -> list[object]:
    return [c for c in list(served.server.server_state.connections) if c.transport.get_write_buffer_size() > 0]


async def test_uvicorn_keeps_a_closed_connection_with_unsent_bytes_until_it_is_cut() -> None:
    scopes: list[Scope] = []
    finished = asyncio.Event()

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        if scope["path"] == "/small":  # a request answered whole, to mark a point in the loop's work
            await send({"type": "http.response.start", "status": 200, "headers": [(b"connection", b"close")]})
            await send({"type": "http.response.body", "body": b"ok", "more_body": False})
            return
        scopes.append(scope)
        await send({"type": "http.response.start", "status": 200, "headers": [(b"connection", b"close")]})
        await send({"type": "http.response.body", "body": BODY, "more_body": False})  # then uvicorn closes
        finished.set()

    async with serving(app, send_buffer=4096, lifespan="off") as served:
        assert uvicorn_server.running_server() is served.server  # found through its SIGTERM handler
        client = await never_reading_client(served.port)
        try:
            await asyncio.wait_for(finished.wait(), 10)
            await until(lambda: stuck_connections(served))
            (connection,) = stuck_connections(served)
            assert connection.transport.is_closing()  # type: ignore[attr-defined]  # closed, and still there:
            # Another connection opened, answered and closed meanwhile: the loop ran all it had
            # scheduled (a connection closed with nothing to send is gone on its next turn).
            answered = await raw_request(served.port, b"GET /small HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            assert answered.startswith(b"HTTP/1.1 200") and answered.endswith(b"\r\n2\r\nok\r\n0\r\n\r\n")
            assert stuck_connections(served) == [connection]  # close() waits for a drain that never comes
            assert uvicorn_server.cut(scopes[0]) and not uvicorn_server.cut({"type": "http"})
            await until(lambda: not served.server.server_state.connections)
        finally:
            client.close()
    assert uvicorn_server.running_server() is None  # uvicorn put the previous handler back


async def test_shutdown_cuts_stuck_streams_instead_of_waiting_for_ever(tmp_path: Path) -> None:
    app = create_app(Settings(db_path=tmp_path / "boards.db", rate_limit="100000/minute", stream_send_timeout=600))
    issues = [{"number": n, "title": "a long title " * 20, "state": "open"} for n in range(1, 2001)]
    clients: list[socket.socket] = []
    try:
        # Leaving the block sets uvicorn's should_exit, as SIGTERM does, and waits for serve() to
        # return: without the cuts it never would (the guard turns that into a failure).
        async with asyncio.timeout(30), serving(app, send_buffer=4096) as served:
            async with httpx.AsyncClient(base_url=served.url) as http:
                pushed = await http.post("/api/dashboard/sync-issues", json={"repository": "o/big", "issues": issues})
                assert pushed.status_code == 200
            for n in range(6):
                wire_format = "html" if n % 2 else "json"
                clients.append(await never_reading_client(served.port, f"/api/dashboard/events?format={wire_format}"))
            await until(lambda: len(stuck_connections(served)) == 6)
        assert not served.server.server_state.connections
    finally:
        for client in clients:
            client.close()


async def test_shutdown_cuts_a_request_whose_body_never_finishes(tmp_path: Path) -> None:
    app = create_app(Settings(db_path=tmp_path / "boards.db"))
    loop = asyncio.get_running_loop()
    client = socket.socket()
    try:
        async with asyncio.timeout(30), serving(app) as served:
            client.setblocking(False)
            await loop.sock_connect(client, ("127.0.0.1", served.port))
            head = (
                f"POST /api/dashboard/sync-issues HTTP/1.1\r\nHost: 127.0.0.1:{served.port}\r\n"
                "Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n"
            )
            await loop.sock_sendall(client, head.encode() + b'{"repository": "octo/slow", "issues": [')
            await until(lambda: any(getattr(c, "cycle", None) for c in served.server.server_state.connections))
        # The block's end waited for serve() to return: the half-sent request did not hold it.
        assert not served.server.server_state.connections
    finally:
        client.close()
