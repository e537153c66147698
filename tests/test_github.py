"""GitHubSource against the fake GitHub REST server: pagination, pull requests, and every failure."""

import asyncio
import time
from typing import Any

import pytest

from issuebridge.github import (
    AuthenticationFailed,
    Fetched,
    GitHubSource,
    GitHubUnavailable,
    RateLimited,
    RepositoryNotFound,
    Unchanged,
)
from tests.conftest import free_port
from tests.fake_github import FakeGitHub, make_issue, make_pull_request


def mixed_items(repo: str, count: int) -> list[dict[str, Any]]:
    """``count`` items, every fifth one a pull request, a third of the issues closed."""
    items = []
    for n in range(1, count + 1):
        if n % 5 == 0:
            items.append(make_pull_request(repo, n))
        else:
            items.append(make_issue(repo, n, state="closed" if n % 3 == 0 else "open", labels=[("bug", "d73a4a")]))
    return items


def source(fake: FakeGitHub, token: str | None = None, **kwargs: Any) -> GitHubSource:
    return GitHubSource(
        fake.url,
        token,
        timeout=kwargs.pop("timeout", 5.0),
        max_items=kwargs.pop("max_items", 10_000),
        concurrency=kwargs.pop("concurrency", 8),
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
    assert "ghp_test_token" not in repr(github._github.auth)


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
    started = time.monotonic()
    with pytest.raises(RateLimited, match=r"resets at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC \(in about 30 min\)") as info:
        await source(fake_github).list_issues("octo", "app", "open")
    assert time.monotonic() - started < 2
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
    with pytest.raises(GitHubUnavailable, match=r"answered 500 .* after 2 retries"):
        await source(fake_github).list_issues("octo", "app", "open")
    assert len(fake_github.requests) == 3


async def test_an_unreachable_api_fails_promptly() -> None:
    unreachable = GitHubSource(f"http://127.0.0.1:{free_port()}", None, timeout=2, max_items=10)
    started = time.monotonic()
    with pytest.raises(GitHubUnavailable, match=r"Could not reach the GitHub API at http://127\.0\.0\.1"):
        await unreachable.list_issues("octo", "app", "open")
    assert time.monotonic() - started < 3


async def test_a_slow_api_times_out_with_a_clear_error(fake_github: FakeGitHub) -> None:
    fake_github.add_repo("octo/app", mixed_items("octo/app", 3))
    fake_github.latency = 2.0
    started = time.monotonic()
    with pytest.raises(GitHubUnavailable, match=r"did not answer in time \(2 retries\)"):
        await source(fake_github, timeout=0.3).list_issues("octo", "app", "open")
    # Three tries of 0.3 s with 0.5 s and 1 s of back-off between them: bounded, not one, not endless.
    assert 2.3 < time.monotonic() - started < 4


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
    started = time.monotonic()
    with pytest.raises(RateLimited, match=r"secondary rate limit is exhausted; .* \(in about 2 min\)") as info:
        await source(fake_github).list_issues("octo", "app", "open")
    assert time.monotonic() - started < 2 and len(fake_github.requests) == 1  # no sleep, no retry
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


async def test_pull_requests_do_not_count_towards_the_limit(fake_github: FakeGitHub) -> None:
    fake_github.add_repo("octo/app", mixed_items("octo/app", 1000))  # every fifth item a pull request
    fetched = await source(fake_github, max_items=700).list_issues("octo", "app", "all")
    assert len(fetched.items) == 700 and fetched.truncated
    # Newest first: the pull requests passed before the 701st issue turned up.
    listed = sorted(range(1, 1001), reverse=True)
    issues_seen = 0
    pulls_passed = 0
    for n in listed:
        if n % 5 == 0:
            pulls_passed += 1
        elif (issues_seen := issues_seen + 1) > 700:
            break
    assert fetched.skipped == pulls_passed


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
    await asyncio.sleep(0.3)
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
