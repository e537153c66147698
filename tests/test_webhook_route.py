"""POST /webhooks/github in-process: around the bearer token, under the rate limit, size limits, and
a delivery whose write fails being tried again."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from issuebridge.app import create_app
from issuebridge.settings import Settings
from tests.fake_github import make_issue, make_webhook, webhook_request

SECRET = "whsec-for-in-process-tests"
TOKEN = "api-token-for-tests"
REPO = "octo/app"
PUSH = {"repository": REPO, "issues": [{"number": 1, "title": "One", "state": "open"}], "state": "open"}


def app_client(tmp_path: Path, **settings: Any) -> TestClient:
    base = {"db_path": tmp_path / "b.db", "github_api_url": "http://127.0.0.1:9", "webhook_secret": SECRET}
    return TestClient(create_app(Settings(**{**base, **settings})), base_url="http://127.0.0.1:8000")


@pytest.fixture
def guarded(tmp_path: Path) -> Iterator[TestClient]:
    with app_client(tmp_path, api_token=TOKEN) as client:
        yield client


def opened(number: int) -> dict[str, Any]:
    return make_webhook("issues", "opened", REPO, issue=make_issue(REPO, number))


def deliver(client: TestClient, event: str, payload: Any, delivery: str | None = None) -> Any:
    body, headers = webhook_request(SECRET, event, payload, delivery=delivery)
    return client.post("/webhooks/github", content=body, headers=headers)


def test_a_signed_webhook_needs_no_bearer_token_and_an_unsigned_one_is_refused(guarded: TestClient) -> None:
    bearer = {"Authorization": f"Bearer {TOKEN}"}
    assert guarded.post("/api/dashboard/sync-issues", json=PUSH, headers=bearer).status_code == 200
    applied = deliver(guarded, "issues", opened(2))
    assert applied.status_code == 200 and applied.json()["changed"] is True
    body, headers = webhook_request(None, "issues", opened(3))
    unsigned = guarded.post("/webhooks/github", content=body, headers=headers)
    assert unsigned.status_code == 401 and "X-Hub-Signature-256" in unsigned.json()["error"]
    # The bearer token does not stand in for the signature...
    assert guarded.post("/webhooks/github", content=body, headers={**headers, **bearer}).status_code == 401
    # ...and only the webhook route itself is open without a token.
    for path in ("/webhooks/github/", "/webhooks/githubx", "/webhooks/other"):
        refused = guarded.post(path, content=body, headers=headers)
        assert refused.status_code == 401 and "Bearer" in refused.json()["error"], path
    issues = guarded.get("/api/dashboard/issues", headers=bearer).json()["issues"]
    assert [issue["number"] for issue in issues] == [2, 1]


def test_webhooks_count_against_the_rate_limit(tmp_path: Path) -> None:
    with app_client(tmp_path, rate_limit="3/minute") as client:
        answers = [deliver(client, "ping", {"hook_id": 1}).status_code for _ in range(4)]
    assert answers == [200, 200, 200, 429]


def test_a_body_over_the_limit_is_refused_unread(tmp_path: Path) -> None:
    with app_client(tmp_path, max_body_bytes=1024) as client:
        big = opened(2) | {"padding": "x" * 2048}
        response = deliver(client, "issues", big)
    assert response.status_code == 413 and "1024 bytes" in response.json()["error"]


def test_a_delivery_whose_write_failed_is_applied_when_redelivered(tmp_path: Path) -> None:
    with app_client(tmp_path) as client:
        assert client.post("/api/dashboard/sync-issues", json=PUSH).status_code == 200
        with sqlite3.connect(tmp_path / "b.db") as raw:  # SQLite itself refuses the next board write
            raw.execute("CREATE TRIGGER refuse BEFORE UPDATE ON entries BEGIN SELECT RAISE(ABORT, 'disk says no'); END")
        failed = deliver(client, "issues", opened(2), delivery="delivery-1")
        assert failed.status_code == 503 and "redeliver" in failed.json()["error"]
        assert [i["number"] for i in client.get("/api/dashboard/issues").json()["issues"]] == [1]
        with sqlite3.connect(tmp_path / "b.db") as raw:
            raw.execute("DROP TRIGGER refuse")
        retried = deliver(client, "issues", opened(2), delivery="delivery-1")
        assert retried.status_code == 200 and retried.json()["changed"] is True
        assert [i["number"] for i in client.get("/api/dashboard/issues").json()["issues"]] == [2, 1]
        assert deliver(client, "issues", opened(2), delivery="delivery-1").json()["duplicate"] is True


def test_a_delivery_without_an_id_is_refused(tmp_path: Path) -> None:
    with app_client(tmp_path) as client:
        client.post("/api/dashboard/sync-issues", json=PUSH)
        body, headers = webhook_request(SECRET, "issues", opened(2))
        del headers["X-GitHub-Delivery"]
        response = client.post("/webhooks/github", content=body, headers=headers)
    assert response.status_code == 400 and "X-GitHub-Delivery" in response.json()["error"]
