"""Foundation benchmarks: a tool call's sync latency, the page's render time, and memory per issue.

Runs the real server (uvicorn subprocess) against the fake GitHub from the tests, on loopback only.
Usage: ``python -m bench.sync`` from the repo root (``make bench``).
"""

from __future__ import annotations

import asyncio
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

import httpx

from tests.conftest import ServerProcess, start_server
from tests.e2e.mcp_clients import TRANSPORTS
from tests.fake_github import FakeGitHub, make_issue
from tests.sse import EventStream, SseEvent, open_event_stream

RUNS = 3


def rss_kib(server: ServerProcess) -> int:
    for line in Path(f"/proc/{server.process.pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


async def sync_once(server: ServerProcess, repo: str) -> tuple[float, float]:
    """Seconds from the tool call to its result, and to the subscriber holding the board."""
    async with open_event_stream(f"{server.url}/api/dashboard/events") as stream:
        await stream.next()
        async with TRANSPORTS["streamable-http"](server.url) as client:
            started = time.perf_counter()
            result = await client.call_tool("send_issues_to_dashboard", {"owner": "bench", "repo": repo})
            returned = time.perf_counter() - started
            assert not result.is_error, result.content
        while (update := await stream.next(wait=120)).event == "sync_progress":
            pass
        received = time.perf_counter() - started
        assert update.event == "issues_update"
    return returned, received


async def next_change(stream: EventStream) -> SseEvent:
    """The next event that carries a change (progress events come before it)."""
    while (event := await stream.next(wait=60)).event == "sync_progress":
        pass
    return event


async def main() -> None:
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"{'issues':>7} {'latency':>8} {'pages':>6} {'tool result':>12} {'subscriber':>11}")
    with FakeGitHub() as fake, tempfile.TemporaryDirectory() as workdir:
        for count in (1000, 5000):
            fake.add_repo(f"bench/r{count}", [make_issue(f"bench/r{count}", n) for n in range(1, count + 1)])
        server = start_server(Path(workdir), {"GITHUB_API_URL": fake.url, "ISSUEBRIDGE_DB": f"{workdir}/b.db"})
        try:
            rss_before = rss_kib(server)
            for latency in (0.0, 0.1):
                fake.latency = latency
                for count in (1000, 5000):
                    samples = [await sync_once(server, f"r{count}") for _ in range(RUNS)]
                    returned = statistics.median(s[0] for s in samples)
                    received = statistics.median(s[1] for s in samples)
                    print(
                        f"{count:>7} {latency * 1000:>6.0f}ms {-(-count // 100):>6} "
                        f"{returned * 1000:>10.0f}ms {received * 1000:>9.0f}ms"
                    )
            rss_after = rss_kib(server)

            # A re-sync of the 5,000-issue board in which three issues changed.
            fake.latency = 0.0
            items = [make_issue("bench/r5000", n) for n in range(1, 5001)]
            for n in (10, 20, 30):
                items[-n] = make_issue("bench/r5000", n, title=f"Changed {n}")
            fake.add_repo("bench/r5000", items)
            events = f"{server.url}/api/dashboard/events"
            async with (
                open_event_stream(f"{events}?format=html") as page_stream,
                open_event_stream(f"{events}?format=json") as json_stream,
            ):
                await page_stream.next()
                await json_stream.next()
                await sync_once(server, "r5000")
                delta = await next_change(page_stream)
                whole = await next_change(json_stream)
            print(
                f"re-sync of 5,000 issues with 3 changed: page delta {len(delta.data):,} bytes, "
                f"JSON issues_update {len(whole.data):,} bytes ({len(whole.data) / len(delta.data):.0f}x)"
            )

            async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
                board = await http.get("/api/dashboard/issues", params={"repository": "bench/r5000"})
                per_issue = len(board.content) / 5000
                timings = []
                for _ in range(10):
                    started = time.perf_counter()
                    page = await http.get("/")
                    timings.append(time.perf_counter() - started)
            median_ms = statistics.median(timings) * 1000
            print(
                f"GET / with boards of 1,000 + 5,000 issues: median {median_ms:.0f} ms, "
                f"{len(page.content) / 1e6:.1f} MB uncompressed"
            )
            print(f"JSON per issue (API payload): {per_issue:.0f} bytes")
            print(f"server RSS: {rss_before / 1024:.0f} MiB at start, ", end="")
            print(f"{rss_after / 1024:.0f} MiB holding 6,000 issues")
        finally:
            server.stop()


if __name__ == "__main__":
    asyncio.run(main())
