"""The selection over HTTP: what a page's cookie may do (select, never push), cross-site refusals,
bad bodies, the bound, get_dashboard's ``selected`` and a restart (SQLite), in-process."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from issuebridge.app import create_app
from issuebridge.records.selection import MAX_SELECTED
from issuebridge.settings import Settings
from issuebridge.web.rows import select_box
from issuebridge.web.sessions import COOKIE

TOKEN = "s3cret-token-for-tests"
ORIGIN = "http://127.0.0.1:8000"
API = "/api/dashboard/selection"
PUSH = {"repository": "Octo/App", "issues": [{"number": 1, "title": "Crash on start", "state": "open"}]}


def settings(tmp_path: Path, token: str | None) -> Settings:
    return Settings(db_path=tmp_path / "s.db", api_token=token, github_api_url="http://127.0.0.1:9")


@pytest.fixture
def signed_in(tmp_path: Path) -> Iterator[TestClient]:
    """A client holding the page's session cookie, and no bearer token."""
    with TestClient(create_app(settings(tmp_path, TOKEN)), base_url=ORIGIN, follow_redirects=False) as client:
        client.headers["Authorization"] = f"Bearer {TOKEN}"
        assert client.post("/api/dashboard/sync-issues", json=PUSH).status_code == 200
        del client.headers["Authorization"]
        assert client.get(f"/?token={TOKEN}").status_code == 303
        assert COOKIE in client.cookies
        yield client


def test_the_cookie_may_select_from_the_page_and_get_dashboard_reads_it(signed_in: TestClient) -> None:
    answer = signed_in.post(API, json={"add": ["Octo/App#1", "octo/app#7"]}, headers={"Origin": ORIGIN})
    assert answer.status_code == 200, answer.text
    assert answer.json()["selected"] == ["octo/app#1", "octo/app#7"]
    read = signed_in.get(API).json()
    assert read == {
        "selected": [
            {"repository": "octo/app", "number": 1, "title": "Crash on start"},
            {"repository": "octo/app", "number": 7, "title": None},
        ]
    }
    assert signed_in.delete(API, headers={"Origin": ORIGIN}).json()["selected"] == []


def test_the_cookie_may_not_push_or_select_cross_site(signed_in: TestClient) -> None:
    assert signed_in.post("/api/dashboard/sync-issues", json=PUSH, headers={"Origin": ORIGIN}).status_code == 401
    no_origin = signed_in.post(API, json={"add": ["octo/app#1"]})
    assert no_origin.status_code == 403 and "error" in no_origin.json()
    foreign = signed_in.post(API, json={"add": ["octo/app#1"]}, headers={"Origin": "http://evil.example"})
    assert foreign.status_code == 403
    cross_site = signed_in.post(
        API, json={"add": ["octo/app#1"]}, headers={"Origin": ORIGIN, "Sec-Fetch-Site": "cross-site"}
    )
    assert cross_site.status_code == 403
    other_port = signed_in.delete(API, headers={"Origin": "http://127.0.0.1:8001"})
    assert other_port.status_code == 403
    assert signed_in.get(API).json() == {"selected": []}


def test_without_a_cookie_or_token_the_selection_is_closed(tmp_path: Path) -> None:
    with TestClient(create_app(settings(tmp_path, TOKEN)), base_url=ORIGIN) as client:
        assert client.post(API, json={"add": ["octo/app#1"]}, headers={"Origin": ORIGIN}).status_code == 401
        assert client.get(API).status_code == 401


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b'["octo/app#1"]',
        b'{"add": "octo/app#1"}',
        b'{"add": ["octo/app#0"]}',
        b'{"add": ["octo/app#1 "], "extra": 1}',
        b'{"add": ["octo/app"]}',
        b'{"add": ["-octo/app#1"]}',
        b'{"add": ["octo/app#1x"]}',
        b'{"add": ["octo/app#99999999999"]}',
        b'{"add": [1]}',
    ],
)
def test_bad_bodies_are_400_json_and_change_nothing(tmp_path: Path, body: bytes) -> None:
    with TestClient(create_app(settings(tmp_path, None)), base_url=ORIGIN) as client:
        answer = client.post(API, content=body, headers={"Content-Type": "application/json"})
        assert answer.status_code == 400, answer.text
        assert answer.json()["error"]
        assert client.get(API).json() == {"selected": []}


def test_without_a_token_writes_are_open_as_every_write_is(tmp_path: Path) -> None:
    with TestClient(create_app(settings(tmp_path, None)), base_url=ORIGIN) as client:
        assert client.post(API, json={"add": ["octo/app#3"]}).status_code == 200
        refused = client.post(API, json={"add": ["octo/app#4"]}, headers={"Origin": "http://evil.example"})
        assert refused.status_code == 403
        assert client.post(API, content=b"{}", headers={"Content-Type": "text/plain"}).status_code == 415


def test_at_most_the_bound_is_selected(tmp_path: Path) -> None:
    with TestClient(create_app(settings(tmp_path, None)), base_url=ORIGIN) as client:
        items = [f"octo/app#{n}" for n in range(1, MAX_SELECTED + 1)]
        assert client.post(API, json={"add": items}).json()["count"] == MAX_SELECTED
        past = client.post(API, json={"add": ["octo/app#100000"]})
        assert past.status_code == 400 and f"at most {MAX_SELECTED}" in past.json()["error"]
        assert client.get(API).json()["selected"][-1]["number"] == MAX_SELECTED


def test_the_selection_survives_a_restart_and_is_not_a_board(tmp_path: Path) -> None:
    with TestClient(create_app(settings(tmp_path, None)), base_url=ORIGIN) as client:
        client.post(API, json={"add": ["octo/app#5"]})
    with TestClient(create_app(settings(tmp_path, None)), base_url=ORIGIN) as client:
        assert client.get(API).json()["selected"] == [{"repository": "octo/app", "number": 5, "title": None}]
        page = client.get("/").text
        assert 'data-items="octo/app#5"' in page
        assert 'id="empty" aria-labelledby="empty-title">' in page  # no boards: the empty state shows
        assert client.get("/healthz").json()["entries"] == 0


def test_a_rows_checkbox_names_its_item_for_a_view_and_its_number_on_a_board() -> None:
    """The macro a search view's rows reuse: ``select_box(number, repository)``."""
    assert str(select_box(12)) == (
        '<input type="checkbox" class="select-row" autocomplete="off" aria-label="Select #12">'
    )  # the store keeps the selection, not the browser's form state
    named = str(select_box(12, "Octo/App"))
    assert 'aria-label="Select Octo/App#12"' in named and 'data-item="octo/app#12"' in named
    assert "&lt;" in str(select_box(1, "<x>/y"))  # escaped, whatever it is given
