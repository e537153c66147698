"""ISSUEBRIDGE_TOKEN: the auth matrix over every route, in-process (the MCP clients are in e2e)."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from issuebridge.app import create_app
from issuebridge.settings import Settings
from issuebridge.web.auth import COOKIE

TOKEN = "s3cret-token-for-tests"
PUSH = {"repository": "octo/app", "issues": [{"number": 1, "title": "t", "state": "open"}]}


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    settings = Settings(db_path=tmp_path / "b.db", api_token=TOKEN, github_api_url="http://127.0.0.1:9")
    with TestClient(create_app(settings), base_url="http://127.0.0.1:8000", follow_redirects=False) as test_client:
        yield test_client


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


ROUTES = [
    ("GET", "/"),
    ("GET", "/api/dashboard/issues"),
    ("POST", "/api/dashboard/sync-issues"),
    ("GET", "/sse"),
    ("POST", "/messages/?session_id=0123456789abcdef0123456789abcdef"),
    ("POST", "/mcp"),
]


@pytest.mark.parametrize(("method", "path"), ROUTES)
@pytest.mark.parametrize("token", [None, "wrong", TOKEN[:-1], TOKEN + "x"])
def test_without_the_right_token_every_route_is_refused(
    client: TestClient, method: str, path: str, token: str | None
) -> None:
    headers = bearer(token) if token else {}
    response = client.request(method, path, headers=headers, json=PUSH if method == "POST" else None)
    assert response.status_code == 401
    if path != "/":
        assert response.json() == {"error": "this server needs Authorization: Bearer <ISSUEBRIDGE_TOKEN>"}
        assert response.headers["www-authenticate"].startswith("Bearer")
    assert TOKEN not in response.text


def test_with_the_right_token_the_api_works(client: TestClient) -> None:
    assert client.post("/api/dashboard/sync-issues", json=PUSH, headers=bearer(TOKEN)).status_code == 200
    assert client.get("/api/dashboard/issues", headers=bearer(TOKEN)).json()["repository"] == "octo/app"
    assert client.get("/", headers=bearer(TOKEN)).status_code == 200
    assert client.get("/", headers={"Authorization": f"bearer {TOKEN}"}).status_code == 200  # scheme is case-blind


def test_health_static_and_login_stay_open(client: TestClient) -> None:
    assert client.get("/healthz").status_code == 200
    assert client.get("/static/dashboard.js").status_code == 200
    login = client.get("/login")
    assert login.status_code == 200 and 'name="token"' in login.text
    page = client.get("/")
    assert page.status_code == 401 and 'action="/login"' in page.text  # a person gets the form


def test_a_token_link_signs_the_browser_in_with_a_safe_cookie(client: TestClient) -> None:
    assert client.get("/?token=wrong").status_code == 401
    response = client.get(f"/?token={TOKEN}")
    assert response.status_code == 303 and response.headers["location"] == "/"  # the token leaves the URL
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}=") and "HttpOnly" in cookie and "SameSite=strict" in cookie
    assert TOKEN not in cookie
    assert client.get("/").status_code == 200  # the cookie is kept by the client
    assert client.get("/api/dashboard/issues").status_code == 200
    # A cookie reads the dashboard; it never writes, and never reaches MCP.
    assert client.post("/api/dashboard/sync-issues", json=PUSH).status_code == 401
    assert client.post("/mcp", json={}).status_code == 401
    assert client.get("/sse").status_code == 401


def test_the_login_form(client: TestClient) -> None:
    wrong = client.post("/login", data={"token": "nope"})
    assert wrong.status_code == 401 and "not right" in wrong.text
    right = client.post("/login", data={"token": TOKEN})
    assert right.status_code == 303 and right.headers["location"] == "/"
    assert client.get("/").status_code == 200
    huge = client.post(
        "/login", content=b"token=" + b"x" * 10_000, headers={"content-type": "application/x-www-form-urlencoded"}
    )
    assert huge.status_code == 413


def test_a_forged_cookie_is_refused(client: TestClient) -> None:
    client.cookies.set(COOKIE, TOKEN)  # the token itself is not the session value
    assert client.get("/").status_code == 401
    client.cookies.set(COOKIE, "0" * 64)
    assert client.get("/api/dashboard/issues").status_code == 401


def test_without_a_token_configured_everything_is_open(tmp_path: Path) -> None:
    with TestClient(create_app(Settings(db_path=tmp_path / "b.db")), base_url="http://localhost:8000") as open_client:
        assert open_client.post("/api/dashboard/sync-issues", json=PUSH).status_code == 200
        assert open_client.get("/").status_code == 200
