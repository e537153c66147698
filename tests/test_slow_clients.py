"""Slow clients against a real uvicorn (in this process) and raw sockets: headers and bodies that
take too long are cut off, and connections past the limit get a 503 rather than a reset.

The header deadline and the connection limit are what ``issuebridge serve`` configures
(``server_options``), tried with both of uvicorn's HTTP protocols; the body deadline is the
app's own, so it is tried under plain uvicorn too. Limits are small here so that the tests are
quick; each read has a generous bound that only stops a test that would otherwise hang.
"""

from __future__ import annotations

import asyncio
import pickle
import resource
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from issuebridge.app import create_app
from issuebridge.cli.connection_bounds import RESERVED_DESCRIPTORS, connection_limit, http_protocol
from issuebridge.cli.serve import server_options
from issuebridge.settings import Settings, SettingsError
from tests.inprocess import Served, serving

QUICK = 0.3  # seconds: the header and body deadlines of these servers
HANG = 10.0  # seconds: a read that takes this long means the server never gave up on the client
GET = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"


def settings(tmp_path: Path, **overrides: Any) -> Settings:
    base: dict[str, Any] = {
        "db_path": tmp_path / "b.db",
        "github_api_url": "http://127.0.0.1:9",
        "header_timeout": QUICK,
        "body_timeout": QUICK,
        "max_connections": 50,
    }
    return Settings(**{**base, **overrides})


@pytest.fixture(params=["httptools", "h11"])
def protocol(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@asynccontextmanager
async def serve_as_the_cli_does(config_settings: Settings, protocol: str) -> AsyncIterator[Served]:
    options = server_options(config_settings) | {"http": http_protocol(QUICK, httptools=protocol == "httptools")}
    options.pop("loop")  # this server runs in the test's own loop
    async with serving(create_app(config_settings), **options) as running:
        yield running


@pytest.fixture
async def served(tmp_path: Path, protocol: str) -> AsyncIterator[Served]:
    async with serve_as_the_cli_does(settings(tmp_path), protocol) as running:
        yield running


async def connect(running: Served) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection("127.0.0.1", running.port)


async def trickle(writer: asyncio.StreamWriter, data: bytes, every: float = 0.05) -> int:
    """Send ``data`` a byte at a time, as a slowloris client does, until done or cut off; how many were sent."""
    for sent, byte in enumerate(data):
        if writer.is_closing() or writer.transport.get_extra_info("socket") is None:
            return sent
        try:
            writer.write(bytes([byte]))
            await writer.drain()
        except ConnectionError:
            return sent
        await asyncio.sleep(every)
    return len(data)


async def read_response(reader: asyncio.StreamReader) -> tuple[bytes, bytes]:
    """One HTTP response with a Content-Length: its status line and body."""
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), HANG)
    length = next(
        int(line.split(b":", 1)[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")
    )
    return head.split(b"\r\n", 1)[0], await asyncio.wait_for(reader.readexactly(length), HANG)


async def closed_without_answer(reader: asyncio.StreamReader) -> bool:
    """Whether the server closes the connection without sending a byte (within ``HANG``).

    A server that closes while the client's bytes are still arriving unread makes the kernel
    send a reset instead of a clean end: either is the server hanging up.
    """
    received = b""
    try:
        async with asyncio.timeout(HANG):
            while chunk := await reader.read(65536):
                received += chunk
    except ConnectionResetError:
        pass
    return received == b""


async def test_a_connection_that_sends_nothing_is_closed_at_the_header_deadline(served: Served) -> None:
    reader, writer = await connect(served)
    assert await asyncio.wait_for(reader.read(), HANG) == b""  # closed by the server, no answer
    writer.close()


async def test_headers_trickled_a_byte_at_a_time_are_cut_off(served: Served) -> None:
    reader, writer = await connect(served)
    sending = asyncio.create_task(trickle(writer, b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"a" * 1000))
    assert await closed_without_answer(reader)  # data kept coming; the deadline held
    sending.cancel()
    writer.close()


async def test_the_next_requests_headers_have_the_same_deadline(served: Served) -> None:
    reader, writer = await connect(served)
    writer.write(GET)
    assert (await read_response(reader))[0] == b"HTTP/1.1 200 OK"
    writer.write(GET)  # a prompt second request on the same connection is served as usual
    assert (await read_response(reader))[0] == b"HTTP/1.1 200 OK"
    sending = asyncio.create_task(trickle(writer, GET * 20))
    assert await closed_without_answer(reader)
    sending.cancel()
    writer.close()


ServerFactory = Callable[[Settings, str], AbstractAsyncContextManager[Served]]


@asynccontextmanager
async def serve_plain_uvicorn(config_settings: Settings, protocol: str) -> AsyncIterator[Served]:
    """``uvicorn issuebridge.app:app`` with nothing of ``issuebridge serve``'s."""
    async with serving(create_app(config_settings), http=protocol) as running:
        yield running


BODY = b'{"repository": "octo/app", "issues": []}'
POST = (
    b"POST /api/dashboard/sync-issues HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    b"Content-Type: application/json\r\nContent-Length: " + str(len(BODY)).encode() + b"\r\n\r\n"
)


async def nothing_written(running: Served) -> bool:
    reader, writer = await connect(running)
    writer.write(GET)
    _, health = await read_response(reader)
    writer.close()
    return b'"revision":0' in health


@pytest.mark.parametrize("server", [serve_as_the_cli_does, serve_plain_uvicorn], ids=["serve", "plain-uvicorn"])
async def test_a_stalled_body_gets_408_and_changes_nothing(
    tmp_path: Path, protocol: str, server: ServerFactory
) -> None:
    async with server(settings(tmp_path), protocol) as running:
        reader, writer = await connect(running)
        writer.write(POST + BODY[:10])
        status, answer = await read_response(reader)
        assert status == b"HTTP/1.1 408 Request Timeout"
        assert answer == b'{"error":"the request body did not arrive within 0.3 s"}'
        assert await asyncio.wait_for(reader.read(), HANG) == b""  # and the connection is closed
        writer.close()
        assert await nothing_written(running)


@pytest.mark.parametrize("server", [serve_as_the_cli_does, serve_plain_uvicorn], ids=["serve", "plain-uvicorn"])
async def test_a_trickled_body_is_cut_off_at_the_deadline(tmp_path: Path, protocol: str, server: ServerFactory) -> None:
    """Bytes that keep coming do not push the deadline back. (The client, still sending when the
    server answers and closes, may see the reset of its next byte before it reads the 408.)"""
    async with server(settings(tmp_path), protocol) as running:
        reader, writer = await connect(running)
        writer.write(POST)
        sending = asyncio.create_task(trickle(writer, BODY, every=0.05))  # 2 s of body: never in time
        try:
            answer = await asyncio.wait_for(reader.read(), HANG)
        except ConnectionResetError:
            answer = b""
        assert answer == b"" or answer.startswith(b"HTTP/1.1 408 Request Timeout")
        assert await asyncio.wait_for(sending, HANG) < len(BODY)  # cut off while the client was still sending
        writer.close()
        assert await nothing_written(running)


async def test_a_body_in_time_is_read_as_usual(served: Served) -> None:
    reader, writer = await connect(served)
    writer.write(POST + BODY)
    assert (await read_response(reader))[0] == b"HTTP/1.1 200 OK"
    writer.close()


async def test_connections_past_the_limit_get_503_instead_of_a_reset(tmp_path: Path, protocol: str) -> None:
    limited = settings(tmp_path, max_connections=3, header_timeout=HANG * 3)  # idle ones stay for the test
    async with serve_as_the_cli_does(limited, protocol) as running:
        idle = [await connect(running) for _ in range(2)]
        reader, writer = await connect(running)
        writer.write(GET)
        status = (await asyncio.wait_for(reader.readuntil(b"\r\n"), HANG)).strip()
        assert status == b"HTTP/1.1 503 Service Unavailable"  # an answer, /healthz included, not a reset
        writer.close()
        for _, idle_writer in idle:
            idle_writer.close()
        for _ in range(int(HANG / 0.01)):  # until the server has seen them go
            if not running.server.server_state.connections:
                break
            await asyncio.sleep(0.01)
        reader, writer = await connect(running)
        writer.write(GET)
        assert (await read_response(reader))[0] == b"HTTP/1.1 200 OK"
        writer.close()


@pytest.mark.parametrize(
    ("soft", "hard", "raised_to", "limit"),
    [
        (1024, 1024, None, 1024 - RESERVED_DESCRIPTORS),
        (1024, 4096, 4096, 4096 - RESERVED_DESCRIPTORS),
        (1024, resource.RLIM_INFINITY, 65_536, 65_536 - RESERVED_DESCRIPTORS),
        (1024, 1_048_576, 65_536, 65_536 - RESERVED_DESCRIPTORS),
        (100, 100, None, 50),  # a tiny limit still leaves half for connections
    ],
)
def test_the_connection_limit_follows_the_descriptor_limit(
    monkeypatch: pytest.MonkeyPatch, soft: int, hard: int, raised_to: int | None, limit: int
) -> None:
    raised: list[tuple[int, int]] = []
    monkeypatch.setattr(resource, "getrlimit", lambda _: (soft, hard))
    monkeypatch.setattr(resource, "setrlimit", lambda _, value: raised.append(value))
    assert connection_limit() == limit
    assert raised == ([] if raised_to is None else [(raised_to, hard)])


def test_a_refused_raise_keeps_the_soft_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(_: int, __: tuple[int, int]) -> None:
        raise ValueError("not allowed")

    monkeypatch.setattr(resource, "getrlimit", lambda _: (256, 4096))
    monkeypatch.setattr(resource, "setrlimit", refuse)
    assert connection_limit() == 256 - RESERVED_DESCRIPTORS


def test_the_protocol_survives_the_trip_to_a_worker_process(tmp_path: Path) -> None:
    """``--workers`` and ``--reload`` start fresh processes and hand them uvicorn's config by pickle."""
    protocol = pickle.loads(pickle.dumps(server_options(settings(tmp_path))["http"]))
    assert protocol.keywords == {"header_timeout": QUICK}


@pytest.mark.parametrize(
    "name", ["ISSUEBRIDGE_SESSION_SECONDS", "ISSUEBRIDGE_HEADER_TIMEOUT", "ISSUEBRIDGE_BODY_TIMEOUT"]
)
@pytest.mark.parametrize("value", ["0", "-1", "soon", "inf", "nan"])
def test_deadlines_and_lifetimes_are_positive_finite_seconds(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        Settings.from_env({name: value})
    assert Settings.from_env({name: "2.5"}) is not None
