"""The GitHub source: fetches issues through githubkit and turns every failure into a clear message.

Responses are read as raw JSON and mapped straight to compact ``Issue`` records: validating
GitHub's full typed models would cost time and break on schema drift for fields we never show.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Generator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Generic, TypeVar

import httpx
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
from pydantic import ValidationError

from issuebridge.boards import Issue, StateFilter, is_pull_request, issue_from_github
from issuebridge.curated import Commit, PullRequest, commit_from_github, pull_from_github

logger = logging.getLogger(__name__)

PER_PAGE = 100
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
# Called after each page with (pages done, total pages if known).
Progress = Callable[[int, int | None], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Fetched(Generic[Item]):
    items: list[Item]
    skipped: int
    truncated: bool


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
        self.api_url = api_url
        self.max_items = max_items
        # However many tool calls run at once, at most this many requests reach GitHub together
        # (its secondary rate limits punish bursts).
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

    async def list_issues(
        self, owner: str, repo: str, state: StateFilter, progress: Progress | None = None
    ) -> Fetched[Issue]:
        """Every issue of ``owner/repo`` in ``state`` (all pages); pull requests are skipped."""
        return await self._collect(
            owner,
            repo,
            lambda: self._github.rest.issues.async_list_for_repo(owner, repo, state=state, per_page=PER_PAGE),
            lambda item: None if is_pull_request(item) else _parse(issue_from_github, item),
            progress,
        )

    async def list_pulls(
        self, owner: str, repo: str, state: StateFilter, progress: Progress | None = None
    ) -> Fetched[PullRequest]:
        """Every pull request of ``owner/repo`` in ``state`` (all pages)."""
        return await self._collect(
            owner,
            repo,
            lambda: self._github.rest.pulls.async_list(owner, repo, state=state, per_page=PER_PAGE),
            lambda item: _parse(pull_from_github, item),
            progress,
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
    ) -> Fetched[Commit]:
        """The commits of ``branch`` (the default branch if None) between ``since`` and ``until``.

        An empty repository has no commits rather than being an error.
        """
        options: dict[str, Any] = {"since": since, "per_page": PER_PAGE}
        if branch:
            options["sha"] = branch
        if until:
            options["until"] = until
        try:
            return await self._collect(
                owner,
                repo,
                lambda: self._github.rest.repos.async_list_commits(owner, repo, **options),
                lambda item: _parse(commit_from_github, item),
                progress,
            )
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
        owner: str,
        repo: str,
        first_page: Callable[[], Awaitable[Response[Any]]],
        keep: Callable[[dict[str, Any]], Item | None],
        progress: Progress | None,
    ) -> Fetched[Item]:
        """Follow the ``Link: next`` pages from ``first_page``, keeping what ``keep`` maps.

        Stops after ``max_items`` items and says so, rather than fetching without bound. One HTTP
        client (and so one kept-alive connection) serves all pages.
        """
        items: list[Item] = []
        skipped = 0
        async with self._github:
            response = await self._call(owner, repo, first_page())
            pages_done = 1
            while True:
                links = response.raw_response.links
                total = _last_page(response) or (None if "next" in links else pages_done)
                if progress is not None:
                    await progress(pages_done, total)
                for item in _items(response):
                    kept = keep(item)
                    if kept is None:
                        skipped += 1
                    elif len(items) >= self.max_items:
                        return Fetched(items, skipped, truncated=True)
                    else:
                        items.append(kept)
                next_url = links.get("next", {}).get("url")
                if not next_url:
                    return Fetched(items, skipped, truncated=False)
                response = await self._call(owner, repo, self._github.arequest("GET", next_url))
                pages_done += 1

    async def _call(self, owner: str, repo: str, request: Awaitable[Response[Any]]) -> Response[Any]:
        try:
            async with self._in_flight:
                response = await request
        except GitHubException as exc:
            raise self._explain(exc, f"{owner}/{repo}") from None
        return response

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
        items = response.json()
    except ValueError:
        raise GitHubUnavailable("GitHub answered with something that is not JSON.") from None
    if not isinstance(items, list):
        raise GitHubUnavailable("GitHub answered the issues list with something that is not a list.")
    return [item for item in items if isinstance(item, dict)]


def _parse(parse: Callable[[dict[str, Any]], Item], item: dict[str, Any]) -> Item:
    try:
        return parse(item)
    except (KeyError, TypeError, ValidationError) as exc:
        what = item.get("number") or item.get("sha") or "?"
        raise GitHubUnavailable(f"GitHub sent item {what} in a shape issuebridge cannot read: {exc}") from None


def _last_page(response: Response[Any]) -> int | None:
    """The page count from the ``Link: rel="last"`` URL, when GitHub gives one."""
    url = response.raw_response.links.get("last", {}).get("url")
    if not url:
        return None
    page = httpx.URL(url).params.get("page", "")
    return int(page) if page.isdigit() else None


def _github_message(response: Response[Any]) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.reason_phrase or "no message"
    message = body.get("message") if isinstance(body, dict) else None
    return str(message)[:200] if message else (response.reason_phrase or "no message")
