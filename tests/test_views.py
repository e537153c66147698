"""Search views without a server: the query's normalisation and splitting, the fake GitHub's
search as GitHub answers it, and the view's fetch, refresh and limits through the sync service."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from issuebridge.dashboard.refresh import Refresher
from issuebridge.github.client import GitHubSource
from issuebridge.github.errors import GitHubError, RateLimited
from issuebridge.github.search import SearchNeedsToken
from issuebridge.records.views import (
    InvalidQuery,
    Search,
    View,
    ViewItem,
    clean,
    merged,
    normalise,
    searches,
    uses_me,
    view_key,
    view_query,
)
from issuebridge.services import Core, core
from issuebridge.store import SQLiteStore
from testkit.fake_github import FakeGitHub, make_issue, make_pull, make_pull_request


class OneWorker(SQLiteStore):
    async def claim(self, name: str, ttl_seconds: float) -> bool:
        return True


# -- the query -----------------------------------------------------------------------------------


def test_the_same_search_in_another_order_or_case_is_the_same_view() -> None:
    assert normalise("is:open  Label:Bug repo:Facebook/React") == normalise("repo:facebook/react label:bug is:open")
    assert view_key("is:open label:bug") == view_key("label:bug   is:open")
    assert view_key("is:open label:bug") != view_key("is:closed label:bug")
    assert view_key("a OR b c") != view_key("c a OR b")  # operators: order kept
    assert view_key("x").startswith("view:") and len(view_key("x")) == len("view:") + 16


def test_quoted_values_stay_one_term() -> None:
    assert clean('  label:"good first issue"   "two words"  x ') == 'label:"good first issue" "two words" x'


@pytest.mark.parametrize(
    ("query", "reason"),
    [("", "empty"), ("   ", "empty"), ("a" * 257, "at most 256"), ("is:open\x00", "control")],
)
def test_a_query_github_could_not_take_is_refused_before_asking(query: str, reason: str) -> None:
    with pytest.raises(InvalidQuery, match=reason):
        view_query(query)


def test_a_query_that_says_neither_issues_nor_pull_requests_is_two_searches() -> None:
    assert searches("repo:a/b is:open") == [Search("repo:a/b is:open is:issue"), Search("repo:a/b is:open is:pr")]
    for typed in ("is:pr", "is:issue", "is:pull-request", "type:pr", "-is:pr"):
        assert searches(f"repo:a/b {typed}") == [Search(f"repo:a/b {typed}")]
    assert searches("is:pr sort:updated-asc") == [Search("is:pr", "updated", "asc")]
    assert searches("is:pr sort:comments") == [Search("is:pr", "comments", "desc")]


def test_at_me_is_a_qualifier_value_only() -> None:
    assert uses_me("review-requested:@me is:pr") and uses_me("-assignee:@ME")
    assert not uses_me("@me is:pr") and not uses_me("author:mona")


def item(repo: str, number: int, created: str, *, pull: bool = False) -> ViewItem:
    at = datetime.fromisoformat(created).replace(tzinfo=UTC)
    return ViewItem(repository=repo, number=number, title="t", state="open", pull_request=pull, created_at=at)


def test_two_searches_merge_newest_first_or_by_the_querys_sort() -> None:
    issues = [item("a/b", 3, "2026-01-03"), item("a/b", 1, "2026-01-01")]
    pulls = [item("a/c", 2, "2026-01-02", pull=True)]
    newest = merged([issues, pulls], Search("x is:issue"))
    assert [(row.repository, row.number) for row in newest] == [("a/b", 3), ("a/c", 2), ("a/b", 1)]
    oldest = merged([issues, pulls], Search("x is:issue", "created", "asc"))
    assert [row.number for row in oldest] == [1, 2, 3]
    assert merged([issues], Search("x is:issue")) == issues  # one search: GitHub's own order


# -- the fake GitHub's search --------------------------------------------------------------------


def search(fake: FakeGitHub, q: str, **params: Any) -> httpx.Response:
    return httpx.get(f"{fake.url}/search/issues", params={"q": q, **params})


def found(answer: httpx.Response) -> list[tuple[str, int]]:
    assert answer.status_code == 200, answer.text
    return [(i["repository_url"].rsplit("/repos/", 1)[1], i["number"]) for i in answer.json()["items"]]


@pytest.fixture
def searchable(fake_github: FakeGitHub) -> FakeGitHub:
    bug = [("bug", "d73a4a")]
    fake_github.add_repo(
        "octo/app",
        [
            make_issue("octo/app", 1, title="Crash on start", labels=bug, user="ana", assignees=["bo"]),
            make_issue("octo/app", 2, title="Docs typo", state="closed", created_at="2026-11-20T00:00:00Z"),
            make_pull_request("octo/app", 3, title="Fix crash", labels=bug, user="bo"),
        ],
    )
    fake_github.add_pulls("octo/app", [make_pull("octo/app", 3, title="Fix crash", requested_reviewers=["mona"])])
    fake_github.add_repo(
        "octo/lib", [make_issue("octo/lib", 1, title="Crash in lib", created_at="2026-11-25T00:00:00Z")]
    )
    fake_github.add_repo("other/x", [make_issue("other/x", 9, title="Crash elsewhere")])
    return fake_github


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("repo:octo/app is:issue", [("octo/app", 2), ("octo/app", 1)]),
        ("org:octo crash is:issue", [("octo/lib", 1), ("octo/app", 1)]),
        ("user:other is:open", [("other/x", 9)]),
        ("repo:octo/app is:pr", [("octo/app", 3)]),
        ("repo:octo/app state:closed", [("octo/app", 2)]),
        ("repo:octo/app label:bug is:issue", [("octo/app", 1)]),
        ("repo:octo/app -label:bug", [("octo/app", 2)]),
        ("repo:octo/app author:bo", [("octo/app", 3)]),
        ("repo:octo/app assignee:bo", [("octo/app", 1)]),
        ("repo:octo/app no:assignee is:issue", [("octo/app", 2)]),
        ("repo:octo/app review-requested:mona", [("octo/app", 3)]),
        ("org:octo created:>2026-11-21", [("octo/lib", 1)]),
        ("org:octo created:<2026-11-21 is:issue", [("octo/app", 2), ("octo/app", 1)]),
        ('repo:octo/app "fix crash"', [("octo/app", 3)]),
    ],
)
def test_the_fake_search_knows_githubs_qualifiers(searchable: FakeGitHub, q: str, expected: list[Any]) -> None:
    answer = search(searchable, q)
    assert found(answer) == expected
    assert answer.json()["total_count"] == len(expected) and answer.json()["incomplete_results"] is False
    assert answer.headers["x-ratelimit-resource"] == "search" and answer.headers["x-ratelimit-limit"] == "10"


def test_the_fake_search_refuses_what_github_refuses(searchable: FakeGitHub) -> None:
    missing = search(searchable, "repo:octo/missing is:issue")
    assert missing.status_code == 422 and missing.json()["message"] == "Validation Failed"
    assert "cannot be searched" in missing.json()["errors"][0]["message"]
    assert search(searchable, "org:nobody").status_code == 422
    assert search(searchable, "assignee:@me").status_code == 422  # no token: @me is nobody


def test_the_fake_search_stops_at_1000_results_with_links_to_the_tenth_page(fake_github: FakeGitHub) -> None:
    fake_github.add_repo("big/one", [make_issue("big/one", n) for n in range(1, 1201)])
    first = search(fake_github, "repo:big/one", per_page=100)
    assert first.json()["total_count"] == 1200 and len(first.json()["items"]) == 100
    assert 'page=10>; rel="last"' in first.headers["link"]
    assert search(fake_github, "repo:big/one", per_page=100, page=10).status_code == 200
    past = search(fake_github, "repo:big/one", per_page=100, page=11)
    assert past.status_code == 422 and past.json()["message"] == "Only the first 1000 search results are available"


def test_the_fake_search_counts_its_own_rate_limit(fake_github: FakeGitHub) -> None:
    fake_github.add_repo("octo/app", [make_issue("octo/app", 1)])
    fake_github.search_quota = True
    answers = [search(fake_github, "repo:octo/app").status_code for _ in range(11)]
    assert answers == [200] * 10 + [403]
    refused = search(fake_github, "repo:octo/app")
    assert refused.headers["x-ratelimit-remaining"] == "0" and refused.headers["x-ratelimit-resource"] == "search"
    assert "retry-after" not in refused.headers


# -- the view through the sync service --------------------------------------------------------


@pytest.fixture
async def parts() -> AsyncIterator[Core]:
    store = OneWorker(":memory:")
    await store.open()
    yield core(store)
    await store.close()


def source(fake: FakeGitHub, token: str | None = None, max_items: int = 5000) -> GitHubSource:
    return GitHubSource(fake.url, token, timeout=5, max_items=max_items, call_timeout=20.0)


async def test_a_view_of_more_than_1000_results_asks_for_no_page_past_the_tenth(
    parts: Core, fake_github: FakeGitHub
) -> None:
    fake_github.add_repo("big/one", [make_issue("big/one", n) for n in range(1, 1301)])
    synced = await parts.board_sync(source(fake_github)).sync(view_query("repo:big/one is:issue"))
    view = synced.board
    assert isinstance(view, View) and len(view.items) == 1000 and view.total_count == 1300 and view.truncated
    pages = sorted(int(r.query.get("page", "1")) for r in fake_github.requests if r.path == "/search/issues")
    assert pages == list(range(1, 11))


async def test_the_item_limit_applies_when_smaller_than_githubs_cap(parts: Core, fake_github: FakeGitHub) -> None:
    fake_github.add_repo("big/one", [make_issue("big/one", n) for n in range(1, 400)])
    synced = await parts.board_sync(source(fake_github, max_items=250)).sync(view_query("repo:big/one is:issue"))
    assert len(synced.board.items) == 250 and synced.board.total_count == 399 and synced.board.truncated
    assert len([r for r in fake_github.requests if r.path == "/search/issues"]) == 3


async def test_a_query_without_a_type_sums_two_searches(parts: Core, searchable: FakeGitHub) -> None:
    synced = await parts.board_sync(source(searchable)).sync(view_query("repo:octo/app"))
    view = synced.board
    assert (view.total_count, view.issue_count, view.pull_request_count) == (3, 2, 1)
    asked = [r.query["q"] for r in searchable.requests if r.path == "/search/issues"]
    assert asked == ["repo:octo/app is:issue", "repo:octo/app is:pr"]
    # Newest first across both: #2 was created long after #1 and #3 (2024).
    assert [row.number for row in view.items] == [2, 3, 1]


async def test_a_refresh_asks_every_page_with_its_etag_and_a_change_anywhere_is_seen(
    parts: Core, fake_github: FakeGitHub
) -> None:
    issues = [make_issue("big/one", n, title=f"Issue {n}") for n in range(1, 251)]
    fake_github.add_repo("big/one", issues)
    boards = parts.board_sync(source(fake_github))
    key = (await boards.sync(view_query("repo:big/one is:issue"))).board.key
    refresher = Refresher(parts.store, boards, 60.0)
    seen = len(fake_github.requests)
    await refresher.round()
    again = fake_github.requests[seen:]
    assert [r.status for r in again] == [304, 304, 304] and all("if-none-match" in r.headers for r in again)
    issues[-1] = make_issue("big/one", 250, title="Edited on the third page")  # best match: it stays there
    fake_github.add_repo("big/one", issues)
    await refresher.round()
    stored = await parts.dashboard.get(key)
    assert isinstance(stored, View) and "Edited on the third page" in [row.title for row in stored.items]


async def test_at_me_without_a_token_is_an_error_that_says_a_token_is_needed(
    parts: Core, fake_github: FakeGitHub
) -> None:
    with pytest.raises(SearchNeedsToken, match="GITHUB_TOKEN"):
        await parts.board_sync(source(fake_github)).sync(view_query("is:pr review-requested:@me"))
    assert not fake_github.requests


@pytest.mark.parametrize("token", [None, "ghp_test"])
@pytest.mark.parametrize("retry_after", [None, 42])
async def test_the_search_rate_limit_names_the_search_and_its_wait(
    parts: Core, token: str | None, retry_after: int | None
) -> None:
    with FakeGitHub(token=token) as fake:
        fake.add_repo("octo/app", [make_issue("octo/app", 1)])
        fake.search_rate_limited = True
        fake.search_retry_after = retry_after
        with pytest.raises(RateLimited) as raised:
            await parts.board_sync(source(fake, token)).sync(view_query("repo:octo/app is:issue"))
    message = str(raised.value)
    limit = "30 searches a minute with a token" if token else "10 searches a minute without a token"
    assert f"GitHub's search rate limit ({limit}) is spent" in message
    if retry_after:
        assert "in about 42 s" in message
    assert ("set GITHUB_TOKEN" in message) is (token is None)


async def test_an_invalid_qualifier_comes_back_with_githubs_own_message(parts: Core, fake_github: FakeGitHub) -> None:
    with pytest.raises(GitHubError) as raised:
        await parts.board_sync(source(fake_github)).sync(view_query("repo:nobody/nothing is:issue"))
    assert str(raised.value) == (
        "GitHub's search could not take the query (422: Validation Failed: The listed users and repositories "
        "cannot be searched either because the resources do not exist or you do not have permission to view them.)."
    )
