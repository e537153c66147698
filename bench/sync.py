"""Sync benchmarks: cold sync (concurrent against sequential pagination), warm re-sync, memory per issue.

Runs the real server (``uvicorn issuebridge.app:app`` in a subprocess) against the tests' fake
GitHub in a second process, on loopback only, and calls ``send_issues_to_dashboard`` through the
MCP SDK's Streamable HTTP client while a JSON and an HTML (page) subscriber listen.
Usage: ``python -m bench.sync [--smoke]`` from the repo root (``make bench`` runs every benchmark).
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any, NamedTuple

from mcp import Client

from bench.common import fake_github_process, machine
from issuebridge.github.client import GitHubSource
from issuebridge.github.mapping import issue_from_github
from issuebridge.records.base import now
from issuebridge.records.issues import IssuesBoard
from testkit.fake_github import make_issue
from testkit.mcp_clients import TRANSPORTS
from testkit.servers import ServerProcess, start_server
from testkit.sse import EventStream, open_event_stream

REPO = "bench/big"


class Sample(NamedTuple):
    result: float  # seconds from the tool call to its result
    json: float  # ... to the JSON subscriber holding the board
    page: float  # ... to the page subscriber holding the board


class Size(NamedTuple):
    issues: int
    latency: float
    runs: int


async def arrival(stream: EventStream, wanted: set[str], started: float) -> tuple[float, int]:
    """Seconds from ``started`` until an event named in ``wanted`` arrives, and the bytes read until then."""
    received = 0
    while True:
        event = await stream.next(wait=120)
        received += len(event.data)
        if event.event in wanted:
            return time.perf_counter() - started, received


async def call(client: Client, name: str, args: dict[str, Any]) -> dict[str, Any]:
    result = await client.call_tool(name, args)
    assert not result.is_error and result.structured_content is not None, result.content
    return dict(result.structured_content)


async def sync_and_watch(server: ServerProcess, client: Client, board: set[str]) -> tuple[Sample, int, bool]:
    """One tool call, timed to its result and to each subscriber receiving ``board`` events."""
    events = f"{server.url}/api/dashboard/events"
    async with open_event_stream(events) as json_stream, open_event_stream(f"{events}?format=html") as page_stream:
        await json_stream.next()
        await page_stream.next()
        started = time.perf_counter()
        json_done = asyncio.create_task(arrival(json_stream, board, started))
        page_done = asyncio.create_task(arrival(page_stream, board, started))
        result = await call(client, "send_issues_to_dashboard", {"owner": "bench", "repo": "big"})
        returned = time.perf_counter() - started
        (json_at, json_bytes), (page_at, page_bytes) = await asyncio.gather(json_done, page_done)
    return Sample(returned, json_at, page_at), json_bytes + page_bytes, bool(result["changed"])


def median(samples: list[Sample], field: str) -> float:
    return float(statistics.median(getattr(sample, field) for sample in samples))


async def measure(workdir: Path, api_url: str, concurrency: int, size: Size) -> tuple[list[Sample], list[Sample], int]:
    """Cold syncs (the board removed before each) and warm re-syncs on a server with ``concurrency``."""
    env = {
        "GITHUB_API_URL": api_url,
        "ISSUEBRIDGE_DB": str(workdir / f"c{concurrency}.db"),
        "ISSUEBRIDGE_GITHUB_CONCURRENCY": str(concurrency),
        "ISSUEBRIDGE_RATE_LIMIT": "10000/minute",
    }
    server = start_server(workdir, env)
    try:
        async with TRANSPORTS["streamable-http"](server.url) as client:
            cold, warm = [], []
            warm_bytes = 0
            # One unmeasured sync first: the process's first large board (code paths, allocator,
            # SQLite's first big write) is slower than any after it, for both servers alike.
            await sync_and_watch(server, client, {"issues_update", "board"})
            for _ in range(size.runs):
                await call(client, "remove_from_dashboard", {"board_or_panel_id": f"issues:{REPO}"})
                sample, _, changed = await sync_and_watch(server, client, {"issues_update", "board"})
                assert changed
                cold.append(sample)
                sample, warm_bytes, changed = await sync_and_watch(server, client, {"sync_unchanged"})
                assert not changed
                warm.append(sample)
    finally:
        server.stop()
    return cold, warm, warm_bytes


async def github_alone(api_url: str, runs: int) -> float:
    """Median seconds for the same fetch in this process, with nothing else: no server, store,
    rendering or subscribers. What the fake GitHub and the 8-at-a-time pagination cost by
    themselves, and so the floor under a cold sync."""
    source = GitHubSource(api_url, None, timeout=60, max_items=10_000)
    samples = []
    for _ in range(runs + 1):  # the first is a warm-up
        started = time.perf_counter()
        await source.list_issues("bench", "big", "open")
        samples.append(time.perf_counter() - started)
    return float(statistics.median(samples[1:]))


def memory_per_issue(items: list[dict[str, Any]]) -> tuple[float, float]:
    """Bytes held per issue: as a board keeps them, and as GitHub's parsed JSON would be."""
    payload = json.dumps(items)
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    raw = json.loads(payload)
    raw_bytes = tracemalloc.get_traced_memory()[0] - before
    del raw
    before = tracemalloc.get_traced_memory()[0]
    board = IssuesBoard(
        repository=REPO, state="open", source="mcp", issues=[issue_from_github(i) for i in items], last_updated=now()
    )
    board_bytes = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    assert len(board.issues) == len(items)
    return board_bytes / len(items), raw_bytes / len(items)


async def run(smoke: bool = False) -> None:
    size = Size(200, 0.0, 1) if smoke else Size(5000, 0.1, 5)
    items = [make_issue(REPO, n, labels=[("bug", "d73a4a")] if n % 3 else []) for n in range(1, size.issues + 1)]
    print(f"## Sync: {size.issues:,} issues, fake GitHub answering after {size.latency * 1000:.0f} ms")
    print(f"machine: {machine()}; median of {size.runs} runs after one warm-up; times from the tool call")
    held, raw = memory_per_issue(items)  # first: before anything in this process has seen these labels
    with fake_github_process({REPO: items}, size.latency) as api_url, tempfile.TemporaryDirectory() as tmp:
        sequential, _, _ = await measure(Path(tmp), api_url, 1, size)
        concurrent, warm, warm_bytes = await measure(Path(tmp), api_url, 8, size)
        floor = await github_alone(api_url, size.runs)
    print()
    print("| sync | tool result | JSON subscriber | page subscriber |")
    print("| --- | ---: | ---: | ---: |")
    for label, samples in (
        ("cold, sequential pages (concurrency 1)", sequential),
        ("cold, concurrent pages (concurrency 8)", concurrent),
        ("warm re-sync, nothing changed", warm),
    ):
        cells = " | ".join(f"{median(samples, field) * 1000:,.0f} ms" for field in Sample._fields)
        print(f"| {label} | {cells} |")
    last = max(median(concurrent, "json"), median(concurrent, "page"))
    sequential_last = max(median(sequential, "json"), median(sequential, "page"))
    print()
    speed_up = sequential_last / last
    print(f"- cold sync to the last subscriber: {last * 1000:,.0f} ms, {speed_up:.1f}x faster than sequential")
    print(
        f"- the same fetch alone in this process (no server, store, rendering or subscribers): {floor * 1000:,.0f} ms"
    )
    print(f"- warm re-sync: {median(warm, 'result') * 1000:,.0f} ms to the result; the two subscribers received")
    print(f"  {warm_bytes:,} bytes of events in all (a cold sync sends the whole board)")
    print(f"- memory per issue held on a board: {held:,.0f} bytes, against {raw:,.0f} bytes for GitHub's parsed JSON")
    print(f"  ({raw / held:.1f}x less)")


if __name__ == "__main__":
    asyncio.run(run("--smoke" in sys.argv))
