"""Search view benchmark: a 1,000-result view with GitHub answering each request after 100 ms,
its pages fetched concurrently against one at a time; and its warm refresh (every page asked
"changed?" at once, all answered 304).

Runs the real server (``uvicorn issuebridge.app:app`` in a subprocess) against the tests' fake
GitHub in a second process, on loopback only, and calls ``send_search_to_dashboard`` through the
MCP SDK's Streamable HTTP client. Usage: ``python -m bench.views [--smoke]``.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, NamedTuple

from mcp import Client

from bench.common import fake_github_process, machine
from testkit.fake_github import make_issue
from testkit.mcp_clients import TRANSPORTS
from testkit.servers import start_server

REPO = "bench/search"
QUERY = f"is:issue is:open repo:{REPO}"


class Size(NamedTuple):
    issues: int  # open issues the search finds: more than the 1,000 a search gives
    latency: float
    runs: int


async def search(client: Client) -> tuple[float, dict[str, Any]]:
    started = time.perf_counter()
    result = await client.call_tool("send_search_to_dashboard", {"query": QUERY})
    elapsed = time.perf_counter() - started
    assert not result.is_error and result.structured_content is not None, result.content
    return elapsed, dict(result.structured_content)


async def measure(
    workdir: Path, api_url: str, concurrency: int, runs: int
) -> tuple[list[float], list[float], dict[str, Any]]:
    """Cold searches (the view removed before each) and warm ones on a server with ``concurrency``."""
    env = {
        "GITHUB_API_URL": api_url,
        "ISSUEBRIDGE_DB": str(workdir / f"c{concurrency}.db"),
        "ISSUEBRIDGE_GITHUB_CONCURRENCY": str(concurrency),
        "ISSUEBRIDGE_RATE_LIMIT": "10000/minute",
    }
    server = start_server(workdir, env)
    cold, warm = [], []
    try:
        async with TRANSPORTS["streamable-http"](server.url) as client:
            _, answer = await search(client)  # one unmeasured search first, for both servers alike
            for _ in range(runs):
                await client.call_tool("remove_from_dashboard", {"board_or_panel_id": answer["board_id"]})
                seconds, answer = await search(client)
                assert answer["changed"]
                cold.append(seconds)
                seconds, again = await search(client)
                assert not again["changed"]
                warm.append(seconds)
    finally:
        server.stop()
    return cold, warm, answer


async def run(smoke: bool = False) -> None:
    size = Size(250, 0.0, 1) if smoke else Size(1500, 0.1, 5)
    items = [make_issue(REPO, n, labels=[("bug", "d73a4a")] if n % 3 else []) for n in range(1, size.issues + 1)]
    print(f"## Search views: {size.issues:,} matching issues, fake GitHub answering after {size.latency * 1000:.0f} ms")
    print(f"machine: {machine()}; median of {size.runs} runs after one warm-up; times from the tool call to its result")
    with fake_github_process({REPO: items}, size.latency) as api_url, tempfile.TemporaryDirectory() as tmp:
        sequential, sequential_warm, answer = await measure(Path(tmp), api_url, 1, size.runs)
        concurrent, warm, _ = await measure(Path(tmp), api_url, 8, size.runs)
    pages = -(-answer["item_count"] // 100)
    print()
    print(f"view: {answer['item_count']:,} results of {answer['total_count']:,} (truncated: {answer['truncated']}), "
          f"{pages} pages of 100")  # fmt: skip
    print()
    print("| search | sequential pages (concurrency 1) | concurrent pages (concurrency 8) | ratio |")
    print("| --- | ---: | ---: | ---: |")
    for label, one, many in (("cold", sequential, concurrent), ("warm, nothing changed", sequential_warm, warm)):
        slow, fast = statistics.median(one), statistics.median(many)
        print(f"| {label} | {slow * 1000:,.0f} ms | {fast * 1000:,.0f} ms | {slow / fast:.1f}x |")
    floor = (1 + -(-(pages - 1) // 8)) * size.latency
    print()
    one_at_a_time = pages * size.latency * 1000
    print(f"- the round trips alone at {size.latency * 1000:.0f} ms: {one_at_a_time:,.0f} ms one at a time, "
          f"{floor * 1000:,.0f} ms with the first page then 8 at a time")  # fmt: skip


if __name__ == "__main__":
    asyncio.run(run("--smoke" in sys.argv))
