"""``GET /api/dashboard/item``: one issue's or pull request's preview, in-process."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from issuebridge.app import create_app
from issuebridge.records.base import now
from issuebridge.records.bodies import BODY_BYTES
from issuebridge.records.pulls import PullRequest, PullsBoard
from issuebridge.settings import Settings
from issuebridge.web import preview
from issuebridge.web.sessions import COOKIE

TOKEN = "preview-token-for-tests"
HOSTILE = (
    '<script>alert(1)</script> <img src=x onerror="alert(2)"> [click](javascript:alert(3)) '
    '<a href="https://evil.example" onclick="alert(4)">raw</a> <iframe src="https://evil.example"></iframe>'
)


def issue(number: int, **fields: Any) -> dict[str, Any]:
    return {"number": number, "title": f"Issue {number}", "state": "open", **fields}


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    settings = Settings(db_path=tmp_path / "p.db", github_api_url="http://127.0.0.1:9")
    with TestClient(create_app(settings), base_url="http://127.0.0.1:8000") as test_client:
        yield test_client


def push(client: TestClient, repository: str, *issues: dict[str, Any]) -> None:
    response = client.post("/api/dashboard/sync-issues", json={"repository": repository, "issues": list(issues)})
    assert response.status_code == 200, response.text


def item(client: TestClient, **params: str) -> Any:
    return client.get("/api/dashboard/item", params=params)


def test_an_item_is_answered_with_its_body_rendered_and_sanitised(client: TestClient) -> None:
    body = "## Steps\n\n1. run `make`\n\n| a | b |\n|:-|-:|\n| 1 | 2 |\n\n" + HOSTILE
    push(client, "Octo/App", issue(7, body=body, html_url="https://github.com/Octo/App/issues/7", author="mona"))
    response = item(client, repository="octo/app", number="7")  # names match case-insensitively
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    answer = response.json()
    assert answer["reference"] == "Octo/App#7" and answer["number"] == 7
    assert answer["url"] == "https://github.com/Octo/App/issues/7"
    html = answer["html"]
    assert "<h2>Steps</h2>" in html and "<code>make</code>" in html and 'class="align-right"' in html
    for tag in ("<script", "<img", "<iframe"):
        assert tag not in html
    assert not re.search(r"<[^>]*\son\w+=", html)  # no handler on any tag
    assert not re.search(r"""href=["']?javascript""", html)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html  # raw HTML comes out as text
    assert 'data-reference="Octo/App#7"' in html and "Open on GitHub" in html
    assert "Trimmed" not in html


def test_what_the_drawer_says_of_a_trimmed_a_missing_and_an_unknown_body(client: TestClient) -> None:
    push(
        client,
        "octo/app",
        issue(1, body="x" * BODY_BYTES, body_trimmed=True),
        issue(2, body=""),
        issue(3),  # pushed without a body: not known
    )
    assert "Trimmed:" in item(client, repository="octo/app", number="1").json()["html"]
    assert "No description provided." in item(client, repository="octo/app", number="2").json()["html"]
    assert "not kept" in item(client, repository="octo/app", number="3").json()["html"]


def test_a_pull_request_is_found_on_its_board(client: TestClient) -> None:
    app: Any = client.app
    board = PullsBoard(
        repository="octo/app",
        state="open",
        source="mcp",
        last_updated=now(),
        pulls=[PullRequest(number=5, title="<b>Fix</b>", state="open", draft=True, body="**bold**")],
    )
    assert client.portal is not None
    client.portal.call(app.state.services.dashboard.put, board)
    answer = item(client, repository="octo/app", number="5").json()
    assert "<strong>bold</strong>" in answer["html"] and "&lt;b&gt;Fix&lt;/b&gt;" in answer["html"]
    assert "pull request" in answer["html"] and "draft" in answer["html"]


@pytest.mark.parametrize(
    ("params", "status", "message"),
    [
        ({}, 400, "repository=owner/repo&number=N"),
        ({"repository": "octo/app"}, 400, "repository=owner/repo&number=N"),
        ({"repository": "octo", "number": "1"}, 400, "owner/repo"),
        ({"repository": "octo/a b", "number": "1"}, 400, "not a valid GitHub repository name"),
        ({"repository": "octo/app", "number": "0"}, 400, "not an issue or pull-request number"),
        ({"repository": "octo/app", "number": "-1"}, 400, "not an issue or pull-request number"),
        ({"repository": "octo/app", "number": "1e3"}, 400, "not an issue or pull-request number"),
        ({"repository": "octo/app", "number": "٣"}, 400, "not an issue or pull-request number"),  # a digit, not ASCII
        ({"repository": "octo/app", "number": "2147483648"}, 400, "not an issue or pull-request number"),
        ({"repository": "octo/app", "number": "9" * 5000}, 400, "not an issue or pull-request number"),
        ({"repository": "octo/app", "number": "99"}, 404, "octo/app#99 is on no board"),
        ({"repository": "octo/other", "number": "1"}, 404, "octo/other#1 is on no board"),
    ],
)
def test_bad_input_is_400_and_an_unknown_item_404_both_json(
    client: TestClient, params: dict[str, str], status: int, message: str
) -> None:
    push(client, "octo/app", issue(1, body="b"))
    response = item(client, **params)
    assert response.status_code == status
    assert message in response.json()["error"]
    assert len(response.text) < 400  # a long input is not echoed back whole


def test_it_is_a_read_behind_the_token_and_host_checks(tmp_path: Path) -> None:
    settings = Settings(db_path=tmp_path / "t.db", api_token=TOKEN, github_api_url="http://127.0.0.1:9")
    with TestClient(create_app(settings), base_url="http://127.0.0.1:8000", follow_redirects=False) as client:
        auth = {"Authorization": f"Bearer {TOKEN}"}
        pushed = client.post(
            "/api/dashboard/sync-issues", json={"repository": "octo/app", "issues": [issue(1)]}, headers=auth
        )
        assert pushed.status_code == 200
        query = "/api/dashboard/item?repository=octo/app&number=1"
        assert client.get(query).status_code == 401
        assert client.get(query, headers={"Authorization": "Bearer wrong"}).status_code == 401
        assert client.get(query, headers=auth).status_code == 200
        assert client.post(query, headers=auth).status_code == 405  # read-only
        assert client.get(query, headers={**auth, "Host": "evil.example"}).status_code == 421
        assert client.get(query, headers={**auth, "Origin": "https://evil.example"}).status_code == 403
        signed_in = client.get(f"/?token={TOKEN}")
        assert signed_in.status_code == 303 and re.search(f"{COOKIE}=", signed_in.headers["set-cookie"])
        assert client.get(query).status_code == 200  # the page's session cookie reads it, as the page does


def test_a_slow_body_is_rendered_off_the_event_loop_and_once(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Anyone can write an issue's body, and some 8 KB of Markdown take markdown-it most of a
    second: the server keeps answering meanwhile, and the next preview of it is not rendered again."""
    push(client, "octo/app", issue(1, body="[" * 8000))
    started, release = threading.Event(), threading.Event()
    released: list[bool] = []

    def slow(body: str) -> str:
        started.set()
        released.append(release.wait(5))  # False if the test could not get an answer meanwhile
        return "<p>rendered</p>"

    monkeypatch.setattr(preview, "render_markdown", slow)
    preview.rendered_body.cache_clear()
    with ThreadPoolExecutor(1) as pool:
        pending = pool.submit(item, client, repository="octo/app", number="1")
        assert started.wait(5)
        assert client.get("/healthz").status_code == 200  # answered while the body is being rendered
        release.set()
        assert "<p>rendered</p>" in pending.result(10).json()["html"]
    assert released == [True]
    assert "<p>rendered</p>" in item(client, repository="octo/app", number="1").json()["html"]
    assert released == [True]  # kept: not rendered a second time
