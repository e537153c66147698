"""Property-based fuzzing of the write API and the webhook route: whatever arrives, the answer is a
clear 4xx or a 2xx, never a crash, and a refused body changes nothing."""

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from issuebridge.app import create_app
from issuebridge.settings import Settings
from issuebridge.web.bodies import MAX_JSON_DEPTH
from testkit.fake_github import make_comment, make_issue, make_webhook, sign_webhook, webhook_request

SECRET = "whsec-for-the-fuzz-tests"

# Times at the edges of what datetime holds, with every kind of offset: converted to UTC, some
# fall outside the years 1-9999 (9999-12-31T23:59:59-23:59 is in the year 10000 there).
extreme_times = st.builds(
    "{:04d}-{:02d}-{:02d}T{:02d}:{:02d}:{:02d}{}".format,
    st.sampled_from([1, 2, 1970, 9998, 9999]),
    st.sampled_from([1, 12]),
    st.sampled_from([1, 31]),
    st.sampled_from([0, 23]),
    st.sampled_from([0, 59]),
    st.sampled_from([0, 59]),
    st.sampled_from(["", "Z", "+00:00", "+23:59", "-23:59", "+01:30", "-00:01", "+14:00", "-12:00"]),
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=30),
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
            "created_at": extreme_times,
            "updated_at": st.sampled_from(["2024-01-01T00:00:00Z", "yesterday", "2024-13-01"]) | extreme_times,
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
    settings = Settings(
        db_path=path, github_api_url="http://127.0.0.1:9", rate_limit="100000/minute", webhook_secret=SECRET
    )
    app = create_app(settings)
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


def nested(depth: int, opener: str, closer: str, inner: str = "1") -> bytes:
    return (opener * depth + inner + closer * depth).encode()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    depth=st.integers(MAX_JSON_DEPTH + 1, 6000),
    shape=st.sampled_from([("[", "]"), ('{"a":', "}"), ('[{"b":', "}]")]),
    wrapped=st.booleans(),
)
def test_json_nested_too_deep_gets_400_and_changes_nothing(
    client: TestClient, depth: int, shape: tuple[str, str], wrapped: bool
) -> None:
    before = client.get("/healthz").json()["revision"]
    body = nested(depth, *shape)
    if wrapped:  # deep inside an otherwise well-formed push
        body = b'{"repository": "a/b", "issues": [{"number": 1, "title": "t", "state": "open", "x": ' + body + b"}]}"
    response = client.post("/api/dashboard/sync-issues", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 400, response.text
    assert f"more than {MAX_JSON_DEPTH} deep" in response.json()["error"]
    assert client.get("/healthz").json()["revision"] == before


def test_json_just_within_the_depth_limit_is_read(client: TestClient) -> None:
    inner = nested(MAX_JSON_DEPTH - 3, "[", "]").decode()  # 3 levels: the push, its issues, the issue
    body = f'{{"repository": "octo/app", "issues": [{{"number": 1, "title": "t", "state": "open", "x": {inner}}}]}}'
    response = client.post("/api/dashboard/sync-issues", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 200, response.text


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(field=st.sampled_from(["created_at", "updated_at"]), when=extreme_times)
def test_any_time_gets_a_clear_answer_naming_its_field(client: TestClient, field: str, when: str) -> None:
    before = client.get("/healthz").json()["revision"]
    issue = {"number": 1, "title": "t", "state": "open", field: when}
    response = client.post("/api/dashboard/sync-issues", json={"repository": "octo/app", "issues": [issue]})
    assert response.status_code in (200, 422), response.text
    if response.status_code == 422:
        assert [error["field"] for error in response.json()["fields"]] == [f"issues.0.{field}"]
        assert client.get("/healthz").json()["revision"] == before


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    when=extreme_times,
    depth=st.one_of(st.none(), st.integers(MAX_JSON_DEPTH + 1, 6000)),
    event=st.sampled_from(["issues", "issue_comment", "ping"]),
)
def test_any_signed_webhook_gets_a_clear_answer(client: TestClient, when: str, depth: int | None, event: str) -> None:
    """Past its signature, a webhook body is read as strictly as a push: 400 or 422, never a crash."""
    before = client.get("/healthz").json()["revision"]
    issue = make_issue("octo/fuzz", 7) | {"updated_at": when}
    if event == "issue_comment":
        payload = make_webhook(event, "created", "octo/fuzz", issue=issue, comment=make_comment("octo/fuzz", 7, 1))
    else:
        payload = make_webhook(event, "edited", "octo/fuzz", issue=issue)
    body, headers = webhook_request(SECRET, event, payload)
    if depth is not None:  # signed as it is: the signature holds, the body is still refused
        body = body[:-1] + b', "deep": ' + nested(depth, "[", "]") + b"}"
        headers["X-Hub-Signature-256"] = sign_webhook(SECRET, body)
    response = client.post("/webhooks/github", content=body, headers=headers)
    if depth is not None:
        assert response.status_code == 400 and f"more than {MAX_JSON_DEPTH} deep" in response.json()["error"]
    elif event != "ping" and not fits_in_utc(when):
        assert response.status_code == 422 and "updated_at" in response.json()["error"], response.text
    else:
        assert response.status_code < 300, response.text
    assert client.get("/healthz").json()["revision"] == before  # octo/fuzz has no board to change


def fits_in_utc(when: str) -> bool:
    """Whether the server can hold ``when`` in UTC (a time without an offset is UTC already)."""
    parsed = datetime.fromisoformat(when.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        return True
    try:
        parsed.astimezone(UTC)
    except OverflowError:
        return False
    return True
