"""Property-based fuzzing of the write API: whatever arrives, the answer is a clear 4xx or a 200,
never a crash, and a refused body changes nothing."""

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from issuebridge.app import create_app
from issuebridge.settings import Settings

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=20,
)
issues = st.lists(
    st.fixed_dictionaries(
        {
            "number": st.integers(-5, 10**12),
            "title": st.text(max_size=50),
            "state": st.sampled_from(["open", "closed", "x"]),
        },
        optional={
            "labels": st.lists(
                st.fixed_dictionaries({"name": st.text(max_size=20), "color": st.text(max_size=8)}), max_size=3
            ),
            "html_url": st.sampled_from(["https://github.com/a/b/issues/1", "javascript:alert(1)", "", "//x"]),
            "updated_at": st.sampled_from(["2024-01-01T00:00:00Z", "yesterday", "2024-13-01"]),
            "comments": st.integers(-3, 5),
        },
    ),
    max_size=5,
)
bodies = st.one_of(
    json_values,
    st.fixed_dictionaries({"repository": st.text(max_size=30), "issues": issues}),
    st.fixed_dictionaries({"repository": st.sampled_from(["octo/app", "a/b", "-x/y", "octo/.."]), "issues": issues}),
)


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    path: Path = tmp_path_factory.mktemp("fuzz") / "b.db"
    # Hundreds of pushes from one client: lift the rate limit, which has its own tests.
    app = create_app(Settings(db_path=path, github_api_url="http://127.0.0.1:9", rate_limit="100000/minute"))
    with TestClient(app, base_url="http://127.0.0.1:8000") as test_client:
        yield test_client


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=bodies)
def test_any_json_body_gets_a_clear_answer(client: TestClient, body: Any) -> None:
    before = client.get("/healthz").json()["revision"]
    response = client.post(
        "/api/dashboard/sync-issues", content=json.dumps(body), headers={"content-type": "application/json"}
    )
    assert response.status_code in (200, 422), response.text
    if response.status_code == 422:
        assert response.json()["fields"] and client.get("/healthz").json()["revision"] == before
    else:
        assert client.get("/healthz").json()["revision"] == before + 1


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=st.binary(max_size=200))
def test_any_bytes_get_a_clear_answer(client: TestClient, raw: bytes) -> None:
    response = client.post("/api/dashboard/sync-issues", content=raw, headers={"content-type": "application/json"})
    assert response.status_code in (200, 400, 422)
    assert "error" in response.json() or response.status_code == 200
