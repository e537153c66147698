"""What a failed GitHub request means, in words a person (or a model) can act on.

Every failure of a fetch becomes one of these, never githubkit's or httpx's own exceptions: the
message says what happened and what to do, holds no token, and quotes at most a bounded line of
what GitHub said. Each has the HTTP status it would answer (``errors.IssuebridgeError``).
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import httpx
import orjson
from githubkit.exception import (
    GitHubException,
    PrimaryRateLimitExceeded,
    RateLimitExceeded,
    RequestError,
    RequestFailed,
    RequestTimeout,
)
from githubkit.response import Response

from issuebridge.errors import IssuebridgeError
from issuebridge.github.transport import Refused
from issuebridge.records.invisible import visible

if TYPE_CHECKING:
    from issuebridge.github.paging import Listing

logger = logging.getLogger(__name__)

SERVER_ERROR_RETRIES = 2
# GitHub asks clients that meet a secondary rate limit without being told how long to wait to
# wait at least a minute.
SECONDARY_LIMIT_WAIT = timedelta(minutes=1)
ERROR_DETAILS = 3  # how many of a refusal's ``errors`` its message keeps
# GitHub's limits reset within the hour; a longer wait is a broken answer, taken as at most a day.
MAX_RATE_LIMIT_WAIT = timedelta(days=1)


class GitHubError(IssuebridgeError):
    """A GitHub request failed; ``str(error)`` says what happened and what to do, and is safe to show."""

    status = 502


class RepositoryNotFound(GitHubError):
    status = 404


class AuthenticationFailed(GitHubError):
    pass


class RepositoryEmpty(GitHubError):
    status = 404


class RateLimited(GitHubError):
    """Every request drawing on ``quota`` would be refused until ``reset_at``, ``wait`` from when
    GitHub said so: ``"core"`` (every request of the token), or ``"search"`` (the search's own)."""

    status = 429

    def __init__(self, message: str, reset_at: datetime, wait: timedelta, quota: str = "core") -> None:
        super().__init__(message)
        self.reset_at = reset_at
        self.wait = wait
        self.quota = quota


class GitHubUnavailable(GitHubError):
    status = 503


def explain(exc: GitHubException, listing: Listing, api_url: str) -> GitHubError:
    """githubkit's ``exc``, raised fetching ``listing`` from ``api_url``, as what it means."""
    repository = listing.repository
    if isinstance(exc, RequestError) and isinstance(exc.exc, Refused):
        return GitHubUnavailable(str(exc.exc))
    if isinstance(exc, RequestError) and isinstance(exc.exc, httpx.TooManyRedirects):
        return GitHubUnavailable(f"GitHub redirected the request for {repository} more than 20 times in a row.")
    if isinstance(exc, RateLimitExceeded):
        return rate_limited(primary=isinstance(exc, PrimaryRateLimitExceeded), wait=exc.retry_after)
    if isinstance(exc, RequestFailed):
        status = exc.response.status_code
        detail = github_detail(exc.response)
        if status == 429 or (status == 403 and _secondary_limit(detail)):
            # githubkit 0.16 tells a secondary limit by its Retry-After or a spent quota, but
            # GitHub also sends it with neither; it then asks for a wait of at least a minute.
            return rate_limited(primary=False, wait=SECONDARY_LIMIT_WAIT)
        if status == 404:
            return RepositoryNotFound(
                f"GitHub repository {repository} was not found (404), or the token cannot see it. "
                "Check the owner and name; for a private repository set GITHUB_TOKEN "
                "to a token with access."
            )
        if status == 409 and "empty" in detail.lower():
            return RepositoryEmpty(f"{repository} is an empty repository.")
        if status == 410 and listing.name == "issues":
            return GitHubError(
                f"{repository} has its issues switched off on GitHub (410: {detail}). "
                "Its pull requests and commits can still be fetched."
            )
        if status == 401:
            return AuthenticationFailed(
                "GitHub rejected the token (401 Bad credentials): GITHUB_TOKEN is wrong, expired or "
                "revoked. Set a valid token, or unset it for public repositories."
            )
        if status == 403:
            return AuthenticationFailed(
                f"GitHub refused access to {repository} (403: {detail}). "
                "The token may lack the scope to read its issues."
            )
        if status == 422:
            return GitHubError(
                f"GitHub could not take the query for {repository} (422: {detail}). "
                "Check the arguments (for commits: branch, since and until)."
            )
        if status >= 500:
            return GitHubUnavailable(
                f"GitHub answered {status} for {repository} after {SERVER_ERROR_RETRIES} retries; "
                "it may be having trouble. Try again in a minute."
            )
        return GitHubError(f"GitHub answered {status} for {repository}: {detail}")
    if isinstance(exc, RequestTimeout):
        return GitHubUnavailable(
            f"The GitHub API at {api_url} did not answer in time ({SERVER_ERROR_RETRIES} retries). "
            "Try again, or check GITHUB_API_URL."
        )
    logger.warning("GitHub request failed: %s", type(exc.__cause__ or exc).__name__)
    return GitHubUnavailable(f"Could not reach the GitHub API at {api_url}. Check the network and GITHUB_API_URL.")


def rate_limited(*, primary: bool, wait: timedelta) -> RateLimited:
    wait = min(max(wait, timedelta()), MAX_RATE_LIMIT_WAIT)
    reset_at = datetime.now(UTC) + wait
    when = reset_at.strftime("%Y-%m-%d %H:%M:%S UTC")
    minutes = max(1, round(wait.total_seconds() / 60))
    if primary:
        return RateLimited(
            f"GitHub's API rate limit is exhausted; it resets at {when} (in about {minutes} min). "
            "Set GITHUB_TOKEN for a higher limit, or try again then.",
            reset_at,
            wait,
        )
    return RateLimited(
        f"GitHub's secondary rate limit is exhausted; it resets at {when} (in about {minutes} min). "
        "Make fewer requests at once and try again then.",
        reset_at,
        wait,
    )


def _secondary_limit(detail: str) -> bool:
    """GitHub's words for a secondary rate limit, now and in its older "abuse" form."""
    text = detail.lower()
    return "secondary rate limit" in text or "abuse detection" in text


def github_detail(response: Response[Any], error_limit: int = 120) -> str:
    """GitHub's own words for a refusal: its message and, as a 422 gives them, the first few of its
    ``errors``. One line, bounded: it is shown to people and to models, inside our own sentence."""
    reason = response.reason_phrase or "no message"
    try:
        body = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        return reason
    if not isinstance(body, dict):
        return reason
    detail = _one_line(body.get("message"), 200) or reason
    errors = body.get("errors")
    if isinstance(errors, list) and errors:
        described = [text for error in errors[:ERROR_DETAILS] if (text := _error_text(error, error_limit))]
        more = f" (and {len(errors) - ERROR_DETAILS} more)" if len(errors) > ERROR_DETAILS else ""
        if described:
            detail += ": " + "; ".join(described) + more
    return detail


def _error_text(error: Any, limit: int = 120) -> str:
    """One of GitHub's ``errors``: a sentence of its own, or what was wrong with which field."""
    if isinstance(error, dict):
        if error.get("message"):
            return _one_line(error["message"], limit)
        said = " ".join(_one_line(error.get(key), 40) for key in ("resource", "field", "code") if error.get(key))
        if "value" in error:
            said += f" ({_one_line(repr(error['value']), 40)})"
        return said.strip()
    return _one_line(error, limit)


def _one_line(value: Any, limit: int) -> str:
    text = re.sub(r"\s+", " ", visible(str(value))).strip() if value is not None else ""
    return text if len(text) <= limit else text[: limit - 1] + "…"
