"""Workers benchmark: how long a write takes to reach a page, in one process and across two on Redis.

Three real servers (uvicorn subprocesses on 127.0.0.1) and a redis-server of their own:

- *sqlite*: one process, as shipped by default; the write and the page both on it.
- *redis, same worker*: two processes on one Redis; the write and the page on the first.
- *redis, other worker*: the write on the first, the page on the second.

Each run pushes a board whose every row differs from the last (``POST /api/dashboard/sync-issues``)
and times, from sending the POST, until the POST is answered and until each page's JSON event
stream has the whole board event. Setups alternate run by run, so background load hits all alike.

Usage, from the repo root: ``python -m bench.workers`` (about a minute), or ``--smoke`` (small
boards, 2 runs, a few seconds; what CI runs, with no timing assertions).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path

import httpx

from bench.common import machine
from testkit.servers import RedisServer, ServerProcess, start_server
from testkit.sse import EventStream, open_event_stream

REPO = "bench/workers"


def board(count: int, run: int) -> dict[str, object]:
    issues = [{"number": n, "title": f"Run {run}: issue {n}", "state": "open"} for n in range(1, count + 1)]
    return {"repository": REPO, "issues": issues}


@asynccontextmanager
async def page(server: ServerProcess) -> AsyncIterator[EventStream]:
    """A page's JSON event stream, past its first snapshot."""
    async with open_event_stream(f"{server.url}/api/dashboard/events") as stream:
        await stream.next(30)
        yield stream


async def one_write(
    http: httpx.AsyncClient, writer: ServerProcess, pages: dict[str, EventStream], body: dict[str, object]
) -> dict[str, float]:
    """Milliseconds from sending the POST to its answer ("post") and to each page's event."""
    started = time.perf_counter()
    arrivals = {name: asyncio.create_task(stream.next(60)) for name, stream in pages.items()}
    response = await http.post(f"{writer.url}/api/dashboard/sync-issues", json=body)
    timings = {"post": (time.perf_counter() - started) * 1000}
    response.raise_for_status()
    for name, arrival in arrivals.items():
        await arrival
        timings[name] = (time.perf_counter() - started) * 1000
    return timings


def summary(samples: list[float]) -> str:
    return f"{statistics.median(samples):7.1f} ms ({min(samples):.1f}-{max(samples):.1f})"


async def measure(servers: dict[str, ServerProcess], count: int, runs: int) -> None:
    setups = {
        "sqlite": (servers["sqlite"], {"sqlite, same process": servers["sqlite"]}),
        "redis": (servers["first"], {"redis, same worker": servers["first"], "redis, other worker": servers["second"]}),
    }
    results: dict[str, list[float]] = {}
    async with AsyncExitStack() as stack, httpx.AsyncClient(timeout=60) as http:
        streams = {
            setup: (writer, {name: await stack.enter_async_context(page(server)) for name, server in pages.items()})
            for setup, (writer, pages) in setups.items()
        }
        for run in range(runs + 1):  # run 0 warms connections and code paths, unmeasured
            for setup, (writer, pages) in streams.items():
                timings = await one_write(http, writer, pages, board(count, run))
                if run:
                    for name, value in timings.items():
                        results.setdefault(f"{setup}: {name}" if name == "post" else name, []).append(value)
    print(f"\n{count:,}-issue board, median of {runs} runs (min-max), from sending the POST:")
    for name, samples in results.items():
        print(f"  {name:<24} {summary(samples)}")
    baseline = statistics.median(results["sqlite, same process"])
    for name in ("redis, same worker", "redis, other worker"):
        print(f"  {name} / sqlite: {statistics.median(results[name]) / baseline:.2f}x")


async def run(smoke: bool = False) -> None:
    sizes, runs = ((20, 200), 2) if smoke else ((100, 5000), 15)
    load = os.getloadavg()
    print("## Workers: a write reaching a page, one process (SQLite) and two processes on Redis")
    print(f"machine: {machine()}, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} (1/5/15 min) at the start")
    if shutil.which("redis-server") is None:
        print("skipped: redis-server is not installed (apt-get install redis-server)")
        return
    with tempfile.TemporaryDirectory() as workdir:
        redis = RedisServer(Path(workdir))
        url = redis.fresh_url()
        env = {"GITHUB_API_URL": "http://127.0.0.1:9", "ISSUEBRIDGE_RATE_LIMIT": "100000/minute"}
        servers: dict[str, ServerProcess] = {}
        try:
            servers["sqlite"] = start_server(Path(workdir), {**env, "ISSUEBRIDGE_DB": f"{workdir}/b.db"})
            for name in ("first", "second"):
                servers[name] = start_server(Path(workdir), {**env, "ISSUEBRIDGE_REDIS_URL": url})
            for count in sizes:
                await measure(servers, count, runs)
        finally:
            for server in servers.values():
                server.stop()
            redis.stop()
    load = os.getloadavg()
    print(f"load average at the end: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")


if __name__ == "__main__":
    asyncio.run(run("--smoke" in sys.argv))
