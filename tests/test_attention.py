"""Pull-request attention (#16): "waiting for review" means no review yet and no pending request to
a person or a team, learnt from GitHub's pulls list plus one bounded search; webhooks keep it."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from issuebridge.github.client import GitHubSource
from issuebridge.github.mapping import pull_from_github
from issuebridge.github.reviews import SEARCH_PAGE, Unreviewed, read_answer, with_reviews
from issuebridge.github.webhook_events import read_event
from issuebridge.records.base import now
from issuebridge.records.pulls import PullRequest, PullsBoard, derived
from issuebridge.records.tracked import RowChange, board_after
from issuebridge.web.templating import environment
from testkit.fake_github import FakeGitHub, make_pull, make_webhook

REPO = "octo/app"


def source(fake: FakeGitHub) -> GitHubSource:
    return GitHubSource(fake.url, None, timeout=5.0, max_items=10_000)


def board_of(pulls: list[PullRequest]) -> PullsBoard:
    return PullsBoard(repository=REPO, state="open", source="mcp", pulls=pulls, last_updated=now())


def waiting(board: PullsBoard) -> list[int]:
    return sorted(p.number for p in board.waiting_for_review)


def seed(fake: FakeGitHub) -> None:
    fake.add_pulls(
        REPO,
        [
            make_pull(REPO, 1, title="Nobody looked", user=None),  # a deleted author: user is null
            make_pull(REPO, 2, title="Asked ana", requested_reviewers=["ana"]),
            make_pull(REPO, 3, title="CODEOWNERS asked a team", requested_teams=["core-reviewers"]),
            make_pull(REPO, 4, title="Reviewed by bo", requested_reviewers=["bo"]),
            make_pull(REPO, 5, title="A draft", draft=True),
            make_pull(REPO, 6, title="Closed", state="closed"),
        ],
    )
    fake.review(REPO, 4, "bo")  # GitHub drops bo from requested_reviewers once bo reviews


def test_the_pulls_list_payload_carries_teams_and_null_users() -> None:
    raw = make_pull(REPO, 3, user=None, requested_reviewers=["ana"], requested_teams=["core-reviewers"])
    raw["requested_reviewers"].append(None)  # a deleted account, as GitHub sends it
    raw["requested_teams"].append({"name": "no slug"})
    pull = pull_from_github(raw)
    assert (pull.author, pull.requested_reviewers, pull.requested_teams) == (None, ["ana"], ["core-reviewers"])
    assert pull.reviewed is None  # the list says nothing of reviews


async def test_waiting_for_review_leaves_out_reviewed_team_requested_and_drafts(fake_github: FakeGitHub) -> None:
    seed(fake_github)
    fetched = await source(fake_github).list_pulls("octo", "app", "open")
    board = board_of(fetched.items)
    # Without the search, #4 (reviewed, then dropped from the list) and #3 (a team asked) would count.
    assert waiting(board) == [1]
    assert board.review_unknown == []
    assert {p.number: p.reviewed for p in board.pulls} == {1: False, 2: False, 3: False, 4: True, 5: False}
    assert derived(board)["attention"]["waiting_for_review"] == [1]
    searches = [r for r in fake_github.requests if r.path == "/search/issues"]
    assert len(searches) == 1  # one extra request per sync, whatever the number of pull requests


async def test_no_search_when_no_pull_request_waits_on_it(fake_github: FakeGitHub) -> None:
    fake_github.add_pulls(REPO, [make_pull(REPO, 1, requested_reviewers=["ana"]), make_pull(REPO, 2, draft=True)])
    await source(fake_github).list_pulls("octo", "app", "open")
    await source(fake_github).list_pulls("octo", "app", "closed")
    assert [r for r in fake_github.requests if r.path == "/search/issues"] == []


async def test_a_failed_search_leaves_reviews_unknown_and_the_sync_succeeds(fake_github: FakeGitHub) -> None:
    seed(fake_github)
    fake_github.search_rate_limited = True  # the search's own quota (30 a minute) is spent
    fetched = await source(fake_github).list_pulls("octo", "app", "open")
    board = board_of(fetched.items)
    assert waiting(board) == [1, 4] and sorted(p.number for p in board.review_unknown) == [1, 4]
    assert "may have a review" in _card_note(board)


async def test_the_search_follows_a_renamed_repository(fake_github: FakeGitHub) -> None:
    seed(fake_github)
    fake_github.rename_repo(REPO, "octo/renamed")
    moved = await source(fake_github).list_pulls("octo", "app", "open")
    assert moved.renamed_to == "octo/renamed"
    assert waiting(board_of(moved.items)) == [1]
    searched = [r for r in fake_github.requests if r.path == "/search/issues"]
    assert len(searched) == 1 and "repo:octo/renamed" in searched[0].query["q"]


def _card_note(board: PullsBoard) -> str:
    return (
        environment()
        .from_string('{% from "_pulls.html" import pulls_section %}{{ pulls_section(board) }}')
        .render(board=board)
    )


def answer(items: list[Any], total: int | None = None, incomplete: bool = False) -> bytes:
    total = len(items) if total is None else total
    return orjson.dumps({"total_count": total, "incomplete_results": incomplete, "items": items})


@pytest.mark.parametrize(
    "content",
    [
        b"not json",
        b"[]",
        b'{"items": []}',
        orjson.dumps({"total_count": "1", "incomplete_results": False, "items": []}),
    ],
)
def test_a_search_answer_not_shaped_as_githubs_is_refused(content: bytes) -> None:
    with pytest.raises(ValueError):
        read_answer(content)


def test_an_incomplete_or_long_search_answer_leaves_the_rest_unknown() -> None:
    pulls = [pull_from_github(make_pull(REPO, n)) for n in (1, 2, 3)]
    odd_items = [{"number": 1}, {"number": "2"}, {"number": True}, "x", {"number": -3}]
    for unreviewed in (
        read_answer(answer([{"number": 1}], incomplete=True)),
        read_answer(answer([{"number": 1}], total=SEARCH_PAGE + 1)),
        Unreviewed(frozenset({1}), complete=False),
    ):
        marked = {p.number: p.reviewed for p in with_reviews(pulls, unreviewed)}
        assert marked == {1: False, 2: None, 3: None}
        board = board_of(with_reviews(pulls, unreviewed))
        assert waiting(board) == [1, 2, 3] and [p.number for p in board.review_unknown] == [2, 3]
    strange = read_answer(answer(odd_items, total=len(odd_items)))
    assert strange.numbers == {1} and strange.complete is False  # only well-formed numbers count
    assert with_reviews(pulls, None) == pulls  # no answer: nothing is known


def change(action: str, pull: dict[str, Any]) -> RowChange:
    event = read_event("pull_request", make_webhook("pull_request", action, REPO, pull_request=pull))
    assert isinstance(event, RowChange)
    return event


def test_webhooks_keep_what_the_board_knows_of_reviews() -> None:
    reviewed = pull_from_github(make_pull(REPO, 1, requested_reviewers=["ana"]))
    board = board_of([PullRequest(**{**reviewed.model_dump(), "reviewed": True})])
    # ana's request is removed: the pull request was reviewed before, so it is not waiting.
    removed = board_after(board, change("review_request_removed", make_pull(REPO, 1, updated_at=_later())), now())
    assert removed is not None and removed.shown and waiting(removed.board) == []
    # A pull request just opened has no review: waiting, and known to be.
    opened = board_after(board, change("opened", make_pull(REPO, 2, updated_at=_later())), now())
    assert opened is not None and waiting(opened.board) == [2] and opened.board.review_unknown == []
    # A team asked by a webhook: not waiting any more.
    asked = change("review_requested", make_pull(REPO, 2, requested_teams=["core"], updated_at=_later(1)))
    after = board_after(opened.board, asked, now())
    assert after is not None and waiting(after.board) == []


def _later(minutes: int = 0) -> str:
    return f"2027-01-01T00:{minutes:02d}:00Z"
