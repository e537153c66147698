"""ISSUEBRIDGE_TOKEN end to end: the SDK's MCP clients over both transports, the event stream, and
signing in and out in Chromium."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import httpx2
import pytest
from mcp import Client
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamable_http_client
from playwright.async_api import Browser, expect

from testkit.fake_github import FakeGitHub
from testkit.sse import open_event_stream
from tests.inprocess import AppServer, start_app

TOKEN = "e2e-secret-token"


@pytest.fixture
def guarded(tmp_path: Path, server_env: dict[str, str]) -> Iterator[AppServer]:
    running = start_app({**server_env, "ISSUEBRIDGE_TOKEN": TOKEN})
    yield running
    running.stop()
    assert TOKEN not in running.log


async def test_mcp_over_sse_needs_the_token(guarded: AppServer) -> None:
    with pytest.raises(BaseException, match="401"):
        async with Client(sse_client(f"{guarded.url}/sse"), mode="legacy") as client:
            await client.list_tools()
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with Client(sse_client(f"{guarded.url}/sse", headers=headers), mode="legacy") as client:
        result = await client.call_tool("publish_to_dashboard", {"title": "Hello", "summary_markdown": "over SSE"})
    assert not result.is_error


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_mcp_over_streamable_http_needs_the_token(guarded: AppServer, mode: str) -> None:
    with pytest.raises(BaseException):  # noqa: B017 - the SDK wraps the 401 differently per era
        async with Client(f"{guarded.url}/mcp", mode=mode) as client:
            await client.list_tools()
    async with (
        httpx2.AsyncClient(headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30) as http,
        Client(streamable_http_client(f"{guarded.url}/mcp", http_client=http), mode=mode) as client,
    ):
        result = await client.call_tool("get_dashboard", {})
    assert not result.is_error


async def test_the_event_stream_takes_the_bearer_token_or_the_cookie(guarded: AppServer) -> None:
    async with httpx.AsyncClient(base_url=guarded.url) as http:
        assert (await http.get("/api/dashboard/events")).status_code == 401
        signed_in = await http.get(f"/?token={TOKEN}")
        cookie = signed_in.cookies
    async with open_event_stream(
        f"{guarded.url}/api/dashboard/events", headers={"Authorization": f"Bearer {TOKEN}"}
    ) as stream:
        assert (await stream.next()).event == "initial_data"
    cookie_header = "; ".join(f"{name}={value}" for name, value in cookie.items())
    async with open_event_stream(f"{guarded.url}/api/dashboard/events", headers={"Cookie": cookie_header}) as stream:
        assert (await stream.next()).event == "initial_data"


async def test_signing_out_ends_the_sessions_open_stream_and_refuses_its_cookie(guarded: AppServer) -> None:
    """A copy of the cookie streaming when its session is signed out is cut off, and cannot come back."""
    async with httpx.AsyncClient(base_url=guarded.url, follow_redirects=False) as http:
        signed_in = await http.post("/login", data={"token": TOKEN})
        assert signed_in.status_code == 303
        cookie = f"issuebridge_session={http.cookies['issuebridge_session']}"
        async with open_event_stream(f"{guarded.url}/api/dashboard/events", headers={"Cookie": cookie}) as stream:
            assert (await stream.next()).event == "initial_data"
            signed_out = await http.post("/logout", headers={"Origin": guarded.url})
            assert signed_out.status_code == 303
            with pytest.raises(EOFError):  # the server ends the stream at once
                await stream.next(wait=10)
        again = await http.get("/api/dashboard/events", headers={"Cookie": cookie})
        assert again.status_code == 401


@pytest.mark.browser
@pytest.mark.asyncio(loop_scope="session")  # the session's Chromium (tests/browser.py), skipped or failed without it
async def test_sign_out_in_chromium_ends_every_copy_of_the_session(
    tmp_path: Path, fake_github: FakeGitHub, browser: Browser
) -> None:
    """Signed in with the form, then signed out: the page that signed out, and a second browser
    holding a copy of its cookie (its live page and any later visit), are all back at sign-in."""
    server = start_app(
        {"GITHUB_API_URL": fake_github.url, "ISSUEBRIDGE_DB": str(tmp_path / "b.db"), "ISSUEBRIDGE_TOKEN": TOKEN},
    )
    try:
        mine = await browser.new_context()
        page = await mine.new_page()
        await page.goto(f"{server.url}/login")
        await page.fill("#token", TOKEN)
        await page.click("button[type=submit]")
        await expect(page.locator("#connection")).to_have_attribute("data-state", "live")
        (kept,) = await mine.cookies()
        assert kept["httpOnly"] and kept["sameSite"] == "Strict" and TOKEN not in kept["value"]
        name, value = kept["name"], kept["value"]

        copied = await browser.new_context()
        await copied.add_cookies([{"name": name, "value": value, "url": server.url}])
        elsewhere = await copied.new_page()
        await elsewhere.goto(server.url)
        await expect(elsewhere.locator("#connection")).to_have_attribute("data-state", "live")

        await page.click("text=Sign out")
        await expect(page.locator("form[action='/login']")).to_be_visible()
        assert page.url == f"{server.url}/login" and await mine.cookies() == []

        # The copy's stream is ended by the server; its reconnect is refused (which also drops
        # the cookie); the page finds out why and reloads into the sign-in form.
        await expect(elsewhere.locator("form[action='/login'] #token")).to_be_visible(timeout=15_000)
        assert await copied.cookies() == []
        again = await browser.new_context()
        await again.add_cookies([{"name": name, "value": value, "url": server.url}])
        late = await again.new_page()
        response = await late.goto(server.url)
        assert response is not None and response.status == 401
        events = await late.request.get(f"{server.url}/api/dashboard/events")
        assert events.status == 401
    finally:
        server.stop()
    assert TOKEN not in server.log
