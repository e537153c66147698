"""GitHub's issue search (``GET /search/issues``) as the rows of a view, and what its limits mean.

The search is a list like the others (100 a page, pages fetched concurrently: ``paging.py``),
with limits of its own that the view says plainly rather than hides:

- at most 1,000 results per search: no page past the tenth is asked for (GitHub answers 422),
  and a view of more says ``truncated`` with the total GitHub reported;
- its own rate limit, 30 searches a minute with a token and 10 without
  (``X-RateLimit-Resource: search``): an error naming that limit and its wait, never a sleep;
- ``@me`` stands for the token's user, so it needs one (:class:`SearchNeedsToken`);
- a query GitHub cannot take comes back with GitHub's own words (422).

Its answer is an object (``total_count``, ``incomplete_results``, ``items``), and its items come
from many repositories: items are told apart by repository and number (:class:`SearchCollector`).
Results in best-match order do not move when an item is edited, so a refresh asks for every
page again with its ETag (``Validators.pages``), not only the first and the last.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import orjson
from githubkit.exception import GitHubException, RequestFailed
from githubkit.response import Response

from issuebridge.github.errors import GitHubError, GitHubUnavailable, RateLimited, github_detail
from issuebridge.github.mapping import ItemMapping, label_from_github, web_url_or_none
from issuebridge.github.paging import PER_PAGE, Collector, Fetched
from issuebridge.records.bodies import body_fields
from issuebridge.records.views import Search, ViewItem

SEARCH_LIMIT = {True: 30, False: 10}  # searches a minute, with a token and without
# When GitHub says the search limit is spent but not until when, its window is a minute.
SEARCH_WINDOW = timedelta(minutes=1)
MAX_SEARCH_WAIT = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class Searched(Fetched[ViewItem]):
    """A view's rows, and how many results GitHub reported in all (``total_count``)."""

    total_count: int = 0


class SearchNeedsToken(GitHubError):
    """``@me`` in a query, with no ``GITHUB_TOKEN`` for it to stand for."""

    status = 400


def search_url(api_url: str, search: Search) -> str:
    """The first page of ``search``, 100 results a page."""
    params: dict[str, str | int] = {"q": search.q, "per_page": PER_PAGE}
    if search.sort:
        params["sort"] = search.sort
        params["order"] = search.order or "desc"
    return str(httpx.URL(f"{api_url}/search/issues", params=params))


def view_item_fields(item: dict[str, Any]) -> dict[str, Any]:
    """The fields of a :class:`ViewItem` from one search result (an issue-shaped object; a pull
    request's carries ``pull_request``, and its repository is the end of ``repository_url``)."""
    user = item.get("user") or {}
    pull = item.get("pull_request")
    owner, repo = str(item["repository_url"]).rstrip("/").split("/")[-2:]
    return {
        "repository": f"{owner}/{repo}",
        "number": item["number"],
        "title": item.get("title") or "",
        "state": item["state"],
        "pull_request": isinstance(pull, dict),
        "draft": bool(item.get("draft")),
        "merged": isinstance(pull, dict) and bool(pull.get("merged_at")),
        "labels": [label for raw in item.get("labels") or [] if (label := label_from_github(raw))],
        "author": user.get("login"),
        "assignees": [a["login"] for a in item.get("assignees") or [] if a and a.get("login")],
        "comments": item.get("comments") or 0,
        "created_at": item.get("created_at"),
        "updated_at": item.get("updated_at"),
        "closed_at": item.get("closed_at"),
        "html_url": web_url_or_none(item.get("html_url")),
        **body_fields(item.get("body")),
    }


SEARCH_ITEMS = ItemMapping(view_item_fields, ViewItem)


class SearchCollector(Collector[ViewItem]):
    """Takes a search's pages: the items inside each answer, told apart by repository and number,
    and the ``total_count`` GitHub reported."""

    total_count = 0
    incomplete = False

    def items_of(self, page: Response[Any]) -> list[Any]:
        try:
            answer = orjson.loads(page.content)
        except orjson.JSONDecodeError:
            raise GitHubUnavailable("GitHub answered the search with something that is not JSON.") from None
        items = answer.get("items") if isinstance(answer, dict) else None
        total = answer.get("total_count") if isinstance(answer, dict) else None
        if not isinstance(items, list) or type(total) is not int or total < 0:
            raise GitHubUnavailable("GitHub answered the search without its items and total_count.")
        self.total_count = max(self.total_count, total)
        self.incomplete = self.incomplete or answer.get("incomplete_results") is True
        return items

    def identity(self, item: dict[str, Any]) -> Any:
        return (str(item.get("repository_url", "")).lower(), item.get("number"))


def explain_search(exc: GitHubException, token_set: bool) -> GitHubError | None:
    """What a refused search means, where it differs from a list's (``errors.explain``): its own
    rate limit, and a query GitHub cannot take. None: as for any request."""
    if not isinstance(exc, RequestFailed):
        return None
    response = exc.response
    status = response.status_code
    resource = response.headers.get("x-ratelimit-resource", "")
    if status in (403, 429) and resource == "search":
        return search_rate_limited(response, token_set)
    if status == 422:
        # GitHub's own reason, whole: it says which qualifier it could not take.
        return GitHubError(f"GitHub's search could not take the query (422: {github_detail(response, 300)}).")
    return None


def search_rate_limited(response: Response[Any], token_set: bool) -> RateLimited:
    """The search's own limit is spent: when it resets (Retry-After, else X-RateLimit-Reset, else
    in a minute), said in seconds; setting a token is advised only where none is set."""
    wait = _wait(response.headers)
    reset_at = datetime.now(UTC) + wait
    limit = SEARCH_LIMIT[token_set]
    seconds = max(1, round(wait.total_seconds()))
    advice = (
        "Try again then."
        if token_set
        else f"Try again then, or set GITHUB_TOKEN for {SEARCH_LIMIT[True]} searches a minute."
    )
    return RateLimited(
        f"GitHub's search rate limit ({limit} searches a minute{' with a token' if token_set else ' without a token'}) "
        f"is spent; it resets at {reset_at.strftime('%H:%M:%S UTC')}, in about {seconds} s. {advice}",
        reset_at,
        wait,
        quota="search",
    )


def _wait(headers: httpx.Headers) -> timedelta:
    retry_after = headers.get("retry-after", "")
    if retry_after.isdigit() and len(retry_after) < 8:
        wait = timedelta(seconds=int(retry_after))
    else:
        reset = headers.get("x-ratelimit-reset", "")
        if reset.isdigit() and len(reset) < 12:
            wait = datetime.fromtimestamp(int(reset), UTC) - datetime.now(UTC)
        else:
            wait = SEARCH_WINDOW
    return min(max(wait, timedelta()), MAX_SEARCH_WAIT)
