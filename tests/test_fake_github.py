"""The fake GitHub must look like GitHub to githubkit, or every test built on it proves nothing."""

from __future__ import annotations

import asyncio
import re
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from githubkit import GitHub, TokenAuthStrategy
from githubkit.exception import (
    PrimaryRateLimitExceeded,
    RateLimitExceeded,
    RequestFailed,
    SecondaryRateLimitExceeded,
)
from githubkit_schemas.latest.models import Commit, Issue, PullRequestSimple, Repository, SimpleUser
from pydantic import BaseModel, TypeAdapter

from testkit.fake_github import (
    DOCS_LIST_COMMITS,
    DOCS_REDIRECTS,
    FakeGitHub,
    RecordedRequest,
    commit_sha,
    make_commit,
    make_issue,
    make_pull,
    make_pull_request,
    make_repository,
    repository_id,
)

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


def follow_next_links(url: str) -> list[httpx.Response]:
    """Every page from ``url`` on, following ``Link: rel="next"`` as a client would."""
    pages = []
    next_url: str | None = url
    while next_url:
        resp = httpx.get(next_url)
        assert resp.status_code == 200
        pages.append(resp)
        next_url = resp.links.get("next", {}).get("url")
    return pages


def assert_three_pages_of_250_newest_first(pages: list[httpx.Response], base: str) -> None:
    assert [len(page.json()) for page in pages] == [100, 100, 50]
    assert [item["number"] for page in pages for item in page.json()] == list(range(250, 0, -1))
    assert [{rel: link["url"] for rel, link in page.links.items()} for page in pages] == [
        {"next": base + "2", "last": base + "3"},
        {"prev": base + "1", "next": base + "3", "last": base + "3", "first": base + "1"},
        {"prev": base + "2", "first": base + "1"},
    ]


def test_link_headers_page_through_250_items() -> None:
    with FakeGitHub() as fake:
        fake.add_repo(REPO, [make_issue(REPO, n) for n in range(1, 251)])
        pages = follow_next_links(f"{fake.url}/repos/{REPO}/issues?state=all&per_page=100")
        base = f"{fake.url}/repositories/{repository_id(REPO)}/issues?state=all&per_page=100&page="
    # As on GitHub: the Links name the repository by id and keep the query.
    assert_three_pages_of_250_newest_first(pages, base)


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
    assert get(fake, "/gists").status_code == 404
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
    paused: list[tuple[float, int]] = []  # how long, and how many requests had been answered by then
    fake.pause = lambda seconds: paused.append((seconds, len(fake.requests)))
    fake.latency = 0.3
    assert get(fake, f"/repos/{REPO}/issues").status_code == 200
    assert paused == [(0.3, 0)]  # waited out before the answer


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


# ---------------------------------------------------------------------------------------------
# Pull requests: GET /repos/{owner}/{repo}/pulls
# ---------------------------------------------------------------------------------------------

PULL_LIST = TypeAdapter(list[PullRequestSimple])
COMMIT_LIST = TypeAdapter(list[Commit])
SHA = re.compile(r"[0-9a-f]{40}")
# Every key the real list endpoint sends for a pull request (the model lacks assignee and merge_commit_sha).
EXPECTED_PULL_KEYS = {
    "url", "id", "node_id", "html_url", "diff_url", "patch_url", "issue_url", "commits_url",
    "review_comments_url", "review_comment_url", "comments_url", "statuses_url", "number", "state", "locked",
    "title", "user", "body", "labels", "milestone", "active_lock_reason", "created_at", "updated_at",
    "closed_at", "merged_at", "merge_commit_sha", "assignee", "assignees", "requested_reviewers",
    "requested_teams", "head", "base", "_links", "author_association", "auto_merge", "draft",
}  # fmt: skip
PULL_LINK_RELS = {"self", "html", "issue", "comments", "review_comments", "review_comment", "commits",
                  "statuses"}  # fmt: skip
EXPECTED_COMMIT_KEYS = {"url", "sha", "node_id", "html_url", "comments_url", "commit", "author", "committer",
                        "parents"}  # fmt: skip


def required_keys(model: type[BaseModel]) -> set[str]:
    """The JSON keys a model cannot do without (aliases such as ``_links`` and ``license`` included)."""
    return {info.alias or name for name, info in model.model_fields.items() if info.is_required()}


def mixed_pulls() -> list[dict[str, Any]]:
    return [
        make_pull(REPO, 1, labels=[("bug", "d73a4a"), ("area: ui", "#0E8A16")],
                  requested_reviewers=["alice", "bob"], body="Fixes #7.", user="octo"),
        make_pull(REPO, 2, state="closed", merged=True, title="Merged one"),
        make_pull(REPO, 3, draft=True, head="wip/parser", base="develop"),
        make_pull(REPO, 4, state="closed"),
        make_pull(REPO, 5, created_at="2023-06-01T12:00:00Z", updated_at="2024-06-01T00:00:00Z"),
    ]  # fmt: skip


@pytest.fixture
def pulls_fake(fake: FakeGitHub) -> FakeGitHub:
    fake.add_pulls(REPO, mixed_pulls())
    return fake


def test_pulls_page_validates_against_pull_request_simple(pulls_fake: FakeGitHub) -> None:
    page = get(pulls_fake, f"/repos/{REPO}/pulls", params={"state": "all"}).json()
    pulls = PULL_LIST.validate_python(page)

    assert [p.number for p in pulls] == [4, 3, 2, 1, 5]  # created desc, like GitHub's default
    for item in page:
        assert set(item) >= EXPECTED_PULL_KEYS | required_keys(PullRequestSimple)
        for side in ("head", "base"):  # keys with a model default are not required, but GitHub sends them
            repo_keys = set(item[side]["repo"])
            assert repo_keys >= required_keys(Repository) | {"private", "has_issues", "archived"}
            assert set(item[side]["repo"]["owner"]) >= required_keys(SimpleUser)
        assert set(item["_links"]) == PULL_LINK_RELS
    first = pulls[3]
    assert isinstance(first.user, SimpleUser) and first.user.login == "octo"
    assert first.author_association == "OWNER" and first.body == "Fixes #7."
    assert [(lbl.name, lbl.color, lbl.default) for lbl in first.labels] == [
        ("bug", "d73a4a", True), ("area: ui", "0e8a16", False)]  # fmt: skip
    assert first.html_url == f"https://github.com/{REPO}/pull/1"
    assert first.links.self_.href == f"https://api.github.com/repos/{REPO}/pulls/1"
    assert first.statuses_url == first.links.statuses.href
    assert first.statuses_url == f"https://api.github.com/repos/{REPO}/statuses/{first.head.sha}"
    merged, unmerged = pulls[2], pulls[0]
    assert merged.merged_at is not None and merged.merged_at == merged.closed_at == merged.updated_at
    assert unmerged.closed_at is not None and unmerged.merged_at is None
    assert pulls[4].closed_at is None and pulls[4].merged_at is None


def test_pull_details_draft_reviewers_head_and_base(pulls_fake: FakeGitHub) -> None:
    pulls = {p.number: p for p in PULL_LIST.validate_python(get(pulls_fake, f"/repos/{REPO}/pulls").json())}
    assert set(pulls) == {1, 3, 5}
    assert pulls[3].draft is True and pulls[1].draft is False
    reviewers = pulls[1].requested_reviewers
    assert reviewers and [u.login for u in reviewers] == ["alice", "bob"]
    assert pulls[3].requested_reviewers == [] and pulls[3].requested_teams == []

    head, base = pulls[3].head, pulls[3].base
    assert (head.label, head.ref) == ("octo:wip/parser", "wip/parser")
    assert (base.label, base.ref) == ("octo:develop", "develop")
    assert SHA.fullmatch(head.sha) and SHA.fullmatch(base.sha) and head.sha != base.sha
    assert head.repo is not None and head.repo.full_name == base.repo.full_name == REPO
    assert base.repo.owner is not None and base.repo.owner.login == "octo"
    assert base.repo.default_branch == "main" and base.repo.html_url == f"https://github.com/{REPO}"
    assert head.user is not None and head.user.login == "octo"
    assert (pulls[1].head.ref, pulls[1].base.ref) == ("feature-1", "main")  # the defaults


def test_pulls_paginate_across_three_pages_with_link_rels() -> None:
    with FakeGitHub() as fake:
        fake.add_pulls(REPO, [make_pull(REPO, n, state="open" if n % 5 else "closed") for n in range(1, 251)])
        pages = follow_next_links(f"{fake.url}/repos/{REPO}/pulls?state=all&per_page=100")
    for page in pages:
        PULL_LIST.validate_python(page.json())
        base = f"{fake.url}/repositories/{repository_id(REPO)}/pulls?state=all&per_page=100&page="
    assert_three_pages_of_250_newest_first(pages, base)


@pytest.mark.parametrize(("state", "numbers"), [(None, [3, 1, 5]), ("open", [3, 1, 5]), ("closed", [4, 2]),
                                                ("all", [4, 3, 2, 1, 5])])  # fmt: skip
def test_pulls_state_filter(pulls_fake: FakeGitHub, state: str | None, numbers: list[int]) -> None:
    params = {"state": state} if state else {}
    assert [p["number"] for p in get(pulls_fake, f"/repos/{REPO}/pulls", params=params).json()] == numbers


@pytest.mark.parametrize(("params", "numbers"), [
    ({"direction": "asc"}, [5, 1, 2, 3, 4]),
    ({"sort": "created", "direction": "desc"}, [4, 3, 2, 1, 5]),
    ({"sort": "updated"}, [1, 2, 3, 4, 5]),  # any sort but "created" defaults to ascending
    ({"sort": "updated", "direction": "desc"}, [5, 4, 3, 2, 1]),
    ({"sort": "popularity", "direction": "desc"}, [4, 3, 2, 1, 5]),
])  # fmt: skip
def test_pulls_sort_and_direction(pulls_fake: FakeGitHub, params: dict[str, str], numbers: list[int]) -> None:
    resp = get(pulls_fake, f"/repos/{REPO}/pulls", params={"state": "all", **params})
    assert [p["number"] for p in resp.json()] == numbers


@pytest.mark.parametrize("params", [{"state": "merged"}, {"sort": "size"}, {"direction": "up"}])
def test_invalid_pulls_query_is_422(pulls_fake: FakeGitHub, params: dict[str, str]) -> None:
    resp = get(pulls_fake, f"/repos/{REPO}/pulls", params=params)
    assert resp.status_code == 422 and resp.json()["message"] == "Validation Failed"
    ((name, value),) = params.items()
    error = {"resource": "PullRequest", "field": name, "code": "invalid", "value": value}
    assert resp.json()["errors"] == [error]


def test_githubkit_lists_and_parses_pulls(pulls_fake: FakeGitHub) -> None:
    async def fetch() -> list[PullRequestSimple]:
        async with client(pulls_fake) as gh:
            resp = await gh.rest.pulls.async_list("OCTO", "Widgets", state="all", per_page=100)
            parsed: list[PullRequestSimple] = resp.parsed_data
            return parsed

    pulls = asyncio.run(fetch())
    assert [p.number for p in pulls] == [4, 3, 2, 1, 5]
    assert all(isinstance(p, PullRequestSimple) and isinstance(p.base.repo, Repository) for p in pulls)
    assert pulls_fake.requests[-1].path == "/repos/OCTO/Widgets/pulls"
    assert pulls_fake.requests[-1].query == {"state": "all", "per_page": "100"}


# ---------------------------------------------------------------------------------------------
# Commits: GET /repos/{owner}/{repo}/commits
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def commits_fake(fake: FakeGitHub) -> FakeGitHub:
    fake.add_commits(REPO, [make_commit(REPO, n) for n in range(1, 6)])
    dev = [make_commit(REPO, n, message=f"dev {n}", author="alice") for n in (10, 11)]
    fake.add_commits(REPO, dev, branch="dev")
    return fake


def test_commits_validate_against_commit_model(commits_fake: FakeGitHub) -> None:
    page = get(commits_fake, f"/repos/{REPO}/commits").json()
    commits = COMMIT_LIST.validate_python(page)

    assert [c.commit.message for c in commits] == ["Change 5", "Change 4", "Change 3", "Change 2", "Change 1"]
    for item, commit in zip(page, commits, strict=True):
        assert set(item) >= EXPECTED_COMMIT_KEYS
        assert set(item["commit"]) >= {"url", "author", "committer", "message", "comment_count", "tree",
                                       "verification"}  # fmt: skip
        # author is Union[SimpleUser, EmptyObject, None]: a broken user would still validate, as EmptyObject.
        assert isinstance(commit.author, SimpleUser) and isinstance(commit.committer, SimpleUser)
        assert commit.author.login == "octocat"
        assert SHA.fullmatch(commit.sha)
        assert commit.html_url == f"https://github.com/{REPO}/commit/{commit.sha}"
        assert commit.url == f"https://api.github.com/repos/{REPO}/commits/{commit.sha}"
        assert commit.commit.verification and commit.commit.verification.reason == "unsigned"
        assert item["commit"]["author"]["email"].endswith("+octocat@users.noreply.github.com")
        assert commit.commit.author and commit.commit.author.email == item["commit"]["author"]["email"]
    newest = commits[0]
    assert newest.commit.author and newest.commit.author.date == datetime(2024, 1, 1, 5, tzinfo=UTC)
    assert [(p.sha, p.html_url) for p in newest.parents] == [
        (commits[1].sha, f"https://github.com/{REPO}/commit/{commits[1].sha}")]  # fmt: skip
    assert commits[-1].parents == []


def test_commits_are_per_branch_and_unknown_branch_is_404(commits_fake: FakeGitHub) -> None:
    path = f"/repos/{REPO}/commits"
    main = get(commits_fake, path, params={"sha": "main"}).json()
    assert [c["sha"] for c in main] == [commit_sha(REPO, n) for n in range(5, 0, -1)]
    assert main == get(commits_fake, path).json()  # main is the default branch
    dev = get(commits_fake, path, params={"sha": "dev"}).json()
    assert [c["commit"]["message"] for c in dev] == ["dev 11", "dev 10"]
    assert {c["author"]["login"] for c in dev} == {"alice"}

    missing = get(commits_fake, path, params={"sha": "nope"})
    assert missing.status_code == 404
    assert missing.json() == {"message": "No commit found for SHA: nope",
                              "documentation_url": DOCS_LIST_COMMITS,
                              "status": "404"}  # fmt: skip

    commits_fake.add_commits(REPO, [make_commit(REPO, 20)], branch="dev")  # replaces dev, keeps main
    assert [c["sha"] for c in get(commits_fake, path, params={"sha": "dev"}).json()] == [commit_sha(REPO, 20)]
    assert len(get(commits_fake, path).json()) == 5


@pytest.mark.parametrize(("params", "changes"), [
    ({"since": "2024-01-01T02:00:00Z"}, [5, 4, 3, 2]),  # both bounds are inclusive
    ({"until": "2024-01-01T02:00:00Z"}, [2, 1]),
    ({"since": "2024-01-01T02:00:00Z", "until": "2024-01-01T04:00:00Z"}, [4, 3, 2]),
    ({"since": "2024-01-01T04:30:00+01:00"}, [5, 4]),  # 03:30 UTC
    ({"since": "2024-01-01T06:00:00Z"}, []),
])  # fmt: skip
def test_since_until_filter_on_author_date(
    commits_fake: FakeGitHub, params: dict[str, str], changes: list[int]
) -> None:
    resp = get(commits_fake, f"/repos/{REPO}/commits", params=params)
    assert resp.status_code == 200
    assert [c["commit"]["message"] for c in resp.json()] == [f"Change {n}" for n in changes]


def test_invalid_since_is_422(commits_fake: FakeGitHub) -> None:
    resp = get(commits_fake, f"/repos/{REPO}/commits", params={"since": "yesterday"})
    assert resp.status_code == 422 and resp.json()["errors"][0]["field"] == "since"


def test_commits_order_by_date_not_by_number() -> None:
    with FakeGitHub() as fake:
        fake.add_commits(REPO, [make_commit(REPO, 1, date="2024-05-01T00:00:00Z"), make_commit(REPO, 2)])
        assert [c["sha"] for c in get(fake, f"/repos/{REPO}/commits").json()] == [
            commit_sha(REPO, 1), commit_sha(REPO, 2)]  # fmt: skip


def test_commit_without_github_account_validates(fake: FakeGitHub) -> None:
    fake.add_commits(REPO, [make_commit(REPO, 1, author=None, author_name="Jane Doe"), make_commit(REPO, 2)])
    page = get(fake, f"/repos/{REPO}/commits").json()
    assert page[1]["author"] is None and page[1]["committer"] is None
    commits = COMMIT_LIST.validate_python(page)
    anonymous = commits[1]
    assert anonymous.author is None and anonymous.committer is None
    assert anonymous.commit.author and anonymous.commit.author.name == "Jane Doe"
    assert anonymous.commit.author.email == "jane.doe@example.com"
    assert isinstance(commits[0].author, SimpleUser)


def test_empty_repository_is_409(fake: FakeGitHub) -> None:
    fake.add_commits("octo/empty", [])
    resp = get(fake, "/repos/octo/empty/commits", params={"sha": "anything"})
    assert resp.status_code == 409
    assert resp.json()["message"] == "Git Repository is empty." and resp.json()["status"] == "409"
    assert get(fake, f"/repos/{REPO}/commits").status_code == 409  # issues only, no commits yet
    assert get(fake, "/repos/octo/empty/issues").json() == []


def test_repo_added_only_with_add_pulls_exists_everywhere(fake: FakeGitHub) -> None:
    fake.add_pulls("octo/Only-Pulls", [make_pull("octo/Only-Pulls", 1)])
    issues = get(fake, "/repos/octo/only-pulls/issues")
    assert (issues.status_code, issues.json()) == (200, [])
    assert len(get(fake, "/repos/OCTO/only-pulls/pulls").json()) == 1
    assert get(fake, "/repos/octo/only-pulls").json()["full_name"] == "octo/Only-Pulls"
    assert get(fake, f"/repos/{REPO}/pulls").json() == []  # a repo from add_repo has no pulls yet
    fake.add_commits("octo/only-commits", [make_commit("octo/only-commits", 1)])
    assert get(fake, "/repos/octo/only-commits/pulls").json() == []
    assert get(fake, "/repos/octo/only-commits/issues").json() == []


@pytest.mark.parametrize("endpoint", ["pulls", "commits"])
def test_unknown_repo_is_404_on_new_endpoints(fake: FakeGitHub, endpoint: str) -> None:
    resp = get(fake, f"/repos/octo/nope/{endpoint}")
    assert resp.status_code == 404 and resp.json()["message"] == "Not Found"
    assert httpx.post(f"{fake.url}/repos/{REPO}/{endpoint}", json={}).status_code == 404


def test_githubkit_lists_and_parses_commits(commits_fake: FakeGitHub) -> None:
    async def fetch() -> tuple[list[Commit], list[Commit]]:
        async with client(commits_fake) as gh:
            everything = await gh.rest.repos.async_list_commits("octo", "widgets", per_page=100)
            # githubkit sends datetimes as str(datetime): "2024-01-01 03:00:00+00:00"
            recent = await gh.rest.repos.async_list_commits(
                "octo", "widgets", since=datetime(2024, 1, 1, 3, tzinfo=UTC), per_page=100
            )
            return everything.parsed_data, recent.parsed_data

    everything, recent = asyncio.run(fetch())
    assert len(everything) == 5 and all(isinstance(c.author, SimpleUser) for c in everything)
    assert [c.sha for c in recent] == [commit_sha(REPO, n) for n in (5, 4, 3)]


def test_githubkit_raises_for_empty_repository(fake: FakeGitHub) -> None:
    with client(fake) as gh, pytest.raises(RequestFailed) as err:
        gh.rest.repos.list_commits("octo", "widgets")
    assert err.value.response.status_code == 409


# ---------------------------------------------------------------------------------------------
# The shared list machinery applies to every list endpoint
# ---------------------------------------------------------------------------------------------

LIST_ENDPOINTS = [f"/repos/{REPO}/{name}" for name in ("issues", "pulls", "commits")]


@pytest.mark.parametrize("path", LIST_ENDPOINTS)
def test_every_list_has_etags_quota_and_failures(commits_fake: FakeGitHub, path: str) -> None:
    commits_fake.add_pulls(REPO, mixed_pulls())
    first = get(commits_fake, path)
    assert first.status_code == 200 and first.json()
    assert (first.headers["x-ratelimit-remaining"], first.headers["x-ratelimit-used"]) == ("4999", "1")
    again = get(commits_fake, path, headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304 and again.headers["x-ratelimit-remaining"] == "4999"

    commits_fake.fail_next = 1
    assert get(commits_fake, path).status_code == 500
    commits_fake.rate_limited = True
    assert get(commits_fake, path).status_code == 403
    commits_fake.rate_limited = False
    commits_fake.token = "s3cret"
    assert get(commits_fake, path).status_code == 401
    assert get(commits_fake, path, headers={"Authorization": "token s3cret"}).status_code == 200


@pytest.mark.parametrize("path", LIST_ENDPOINTS)
def test_every_list_paginates_and_caps_per_page(path: str) -> None:
    with FakeGitHub() as fake:
        fake.add_repo(REPO, [make_issue(REPO, n) for n in range(1, 151)])
        fake.add_pulls(REPO, [make_pull(REPO, n) for n in range(1, 151)])
        fake.add_commits(REPO, [make_commit(REPO, n) for n in range(1, 151)])
        assert len(get(fake, path).json()) == 30
        capped = get(fake, path, params={"per_page": 500})
        assert len(capped.json()) == 100 and capped.links["last"]["url"].endswith("per_page=500&page=2")
        last = get(fake, path, params={"per_page": 100, "page": 2})
        assert len(last.json()) == 50 and set(last.links) == {"prev", "first"}
        assert get(fake, path, params={"page": 9}).json() == []


def test_new_builders_are_deterministic_and_strict() -> None:
    assert make_pull("a/b", 7) == make_pull("a/b", 7)
    assert make_commit("a/b", 7) == make_commit("a/b", 7)
    assert make_pull("a/b", 7)["id"] != make_pull("a/b", 8)["id"] != make_issue("a/b", 7)["id"]
    assert make_pull("a/b", 7)["node_id"] == make_pull_request("a/b", 7)["node_id"]
    assert make_pull("a/b", 7)["updated_at"] == "2024-01-01T07:30:00Z"
    assert make_commit("a/b", 7)["sha"] == commit_sha("A/B", 7) != commit_sha("a/c", 7)
    assert make_commit("a/b", 7)["commit"]["author"]["date"] == "2024-01-01T07:00:00Z"
    assert make_repository("a/b")["id"] == make_pull("a/b", 1)["base"]["repo"]["id"]
    with pytest.raises(ValueError):
        make_pull("a/b", 1, merged=True)
    with pytest.raises(ValueError):
        make_pull("a/b", 1, state="merged")
    with pytest.raises(ValueError):
        make_commit("ab", 1)


@pytest.fixture
def sorted_issues_fake(fake: FakeGitHub) -> FakeGitHub:
    # Created in number order; updated in the reverse order; comments 2, 0, 1.
    fake.add_repo(
        REPO,
        [
            make_issue(REPO, 1, updated_at="2024-03-03T00:00:00Z", comments=2),
            make_issue(REPO, 2, updated_at="2024-03-02T00:00:00Z", comments=0),
            make_issue(REPO, 3, updated_at="2024-03-01T00:00:00Z", comments=1),
        ],
    )
    return fake


@pytest.mark.parametrize(("params", "numbers"), [
    ({}, [3, 2, 1]),  # created, newest first
    ({"direction": "asc"}, [1, 2, 3]),
    ({"sort": "updated"}, [1, 2, 3]),  # unlike pulls, issues default to descending for every sort
    ({"sort": "updated", "direction": "asc"}, [3, 2, 1]),
    ({"sort": "comments"}, [1, 3, 2]),
])  # fmt: skip
def test_issues_sort_and_direction(sorted_issues_fake: FakeGitHub, params: dict[str, str], numbers: list[int]) -> None:
    resp = get(sorted_issues_fake, f"/repos/{REPO}/issues", params=params)
    assert [item["number"] for item in resp.json()] == numbers


@pytest.mark.parametrize("params", [{"sort": "size"}, {"direction": "up"}])
def test_invalid_issues_query_is_422(sorted_issues_fake: FakeGitHub, params: dict[str, str]) -> None:
    resp = get(sorted_issues_fake, f"/repos/{REPO}/issues", params=params)
    assert resp.status_code == 422
    ((name, value),) = params.items()
    assert resp.json()["errors"] == [{"resource": "Issue", "field": name, "code": "invalid", "value": value}]


# ---------------------------------------------------------------------------------------------
# What real GitHub does that a naive fake would not (compared with octokit/fixtures recordings)
# ---------------------------------------------------------------------------------------------


def test_a_renamed_repository_answers_301_with_its_id_url_like_github(fake: FakeGitHub) -> None:
    old_id = fake.repo_id(REPO)
    fake.rename_repo(REPO, "octo/gadgets")
    moved = get(fake, f"/repos/{REPO}/issues", params={"state": "all", "per_page": "2"})
    location = f"{fake.url}/repositories/{old_id}/issues?state=all&per_page=2"
    # octokit/fixtures scenarios/api.github.com/rename-repository: the body names the new URL too.
    assert (moved.status_code, moved.headers["location"]) == (301, location)
    assert moved.json() == {"message": "Moved Permanently", "url": location, "documentation_url": DOCS_REDIRECTS}
    assert "etag" not in moved.headers

    followed = get(fake, f"/repos/{REPO}/issues", params={"state": "all", "per_page": "2"}, follow_redirects=True)
    assert [r.status_code for r in followed.history] == [301] and followed.status_code == 200
    assert [item["number"] for item in followed.json()] == [4, 3]
    assert followed.links["next"]["url"] == f"{fake.url}/repositories/{old_id}/issues?state=all&per_page=2&page=2"

    repository = get(fake, f"/repos/{REPO}", follow_redirects=True)
    assert repository.json()["full_name"] == "octo/gadgets" and repository.json()["id"] == old_id
    assert get(fake, "/repos/octo/gadgets/issues").status_code == 200  # the new name answers directly
    assert [(r.path, r.status) for r in fake.requests_for("octo/gadgets", "issues")] == [
        (f"/repos/{REPO}/issues", 301),
        (f"/repos/{REPO}/issues", 301),
        (f"/repositories/{old_id}/issues", 200),
        ("/repos/octo/gadgets/issues", 200),
    ]


def test_a_new_repository_under_a_renamed_ones_old_name_ends_the_redirect(fake: FakeGitHub) -> None:
    fake.rename_repo(REPO, "octo/gadgets")
    fake.add_repo(REPO, [make_issue(REPO, 9)])
    assert [i["number"] for i in get(fake, f"/repos/{REPO}/issues").json()] == [9]
    assert fake.repo_id(REPO) != fake.repo_id("octo/gadgets")


def test_disabled_issues_answer_410_and_pull_requests_still_work(pulls_fake: FakeGitHub) -> None:
    pulls_fake.disable_issues(REPO)
    gone = get(pulls_fake, f"/repos/{REPO}/issues")
    assert gone.status_code == 410 and gone.json()["message"] == "Issues are disabled for this repo"
    assert get(pulls_fake, f"/repos/{REPO}").json()["has_issues"] is False
    assert len(get(pulls_fake, f"/repos/{REPO}/pulls").json()) == 3


@pytest.mark.parametrize("status", [403, 429])
def test_secondary_rate_limits_with_and_without_retry_after(fake: FakeGitHub, status: int) -> None:
    """githubkit 0.16 recognises a secondary limit only by its Retry-After (or a spent quota):
    without one, it raises a plain RequestFailed, which the app must still read as a rate limit."""
    fake.secondary_limit, fake.secondary_retry_after = status, 90
    with client(fake) as gh, pytest.raises(SecondaryRateLimitExceeded) as limited:
        gh.rest.issues.list_for_repo("octo", "widgets")
    assert limited.value.retry_after.total_seconds() == 90
    fake.secondary_retry_after = None
    with client(fake) as gh, pytest.raises(RequestFailed) as refused:
        gh.rest.issues.list_for_repo("octo", "widgets")
    assert not isinstance(refused.value, RateLimitExceeded)
    answer = refused.value.response
    assert answer.status_code == status and "retry-after" not in answer.headers
    assert answer.json()["message"].startswith("You have exceeded a secondary rate limit")
    assert int(answer.headers["x-ratelimit-remaining"]) > 0


def test_lists_have_weak_etags_single_resources_strong_ones_and_matching_is_weak(fake: FakeGitHub) -> None:
    listed = get(fake, f"/repos/{REPO}/issues").headers["etag"]
    single = get(fake, f"/repos/{REPO}").headers["etag"]
    assert re.fullmatch(r'W/"[0-9a-f]{64}"', listed) and re.fullmatch(r'"[0-9a-f]{64}"', single)
    for tag in (listed, listed.removeprefix("W/"), f'"other", {listed}', "*"):
        assert get(fake, f"/repos/{REPO}/issues", headers={"If-None-Match": tag}).status_code == 304, tag
    assert get(fake, f"/repos/{REPO}", headers={"If-None-Match": f"W/{single}"}).status_code == 304
    fake.strong_etags = True
    assert get(fake, f"/repos/{REPO}/issues").headers["etag"] == listed.removeprefix("W/")


def test_a_deleted_user_comes_back_as_null(fake: FakeGitHub) -> None:
    fake.add_repo(REPO, [make_issue(REPO, 1, user=None)])
    page = get(fake, f"/repos/{REPO}/issues").json()
    assert page[0]["user"] is None and ISSUE_LIST.validate_python(page)[0].user is None


def test_bodies_are_gzipped_for_clients_that_accept_it(fake: FakeGitHub) -> None:
    plain = get(fake, f"/repos/{REPO}/issues")
    fake.compress = True
    packed = get(fake, f"/repos/{REPO}/issues", headers={"Accept-Encoding": "gzip"})
    assert packed.headers["content-encoding"] == "gzip" and int(packed.headers["content-length"]) < len(plain.content)
    assert packed.json() == plain.json() and packed.headers["etag"] == plain.headers["etag"]
    assert "content-encoding" not in get(fake, f"/repos/{REPO}/issues", headers={"Accept-Encoding": "identity"}).headers


def test_the_api_version_asked_for_is_echoed(fake: FakeGitHub) -> None:
    asked = get(fake, f"/repos/{REPO}/issues", headers={"X-GitHub-Api-Version": "2022-11-28"})
    assert asked.headers["x-github-api-version-selected"] == "2022-11-28"
    assert fake.requests[-1].headers["x-github-api-version"] == "2022-11-28"


# ---------------------------------------------------------------------------------------------
# Hostile modes: a GitHub that never ends, points elsewhere, trickles or floods
# ---------------------------------------------------------------------------------------------


def test_endless_next_links_repeat_the_data_and_never_name_a_last_page(fake: FakeGitHub) -> None:
    fake.misbehave(REPO, endless=True)
    pages = [get(fake, f"/repos/{REPO}/issues", params={"state": "all", "per_page": 2, "page": n}) for n in (1, 3, 4)]
    assert [[i["number"] for i in page.json()] for page in pages] == [[4, 3], [5], [4, 3]]
    assert all("next" in page.links and "last" not in page.links for page in pages)
    fake.misbehave(REPO)  # behave again
    assert "link" not in get(fake, f"/repos/{REPO}/issues").headers


def test_a_huge_last_page_is_claimed_and_pages_past_the_data_are_empty(fake: FakeGitHub) -> None:
    fake.misbehave(REPO, last_page=1_000_000_000)
    first = get(fake, f"/repos/{REPO}/issues")
    assert first.links["last"]["url"].endswith("page=1000000000") and len(first.json()) == 3
    assert httpx.get(first.links["next"]["url"]).json() == []


def test_links_can_point_at_another_host(fake: FakeGitHub) -> None:
    fake.add_repo(REPO, [make_issue(REPO, n) for n in range(1, 151)])
    fake.misbehave(REPO, link_to="http://127.0.0.1:9")
    links = get(fake, f"/repos/{REPO}/issues", params={"per_page": 100}).links
    assert links["next"]["url"].startswith(f"http://127.0.0.1:9/repositories/{fake.repo_id(REPO)}/issues?")


def test_lists_can_redirect_to_another_host(fake: FakeGitHub) -> None:
    fake.misbehave(REPO, redirect_to="http://127.0.0.1:9")
    answer = get(fake, f"/repos/{REPO}/issues", params={"state": "all"})
    assert answer.status_code == 302
    assert answer.headers["location"] == f"http://127.0.0.1:9/repos/{REPO}/issues?state=all"


def test_a_trickled_body_arrives_a_byte_at_a_time(fake: FakeGitHub) -> None:
    fake.add_repo(REPO, [])
    fake.misbehave(REPO, trickle=0.1)
    with httpx.stream("GET", f"{fake.url}/repos/{REPO}/issues") as answer:
        assert answer.headers["content-length"] == "2"
        assert [bytes(chunk) for chunk in answer.iter_raw()] == [b"[", b"]"]


@pytest.mark.parametrize("declared", [True, False])
def test_a_huge_body_is_made_as_it_is_sent(fake: FakeGitHub, declared: bool) -> None:
    size = 3 * 2**20 + 5
    fake.misbehave(REPO, body_bytes=size, declare_length=declared)
    with httpx.stream("GET", f"{fake.url}/repos/{REPO}/issues") as answer:
        assert answer.headers.get("content-length") == (str(size) if declared else None)
        assert answer.headers.get("transfer-encoding") == (None if declared else "chunked")
        received = sum(len(chunk) for chunk in answer.iter_raw())
    assert received == size


def test_a_gzip_bomb_is_small_until_inflated(fake: FakeGitHub) -> None:
    size = 8 * 2**20
    fake.misbehave(REPO, body_bytes=size, gzip_bomb=True)
    with httpx.stream("GET", f"{fake.url}/repos/{REPO}/issues") as answer:
        assert answer.headers["content-encoding"] == "gzip" and int(answer.headers["content-length"]) < size // 100
        assert sum(len(chunk) for chunk in answer.iter_bytes()) == size


def test_a_held_fake_answers_only_when_released(fake: FakeGitHub) -> None:
    fake.hold()
    answers: list[int] = []
    caller = threading.Thread(target=lambda: answers.append(get(fake, f"/repos/{REPO}/issues").status_code))
    caller.start()
    deadline = time.monotonic() + 10
    while fake.in_flight == 0:  # it arrived ...
        assert time.monotonic() < deadline, "the request never reached the fake"
        time.sleep(0.01)
    fake.hold(after=1)  # still held, but the next request is let through
    assert get(fake, f"/repos/{REPO}/issues").status_code == 200
    assert caller.is_alive() and answers == []  # ... and a later request was answered before it
    fake.release()
    caller.join(5)
    assert answers == [200]
