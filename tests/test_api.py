"""The JSON API and the page, in-process (Starlette's TestClient runs the app's lifespan)."""

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from issuebridge.app import create_app
from issuebridge.records.commits import parse_since
from issuebridge.settings import Settings

HOSTILE = '<img src=x onerror="alert(1)"><script>alert(2)</script>'


def issue(number: int, **fields: Any) -> dict[str, Any]:
    return {"number": number, "title": f"Issue {number}", "state": "open", **fields}


@pytest.fixture
def client(store_settings: dict[str, Any]) -> Iterator[TestClient]:
    settings = Settings(**store_settings, max_body_bytes=64 * 1024, github_api_url="http://127.0.0.1:9")
    with TestClient(create_app(settings), base_url="http://127.0.0.1:8000") as test_client:
        yield test_client


def push(client: TestClient, body: Any) -> Any:
    return client.post("/api/dashboard/sync-issues", json=body)


def test_push_then_read_back(client: TestClient) -> None:
    body = {
        "repository": "octo/app",
        "issues": [
            issue(
                2,
                labels=[{"name": "bug", "color": "D73A4A"}],
                author="mona",
                assignees=["hubot"],
                comments=4,
                created_at="2024-05-01T10:00:00Z",
                updated_at="2024-05-02T10:00:00+02:00",
                html_url="https://github.com/octo/app/issues/2",
            ),
            issue(1, state="closed"),
        ],
        "state": "all",
    }
    response = push(client, body)
    assert response.status_code == 200
    assert response.json()["issue_count"] == 2 and response.json()["revision"] == 1

    board = client.get("/api/dashboard/issues", params={"repository": "octo/app"}).json()
    assert board["repository"] == "octo/app"
    assert board["state"] == "all" and board["source"] == "api"
    assert board["last_updated"].endswith("Z")
    first = board["issues"][0]
    assert first == {
        "number": 2,
        "title": "Issue 2",
        "state": "open",
        "labels": [{"name": "bug", "color": "d73a4a"}],
        "author": "mona",
        "assignees": ["hubot"],
        "comments": 4,
        "created_at": "2024-05-01T10:00:00Z",
        "updated_at": "2024-05-02T08:00:00Z",
        "html_url": "https://github.com/octo/app/issues/2",
    }
    assert board["issues"][1]["state"] == "closed"


def test_without_a_repository_the_latest_board_is_returned(client: TestClient) -> None:
    assert client.get("/api/dashboard/issues").json() == {
        "repository": None,
        "issues": [],
        "last_updated": None,
    }
    push(client, {"repository": "octo/one", "issues": [issue(1)]})
    push(client, {"repository": "octo/two", "issues": [issue(2)]})
    assert client.get("/api/dashboard/issues").json()["repository"] == "octo/two"
    push(client, {"repository": "octo/one", "issues": [issue(3)]})
    latest = client.get("/api/dashboard/issues").json()
    assert latest["repository"] == "octo/one" and [i["number"] for i in latest["issues"]] == [3]


def test_repository_lookup_is_case_insensitive_and_validated(client: TestClient) -> None:
    push(client, {"repository": "Octo/App", "issues": [issue(1)]})
    assert client.get("/api/dashboard/issues?repository=octo/app").json()["repository"] == "Octo/App"
    missing = client.get("/api/dashboard/issues?repository=octo/other")
    assert missing.status_code == 404 and "octo/other has no issues board on the dashboard" in missing.json()["error"]
    bad = client.get("/api/dashboard/issues", params={"repository": "../etc/passwd"})
    assert bad.status_code == 400
    assert "is not a valid GitHub owner" in bad.json()["error"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"issues": []}, "repository"),
        ({"repository": "not a repo", "issues": []}, "repository"),
        ({"repository": "octo/app"}, "issues"),
        ({"repository": "octo/app", "issues": "many"}, "issues"),
        ({"repository": "octo/app", "issues": [issue(0)]}, "issues.0.number"),
        ({"repository": "octo/app", "issues": [issue(1, state="maybe")]}, "issues.0.state"),
        (
            {"repository": "octo/app", "issues": [issue(1, html_url="javascript:alert(1)")]},
            "issues.0.html_url",
        ),
        (
            {"repository": "octo/app", "issues": [issue(1, labels=[{"name": "x", "color": "red"}])]},
            "issues.0.labels.0.color",
        ),
        ({"repository": "octo/app", "issues": [issue(1, title="t" * 5000)]}, "issues.0.title"),
        ({"repository": "octo/app", "issues": [], "state": "some"}, "state"),
        # Valid times that UTC cannot hold: the year 10000 and the year 0 once converted.
        ({"repository": "a/b", "issues": [issue(1, updated_at="9999-12-31T23:59:59-23:59")]}, "issues.0.updated_at"),
        ({"repository": "a/b", "issues": [issue(1, created_at="0001-01-01T00:00:00+00:01")]}, "issues.0.created_at"),
        ({"repository": "octo/app", "issues": [], "extra": True}, "extra"),
        (["octo/app"], "(body)"),
    ],
)
def test_wrong_shapes_get_422_naming_the_field_and_change_nothing(client: TestClient, body: Any, field: str) -> None:
    push(client, {"repository": "octo/app", "issues": [issue(1)]})
    response = push(client, body)
    assert response.status_code == 422
    assert field in [error["field"] for error in response.json()["fields"]]
    board = client.get("/api/dashboard/issues?repository=octo/app").json()
    assert [i["number"] for i in board["issues"]] == [1] and board["revision"] == 1


def test_malformed_json_gets_400(client: TestClient) -> None:
    response = client.post(
        "/api/dashboard/sync-issues",
        content=b'{"repository": "octo/app", "issues": [',
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 400 and "not valid JSON" in response.json()["error"]
    response = client.post(
        "/api/dashboard/sync-issues", content=b"\xff\xfe", headers={"content-type": "application/json"}
    )
    assert response.status_code == 400


def test_json_nested_deeper_than_the_limit_gets_400_naming_the_limit(client: TestClient) -> None:
    for deep in (b"[" * 5000 + b"]" * 5000, b'{"a":' * 65 + b"1" + b"}" * 65):
        response = client.post("/api/dashboard/sync-issues", content=deep, headers={"content-type": "application/json"})
        assert response.status_code == 400 and "more than 64 deep" in response.json()["error"]
    for constant in ("NaN", "Infinity", "-Infinity"):  # Python's json writes and reads these; JSON has none
        refused = client.post(
            "/api/dashboard/sync-issues",
            content=b'{"repository": "octo/app", "issues": [], "x": ' + constant.encode() + b"}",
            headers={"content-type": "application/json"},
        )
        assert refused.status_code == 400 and f"{constant.lstrip('-')} is not a JSON value" in refused.json()["error"]
    assert client.get("/api/dashboard/issues").json()["repository"] is None


def test_a_tool_date_that_utc_cannot_hold_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="since is outside the years 1 to 9999 once converted to UTC"):
        parse_since("9999-12-31T23:59:59-23:59", "since")
    assert parse_since("2026-11-01T12:00:00+02:00", "since") == datetime(2026, 11, 1, 10, tzinfo=UTC)


def test_non_json_content_type_gets_415(client: TestClient) -> None:
    response = client.post("/api/dashboard/sync-issues", content=b"repository=octo/app")
    assert response.status_code == 415 and "application/json" in response.json()["error"]


def test_oversized_bodies_get_413_whether_declared_or_streamed(client: TestClient) -> None:
    big = {"repository": "octo/app", "issues": [issue(n, title="x" * 900) for n in range(1, 200)]}
    response = push(client, big)
    assert response.status_code == 413 and "65536 bytes" in response.json()["error"]

    def chunks() -> Iterator[bytes]:  # no Content-Length: the server must count as it reads
        yield b'{"repository": "octo/app", "issues": ['
        for _ in range(100):
            yield b'{"number": 1, "title": "' + b"x" * 1000 + b'", "state": "open"},'
        yield b"]}"

    response = client.post("/api/dashboard/sync-issues", content=chunks(), headers={"content-type": "application/json"})
    assert response.status_code == 413
    assert client.get("/api/dashboard/issues").json()["repository"] is None


def test_page_renders_boards_with_hostile_text_escaped(client: TestClient) -> None:
    push(
        client,
        {
            "repository": "octo/app",
            "issues": [
                issue(5, title=HOSTILE, labels=[{"name": "<b>label</b>", "color": "00ff00"}], author="<i>x</i>")
            ],
        },
    )
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    html = page.text
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;&lt;script&gt;alert(2)&lt;/script&gt;" in html
    assert "<script>alert(2)</script>" not in html and 'onerror="alert(1)"' not in html
    assert "&lt;b&gt;label&lt;/b&gt;" in html
    assert "background-color:#00ff00;color:#000000" in html  # readable text on a light label
    assert 'data-repository="octo/app"' in html and 'href="https://github.com/octo/app"' in html
    assert re.search(r'<section class="empty" id="empty"[^>]* hidden>', html)


def test_empty_page_explains_how_to_connect(client: TestClient) -> None:
    html = client.get("/").text
    assert "No boards yet" in html and "/sse" in html and "/mcp" in html
    assert client.get("/static/dashboard.js").status_code == 200
    assert client.get("/static/dashboard.css").status_code == 200


def test_healthz(client: TestClient, backend: str) -> None:
    push(client, {"repository": "octo/app", "issues": []})
    health = client.get("/healthz").json()
    assert health == {"status": "ok", "store": backend, "entries": 1, "revision": 1, "subscribers": 0}


def test_pushes_from_foreign_hosts_and_origins_are_refused(client: TestClient) -> None:
    body = {"repository": "octo/app", "issues": [issue(1)]}
    foreign_host = client.post("/api/dashboard/sync-issues", json=body, headers={"Host": "evil.example"})
    assert foreign_host.status_code == 421 and "ISSUEBRIDGE_ALLOWED_HOSTS" in foreign_host.json()["error"]
    foreign_origin = client.post("/api/dashboard/sync-issues", json=body, headers={"Origin": "https://evil.example"})
    assert foreign_origin.status_code == 403
    assert client.get("/api/dashboard/issues").json()["repository"] is None  # nothing was written
    same_origin = client.post("/api/dashboard/sync-issues", json=body, headers={"Origin": "http://127.0.0.1:8000"})
    assert same_origin.status_code == 200


def test_allowed_hosts_can_be_extended(tmp_path: Path) -> None:
    settings = Settings(db_path=tmp_path / "b.db", extra_allowed_hosts=("dash.example.com",))
    with TestClient(create_app(settings), base_url="http://dash.example.com") as proxied:
        response = proxied.post("/api/dashboard/sync-issues", json={"repository": "octo/app", "issues": []})
    assert response.status_code == 200


def test_the_page_carries_a_content_security_policy(client: TestClient) -> None:
    headers = client.get("/").headers
    policy = headers["content-security-policy"]
    assert "default-src 'self'" in policy and "script-src 'self'" in policy and "style-src 'self'" in policy
    assert "'unsafe-inline'" not in policy.split("style-src-attr")[0]  # no inline scripts or <style> blocks
    assert headers["x-content-type-options"] == "nosniff"
