"""The background refresh's rounds in-process, on an injected clock: a board that never finishes
answering fails and backs off without holding up the others, and a rate limit pauses them all."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest

from issuebridge.dashboard.refresh import Refresher
from issuebridge.github.client import GitHubSource
from issuebridge.records.issues import IssuesBoard, issues_query
from issuebridge.records.views import view_query
from issuebridge.services import core
from issuebridge.store import SQLiteStore
from testkit.fake_github import FakeGitHub, make_issue

INTERVAL = 60.0


class Clock:
    """Time as the test says it is."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class OneWorker(SQLiteStore):
    """Every claim is granted: these tests are about one worker's rounds, not about sharing them."""

    async def claim(self, name: str, ttl_seconds: float) -> bool:
        return True


@pytest.fixture
async def store() -> AsyncIterator[OneWorker]:
    opened = OneWorker(":memory:")
    await opened.open()
    yield opened
    await opened.close()


def refresher(fake: FakeGitHub, store: OneWorker, clock: Clock) -> Refresher:
    # A deadline the boards that behave meet with ease, even on a busy machine.
    github = GitHubSource(fake.url, None, timeout=5, max_items=250, call_timeout=2.0)
    return Refresher(store, core(store).board_sync(github), INTERVAL, clock=clock)


def numbers(board: object) -> list[int]:
    assert isinstance(board, IssuesBoard)
    return sorted(issue.number for issue in board.issues)


async def test_a_board_that_never_finishes_answering_backs_off_and_the_others_are_refreshed(
    fake_github: FakeGitHub, store: OneWorker
) -> None:
    clock = Clock()
    refresh = refresher(fake_github, store, clock)
    fake_github.add_repo("octo/normal", [make_issue("octo/normal", 1)])
    fake_github.add_repo("octo/endless", [make_issue("octo/endless", n) for n in range(1, 151)])
    fake_github.add_repo("octo/trickle", [make_issue("octo/trickle", 1)])
    fake_github.misbehave("octo/endless", endless=True)  # ends truncated, at the item limit
    for repo in ("octo/normal", "octo/endless", "octo/trickle"):  # the last one synced is refreshed first
        await refresh.boards.sync(issues_query(repo, "open"))
    fake_github.add_repo("octo/normal", [make_issue("octo/normal", n) for n in (1, 2)])
    fake_github.add_repo("octo/trickle", [make_issue("octo/trickle", n) for n in (1, 2)])
    fake_github.misbehave("octo/trickle", trickle=0.05)  # a byte every 50 ms: never a read timeout

    assert next(entry.key for entry in await store.entries()) == "issues:octo/trickle"  # it goes first
    seen = len(fake_github.requests)
    async with asyncio.timeout(30):  # a safety net: without a deadline, the trickle takes minutes
        await refresh.round()
    assert numbers(await store.get("issues:octo/normal")) == [1, 2]  # refreshed after it all the same
    assert len(fake_github.requests_for("octo/trickle", "issues", seen)) == 1
    assert len(fake_github.requests_for("octo/endless", "issues", seen)) == 3  # bounded: 250 items' pages
    assert numbers(await store.get("issues:octo/trickle")) == [1]  # the failed refresh changed nothing

    for later, trickle_asked in [(INTERVAL, False), (2 * INTERVAL + 1, True)]:  # backing off: 2 intervals
        clock.now += later
        seen = len(fake_github.requests)
        await refresh.round()
        assert bool(fake_github.requests_for("octo/trickle", "issues", seen)) is trickle_asked
        assert fake_github.requests_for("octo/normal", "issues", seen)  # every round


@pytest.mark.parametrize("status", [403, 429])
async def test_a_secondary_rate_limit_without_retry_after_pauses_every_board_for_a_minute(
    fake_github: FakeGitHub, store: OneWorker, status: int
) -> None:
    clock = Clock()
    refresh = refresher(fake_github, store, clock)
    for repo in ("octo/one", "octo/two"):
        fake_github.add_repo(repo, [make_issue(repo, 1)])
        await refresh.boards.sync(issues_query(repo, "open"))
    fake_github.secondary_limit = status  # no Retry-After: GitHub asks for at least a minute

    seen = len(fake_github.requests)
    await refresh.round()
    assert len(fake_github.requests) == seen + 1  # one refusal, and the other board is not tried

    fake_github.secondary_limit = None
    clock.now += 59
    await refresh.round()
    assert len(fake_github.requests) == seen + 1  # still paused, for both boards

    clock.now += 2
    await refresh.round()
    assert fake_github.requests_for("octo/one", "issues", seen + 1)
    assert fake_github.requests_for("octo/two", "issues", seen + 1)  # not backed off: paused, then resumed


async def test_a_spent_search_limit_holds_up_the_views_alone(fake_github: FakeGitHub, store: OneWorker) -> None:
    clock = Clock()
    refresh = refresher(fake_github, store, clock)
    fake_github.add_repo("octo/one", [make_issue("octo/one", 1)])
    await refresh.boards.sync(issues_query("octo/one", "open"))
    await refresh.boards.sync(view_query("is:issue repo:octo/one", None))
    fake_github.search_rate_limited, fake_github.search_retry_after = True, 120

    def searches(since: int) -> int:
        return sum(r.path == "/search/issues" for r in fake_github.requests[since:])

    seen = len(fake_github.requests)
    await refresh.round()
    assert searches(seen) == 1 and fake_github.requests_for("octo/one", "issues", seen)  # the board still refreshes

    seen = len(fake_github.requests)
    clock.now += 119
    await refresh.round()
    assert searches(seen) == 0 and fake_github.requests_for("octo/one", "issues", seen)

    fake_github.search_rate_limited = False
    seen = len(fake_github.requests)
    clock.now += 2
    await refresh.round()
    assert searches(seen) == 1  # the view's search again, not backed off


async def test_a_reset_far_ahead_pauses_the_refresh_for_an_hour_at_most(
    fake_github: FakeGitHub, store: OneWorker
) -> None:
    clock = Clock()
    refresh = refresher(fake_github, store, clock)
    fake_github.add_repo("octo/one", [make_issue("octo/one", 1)])
    await refresh.boards.sync(issues_query("octo/one", "open"))
    fake_github.rate_limited, fake_github.rate_limit_reset = True, int(time.time()) + 10 * 3600
    await refresh.round()
    fake_github.rate_limited = False
    seen = len(fake_github.requests)
    clock.now += 3600 + 1
    await refresh.round()
    assert fake_github.requests_for("octo/one", "issues", seen)
