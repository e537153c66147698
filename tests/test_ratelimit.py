"""Per-client rate limits on MCP messages and writes: 429 with Retry-After, reads never limited."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from issuebridge.app import create_app
from issuebridge.settings import Settings, SettingsError

PUSH = {"repository": "octo/app", "issues": []}


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    settings = Settings(db_path=tmp_path / "b.db", rate_limit="3/minute")
    with TestClient(create_app(settings), base_url="http://127.0.0.1:8000") as test_client:
        yield test_client


def test_a_client_over_its_limit_gets_429_with_retry_after(client: TestClient) -> None:
    assert [client.post("/api/dashboard/sync-issues", json=PUSH).status_code for _ in range(3)] == [200] * 3
    refused = client.post("/api/dashboard/sync-issues", json=PUSH)
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert "too many requests: the limit is 3 per 1 minute" in refused.json()["error"]
    assert client.post("/mcp", json={}).status_code == 429  # MCP messages count against the same limit
    assert client.get("/healthz").json()["revision"] == 3  # the refused push wrote nothing


def test_reads_are_never_limited(client: TestClient) -> None:
    for _ in range(4):
        client.post("/api/dashboard/sync-issues", json=PUSH)
    assert all(client.get(path).status_code == 200 for path in ["/", "/api/dashboard/issues", "/healthz"] * 5)


def test_each_client_has_its_own_limit(client: TestClient) -> None:
    for _ in range(4):
        client.post("/api/dashboard/sync-issues", json=PUSH)
    other = client.post("/api/dashboard/sync-issues", json=PUSH, headers={"Authorization": "Bearer another-client"})
    assert other.status_code == 200


def test_the_limit_is_validated_at_start_up() -> None:
    with pytest.raises(SettingsError, match="ISSUEBRIDGE_RATE_LIMIT must look like 120/minute"):
        Settings.from_env({"ISSUEBRIDGE_RATE_LIMIT": "lots"})
    assert Settings.from_env({"ISSUEBRIDGE_RATE_LIMIT": "10 per second"}).rate_limit == "10 per second"
    assert Settings.from_env({"ISSUEBRIDGE_GITHUB_CONCURRENCY": "3"}).github_concurrency == 3
