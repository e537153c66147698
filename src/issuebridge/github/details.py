"""Reading one issue or pull request in full, on demand: ``get_issue_details``.

A call costs one request for the issue and, at the same time afterwards, one or two for its
latest comments and, for a pull request, one for the pull request and one or two for its
reviews. Every answer is kept (:class:`AnswerCache`, bounded) and asked for again with its ETag:
GitHub answers 304 when nothing changed, which costs no rate limit.

The latest comments are the end of a list GitHub sends oldest first: the issue's comment count
says which page holds them, and that page is asked for directly, never the first. A count that
has gone stale is corrected from the page's Link header (a "next" link: more came since), and
the page before is added when the last one holds fewer than asked for.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
import orjson
from githubkit.exception import GitHubException, RequestFailed
from githubkit.response import Response

from issuebridge.github.client import GitHubSource
from issuebridge.github.errors import GitHubError, GitHubUnavailable, explain, github_detail
from issuebridge.github.mapping import issue_fields
from issuebridge.github.paging import Listing, together
from issuebridge.records.base import iso_utc, parse_repository
from issuebridge.records.details import (
    MAX_NAME,
    MAX_NAMES,
    MAX_TITLE,
    CommentDetails,
    ItemDetails,
    PullRequestDetails,
    ReviewDetails,
    fitted,
    review_state,
    standing_reviews,
)
from issuebridge.records.invisible import visible
from issuebridge.records.issues import Issue

PER_PAGE = 100
CACHED_ANSWERS = 512
CACHED_BYTES = 32 * 2**20  # all cached answers together
CACHED_ANSWER_BYTES = 2 * 2**20  # a larger answer is not kept
REVIEW_STATES = {
    "APPROVED": "approved",
    "CHANGES_REQUESTED": "changes_requested",
    "COMMENTED": "commented",
    "DISMISSED": "dismissed",
}  # fmt: skip; PENDING reviews are the reviewer's own draft


class ItemNotFound(GitHubError):
    status = 404


class ItemGone(GitHubError):
    status = 410


@dataclass(frozen=True, slots=True)
class Answer:
    """What GitHub answered a GET: its JSON, and its Link header's URLs by rel."""

    data: Any
    links: dict[str, str]


class AnswerCache:
    """GitHub's answers by URL, with their ETags: at most :data:`CACHED_ANSWERS` of them and
    :data:`CACHED_BYTES` in all, the least recently used going first."""

    def __init__(self, entries: int = CACHED_ANSWERS, size: int = CACHED_BYTES) -> None:
        self._answers: OrderedDict[str, tuple[str, bytes, dict[str, str]]] = OrderedDict()
        self._entries = entries
        self._size = size
        self._held = 0

    def etag(self, url: str) -> str | None:
        kept = self._answers.get(url)
        return kept[0] if kept else None

    def get(self, url: str) -> tuple[bytes, dict[str, str]] | None:
        kept = self._answers.get(url)
        if kept is None:
            return None
        self._answers.move_to_end(url)
        return kept[1], kept[2]

    def put(self, url: str, etag: str | None, content: bytes, links: dict[str, str]) -> None:
        self._drop(url)
        if not etag or len(content) > CACHED_ANSWER_BYTES:
            return
        self._answers[url] = (etag, content, links)
        self._held += len(content)
        while self._answers and (len(self._answers) > self._entries or self._held > self._size):
            self._drop(next(iter(self._answers)))

    def _drop(self, url: str) -> None:
        kept = self._answers.pop(url, None)
        if kept is not None:
            self._held -= len(kept[1])


Get = Callable[[str], Awaitable[Answer]]


class DetailsReader:
    """Reads issues and pull requests in full from ``github``, keeping GitHub's answers to ask
    "changed?" next time."""

    def __init__(self, github: GitHubSource, cache: AnswerCache | None = None) -> None:
        self._github = github
        self._cache = cache or AnswerCache()

    async def read(self, owner: str, repo: str, number: int, comments: int) -> ItemDetails:
        """Issue or pull request ``number`` of ``owner/repo``, with its latest ``comments`` comments."""
        repository = f"{owner}/{repo}"
        base = f"{self._github.api_url}/repos/{quote(owner, safe='')}/{quote(repo, safe='')}"
        explaining = _explaining(repository, number, self._github.api_url)
        async with self._github.requests(explaining) as request:

            async def get(url: str) -> Answer:
                return await self._conditional(request, url)

            raw = (await get(f"{base}/issues/{number}")).data
            if not isinstance(raw, dict) or type(raw.get("number")) is not int:
                raise GitHubUnavailable(
                    f"GitHub answered #{number} of {repository} with something that is not an issue."
                )
            try:
                issue = Issue(**issue_fields(raw))
            except (KeyError, TypeError, AttributeError, ValueError):
                raise GitHubUnavailable(
                    f"GitHub sent #{number} of {repository} in a shape that cannot be read."
                ) from None
            count = raw.get("comments")
            total = count if isinstance(count, int) and count > 0 else 0
            is_pull = "pull_request" in raw
            parts: list[Awaitable[Any]] = [_latest_comments(get, f"{base}/issues/{number}/comments", total, comments)]
            if is_pull:
                parts.append(_pull_request(get, f"{base}/pulls/{number}"))
            done = await together(parts)
        latest: list[CommentDetails] = done[0]
        return fitted(
            ItemDetails(
                repository=_repository_of(raw) or repository,
                number=issue.number,
                kind="pull_request" if is_pull else "issue",
                title=visible(issue.title)[:MAX_TITLE],
                state=issue.state,
                state_reason=_text(raw.get("state_reason")),
                url=issue.html_url,
                author=issue.author,
                labels=[visible(label.name)[:MAX_NAME] for label in issue.labels[:MAX_NAMES]],
                assignees=issue.assignees[:MAX_NAMES],
                created_at=iso_utc(issue.created_at) if issue.created_at else None,
                updated_at=iso_utc(issue.updated_at) if issue.updated_at else None,
                closed_at=_text(raw.get("closed_at")),
                body=visible(raw["body"]) if isinstance(raw.get("body"), str) else "",
                body_trimmed=False,
                comment_count=max(total, len(latest)),
                comments=latest,
                pull_request=done[1] if is_pull else None,
            )
        )

    async def _conditional(self, request: Callable[[str, str | None], Awaitable[Response[Any]]], url: str) -> Answer:
        """GET ``url`` with the ETag of its kept answer, if any: a 304 gives the kept answer back."""
        answer = await request(url, self._cache.etag(url))
        kept = self._cache.get(url) if answer.status_code == 304 else None
        if kept is not None:
            content, links = kept
        else:
            if answer.status_code == 304:  # asked with an ETag we no longer hold: ask plainly
                answer = await request(url, None)
            content = answer.content
            raw = answer.raw_response
            links = {str(rel): str(value["url"]) for rel, value in raw.links.items() if value.get("url")}
            self._cache.put(url, raw.headers.get("etag"), content, links)
        try:
            return Answer(orjson.loads(content), links)
        except orjson.JSONDecodeError:
            raise GitHubUnavailable("GitHub answered with something that is not JSON.") from None


async def _latest_comments(get: Get, url: str, total: int, wanted: int) -> list[CommentDetails]:
    """The latest ``wanted`` comments of the list at ``url`` (``total`` long, as the issue says),
    oldest first: from its last page, and the one before where that holds too few."""
    if wanted <= 0 or total <= 0:
        return []
    last = max(1, -(-total // PER_PAGE))
    answer = await get(_page_url(url, last))
    if "next" in answer.links:  # more comments came since the count: GitHub says where the end is
        answer = await get(answer.links.get("last") or answer.links["next"])
    items = _list(answer.data)
    if not items and ("last" in answer.links or "prev" in answer.links):  # fewer: the end is before
        answer = await get(answer.links.get("last") or answer.links["prev"])
        items = _list(answer.data)
    if len(items) < wanted and "prev" in answer.links:
        items = _list((await get(answer.links["prev"])).data) + items
    return [_comment(item) for item in items[-wanted:] if isinstance(item, dict)]


async def _pull_request(get: Get, url: str) -> PullRequestDetails:
    """A pull request's branches, draft state, who is asked to review and each reviewer's standing review."""
    parts: list[Awaitable[Any]] = [get(url), _reviews(get, f"{url}/reviews")]
    pull, reviews = await together(parts)
    raw = pull.data if isinstance(pull.data, dict) else {}
    given = standing_reviews(reviews)
    return PullRequestDetails(
        head=_branch(raw.get("head")),
        base=_branch(raw.get("base")),
        draft=raw.get("draft") is True,
        merged=raw.get("merged") is True or bool(raw.get("merged_at")),
        requested_reviewers=_names(raw.get("requested_reviewers"), "login"),
        requested_teams=_names(raw.get("requested_teams"), "slug"),
        reviews=given[-MAX_NAMES:],
        review_state=review_state(given),
    )


async def _reviews(get: Get, url: str) -> list[ReviewDetails]:
    """The reviews of a pull request, oldest first: its first page and, if there are more, its last."""
    first = await get(_page_url(url, 1))
    items = _list(first.data)
    if "last" in first.links:
        items += _list((await get(first.links["last"])).data)
    return [review for item in items if (review := _review(item)) is not None]


def _comment(item: dict[str, Any]) -> CommentDetails:
    user = item.get("user")
    login = user.get("login") if isinstance(user, dict) else None
    body = item.get("body")
    return CommentDetails(
        author=_login(login),
        created_at=_text(item.get("created_at")),
        body=visible(body) if isinstance(body, str) else "",
    )


def _review(item: Any) -> ReviewDetails | None:
    if not isinstance(item, dict) or (state := REVIEW_STATES.get(str(item.get("state")))) is None:
        return None
    user = item.get("user")
    login = _login(user.get("login") if isinstance(user, dict) else None)
    if login is None:
        return None
    return ReviewDetails(reviewer=login, state=state, submitted_at=_text(item.get("submitted_at")))  # type: ignore[arg-type]


def _names(raw: Any, key: str) -> list[str]:
    found = [visible(one[key])[:MAX_NAME] for one in raw if isinstance(one, dict) and isinstance(one.get(key), str)]
    return [name for name in found if name][:MAX_NAMES] if isinstance(raw, list) else []


def _branch(raw: Any) -> str:
    ref = raw.get("ref") if isinstance(raw, dict) else None
    return visible(ref)[:MAX_NAME] if isinstance(ref, str) else ""


def _login(value: Any) -> str | None:
    return (visible(value)[:39] or None) if isinstance(value, str) else None


def _text(value: Any) -> str | None:
    """A short string GitHub sent (a date, a reason), or None for anything else."""
    return visible(value)[:64] if isinstance(value, str) else None


def _list(data: Any) -> list[Any]:
    if not isinstance(data, list):
        raise GitHubUnavailable("GitHub answered a list with something that is not a list.")
    return data


def _page_url(url: str, page: int) -> str:
    return str(httpx.URL(url, params={"per_page": PER_PAGE, "page": page}))


def _repository_of(raw: dict[str, Any]) -> str | None:
    """The repository GitHub says the issue is in: another one if it was transferred (301)."""
    url = raw.get("repository_url")
    if not isinstance(url, str) or "/repos/" not in url:
        return None
    try:
        return parse_repository(url.rsplit("/repos/", 1)[1])
    except ValueError:
        return None


def _explaining(repository: str, number: int, api_url: str) -> Callable[[GitHubException], GitHubError]:
    """GitHub's refusals of an item's requests in words about the item; the rest as for any fetch."""
    owner, repo = repository.split("/", 1)
    listing = Listing(owner, repo, "issues", {})

    def explaining(exc: GitHubException) -> GitHubError:
        status = exc.response.status_code if isinstance(exc, RequestFailed) else None
        if status == 404:
            return ItemNotFound(
                f"GitHub has no issue or pull request #{number} in {repository} (404), or the token cannot "
                "see the repository. Check the number: get_dashboard lists what the page shows."
            )
        if status == 410 and isinstance(exc, RequestFailed):
            return ItemGone(
                f"#{number} of {repository} is gone from GitHub (410: {github_detail(exc.response)}): "
                "it was deleted, or the repository's issues are switched off."
            )
        return explain(exc, listing, api_url)

    return explaining
