"""Fixtures shared by all tests: the fake GitHub, Redis, the store axis, and the app on a real socket."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from testkit.fake_github import FakeGitHub
from testkit.servers import ClosedPort, Listener, RedisServer
from tests.disk import disk  # noqa: F401 - a full disk for SQLite stores: the fixture, for every test
from tests.inprocess import AppServer, start_app

# Every HTTP client loads the system's CA bundle when it is made, some 30 ms each, and the tests
# make thousands (the app's GitHub client per server, the tests' own, the command-line clients
# they run, which inherit this). They speak plain HTTP to loopback only: an empty directory of
# CAs, so that a TLS connection, were one ever made, would fail rather than be trusted.
_NO_CERTIFICATES = Path(tempfile.gettempdir()) / "issuebridge-tests-no-ca"
_NO_CERTIFICATES.mkdir(exist_ok=True)
os.environ["SSL_CERT_DIR"] = str(_NO_CERTIFICATES)
os.environ.pop("SSL_CERT_FILE", None)  # which clients would read first

pytest_plugins = ["tests.browser"]  # one Chromium per session: the browser fixtures


@pytest.fixture
def fake_github() -> Iterator[FakeGitHub]:
    with FakeGitHub() as fake:
        yield fake


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    if shutil.which("redis-server") is None:
        if os.environ.get("ISSUEBRIDGE_TEST_REQUIRE_REDIS"):
            raise AssertionError("redis-server is not installed; .ci/run installs the Debian package redis-server")
        pytest.skip("redis-server is not installed (apt-get install redis-server): Redis backend not tested")
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", "redis"])
def backend(request: pytest.FixtureRequest) -> str:
    """The store axis: a test that names this fixture (or uses it) runs once on each store.

    Only tests whose behaviour depends on the store do (what a restart keeps, what several
    workers share, the store failing, resuming from a revision); every other test runs on SQLite.
    """
    return str(request.param)


@pytest.fixture
def store_env(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, str]:
    """The environment that selects the test's store: a SQLite file, or a fresh Redis database
    for a test on the store axis (``backend``)."""
    backend = request.getfixturevalue("backend") if "backend" in request.fixturenames else "sqlite"
    env = {"ISSUEBRIDGE_DB": str(tmp_path / "boards.db")}
    if backend == "redis":
        env["ISSUEBRIDGE_REDIS_URL"] = request.getfixturevalue("redis_server").fresh_url()
    return env


@pytest.fixture
def store_settings(store_env: dict[str, str]) -> dict[str, Any]:
    """``Settings`` keyword arguments that select the test's store, for apps built in the test process."""
    return {"db_path": Path(store_env["ISSUEBRIDGE_DB"]), "redis_url": store_env.get("ISSUEBRIDGE_REDIS_URL")}


@pytest.fixture
def server_env(fake_github: FakeGitHub, store_env: dict[str, str]) -> dict[str, str]:
    return {"GITHUB_API_URL": fake_github.url, **store_env}


@pytest.fixture
def server(server_env: dict[str, str]) -> Iterator[AppServer]:
    """The app for ``server_env`` on a real socket, in this process (``tests/inprocess.py``)."""
    running = start_app(server_env)
    yield running
    running.stop()


@pytest.fixture
def listener() -> Iterator[Listener]:
    """A loopback address kept for the whole test: a server restarted on it keeps its URL."""
    with Listener() as listening:
        yield listening


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A loopback port that refuses connections for the whole test (nothing can listen there)."""
    with ClosedPort() as closed:
        yield closed.port
