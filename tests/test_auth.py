"""ISSUEBRIDGE_TOKEN: the auth matrix over every route, failed attempts per address, and dashboard
sessions (expiry, sign-out), in-process. The MCP clients, open streams and Chromium are in e2e."""

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from limits import parse as parse_rate
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient
from starlette.types import Message

from issuebridge.app import create_app
from issuebridge.settings import Settings
from issuebridge.store import StoreError
from issuebridge.web.auth import TokenAuth
from issuebridge.web.ratelimit import AuthFailures
from issuebridge.web.sessions import COOKIE, Sessions, session_of

TOKEN = "s3cret-token-for-tests"
PUSH = {"repository": "octo/app", "issues": [{"number": 1, "title": "t", "state": "open"}]}


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    # Enough failed attempts for the matrix below; the limit itself is tested further down.
    settings = Settings(
        db_path=tmp_path / "b.db",
        api_token=TOKEN,
        github_api_url="http://127.0.0.1:9",
        auth_failure_limit="1000/minute",
    )
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
    assert "Max-Age=604800" in cookie and "Secure" not in cookie  # a week; plain http here
    assert TOKEN not in cookie
    assert client.get("/").status_code == 200  # the cookie is kept by the client
    assert client.get("/api/dashboard/issues").status_code == 200
    # A cookie reads the dashboard; it never writes, and never reaches MCP.
    assert client.post("/api/dashboard/sync-issues", json=PUSH).status_code == 401
    assert client.post("/mcp", json={}).status_code == 401
    assert client.get("/sse").status_code == 401
    assert client.get("/favicon.ico").status_code == 401
    assert client.get("/").status_code == 200  # refused elsewhere, the session is still kept


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


@pytest.mark.parametrize("spelling", ["token", "%74oken", "t%6Fken", "%74%6F%6B%65%6E"])
def test_a_token_link_signs_in_however_the_name_is_spelled(client: TestClient, spelling: str) -> None:
    """Starlette decodes the query, so each of these signs in (and web/access_log.py redacts each)."""
    response = client.get(f"/?{spelling}={TOKEN}")
    assert response.status_code == 303 and response.headers["location"] == "/"


# ---- failed attempts per address ----------------------------------------------------------


def guarded_app(tmp_path: Path, **settings: Any) -> TestClient:
    base: dict[str, Any] = {"db_path": tmp_path / "b.db", "api_token": TOKEN, "github_api_url": "http://127.0.0.1:9"}
    app = create_app(Settings(**{**base, **settings}))
    return TestClient(app, base_url="http://127.0.0.1:8000", follow_redirects=False)


def attempt(client: TestClient, way: str, token: str) -> Any:
    """One attempt to authenticate with ``token``, presented ``way``."""
    if way == "bearer on /mcp":
        return client.post("/mcp", json={}, headers=bearer(token))
    if way == "bearer on a read":
        return client.get("/api/dashboard/issues", headers=bearer(token))
    if way == "sign-in form":
        return client.post("/login", data={"token": token})
    if way == "token link":
        return client.get("/", params={"token": token})
    assert way == "encoded token link"
    return client.get(f"/?%74oken={token}")


WAYS = ["bearer on /mcp", "bearer on a read", "sign-in form", "token link", "encoded token link"]


@pytest.mark.parametrize("way", WAYS)
def test_failed_attempts_are_limited_per_address_whichever_way_the_token_comes(tmp_path: Path, way: str) -> None:
    with guarded_app(tmp_path, auth_failure_limit="5/minute") as client:
        assert [attempt(client, way, f"guess-{n}").status_code for n in range(5)] == [401] * 5
        locked = attempt(client, way, "guess-5")
        assert locked.status_code == 429 and 1 <= int(locked.headers["retry-after"]) <= 60
        assert "too many failed attempts to authenticate from this address" in locked.json()["error"]
        # No answer tells a right token from a wrong one now, whichever way it is sent.
        for other_way in WAYS:
            assert attempt(client, other_way, TOKEN).status_code == 429, other_way
        # Another address is not held up.
        elsewhere = TestClient(client.app, base_url="http://127.0.0.1:8000", client=("10.0.0.9", 1))
        assert elsewhere.get("/api/dashboard/issues", headers=bearer(TOKEN)).status_code == 200


def test_changing_addresses_gains_nothing_past_the_limit_for_all_of_them(tmp_path: Path) -> None:
    """Many addresses (or X-Forwarded-For, which uvicorn trusts from loopback) share a ceiling."""
    with guarded_app(tmp_path, auth_failure_limit="2/minute") as client:
        answers = []
        for n in range(25):  # one failure each from 25 addresses; together they may fail 20 times
            fresh = TestClient(client.app, base_url="http://127.0.0.1:8000", client=(f"10.1.0.{n}", 1))
            answers.append(fresh.post("/mcp", json={}, headers=bearer(f"guess-{n}")).status_code)
        assert answers == [401] * 20 + [429] * 5
        last = fresh.get("/api/dashboard/issues", headers=bearer(TOKEN))
        assert last.status_code == 429 and "from anywhere" in last.json()["error"]


def test_forged_cookies_count_as_failed_attempts_and_are_dropped(tmp_path: Path) -> None:
    with guarded_app(tmp_path, auth_failure_limit="3/minute") as client:
        for forged in ("0" * 64, "x.1.y", f"{'A' * 22}.9999999999.{'0' * 64}"):
            client.cookies.set(COOKIE, forged)
            refused = client.get("/api/dashboard/issues")
            assert refused.status_code == 401
            assert refused.headers["set-cookie"].startswith(f'{COOKIE}=""; ')  # the browser forgets it
        client.cookies.clear()
        assert client.get("/api/dashboard/issues", headers=bearer(TOKEN)).status_code == 429


def test_a_signed_in_browser_keeps_reading_while_its_address_is_locked(tmp_path: Path) -> None:
    """A session cookie reveals nothing about the token, so it is still checked (and honoured)."""
    with guarded_app(tmp_path, auth_failure_limit="2/minute") as client:
        assert client.get(f"/?token={TOKEN}").status_code == 303
        for n in range(3):
            client.post("/mcp", json={}, headers=bearer(f"guess-{n}"))
        assert client.post("/mcp", json={}, headers=bearer(TOKEN)).status_code == 429
        assert client.get("/").status_code == 200
        assert client.get("/api/dashboard/issues").status_code == 200


def test_right_tokens_never_count_as_failures(tmp_path: Path) -> None:
    with guarded_app(tmp_path, auth_failure_limit="2/minute") as client:
        assert all(client.get("/api/dashboard/issues", headers=bearer(TOKEN)).status_code == 200 for _ in range(10))
        assert client.post("/login", data={"token": TOKEN}).status_code == 303


# ---- sessions -----------------------------------------------------------------------------


def sign_in(client: TestClient) -> str:
    response = client.post("/login", data={"token": TOKEN})
    assert response.status_code == 303
    return str(client.cookies[COOKIE])


def test_each_sign_in_is_a_session_of_its_own(client: TestClient) -> None:
    first, second = sign_in(client), sign_in(client)
    assert first != second and TOKEN not in first


def test_signing_out_ends_the_session_for_every_copy_of_the_cookie(client: TestClient) -> None:
    cookie = sign_in(client)
    page = client.get("/")
    assert page.status_code == 200 and 'action="/logout"' in page.text and "Sign out" in page.text
    signed_out = client.post("/logout", headers={"Origin": "http://127.0.0.1:8000"})
    assert signed_out.status_code == 303 and signed_out.headers["location"] == "/login"
    assert signed_out.headers["set-cookie"].startswith(f'{COOKIE}=""; ')
    assert COOKIE not in client.cookies
    client.cookies.set(COOKIE, cookie)  # a copy taken before signing out
    ended = client.get("/")
    assert ended.status_code == 401 and "Your session has ended" in ended.text
    client.cookies.set(COOKIE, cookie)
    assert client.get("/api/dashboard/issues").status_code == 401
    client.cookies.set(COOKIE, cookie)
    assert client.get("/api/dashboard/events").status_code == 401


def test_signing_out_needs_the_dashboards_own_origin(client: TestClient) -> None:
    sign_in(client)
    assert client.post("/logout").status_code == 403  # no Origin: not the page's own form
    assert client.post("/logout", headers={"Origin": "http://evil.example"}).status_code == 403
    assert client.get("/logout").status_code == 405
    assert client.get("/").status_code == 200  # still signed in


def test_a_bearer_token_shows_no_sign_out(client: TestClient) -> None:
    page = client.get("/", headers=bearer(TOKEN))
    assert page.status_code == 200 and 'action="/logout"' not in page.text


def test_the_cookie_is_secure_when_the_public_url_is_https(tmp_path: Path) -> None:
    with guarded_app(tmp_path, public_url="https://dash.example.com") as client:
        cookie = client.post("/login", data={"token": TOKEN}).headers["set-cookie"]
    assert "Secure" in cookie


@pytest.mark.usefixtures("backend")  # the sign-out is kept in the store the workers share
def test_a_signed_out_session_is_refused_by_every_worker(store_settings: dict[str, Any]) -> None:
    """Two servers on one store (SQLite file, or Redis), as two workers: a sign-out on one holds on both."""
    settings = Settings(**store_settings, api_token=TOKEN, github_api_url="http://127.0.0.1:9")
    first = TestClient(create_app(settings), base_url="http://127.0.0.1:8000", follow_redirects=False)
    second = TestClient(create_app(settings), base_url="http://127.0.0.1:8000", follow_redirects=False)
    with first, second:
        cookie = sign_in(first)
        second.cookies.set(COOKIE, cookie)
        assert second.get("/api/dashboard/issues").status_code == 200
        assert first.post("/logout", headers={"Origin": "http://127.0.0.1:8000"}).status_code == 303
        assert second.get("/api/dashboard/issues").status_code == 401


class ClaimsInMemory:
    """The store's claims, on the test's clock."""

    def __init__(self, clock: list[float]) -> None:
        self._clock = clock
        self.claims: dict[str, float] = {}

    async def claim(self, name: str, ttl_seconds: float) -> bool:
        if self.claims.get(name, 0) > self._clock[0]:
            return False
        self.claims[name] = self._clock[0] + ttl_seconds
        return True

    async def claimed(self, name: str) -> bool:
        return self.claims.get(name, 0) > self._clock[0]


@pytest.fixture
def clock() -> list[float]:
    return [1_800_000_000.0]


def session_app(clock: list[float], claims: ClaimsInMemory, lifetime: float) -> TestClient:
    async def whoami(request: Request) -> PlainTextResponse:
        return PlainTextResponse("session" if session_of(request.scope) else "bearer")

    sessions = Sessions(TOKEN, lifetime, claims, clock=lambda: clock[0])
    auth = Middleware(
        TokenAuth,
        token=TOKEN,
        sessions=sessions,
        failures=AuthFailures(parse_rate("100/minute")),
        secure_cookie=False,
    )
    app = Starlette(routes=[Route("/", whoami), Route("/api/dashboard/issues", whoami)], middleware=[auth])
    return TestClient(app, base_url="http://127.0.0.1:8000", follow_redirects=False)


def test_a_session_expires_after_its_lifetime(clock: list[float]) -> None:
    claims = ClaimsInMemory(clock)
    with session_app(clock, claims, lifetime=3600) as client:
        assert client.get(f"/?token={TOKEN}").status_code == 303
        clock[0] += 3599
        assert client.get("/api/dashboard/issues").text == "session"
        clock[0] += 1
        ended = client.get("/")
        assert ended.status_code == 401 and "Your session has ended" in ended.text
        assert COOKIE not in client.cookies  # and the browser is told to drop it


def test_shortening_the_lifetime_ends_longer_sessions_at_once(clock: list[float]) -> None:
    claims = ClaimsInMemory(clock)
    with session_app(clock, claims, lifetime=86400) as client:
        client.get(f"/?token={TOKEN}")
        cookie = client.cookies[COOKIE]
    with session_app(clock, claims, lifetime=60) as restarted:
        restarted.cookies.set(COOKIE, cookie)
        assert restarted.get("/api/dashboard/issues").status_code == 401


def test_a_revocation_is_kept_as_long_as_the_session_would_live_and_no_longer(clock: list[float]) -> None:
    claims = ClaimsInMemory(clock)
    with session_app(clock, claims, lifetime=3600) as client:
        client.get(f"/?token={TOKEN}")
        clock[0] += 600
        assert client.post("/logout", headers={"Origin": "http://127.0.0.1:8000"}).status_code == 303
    (expires,) = claims.claims.values()
    assert expires == clock[0] + 3000 + 60  # what was left of the session, and a minute


async def test_an_open_request_hears_a_disconnect_when_its_session_expires_or_is_revoked(clock: list[float]) -> None:
    sessions = Sessions(TOKEN, 3600, ClaimsInMemory(clock), clock=lambda: clock[0])
    never = asyncio.Event()

    async def client_stays() -> Message:
        await never.wait()
        raise AssertionError("unreachable")

    expiring = sessions.read(sessions.issue())
    assert expiring is not None
    clock[0] = expiring.expires - 0.05  # 50 ms of the session left
    async with sessions.held(expiring, client_stays) as receive:
        assert await asyncio.wait_for(receive(), 5) == {"type": "http.disconnect"}

    clock[0] -= 1000
    revoked = sessions.read(sessions.issue())
    assert revoked is not None
    async with sessions.held(revoked, client_stays) as receive:
        waiting = asyncio.ensure_future(receive())
        await asyncio.sleep(0)
        await sessions.revoke(revoked)
        assert await asyncio.wait_for(waiting, 5) == {"type": "http.disconnect"}


class UnreachableClaims(ClaimsInMemory):
    async def claimed(self, name: str) -> bool:
        raise StoreError("the dashboard's Redis at redis://127.0.0.1:6379/0 cannot be written (refused)")


def test_a_session_that_cannot_be_checked_is_refused_not_let_in(clock: list[float]) -> None:
    """While the store is away a sign-out made elsewhere cannot be seen: refuse, and say why."""
    with session_app(clock, UnreachableClaims(clock), lifetime=3600) as client:
        assert client.get(f"/?token={TOKEN}").status_code == 303
        refused = client.get("/api/dashboard/issues")
        assert refused.status_code == 503 and "the session cannot be checked now" in refused.json()["error"]
        assert client.get("/api/dashboard/issues", headers=bearer(TOKEN)).text == "bearer"
