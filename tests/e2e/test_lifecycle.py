"""The server process as an operator sees it: heartbeats, shutdown with streams open (stuck ones
too), packaging."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import re
import signal
import socket
import struct
import subprocess
import sys
import termios
import time
import zipfile
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from testkit.mcp_clients import INITIALIZE, TRANSPORTS
from testkit.servers import Listener, clean_environment, free_port, start_server
from testkit.sse import open_event_stream
from tests.inprocess import start_app

REPO_ROOT = Path(__file__).resolve().parents[2]


async def test_shutdown_with_every_kind_of_stream_open_takes_seconds(
    tmp_path: Path, server_env: dict[str, str]
) -> None:
    server = start_server(tmp_path, server_env)
    stopped = asyncio.Event()
    sessions_open = {"sse": asyncio.Event(), "streamable-http-legacy": asyncio.Event()}

    async def hold_dashboard_stream() -> None:
        try:
            async with open_event_stream(f"{server.url}/api/dashboard/events") as stream:
                await stream.next()
                await stopped.wait()
        except (httpx.HTTPError, EOFError):
            pass

    async def hold_mcp_session(transport: str) -> None:
        try:
            async with TRANSPORTS[transport](server.url) as client:
                await client.list_tools()
                sessions_open[transport].set()
                await stopped.wait()
        except BaseException:  # the server going away mid-session is the point of this test
            pass

    holders = [
        asyncio.create_task(hold_dashboard_stream()),
        asyncio.create_task(hold_dashboard_stream()),
        asyncio.create_task(hold_mcp_session("sse")),
        asyncio.create_task(hold_mcp_session("streamable-http-legacy")),
    ]
    async with httpx.AsyncClient(base_url=server.url) as http:
        for _ in range(100):  # wait until the dashboard streams are open on the server
            health = (await http.get("/healthz")).json()
            if health["subscribers"] == 2:
                break
            await asyncio.sleep(0.05)
    assert health["subscribers"] == 2
    async with asyncio.timeout(10):  # and both MCP sessions answered a request
        for opened in sessions_open.values():
            await opened.wait()

    seconds = await asyncio.to_thread(server.stop, 10.0)
    stopped.set()
    await asyncio.wait(holders, timeout=5)
    assert seconds < 5, f"shutdown took {seconds:.1f}s"
    # uvicorn exits by re-raising the SIGTERM it handled once shutdown is complete.
    assert server.process.returncode in (0, -signal.SIGTERM), server.log
    assert "Traceback" not in server.log, server.log


def never_reading(port: int, request: bytes) -> socket.socket:
    """A client that sends ``request`` and then never reads (a tiny receive window)."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", port))
    sock.sendall(request)
    return sock


def has_data_waiting(sock: socket.socket) -> bool:
    waiting: int = struct.unpack("i", fcntl.ioctl(sock, termios.FIONREAD, b"\0\0\0\0"))[0]
    return waiting > 0


async def test_shutdown_with_twenty_stuck_streams_under_plain_uvicorn_takes_seconds(tmp_path: Path) -> None:
    """``uvicorn issuebridge.app:app`` without --timeout-graceful-shutdown, and clients that never read.

    Each stream's snapshot (8 MB) is more than the kernel's socket buffers hold, so bytes stay
    in the server's own buffers: uvicorn's shutdown would wait for them to drain for ever.
    Dashboard streams in both formats, MCP SSE sessions stuck on a large read, and a Streamable
    HTTP GET stream that never ends.
    """
    env = {
        "ISSUEBRIDGE_DB": str(tmp_path / "boards.db"),
        "ISSUEBRIDGE_RATE_LIMIT": "100000/minute",
        "ISSUEBRIDGE_STREAM_SEND_TIMEOUT": "600",  # so that only the shutdown can release them
    }
    server = start_server(tmp_path, env)
    clients: list[socket.socket] = []
    host = f"Host: 127.0.0.1:{server.port}\r\n"
    try:
        issues = [{"number": n, "title": f"{n} " + "x" * 600, "state": "open"} for n in range(1, 10_001)]
        async with httpx.AsyncClient(base_url=server.url, timeout=60) as http:
            pushed = await http.post("/api/dashboard/sync-issues", json={"repository": "octo/big", "issues": issues})
            assert pushed.status_code == 200, pushed.text
            for n in range(20):
                path = f"/api/dashboard/events?format={'html' if n % 2 else 'json'}"
                clients.append(never_reading(server.port, f"GET {path} HTTP/1.1\r\n{host}\r\n".encode()))
            for _ in range(2):  # SSE sessions whose answer to a read of the big board is never read
                sse = never_reading(
                    server.port, f"GET /sse HTTP/1.1\r\n{host}Accept: text/event-stream\r\n\r\n".encode()
                )
                clients.append(sse)
                found = None
                received = b""
                while found is None:
                    received += sse.recv(4096)
                    found = re.search(rb"session_id=([0-9a-f]{32})", received)
                messages = f"/messages/?session_id={found[1].decode()}"
                await http.post(messages, json=INITIALIZE)
                await http.post(messages, json={"jsonrpc": "2.0", "method": "notifications/initialized"})
                read = {"method": "resources/read", "params": {"uri": "dashboard://boards/octo/big"}}
                await http.post(messages, json={"jsonrpc": "2.0", "id": 2, **read})
            opened = await http.post("/mcp", json=INITIALIZE, headers={"Accept": "application/json, text/event-stream"})
            session = opened.headers["mcp-session-id"]
            get = f"GET /mcp HTTP/1.1\r\n{host}Accept: text/event-stream\r\nMcp-Session-Id: {session}\r\n"
            clients.append(never_reading(server.port, (get + "Mcp-Protocol-Version: 2025-06-18\r\n\r\n").encode()))
            for _ in range(200):  # until every stream is open and its client's window is full
                health = (await http.get("/healthz")).json()
                if health["subscribers"] == 20 and all(has_data_waiting(c) for c in clients[:-1]):
                    break
                await asyncio.sleep(0.05)
            assert health["subscribers"] == 20
        seconds = await asyncio.to_thread(server.stop, 30.0)
        assert seconds < 5, f"shutdown took {seconds:.1f}s:\n{server.log}"
        assert server.process.returncode in (0, -signal.SIGTERM), server.log
        assert "Traceback" not in server.log, server.log
    finally:
        for client in clients:
            client.close()
        server.stop()


async def test_idle_streams_get_heartbeats(server_env: dict[str, str]) -> None:
    server = start_app({**server_env, "ISSUEBRIDGE_HEARTBEAT_SECONDS": "0.3"})
    try:
        async with open_event_stream(f"{server.url}/api/dashboard/events") as stream:
            first = await stream.next()
            assert first.event == "initial_data" and first.id == "0" and first.retry == 2000
            with contextlib.suppress(TimeoutError):  # no event should come: only comments
                await stream.next(wait=1.2)
            assert stream.comments >= 2  # ": ping" comment lines, no events
    finally:
        server.stop()


def failed_start(workdir: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """``uvicorn issuebridge.app:app`` with ``env`` alone, which must refuse to start."""
    result = subprocess.run(
        [sys.executable, "-m", "uvicorn", "issuebridge.app:app", "--port", "0"],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    return result


def test_a_bad_database_path_stops_start_up_with_a_clear_message(tmp_path: Path) -> None:
    env = {"ISSUEBRIDGE_DB": str(tmp_path / "missing-dir" / "boards.db"), "PATH": "/usr/bin:/bin"}
    result = failed_start(tmp_path, env)
    assert "does not exist; create it or point ISSUEBRIDGE_DB at a writable path" in result.stderr


def test_an_unreachable_redis_stops_start_up_with_a_clear_message_and_no_password(
    tmp_path: Path, closed_port: int
) -> None:
    url = f"redis://issuebridge:pa55-w0rd@127.0.0.1:{closed_port}/0"
    env = {"ISSUEBRIDGE_REDIS_URL": url, "PATH": "/usr/bin:/bin"}
    result = failed_start(tmp_path, env)
    assert "cannot use Redis" in result.stderr and "point ISSUEBRIDGE_REDIS_URL at a running server" in result.stderr
    assert "pa55-w0rd" not in result.stderr + result.stdout


def test_the_wheel_ships_templates_and_static_files(tmp_path: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(tmp_path),
            ".",
        ],
        cwd=REPO_ROOT,
        check=True,
        capture_output=True,
        timeout=120,
    )
    (wheel,) = tmp_path.glob("issuebridge-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for shipped in (
        "templates/dashboard.html",
        "static/dashboard.js",
        "static/dashboard/events.js",
        "static/dashboard.css",
    ):
        assert f"issuebridge/{shipped}" in names


@pytest.mark.usefixtures("backend")  # what each store has committed when the process dies
async def test_kill_9_during_a_sync_loses_nothing_committed(
    tmp_path: Path, server_env: dict[str, str], listener: Listener
) -> None:
    first = start_server(tmp_path, server_env, listener=listener)
    before = {
        "repository": "octo/kept",
        "issues": [{"number": n, "title": f"kept {n}", "state": "open"} for n in range(1, 51)],
    }
    big = {
        "repository": "octo/big",
        "issues": [{"number": n, "title": "x" * 500, "state": "open"} for n in range(1, 10_001)],
    }
    async with httpx.AsyncClient(base_url=first.url, timeout=30) as http:
        assert (await http.post("/api/dashboard/sync-issues", json=before)).status_code == 200

        body = json.dumps(big).encode()
        sent = asyncio.Event()

        async def chunks() -> AsyncIterator[bytes]:
            for start in range(0, len(body), 1 << 16):
                yield body[start : start + (1 << 16)]
            sent.set()

        async def push_big() -> None:
            headers = {"Content-Type": "application/json", "Content-Length": str(len(body))}
            with contextlib.suppress(httpx.HTTPError):
                await http.post("/api/dashboard/sync-issues", content=chunks(), headers=headers)

        pushing = asyncio.create_task(push_big())
        await asyncio.wait_for(sent.wait(), 30)  # the 5 MB push is sent: it is being read, validated or written
        first.process.kill()  # SIGKILL: no shutdown, no flush
        first.process.wait()
        await pushing
    second = start_server(tmp_path, server_env, listener=listener)
    try:
        async with httpx.AsyncClient(base_url=second.url) as http:
            kept = (await http.get("/api/dashboard/issues", params={"repository": "octo/kept"})).json()
            big_board = await http.get("/api/dashboard/issues", params={"repository": "octo/big"})
            health = (await http.get("/healthz")).json()
        assert [i["title"] for i in kept["issues"]] == [f"kept {n}" for n in range(1, 51)]
        # The interrupted board is all there or not there at all, and the revision agrees.
        if big_board.status_code == 200:
            assert len(big_board.json()["issues"]) == 10_000 and health["revision"] == 2
        else:
            assert big_board.status_code == 404 and health["revision"] == 1
    finally:
        second.stop()


def start_on_all_interfaces(tmp_path: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Start uvicorn with --host 0.0.0.0 (listening only; the tests talk to it over 127.0.0.1)."""
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", "issuebridge.app:app", "--host", "0.0.0.0", "--port", str(port)]
    process = subprocess.Popen(
        command, cwd=tmp_path, env=clean_environment(env), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = process.communicate()[0]  # and the pipe closed
            return subprocess.CompletedProcess(command, process.returncode, output)
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                process.send_signal(signal.SIGTERM)
                output = process.communicate(timeout=15)[0]
                return subprocess.CompletedProcess(command, 0, output)
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    process.communicate()
    raise AssertionError("the server neither started nor exited")


def test_a_public_address_without_a_token_is_refused(tmp_path: Path) -> None:
    db = {"ISSUEBRIDGE_DB": str(tmp_path / "b.db")}
    refused = start_on_all_interfaces(tmp_path, db)
    assert refused.returncode != 0
    assert "will not listen on 0.0.0.0 without ISSUEBRIDGE_TOKEN" in str(refused.stdout)
    with_token = start_on_all_interfaces(tmp_path, {**db, "ISSUEBRIDGE_TOKEN": "a-long-random-string"})
    assert with_token.returncode == 0 and "a-long-random-string" not in str(with_token.stdout)
    opted_out = start_on_all_interfaces(tmp_path, {**db, "ISSUEBRIDGE_ALLOW_UNAUTHENTICATED": "1"})
    assert opted_out.returncode == 0
