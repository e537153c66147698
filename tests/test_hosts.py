"""Host and Origin on every dashboard route (DNS rebinding, cross-site requests), in-process.

Without ``ISSUEBRIDGE_TOKEN`` (the default, local set-up) these checks are all that keeps a web
page from reading a private board through a name it rebinds to 127.0.0.1.
"""

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from starlette.testclient import TestClient

from issuebridge.app import create_app
from issuebridge.settings import Settings, SettingsError
from issuebridge.web.hosts import AllowedHosts, InvalidHostPattern, parse_host_pattern
from testkit.fake_github import webhook_request
from tests.inprocess import serving

STREAMS = ["/api/dashboard/events", "/sse"]

PUSH = {"repository": "octo/app", "issues": [{"number": 1, "title": "Private", "state": "open"}]}
# Every route that serves or changes dashboard data, and what it is sent. The two streams are
# tried through a real server below: let in, they would never end under TestClient.
ROUTES = [
    ("GET", "/"),
    ("GET", "/api/dashboard/issues"),
    ("POST", "/api/dashboard/sync-issues"),
    ("POST", "/messages/?session_id=0123456789abcdef0123456789abcdef"),
    ("POST", "/mcp"),
    ("GET", "/login"),
    ("POST", "/login"),
    ("POST", "/logout"),
]
FOREIGN_HOSTS = [
    "evil.com",
    "localhost.evil.com",
    "localhost:evil.com",  # passed the SDK's prefix match of localhost:*
    "localhost:8000.evil.com",
    "127.0.0.1.evil.com:8000",
    "127.0.0.1:8000@evil.com",
    "[::1].evil.com",
    "localhost.",
    "localhost:",
    "localhost:99999",
    "local host",
    "",
]
FOREIGN_ORIGINS = [
    "http://evil.com",
    "http://localhost:8302.evil.com",  # passed the SDK's prefix match of http://localhost:*
    "http://localhost.evil.com:8000",
    "http://127.0.0.1:8000.evil.com",
    "http://localhost:8000/../evil",
    "null",
    "file://",
    "localhost:8000",
]


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """One server for the module: what it is sent here is refused, or changes nothing it holds."""
    db = tmp_path_factory.mktemp("hosts") / "b.db"
    settings = Settings(
        db_path=db, github_api_url="http://127.0.0.1:9", webhook_secret="whsec", rate_limit="1000/minute"
    )
    with TestClient(create_app(settings), base_url="http://127.0.0.1:8000") as test_client:
        assert test_client.post("/api/dashboard/sync-issues", json=PUSH).status_code == 200
        yield test_client


@pytest.mark.parametrize(("method", "path"), ROUTES)
@pytest.mark.parametrize("host", FOREIGN_HOSTS)
def test_every_dashboard_route_refuses_a_foreign_host(client: TestClient, method: str, path: str, host: str) -> None:
    response = client.request(method, path, headers={"Host": host}, json=PUSH if method == "POST" else None)
    assert response.status_code == 421, response.text
    assert "ISSUEBRIDGE_ALLOWED_HOSTS" in response.json()["error"]
    assert "Private" not in response.text


@pytest.mark.parametrize(("method", "path"), ROUTES)
@pytest.mark.parametrize("origin", FOREIGN_ORIGINS)
def test_every_dashboard_route_refuses_a_foreign_origin(
    client: TestClient, method: str, path: str, origin: str
) -> None:
    response = client.request(method, path, headers={"Origin": origin}, json=PUSH if method == "POST" else None)
    assert response.status_code == 403, response.text
    assert "ISSUEBRIDGE_ALLOWED_HOSTS" in response.json()["error"]


async def test_the_streams_refuse_foreign_hosts_and_origins(tmp_path: Path) -> None:
    """The event stream and MCP's SSE stream, through a real uvicorn: refused before they start."""
    app = create_app(Settings(db_path=tmp_path / "b.db", github_api_url="http://127.0.0.1:9"))
    async with (
        serving(app) as running,
        httpx.AsyncClient(base_url=running.url, timeout=10) as http,
    ):

        async def status(path: str, headers: dict[str, str]) -> int:
            async with http.stream("GET", path, headers=headers) as response:
                return response.status_code

        for path in STREAMS:
            for host in FOREIGN_HOSTS:
                assert await status(path, {"Host": host}) == 421, (path, host)
            for origin in FOREIGN_ORIGINS:
                assert await status(path, {"Origin": origin}) == 403, (path, origin)
            assert await status(path, {"Host": "localhost:8000", "Origin": "http://localhost:8000"}) == 200


def test_nothing_is_written_through_a_refused_host_or_origin(client: TestClient) -> None:
    other = {"repository": "octo/other", "issues": []}
    assert client.post("/api/dashboard/sync-issues", json=other, headers={"Host": "evil.com"}).status_code == 421
    assert (
        client.post("/api/dashboard/sync-issues", json=other, headers={"Origin": "http://evil.com"}).status_code == 403
    )
    assert client.get("/healthz").json()["entries"] == 1


@pytest.mark.parametrize(
    "host", ["127.0.0.1:8000", "localhost:8000", "LOCALHOST:8000", "localhost", "[::1]:8000", "[0:0::1]:1", "127.0.0.1"]
)
def test_loopback_names_with_any_port_are_answered(client: TestClient, host: str) -> None:
    page = client.get("/", headers={"Host": host})
    assert page.status_code == 200 and "Private" in page.text
    assert client.get("/api/dashboard/issues", headers={"Host": host}).json()["repository"] == "octo/app"


@pytest.mark.parametrize("origin", ["http://127.0.0.1:8000", "http://localhost:5173", "https://[::1]:8443"])
def test_local_origins_may_write(client: TestClient, origin: str) -> None:
    response = client.post("/api/dashboard/sync-issues", json=PUSH, headers={"Origin": origin})
    assert response.status_code == 200


def test_health_static_files_and_webhooks_answer_any_host(client: TestClient) -> None:
    foreign = {"Host": "evil.com", "Origin": "http://evil.com"}
    assert client.get("/healthz", headers=foreign).status_code == 200
    assert client.get("/static/dashboard.css", headers=foreign).status_code == 200
    body, headers = webhook_request("whsec", "ping", {"hook_id": 1})
    assert client.post("/webhooks/github", content=body, headers={**headers, **foreign}).status_code == 200


def test_configured_hosts_and_the_public_url_are_answered_exactly(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {
            "ISSUEBRIDGE_DB": str(tmp_path / "b.db"),
            "ISSUEBRIDGE_ALLOWED_HOSTS": "dash.example.com, 10.0.0.5:8000, dev.example.com:*",
            "ISSUEBRIDGE_PUBLIC_URL": "https://board.example.org/issues",
        }
    )
    with TestClient(create_app(settings), base_url="http://127.0.0.1:8000") as client:

        def status(host: str, origin: str | None = None) -> int:
            headers = {"Host": host} | ({"Origin": origin} if origin else {})
            return client.get("/api/dashboard/issues", headers=headers).status_code

        assert status("dash.example.com") == 200
        assert status("dash.example.com:8000") == 421  # an entry without a port allows no port
        assert status("10.0.0.5:8000") == 200
        assert status("10.0.0.5:8001") == 421 and status("10.0.0.5") == 421
        assert status("dev.example.com:3000") == 200
        assert status("dev.example.com") == 421 and status("dev.example.com:x") == 421
        assert status("board.example.org") == 200 and status("board.example.org:444") == 421
        assert status("board.example.org", "https://board.example.org") == 200
        assert status("board.example.org", "https://evil.example.org") == 403
        assert status("sub.dash.example.com") == 421


@pytest.mark.parametrize(
    ("pattern", "host", "allowed"),
    [
        ("localhost:*", "localhost:1", True),
        ("localhost:*", "localhost", False),
        ("localhost:*", "localhost:evil.com", False),
        ("localhost:8000", "localhost:08000", True),  # the same port
        ("[::1]:*", "[0000::1]:8000", True),  # the same address
        ("[::1]:*", "[::2]:8000", False),
        ("example.com", "EXAMPLE.com", True),
        ("example.com", "example.com.", False),
    ],
)
def test_host_patterns_compare_parsed_values(pattern: str, host: str, allowed: bool) -> None:
    assert AllowedHosts([pattern]).allows_host(host) is allowed


@pytest.mark.parametrize("bad", ["*", "*.example.com", "http://example.com", "example.com/x", "[nope]", "a:b", "a:0"])
def test_malformed_allowed_hosts_are_refused_at_start_up(bad: str) -> None:
    with pytest.raises(InvalidHostPattern):
        parse_host_pattern(bad)
    with pytest.raises(SettingsError, match="ISSUEBRIDGE_ALLOWED_HOSTS"):
        Settings.from_env({"ISSUEBRIDGE_ALLOWED_HOSTS": f"ok.example.com,{bad}"})
