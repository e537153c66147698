"""Event fan-out: how fast one change reaches every open dashboard stream, and what each stream costs.

Starts two servers in turn, each in its own uvicorn subprocess with uvloop and httptools, on
127.0.0.1 only:

- *ours*: the real server (``uvicorn issuebridge.app:app``), subscribers on
  ``GET /api/dashboard/events`` (JSON format), changes pushed with ``POST /api/dashboard/sync-issues``
  (a one-issue board whose issue is renamed each time: a ~0.5 KB ``issues_update`` event);
- *naive*: ``bench.naive_broadcast``, a plain sse-starlette broadcast with one queue per
  subscriber that JSON-encodes each event once per subscriber (the issue's baseline).

For each, subscribers are opened in batches up to 1, 1,000 and 10,000 and events are published
one at a time (the next once every subscriber has the previous one). The subscribers are cheap
raw asyncio protocols on uvloop in one client thread; each notes when an event's ``id:`` line
arrives.

*Latency* runs from the moment the server accepted the change to the moment the event reached
the last subscriber. The server stamps that moment itself: ours in the board's ``last_updated``
(taken just before the store write, so the store write is included: an upper bound), the naive
one right after parsing the POST. Both are wall-clock (CLOCK_REALTIME) readings, which every
process on a Linux machine shares, so they compare with the client's. The 1-subscriber row is
the fixed cost (store write, encoding, one send) that is not fan-out.

*Memory per subscriber* is the server's RSS (VmRSS) with 10,000 subscribers connected and
after the events, minus its RSS after a warm-up, divided by 10,000.

Usage: ``python -m bench.fanout [--smoke] [--runs=N] [--ablation]``. ``--smoke`` uses 20
subscribers and 3 events and makes no claims about speed; it is what CI runs. ``--ablation``
measures ours against itself without delivery from the publish call (``bench/delivery_variants.py``:
*queued*, and *plain* without hand-stepped sends) instead of against the naive server.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import resource
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from importlib import metadata
from pathlib import Path
from typing import Any, cast

import httpx
import uvloop

from bench.common import machine
from testkit.fake_github import FakeGitHub
from testkit.servers import ServerProcess, free_port, start_server

REPO_ROOT = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"
CONNECT_BATCH = 500  # connections opened at once; the server's listen backlog is 2048
STEP_TIMEOUT = 60.0  # no single step (a batch of connections, one event) may take longer

# An event's "id: N" line; chunked transfer encoding puts a CRLF before every frame.
ID_LINE = re.compile(rb"\nid: (\d+)\r")


@dataclass(frozen=True)
class Sizes:
    runs: int
    events_one: int  # events measured with a single subscriber (the fixed cost)
    mid: int  # subscribers for the latency target
    events_mid: int
    large: int  # subscribers for the capacity target
    events_large: int


FULL = Sizes(runs=3, events_one=20, mid=1_000, events_mid=200, large=10_000, events_large=20)
SMOKE = Sizes(runs=1, events_one=3, mid=10, events_mid=3, large=20, events_large=3)


# ---------------------------------------------------------------------------------------------
# The client: cheap subscribers
# ---------------------------------------------------------------------------------------------


class Arrivals:
    """When each event reached each subscriber: count, first and last time per event id."""

    def __init__(self) -> None:
        self.count: dict[int, int] = {}
        self.first: dict[int, float] = {}
        self.last: dict[int, float] = {}
        self.expected = 0
        self.waiting: dict[int, asyncio.Future[None]] = {}

    def arrived(self, event_id: int, at: float) -> None:
        count = self.count.get(event_id, 0) + 1
        self.count[event_id] = count
        if count == 1:
            self.first[event_id] = at
        self.last[event_id] = at
        if count == self.expected and (waiter := self.waiting.pop(event_id, None)) and not waiter.done():
            waiter.set_result(None)

    async def wait_for(self, event_id: int, within: float) -> None:
        if self.count.get(event_id, 0) >= self.expected:
            return
        waiter = self.waiting.setdefault(event_id, asyncio.get_running_loop().create_future())
        try:
            await asyncio.wait_for(asyncio.shield(waiter), within)
        except TimeoutError:
            got = self.count.get(event_id, 0)
            raise RuntimeError(f"event {event_id} reached {got} of {self.expected} subscribers in {within}s") from None


class Subscriber(asyncio.Protocol):
    """One ``GET`` of the event stream; notes the arrival of every event id, parses nothing else."""

    __slots__ = ("arrivals", "last_id", "opened", "request", "tail", "transport")

    def __init__(self, request: bytes, arrivals: Arrivals, opened: asyncio.Future[None]) -> None:
        self.request = request
        self.arrivals = arrivals
        self.opened = opened
        self.last_id = 0
        self.tail = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's transports do not subclass it
        self.transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        now = time.time()
        if not self.opened.done():
            if data.startswith(b"HTTP/1.1 200 "):
                self.opened.set_result(None)
            else:
                self.opened.set_exception(RuntimeError(f"the stream did not open: {data[:200]!r}"))
        text = self.tail + data
        for match in ID_LINE.finditer(text):
            event_id = int(match[1])
            if event_id > self.last_id:  # the tail may hold an id already counted
                self.last_id = event_id
                self.arrivals.arrived(event_id, now)
        self.tail = text[-24:]

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.opened.done():
            self.opened.set_exception(RuntimeError(f"the connection closed before the stream opened: {exc}"))
        self.transport = None

    def close(self) -> None:
        """Reset the connection (SO_LINGER 0): no TIME_WAIT, so thousands of ports are free again at once."""
        if self.transport is not None:
            sock = self.transport.get_extra_info("socket")
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.transport.close()


@dataclass
class Target:
    """A server under test, as the client sees it."""

    name: str
    server: ServerProcess
    stream_path: Callable[[], Awaitable[str]]  # the GET path for a new subscriber
    publish: Callable[[httpx.AsyncClient, int], Awaitable[tuple[int, float]]]  # -> (event id, accepted at)
    subscribers: list[Subscriber] = field(default_factory=list)

    def cpu_seconds(self) -> tuple[float, float]:
        """User and system CPU time the server process has used (robust to other load on the machine)."""
        fields = Path(f"/proc/{self.server.process.pid}/stat").read_text().rpartition(")")[2].split()
        tick = os.sysconf("SC_CLK_TCK")
        return int(fields[11]) / tick, int(fields[12]) / tick

    def rss_kib(self) -> int:
        for line in Path(f"/proc/{self.server.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise RuntimeError("no VmRSS")


@dataclass
class Result:
    """One run against one server."""

    one: list[float] = field(default_factory=list)  # seconds from acceptance to the only subscriber
    mid: list[float] = field(default_factory=list)  # ... to the last of `mid` subscribers
    mid_from_post: list[float] = field(default_factory=list)  # ... from sending the POST instead
    large: list[float] = field(default_factory=list)  # ... to the last of `large` subscribers
    cpu_mid: float = 0.0  # server CPU seconds per event per subscriber, with `mid` subscribers
    cpu_large: float = 0.0  # ... with `large` subscribers
    user_mid: float = 0.0  # the user-space part of cpu_mid: the Python side, not the kernel's
    connect_seconds: float = 0.0  # to open the `large` subscribers
    kib_per_subscriber_connected: float = 0.0
    kib_per_subscriber: float = 0.0  # after the events too
    event_bytes: int = 0


async def subscribers_on_server(http: httpx.AsyncClient) -> int:
    return int((await http.get("/healthz")).json()["subscribers"])


async def connect_up_to(target: Target, count: int, arrivals: Arrivals, http: httpx.AsyncClient) -> None:
    """Open subscribers in batches until ``count`` are connected and registered with the server."""
    loop = asyncio.get_running_loop()
    while len(target.subscribers) < count:
        batch = min(CONNECT_BATCH, count - len(target.subscribers))
        path = await target.stream_path()
        request = f"GET {path} HTTP/1.1\r\nHost: {HOST}:{target.server.port}\r\nAccept: text/event-stream\r\n\r\n"
        opened = [loop.create_future() for _ in range(batch)]
        for future in opened:
            subscriber = Subscriber(request.encode(), arrivals, future)
            target.subscribers.append(subscriber)
            await loop.create_connection(lambda s=subscriber: s, HOST, target.server.port)  # type: ignore[misc]
        await asyncio.wait_for(asyncio.gather(*opened), STEP_TIMEOUT)
    deadline = time.monotonic() + STEP_TIMEOUT
    while (registered := await subscribers_on_server(http)) != count:
        if time.monotonic() > deadline:
            raise RuntimeError(f"{target.name}: {registered} subscribers registered, expected {count}")
        await asyncio.sleep(0.05)


def disconnect_all(target: Target) -> None:
    for subscriber in target.subscribers:
        subscriber.close()
    target.subscribers.clear()


async def publish_and_wait(
    target: Target, http: httpx.AsyncClient, arrivals: Arrivals, change: int
) -> tuple[float, float]:
    """Seconds from acceptance, and from sending the POST, until every subscriber has the event."""
    arrivals.expected = len(target.subscribers)
    sent = time.time()
    event_id, accepted = await target.publish(http, change)
    await arrivals.wait_for(event_id, STEP_TIMEOUT)
    last = arrivals.last[event_id]
    await asyncio.sleep(0.01)  # let the server finish the request (MCP notifications, access log)
    return last - accepted, last - sent


async def measure(target: Target, sizes: Sizes) -> Result:
    """One run against one server (already started): the steps described in the module docstring."""
    result = Result()
    arrivals = Arrivals()
    change = 0

    async def publish_many(events: int, into: list[float], from_post: list[float] | None = None) -> None:
        nonlocal change
        for _ in range(events):
            change += 1
            accepted, sent = await publish_and_wait(target, http, arrivals, change)
            into.append(accepted)
            if from_post is not None:
                from_post.append(sent)

    base = f"http://{HOST}:{target.server.port}"
    async with httpx.AsyncClient(base_url=base, timeout=STEP_TIMEOUT) as http:
        try:
            # Warm-up: imports, caches and allocator arenas that the first streams would otherwise pay for.
            await connect_up_to(target, min(50, sizes.large), arrivals, http)
            await publish_many(3, [])
            disconnect_all(target)
            await asyncio.sleep(0.5)
            rss_before = target.rss_kib()

            await connect_up_to(target, 1, arrivals, http)
            await publish_many(sizes.events_one, result.one)
            await connect_up_to(target, sizes.mid, arrivals, http)
            user, system = target.cpu_seconds()
            await publish_many(sizes.events_mid, result.mid, result.mid_from_post)
            user_after, system_after = target.cpu_seconds()
            result.cpu_mid = (user_after + system_after - user - system) / sizes.events_mid / sizes.mid
            result.user_mid = (user_after - user) / sizes.events_mid / sizes.mid

            started = time.monotonic()
            await connect_up_to(target, sizes.large, arrivals, http)
            result.connect_seconds = time.monotonic() - started
            await asyncio.sleep(0.5)
            result.kib_per_subscriber_connected = (target.rss_kib() - rss_before) / sizes.large
            cpu = sum(target.cpu_seconds())
            await publish_many(sizes.events_large, result.large)
            result.cpu_large = (sum(target.cpu_seconds()) - cpu) / sizes.events_large / sizes.large
            await asyncio.sleep(0.5)
            result.kib_per_subscriber = (target.rss_kib() - rss_before) / sizes.large
            result.event_bytes = await event_size(target)
        finally:
            disconnect_all(target)
    return result


async def event_size(target: Target) -> int:
    """The size of one event frame as the subscribers receive it (without chunked framing)."""
    loop = asyncio.get_running_loop()
    received = bytearray()
    done: asyncio.Future[None] = loop.create_future()

    class Recorder(Subscriber):
        def data_received(self, data: bytes) -> None:
            if not self.opened.done():
                self.opened.set_result(None)
            received.extend(data)
            if ID_LINE.search(received) and received.endswith(b"\r\n\r\n\r\n") and not done.done():
                done.set_result(None)

    path = await target.stream_path()
    request = f"GET {path} HTTP/1.1\r\nHost: {HOST}\r\n\r\n".encode()
    opened: asyncio.Future[None] = loop.create_future()
    recorder = Recorder(request, Arrivals(), opened)
    await loop.create_connection(lambda: recorder, HOST, target.server.port)
    try:
        async with httpx.AsyncClient(base_url=f"http://{HOST}:{target.server.port}") as http:
            await asyncio.sleep(0.2)
            received.clear()
            await target.publish(http, 0)
            await asyncio.wait_for(done, STEP_TIMEOUT)
    finally:
        recorder.close()
    frame = received[received.index(b"\n") + 1 :]  # drop the chunk-size line
    return len(frame) - 2  # and the chunk's trailing CRLF


FLOOR_FRAME_BYTES = 420  # about the size of the events measured

# The reader side of `write_floor`, as another process: connects, then reads until every socket closes.
FLOOR_READER = """
import selectors, socket, sys
port, count = int(sys.argv[1]), int(sys.argv[2])
sockets = [socket.create_connection(("127.0.0.1", port)) for _ in range(count)]
selector = selectors.DefaultSelector()
for sock in sockets:
    selector.register(sock, selectors.EVENT_READ)
print("connected", flush=True)
while sockets:
    for key, _ in selector.select():
        if not key.fileobj.recv(65536):
            selector.unregister(key.fileobj)
            sockets.remove(key.fileobj)
"""


def write_floor(count: int, frame_bytes: int = FLOOR_FRAME_BYTES, rounds: int = 15) -> float:
    """Median seconds per ``socket.send`` of one frame, in a bare loop over ``count`` loopback sockets.

    Another process reads them, as the subscribers do. No server can deliver one event to one
    subscriber over TCP loopback on this machine in less; the kernel's share dominates.
    """
    with socket.socket() as listener:
        listener.bind((HOST, 0))
        listener.listen(count)
        listener.settimeout(STEP_TIMEOUT)
        command = [sys.executable, "-c", FLOOR_READER, str(listener.getsockname()[1]), str(count)]
        reader = subprocess.Popen(command, stdout=subprocess.PIPE)  # noqa: S603 (our own command)
        connections: list[socket.socket] = []
        try:
            connections = [listener.accept()[0] for _ in range(count)]
            assert reader.stdout is not None and reader.stdout.readline() == b"connected\n"
            frame = b"x" * frame_bytes
            samples = []
            for _ in range(rounds):
                started = time.perf_counter()
                for connection in connections:
                    connection.send(frame)
                samples.append((time.perf_counter() - started) / count)
                time.sleep(0.05)
            return statistics.median(samples)
        finally:
            for connection in connections:
                connection.close()
            reader.kill()
            reader.wait()


def in_client_thread(target: Target, sizes: Sizes) -> Result:
    """Run the client on its own uvloop event loop, whatever loop the caller runs."""
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(measure(target, sizes))


# ---------------------------------------------------------------------------------------------
# The servers
# ---------------------------------------------------------------------------------------------


def board(change: int) -> dict[str, Any]:
    """A one-issue board; each change renames the issue."""
    return {"repository": "bench/fanout", "issues": [{"number": 1, "title": f"Change {change}", "state": "open"}]}


def naive_event(change: int) -> dict[str, Any]:
    """What the naive server broadcasts: the same payload as our ``issues_update`` event for ``board``."""
    issue: dict[str, Any] = {"number": 1, "title": f"Change {change}", "state": "open", "labels": [], "author": None}
    issue |= {"assignees": [], "comments": 0, "created_at": None, "updated_at": None, "html_url": None}
    data: dict[str, Any] = {"id": "issues:bench/fanout", "source": "api", "last_updated": "2026-11-25T12:10:24.243938Z"}
    data |= {"revision": change, "repository": "bench/fanout", "truncated": False, "kind": "issues", "state": "all"}
    return {"type": "issues_update", "data": {**data, "issues": [issue]}}


@contextlib.contextmanager
def ours(workdir: Path, github_url: str, variant: str | None = None) -> Iterator[Target]:
    """The real server; with ``variant``, one of ``bench/delivery_variants.py``'s deliveries in it."""
    env = {
        "GITHUB_API_URL": github_url,
        "ISSUEBRIDGE_DB": str(workdir / "fanout.db"),
        "ISSUEBRIDGE_RATE_LIMIT": "100000/minute",
        # Every subscriber comes from 127.0.0.1: 10,000 "pages" on one address, opened in a burst.
        "ISSUEBRIDGE_STREAM_RATE_LIMIT": "1000000/minute",
    }
    if variant is None:
        server = start_server(workdir, env)
    else:

        def command(fd: int) -> list[str]:
            code = f"from bench.delivery_variants import serve; serve({variant!r}, {fd})"
            return [sys.executable, "-c", code]

        # The server runs from its own directory: bench/ is found beside it.
        path = os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")]))
        server = start_server(workdir, {**env, "PYTHONPATH": path}, command=command)
    revision = 0

    async def stream_path() -> str:
        # In step with the store, as a reconnecting page is: no snapshot to encode per subscriber.
        return f"/api/dashboard/events?format=json&last_event_id={revision}"

    async def publish(http: httpx.AsyncClient, change: int) -> tuple[int, float]:
        nonlocal revision
        response = await http.post("/api/dashboard/sync-issues", json=board(change))
        response.raise_for_status()
        answer = response.json()
        revision = int(answer["revision"])
        return revision, datetime.fromisoformat(answer["last_updated"]).timestamp()

    try:
        yield Target(variant or "ours", server, stream_path, publish)
    finally:
        server.stop()


@contextlib.contextmanager
def naive(workdir: Path) -> Iterator[Target]:
    port = free_port()
    log_path = workdir / f"naive-{port}.log"
    command = [sys.executable, "-m", "uvicorn", "bench.naive_broadcast:app", "--loop", "uvloop", "--http", "httptools"]
    command += ["--host", HOST, "--port", str(port)]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")]))}
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, cwd=workdir, env=env, stdout=log, stderr=log)  # noqa: S603 (our own command)
    server = ServerProcess(process, port, log_path)
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"the naive server exited with {process.returncode}:\n{server.log}")
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{server.url}/healthz", timeout=1).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError(f"the naive server did not start:\n{server.log}")
            time.sleep(0.1)

        async def stream_path() -> str:
            return "/events"

        async def publish(http: httpx.AsyncClient, change: int) -> tuple[int, float]:
            response = await http.post("/publish", json=naive_event(change))
            response.raise_for_status()
            answer = response.json()
            return int(answer["id"]), float(answer["accepted_at"])

        yield Target("naive", server, stream_path, publish)
    finally:
        server.stop()


# ---------------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------------


def percentile(samples: list[float], p: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(samples)
    return ordered[max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))]


# (label, key, unit) of each reported figure, in table order; "ms" figures are stored in seconds.
COLUMNS = [
    ("1 sub p50", "one p50", "ms"),
    ("{mid} subs p50", "mid p50", "ms"),
    ("{mid} subs p99", "mid p99", "ms"),
    ("{mid} subs p99 from POST", "mid p99 from POST", "ms"),
    ("{large} subs p50", "large p50", "ms"),
    ("{large} subs max", "large max", "ms"),
    ("CPU/delivery at {mid}", "cpu mid", "us"),
    ("of which user", "user mid", "us"),
    ("CPU/delivery at {large}", "cpu large", "us"),
    ("KiB/sub", "KiB/sub", "KiB"),
    ("connect {large}", "connect s", "s"),
]


def figures(result: Result) -> dict[str, float]:
    return {
        "one p50": percentile(result.one, 50),
        "mid p50": percentile(result.mid, 50),
        "mid p99": percentile(result.mid, 99),
        "mid p99 from POST": percentile(result.mid_from_post, 99),
        "large p50": percentile(result.large, 50),
        "large max": max(result.large),
        "cpu mid": result.cpu_mid,
        "user mid": result.user_mid,
        "cpu large": result.cpu_large,
        "KiB/sub": result.kib_per_subscriber,
        "connect s": result.connect_seconds,
    }


def show(value: float, unit: str) -> str:
    if unit == "ms":
        return f"{value * 1000:,.1f} ms"
    if unit == "us":
        return f"{value * 1e6:,.1f} us"
    return f"{value:,.1f} {unit}"


def load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def print_report(sizes: Sizes, results: dict[str, list[Result]], floors: dict[int, float]) -> None:
    names = {"mid": f"{sizes.mid:,}", "large": f"{sizes.large:,}"}
    print(
        f"""
Medians over {sizes.runs} run(s), each run with fresh server processes. Columns:
- "N subs p50/p99/max": ms from the server accepting a change to its event reaching the last of N
  subscribers (percentiles over the events of a run). "from POST": from the client sending the POST.
- "CPU/delivery": server CPU time (user+system) per event per subscriber while publishing, the
  POST's own handling included. Less sensitive than the latencies to other load on the machine.
  "of which user": the part in user space (Python, uvloop); the rest is the kernel's (mostly TCP).
- "KiB/sub": server RSS growth per subscriber with {names["large"]} connected, after the events.
- "connect": seconds to open the {names["large"]} subscribers, in batches of {CONNECT_BATCH}.
"""
    )
    print("| server | " + " | ".join(label.format(**names) for label, _, _ in COLUMNS) + " |")
    print("| --- |" + " ---: |" * len(COLUMNS))
    medians: dict[str, dict[str, float]] = {}
    for name, runs in results.items():
        per_run = [figures(r) for r in runs]
        medians[name] = {key: statistics.median(f[key] for f in per_run) for key in per_run[0]}
        print(f"| {name} | " + " | ".join(show(medians[name][key], unit) for _, key, unit in COLUMNS) + " |")
    ours = medians["ours"]
    for other in [name for name in medians if name != "ours"]:
        ratios = [f"{medians[other][key] / ours[key]:.2f}x" if ours[key] > 0 else "-" for _, key, _ in COLUMNS]
        print(f"| {other} / ours | " + " | ".join(ratios) + " |")
    print()
    print(f"Event frame sizes: {', '.join(f'{name} {runs[0].event_bytes} bytes' for name, runs in results.items())}.")
    mid_floor, large_floor = floors[sizes.mid] * sizes.mid, floors[sizes.large] * sizes.large
    print(
        f"Floor: a bare Python loop of socket.send() of a {FLOOR_FRAME_BYTES}-byte frame to loopback sockets that "
        f"another process reads takes {show(mid_floor, 'ms')} for {names['mid']} sockets and "
        f"{show(large_floor, 'ms')} for {names['large']} (median of {sizes.runs} run(s)): no server here "
        "delivers an event to that many subscribers over TCP in less. The kernel's share dominates it."
    )
    if sizes == SMOKE:
        print("Smoke mode: the sizes are too small for these figures to mean anything.")
    else:
        print(
            f"Targets (ours): {names['mid']} subscribers p99 {show(ours['mid p99'], 'ms')} (<= 15 ms); "
            f"{names['large']} subscribers p50 {show(ours['large p50'], 'ms')} (<= 250 ms), "
            f"{ours['KiB/sub'] * 1.024:.1f} KB each (<= 25 KB)."
        )
    print("Per run:")
    for name, runs in results.items():
        for number, result in enumerate(runs, 1):
            f = figures(result)
            print(f"  {name} {number}: " + ", ".join(f"{key} {show(f[key], unit)}" for _, key, unit in COLUMNS))


async def run(smoke: bool = False, runs: int | None = None, ablation: bool = False) -> None:
    sizes = SMOKE if smoke else FULL
    if runs is not None:
        sizes = Sizes(runs, *[getattr(sizes, f) for f in ("events_one", "mid", "events_mid", "large", "events_large")])
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:  # the servers started below inherit the raised limit
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    needed = sizes.large + 100
    if hard < needed:
        raise RuntimeError(f"the open-files limit is {hard}; {needed} are needed (ulimit -n)")
    print("## Fan-out: one change to many open event streams")
    print(f"machine: {machine()}, uvloop {metadata.version('uvloop')}; load average {load()} at start")
    print(f"subscribers: 1, {sizes.mid:,}, {sizes.large:,}; runs: {sizes.runs}")
    names = ["ours", "queued", "plain"] if ablation else ["ours", "naive"]
    results: dict[str, list[Result]] = {name: [] for name in names}
    floors: dict[int, list[float]] = {sizes.mid: [], sizes.large: []}
    with FakeGitHub() as fake, tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        for run_number in range(sizes.runs):
            for count, samples in floors.items():
                samples.append(await asyncio.to_thread(write_floor, count))
                print(
                    f"run {run_number + 1} floor: {show(samples[-1], 'us')} per write to {count:,} sockets "
                    f"(load average {load()})",
                    flush=True,
                )
            # Rotate the order, so that no server always runs on a warmer (or busier) machine.
            order = names[run_number % len(names) :] + names[: run_number % len(names)]
            for name in order:
                variant = None if name == "ours" else name
                with naive(workdir) if name == "naive" else ours(workdir, fake.url, variant) as target:
                    result = await asyncio.to_thread(in_client_thread, target, sizes)
                results[name].append(result)
                f = figures(result)
                print(
                    f"run {run_number + 1} {name}: {sizes.mid:,} subs p99 {show(f['mid p99'], 'ms')}, "
                    f"{sizes.large:,} subs p50 {show(f['large p50'], 'ms')}, "
                    f"CPU/delivery {show(f['cpu mid'], 'us')}, {f['KiB/sub']:.1f} KiB/sub (load average {load()})",
                    flush=True,
                )
    print_report(sizes, results, {count: statistics.median(samples) for count, samples in floors.items()})


if __name__ == "__main__":
    runs_arg = next((int(a.split("=", 1)[1]) for a in sys.argv if a.startswith("--runs=")), None)
    asyncio.run(run("--smoke" in sys.argv, runs_arg, "--ablation" in sys.argv))
