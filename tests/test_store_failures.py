"""A store that cannot save, as every caller sees it: the JSON API, the MCP tools, the webhook
route and ``/healthz`` (in-process; the stores themselves are in ``test_store.py`` and
``test_redis_store.py``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mcp import Client
from mcp_types import TextContent
from starlette.testclient import TestClient

from issuebridge.app import create_app
from issuebridge.dashboard import Dashboard, JsonFormat
from issuebridge.events import EventHub
from issuebridge.github import GitHubSource
from issuebridge.settings import Settings
from issuebridge.store import store_for
from issuebridge.sync import BoardSync
from issuebridge.tools import build_mcp_server
from tests.disk import Disk
from tests.fake_github import FakeGitHub, make_issue, make_webhook, webhook_request

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
        issue = make_issue(REPO, 2, title="x" * 1000, labels=labels)
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
    dashboard = Dashboard(store, EventHub(), {"json": JsonFormat()})
    mcp = build_mcp_server(dashboard, BoardSync(dashboard, GitHubSource.from_settings(settings)), settings)
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
    assert synced.is_error and "the disk is full" in synced_text
    assert store.revision == 0
