"""The in-process server the tests use behaves as the process would, where the tests rely on it.

Its log holds what that server logged (the access log too, which the tests read for secrets)
and nothing of another server's or the test's own; the app finds the uvicorn server it runs
under, as it does in a process; a restart on a kept listener keeps the address, and no stopped
server is left for the next app to find. The browser tests launch Debian's headless shell where
it is installed, and the binary ``ISSUEBRIDGE_TEST_CHROMIUM`` names otherwise.
"""

from __future__ import annotations

import logging
import os
import signal
from pathlib import Path

import httpx
import pytest

from issuebridge.web import uvicorn_server
from testkit.chromium import chromium_path
from testkit.servers import Listener
from tests.inprocess import AppServer, start_app


def env(tmp_path: Path, name: str) -> dict[str, str]:
    return {"ISSUEBRIDGE_DB": str(tmp_path / f"{name}.db"), "GITHUB_API_URL": "http://127.0.0.1:9"}


def test_each_server_logs_its_own_requests_and_nothing_else(tmp_path: Path) -> None:
    first, second = start_app(env(tmp_path, "first")), start_app(env(tmp_path, "second"))
    try:
        httpx.get(f"{first.url}/healthz?from=first")
        httpx.get(f"{second.url}/healthz?from=second")
        logging.getLogger("issuebridge").warning("logged by the test itself")
    finally:
        seconds = [first.stop(), second.stop()]
    assert '"GET /healthz?from=first HTTP/1.1" 200' in first.log and "from=second" not in first.log
    assert '"GET /healthz?from=second HTTP/1.1" 200' in second.log and "from=first" not in second.log
    for server in (first, second):
        assert "Application startup complete" in server.log and "Application shutdown complete" in server.log
        assert "logged by the test itself" not in server.log
    assert all(0 <= s < 5 for s in seconds)


def test_the_app_finds_its_server_and_no_stopped_one_is_left(tmp_path: Path) -> None:
    before = signal.getsignal(signal.SIGTERM)
    first = start_app(env(tmp_path, "first"))
    second = start_app(env(tmp_path, "second"))
    assert uvicorn_server.running_server() is second.server
    second.stop()
    assert uvicorn_server.running_server() is first.server  # the one still running
    first.stop()
    assert signal.getsignal(signal.SIGTERM) == before and uvicorn_server.running_server() is None


def test_a_restart_on_a_kept_listener_keeps_the_address(tmp_path: Path) -> None:
    with Listener() as listener:
        first = start_app(env(tmp_path, "kept"), listener=listener)
        pushed = httpx.post(
            f"{first.url}/api/dashboard/sync-issues",
            json={"repository": "octo/app", "issues": [{"number": 1, "title": "Kept", "state": "open"}]},
        )
        assert pushed.status_code == 200, pushed.text
        first.stop()
        second = start_app(env(tmp_path, "kept"), listener=listener)
        try:
            assert second.url == first.url
            assert httpx.get(f"{second.url}/healthz").json()["entries"] == 1
        finally:
            second.stop()


async def test_in_the_tests_loop_it_serves_and_logs_the_same(tmp_path: Path) -> None:
    async with AppServer(env(tmp_path, "loop")) as server, httpx.AsyncClient(base_url=server.url) as http:
        assert (await http.get("/healthz?in=loop")).status_code == 200
        assert uvicorn_server.running_server() is server.server  # uvicorn's own handler, in the main thread
    assert '"GET /healthz?in=loop HTTP/1.1" 200' in server.log


def fake_binaries(directory: Path, *names: str) -> str:
    """A ``PATH`` of one directory holding an executable file for each name."""
    directory.mkdir()
    for name in names:
        binary = directory / name
        binary.write_text("#!/bin/sh\n")
        binary.chmod(0o755)
    return str(directory)


def test_the_browser_tests_prefer_the_headless_shell_and_take_the_binary_they_are_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    both, browser_only = tmp_path / "both", tmp_path / "browser-only"
    monkeypatch.setenv("PATH", fake_binaries(both, "chromium", "chromium-headless-shell"))
    assert chromium_path({}) == str(both / "chromium-headless-shell")
    assert chromium_path({"ISSUEBRIDGE_TEST_CHROMIUM": "/opt/other/chrome"}) == "/opt/other/chrome"
    monkeypatch.setenv("PATH", fake_binaries(browser_only, "chromium"))
    assert chromium_path({}) == str(browser_only / "chromium")
    monkeypatch.setenv("PATH", os.devnull)
    assert chromium_path({}) == "/usr/bin/chromium"  # named in the not-installed message
