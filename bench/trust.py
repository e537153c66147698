"""Clients that stop reading (issue 14): what they cost a write, the server's memory, and a shutdown.

Each measurement starts the real server (``uvicorn issuebridge.app:app`` in a subprocess, with
uvloop and httptools, as docs/cli.md says to run it) on 127.0.0.1, with a 5,000-issue board
pushed through the API (its page snapshot is about 3.6 MB, as in the issue's review):

1. *Write latency*: a one-issue board pushed ``POST /api/dashboard/sync-issues``, from sending
   to the answer: with no other client; with 10 stalled MCP SSE sessions (each subscribed to
   ``dashboard://boards``, then sent the answers to large ``resources/read`` requests it never
   reads); and with 300 event streams that never read (half JSON, half page format). The first
   write after the clients stalled is shown apart: it is the one that meets them. Ratios are
   against the same server's writes just before its clients stalled (the machine is shared).
2. *RSS* (VmRSS) with no stream, then with the 300 non-reading streams open.
3. *Shutdown*: seconds from SIGTERM to exit with 20 streams whose clients never read, on the
   5,000-issue board and on a 10,000-issue board with 600-character titles (an 8 MB snapshot:
   more than the kernel's socket buffers take, so bytes stay in the server's).

Clients that never read are raw sockets with a 4 KB receive buffer. ``PYTHONPATH`` pointing at
another installed copy of issuebridge measures that copy instead (how the "before" figures in
BENCHMARKS.md were taken).

Usage: ``python -m bench.trust [--smoke]``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import socket
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from pydantic import TypeAdapter

from bench.common import machine, rss_kib
from issuebridge.github.mapping import issue_from_github
from issuebridge.records.issues import Issue
from testkit.fake_github import make_issue
from testkit.mcp_clients import INITIALIZE
from testkit.servers import ServerProcess, start_server

REPO = "bench/trust"
LABELS = [("bug", "d73a4a"), ("docs", "0075ca"), ("good first issue", "7057ff"), ("p1", "b60205"), ("ui", "c2e0c6")]


@dataclass(frozen=True)
class Sizes:
    issues: int
    sessions: int
    streams: int
    stuck: int
    writes: int
    big_issues: int
    big_title: int
    settle: float  # seconds the buffers are given to fill before a measurement (smoke: a token wait)


FULL = Sizes(issues=5_000, sessions=10, streams=300, stuck=20, writes=20, big_issues=10_000, big_title=600, settle=1.0)
SMOKE = Sizes(issues=50, sessions=2, streams=4, stuck=2, writes=2, big_issues=50, big_title=10, settle=0.05)


def board(count: int, title_length: int | None = None) -> dict[str, Any]:
    """A board as GitHub would fill it (labels, assignees, dates, links), in the API's shape."""
    adapter = TypeAdapter(Issue)
    issues = []
    for n in range(1, count + 1):
        title = None if title_length is None else f"{n} " + "x" * title_length
        item = make_issue(REPO, n, title=title, labels=[LABELS[n % 5]], assignees=["alice"] if n % 5 == 0 else None)
        issues.append(adapter.dump_python(issue_from_github(item), mode="json"))
    return {"repository": REPO, "issues": issues, "state": "all"}


def never_reading(port: int, request: str) -> socket.socket:
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", port))
    sock.sendall(request.encode())
    return sock


def stream_request(port: int, n: int) -> str:
    wire_format = "html" if n % 2 else "json"
    return f"GET /api/dashboard/events?format={wire_format} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n"


async def stalled_session(server: ServerProcess, http: httpx.AsyncClient) -> socket.socket:
    """An SSE session subscribed to every change, whose client reads its first event and no more."""
    sock = never_reading(server.port, f"GET /sse HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n\r\n")
    received = b""
    while (found := re.search(rb"session_id=([0-9a-f]{32})", received)) is None:
        received += await asyncio.to_thread(sock.recv, 4096)
    messages = f"/messages/?session_id={found[1].decode()}"
    await http.post(messages, json=INITIALIZE)
    await http.post(messages, json={"jsonrpc": "2.0", "method": "notifications/initialized"})
    subscribe = {"jsonrpc": "2.0", "id": 2, "method": "resources/subscribe", "params": {"uri": "dashboard://boards"}}
    await http.post(messages, json=subscribe)
    for n in range(4):  # about 1.5 MB each: more than the socket buffers take
        read = {"method": "resources/read", "params": {"uri": f"dashboard://boards/{REPO}"}}
        await http.post(messages, json={"jsonrpc": "2.0", "id": 10 + n, **read})
    return sock


async def writes(http: httpx.AsyncClient, count: int) -> list[float]:
    """Seconds for each of ``count`` one-issue pushes, one after another."""
    seconds = []
    for n in range(count):
        small = {"repository": f"bench/w{n}", "issues": [{"number": 1, "title": f"w {n}", "state": "open"}]}
        started = time.perf_counter()
        response = await http.post("/api/dashboard/sync-issues", json=small)
        seconds.append(time.perf_counter() - started)
        response.raise_for_status()
    return seconds


async def until_subscribed(http: httpx.AsyncClient, count: int, within: float = 60.0) -> int:
    """Until the server counts ``count`` open streams (``/healthz`` is the only way to tell from
    outside), or ``within`` seconds; how many it counts. A server may drop stuck streams itself
    (the one before issue 14 did, with an error, at the first heartbeat)."""
    deadline = time.monotonic() + within
    while (open_now := int((await http.get("/healthz")).json()["subscribers"])) < count:
        if time.monotonic() > deadline:
            break
        await asyncio.sleep(0.1)
    return open_now


def stop(server: ServerProcess, timeout: float) -> str:
    try:
        return f"{server.stop(timeout):.2f} s"
    except AssertionError:
        return f"over {timeout:.0f} s (killed)"


def show(seconds: list[float]) -> str:
    rest = seconds[1:] or seconds
    first, median, worst = (value * 1000 for value in (seconds[0], statistics.median(rest), max(rest)))
    return f"first {first:,.1f} ms, then median {median:,.1f} ms, max {worst:,.1f} ms"


async def scenario(workdir: Path, sizes: Sizes, kind: str) -> dict[str, Any]:
    """One fresh server, the board, then ``kind`` of stalled clients ("none", "sessions", "streams")."""
    env = {"ISSUEBRIDGE_DB": str(workdir / f"{kind}.db"), "ISSUEBRIDGE_RATE_LIMIT": "100000/minute"}
    env["ISSUEBRIDGE_STREAM_RATE_LIMIT"] = "100000/minute"  # a benchmark, not a churning client
    env["ISSUEBRIDGE_MCP_SESSIONS_PER_CLIENT"] = "1000"
    server = start_server(workdir, env)
    clients: list[socket.socket] = []
    result: dict[str, Any] = {}
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=120) as http:
            (await http.post("/api/dashboard/sync-issues", json=board(sizes.issues))).raise_for_status()
            await http.get("/")  # the page and its rows, once
            await writes(http, 2)  # warm
            result["baseline"] = await writes(http, sizes.writes)  # the same server, before any client stalls
            await asyncio.sleep(0.5 * sizes.settle)
            result["rss_before"] = rss_kib(server)
            if kind == "sessions":
                clients = [await stalled_session(server, http) for _ in range(sizes.sessions)]
                await asyncio.sleep(sizes.settle)  # the answers reach the socket buffers and fill them
            elif kind == "streams":
                clients = [never_reading(server.port, stream_request(server.port, n)) for n in range(sizes.streams)]
                result["open"] = await until_subscribed(http, sizes.streams)
                await asyncio.sleep(2 * sizes.settle)  # the snapshots go out, as far as each connection takes them
                result["rss_after"] = rss_kib(server)
            result["writes"] = await writes(http, sizes.writes)
        result["stop"] = stop(server, 30.0)
    finally:
        for client in clients:
            client.close()
        with contextlib.suppress(AssertionError):
            server.stop()
    return result


async def shutdown(workdir: Path, sizes: Sizes, big: bool) -> str:
    """Seconds from SIGTERM to exit with ``sizes.stuck`` streams whose clients never read."""
    env = {"ISSUEBRIDGE_DB": str(workdir / f"stop-{big}.db"), "ISSUEBRIDGE_RATE_LIMIT": "100000/minute"}
    env["ISSUEBRIDGE_STREAM_RATE_LIMIT"] = "100000/minute"
    server = start_server(workdir, env)
    clients: list[socket.socket] = []
    try:
        content = board(sizes.big_issues, sizes.big_title) if big else board(sizes.issues)
        async with httpx.AsyncClient(base_url=server.url, timeout=120) as http:
            (await http.post("/api/dashboard/sync-issues", json=content)).raise_for_status()
            clients = [never_reading(server.port, stream_request(server.port, n)) for n in range(sizes.stuck)]
            await until_subscribed(http, sizes.stuck)
            await asyncio.sleep(2 * sizes.settle)  # the snapshots go out, as far as each connection takes them
        return await asyncio.to_thread(stop, server, 30.0)
    finally:
        for client in clients:
            client.close()
        with contextlib.suppress(AssertionError):
            server.stop()


async def run(smoke: bool = False) -> None:
    sizes = SMOKE if smoke else FULL
    code = os.environ.get("PYTHONPATH") or "this checkout (installed)"
    print("## Trust: clients that stop reading")
    print(f"machine: {machine()}; load average {' '.join(f'{x:.2f}' for x in os.getloadavg())} at the start")
    print(f"server code: {code}; board: {sizes.issues:,} issues")
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        results = {kind: await scenario(workdir, sizes, kind) for kind in ("none", "sessions", "streams")}
        stops = {False: await shutdown(workdir, sizes, False)}
        # At smoke sizes the big board is no bigger than the other: one server fewer.
        stops[True] = "skipped in smoke mode" if smoke else await shutdown(workdir, sizes, True)
    none, sessions, streams = results["none"], results["sessions"], results["streams"]
    print(f"write, no other client:                 {show(none['writes'])}")
    print(f"write, {sizes.sessions} stalled MCP SSE sessions:      {show(sessions['writes'])}")
    print(f"write, {sizes.streams} non-reading event streams:   {show(streams['writes'])}")
    for name, result in (("sessions", sessions), ("streams", streams)):
        # Against the same server's writes just before its clients stalled: the machine is shared.
        baseline = statistics.median(result["baseline"])
        first, rest = result["writes"][0], statistics.median(result["writes"][1:] or result["writes"])
        print(
            f"  {name}: same server before they stalled, median {baseline * 1000:,.1f} ms; "
            f"ratio first {first / baseline:.1f}x, then {rest / baseline:.1f}x"
        )
    before, after = streams["rss_before"], streams["rss_after"]
    print(
        f"RSS: {before / 1024:,.0f} MiB before, {after / 1024:,.0f} MiB with {sizes.streams} non-reading streams "
        f"({after / before:.1f}x; {(after - before) / sizes.streams:,.0f} KiB per stream; "
        f"{streams['open']} of them open when counted)"
    )
    print(f"SIGTERM to exit, {sizes.streams} non-reading streams open: {streams['stop']}")
    print(f"SIGTERM to exit, {sizes.stuck} stuck streams, {sizes.issues:,}-issue board: {stops[False]}")
    big = f"{sizes.big_issues:,} issues, {sizes.big_title}-character titles"
    print(f"SIGTERM to exit, {sizes.stuck} stuck streams, {big}: {stops[True]}")
    if smoke:
        print("Smoke mode: the sizes are too small for these figures to mean anything.")


if __name__ == "__main__":
    asyncio.run(run("--smoke" in sys.argv))
