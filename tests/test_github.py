"""GitHubSource against the fake GitHub REST server: pagination, pull requests, and every failure."""

import asyncio
import time
import tracemalloc
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from typing import Any

import httpx
import pytest
from githubkit.exception import GitHubException, RequestFailed, RequestTimeout
from githubkit.response import Response
from githubkit.retry import RetryOption

from issuebridge.github import mapping
from issuebridge.github.client import GitHubSource, ServerErrorRetries
from issuebridge.github.conditional import Unchanged
from issuebridge.github.errors import (
    AuthenticationFailed,
    GitHubError,
    GitHubUnavailable,
    RateLimited,
    RepositoryNotFound,
    github_detail,
)
from issuebridge.github.paging import Fetched
from issuebridge.github.transport import ApiOrigin, BearerToken
from testkit.fake_github import FakeGitHub, make_issue, make_pull, make_pull_request
from tests.inprocess import until


def mixed_items(repo: str, count: int) -> list[dict[str, Any]]:
    """``count`` items, every fifth one a pull request, a third of the issues closed."""
    items = []
    for n in range(1, count + 1):
        if n % 5 == 0:
            items.append(make_pull_request(repo, n))
        else:
            items.append(make_issue(repo, n, state="closed" if n % 3 == 0 else "open", labels=[("bug", "d73a4a")]))
    return items


class Decisions:
    """The source's retry policy with a back-off too short to wait for, and every decision it made."""

    def __init__(self) -> None:
        self.made: list[RetryOption] = []
        self._policy = ServerErrorRetries(first_wait=0.001)

    def __call__(self, exc: GitHubException, retry_count: int) -> RetryOption:
        decided = self._policy(exc, retry_count)
        self.made.append(decided)
        return decided

    @property
    def retried(self) -> int:
        return sum(decided.do_retry for decided in self.made)


def source(fake: FakeGitHub, token: str | None = None, **kwargs: Any) -> GitHubSource:
    return GitHubSource(
        fake.url,
        token,
        timeout=kwargs.pop("timeout", 5.0),
        max_items=kwargs.pop("max_items", 10_000),
        concurrency=kwargs.pop("concurrency", 8),
        retries=kwargs.pop("retries", Decisions()),
    )


def expected_numbers(items: list[dict[str, Any]], state: str) -> set[int]:
    return {
        item["number"] for item in items if "pull_request" not in item and (state == "all" or item["state"] == state)
    }


@pytest.mark.parametrize("state", ["open", "closed", "all"])
async def test_fetches_every_page_and_leaves_pull_requests_out(fake_github: FakeGitHub, state: str) -> None:
    items = mixed_items("octo/app", 260)
    fake_github.add_repo("octo/app", items)
    fetched = await source(fake_github).list_issues("octo", "app", state)  # type: ignore[call-overload]
    assert {issue.number for issue in fetched.items} == expected_numbers(items, state)
    assert len(fetched.items) == len(expected_numbers(items, state))  # no duplicates across pages
    assert fetched.skipped == sum(
        1 for item in items if "pull_request" in item and (state == "all" or item["state"] == state)
    )
    assert not fetched.truncated
    listed = sum(1 for item in items if state == "all" or item["state"] == state)
    pages = fake_github.requests_for("octo/app", "issues")
    assert len(pages) == -(-listed // 100)
    assert all(r.query["per_page"] == "100" and r.query["state"] == state for r in pages)


async def test_sends_the_token_as_a_bearer_token(fake_github: FakeGitHub) -> None:
    fake_github.add_repo("octo/app", mixed_items("octo/app", 3))
    github = source(fake_github, "ghp_test_token")
    await github.list_issues("octo", "app", "open")
    assert fake_github.requests[-1].headers["authorization"] == "Bearer ghp_test_token"
    assert "ghp_test_token" not in repr(github._auth) + repr(vars(github))


async def test_stops_at_the_limit_and_says_so(fake_github: FakeGitHub) -> None:
    fake_github.add_repo("octo/app", [make_issue("octo/app", n) for n in range(1, 251)])
    fetched = await source(fake_github, max_items=120).list_issues("octo", "app", "open")
    assert len(fetched.items) == 120 and fetched.truncated
    assert len([r for r in fake_github.requests if r.path.endswith("/issues")]) == 2


async def test_unknown_repository_says_not_found(fake_github: FakeGitHub) -> None:
    with pytest.raises(RepositoryNotFound, match="octo/missing was not found"):
        await source(fake_github).list_issues("octo", "missing", "open")


async def test_a_bad_token_says_so_without_showing_it(fake_github: FakeGitHub) -> None:
    with FakeGitHub(token="right-token") as fake:
        fake.add_repo("octo/app", mixed_items("octo/app", 3))
        with pytest.raises(AuthenticationFailed, match="401") as info:
            await source(fake, "ghp_wrong_secret").list_issues("octo", "app", "open")
        assert "ghp_wrong_secret" not in str(info.value)
        fetched = await source(fake, "right-token").list_issues("octo", "app", "open")
        assert len(fetched.items) == 2


async def test_a_rate_limit_fails_at_once_and_says_when_it_resets(fake_github: FakeGitHub) -> None:
    fake_github.add_repo("octo/app", mixed_items("octo/app", 3))
    fake_github.rate_limited = True
    fake_github.rate_limit_reset = int(time.time()) + 30 * 60
    decisions = Decisions()
    with pytest.raises(RateLimited, match=r"resets at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC \(in about 30 min\)") as info:
        await source(fake_github, retries=decisions).list_issues("octo", "app", "open")
    assert decisions.made == [RetryOption(False)]  # at once: no back-off, no wait for the reset
    assert abs(info.value.reset_at.timestamp() - fake_github.rate_limit_reset) < 5
    assert len(fake_github.requests) == 1  # no retry


async def test_server_errors_are_retried_then_succeed(fake_github: FakeGitHub) -> None:
    fake_github.add_repo("octo/app", mixed_items("octo/app", 3))
    fake_github.fail_next = 1
    fetched = await source(fake_github).list_issues("octo", "app", "open")
    assert len(fetched.items) == 2
    assert [r.status for r in fake_github.requests] == [500, 200]


async def test_persistent_server_errors_give_up_with_a_clear_error(fake_github: FakeGitHub) -> None:
    fake_github.add_repo("octo/app", mixed_items("octo/app", 3))
    fake_github.fail_next = 10
    decisions = Decisions()
    with pytest.raises(GitHubUnavailable, match=r"answered 500 .* after 2 retries"):
        await source(fake_github, retries=decisions).list_issues("octo", "app", "open")
    assert len(fake_github.requests) == 3 and decisions.retried == 2


def test_server_errors_and_timeouts_are_retried_twice_after_half_a_second_then_a_second() -> None:
    request = httpx.Request("GET", "https://api.github.com/repos/octo/app/issues")
    retries = ServerErrorRetries()
    for transient in (
        RequestTimeout(httpx.ReadTimeout("slow", request=request)),
        RequestFailed(Response(httpx.Response(502, request=request), Any)),
    ):
        assert [retries(transient, n) for n in range(3)] == [
            RetryOption(True, timedelta(seconds=0.5)),
            RetryOption(True, timedelta(seconds=1)),
            RetryOption(False),  # bounded: three tries in all
        ]
    assert retries(RequestFailed(Response(httpx.Response(404, request=request), Any)), 0) == RetryOption(False)


async def test_an_unreachable_api_fails_promptly(closed_port: int) -> None:
    decisions = Decisions()
    unreachable = GitHubSource(f"http://127.0.0.1:{closed_port}", None, timeout=2, max_items=10, retries=decisions)
    with pytest.raises(GitHubUnavailable, match=r"Could not reach the GitHub API at http://127\.0\.0\.1"):
        await unreachable.list_issues("octo", "app", "open")
    assert decisions.made == [RetryOption(False)]  # promptly: a refused connection is not waited on and tried again


async def test_a_slow_api_times_out_with_a_clear_error(fake_github: FakeGitHub) -> None:
    fake_github.add_repo("octo/app", mixed_items("octo/app", 3))
    fake_github.hold()  # requests arrive and are never answered
    decisions = Decisions()
    with pytest.raises(GitHubUnavailable, match=r"did not answer in time \(2 retries\)"):
        await source(fake_github, timeout=0.1, retries=decisions).list_issues("octo", "app", "open")
    # Three tries, each cut at the timeout, backing off between them (0.5 s, then 1 s, in use:
    # the test above): bounded, not one, not endless.
    assert [decided.do_retry for decided in decisions.made] == [True, True, False]
    await until(lambda: fake_github.in_flight == 3)  # all three reached GitHub


async def test_concurrent_syncs_share_one_source(fake_github: FakeGitHub) -> None:
    fake_github.add_repo("octo/one", mixed_items("octo/one", 150))
    fake_github.add_repo("octo/two", mixed_items("octo/two", 120))
    github = source(fake_github)
    one, two = await asyncio.gather(github.list_issues("octo", "one", "all"), github.list_issues("octo", "two", "all"))
    assert len(one.items) == 120 and len(two.items) == 96


@pytest.mark.parametrize(("cap", "expected"), [(2, 2), (6, 6)])
async def test_concurrent_requests_to_github_are_capped(fake_github: FakeGitHub, cap: int, expected: int) -> None:
    for n in range(6):
        fake_github.add_repo(f"octo/r{n}", mixed_items(f"octo/r{n}", 3))
    fake_github.latency = 0.3
    github = GitHubSource(fake_github.url, None, timeout=10, max_items=100, concurrency=cap)
    await asyncio.gather(*(github.list_issues("octo", f"r{n}", "open") for n in range(6)))
    assert fake_github.max_in_flight == expected


async def test_a_secondary_rate_limit_fails_at_once_with_the_wait(fake_github: FakeGitHub) -> None:
    fake_github.add_repo("octo/app", mixed_items("octo/app", 3))
    fake_github.secondary_limit, fake_github.secondary_retry_after = 429, 120
    decisions = Decisions()
    with pytest.raises(RateLimited, match=r"secondary rate limit is exhausted; .* \(in about 2 min\)") as info:
        await source(fake_github, retries=decisions).list_issues("octo", "app", "open")
    assert decisions.made == [RetryOption(False)] and len(fake_github.requests) == 1  # no sleep, no retry
    assert "Make fewer requests at once" in str(info.value)


def issue_requests(fake: FakeGitHub) -> list[Any]:
    return [r for r in fake.requests if r.path.endswith("/issues")]


def many_issues(repo: str, count: int) -> list[dict[str, Any]]:
    return [make_issue(repo, n) for n in range(1, count + 1)]


async def test_pages_are_fetched_concurrently_up_to_the_cap_and_kept_in_order(fake_github: FakeGitHub) -> None:
    fake_github.add_repo("octo/app", many_issues("octo/app", 1000))
    fake_github.latency = 0.1
    seen: list[tuple[int, int | None]] = []
    handed: list[int] = []

    async def progress(done: int, total: int | None, rows: list[Any]) -> None:
        seen.append((done, total))
        handed.extend(row.number for row in rows)

    fetched = await source(fake_github, concurrency=3).list_issues("octo", "app", "open", progress)
    # Most recently updated first, as GitHub lists them with sort=updated; nothing twice.
    assert [issue.number for issue in fetched.items] == list(range(1000, 0, -1))
    assert fake_github.max_in_flight == 3  # pages 2-10 three at a time, never more
    assert seen == [(n, 10) for n in range(1, 11)]
    assert handed == [issue.number for issue in fetched.items]  # each page's rows, as it was taken
    assert all(r.query["sort"] == "updated" and r.query["direction"] == "desc" for r in issue_requests(fake_github))


async def test_no_pages_are_fetched_past_the_limit(fake_github: FakeGitHub) -> None:
    fake_github.add_repo("octo/app", many_issues("octo/app", 5000))
    fetched = await source(fake_github, max_items=250).list_issues("octo", "app", "open")
    assert len(fetched.items) == 250 and fetched.truncated
    assert sorted(int(r.query.get("page", "1")) for r in issue_requests(fake_github)) == [1, 2, 3]
    assert fetched.validators is None  # a truncated board cannot be confirmed unchanged


async def test_pull_requests_count_towards_the_limit_as_items_github_sent(fake_github: FakeGitHub) -> None:
    fake_github.add_repo("octo/app", mixed_items("octo/app", 1000))  # every fifth item a pull request
    fetched = await source(fake_github, max_items=700).list_issues("octo", "app", "all")
    # The limit bounds what GitHub sends, so that pages of nothing but pull requests end too.
    assert (len(fetched.items), fetched.skipped, fetched.truncated) == (560, 140, True)
    assert len(issue_requests(fake_github)) == 7


async def test_an_item_listed_twice_is_taken_once(fake_github: FakeGitHub) -> None:
    # An issue updated while the pages are fetched moves up the list and can show up twice.
    items = many_issues("octo/app", 150)
    fake_github.add_repo("octo/app", [*items, make_issue("octo/app", 7, updated_at="2030-01-01T00:00:00Z")])
    fetched = await source(fake_github).list_issues("octo", "app", "open")
    numbers = [issue.number for issue in fetched.items]
    assert len(numbers) == 150 and numbers[0] == 7 and sorted(numbers) == list(range(1, 151))


async def test_a_failure_on_a_later_page_fails_the_fetch_and_stops_the_rest(fake_github: FakeGitHub) -> None:
    fake_github.add_repo("octo/app", many_issues("octo/app", 2000))
    fake_github.latency = 0.05

    async def progress(done: int, total: int | None, rows: list[Any]) -> None:
        if done == 1:
            fake_github.rate_limited = True

    with pytest.raises(RateLimited):
        await source(fake_github, concurrency=2).list_issues("octo", "app", "open", progress)
    # The fetch waited for its cancelled pages before it raised, so nothing of it can ask GitHub
    # any more; once GitHub has answered what reached it, every request is counted.
    await until(lambda: fake_github.in_flight == 0)
    # Nothing went on fetching after the failure: page 1 and the pages already in flight.
    assert len(issue_requests(fake_github)) <= 1 + 2


async def test_an_unchanged_list_is_confirmed_with_two_conditional_requests(fake_github: FakeGitHub) -> None:
    fake_github.add_repo("octo/app", many_issues("octo/app", 450))
    github = source(fake_github)
    first = await github.list_issues("octo", "app", "open")
    assert first.validators is not None and len(issue_requests(fake_github)) == 5
    fake_github.requests.clear()
    fake_github.max_in_flight = 0
    fake_github.latency = 0.2

    again = await github.list_issues("octo", "app", "open", None, first.validators)
    assert isinstance(again, Unchanged)
    assert fake_github.max_in_flight == 2  # one round trip: both pages were asked for together
    checks = issue_requests(fake_github)
    assert sorted(r.query.get("page", "1") for r in checks) == ["1", "5"]
    assert all(r.status == 304 and r.headers["if-none-match"] for r in checks)


async def test_a_single_page_list_is_confirmed_with_one_request(fake_github: FakeGitHub) -> None:
    fake_github.add_repo("octo/app", many_issues("octo/app", 20))
    github = source(fake_github)
    first = await github.list_issues("octo", "app", "open")
    fake_github.requests.clear()
    assert isinstance(await github.list_issues("octo", "app", "open", None, first.validators), Unchanged)
    assert [r.status for r in issue_requests(fake_github)] == [304]


def edited(items: list[dict[str, Any]], number: int) -> list[dict[str, Any]]:
    """``items`` with issue ``number`` retitled, which moves it to the top of the updated list."""
    return [
        make_issue("octo/app", number, title="Edited", updated_at="2030-01-01T00:00:00Z")
        if i["number"] == number
        else i
        for i in items
    ]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ("edit in the middle", lambda items: edited(items, 200)),
        ("new issue", lambda items: [*items, make_issue("octo/app", 451)]),
        ("deleted from the middle", lambda items: [i for i in items if i["number"] != 200]),
        (
            "closed, leaving an open board",
            lambda items: [make_issue("octo/app", 200, state="closed") if i["number"] == 200 else i for i in items],
        ),
    ],
)
async def test_any_change_makes_the_conditional_fetch_read_everything(
    fake_github: FakeGitHub, change: str, expected: Any
) -> None:
    items = many_issues("octo/app", 450)
    fake_github.add_repo("octo/app", items)
    github = source(fake_github)
    first = await github.list_issues("octo", "app", "open")
    changed_items = expected(items)
    fake_github.add_repo("octo/app", changed_items)

    again = await github.list_issues("octo", "app", "open", None, first.validators)
    assert isinstance(again, Fetched), change
    assert {i.number: i.title for i in again.items} == {
        i["number"]: i["title"] for i in changed_items if i["state"] == "open"
    }
    assert again.validators is not None and again.validators != first.validators


async def test_validators_of_another_query_are_not_used(fake_github: FakeGitHub) -> None:
    fake_github.add_repo("octo/app", many_issues("octo/app", 30))
    github = source(fake_github)
    open_issues = await github.list_issues("octo", "app", "open")
    fake_github.requests.clear()
    everything = await github.list_issues("octo", "app", "all", None, open_issues.validators)
    assert isinstance(everything, Fetched) and len(everything.items) == 30
    assert all("if-none-match" not in r.headers for r in fake_github.requests)


# ---------------------------------------------------------------------------------------------
# The token goes to GITHUB_API_URL and nowhere else (SSRF through Link headers and redirects)
# ---------------------------------------------------------------------------------------------

TOKEN = "ghp_secret_token_value"


@pytest.fixture
def thief() -> Iterator[FakeGitHub]:
    """A second server, standing for any other host: it records what reaches it."""
    with FakeGitHub() as other:
        yield other


@pytest.mark.parametrize(
    "misbehaviour",
    [
        {"link_to": "THIEF"},  # rel="next" and rel="last" elsewhere; pages 2.. come from the last link
        {"link_to": "THIEF", "endless": True},  # rel="next" only: followed one page at a time
        {"redirect_to": "THIEF"},  # a redirect elsewhere (httpx itself would drop the token, not the request)
        {"redirect_to": "HTTPS"},  # a redirect to https on the same host keeps the token in httpx
    ],
    ids=["link-last", "link-next", "redirect", "redirect-to-https"],
)
async def test_nothing_is_requested_outside_the_api_and_the_token_never_leaves(
    thief: FakeGitHub, misbehaviour: dict[str, Any]
) -> None:
    with FakeGitHub(token=TOKEN) as fake:
        fake.add_repo("octo/app", many_issues("octo/app", 150))
        elsewhere = {"THIEF": thief.url, "HTTPS": fake.url.replace("http://", "https://")}
        fake.misbehave("octo/app", **{key: elsewhere.get(value, value) for key, value in misbehaviour.items()})
        with pytest.raises(GitHubUnavailable, match=r"outside GITHUB_API_URL \(http://127\.0\.0\.1:\d+\)") as info:
            await source(fake, TOKEN).list_issues("octo", "app", "open")
        assert TOKEN not in str(info.value)
        assert all(r.headers.get("authorization") == f"Bearer {TOKEN}" for r in fake.requests)
    assert thief.requests == []  # not one request, with or without the token


def test_the_api_is_an_origin_and_a_path_prefix() -> None:
    enterprise = ApiOrigin.of("https://ghe.example.com/api/v3")
    assert str(enterprise) == "https://ghe.example.com/api/v3"
    allowed = ["https://ghe.example.com/api/v3/repositories/1/issues?page=2", "https://GHE.example.com:443/api/v3/x"]
    refused = [
        "http://ghe.example.com/api/v3/repos/a/b",  # another scheme
        "https://ghe.example.com:8443/api/v3/repos/a/b",  # another port
        "https://ghe.example.com.evil.test/api/v3/repos/a/b",
        "https://ghe.example.com/repositories/1/issues",  # outside the prefix
        "https://ghe.example.com/api/v3x/repos",
        "https://ghe.example.com/api/v3/%2e%2e/admin",  # ".." as the server decodes it
        "https://user:pw@ghe.example.com/api/v3/repos/a/b",
    ]
    assert [enterprise.allows(httpx.URL(url)) for url in allowed] == [True] * len(allowed)
    assert [enterprise.allows(httpx.URL(url)) for url in refused] == [False] * len(refused)
    assert ApiOrigin.of("https://api.github.com").allows(httpx.URL("https://api.github.com/repositories/7/pulls"))


def test_the_token_is_attached_only_to_requests_for_the_api() -> None:
    """Defence in depth: the transport refuses other requests, and the token is not even added to them."""
    auth = BearerToken(TOKEN, ApiOrigin.of("https://api.github.com"))
    for url, expected in [("https://api.github.com/repos/a/b", f"Bearer {TOKEN}"), ("https://evil.test/x", None)]:
        (sent,) = list(auth.auth_flow(httpx.Request("GET", url)))
        assert sent.headers.get("authorization") == expected


async def test_every_request_names_the_api_version(fake_github: FakeGitHub) -> None:
    fake_github.add_repo("octo/app", many_issues("octo/app", 250))
    github = source(fake_github)
    fetched = await github.list_issues("octo", "app", "open")
    fake_github.rename_repo("octo/app", "octo/renamed")
    await github.list_issues("octo", "app", "open", None, fetched.validators)  # conditional, redirected
    assert len(fake_github.requests) > 5
    assert {r.headers.get("x-github-api-version") for r in fake_github.requests} == {"2022-11-28"}


# ---------------------------------------------------------------------------------------------
# A hostile or broken GitHub cannot hang a fetch: pages, bytes and time are all bounded
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("items", "misbehaviour"),
    [
        (many_issues("octo/app", 150), {"endless": True}),  # a next link on every page, repeating the list
        (many_issues("octo/app", 150), {"last_page": 1_000_000_000}),
        ([make_pull_request("octo/app", n) for n in range(1, 101)], {"endless": True}),  # only pull requests
        ([], {"last_page": 1_000_000_000}),  # empty pages all the way
    ],
    ids=["endless-next", "huge-last", "only-pull-requests", "empty-pages"],
)
async def test_endless_pages_stop_at_the_item_limit_and_say_so(
    fake_github: FakeGitHub, items: list[dict[str, Any]], misbehaviour: dict[str, Any]
) -> None:
    fake_github.add_repo("octo/app", items)
    fake_github.misbehave("octo/app", **misbehaviour)
    seen: list[tuple[int, int | None]] = []

    async def progress(done: int, total: int | None, rows: list[Any]) -> None:
        seen.append((done, total))

    async with asyncio.timeout(30):  # a safety net: without the bound this never ends
        fetched = await source(fake_github, max_items=250).list_issues("octo", "app", "open", progress)
    assert fetched.truncated and fetched.validators is None
    assert len(issue_requests(fake_github)) == 3  # the pages that can hold 250 items, no more
    assert [done for done, _ in seen] == [1, 2, 3]
    assert len(fetched.items) <= 150  # items sent twice are taken once


async def test_a_body_trickled_a_byte_at_a_time_ends_at_the_deadline(fake_github: FakeGitHub) -> None:
    fake_github.add_repo("octo/app", many_issues("octo/app", 3))
    fake_github.misbehave("octo/app", trickle=0.05)  # each byte well inside the read timeout
    github = GitHubSource(fake_github.url, None, timeout=5, max_items=100, call_timeout=0.5)
    async with asyncio.timeout(30):
        with pytest.raises(
            GitHubUnavailable, match=r"did not finish answering within 0\.5 s \(ISSUEBRIDGE_CALL_TIMEOUT"
        ):
            await github.list_issues("octo", "app", "open")


async def test_a_stalled_github_fails_at_the_deadline_retries_included(fake_github: FakeGitHub) -> None:
    fake_github.add_repo("octo/app", many_issues("octo/app", 3))
    fake_github.hold()  # every request waits for an answer that does not come
    github = GitHubSource(fake_github.url, None, timeout=20, max_items=100, call_timeout=0.5)
    async with asyncio.timeout(30):
        with pytest.raises(GitHubUnavailable, match=r"within 0\.5 s"):
            await github.list_issues("octo", "app", "open")
    fake_github.release()
    fake_github.fail_next = 10  # 500s, retried after 0.5 s and 1 s of back-off: past the deadline
    async with asyncio.timeout(30):
        with pytest.raises(GitHubUnavailable, match=r"within 0\.5 s"):
            await github.list_issues("octo", "app", "open")


@pytest.mark.parametrize(
    "misbehaviour",
    [
        {"body_bytes": 8 * 2**20},  # declared: refused on the Content-Length alone
        {"body_bytes": 8 * 2**20, "declare_length": False},  # chunked: refused once the limit is read
        {"body_bytes": 8 * 2**20, "gzip_bomb": True},  # about 8 KiB on the wire, 8 MiB inflated
    ],
    ids=["declared", "chunked", "gzip-bomb"],
)
async def test_an_answer_over_the_size_limit_is_refused(fake_github: FakeGitHub, misbehaviour: dict[str, Any]) -> None:
    fake_github.misbehave("octo/app", **misbehaviour)
    github = GitHubSource(fake_github.url, None, timeout=5, max_items=100, max_response_bytes=2**20)
    with pytest.raises(GitHubUnavailable, match=r"larger than 1 MiB \(ISSUEBRIDGE_MAX_RESPONSE_BYTES\)"):
        await github.list_issues("octo", "app", "open")


async def test_a_300_mb_body_never_sits_in_memory(fake_github: FakeGitHub) -> None:
    fake_github.misbehave("octo/app", body_bytes=300 * 2**20, declare_length=False)
    tracemalloc.start()
    try:
        with pytest.raises(GitHubUnavailable, match=r"larger than 16 MiB"):
            await source(fake_github).list_issues("octo", "app", "open")  # the default limit
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 64 * 2**20, peak


async def test_compressed_pages_read_like_plain_ones(fake_github: FakeGitHub) -> None:
    fake_github.add_repo("octo/app", mixed_items("octo/app", 260))
    plain = await source(fake_github).list_issues("octo", "app", "all")
    fake_github.compress = True
    packed = await source(fake_github).list_issues("octo", "app", "all")
    # The two answers' Date headers may fall either side of a second: the rest must match.
    assert packed.listed_at is not None and plain.listed_at is not None
    assert replace(packed, listed_at=None) == replace(plain, listed_at=None)
    assert all(r.headers["accept-encoding"] == "gzip" for r in fake_github.requests)


@pytest.mark.parametrize("encoding", ["br", "deflate", "gzip, gzip"])
async def test_an_encoding_not_asked_for_is_refused(fake_github: FakeGitHub, encoding: str) -> None:
    fake_github.misbehave("octo/app", encoding=encoding)
    with pytest.raises(GitHubUnavailable, match="encoding issuebridge did not ask for"):
        await source(fake_github).list_issues("octo", "app", "open")


async def test_a_broken_compressed_answer_is_refused(fake_github: FakeGitHub) -> None:
    fake_github.misbehave("octo/app", encoding="gzip")  # says gzip, sends plain JSON
    with pytest.raises(GitHubUnavailable, match="compressed answer that does not inflate"):
        await source(fake_github).list_issues("octo", "app", "open")


async def test_a_proxy_from_the_environment_is_used_and_guarded(
    fake_github: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The fake answers absolute-form requests, as a forward proxy receives them.
    fake_github.add_repo("octo/app", many_issues("octo/app", 3))
    for name in ("NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", fake_github.url)
    github = GitHubSource("http://github.example.invalid", None, timeout=5, max_items=1000)
    fetched = await github.list_issues("octo", "app", "open")
    assert len(fetched.items) == 3
    assert fake_github.requests[-1].headers["host"] == "github.example.invalid"
    # Through the proxy too, nothing but the API is asked for: the fake's Links name its own address.
    fake_github.add_repo("octo/app", many_issues("octo/app", 150))
    with pytest.raises(GitHubUnavailable, match=r"pointed at http://127\.0\.0\.1:\d+, outside GITHUB_API_URL"):
        await github.list_issues("octo", "app", "open")


# ---------------------------------------------------------------------------------------------
# Items GitHub sends in a shape that cannot be read are left out and counted
# ---------------------------------------------------------------------------------------------


def unreadable_items(repo: str) -> list[dict[str, Any]]:
    good = [make_issue(repo, n) for n in (1, 2, 3)]
    too_long = make_issue(repo, 4, title="x" * 5000)
    negative = make_issue(repo, 5, comments=-1)
    wrong_type = {**make_issue(repo, 6), "number": "six"}
    no_state = {key: value for key, value in make_issue(repo, 7).items() if key != "state"}
    labels_not_a_list = {**make_issue(repo, 8), "labels": 17}
    return [*good, too_long, negative, wrong_type, no_state, labels_not_a_list]


async def test_unreadable_items_are_left_out_and_counted(fake_github: FakeGitHub) -> None:
    fake_github.add_repo("octo/app", unreadable_items("octo/app"))
    fake_github.misbehave("octo/app", as_given=True)
    fetched = await source(fake_github).list_issues("octo", "app", "open")
    assert sorted(issue.number for issue in fetched.items) == [1, 2, 3]
    assert (fetched.unreadable, fetched.skipped, fetched.truncated) == (5, 0, False)
    assert fetched.validators is not None  # the list is complete as GitHub sent it


async def test_items_that_are_not_objects_count_as_unreadable(fake_github: FakeGitHub) -> None:
    fake_github.add_repo("octo/app", [make_issue("octo/app", 1), 42, None, "text", [1]])
    fake_github.misbehave("octo/app", as_given=True)
    fetched = await source(fake_github).list_issues("octo", "app", "open")
    assert [issue.number for issue in fetched.items] == [1] and fetched.unreadable == 4


async def test_a_readable_page_is_still_validated_in_one_call(
    fake_github: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    one_at_a_time: list[object] = []
    single = mapping.ISSUES._one
    monkeypatch.setattr(single, "validate_python", lambda value: one_at_a_time.append(value))
    fake_github.add_repo("octo/app", many_issues("octo/app", 150))
    fetched = await source(fake_github).list_issues("octo", "app", "open")
    assert len(fetched.items) == 150 and one_at_a_time == []


# ---------------------------------------------------------------------------------------------
# GitHub's refusals, in our words with GitHub's details: rate limits, 410, 422
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [403, 429])
async def test_a_secondary_rate_limit_without_retry_after_is_a_rate_limit_of_a_minute(
    fake_github: FakeGitHub, status: int
) -> None:
    fake_github.add_repo("octo/app", many_issues("octo/app", 3))
    fake_github.secondary_limit = status  # no Retry-After, quota left: githubkit 0.16 sees a plain refusal
    with pytest.raises(RateLimited, match=r"secondary rate limit is exhausted; .* \(in about 1 min\)") as info:
        await source(fake_github).list_issues("octo", "app", "open")
    assert info.value.wait == timedelta(minutes=1)
    assert "scope" not in str(info.value) and len(fake_github.requests) == 1  # no retry


async def test_issues_switched_off_say_what_still_works(fake_github: FakeGitHub) -> None:
    fake_github.add_pulls("octo/app", [make_pull("octo/app", 1)])
    fake_github.disable_issues("octo/app")
    with pytest.raises(GitHubError, match=r"has its issues switched off on GitHub \(410: Issues are disabled") as info:
        await source(fake_github).list_issues("octo", "app", "open")
    assert "pull requests and commits can still be fetched" in str(info.value)
    assert len((await source(fake_github).list_pulls("octo", "app", "open")).items) == 1


async def test_a_422_keeps_githubs_details(fake_github: FakeGitHub) -> None:
    fake_github.add_repo("octo/app", many_issues("octo/app", 3))
    with pytest.raises(GitHubError, match=r"\(422: Validation Failed: Issue state invalid \('merged'\)\)"):
        await source(fake_github).list_issues("octo", "app", "merged")  # type: ignore[call-overload]


def test_githubs_details_are_one_bounded_line() -> None:
    errors = [{"field": "a\nb", "code": "invalid"}, "plain words", {"message": "y" * 500}, {"code": "missing"}]
    answer = Response(httpx.Response(422, json={"message": "Validation\n Failed", "errors": errors}), Any)
    detail = github_detail(answer)
    assert detail.startswith("Validation Failed: a b invalid; plain words; yyy") and detail.endswith("… (and 1 more)")
    assert "\n" not in detail and len(detail) < 400


# ---------------------------------------------------------------------------------------------
# A renamed repository: followed, and confirmed unchanged under its new name
# ---------------------------------------------------------------------------------------------


async def test_a_renamed_repository_is_followed_and_then_confirmed_with_304s(fake_github: FakeGitHub) -> None:
    fake_github.add_repo("octo/app", many_issues("octo/app", 250))
    fake_github.rename_repo("octo/app", "octo/renamed")
    github = source(fake_github)
    fetched = await github.list_issues("Octo", "APP", "open")
    assert fetched.renamed_to == "octo/renamed" and len(fetched.items) == 250
    assert fetched.validators is not None and "/repos/octo/renamed/issues?" in fetched.validators.first_url
    fake_github.requests.clear()
    again = await github.list_issues("octo", "renamed", "open", None, fetched.validators)
    assert isinstance(again, Unchanged) and [r.status for r in fake_github.requests] == [304, 304]


async def test_validators_from_before_a_rename_lead_to_the_new_name(fake_github: FakeGitHub) -> None:
    fake_github.add_repo("octo/app", many_issues("octo/app", 250))
    github = source(fake_github)
    before = await github.list_issues("octo", "app", "open")
    fake_github.rename_repo("octo/app", "octo/renamed")
    after = await github.list_issues("octo", "app", "open", None, before.validators)
    # 304s through the redirect would hide the rename: the list is read, under its new name.
    assert isinstance(after, Fetched) and after.renamed_to == "octo/renamed"


@pytest.mark.parametrize("retry_after", ["soon", "9" * 30])
async def test_a_refusal_with_headers_that_cannot_be_read_is_a_clear_error(
    fake_github: FakeGitHub, retry_after: str
) -> None:
    fake_github.secondary_limit, fake_github.secondary_retry_after = 429, retry_after
    with pytest.raises(GitHubUnavailable, match="Retry-After or X-RateLimit-Reset header that cannot be read"):
        await source(fake_github).list_issues("octo", "app", "open")


async def test_a_rate_limit_reset_years_ahead_is_taken_as_a_day_at_most(fake_github: FakeGitHub) -> None:
    fake_github.rate_limited, fake_github.rate_limit_reset = True, int(time.time()) + 10**9
    with pytest.raises(RateLimited, match=r"in about 1440 min") as info:
        await source(fake_github).list_issues("octo", "app", "open")
    assert info.value.wait == timedelta(days=1)


async def test_a_redirect_loop_ends_with_a_clear_error(fake_github: FakeGitHub) -> None:
    fake_github.misbehave("octo/app", redirect_to=fake_github.url)  # the same URL, again and again
    with pytest.raises(GitHubUnavailable, match="redirected the request for octo/app more than 20 times"):
        await source(fake_github).list_issues("octo", "app", "open")


async def test_strong_etags_confirm_an_unchanged_list_too(fake_github: FakeGitHub) -> None:
    fake_github.strong_etags = True
    fake_github.add_repo("octo/app", many_issues("octo/app", 150))
    github = source(fake_github)
    first = await github.list_issues("octo", "app", "open")
    assert first.validators is not None and not first.validators.first_etag.startswith("W/")
    assert isinstance(await github.list_issues("octo", "app", "open", None, first.validators), Unchanged)


async def test_an_item_by_a_deleted_user_has_no_author(fake_github: FakeGitHub) -> None:
    fake_github.add_repo("octo/app", [make_issue("octo/app", 1, user=None)])
    fake_github.add_pulls("octo/app", [make_pull("octo/app", 2, user=None)])
    issues = await source(fake_github).list_issues("octo", "app", "open")
    pulls = await source(fake_github).list_pulls("octo", "app", "open")
    assert [(i.number, i.author) for i in issues.items] == [(1, None)] and issues.unreadable == 0
    assert [(p.number, p.author) for p in pulls.items] == [(2, None)]
