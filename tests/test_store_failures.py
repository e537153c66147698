"""A store that cannot save, as every caller sees it: the JSON API, the MCP tools, the webhook
route and ``/healthz`` (in-process; the stores themselves are in ``test_store.py`` and
``test_redis_store.py``)."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from mcp_types import TextContent
from starlette.testclient import TestClient

from issuebridge.app import compose, create_app
from issuebridge.services import Services
from issuebridge.settings import Settings
from issuebridge.store import RedisStore, redis, store_for
from issuebridge.store.redis import RECONNECT_DELAYS
from testkit.fake_github import FakeGitHub, make_issue, make_webhook, webhook_request
from testkit.servers import RedisServer
from tests.disk import Disk
from tests.tcp_proxy import TcpProxy
from tests.test_redis_store import Pauses

SECRET = "whsec-for-store-failures"
REPO = "octo/app"


def issues(count: int, title: str = "Issue") -> list[dict[str, Any]]:
    return [{"number": n, "title": f"{title} {n}", "state": "open"} for n in range(1, count + 1)]


def push(client: TestClient, rows: list[dict[str, Any]]) -> Any:
    return client.post("/api/dashboard/sync-issues", json={"repository": REPO, "issues": rows})


def test_a_full_disk_is_a_clear_503_everywhere_and_on_healthz_until_a_write_succeeds(
    tmp_path: Path, disk: Disk
) -> None:
    settings = Settings(db_path=tmp_path / "b.db", github_api_url="http://127.0.0.1:9", webhook_secret=SECRET)
    with TestClient(create_app(settings), base_url="http://127.0.0.1:8000") as client:
        assert push(client, issues(1)).status_code == 200
        disk.fill()

        refused = push(client, issues(2000))
        assert refused.status_code == 503
        assert refused.json() == {"error": "the disk is full: the board was not saved"}

        labels = [(f"label {n} " + "y" * 90, "d73a4a") for n in range(100)]  # a row that needs room
        newer = datetime.now(UTC).isoformat().replace("+00:00", "Z")  # than the pushed board: it is applied
        issue = make_issue(REPO, 2, title="x" * 1000, labels=labels, created_at=newer, updated_at=newer)
        body, headers = webhook_request(SECRET, "issues", make_webhook("issues", "opened", REPO, issue=issue))
        delivered = client.post("/webhooks/github", content=body, headers=headers)
        assert delivered.status_code == 503
        assert delivered.json()["error"].startswith("the disk is full: the event was not saved; redeliver it")

        health = client.get("/healthz")
        assert health.status_code == 503
        assert health.json()["status"] == "degraded"
        assert health.json()["problem"] == "the disk is full: the last change was not saved (each new one tries again)"
        assert str(tmp_path) not in health.text  # /healthz is open to anyone: no paths
        board = client.get("/api/dashboard/issues", params={"repository": REPO}).json()
        assert [i["number"] for i in board["issues"]] == [1] and board["revision"] == 1  # nothing half-written

        disk.free()
        assert client.get("/healthz").status_code == 503  # until a write succeeds
        assert push(client, issues(3)).status_code == 200
        assert client.get("/healthz").json()["status"] == "ok"


async def test_a_full_disk_is_a_tool_error_that_says_so(tmp_path: Path, disk: Disk, fake_github: FakeGitHub) -> None:
    settings = Settings(db_path=tmp_path / "b.db", github_api_url=fake_github.url)
    store = store_for(settings)
    await store.open()
    mcp = Services.build(settings, store=store).mcp
    fake_github.add_repo(REPO, [make_issue(REPO, n, title="z" * 500) for n in range(1, 301)])
    disk.fill()
    try:
        async with Client(mcp) as client:
            panel = {"title": "Big", "summary_markdown": "x" * 20_000}
            published = await client.call_tool("publish_to_dashboard", panel)
            synced = await client.call_tool("send_issues_to_dashboard", {"owner": "octo", "repo": "app"})
    finally:
        await store.close()
    [published_text] = [part.text for part in published.content if isinstance(part, TextContent)]
    assert published.is_error and published_text.endswith(": the disk is full: the panel was not saved")
    [synced_text] = [part.text for part in synced.content if isinstance(part, TextContent)]
    assert synced.is_error and synced_text.endswith(": the disk is full: the board was not saved")
    assert store.revision == 0


def until(check: Callable[[], bool], within: float, what: str) -> None:
    """Poll ``check`` until it holds; fails saying ``what`` once ``within`` seconds pass."""
    deadline = time.monotonic() + within
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {within} s")
        time.sleep(0.02)


def test_a_silent_redis_is_a_503_that_says_the_board_may_not_have_been_saved(
    redis_server: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(redis, "COMMAND_TIMEOUT", 0.5)
    database = redis_server.fresh_url().rsplit("/", 1)[1]
    with TcpProxy(redis_server.port) as proxy:
        url = f"redis://127.0.0.1:{proxy.port}/{database}"
        settings = Settings(redis_url=url, github_api_url="http://127.0.0.1:9")
        with TestClient(create_app(settings), base_url="http://127.0.0.1:8000") as client:
            proxy.hold()  # Redis takes the board and runs the write; no answer comes back
            unanswered = push(client, issues(2))
            assert unanswered.status_code == 503
            assert unanswered.json()["error"] == (
                f"Redis at {url} did not answer within 0.5 s: the board may not have been saved; "
                "if it was, the dashboard shows it once Redis answers again"
            )
            health = client.get("/healthz")
            assert health.status_code == 503 and health.json()["problem"].startswith("Redis has not answered for ")
            assert str(proxy.port) not in health.text
            proxy.release()
            until(lambda: client.get("/healthz").status_code == 200, 5, "/healthz once Redis answers")
            board = client.get("/api/dashboard/issues", params={"repository": REPO}).json()
            assert [i["number"] for i in board["issues"]] == [1, 2]  # it had been saved: now it shows


def test_an_idle_worker_answers_again_within_2_s_of_a_redis_restart(tmp_path: Path) -> None:
    restarted = RedisServer(tmp_path)  # a server of its own: it loses everything below
    try:
        url = restarted.fresh_url()
        settings = Settings(redis_url=url, github_api_url="http://127.0.0.1:9")
        pauses = Pauses()  # the waits between reconnects, noted and not sat through
        store = RedisStore(url, pause=pauses)
        with TestClient(compose(Services.build(settings, store=store)), base_url="http://127.0.0.1:8000") as client:
            assert push(client, issues(3)).status_code == 200
            restarted.restart()  # returns once Redis answers again
            answered = len(pauses.taken)
            until(lambda: client.get("/healthz").status_code == 200, 10, "/healthz")
            until(lambda: push(client, issues(4)).status_code == 200, 10, "a push")
            assert client.get("/api/dashboard/issues", params={"repository": REPO}).json()["revision"] == 1
        # Within 2 s of Redis answering: no wait between tries is longer, and once Redis answers
        # the worker is back after at most the one it was in (or one more).
        assert max(pauses.taken, default=0) <= RECONNECT_DELAYS[-1] and len(pauses.taken) - answered <= 1
    finally:
        restarted.stop()
