"""Page benchmark: ``GET /`` with a 5,000-issue board, kept rows against the old way, same run.

Starts two real servers (uvicorn subprocesses) against the fake GitHub from the tests, on
127.0.0.1 only, and sends the same board to both with the MCP tool:

- *kept*: the server as shipped (``uvicorn issuebridge.app:app``): each board's rows are rendered
  once and kept, relative times filled in per load.
- *baseline*: the same app with every row rendered on every load, nothing kept
  (``testkit/every_row.py``). Same machine, same moment, so the ratio holds even when timings
  are noisy.

Runs are interleaved (kept, baseline, kept, ...) so background load hits both alike.

Usage, from the repo root: ``python -m bench.page`` (about a minute), or ``--smoke`` (a 50-issue
board, 2 runs, a few seconds; what CI runs, with no timing assertions).
"""

from __future__ import annotations

import asyncio
import gzip
import importlib
import os
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bench.common import machine
from testkit.fake_github import FakeGitHub, make_issue
from testkit.mcp_clients import TRANSPORTS
from testkit.servers import ServerProcess, start_server

REPO_ROOT = Path(__file__).resolve().parents[1]
REPO = "bench/page"
LABELS = [("bug", "d73a4a"), ("docs", "0075ca"), ("good first issue", "7057ff"), ("p1", "b60205"), ("ui", "c2e0c6")]
ENVS = ("kept", "baseline")
ENCODINGS = {"gzip": "gzip, deflate, br, zstd", "identity": "identity"}  # a browser's, and none


def github_items(count: int, changed: tuple[int, ...] = ()) -> list[dict[str, object]]:
    """Issues as GitHub sends them: one or two labels, some assignees and comments, open and closed."""
    return [
        make_issue(
            REPO,
            n,
            title=f"Changed {n}" if n in changed else None,
            state="closed" if n % 4 == 0 else "open",
            labels=[LABELS[n % 5]] + ([LABELS[(n + 2) % 5]] if n % 3 == 0 else []),
            assignees=["alice"] if n % 5 == 0 else None,
            comments=n % 7,
        )
        for n in range(1, count + 1)
    ]


def start_baseline(workdir: Path, env: dict[str, str]) -> ServerProcess:
    """The app over ``testkit/every_row.py``'s environment, served by uvicorn like the real one."""

    def command(fd: int) -> list[str]:
        code = (
            "import uvicorn; from issuebridge.app import compose; from issuebridge.services import Services; "
            "from issuebridge.settings import Settings; from testkit.every_row import baseline_environment; "
            "app = compose(Services.build(Settings.from_env(), env=baseline_environment())); "
            f"uvicorn.run(app, fd={fd})"
        )
        return [sys.executable, "-c", code]

    # The server runs from its own directory: testkit/ is found beside bench/.
    path = os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")]))
    return start_server(workdir, {**env, "PYTHONPATH": path}, command=command)


async def sync_board(server: ServerProcess) -> None:
    async with TRANSPORTS["streamable-http"](server.url) as client:
        result = await client.call_tool("send_issues_to_dashboard", {"owner": "bench", "repo": "page", "state": "all"})
    if result.is_error:
        raise RuntimeError(f"the sync failed: {result.content}")


def server_timing(response: httpx.Response, name: str) -> float:
    found = re.search(rf"\b{name};dur=([\d.]+)", response.headers.get("server-timing", ""))
    return float(found[1]) if found else float("nan")


@dataclass
class Samples:
    render: list[float] = field(default_factory=list)
    total: list[float] = field(default_factory=list)
    client: list[float] = field(default_factory=list)
    wire_bytes: int = 0
    page_bytes: int = 0


async def get_page(http: httpx.AsyncClient, accept_encoding: str, samples: Samples) -> None:
    """One ``GET /``: client time is from sending the request to the body's last byte on the wire."""
    started = time.perf_counter()
    async with http.stream("GET", "/", headers={"Accept-Encoding": accept_encoding}) as response:
        raw = b"".join([chunk async for chunk in response.aiter_raw()])
    samples.client.append((time.perf_counter() - started) * 1000)
    samples.render.append(server_timing(response, "render"))
    samples.total.append(server_timing(response, "total"))
    samples.wire_bytes = len(raw)
    encoded = response.headers.get("content-encoding")
    samples.page_bytes = len(gzip.decompress(raw) if encoded == "gzip" else raw)
    if response.status_code != 200 or (accept_encoding != "identity") != (encoded == "gzip"):
        raise RuntimeError(f"GET / answered {response.status_code} with Content-Encoding {encoded!r}")


def ms(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:.1f}"


def median(values: list[float]) -> str:
    spread = f" ({ms(min(values))}-{ms(max(values))})" if len(values) > 1 else ""
    return f"{ms(statistics.median(values))}{spread}"


def brotli_size(page: bytes) -> str:
    """What brotli (quality 5) would make of the page, if the module is installed; it is not served."""
    try:
        brotli = importlib.import_module("brotli")
    except ImportError:
        return "n/a (pip install brotli to see it)"
    return f"{len(brotli.compress(page, quality=5)):,}"


async def static_report(http: httpx.AsyncClient, page: str) -> list[str]:
    lines = []
    for url, name in re.findall(r'(?:href|src)="(/static/([\w.]+)\?v=[0-9a-f]+)"', page):
        versioned = await http.get(url, headers={"Accept-Encoding": ENCODINGS["gzip"]})
        plain = await http.get(f"/static/{name}")
        revalidated = await http.get(f"/static/{name}", headers={"If-None-Match": plain.headers.get("etag", "")})
        lines.append(
            f"| `{url}` | {versioned.headers.get('cache-control')} | {versioned.headers.get('content-encoding')} "
            f"| {plain.headers.get('cache-control')}, ETag {'yes' if 'etag' in plain.headers else 'NO'} "
            f"| {revalidated.status_code} |"
        )
    return lines


async def run(smoke: bool = False) -> None:
    count, runs = (50, 2) if smoke else (5000, 11)
    load_before = os.getloadavg()
    print(f"## Page: GET / with a {count:,}-issue board")
    print(
        f"machine: {machine()}, "
        f"load average {load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f} (1/5/15 min) at the start"
    )
    with FakeGitHub() as fake, tempfile.TemporaryDirectory() as workdir:
        fake.add_repo(REPO, github_items(count))
        servers: dict[str, ServerProcess] = {}
        envs = {name: {"GITHUB_API_URL": fake.url, "ISSUEBRIDGE_DB": f"{workdir}/{name}.db"} for name in ENVS}
        try:
            for name, start in (("kept", start_server), ("baseline", start_baseline)):
                servers[name] = start(Path(workdir), envs[name])
                await sync_board(servers[name])
            await measure(servers, count, runs)
            print()
            await report_first_loads(servers["kept"], envs["kept"], count, fake)
        finally:
            for server in servers.values():
                server.stop()
    load_after = os.getloadavg()
    print(f"load average at the end: {load_after[0]:.2f} {load_after[1]:.2f} {load_after[2]:.2f}")


async def measure(servers: dict[str, ServerProcess], count: int, runs: int) -> None:
    results = {(server, encoding): Samples() for server in servers for encoding in ENCODINGS}
    async with (
        httpx.AsyncClient(base_url=servers["kept"].url, timeout=60) as kept,
        httpx.AsyncClient(base_url=servers["baseline"].url, timeout=60) as baseline,
    ):
        clients = {"kept": kept, "baseline": baseline}
        for client in clients.values():  # one unmeasured load each: connections open, code paths warm
            await client.get("/")
        for _ in range(runs):
            for (server, encoding), samples in results.items():
                await get_page(clients[server], ENCODINGS[encoding], samples)

        print()
        print(f"GET / with one {count:,}-issue board: median of {runs} runs (min-max). render = the app's")
        print("Server-Timing `render` (entries to HTML); total = Server-Timing `total` (request to response")
        print("headers, gzip included); client = request sent to last body byte received, on loopback.")
        print()
        print("| rows | encoding | render ms | total ms | client ms | bytes on the wire |")
        print("| --- | --- | ---: | ---: | ---: | ---: |")
        for (server, encoding), samples in results.items():
            print(
                f"| {server} | {encoding} | {median(samples.render)} | {median(samples.total)} "
                f"| {median(samples.client)} | {samples.wire_bytes:,} |"
            )

        def ratio(metric: Callable[[Samples], list[float]], encoding: str) -> str:
            before = statistics.median(metric(results[("baseline", encoding)]))
            after = statistics.median(metric(results[("kept", encoding)]))
            return f"{before / after:.1f}x"

        gzipped, plain = results[("kept", "gzip")], results[("kept", "identity")]
        print()
        print(
            f"baseline / kept, same run: render {ratio(lambda s: s.render, 'gzip')}, "
            f"total {ratio(lambda s: s.total, 'gzip')}, client {ratio(lambda s: s.client, 'gzip')} (gzip); "
            f"client {ratio(lambda s: s.client, 'identity')} (identity)"
        )
        page = await kept.get("/", headers={"Accept-Encoding": "identity"})
        print(
            f"page bytes: {plain.page_bytes:,} uncompressed, {gzipped.wire_bytes:,} gzip "
            f"({plain.page_bytes / gzipped.wire_bytes:.0f}x smaller), brotli {brotli_size(page.content)}"
        )

        print()
        print("Static files (as linked by the page; then unversioned; then revalidated with its ETag):")
        print()
        print("| linked as | Cache-Control | Content-Encoding | unversioned | If-None-Match |")
        print("| --- | --- | --- | --- | --- |")
        for line in await static_report(kept, page.text):
            print(line)


async def first_render(server: ServerProcess) -> float:
    async with httpx.AsyncClient(base_url=server.url, timeout=60) as http:
        return server_timing(await http.get("/"), "render")


async def report_first_loads(server: ServerProcess, env: dict[str, str], count: int, fake: FakeGitHub) -> None:
    """The first page after a re-sync (rows rebuilt, the unchanged ones reused) and after a restart."""
    changed = (count // 2, count // 3, count // 5)
    fake.add_repo(REPO, github_items(count, changed=changed))
    await sync_board(server)
    print(
        f"kept, first GET / after a re-sync that changed {len(changed)} of {count:,} issues: "
        f"render {await first_render(server):,.1f} ms"
    )
    server.stop()
    started = time.perf_counter()
    restarted = start_server(server.log_path.parent, env)
    ready = time.perf_counter() - started
    try:
        render = await first_render(restarted)
    finally:
        restarted.stop()
    print(
        f"kept, restarted on its database: answered /healthz after {ready * 1000:,.0f} ms (stored boards' rows are "
        f"rendered before it serves), then first GET / render {render:,.1f} ms"
    )


if __name__ == "__main__":
    asyncio.run(run("--smoke" in sys.argv))
