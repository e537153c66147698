"""GitHubSource against the fake GitHub REST server: pagination, pull requests, and every failure."""

import asyncio
import time
from typing import Any

import pytest

from issuebridge.github import (
    AuthenticationFailed,
    GitHubSource,
    GitHubUnavailable,
    RateLimited,
    RepositoryNotFound,
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
    return GitHubSource(fake.url, token, timeout=kwargs.pop("timeout", 5.0), max_items=kwargs.pop("max_items", 10_000))


def expected_numbers(items: list[dict[str, Any]], state: str) -> set[int]:
    return {
        item["number"] for item in items if "pull_request" not in item and (state == "all" or item["state"] == state)
    }


@pytest.mark.parametrize("state", ["open", "closed", "all"])
async def test_fetches_every_page_and_leaves_pull_requests_out(fake_github: FakeGitHub, state: str) -> None:
    items = mixed_items("octo/app", 260)
    fake_github.add_repo("octo/app", items)
    fetched = await source(fake_github).list_issues("octo", "app", state)  # type: ignore[arg-type]
    assert {issue.number for issue in fetched.items} == expected_numbers(items, state)
    assert len(fetched.items) == len(expected_numbers(items, state))  # no duplicates across pages
    assert fetched.skipped == sum(
        1 for item in items if "pull_request" in item and (state == "all" or item["state"] == state)
    )
    assert not fetched.truncated
    listed = sum(1 for item in items if state == "all" or item["state"] == state)
    pages = [r for r in fake_github.requests if r.path == "/repos/octo/app/issues"]
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
    fake_github.secondary_limit_retry_after = 120
    started = time.monotonic()
    with pytest.raises(RateLimited, match=r"secondary rate limit is exhausted; .* \(in about 2 min\)") as info:
        await source(fake_github).list_issues("octo", "app", "open")
    assert time.monotonic() - started < 2 and len(fake_github.requests) == 1  # no sleep, no retry
    assert "Make fewer requests at once" in str(info.value)
