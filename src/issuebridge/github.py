"""The GitHub source: fetches issues through githubkit and turns every failure into a clear message.

Responses are read as raw JSON and mapped straight to compact ``Issue`` records: validating
GitHub's full typed models would cost time and break on schema drift for fields we never show.
"""

from __future__ import annotations

import logging
from collections.abc import Generator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

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

logger = logging.getLogger(__name__)

PER_PAGE = 100
SERVER_ERROR_RETRIES = 2


class GitHubError(Exception):
    """A GitHub request failed; ``str(error)`` says what happened and what to do, and is safe to show."""


class RepositoryNotFound(GitHubError):
    pass


class AuthenticationFailed(GitHubError):
    pass


class RateLimited(GitHubError):
    def __init__(self, message: str, reset_at: datetime) -> None:
        super().__init__(message)
        self.reset_at = reset_at


class GitHubUnavailable(GitHubError):
    pass


@dataclass(frozen=True, slots=True)
class FetchedIssues:
    issues: list[Issue]
    pull_requests_skipped: int
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
    """Retry 5xx answers briefly; never retry a rate limit (githubkit would sleep until the reset)."""
    if (
        retry_count < SERVER_ERROR_RETRIES
        and isinstance(exc, RequestFailed)
        and not isinstance(exc, RateLimitExceeded)
        and exc.response.status_code >= 500
    ):
        return RetryOption(True, timedelta(seconds=0.5 * 2**retry_count))
    return RetryOption(False)


class GitHubSource:
    """Reads from the GitHub REST API at ``api_url`` (github.com, GitHub Enterprise, or a test fake)."""

    def __init__(self, api_url: str, token: str | None, *, timeout: float, max_issues: int) -> None:
        self.api_url = api_url
        self.max_issues = max_issues
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

    async def list_issues(self, owner: str, repo: str, state: StateFilter) -> FetchedIssues:
        """Every issue of ``owner/repo`` in ``state`` (all pages), pull requests left out.

        Stops after ``max_issues`` issues and says so, rather than fetching without bound.
        """
        # One HTTP client (and so one kept-alive connection) for all pages of this sync.
        async with self._github:
            return await self._list_issues(owner, repo, state)

    async def _list_issues(self, owner: str, repo: str, state: StateFilter) -> FetchedIssues:
        issues: list[Issue] = []
        skipped = 0
        truncated = False
        response = await self._call(
            owner,
            repo,
            self._github.rest.issues.async_list_for_repo(owner, repo, state=state, per_page=PER_PAGE),
        )
        while True:
            for item in _items(response):
                if is_pull_request(item):
                    skipped += 1
                    continue
                if len(issues) >= self.max_issues:
                    truncated = True
                    break
                issues.append(_issue(item))
            next_url = response.raw_response.links.get("next", {}).get("url")
            if truncated or not next_url:
                return FetchedIssues(issues, skipped, truncated)
            response = await self._call(owner, repo, self._github.arequest("GET", next_url))

    async def _call(self, owner: str, repo: str, request: Any) -> Response[Any]:
        try:
            response: Response[Any] = await request
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
                f"The GitHub API at {self.api_url} did not answer in time. "
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


def _issue(item: dict[str, Any]) -> Issue:
    try:
        return issue_from_github(item)
    except (KeyError, TypeError, ValidationError) as exc:
        number = item.get("number", "?")
        raise GitHubUnavailable(
            f"GitHub sent issue #{number} in a shape issuebridge cannot read: {exc}"
        ) from None


def _github_message(response: Response[Any]) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.reason_phrase or "no message"
    message = body.get("message") if isinstance(body, dict) else None
    return str(message)[:200] if message else (response.reason_phrase or "no message")
