"""The fake GitHub must look like GitHub to githubkit, or every test built on it proves nothing."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from githubkit import GitHub, TokenAuthStrategy
from githubkit.exception import PrimaryRateLimitExceeded, RequestFailed
from githubkit_schemas.latest.models import Issue
from pydantic import TypeAdapter

from tests.fake_github import FakeGitHub, RecordedRequest, make_issue, make_pull_request

REPO = "octo/widgets"
ISSUE_LIST = TypeAdapter(list[Issue])
# Keys the real list endpoint returns for every item; pydantic ignores missing *optional*
# fields, so validation alone would not notice if one of these went missing.
EXPECTED_KEYS = {
    "id", "node_id", "url", "repository_url", "labels_url", "comments_url", "events_url", "html_url",
    "number", "state", "state_reason", "title", "body", "user", "labels", "assignee", "assignees",
    "milestone", "locked", "active_lock_reason", "comments", "created_at", "updated_at", "closed_at",
    "author_association", "reactions", "timeline_url", "performed_via_github_app", "type",
    "sub_issues_summary", "issue_dependencies_summary",
}  # fmt: skip


def mixed_items() -> list[dict[str, Any]]:
    return [
        make_issue(REPO, 1, labels=[("bug", "d73a4a"), ("area: ui", "#0E8A16")], assignees=["alice", "bob"],
                   comments=3, body="It broke.", user="octo"),
        make_issue(REPO, 2, state="closed", title="Done already"),
        make_pull_request(REPO, 3, labels=[("enhancement", "a2eeef")]),
        make_pull_request(REPO, 4, state="closed", merged=True),
        make_issue(REPO, 5, created_at="2023-06-01T12:00:00Z"),
    ]  # fmt: skip


@pytest.fixture
def fake() -> Iterator[FakeGitHub]:
    with FakeGitHub() as gh:
        gh.add_repo(REPO, mixed_items())
        yield gh


def get(fake: FakeGitHub, path: str, **kwargs: Any) -> httpx.Response:
    return httpx.get(fake.url + path, **kwargs)


def client(fake: FakeGitHub, token: str | None = None) -> GitHub[Any]:
    auth = TokenAuthStrategy(token) if token else None
    return GitHub(auth, base_url=fake.url, auto_retry=False, http_cache=False)


def test_page_validates_against_githubkit_issue_model(fake: FakeGitHub) -> None:
    page = get(fake, f"/repos/{REPO}/issues", params={"state": "all"}).json()
    issues = ISSUE_LIST.validate_python(page)

    assert [i.number for i in issues] == [4, 3, 2, 1, 5]  # created desc; #5 was created in 2023
    for item, issue in zip(page, issues, strict=True):
        assert set(item) >= EXPECTED_KEYS
        assert set(issue.model_fields_set) >= EXPECTED_KEYS & set(Issue.model_fields)
    bug = issues[3]
    assert bug.user is not None and bug.user.login == "octo"
    assert bug.author_association == "OWNER"
    assert [(lbl.name, lbl.color, lbl.default) for lbl in bug.labels if not isinstance(lbl, str)] == [
        ("bug", "d73a4a", True), ("area: ui", "0e8a16", False)]  # fmt: skip
    assert bug.assignees and [u.login for u in bug.assignees] == ["alice", "bob"]
    assert page[3]["assignee"]["login"] == "alice"
    closed = issues[2]
    assert closed.state_reason == "completed" and closed.closed_at == closed.updated_at
    assert closed.created_at.isoformat() == "2024-01-01T02:00:00+00:00"


def test_builders_are_deterministic_and_strict() -> None:
    assert make_issue("a/b", 7) == make_issue("a/b", 7)
    assert make_issue("a/b", 7)["id"] != make_issue("a/b", 8)["id"] != make_issue("a/c", 7)["id"]
    assert make_issue("a/b", 7)["updated_at"] == "2024-01-01T07:30:00Z"
    with pytest.raises(ValueError):
        make_issue("a/b", 1, state="merged")
    with pytest.raises(ValueError):
        make_pull_request("a/b", 1, merged=True)


def test_githubkit_lists_and_parses_issues(fake: FakeGitHub) -> None:
    async def fetch() -> list[Issue]:
        async with client(fake) as gh:
            resp = await gh.rest.issues.async_list_for_repo("OCTO", "Widgets", state="all", per_page=100)
            parsed: list[Issue] = resp.parsed_data
            return parsed

    issues = asyncio.run(fetch())
    assert len(issues) == 5 and all(isinstance(i, Issue) for i in issues)
    assert fake.requests[-1].headers["x-github-api-version"] == "2026-03-10"


def test_pull_requests_are_listed_with_pull_request_key(fake: FakeGitHub) -> None:
    with client(fake) as gh:
        issues = gh.rest.issues.list_for_repo("octo", "widgets", state="all").parsed_data
    prs = {i.number: i for i in issues if i.pull_request}
    assert set(prs) == {3, 4}
    assert prs[3].html_url == f"https://github.com/{REPO}/pull/3"
    assert prs[3].pull_request and prs[3].pull_request.merged_at is None
    assert prs[4].pull_request and prs[4].pull_request.merged_at == prs[4].closed_at is not None
    assert prs[4].pull_request.diff_url == f"https://github.com/{REPO}/pull/4.diff"


def test_link_headers_page_through_250_items() -> None:
    with FakeGitHub() as fake:
        fake.add_repo(REPO, [make_issue(REPO, n) for n in range(1, 251)])
        url: str | None = f"{fake.url}/repos/{REPO}/issues?state=all&per_page=100"
        sizes, numbers, all_links = [], [], []
        while url:
            resp = httpx.get(url)
            assert resp.status_code == 200
            sizes.append(len(resp.json()))
            numbers += [item["number"] for item in resp.json()]
            all_links.append({rel: link["url"] for rel, link in resp.links.items()})
            url = resp.links.get("next", {}).get("url")

    assert sizes == [100, 100, 50]
    assert numbers == list(range(250, 0, -1))
    base = f"{fake.url}/repos/{REPO}/issues?state=all&per_page=100&page="
    assert all_links == [
        {"next": base + "2", "last": base + "3"},
        {"prev": base + "1", "next": base + "3", "last": base + "3", "first": base + "1"},
        {"prev": base + "2", "first": base + "1"},
    ]


def test_single_page_has_no_link_header_and_per_page_is_capped(fake: FakeGitHub) -> None:
    assert "link" not in get(fake, f"/repos/{REPO}/issues").headers
    fake.add_repo(REPO, [make_issue(REPO, n) for n in range(1, 151)])
    assert len(get(fake, f"/repos/{REPO}/issues", params={"per_page": 500}).json()) == 100
    assert len(get(fake, f"/repos/{REPO}/issues").json()) == 30


@pytest.mark.parametrize(("state", "numbers"), [(None, [3, 1, 5]), ("open", [3, 1, 5]), ("closed", [4, 2]),
                                                ("all", [4, 3, 2, 1, 5])])  # fmt: skip
def test_state_filter(fake: FakeGitHub, state: str | None, numbers: list[int]) -> None:
    params = {"state": state} if state else {}
    assert [i["number"] for i in get(fake, f"/repos/{REPO}/issues", params=params).json()] == numbers


def test_invalid_state_is_422(fake: FakeGitHub) -> None:
    resp = get(fake, f"/repos/{REPO}/issues", params={"state": "merged"})
    assert resp.status_code == 422 and resp.json()["message"] == "Validation Failed"


def test_unknown_repo_and_route_are_404(fake: FakeGitHub) -> None:
    with client(fake) as gh, pytest.raises(RequestFailed) as err:
        gh.rest.issues.list_for_repo("octo", "nope")
    assert err.value.response.status_code == 404
    assert err.value.response.json()["message"] == "Not Found"
    assert get(fake, "/user").status_code == 404
    assert httpx.post(f"{fake.url}/repos/{REPO}/issues", json={"title": "x"}).status_code == 404


def test_repo_endpoint(fake: FakeGitHub) -> None:
    repo = get(fake, "/repos/OCTO/widgets").json()
    assert repo["full_name"] == REPO and repo["owner"]["login"] == "octo" and repo["open_issues_count"] == 3
    assert get(fake, "/repos/octo/nope").status_code == 404


def test_etag_304_round_trip(fake: FakeGitHub) -> None:
    first = get(fake, f"/repos/{REPO}/issues")
    etag = first.headers["etag"]
    assert etag.startswith('W/"') and len(etag) == 64 + 4
    again = get(fake, f"/repos/{REPO}/issues", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == etag and again.headers["x-ratelimit-limit"] == "5000"
    assert again.headers["x-ratelimit-remaining"] == first.headers["x-ratelimit-remaining"]  # 304s are free
    fake.add_repo(REPO, [make_issue(REPO, 99)])
    changed = get(fake, f"/repos/{REPO}/issues", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["etag"] != etag


def test_standard_headers_and_quota_countdown(fake: FakeGitHub) -> None:
    first, second = get(fake, "/repos/octo/widgets/issues"), get(fake, "/nowhere")
    assert first.headers["content-type"] == "application/json; charset=utf-8"
    assert first.headers["x-ratelimit-resource"] == "core"
    assert first.headers["x-github-api-version-selected"] == "2022-11-28"
    assert first.headers["x-ratelimit-reset"] == str(fake.rate_limit_reset)
    assert (first.headers["x-ratelimit-remaining"], first.headers["x-ratelimit-used"]) == ("4999", "1")
    assert (second.headers["x-ratelimit-remaining"], second.headers["x-ratelimit-used"]) == ("4998", "2")


def test_rate_limited_raises_primary_rate_limit_exceeded(fake: FakeGitHub) -> None:
    fake.rate_limited = True
    fake.rate_limit_reset = int(time.time()) + 120
    with client(fake) as gh, pytest.raises(PrimaryRateLimitExceeded) as err:
        gh.rest.issues.list_for_repo("octo", "widgets")
    assert 110 <= err.value.retry_after.total_seconds() <= 120
    assert err.value.response.status_code == 403
    assert err.value.response.headers["x-ratelimit-remaining"] == "0"
    fake.rate_limited = False
    assert get(fake, f"/repos/{REPO}/issues").status_code == 200


def test_token_is_required_when_configured() -> None:
    with FakeGitHub(token="s3cret") as fake:
        fake.add_repo(REPO, mixed_items())
        assert get(fake, f"/repos/{REPO}/issues").status_code == 401
        wrong = get(fake, f"/repos/{REPO}/issues", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401 and wrong.json()["message"] == "Bad credentials"
        ok = get(fake, f"/repos/{REPO}/issues", headers={"Authorization": "Bearer s3cret"})
        assert ok.status_code == 200
        with client(fake, "s3cret") as gh:  # githubkit's TokenAuthStrategy sends "token <t>"
            assert len(gh.rest.issues.list_for_repo("octo", "widgets").parsed_data) == 3
        with client(fake, "wrong") as gh, pytest.raises(RequestFailed) as err:
            gh.rest.issues.list_for_repo("octo", "widgets")
        assert err.value.response.status_code == 401


def test_fail_next_gives_500_then_recovers(fake: FakeGitHub) -> None:
    fake.fail_next = 1
    failed = get(fake, f"/repos/{REPO}/issues")
    assert failed.status_code == 500 and failed.json() == {"message": "Server Error"}
    assert get(fake, f"/repos/{REPO}/issues").status_code == 200
    assert fake.fail_next == 0


def test_latency_delays_answers(fake: FakeGitHub) -> None:
    fake.latency = 0.3
    started = time.monotonic()
    assert get(fake, f"/repos/{REPO}/issues").status_code == 200
    assert time.monotonic() - started >= 0.3


def test_requests_are_recorded(fake: FakeGitHub) -> None:
    get(fake, f"/repos/{REPO}/issues", params={"state": "closed", "page": "2"}, headers={"X-Probe": "1"})
    get(fake, "/repos/octo/nope/issues")
    first, second = fake.requests
    assert isinstance(first, RecordedRequest)
    assert (first.method, first.path, first.query, first.status) == (
        "GET", f"/repos/{REPO}/issues", {"state": "closed", "page": "2"}, 200)  # fmt: skip
    assert first.headers["x-probe"] == "1" and "user-agent" in first.headers
    assert (second.path, second.status) == ("/repos/octo/nope/issues", 404)


def test_many_concurrent_requests_are_all_recorded(fake: FakeGitHub) -> None:
    async def burst() -> list[int]:
        async with httpx.AsyncClient(base_url=fake.url) as http:
            responses = await asyncio.gather(*(http.get(f"/repos/{REPO}/issues") for _ in range(40)))
        return [r.status_code for r in responses]

    assert asyncio.run(burst()) == [200] * 40
    assert len(fake.requests) == 40
    assert get(fake, "/x").headers["x-ratelimit-used"] == "41"
