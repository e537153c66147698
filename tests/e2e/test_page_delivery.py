"""How the page and its files leave the real server: gzip where it pays, never on a stream.

Every client here says ``Accept-Encoding: gzip`` (as browsers and httpx do), so the compression
middleware sees each request; the streams must still deliver each event as it happens.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import time

import httpx

from issuebridge.assets import STATIC
from testkit.mcp_clients import INITIALIZE
from testkit.sse import open_event_stream
from tests.e2e.test_stream import issue, push
from tests.inprocess import AppServer

GZIP = {"Accept-Encoding": "gzip, deflate, br, zstd"}


async def test_the_event_stream_is_never_compressed_and_events_arrive_at_once(server: AppServer) -> None:
    for wire_format in ("html", "json"):
        url = f"{server.url}/api/dashboard/events?format={wire_format}"
        async with open_event_stream(url, headers=GZIP) as stream:
            assert stream.response.headers["content-type"].startswith("text/event-stream")
            assert "content-encoding" not in stream.response.headers
            await stream.next()  # the snapshot
            for n in range(2):  # each event on its own, not held back until the next one
                started = time.perf_counter()
                await push(server.url, f"octo/{wire_format}", [issue(m, "x" * 1000) for m in range(1, n + 2)])
                event = await stream.next(wait=5)
                assert event.event in ("board", "board_delta", "issues_update")
                assert time.perf_counter() - started < 2.0


async def test_mcp_streams_are_never_compressed(server: AppServer) -> None:
    async with httpx.AsyncClient(base_url=server.url, headers=GZIP, timeout=10) as http:
        async with http.stream("GET", "/sse", headers={"Accept": "text/event-stream"}) as sse:
            assert sse.status_code == 200 and "content-encoding" not in sse.headers
            lines = sse.aiter_lines()
            first = await asyncio.wait_for(anext(lines), 5)  # the endpoint event, at once
            assert first == "event: endpoint"
        response = await http.post("/mcp", json=INITIALIZE, headers={"Accept": "application/json, text/event-stream"})
        assert response.status_code == 200 and "content-encoding" not in response.headers


async def test_the_installed_page_is_gzipped_and_its_files_cached(server: AppServer) -> None:
    await push(server.url, "octo/app", [issue(n) for n in range(1, 300)])
    static = STATIC
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
        page = await http.get("/", headers=GZIP)
        assert page.headers["content-encoding"] == "gzip"
        assert re.search(r"render;dur=[\d.]+", page.headers["server-timing"])
        plain = await http.get("/", headers={"Accept-Encoding": "identity"})
        assert "content-encoding" not in plain.headers and plain.text.count('class="issue"') == 299
        links = dict(re.findall(r'(?:href|src)="(/static/([\w.]+)\?v=[0-9a-f]+)"', page.text))
        assert sorted(links.values()) == ["dashboard.css", "dashboard.js", "early.js", "favicon.svg"]
        for url, name in links.items():
            asset = await http.get(url, headers=GZIP)
            assert asset.headers["cache-control"] == "public, max-age=31536000, immutable"
            assert asset.content == (static / name).read_bytes()
            assert url.endswith(hashlib.sha256(asset.content).hexdigest()[:16])
            unversioned = await http.get(f"/static/{name}")
            assert unversioned.headers["cache-control"] == "no-cache"
            revalidated = await http.get(f"/static/{name}", headers={"If-None-Match": unversioned.headers["etag"]})
            assert revalidated.status_code == 304
