"""The GitHub source: fetches issues through githubkit and turns every failure into a clear message.

Responses are read as raw JSON and mapped straight to compact ``Issue`` records: validating
GitHub's full typed models would cost time and break on schema drift for fields we never show.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Generator, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Generic, NamedTuple, TypeVar, overload
from urllib.parse import quote

import httpx
import orjson
from githubkit import GitHub, GitHubCore
from githubkit.auth.base import BaseAuthStrategy
from githubkit.exception import (
    GitHubException,
    PrimaryRateLimitExceeded,
    RateLimitExceeded,
    RequestFailed,
    RequestTimeout,
)
from githubkit.response import Response
from githubkit.retry import RetryOption
from pydantic import TypeAdapter, ValidationError

from issuebridge.boards import Issue, StateFilter, is_pull_request, issue_fields
from issuebridge.curated import Commit, PullRequest, commit_fields, pull_fields
from issuebridge.settings import Settings

logger = logging.getLogger(__name__)

PER_PAGE = 100
# How far ahead of the page being taken a fetch may run, in windows of `concurrency` pages.
LOOKAHEAD_WINDOWS = 4
SERVER_ERROR_RETRIES = 2


class GitHubError(Exception):
    """A GitHub request failed; ``str(error)`` says what happened and what to do, and is safe to show."""


class RepositoryNotFound(GitHubError):
    pass


class AuthenticationFailed(GitHubError):
    pass


class RepositoryEmpty(GitHubError):
    pass


class RateLimited(GitHubError):
    def __init__(self, message: str, reset_at: datetime) -> None:
        super().__init__(message)
        self.reset_at = reset_at


class GitHubUnavailable(GitHubError):
    pass


Item = TypeVar("Item")
# Called after each page with (pages done, total pages if known, the items that page added).
Progress = Callable[[int, int | None, list[Any]], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Validators:
    """The ETags of a complete fetch's first and last pages, so the next fetch can ask "changed?".

    Lists are fetched most recently updated first. Any edit, new item or reopening therefore
    changes the first page, and anything leaving the list (closed, deleted, transferred) shifts
    every later page, the last one included. Asking for both pages with ``If-None-Match``, at the
    same time, tells in one round trip whether anything changed; GitHub answers 304 to both when
    nothing did, and 304s do not count against the rate limit.
    """

    first_url: str
    first_etag: str
    last_url: str | None  # None when everything fitted on the first page
    last_etag: str | None


@dataclass(frozen=True, slots=True)
class Fetched(Generic[Item]):
    items: list[Item]
    skipped: int
    truncated: bool
    # None when the fetch cannot be checked cheaply next time (truncated, or GitHub sent no ETag).
    validators: Validators | None = None


@dataclass(frozen=True, slots=True)
class Unchanged:
    """GitHub confirmed (304) that the list is what the given validators describe."""


class BearerToken(BaseAuthStrategy, httpx.Auth):
    """Sends the token as ``Authorization: Bearer`` (githubkit's own strategy sends ``token``).

    Unlike githubkit's dataclass strategy, its ``repr`` never shows the token.
    """

    def __init__(self, token: str) -> None:
        self._token = token

    def __repr__(self) -> str:
        return "BearerToken(***)"

    def get_auth_flow(self, github: GitHubCore[BaseAuthStrategy]) -> httpx.Auth:
        return self

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = f"Bearer {self._token}"
        yield request


def retry_server_errors(exc: GitHubException, retry_count: int) -> RetryOption:
    """Retry 5xx answers and timeouts briefly, with back-off; never retry a rate limit (githubkit
    would sleep until the reset)."""
    transient = isinstance(exc, RequestTimeout) or (
        isinstance(exc, RequestFailed) and not isinstance(exc, RateLimitExceeded) and exc.response.status_code >= 500
    )
    if retry_count < SERVER_ERROR_RETRIES and transient:
        return RetryOption(True, timedelta(seconds=0.5 * 2**retry_count))
    return RetryOption(False)


class GitHubSource:
    """Reads from the GitHub REST API at ``api_url`` (github.com, GitHub Enterprise, or a test fake)."""

    def __init__(
        self, api_url: str, token: str | None, *, timeout: float, max_items: int, concurrency: int = 8
    ) -> None:
        self.api_url = api_url.rstrip("/")
        self.max_items = max_items
        # However many tool calls run at once, at most this many requests reach GitHub together
        # (its secondary rate limits punish bursts). One sync also keeps at most this many pages
        # in flight, so a huge repository cannot queue thousands of requests.
        self._concurrency = concurrency
        self._in_flight = asyncio.Semaphore(concurrency)
        self._github = GitHub(
            BearerToken(token) if token else None,
            base_url=api_url,
            timeout=timeout,
            http_cache=False,  # a cached page would show a stale board for up to a minute
            auto_retry=retry_server_errors,
            user_agent="issuebridge",
            # Built once: githubkit would otherwise load the CA bundle for every client (~35 ms).
            ssl_verify=httpx.create_ssl_context(),
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> GitHubSource:
        """The source the server uses; ``issuebridge push --direct`` builds the very same one."""
        return cls(
            settings.github_api_url,
            settings.github_token,
            timeout=settings.github_timeout,
            max_items=settings.max_items,
            concurrency=settings.github_concurrency,
        )

    @overload
    async def list_issues(
        self, owner: str, repo: str, state: StateFilter, progress: Progress | None = None, known: None = None
    ) -> Fetched[Issue]: ...

    @overload
    async def list_issues(
        self, owner: str, repo: str, state: StateFilter, progress: Progress | None, known: Validators | None
    ) -> Fetched[Issue] | Unchanged: ...

    async def list_issues(
        self,
        owner: str,
        repo: str,
        state: StateFilter,
        progress: Progress | None = None,
        known: Validators | None = None,
    ) -> Fetched[Issue] | Unchanged:
        """Every issue of ``owner/repo`` in ``state`` (all pages); pull requests are skipped.

        With ``known`` (from the fetch that wrote the board), an unchanged list costs two
        conditional requests and returns :class:`Unchanged`.
        """
        return await self._collect(
            _List(owner, repo, "issues", {"state": state, "sort": "updated", "direction": "desc"}),
            ISSUES,
            progress,
            known,
        )

    @overload
    async def list_pulls(
        self, owner: str, repo: str, state: StateFilter, progress: Progress | None = None, known: None = None
    ) -> Fetched[PullRequest]: ...

    @overload
    async def list_pulls(
        self, owner: str, repo: str, state: StateFilter, progress: Progress | None, known: Validators | None
    ) -> Fetched[PullRequest] | Unchanged: ...

    async def list_pulls(
        self,
        owner: str,
        repo: str,
        state: StateFilter,
        progress: Progress | None = None,
        known: Validators | None = None,
    ) -> Fetched[PullRequest] | Unchanged:
        """Every pull request of ``owner/repo`` in ``state`` (all pages); see :meth:`list_issues`."""
        return await self._collect(
            _List(owner, repo, "pulls", {"state": state, "sort": "updated", "direction": "desc"}),
            PULLS,
            progress,
            known,
        )

    async def list_commits(
        self,
        owner: str,
        repo: str,
        *,
        branch: str | None,
        since: datetime,
        until: datetime | None,
        progress: Progress | None = None,
        known: Validators | None = None,
    ) -> Fetched[Commit] | Unchanged:
        """The commits of ``branch`` (the default branch if None) between ``since`` and ``until``.

        An empty repository has no commits rather than being an error. With ``known`` (from a
        fetch of the same window), an unchanged list costs two conditional requests, as for issues.
        """
        query: dict[str, str] = {"since": _github_time(since)}
        if branch:
            query["sha"] = branch
        if until:
            query["until"] = _github_time(until)
        try:
            return await self._collect(_List(owner, repo, "commits", query), COMMITS, progress, known)
        except RepositoryEmpty:
            return Fetched([], 0, False)
        except RepositoryNotFound:
            if branch:
                raise RepositoryNotFound(
                    f"GitHub found no branch {branch!r} in {owner}/{repo}, or no such repository (404). "
                    "Check the branch name, or leave it out for the default branch."
                ) from None
            raise

    async def _collect(
        self,
        listing: _List,
        shape: _Shape[Item],
        progress: Progress | None,
        known: Validators | None,
    ) -> Fetched[Item] | Unchanged:
        """Fetch every page of ``listing`` as records of ``shape``, in GitHub's order.

        The first page's ``Link: rel="last"`` gives the page count; the other pages are then
        fetched concurrently (a window of ``concurrency`` pages) and taken in order. Stops after
        ``max_items`` items and says so, rather than fetching without bound. One HTTP client (and
        so a few kept-alive connections) serves all pages.
        """
        first_url = listing.url(self.api_url)
        async with self._github:
            first: Response[Any] | None = None
            if known is not None and known.first_url == first_url:
                checks = [(first_url, known.first_etag)]
                if known.last_url and known.last_etag:
                    checks.append((known.last_url, known.last_etag))
                answers = await _all(self._get(listing, url, etag) for url, etag in checks)
                if all(answer.status_code == 304 for answer in answers):
                    return Unchanged()
                first = answers[0] if answers[0].status_code == 200 else None
            if first is None:
                first = await self._get(listing, first_url)
            return await self._pages(listing, first, _Collector(shape, self.max_items), progress)

    async def _pages(
        self, listing: _List, first: Response[Any], collector: _Collector[Item], progress: Progress | None
    ) -> Fetched[Item]:
        last_link = first.raw_response.links.get("last", {}).get("url")
        last = _page_number(last_link)
        total = last or (None if "next" in first.raw_response.links else 1)
        full = not collector.take(first)
        if progress is not None:
            await progress(1, total, list(collector.items))
        final = first
        if last_link and last:
            # Pages 2..last: `concurrency` requests in flight whichever finish first, taken in
            # page order, never more than a few windows ahead of the page being taken, and none
            # that could only hold items past `max_items`.
            running: dict[int, asyncio.Task[Response[Any]]] = {}
            next_page = head = 2
            try:
                while not full and head <= last:
                    while (
                        next_page <= last
                        and next_page < head + LOOKAHEAD_WINDOWS * self._concurrency
                        and sum(not task.done() for task in running.values()) < self._concurrency
                        and (next_page == head or collector.may_need((next_page - 1) * PER_PAGE))
                    ):
                        url = str(httpx.URL(last_link).copy_set_param("page", next_page))
                        running[next_page] = asyncio.ensure_future(self._get(listing, url))
                        next_page += 1
                    if not running[head].done():
                        await asyncio.wait(running.values(), return_when=asyncio.FIRST_COMPLETED)
                        _raise_first_failure(running.values())
                        continue
                    final = running.pop(head).result()
                    taken = len(collector.items)
                    full = not collector.take(final)
                    if progress is not None:
                        await progress(head, last, collector.items[taken:])
                    head += 1
            finally:
                await _cancel(running.values())
        else:
            # No "last" link (GitHub omits it on some lists): follow "next" one page at a time.
            done = 1
            while not full and (next_url := final.raw_response.links.get("next", {}).get("url")):
                final = await self._get(listing, next_url)
                done += 1
                taken = len(collector.items)
                full = not collector.take(final)
                if progress is not None:
                    await progress(done, None if "next" in final.raw_response.links else done, collector.items[taken:])
        return Fetched(collector.items, collector.skipped, full, None if full else _validators(first, final))

    async def _get(self, listing: _List, url: str, etag: str | None = None) -> Response[Any]:
        headers = {"If-None-Match": etag} if etag else None
        try:
            async with self._in_flight:
                return await self._github.arequest("GET", url, headers=headers)
        except GitHubException as exc:
            raise self._explain(exc, listing.repository) from None

    def _explain(self, exc: GitHubException, repository: str) -> GitHubError:
        if isinstance(exc, RateLimitExceeded):
            reset_at = datetime.now(UTC) + exc.retry_after
            when = reset_at.strftime("%Y-%m-%d %H:%M:%S UTC")
            minutes = max(1, round(exc.retry_after.total_seconds() / 60))
            kind = "API rate limit" if isinstance(exc, PrimaryRateLimitExceeded) else "secondary rate limit"
            advice = (
                " Set GITHUB_TOKEN for a higher limit, or try again then."
                if isinstance(exc, PrimaryRateLimitExceeded)
                else " Make fewer requests at once and try again then."
            )
            return RateLimited(
                f"GitHub's {kind} is exhausted; it resets at {when} (in about {minutes} min).{advice}",
                reset_at,
            )
        if isinstance(exc, RequestFailed):
            status = exc.response.status_code
            message = _github_message(exc.response)
            if status == 404:
                return RepositoryNotFound(
                    f"GitHub repository {repository} was not found (404), or the token cannot see it. "
                    "Check the owner and name; for a private repository set GITHUB_TOKEN "
                    "to a token with access."
                )
            if status == 409 and "empty" in message.lower():
                return RepositoryEmpty(f"{repository} is an empty repository.")
            if status == 401:
                return AuthenticationFailed(
                    "GitHub rejected the token (401 Bad credentials): GITHUB_TOKEN is wrong, expired or "
                    "revoked. Set a valid token, or unset it for public repositories."
                )
            if status == 403:
                return AuthenticationFailed(
                    f"GitHub refused access to {repository} (403: {message}). "
                    "The token may lack the scope to read its issues."
                )
            if status >= 500:
                return GitHubUnavailable(
                    f"GitHub answered {status} for {repository} after {SERVER_ERROR_RETRIES} retries; "
                    "it may be having trouble. Try again in a minute."
                )
            return GitHubError(f"GitHub answered {status} for {repository}: {message}")
        if isinstance(exc, RequestTimeout):
            return GitHubUnavailable(
                f"The GitHub API at {self.api_url} did not answer in time ({SERVER_ERROR_RETRIES} retries). "
                "Try again, or check GITHUB_API_URL."
            )
        logger.warning("GitHub request failed: %s", type(exc.__cause__ or exc).__name__)
        return GitHubUnavailable(
            f"Could not reach the GitHub API at {self.api_url}. Check the network and GITHUB_API_URL."
        )


def _items(response: Response[Any]) -> list[dict[str, Any]]:
    try:
        items = orjson.loads(response.content)  # a 100-item page: ~0.8 ms, against ~2.5 ms with json
    except orjson.JSONDecodeError:
        raise GitHubUnavailable("GitHub answered with something that is not JSON.") from None
    if not isinstance(items, list):
        raise GitHubUnavailable("GitHub answered the issues list with something that is not a list.")
    return [item for item in items if isinstance(item, dict)]


class _Shape(Generic[Item]):
    """How one list's items become records: ``fields`` picks each item's fields (None: leave it
    out), then a page of them is validated in one pydantic-core call."""

    def __init__(self, fields: Callable[[dict[str, Any]], dict[str, Any] | None], record: type[Item]) -> None:
        self._fields = fields
        self._page: TypeAdapter[list[Item]] = TypeAdapter(list[record])  # type: ignore[valid-type]

    def fields(self, item: dict[str, Any]) -> dict[str, Any] | None:
        try:
            return self._fields(item)
        except (KeyError, TypeError, AttributeError, ValidationError) as exc:
            raise _unreadable(item, exc) from None

    def records(self, items: list[dict[str, Any]], fields: list[dict[str, Any]]) -> list[Item]:
        """``fields`` (picked from ``items``, in order) as validated records."""
        try:
            return self._page.validate_python(fields)
        except ValidationError as exc:
            where = exc.errors()[0]["loc"]
            item = items[where[0]] if where and isinstance(where[0], int) and where[0] < len(items) else {}
            raise _unreadable(item, exc) from None


def _unreadable(item: dict[str, Any], exc: Exception) -> GitHubUnavailable:
    what = item.get("number") or item.get("sha") or "?"
    return GitHubUnavailable(f"GitHub sent item {what} in a shape issuebridge cannot read: {exc}")


ISSUES = _Shape(lambda item: None if is_pull_request(item) else issue_fields(item), Issue)
PULLS = _Shape(pull_fields, PullRequest)
COMMITS = _Shape(commit_fields, Commit)


class _List(NamedTuple):
    """One of a repository's lists (``issues``, ``pulls``, ``commits``) and its query."""

    owner: str
    repo: str
    name: str
    query: dict[str, str]

    @property
    def repository(self) -> str:
        return f"{self.owner}/{self.repo}"

    def url(self, api_url: str) -> str:
        path = f"/repos/{quote(self.owner, safe='')}/{quote(self.repo, safe='')}/{self.name}"
        return str(httpx.URL(api_url + path, params={**self.query, "per_page": PER_PAGE}))


class _Collector(Generic[Item]):
    """Takes pages in order: maps their items, skips what the shape leaves out, and stops when full.

    An item seen on an earlier page is not taken again: one that moves up the list while the
    pages are being fetched may appear twice.
    """

    def __init__(self, shape: _Shape[Item], max_items: int) -> None:
        self.items: list[Item] = []
        self.skipped = 0
        self._shape = shape
        self._max_items = max_items
        self._seen: set[object] = set()
        self._seen_twice = 0

    def may_need(self, offset: int) -> bool:
        """Whether the item at ``offset`` in GitHub's list could still be kept."""
        dropped = len(self._seen) + self._seen_twice - len(self.items)
        return offset - dropped <= self._max_items

    def take(self, page: Response[Any]) -> bool:
        """Take one page; False once ``max_items`` is reached with items left over."""
        room = self._max_items - len(self.items)
        kept: list[dict[str, Any]] = []
        picked: list[dict[str, Any]] = []
        full = False
        for item in _items(page):
            identity = item.get("number", item.get("sha"))
            if identity is not None:
                if identity in self._seen:
                    self._seen_twice += 1
                    continue
                self._seen.add(identity)
            fields = self._shape.fields(item)
            if fields is None:
                self.skipped += 1
            elif len(picked) >= room:
                full = True
                break
            else:
                kept.append(item)
                picked.append(fields)
        self.items.extend(self._shape.records(kept, picked))
        return not full


async def _all(requests: Iterable[Awaitable[Response[Any]]]) -> list[Response[Any]]:
    """Run ``requests`` together; if one fails, cancel the others and raise its error."""
    tasks = [asyncio.ensure_future(request) for request in requests]
    try:
        return [await task for task in tasks]
    finally:
        await _cancel(tasks)


def _raise_first_failure(tasks: Iterable[asyncio.Task[Response[Any]]]) -> None:
    """Fail fast: a later page's error ends the fetch without waiting for the pages before it."""
    for task in tasks:
        if task.done() and not task.cancelled() and (error := task.exception()) is not None:
            raise error


async def _cancel(tasks: Iterable[asyncio.Task[Response[Any]]]) -> None:
    """Cancel what is still running and wait for it, so nothing outlives the HTTP client."""
    pending = [task for task in tasks if not task.done()]
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)


def _validators(first: Response[Any], last: Response[Any]) -> Validators | None:
    first_etag = first.raw_response.headers.get("etag")
    last_etag = last.raw_response.headers.get("etag")
    if not first_etag or not last_etag:
        return None
    if last is first:
        return Validators(str(first.raw_response.request.url), first_etag, None, None)
    return Validators(str(first.raw_response.request.url), first_etag, str(last.raw_response.request.url), last_etag)


def _github_time(value: datetime) -> str:
    """``2026-11-25T09:40:00Z``: the ISO 8601 form GitHub documents for ``since`` and ``until``."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _page_number(url: str | None) -> int | None:
    """The page number in a ``Link`` URL (the page count, for ``rel="last"``)."""
    page = httpx.URL(url).params.get("page", "") if url else ""
    return int(page) if page.isdigit() else None


def _github_message(response: Response[Any]) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.reason_phrase or "no message"
    message = body.get("message") if isinstance(body, dict) else None
    return str(message)[:200] if message else (response.reason_phrase or "no message")
