"""Which open pull requests nobody has reviewed yet, from one search request.

GitHub's pulls list carries ``requested_reviewers`` and ``requested_teams`` but nothing of
reviews, and a reviewer leaves ``requested_reviewers`` once they review: so "nobody is asked"
cannot tell a pull request nobody looked at from one already reviewed. Asking each pull
request's ``/reviews`` would cost a request per pull request; the issue search's ``review:none``
answers for the whole repository in one (up to :data:`SEARCH_PAGE` results; GitHub's search has
a quota of its own, 30 a minute with a token, 10 without). It is asked only when the board has a
pull request waiting on it (open, ready, nobody asked), and only after the list changed; its
answer is kept for every open one, so a webhook that removes the last request or marks a draft
ready finds it known.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import httpx
import orjson

from issuebridge.records.pulls import PullRequest

# One page: a repository with more unreviewed, ready pull requests than this keeps the rest unknown.
SEARCH_PAGE = 100


def needs_answer(pull: PullRequest) -> bool:
    """Whether ``pull`` is one the search can move in or out of "waiting for review"."""
    return pull.state == "open" and not pull.draft and not pull.requested_reviewers and not pull.requested_teams


def search_url(api_url: str, repository: str) -> str:
    """``GET /search/issues`` for the open pull requests of ``repository`` without a review."""
    query = f"repo:{repository} is:pr is:open review:none"
    return str(httpx.URL(f"{api_url}/search/issues", params={"q": query, "per_page": SEARCH_PAGE}))


@dataclass(frozen=True, slots=True)
class Unreviewed:
    """The numbers a search answered with, and whether they are all there are."""

    numbers: frozenset[int]
    complete: bool


def read_answer(content: bytes) -> Unreviewed:
    """The search's answer; raises ValueError for one not shaped as GitHub's."""
    try:
        answer: Any = orjson.loads(content)
    except orjson.JSONDecodeError:
        raise ValueError("not JSON") from None
    if not isinstance(answer, dict):
        raise ValueError("not an object")
    items, total, incomplete = answer.get("items"), answer.get("total_count"), answer.get("incomplete_results")
    if not isinstance(items, list) or not isinstance(total, int) or not isinstance(incomplete, bool):
        raise ValueError("no items, total_count or incomplete_results")
    numbers = frozenset(
        item["number"]
        for item in items[:SEARCH_PAGE]
        if isinstance(item, dict) and type(item.get("number")) is int and item["number"] > 0
    )
    return Unreviewed(numbers, complete=not incomplete and total <= len(numbers))


def with_reviews(pulls: Iterable[PullRequest], unreviewed: Unreviewed | None) -> list[PullRequest]:
    """``pulls`` with ``reviewed`` set where the search tells: False if it listed the pull request,
    True if it did not and its answer was complete; unknown (None) otherwise, or without an answer."""
    marked = []
    for pull in pulls:
        reviewed: bool | None = None
        if unreviewed is not None and pull.state == "open":
            if pull.number in unreviewed.numbers:
                reviewed = False
            elif unreviewed.complete:
                reviewed = True
        marked.append(pull if pull.reviewed is reviewed else pull.model_copy(update={"reviewed": reviewed}))
    return marked
