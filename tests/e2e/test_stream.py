"""The event stream end to end: deltas, replay after a reconnect or a restart, and both formats."""

from __future__ import annotations

import asyncio
import contextlib
import re
import socket
from pathlib import Path
from typing import Any

import httpx
import pytest

from issuebridge.app import create_app
from issuebridge.live.delivery import STALL_BYTES
from issuebridge.settings import Settings
from testkit.servers import Listener
from testkit.sse import EventStream, open_event_stream
from tests.inprocess import AppServer, Served, never_reading_client, serving, start_app, until


def issue(number: int, title: str | None = None, **fields: Any) -> dict[str, Any]:
    return {"number": number, "title": title or f"Issue {number}", "state": "open", **fields}


async def push(base_url: str, repository: str, issues: list[dict[str, Any]]) -> int:
    async with httpx.AsyncClient(base_url=base_url) as http:
        response = await http.post("/api/dashboard/sync-issues", json={"repository": repository, "issues": issues})
    assert response.status_code == 200, response.text
    return int(response.json()["revision"])


async def read_until_id(stream: EventStream, event_id: str) -> list[Any]:
    events = []
    while True:
        event = await stream.next()
        events.append(event)
        if event.id == event_id:
            return events


async def test_a_resync_sends_the_page_only_what_changed(server: AppServer) -> None:
    before = [issue(n, labels=[{"name": "bug", "color": "d73a4a"}]) for n in range(1, 1001)]
    await push(server.url, "octo/app", before)
    after = [i for i in before if i["number"] != 7]  # 7 removed
    after[0] = issue(1, "Renamed <b>one</b>")  # 1 changed
    after.append(issue(5000, "Brand new"))  # 5000 added

    async with (
        open_event_stream(f"{server.url}/api/dashboard/events?format=html&last_event_id=1") as page,
        open_event_stream(f"{server.url}/api/dashboard/events?last_event_id=1") as seed,
    ):
        await push(server.url, "octo/app", after)
        delta = await page.next()
        full = await seed.next()

    assert delta.event == "board_delta" and delta.id == "2"
    data = delta.json()["data"]
    assert data["id"] == "issues:octo/app" and data["group"] == "octo/app" and data["count"] == 1000
    assert [row["number"] for row in data["added"]] == [5000]
    assert [row["number"] for row in data["changed"]] == [1]
    assert data["removed"] == [7]
    assert "Renamed &lt;b&gt;one&lt;/b&gt;" in data["changed"][0]["html"]
    assert 'data-number="5000"' in data["added"][0]["html"]
    assert "1000" in data["header_html"] and "<svg" in data["summary_html"]
    # Seed-format clients still get the whole board, as before.
    assert full.event == "issues_update" and full.id == "2"
    assert len(full.json()["data"]["issues"]) == 1000
    # Three rows travel, not a thousand: past the header and the charts (a board's size whatever
    # its rows), what travels is under a hundredth of the whole board (three rows of a thousand).
    rows_part = len(delta.data) - len(data["header_html"]) - len(data["summary_html"])
    assert rows_part * 100 < len(full.data)
    assert len(delta.data) * 20 < len(full.data)


async def test_a_new_board_reaches_the_page_whole(server: AppServer) -> None:
    async with open_event_stream(f"{server.url}/api/dashboard/events?format=html") as page:
        snapshot = await page.next()
        assert snapshot.event == "snapshot" and snapshot.retry == 2000
        assert snapshot.json()["data"] == {"html": ""}
        await push(server.url, "octo/new", [issue(1, "<img src=x onerror=alert(1)>")])
        board = await page.next()
    assert board.event == "board" and board.id == "1"
    html = board.json()["data"]["html"]
    assert html.startswith('<section class="entry board" data-id="issues:octo/new" data-group="octo/new"')
    assert "&lt;img src=x onerror=alert(1)&gt;" in html and "<img" not in html


@pytest.mark.usefixtures("backend")  # resumed from the revisions the store numbers and reports
async def test_a_reconnecting_client_receives_exactly_what_it_missed(server: AppServer) -> None:
    for n in range(1, 4):
        await push(server.url, f"octo/r{n}", [issue(n)])
    url = f"{server.url}/api/dashboard/events"
    # The browser's EventSource sends the header when it reconnects by itself.
    async with open_event_stream(url, headers={"Last-Event-ID": "1"}) as stream:
        missed = [await stream.next(), await stream.next()]
        assert [(e.event, e.id) for e in missed] == [("issues_update", "2"), ("issues_update", "3")]
        await push(server.url, "octo/r4", [issue(4)])
        assert (await stream.next()).id == "4"  # then live, with nothing repeated
    async with open_event_stream(url, headers={"Last-Event-ID": "4"}) as stream:
        await push(server.url, "octo/r5", [issue(5)])
        assert (await stream.next()).id == "5"  # in step: no snapshot first
    async with open_event_stream(f"{url}?last_event_id=3", headers={"Last-Event-ID": "4"}) as stream:
        assert (await stream.next()).id == "5"  # the header wins over the query parameter


@pytest.mark.usefixtures("backend")  # resumed from the revisions the store numbers and reports
async def test_a_gap_older_than_the_history_gets_a_snapshot(tmp_path: Path, server_env: dict[str, str]) -> None:
    server = start_app({**server_env, "ISSUEBRIDGE_EVENT_HISTORY": "2"})
    try:
        for n in range(1, 6):
            await push(server.url, f"octo/r{n}", [issue(n)])
        async with open_event_stream(f"{server.url}/api/dashboard/events?last_event_id=3") as stream:
            assert [(await stream.next()).id for _ in range(2)] == ["4", "5"]
        async with open_event_stream(f"{server.url}/api/dashboard/events?last_event_id=2") as stream:
            snapshot = await stream.next()
        assert snapshot.event == "initial_data" and snapshot.id == "5"
        assert len(snapshot.json()["data"]["boards"]) == 5
        async with open_event_stream(f"{server.url}/api/dashboard/events?last_event_id=99") as stream:
            assert (await stream.next()).event == "initial_data"  # an id this server never issued
    finally:
        server.stop()


@pytest.mark.usefixtures("backend")  # what the restart keeps, and the revisions it resumes from
async def test_after_a_restart_clients_catch_up_from_the_store(server_env: dict[str, str], listener: Listener) -> None:
    first = start_app(server_env, listener=listener)
    await push(first.url, "octo/one", [issue(1)])
    await push(first.url, "octo/two", [issue(2)])
    first.stop()
    second = start_app(server_env, listener=listener)
    try:
        # In step with the last revision before the restart: nothing to send, then live.
        async with open_event_stream(f"{second.url}/api/dashboard/events?format=html&last_event_id=2") as page:
            assert await push(second.url, "octo/one", [issue(1), issue(3)]) == 3
            delta = await page.next()
            assert delta.event == "board_delta" and delta.id == "3"
        # Behind: the history did not survive the restart, so a snapshot of what the store holds.
        async with open_event_stream(f"{second.url}/api/dashboard/events?format=html&last_event_id=1") as page:
            snapshot = await page.next()
        assert snapshot.event == "snapshot" and snapshot.id == "3"
        html = snapshot.json()["data"]["html"]
        assert re.findall(r'<section class="entry board" data-id="([^"]+)"', html) == [
            "issues:octo/one",
            "issues:octo/two",
        ]
    finally:
        second.stop()


async def test_an_unknown_format_is_refused_and_head_gets_headers_only(server: AppServer) -> None:
    async with httpx.AsyncClient(base_url=server.url, timeout=5) as http:
        response = await http.get("/api/dashboard/events?format=xml")
        assert response.status_code == 400 and "format must be one of html, json" in response.json()["error"]
        head = await http.head("/api/dashboard/events")  # answered at once, not a stream that never ends
        assert head.status_code == 200 and head.headers["content-type"].startswith("text/event-stream")
        assert head.headers["cache-control"] == "no-store" and head.content == b""
        assert (await http.get("/healthz")).json()["subscribers"] == 0


def ids_until_end(sock: socket.socket) -> list[int]:
    """Read a raw event stream until its final chunk; the ids of the events it carried, in order."""
    data = bytearray()
    sock.settimeout(10)
    while not data.endswith(b"\r\n0\r\n\r\n"):
        chunk = sock.recv(1 << 20)
        if not chunk:
            break
        data += chunk
    return [int(n) for n in re.findall(rb"\nid: (\d+)\r\n", data)]


async def test_a_stalled_subscriber_is_dropped_without_slowing_the_others(
    tmp_path: Path, server_env: dict[str, str]
) -> None:
    server = start_app({**server_env, "ISSUEBRIDGE_RATE_LIMIT": "100000/minute"})
    stalled = socket.socket()
    try:
        stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # a small window: buffers fill fast
        stalled.connect(("127.0.0.1", server.port))
        stalled.sendall(b"GET /api/dashboard/events?last_event_id=0 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        async with (
            open_event_stream(f"{server.url}/api/dashboard/events?last_event_id=0") as reader,
            httpx.AsyncClient(base_url=server.url) as http,
        ):
            for _ in range(100):  # until both streams are open on the server
                if (await http.get("/healthz")).json()["subscribers"] == 2:
                    break
                await asyncio.sleep(0.05)
            # About 8 MB of events, more than the stalled client's socket buffers and uvicorn's hold:
            # its stream has to wait, and the events after that queue for it in the hub.
            for n in range(1, 41):
                revision = await push(server.url, "octo/big", [issue(i, f"{n} " + "x" * 300) for i in range(1, 501)])
                assert (await reader.next()).id == str(revision)  # the reader is not held up
            # Small events from now on, until the stalled subscriber's queue (256) overflows.
            for n in range(1, 301):
                revision = await push(server.url, "octo/small", [issue(1, str(n))])
                assert (await reader.next()).id == str(revision)
                if (await http.get("/healthz")).json()["subscribers"] == 1:
                    break
            assert (await http.get("/healthz")).json()["subscribers"] == 1, "the stalled subscriber was not dropped"
            # The stalled client reads at last: what it had received, in order and without gaps,
            # then the end of its stream (it would reconnect with Last-Event-ID and catch up).
            received = await asyncio.to_thread(ids_until_end, stalled)
            assert received == list(range(1, len(received) + 1)) and len(received) >= 10
            await push(server.url, "octo/after", [issue(1)])
            assert (await reader.next()).event == "issues_update"  # the reader is still live
    finally:
        stalled.close()
        server.stop()


# What one stream may cost, and how fast streams may be opened (issue 14, items 8, 11 and 12),
# against a real server in the test's own loop.


def live_app(tmp_path: Path, **overrides: Any) -> Any:
    return create_app(Settings(db_path=tmp_path / "boards.db", rate_limit="100000/minute", **overrides))


async def raw_stream(port: int, path: str = "/api/dashboard/events") -> socket.socket:
    """A client that asks for the event stream and then never reads."""
    return await never_reading_client(port, path)


def write_buffers(served: Served) -> list[int]:
    return [c.transport.get_write_buffer_size() for c in list(served.server.server_state.connections)]


async def test_a_stream_that_never_reads_holds_a_piece_not_the_snapshot(tmp_path: Path) -> None:
    app = live_app(tmp_path, stream_send_timeout=60.0)
    async with serving(app, send_buffer=4096) as served:
        await push(served.url, "octo/big", [issue(n, "a long title " * 20) for n in range(1, 2001)])
        stuck = [await raw_stream(served.port, f"/api/dashboard/events?format={f}") for f in ("json", "html") * 3]
        try:
            # Each snapshot is over a megabyte; each connection holds at most one piece past
            # uvicorn's high-water mark (and the chunk framing of that piece).
            await until(lambda: sum(1 for size in write_buffers(served) if size > 0) == len(stuck))
            assert max(write_buffers(served)) <= STALL_BYTES + 16
            async with open_event_stream(f"{served.url}/api/dashboard/events?last_event_id=1") as reader:
                await push(served.url, "octo/after", [issue(1)])
                assert (await reader.next()).id == "2"  # the others are not held up
        finally:
            for sock in stuck:
                sock.close()


async def test_a_stream_whose_client_takes_nothing_is_cut_at_its_deadline(tmp_path: Path) -> None:
    app = live_app(tmp_path, stream_send_timeout=0.3)
    async with serving(app, send_buffer=4096) as served:
        await push(served.url, "octo/big", [issue(n, "a long title " * 20) for n in range(1, 2001)])
        async with open_event_stream(f"{served.url}/api/dashboard/events?last_event_id=1") as reader:
            stuck = await raw_stream(served.port)
            try:
                await until(lambda: app.state.services.hub.subscriber_count == 2)
                # Dropped and its connection cut: nothing of it is held any more.
                await until(lambda: app.state.services.hub.subscriber_count == 1)
                await until(lambda: len(served.server.server_state.connections) == 1)
                await push(served.url, "octo/after", [issue(1)])
                assert (await reader.next()).id == "2"
                # The client, reading at last, finds its stream cut short: no end chunk, then EOF.
                received = bytearray()
                with contextlib.suppress(ConnectionError):
                    while chunk := await asyncio.get_running_loop().sock_recv(stuck, 1 << 20):
                        received += chunk
                assert b"event: initial_data" in received and not received.endswith(b"\r\n0\r\n\r\n")
            finally:
                stuck.close()


async def test_opening_streams_too_fast_from_one_address_is_refused(tmp_path: Path) -> None:
    app = live_app(tmp_path, stream_rate_limit="3/minute")
    async with serving(app) as served, httpx.AsyncClient(base_url=served.url, timeout=5) as http:
        for _ in range(3):
            async with open_event_stream(f"{served.url}/api/dashboard/events") as stream:
                assert (await stream.next()).event == "initial_data"
        refused = await http.get("/api/dashboard/events")
        assert refused.status_code == 429 and int(refused.headers["retry-after"]) >= 1
        assert "ISSUEBRIDGE_STREAM_RATE_LIMIT" in refused.json()["error"]
        async with open_event_stream(
            f"{served.url}/api/dashboard/events", headers={"X-Forwarded-For": "10.0.0.9"}
        ) as other:
            assert (await other.next()).event == "initial_data"  # another address is not affected


async def test_a_person_reloading_the_page_is_never_refused(tmp_path: Path) -> None:
    async with serving(live_app(tmp_path)) as served:
        for _ in range(30):  # thirty reloads in a row, as fast as they go
            async with open_event_stream(f"{served.url}/api/dashboard/events?format=html") as page:
                assert (await page.next()).event == "snapshot"


@pytest.mark.parametrize("number", [2**31, 2**63 + 1, 2**64 + 1])
async def test_a_number_no_github_issue_has_is_refused_and_nothing_changes(tmp_path: Path, number: int) -> None:
    async with serving(live_app(tmp_path)) as served, httpx.AsyncClient(base_url=served.url) as http:
        await push(served.url, "octo/app", [issue(1)])
        async with open_event_stream(f"{served.url}/api/dashboard/events?last_event_id=1") as page:
            response = await http.post(
                "/api/dashboard/sync-issues", json={"repository": "octo/app", "issues": [issue(number)]}
            )
            assert response.status_code == 422
            assert response.json()["fields"][0]["field"] == "issues.0.number"
            assert (await http.get("/healthz")).json()["revision"] == 1
            assert await push(served.url, "octo/app", [issue(2)]) == 2
            assert (await page.next()).id == "2"  # the next event is the next write: nothing in between
