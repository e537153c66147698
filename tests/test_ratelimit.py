"""Per-address rate limits on MCP messages and writes: 429 with Retry-After, reads never limited,
and nothing a client makes up (a bearer value) gives it a fresh allowance."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from issuebridge.app import create_app
from issuebridge.settings import Settings, SettingsError
from issuebridge.web.ratelimit import client_key

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


def test_made_up_bearer_values_share_their_address_limit(client: TestClient) -> None:
    """Without a token configured, any bearer value is let through, and used to get a bucket of its own."""
    answers = [
        client.post("/api/dashboard/sync-issues", json=PUSH, headers={"Authorization": f"Bearer guess-{n}"}).status_code
        for n in range(20)
    ]
    assert answers == [200] * 3 + [429] * 17
    assert client.post("/mcp", json={}, headers={"Authorization": "Bearer yet-another"}).status_code == 429


def test_each_address_has_its_own_limit(client: TestClient) -> None:
    for _ in range(4):
        client.post("/api/dashboard/sync-issues", json=PUSH)
    elsewhere = TestClient(client.app, base_url="http://127.0.0.1:8000", client=("10.0.0.2", 40000))
    assert elsewhere.post("/api/dashboard/sync-issues", json=PUSH).status_code == 200


def test_with_a_token_the_limit_counts_verified_clients_per_address(tmp_path: Path) -> None:
    settings = Settings(db_path=tmp_path / "b.db", rate_limit="3/minute", api_token="the-token")
    with TestClient(create_app(settings), base_url="http://127.0.0.1:8000") as guarded:
        right = {"Authorization": "Bearer the-token"}
        answers = [guarded.post("/api/dashboard/sync-issues", json=PUSH, headers=right).status_code for _ in range(4)]
        assert answers == [200, 200, 200, 429]
        # A wrong token never reaches the limit: it is refused, and counted as a failed authentication.
        wrong = guarded.post("/api/dashboard/sync-issues", json=PUSH, headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401


@pytest.mark.parametrize(
    ("address", "key"),
    [
        ("203.0.113.7", "address:203.0.113.7"),
        ("2001:db8:1:2:3:4:5:6", "address:2001:db8:1:2::/64"),  # one machine usually holds a whole /64
        ("2001:db8:1:2:ffff::1", "address:2001:db8:1:2::/64"),
        ("::ffff:203.0.113.7", "address:203.0.113.7"),
        ("testclient", "address:testclient"),
    ],
)
def test_addresses_are_keyed_by_what_one_client_holds(address: str, key: str) -> None:
    assert client_key({"type": "http", "client": (address, 1234)}) == key


def test_the_limit_is_validated_at_start_up() -> None:
    with pytest.raises(SettingsError, match="ISSUEBRIDGE_RATE_LIMIT must look like 120/minute"):
        Settings.from_env({"ISSUEBRIDGE_RATE_LIMIT": "lots"})
    assert Settings.from_env({"ISSUEBRIDGE_RATE_LIMIT": "10 per second"}).rate_limit == "10 per second"
    assert Settings.from_env({"ISSUEBRIDGE_GITHUB_CONCURRENCY": "3"}).github_concurrency == 3
    with pytest.raises(SettingsError, match="ISSUEBRIDGE_AUTH_FAILURE_LIMIT must look like 120/minute"):
        Settings.from_env({"ISSUEBRIDGE_AUTH_FAILURE_LIMIT": "few"})
