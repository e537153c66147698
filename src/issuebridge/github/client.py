"""The GitHub source: fetches lists through githubkit, within one deadline per fetch.

Responses are read as raw JSON and mapped straight to compact records (``mapping.py``):
validating GitHub's full typed models would cost time and break on schema drift for fields we
never show. Every failure becomes a clear :class:`~issuebridge.github.errors.GitHubError`.

Every fetch is bounded, whatever answers at ``GITHUB_API_URL``: in pages (enough for
``max_items`` items, counting every item GitHub sent; ``paging.py``), in bytes per answer
(``transport.py``), and in time (one deadline for the whole fetch, retries included). Requests,
and the token, go only to the API itself (``transport.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar, overload

import httpx
import orjson
from githubkit import GitHub
from githubkit.exception import GitHubException, RateLimitExceeded, RequestFailed, RequestTimeout
from githubkit.response import Response
from githubkit.retry import RetryOption

from issuebridge.github.conditional import Unchanged, Validators
from issuebridge.github.errors import (
    SERVER_ERROR_RETRIES,
    GitHubError,
    GitHubUnavailable,
    RepositoryEmpty,
    RepositoryNotFound,
    explain,
)
from issuebridge.github.mapping import COMMITS, ISSUES, PULLS, ItemMapping
from issuebridge.github.paging import Collector, Fetched, Listing, Progress, moved, pages, together
from issuebridge.github.reviews import Unreviewed, needs_answer, read_answer, search_url, with_reviews
from issuebridge.github.search import (
    SEARCH_ITEMS,
    SearchCollector,
    Searched,
    SearchNeedsToken,
    explain_search,
)
from issuebridge.github.search import search_url as view_search_url
from issuebridge.github.transport import ApiOrigin, ApiTransport, BearerToken
from issuebridge.records.base import InvalidRepository, StateFilter, parse_repository
from issuebridge.records.commits import Commit
from issuebridge.records.issues import Issue
from issuebridge.records.pulls import PullRequest
from issuebridge.records.views import SEARCH_CAP, Search, ViewItem, merged, searches, uses_me
from issuebridge.settings import Settings

logger = logging.getLogger(__name__)

API_VERSION = "2022-11-28"  # the REST API version these requests are written for, sent with each
Item = TypeVar("Item")
# What a fetch does, inside its deadline and client, once its list is in: the list, the
# repository's current name, and what it returns.
Finish = Callable[[GitHub[Any], Listing, str, "Fetched[Item]"], Awaitable["Fetched[Item]"]]


@dataclass(frozen=True, slots=True)
class ServerErrorRetries:
    """githubkit's retry decision: retry 5xx answers and timeouts ``SERVER_ERROR_RETRIES`` times,
    after ``first_wait`` seconds and then twice as long each time; never retry a rate limit
    (githubkit would sleep until the reset).

    ``first_wait`` is a parameter so that tests of the retries need not sit through the back-off.
    """

    first_wait: float = 0.5

    def __call__(self, exc: GitHubException, retry_count: int) -> RetryOption:
        transient = isinstance(exc, RequestTimeout) or (
            isinstance(exc, RequestFailed)
            and not isinstance(exc, RateLimitExceeded)
            and exc.response.status_code >= 500
        )
        if retry_count < SERVER_ERROR_RETRIES and transient:
            return RetryOption(True, timedelta(seconds=self.first_wait * 2**retry_count))
        return RetryOption(False)


class GitHubSource:
    """Reads from the GitHub REST API at ``api_url`` (github.com, GitHub Enterprise, or a test fake).

    ``retries`` decides which failed requests are sent again, and after how long
    (:class:`ServerErrorRetries`).
    """

    def __init__(
        self,
        api_url: str,
        token: str | None,
        *,
        timeout: float,
        max_items: int,
        concurrency: int = 8,
        call_timeout: float = 45.0,
        max_response_bytes: int = 16 * 2**20,
        retries: Callable[[GitHubException, int], RetryOption] = ServerErrorRetries(),
    ) -> None:
        self.api_url = api_url.rstrip("/")
        self.max_items = max_items
        self.call_timeout = call_timeout
        # However many tool calls run at once, at most this many requests reach GitHub together
        # (its secondary rate limits punish bursts). One sync also keeps at most this many pages
        # in flight, so a huge repository cannot queue thousands of requests.
        self._concurrency = concurrency
        self._in_flight = asyncio.Semaphore(concurrency)
        self._api = ApiOrigin.of(self.api_url)
        self._timeout = timeout
        self._max_response_bytes = max_response_bytes
        self._retries = retries
        self._auth = BearerToken(token, self._api) if token else None
        # Built once: loading the CA bundle takes about 35 ms.
        self._ssl_context = httpx.create_ssl_context()

    @classmethod
    def from_settings(cls, settings: Settings) -> GitHubSource:
        """The source the server uses; ``issuebridge push --direct`` builds the very same one."""
        return cls(
            settings.github_api_url,
            settings.github_token,
            timeout=settings.github_timeout,
            max_items=settings.max_items,
            concurrency=settings.github_concurrency,
            call_timeout=settings.call_timeout,
            max_response_bytes=settings.max_response_bytes,
        )

    @contextlib.asynccontextmanager
    async def deadline(self) -> AsyncIterator[asyncio.Timeout]:
        """``call_timeout`` seconds for everything inside, retries and back-off included, then a
        clear :class:`GitHubUnavailable`. Read timeouts alone never end a body trickled a byte at
        a time. Inside another deadline, the earlier one holds; ``reschedule(None)`` on what this
        yields lifts it (for a write that must not be cut short).
        """
        try:
            async with asyncio.timeout(self.call_timeout) as timeout:
                yield timeout
        except TimeoutError:
            raise GitHubUnavailable(
                f"GitHub did not finish answering within {self.call_timeout:g} s (ISSUEBRIDGE_CALL_TIMEOUT, "
                "retries included): it is slow or stalled. Nothing was changed; try again in a minute."
            ) from None

    @contextlib.asynccontextmanager
    async def requests(
        self, explaining: Callable[[GitHubException], GitHubError]
    ) -> AsyncIterator[Callable[[str, str | None], Awaitable[Response[Any]]]]:
        """GETs of any API URLs (``github/details.py``), with an ETag to send if given, within one
        deadline and HTTP client; ``explaining`` says what a refusal means."""
        async with self.deadline(), self._client() as github:

            async def get(url: str, etag: str | None) -> Response[Any]:
                return await self._request(github, url, etag, explaining)

            yield get

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
            Listing(owner, repo, "issues", {"state": state, "sort": "updated", "direction": "desc"}),
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
        """Every pull request of ``owner/repo`` in ``state`` (all pages); see :meth:`list_issues`.

        Open ones nobody is asked to review are marked reviewed or not from one more request, a
        search (``reviews.py``), within the same deadline; an unchanged list costs none.
        """
        return await self._collect(
            Listing(owner, repo, "pulls", {"state": state, "sort": "updated", "direction": "desc"}),
            PULLS,
            progress,
            known,
            finish=self._mark_reviews,
        )

    async def _mark_reviews(
        self, github: GitHub[Any], listing: Listing, repository: str, fetched: Fetched[PullRequest]
    ) -> Fetched[PullRequest]:
        """``fetched`` with who has a review, if any pull request needs the answer. A search that
        fails (its own quota spent, say) leaves them unknown rather than failing the sync."""
        if not any(needs_answer(pull) for pull in fetched.items):
            return fetched
        unreviewed: Unreviewed | None = None
        try:
            answer = await self._get(github, listing, search_url(self.api_url, repository))
            unreviewed = read_answer(answer.content)
        except (GitHubError, ValueError) as exc:
            logger.warning("GitHub's search did not tell which pull requests of %s have reviews: %s", repository, exc)
        return replace(fetched, items=with_reviews(fetched.items, unreviewed))

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
            return await self._collect(Listing(owner, repo, "commits", query), COMMITS, progress, known)
        except RepositoryEmpty:
            return Fetched([], 0, False)
        except RepositoryNotFound:
            if branch:
                raise RepositoryNotFound(
                    f"GitHub found no branch {branch!r} in {owner}/{repo}, or no such repository (404). "
                    "Check the branch name, or leave it out for the default branch."
                ) from None
            raise

    async def search_issues(
        self, query: str, progress: Progress | None = None, known: Validators | None = None
    ) -> Searched | Unchanged:
        """The results of a GitHub issue search, for a view (``search.py``): one search, or two
        (issues, pull requests) merged when the query says neither; each at most 1,000 results
        and ``max_items`` items. With ``known``, every page is asked for with its ETag at once,
        and :class:`Unchanged` comes back if GitHub answers 304 to all.
        """
        if uses_me(query) and self._auth is None:
            raise SearchNeedsToken(
                "The query uses @me, which stands for the user of a GitHub token, and no GITHUB_TOKEN "
                "is set: set GITHUB_TOKEN, or name the user instead of @me."
            )
        plan = searches(query)
        async with self.deadline(), self._client() as github:
            if known is not None and known.pages:
                checks = await together(self._search_get(github, url, etag) for url, etag in known.pages)
                if all(answer.status_code == 304 for answer in checks):
                    return Unchanged()
            parts: list[Searched] = []
            for search in plan:
                done = sum(len(part.validators.pages) if part.validators else 0 for part in parts)
                parts.append(await self._one_search(github, search, _offset(progress, done)))
        items = merged([part.items for part in parts], plan[0])
        every_page = [page for part in parts for page in (part.validators.pages if part.validators else ())]
        complete = all(part.validators is not None for part in parts)
        first = every_page[0] if every_page else None
        validators = Validators(first[0], first[1], None, None, tuple(every_page)) if complete and first else None
        return Searched(
            items,
            0,
            any(part.truncated for part in parts),
            validators,
            sum(part.unreadable for part in parts),
            listed_at=min((part.listed_at for part in parts if part.listed_at), default=None),
            total_count=sum(part.total_count for part in parts),
        )

    async def _one_search(self, github: GitHub[Any], search: Search, progress: Progress | None) -> Searched:
        """One search's pages (never past GitHub's 1,000 results), and every page's ETag."""
        limit = min(self.max_items, SEARCH_CAP)
        first_url = view_search_url(self.api_url, search)
        seen: list[tuple[str, str | None]] = []

        async def get(url: str) -> Response[Any]:
            answer = await self._search_get(github, url)
            seen.append((url, answer.raw_response.headers.get("etag")))
            return answer

        first = await get(first_url)
        collector = SearchCollector(SEARCH_ITEMS, limit)
        fetched: Fetched[ViewItem] = await pages(
            get, first_url, first, collector, progress, max_items=limit, concurrency=self._concurrency
        )
        tagged = [(url, etag) for url, etag in seen if etag]
        validators = None
        if len(tagged) == len(seen) and not collector.incomplete:
            validators = Validators(first_url, tagged[0][1], None, None, tuple(tagged))
        return Searched(
            fetched.items,
            0,
            fetched.truncated or collector.incomplete or collector.total_count > collector.sent,
            validators,
            fetched.unreadable,
            listed_at=fetched.listed_at,
            total_count=collector.total_count,
        )

    async def _search_get(self, github: GitHub[Any], url: str, etag: str | None = None) -> Response[Any]:
        search = Listing("search", "issues", "search", {})
        token_set = self._auth is not None
        return await self._request(
            github, url, etag, lambda exc: explain_search(exc, token_set) or explain(exc, search, self.api_url)
        )

    @contextlib.asynccontextmanager
    async def _client(self) -> AsyncIterator[GitHub[Any]]:
        """A githubkit client for one fetch: a few connections, kept alive for all its pages, each
        request through the guarded transport (a transport of its own: closing a client closes it)."""
        github = GitHub(
            self._auth,
            base_url=self.api_url,
            timeout=self._timeout,
            http_cache=False,  # a cached page would show a stale board for up to a minute
            auto_retry=self._retries,
            user_agent="issuebridge",
            async_transport=ApiTransport(self._api, self._max_response_bytes, self._ssl_context),
        )
        async with github:
            yield github

    async def _collect(
        self,
        listing: Listing,
        mapping: ItemMapping[Item],
        progress: Progress | None,
        known: Validators | None,
        finish: Finish[Item] | None = None,
    ) -> Fetched[Item] | Unchanged:
        """Fetch every page of ``listing`` as records of ``mapping``, in GitHub's order
        (``paging.pages``), stopping after ``max_items`` items and saying so. One HTTP client (and
        so a few kept-alive connections) serves all pages.

        A repository that was renamed (or transferred) answers 301 under its old name: the fetch
        follows it, says so (``renamed_to``), and keeps validators for the new name, which the
        next fetch of that board asks for.
        """
        first_url = listing.url(self.api_url)
        async with self.deadline(), self._client() as github:
            first: Response[Any] | None = None
            if known is not None and known.first_url == first_url:
                checks = [(first_url, known.first_etag)]
                if known.last_url and known.last_etag:
                    checks.append((known.last_url, known.last_etag))
                answers = await together(self._get(github, listing, url, etag) for url, etag in checks)
                renamed = any(moved(answer) for answer in answers)  # the board must follow the rename
                if not renamed and all(answer.status_code == 304 for answer in answers):
                    return Unchanged()
                first = answers[0] if answers[0].status_code == 200 else None
            if first is None:
                first = await self._get(github, listing, first_url)
            fetched = await pages(
                lambda url: self._get(github, listing, url),
                first_url,
                first,
                Collector(mapping, self.max_items),
                progress,
                max_items=self.max_items,
                concurrency=self._concurrency,
            )
            if fetched.unreadable:
                logger.warning(
                    "GitHub sent %d items of %s in a shape that cannot be read; they were left out",
                    fetched.unreadable,
                    listing.repository,
                )
            if moved(first) and (renamed_to := await self._current_name(github, listing)) is not None:
                validators = fetched.validators
                if validators is not None:
                    owner, repo = renamed_to.split("/")
                    first_url = listing._replace(owner=owner, repo=repo).url(self.api_url)
                    validators = replace(validators, first_url=first_url)
                fetched = replace(fetched, renamed_to=renamed_to, validators=validators)
            if finish is not None:
                fetched = await finish(github, listing, fetched.renamed_to or listing.repository, fetched)
            return fetched

    async def _current_name(self, github: GitHub[Any], listing: Listing) -> str | None:
        """The name GitHub gives the repository now (its old name answered 301), if it is another."""
        answer = await self._get(github, listing, listing.repository_url(self.api_url))
        try:
            name = orjson.loads(answer.content).get("full_name")
            current = parse_repository(name) if isinstance(name, str) else None
        except (orjson.JSONDecodeError, AttributeError, InvalidRepository):
            current = None
        if current is None:
            logger.warning("GitHub redirected %s without naming a valid repository for it", listing.repository)
        return current if current is not None and current.lower() != listing.repository.lower() else None

    async def _get(self, github: GitHub[Any], listing: Listing, url: str, etag: str | None = None) -> Response[Any]:
        return await self._request(github, url, etag, lambda exc: explain(exc, listing, self.api_url))

    async def _request(
        self, github: GitHub[Any], url: str, etag: str | None, explaining: Callable[[GitHubException], GitHubError]
    ) -> Response[Any]:
        # Compressed answers are inflated within the size limit by the transport; no other encoding is asked for.
        headers = {"X-GitHub-Api-Version": API_VERSION, "Accept-Encoding": "gzip"}
        if etag:
            headers["If-None-Match"] = etag
        try:
            async with self._in_flight:
                return await github.arequest("GET", url, headers=headers)
        except GitHubException as exc:
            raise explaining(exc) from None
        except (ValueError, OverflowError, OSError):
            # githubkit reads Retry-After and X-RateLimit-Reset as given: "soon", or a time past
            # the year 9999, fails inside it rather than as a refusal.
            raise GitHubUnavailable(
                "GitHub refused the request with a Retry-After or X-RateLimit-Reset header that cannot be read."
            ) from None


def _offset(progress: Progress | None, done: int) -> Progress | None:
    """``progress`` for a second search: its pages counted after the first's."""
    if progress is None or not done:
        return progress

    async def report(pages: int, total: int | None, rows: list[Any]) -> None:
        await progress(done + pages, None if total is None else done + total, rows)

    return report


def _github_time(value: datetime) -> str:
    """``2026-11-25T09:40:00Z``: the ISO 8601 form GitHub documents for ``since`` and ``until``."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
