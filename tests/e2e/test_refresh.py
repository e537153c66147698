"""ISSUEBRIDGE_REFRESH_SECONDS end to end: boards synced over MCP are fetched again in the background,
with conditional requests, silently unless something changed, and backing off when GitHub refuses."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from issuebridge.app import compose
from issuebridge.dashboard.refresh import Refresher
from issuebridge.services import Services
from issuebridge.settings import Settings
from testkit.fake_github import FakeGitHub, RecordedRequest, make_commit, make_issue, make_pull
from testkit.mcp_clients import TRANSPORTS
from testkit.sse import open_event_stream
from tests.inprocess import AppServer, serving, start_app

REPO = "octo/app"
ARGS = {"owner": "octo", "repo": "app"}


def refreshing(tmp_path: Path, server_env: dict[str, str], seconds: float) -> AppServer:
    return start_app({**server_env, "ISSUEBRIDGE_REFRESH_SECONDS": str(seconds)})


@pytest.fixture
def quick(tmp_path: Path, server_env: dict[str, str]) -> Iterator[AppServer]:
    running = refreshing(tmp_path, server_env, 0.3)
    yield running
    running.stop()


async def until(check: Callable[[], bool], what: str, wait: float = 20.0) -> None:
    """Poll ``check`` until it holds; fail saying ``what`` was awaited if it never does."""
    deadline = time.monotonic() + wait
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"never happened: {what}")
        await asyncio.sleep(0.05)


def requests_for(fake: FakeGitHub, list_name: str, since: int = 0) -> list[RecordedRequest]:
    """Requests for one of REPO's lists (later pages are asked for by the repository's id)."""
    return fake.requests_for(REPO, list_name, since)


class Rounds:
    """The refresher's clock and its wait before each round: every wait moves the clock on by one
    interval, so that back-off and pauses are counted in rounds, however long a round takes.

    The wait itself is real (claims on the store expire in real time, and a round claims its
    boards for most of an interval); tests keep the interval short and wait for rounds.
    """

    def __init__(self) -> None:
        self.now = 0.0
        self.begun = 0

    def clock(self) -> float:
        return self.now

    async def pause(self, seconds: float) -> None:
        await asyncio.sleep(seconds)
        self.now += seconds
        self.begun += 1

    async def after(self, count: int) -> None:
        """Wait until ``count`` more rounds have run to their end (the next one has begun)."""
        target = self.begun + count + 1
        await until(lambda: self.begun >= target, f"{count} more rounds")


def refreshing_app(server_env: dict[str, str], interval: float, rounds: Rounds) -> Starlette:
    """The app ``uvicorn`` runs for ``server_env`` with the refresh on, every ``interval`` s on ``rounds``."""
    services = Services.build(Settings.from_env({**server_env, "ISSUEBRIDGE_REFRESH_SECONDS": str(interval)}))
    assert services.refresher is not None
    refresher = Refresher(services.store, services.sync, interval, clock=rounds.clock, pause=rounds.pause)
    return compose(dataclasses.replace(services, refresher=refresher))


async def revision(base_url: str) -> int:
    async with httpx.AsyncClient(base_url=base_url) as http:
        return int((await http.get("/healthz")).json()["revision"])


async def test_unchanged_boards_are_confirmed_with_304s_and_pages_hear_nothing(
    quick: AppServer, fake_github: FakeGitHub
) -> None:
    fake_github.add_repo(REPO, [make_issue(REPO, n) for n in range(1, 151)])  # two pages
    fake_github.add_pulls(REPO, [make_pull(REPO, 1)])
    fake_github.add_commits(REPO, [make_commit(REPO, n, date=f"2026-11-{n:02}T10:00:00Z") for n in range(1, 4)])
    async with TRANSPORTS["streamable-http"](quick.url) as client:
        for tool, extra in [
            ("send_issues_to_dashboard", {}),
            ("send_pull_requests_to_dashboard", {}),
            ("send_commit_summary_to_dashboard", {"since": "2026-11-01", "until": "2026-11-30"}),
        ]:
            result = await client.call_tool(tool, {**ARGS, **extra})
            assert not result.is_error, result.content
    async with httpx.AsyncClient(base_url=quick.url) as http:  # a pushed board has no query to repeat
        pushed = {"repository": "octo/pushed", "issues": [{"number": 1, "title": "t", "state": "open"}]}
        assert (await http.post("/api/dashboard/sync-issues", json=pushed)).status_code == 200
    start = await revision(quick.url)

    async with open_event_stream(f"{quick.url}/api/dashboard/events?last_event_id={start}") as stream:
        seen = len(fake_github.requests)
        for name, conditional_per_round in (("issues", 2), ("pulls", 1), ("commits", 1)):
            # Two rounds of conditional requests for each board, every one answered 304.
            await until(
                lambda name=name, n=conditional_per_round: (  # type: ignore[misc]
                    sum(r.status == 304 for r in requests_for(fake_github, name, seen)) >= 2 * n
                ),
                f"two rounds of 304s for the {name} board",
            )
        ours = [r for name in ("issues", "pulls", "commits") for r in requests_for(fake_github, name, seen)]
        assert ours and all("if-none-match" in r.headers for r in ours)
        assert not any(r.path.startswith("/repos/octo/pushed") for r in fake_github.requests)
        assert await revision(quick.url) == start

        # Someone edits an issue on GitHub: the next round fetches the list and the page gets the board.
        edited = make_issue(REPO, 7, title="Edited on GitHub", updated_at="2030-01-01T00:00:00Z")
        fake_github.add_repo(REPO, [edited if n == 7 else make_issue(REPO, n) for n in range(1, 151)])
        update = await stream.next(wait=20)
        # The first event since the rounds of 304s: they sent nothing (no board, "unchanged" or progress).
        assert update.event == "issues_update" and update.id == str(start + 1)
        board = update.json()["data"]
        assert board["issues"][0]["title"] == "Edited on GitHub" and len(board["issues"]) == 150
        assert board["source"] == "mcp" and board["state"] == "open"

        # And then quiet again: after two more rounds of 304s, the next event is a board pushed after them.
        seen = len(fake_github.requests)
        await until(
            lambda: sum(r.status == 304 for r in requests_for(fake_github, "issues", seen)) >= 4, "two more rounds"
        )
        async with httpx.AsyncClient(base_url=quick.url) as http:
            assert (await http.post("/api/dashboard/sync-issues", json=pushed)).status_code == 200
        after = await stream.next(wait=20)
        assert after.event == "issues_update" and after.id == str(start + 2)
        assert after.json()["data"]["repository"] == "octo/pushed"


async def test_a_rate_limited_refresh_waits_for_the_reset_and_the_server_carries_on(
    server_env: dict[str, str], fake_github: FakeGitHub, caplog: pytest.LogCaptureFixture
) -> None:
    fake_github.add_repo(REPO, [make_issue(REPO, n) for n in range(1, 4)])  # one page: one request a round
    rounds = Rounds()
    with caplog.at_level(logging.INFO, logger="issuebridge.dashboard.refresh"):
        async with serving(refreshing_app(server_env, 0.05, rounds)) as quick:
            async with TRANSPORTS["streamable-http"](quick.url) as client:
                assert not (await client.call_tool("send_issues_to_dashboard", ARGS)).is_error
            await until(lambda: any(r.status == 304 for r in requests_for(fake_github, "issues")), "a first refresh")

            fake_github.rate_limit_reset = int(time.time()) + 600
            fake_github.rate_limited = True
            seen = len(fake_github.requests)
            await until(lambda: len(fake_github.requests) > seen, "a refresh that meets the rate limit")
            await rounds.after(6)  # several intervals
            assert [r.status for r in fake_github.requests[seen:]] == [403]  # one refusal, then it waits for the reset

            async with httpx.AsyncClient(base_url=quick.url) as http:
                assert (await http.get("/healthz")).status_code == 200
                assert [i["number"] for i in (await http.get("/api/dashboard/issues")).json()["issues"]] == [3, 2, 1]
    assert caplog.text.count("Background refresh paused") == 1
    assert "resets at" in caplog.text and "Traceback" not in caplog.text


async def test_a_failing_refresh_backs_off(server_env: dict[str, str], caplog: pytest.LogCaptureFixture) -> None:
    rounds = Rounds()
    with FakeGitHub() as fake, caplog.at_level(logging.INFO, logger="issuebridge.dashboard.refresh"):
        fake.add_repo(REPO, [make_issue(REPO, 1)])
        async with serving(refreshing_app({**server_env, "GITHUB_API_URL": fake.url}, 0.05, rounds)) as server:
            async with TRANSPORTS["streamable-http"](server.url) as client:
                assert not (await client.call_tool("send_issues_to_dashboard", ARGS)).is_error
            fake.token = "now-required"  # every request is refused with 401 from here on
            seen = len(fake.requests)
            await until(lambda: len(fake.requests) > seen, "a refresh that fails")
            failing_since = len(fake.requests)
            await rounds.after(15)  # backing off 2, 4, 8, 16 intervals tries about 3 times
            retries = [r.status for r in fake.requests[failing_since:]]
            assert set(retries) <= {401} and len(retries) <= 5, retries
            async with httpx.AsyncClient(base_url=server.url) as http:
                assert (await http.get("/healthz")).status_code == 200
    assert "Background refresh of issues:octo/app failed" in caplog.text and "next try in" in caplog.text
    assert "now-required" not in caplog.text
