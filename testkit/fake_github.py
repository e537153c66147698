"""A fake GitHub REST API, served over real HTTP on 127.0.0.1, for tests.

Tests point ``githubkit`` at :attr:`FakeGitHub.url` instead of api.github.com, so the
app's real HTTP client, pagination, conditional requests and error handling run end to
end without the network. The server uses only the stdlib and runs in a daemon thread,
so it works the same from sync and async tests.
"""

from __future__ import annotations

import base64
import contextlib
import copy
import functools
import gzip
import hashlib
import hmac
import json
import re
import threading
import time
import uuid
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit

from testkit import fake_search

API = "https://api.github.com"
WEB = "https://github.com"
RATE_LIMIT = 5000
DEFAULT_API_VERSION = "2022-11-28"
DOCS_LIST_ISSUES = "https://docs.github.com/rest/issues/issues#list-repository-issues"
DOCS_LIST_PULLS = "https://docs.github.com/rest/pulls/pulls#list-pull-requests"
DOCS_LIST_COMMITS = "https://docs.github.com/rest/commits/commits#list-commits"
DOCS_SEARCH = "https://docs.github.com/rest/search/search#search-issues-and-pull-requests"
DOCS_GET_ISSUE = "https://docs.github.com/rest/issues/issues#get-an-issue"
DOCS_GET_PULL = "https://docs.github.com/rest/pulls/pulls#get-a-pull-request"
DOCS_RATE_LIMIT = "https://docs.github.com/rest/overview/resources-in-the-rest-api#rate-limiting"
NOT_FOUND = {"message": "Not Found", "documentation_url": DOCS_LIST_ISSUES, "status": "404"}
BAD_CREDENTIALS = {
    "message": "Bad credentials",
    "documentation_url": "https://docs.github.com/rest",
    "status": "401",
}
RATE_LIMITED = {
    "message": "API rate limit exceeded for 127.0.0.1. (But here's the good news: Authenticated requests "
    "get a higher rate limit. Check out the documentation for more details.)",
    "documentation_url": DOCS_RATE_LIMIT,
}
REQUIRES_AUTHENTICATION = {
    "message": "Requires authentication",
    "documentation_url": "https://docs.github.com/rest/users/users#get-the-authenticated-user",
    "status": "401",
}
SECONDARY_RATE_LIMITED = {
    "message": "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. "
    "If you reach out to GitHub Support for help, please include the request ID 0400:1D2E:3F4A:5B6C:7D8E9F00.",
    "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits",
}
ISSUES_DISABLED = "Issues are disabled for this repo"
DOCS_REDIRECTS = "https://docs.github.com/v3/#http-redirects"
# Labels GitHub creates in every new repository; they carry "default": true.
DEFAULT_LABELS = frozenset(("bug", "documentation", "duplicate", "enhancement", "good first issue"))
DEFAULT_LABELS |= {"help wanted", "invalid", "question", "wontfix"}
_EPOCH = datetime(2024, 1, 1, tzinfo=UTC)
DEFAULT_BRANCH = "main"
# Ways GET /repos/{owner}/{repo}/pulls can sort; "popularity" and "long-running" order like "created"
# here, because a pull-request-simple object carries no comment count to rank by.
PULL_SORTS = ("created", "updated", "popularity", "long-running")
ISSUE_SORTS = ("created", "updated", "comments")
STATES = ("open", "closed", "all")  # the ``state`` filter of the issues and pulls lists


# ---------------------------------------------------------------------------------------------
# Builders: complete, deterministic GitHub-shaped JSON
# ---------------------------------------------------------------------------------------------


def _stable_int(*parts: object, digits: int = 9) -> int:
    """A repeatable id derived from ``parts`` (hash() is salted per process, so not usable)."""
    digest = hashlib.sha256("\x00".join(map(str, parts)).encode()).hexdigest()
    low = int("1" + "0" * (digits - 1))
    return low + int(digest[:15], 16) % (9 * low)


def _node_id(prefix: str, *parts: object) -> str:
    """GitHub node ids are opaque base64 strings; only their shape matters to clients."""
    raw = base64.urlsafe_b64encode(hashlib.sha256(repr(parts).encode()).digest()[:12]).decode()
    return f"{prefix}_kwDO{raw.rstrip('=')}"


def _git_sha(*parts: object) -> str:
    """A 40-hex git object id, repeatable from ``parts``."""
    return hashlib.sha1("\x00".join(map(str, parts)).encode(), usedforsecurity=False).hexdigest()


def _timestamp(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def github_now() -> str:
    """The present as GitHub writes times (whole seconds, UTC): for items changed during a test."""
    return _timestamp(datetime.now(UTC))


def _parse_time(value: str) -> datetime:
    """ISO 8601 as GitHub accepts it ("Z" or an offset); a missing zone means UTC."""
    when = datetime.fromisoformat(value)
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def _created_updated(number: int, created_at: str | None, updated_at: str | None) -> tuple[str, str]:
    """Unset timestamps derive from ``number``: created 2024-01-01 + number hours, updated 30 min later."""
    created = created_at or _timestamp(_EPOCH + timedelta(hours=number))
    updated = updated_at or _timestamp(
        datetime.strptime(created, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC) + timedelta(minutes=30)
    )
    return created, updated


def _check_repo_name(repo: str) -> None:
    if repo.count("/") != 1:
        raise ValueError(f"repo must look like 'owner/name', not {repo!r}")


def _check_state(state: str) -> None:
    if state not in ("open", "closed"):
        raise ValueError(f"state must be 'open' or 'closed', not {state!r}")


def _author_association(user: str | None, repo: str) -> str:
    return "OWNER" if user is not None and user.lower() == repo.split("/")[0].lower() else "NONE"


def repository_id(repo: str) -> int:
    """The id GitHub would give ``repo`` (case-insensitive): it stays the same through a rename."""
    return _stable_int("repo", repo.lower())


def make_user(login: str) -> dict[str, Any]:
    """A full simple-user object, as embedded in issues (user, assignee, assignees)."""
    uid = _stable_int("user", login.lower(), digits=7)
    url = f"{API}/users/{login}"
    return {
        "login": login,
        "id": uid,
        "node_id": base64.b64encode(f"04:User{uid}".encode()).decode(),
        "avatar_url": f"https://avatars.githubusercontent.com/u/{uid}?v=4",
        "gravatar_id": "",
        "url": url,
        "html_url": f"{WEB}/{login}",
        "followers_url": f"{url}/followers",
        "following_url": f"{url}/following{{/other_user}}",
        "gists_url": f"{url}/gists{{/gist_id}}",
        "starred_url": f"{url}/starred{{/owner}}{{/repo}}",
        "subscriptions_url": f"{url}/subscriptions",
        "organizations_url": f"{url}/orgs",
        "repos_url": f"{url}/repos",
        "events_url": f"{url}/events{{/privacy}}",
        "received_events_url": f"{url}/received_events",
        "type": "User",
        "user_view_type": "public",
        "site_admin": False,
    }


def make_team(org: str, slug: str) -> dict[str, Any]:
    """A team as GitHub names one it asks to review ("team-simple"; CODEOWNERS asks teams)."""
    team_id = _stable_int("team", org.lower(), slug)
    return {
        "id": team_id,
        "node_id": _node_id("T", org.lower(), slug),
        "url": f"{API}/organizations/{_stable_int('org', org.lower())}/team/{team_id}",
        "html_url": f"{WEB}/orgs/{org}/teams/{slug}",
        "name": slug.replace("-", " ").title(),
        "slug": slug,
        "description": None,
        "privacy": "closed",
        "notification_setting": "notifications_enabled",
        "permission": "pull",
        "members_url": f"{API}/organizations/{_stable_int('org', org.lower())}/team/{team_id}/members{{/member}}",
        "repositories_url": f"{API}/organizations/{_stable_int('org', org.lower())}/team/{team_id}/repos",
        "parent": None,
    }


def make_label(repo: str, name: str, color: str) -> dict[str, Any]:
    """A full label object; ``color`` is hex without '#', as GitHub stores it."""
    return {
        "id": _stable_int("label", repo.lower(), name, digits=10),
        "node_id": _node_id("LA", repo.lower(), name),
        "url": f"{API}/repos/{repo}/labels/{quote(name)}",
        "name": name,
        "color": color.lstrip("#").lower(),
        "default": name in DEFAULT_LABELS,
        "description": None,
    }


def make_issue(
    repo: str,
    number: int,
    *,
    title: str | None = None,
    state: str = "open",
    labels: list[tuple[str, str]] | None = None,
    user: str | None = "octocat",
    assignees: list[str] | None = None,
    comments: int = 0,
    body: str | None = None,
    created_at: str | None = None,
    updated_at: str | None = None,
) -> dict[str, Any]:
    """One item exactly as ``GET /repos/{owner}/{repo}/issues`` returns it for an issue.

    Unset timestamps derive from ``number`` (created 2024-01-01 + number hours, updated
    30 minutes later) so pages are identical from run to run. ``user=None`` gives the ``null``
    user GitHub sends for some deleted accounts.
    """
    _check_state(state)
    _check_repo_name(repo)
    created, updated = _created_updated(number, created_at, updated_at)
    closed = state == "closed"
    url = f"{API}/repos/{repo}/issues/{number}"
    people = [make_user(login) for login in assignees or []]
    return {
        "url": url,
        "repository_url": f"{API}/repos/{repo}",
        "labels_url": f"{url}/labels{{/name}}",
        "comments_url": f"{url}/comments",
        "events_url": f"{url}/events",
        "html_url": f"{WEB}/{repo}/issues/{number}",
        "id": _stable_int("issue", repo.lower(), number, digits=10),
        "node_id": _node_id("I", repo.lower(), number),
        "number": number,
        "title": title if title is not None else f"Issue #{number}",
        "user": make_user(user) if user is not None else None,
        "labels": [make_label(repo, name, color) for name, color in labels or []],
        "state": state,
        "locked": False,
        "assignee": people[0] if people else None,
        "assignees": people,
        "milestone": None,
        "comments": comments,
        "created_at": created,
        "updated_at": updated,
        "closed_at": updated if closed else None,
        "author_association": _author_association(user, repo),
        "type": None,
        "active_lock_reason": None,
        "sub_issues_summary": {"total": 0, "completed": 0, "percent_completed": 0},
        "issue_dependencies_summary": dict.fromkeys(
            ("blocked_by", "blocking", "total_blocked_by", "total_blocking"), 0
        ),
        "body": body,
        "reactions": {
            "url": f"{url}/reactions",
            **dict.fromkeys(("total_count", "+1", "-1", "laugh", "hooray", "confused", "heart", "rocket", "eyes"), 0),
        },
        "timeline_url": f"{url}/timeline",
        "performed_via_github_app": None,
        "state_reason": "completed" if closed else None,
    }


def make_pull_request(repo: str, number: int, *, merged: bool = False, **kwargs: Any) -> dict[str, Any]:
    """A pull request as the *issues* list shows it: an issue plus the ``pull_request`` key.

    Takes the same keywords as :func:`make_issue`; ``merged=True`` (closed PRs only) sets
    ``merged_at`` to the closing time.
    """
    item = make_issue(repo, number, **kwargs)
    if merged and item["state"] != "closed":
        raise ValueError("only a closed pull request can be merged")
    if "title" not in kwargs:
        item["title"] = f"Pull request #{number}"
    item["node_id"] = _node_id("PR", repo.lower(), number)
    item["html_url"] = f"{WEB}/{repo}/pull/{number}"
    item["state_reason"] = None  # GitHub never sets a state reason on pull requests
    item["draft"] = False
    item["pull_request"] = {
        "url": f"{API}/repos/{repo}/pulls/{number}",
        "html_url": item["html_url"],
        "diff_url": f"{item['html_url']}.diff",
        "patch_url": f"{item['html_url']}.patch",
        "merged_at": item["closed_at"] if merged else None,
    }
    return item


# Repository URLs that GitHub sends as URI templates, relative to the repository's API url.
_REPO_URL_SUFFIXES = {
    "archive_url": "/{archive_format}{/ref}",
    "assignees_url": "/assignees{/user}",
    "blobs_url": "/git/blobs{/sha}",
    "branches_url": "/branches{/branch}",
    "collaborators_url": "/collaborators{/collaborator}",
    "comments_url": "/comments{/number}",
    "commits_url": "/commits{/sha}",
    "compare_url": "/compare/{base}...{head}",
    "contents_url": "/contents/{+path}",
    "contributors_url": "/contributors",
    "deployments_url": "/deployments",
    "downloads_url": "/downloads",
    "events_url": "/events",
    "forks_url": "/forks",
    "git_commits_url": "/git/commits{/sha}",
    "git_refs_url": "/git/refs{/sha}",
    "git_tags_url": "/git/tags{/sha}",
    "hooks_url": "/hooks",
    "issue_comment_url": "/issues/comments{/number}",
    "issue_events_url": "/issues/events{/number}",
    "issues_url": "/issues{/number}",
    "keys_url": "/keys{/key_id}",
    "labels_url": "/labels{/name}",
    "languages_url": "/languages",
    "merges_url": "/merges",
    "milestones_url": "/milestones{/number}",
    "notifications_url": "/notifications{?since,all,participating}",
    "pulls_url": "/pulls{/number}",
    "releases_url": "/releases{/id}",
    "stargazers_url": "/stargazers",
    "statuses_url": "/statuses/{sha}",
    "subscribers_url": "/subscribers",
    "subscription_url": "/subscription",
    "tags_url": "/tags",
    "teams_url": "/teams",
    "trees_url": "/git/trees{/sha}",
}


def make_repository(repo: str) -> dict[str, Any]:
    """A full public repository object, as embedded in a pull request's ``head.repo`` and ``base.repo``."""
    _check_repo_name(repo)
    owner, name = repo.split("/")
    url = f"{API}/repos/{repo}"
    return {
        "id": repository_id(repo),
        "node_id": _node_id("R", repo.lower()),
        "name": name,
        "full_name": repo,
        "private": False,
        "owner": make_user(owner),
        "html_url": f"{WEB}/{repo}",
        "description": None,
        "fork": False,
        "url": url,
        **{key: url + suffix for key, suffix in _REPO_URL_SUFFIXES.items()},
        "git_url": f"git://github.com/{repo}.git",
        "ssh_url": f"git@github.com:{repo}.git",
        "clone_url": f"{WEB}/{repo}.git",
        "svn_url": f"{WEB}/{repo}",
        "mirror_url": None,
        "homepage": None,
        "language": None,
        "forks_count": 0,
        "stargazers_count": 0,
        "watchers_count": 0,
        "size": 0,
        "default_branch": DEFAULT_BRANCH,
        "open_issues_count": 0,
        "is_template": False,
        "topics": [],
        "has_issues": True,
        "has_projects": True,
        "has_wiki": True,
        "has_pages": False,
        "has_downloads": True,
        "has_discussions": False,
        "archived": False,
        "disabled": False,
        "visibility": "public",
        "pushed_at": _timestamp(_EPOCH),
        "created_at": _timestamp(_EPOCH - timedelta(days=30)),
        "updated_at": _timestamp(_EPOCH),
        "allow_forking": True,
        "web_commit_signoff_required": False,
        "license": None,
        "forks": 0,
        "open_issues": 0,
        "watchers": 0,
    }


def make_pull(
    repo: str,
    number: int,
    *,
    title: str | None = None,
    state: str = "open",
    draft: bool = False,
    user: str | None = "octocat",
    labels: list[tuple[str, str]] | None = None,
    requested_reviewers: list[str] | None = None,
    requested_teams: list[str] | None = None,
    assignees: list[str] | None = None,
    head: str | None = None,
    base: str = DEFAULT_BRANCH,
    created_at: str | None = None,
    updated_at: str | None = None,
    merged: bool = False,
    body: str | None = None,
) -> dict[str, Any]:
    """One item exactly as ``GET /repos/{owner}/{repo}/pulls`` returns it ("pull-request-simple").

    ``head`` defaults to ``feature-{number}``; both branches live in ``repo`` (no forks). Timestamps
    derive from ``number`` like :func:`make_issue`; a closed PR is closed at ``updated_at`` and,
    with ``merged=True`` (closed PRs only), merged then too.
    """
    _check_state(state)
    _check_repo_name(repo)
    if merged and state != "closed":
        raise ValueError("only a closed pull request can be merged")
    created, updated = _created_updated(number, created_at, updated_at)
    closed_at = updated if state == "closed" else None
    owner = repo.split("/")[0]
    head = head if head is not None else f"feature-{number}"
    head_sha = _git_sha("head", repo.lower(), number, head)
    url = f"{API}/repos/{repo}/pulls/{number}"
    issue_url = f"{API}/repos/{repo}/issues/{number}"
    html_url = f"{WEB}/{repo}/pull/{number}"
    links = {
        "self": url,
        "html": html_url,
        "issue": issue_url,
        "comments": f"{issue_url}/comments",
        "review_comments": f"{url}/comments",
        "review_comment": f"{API}/repos/{repo}/pulls/comments{{/number}}",
        "commits": f"{url}/commits",
        "statuses": f"{API}/repos/{repo}/statuses/{head_sha}",
    }

    def branch(ref: str, sha: str) -> dict[str, Any]:
        return {"label": f"{owner}:{ref}", "ref": ref, "sha": sha, "user": make_user(owner),
                "repo": make_repository(repo)}  # fmt: skip

    return {
        "url": url,
        "id": _stable_int("pull", repo.lower(), number, digits=10),
        "node_id": _node_id("PR", repo.lower(), number),
        "html_url": html_url,
        "diff_url": f"{html_url}.diff",
        "patch_url": f"{html_url}.patch",
        "issue_url": issue_url,
        "number": number,
        "state": state,
        "locked": False,
        "title": title if title is not None else f"Pull request #{number}",
        "user": make_user(user) if user is not None else None,
        "body": body,
        "created_at": created,
        "updated_at": updated,
        "closed_at": closed_at,
        "merged_at": closed_at if merged else None,
        "merge_commit_sha": _git_sha("merge", repo.lower(), number),
        "assignee": make_user(assignees[0]) if assignees else None,
        "assignees": [make_user(login) for login in assignees or []],
        "requested_reviewers": [make_user(login) for login in requested_reviewers or []],
        "requested_teams": [make_team(repo.split("/")[0], slug) for slug in requested_teams or []],
        # Pull-request labels carry "archived_by" (null unless archived); the schema requires the key.
        "labels": [{**make_label(repo, name, color), "archived_by": None} for name, color in labels or []],
        "milestone": None,
        "draft": draft,
        "commits_url": links["commits"],
        "review_comments_url": links["review_comments"],
        "review_comment_url": links["review_comment"],
        "comments_url": links["comments"],
        "statuses_url": links["statuses"],
        "head": branch(head, head_sha),
        "base": branch(base, _git_sha("base", repo.lower(), base)),
        "_links": {rel: {"href": href} for rel, href in links.items()},
        "author_association": _author_association(user, repo),
        "auto_merge": None,
        "active_lock_reason": None,
    }


def commit_sha(repo: str, n: int) -> str:
    """The sha :func:`make_commit` gives commit ``n`` of ``repo`` (case-insensitive in ``repo``)."""
    return _git_sha("commit", repo.lower(), n)


def make_commit(
    repo: str,
    n: int,
    *,
    message: str | None = None,
    author: str | None = "octocat",
    author_name: str | None = None,
    date: str | None = None,
) -> dict[str, Any]:
    """One item exactly as ``GET /repos/{owner}/{repo}/commits`` returns it.

    ``author`` is the GitHub login the commit's email belongs to; ``None`` gives what GitHub sends
    when the email matches no account: ``author`` and ``committer`` null, only the git identity in
    ``commit``. The author also committed it. ``date`` defaults to 2024-01-01 + ``n`` hours; the
    parent is commit ``n - 1`` (none for ``n <= 1``), so ``make_commit(repo, n)`` for a range of
    ``n`` forms a chain.
    """
    _check_repo_name(repo)
    sha = commit_sha(repo, n)
    url = f"{API}/repos/{repo}/commits/{sha}"
    account = make_user(author) if author is not None else None
    name = author_name or author or "Anonymous Contributor"
    if account is not None:
        email = f"{account['id']}+{account['login']}@users.noreply.github.com"
    else:
        email = f"{re.sub(r'[^a-z0-9]+', '.', name.lower()).strip('.') or 'someone'}@example.com"
    identity = {"name": name, "email": email, "date": date or _timestamp(_EPOCH + timedelta(hours=n))}
    tree = _git_sha("tree", repo.lower(), n)
    parents = [commit_sha(repo, n - 1)] if n > 1 else []
    return {
        "sha": sha,
        "node_id": _node_id("C", repo.lower(), n),
        "commit": {
            "author": identity,
            "committer": dict(identity),
            "message": message if message is not None else f"Change {n}",
            "tree": {"sha": tree, "url": f"{API}/repos/{repo}/git/trees/{tree}"},
            "url": f"{API}/repos/{repo}/git/commits/{sha}",
            "comment_count": 0,
            "verification": {
                "verified": False,
                "reason": "unsigned",
                "signature": None,
                "payload": None,
                "verified_at": None,
            },
        },
        "url": url,
        "html_url": f"{WEB}/{repo}/commit/{sha}",
        "comments_url": f"{url}/comments",
        "author": account,
        "committer": copy.deepcopy(account),
        "parents": [
            {"sha": p, "url": f"{API}/repos/{repo}/commits/{p}", "html_url": f"{WEB}/{repo}/commit/{p}"}
            for p in parents
        ],
    }


# ---------------------------------------------------------------------------------------------
# Webhooks: what GitHub POSTs to a repository's webhook, signed as GitHub signs it
# ---------------------------------------------------------------------------------------------


def make_webhook(event: str, action: str, repo: str, **objects: Any) -> dict[str, Any]:
    """A webhook payload as GitHub sends it for ``event``: ``action``, the objects the event is
    about (``issue=``, ``pull_request=``, ``comment=``), the repository and the sender.

    The ``issue`` of ``issues`` and ``issue_comment`` events and the ``pull_request`` of
    ``pull_request`` events have the shape of the REST API's (see :func:`make_issue`,
    :func:`make_pull_request`, :func:`make_pull`); a ``pull_request`` event also carries the pull
    request's ``number`` beside it, as GitHub's do.
    """
    _check_repo_name(repo)
    pull = objects.get("pull_request") if event == "pull_request" else None
    number = {"number": pull["number"]} if isinstance(pull, dict) else {}
    return {
        "action": action,
        **number,
        **copy.deepcopy(objects),
        "repository": make_repository(repo),
        "sender": make_user("octocat"),
    }


def make_comment(
    repo: str,
    issue_number: int,
    comment_id: int,
    *,
    body: str | None = "Me too",
    user: str | None = "hubot",
    created_at: str | None = None,
) -> dict[str, Any]:
    """One comment as ``GET /repos/{repo}/issues/{n}/comments`` lists it and an ``issue_comment``
    event carries it; ``user=None`` is a deleted account (GitHub sends null)."""
    url = f"{API}/repos/{repo}/issues/comments/{comment_id}"
    when = created_at or _timestamp(_EPOCH + timedelta(minutes=comment_id % 100_000))
    return {
        "url": url,
        "html_url": f"{WEB}/{repo}/issues/{issue_number}#issuecomment-{comment_id}",
        "issue_url": f"{API}/repos/{repo}/issues/{issue_number}",
        "id": comment_id,
        "node_id": _node_id("IC", repo.lower(), comment_id),
        "user": make_user(user) if user else None,
        "created_at": when,
        "updated_at": when,
        "author_association": _author_association(user, repo),
        "body": body,
        "reactions": {"url": f"{url}/reactions", "total_count": 0},
        "performed_via_github_app": None,
    }


def make_review(
    repo: str,
    number: int,
    review_id: int,
    *,
    user: str | None = "hubot",
    state: str = "APPROVED",
    body: str = "",
    submitted_at: str | None = None,
) -> dict[str, Any]:
    """One review as ``GET /repos/{repo}/pulls/{n}/reviews`` lists it (oldest first on GitHub);
    ``state`` is APPROVED, CHANGES_REQUESTED, COMMENTED, DISMISSED or PENDING."""
    if state not in {"APPROVED", "CHANGES_REQUESTED", "COMMENTED", "DISMISSED", "PENDING"}:
        raise ValueError(f"not a review state: {state}")
    return {
        "id": review_id,
        "node_id": _node_id("PRR", repo.lower(), number, review_id),
        "user": make_user(user) if user else None,
        "body": body,
        "state": state,
        "html_url": f"{WEB}/{repo}/pull/{number}#pullrequestreview-{review_id}",
        "pull_request_url": f"{API}/repos/{repo}/pulls/{number}",
        "author_association": _author_association(user, repo),
        "submitted_at": None if state == "PENDING" else submitted_at or _timestamp(_EPOCH + timedelta(hours=review_id)),
        "commit_id": _git_sha("review", repo.lower(), number, review_id),
    }


def sign_webhook(secret: str, body: bytes) -> str:
    """The ``X-Hub-Signature-256`` header GitHub sends with ``body`` for a webhook with ``secret``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def webhook_request(
    secret: str | None, event: str, payload: Any, *, delivery: str | None = None, body: bytes | None = None
) -> tuple[bytes, dict[str, str]]:
    """The body and headers of one delivery, as GitHub POSTs it (signed unless ``secret`` is None):
    ``payload`` as JSON, or ``body`` as given (a recorded delivery)."""
    body = json.dumps(payload).encode() if body is None else body
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "GitHub-Hookshot/0f3d1b2",
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery or str(uuid.uuid4()),
        "X-GitHub-Hook-ID": "123456",
    }
    if secret is not None:
        headers["X-Hub-Signature-256"] = sign_webhook(secret, body)
    return body, headers


# ---------------------------------------------------------------------------------------------
# The server
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RecordedRequest:
    """What the fake saw, so tests can assert on what the app actually sent."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    status: int


@dataclass(frozen=True)
class Misbehaviour:
    """How a broken or hostile GitHub answers one repository's lists (see :meth:`FakeGitHub.misbehave`).

    Each switch is one way a client can be made to hang, leak its token or fill its memory.
    """

    link_to: str | None = None  # Link headers point at this base URL (another host) instead of the fake
    redirect_to: str | None = None  # lists answer 302 to the same path and query at this base URL
    as_given: bool = False  # the issues list is served as stored: unfiltered, unsorted, any JSON values
    endless: bool = False  # every page links to a next one and none is the last; pages past the data repeat it
    last_page: int | None = None  # Link rel="last" claims this many pages; pages past the data are empty
    trickle: float | None = None  # seconds between the bytes of each body
    body_bytes: int | None = None  # a body this large (a JSON list padded with spaces), made as it is sent
    declare_length: bool = True  # send Content-Length with body_bytes (else the body is chunked)
    gzip_bomb: bool = False  # send body_bytes gzip-compressed: a small download that inflates to body_bytes
    encoding: str | None = None  # a Content-Encoding header on plain bodies, whatever the client accepts


@dataclass
class _Reply:
    status: int
    body: Any = None
    headers: dict[str, str] | None = None
    quota_exhausted: bool = False
    free: bool = False  # not counted against the quota (GET /rate_limit), besides 304s
    rate: dict[str, str] | None = None  # its own rate-limit headers (the search's), instead of the core quota's
    weak_etag: bool = True  # lists come back with weak ETags (W/"..."), single resources with strong ones
    misbehaviour: Misbehaviour | None = None
    _encoded: tuple[bytes, str] | None = field(default=None, repr=False)

    def encoded(self) -> tuple[bytes, str]:
        """The body as JSON bytes and its digest (the ETag's value), computed once: a page asked for
        again (by many concurrent syncs, or a benchmark) costs the fake nothing, as it would cost GitHub."""
        if self._encoded is None:
            body = b"" if self.body is None else json.dumps(self.body).encode()
            self._encoded = (body, hashlib.sha256(body).hexdigest())
        return self._encoded


class _Refusal(Exception):
    """Raised while answering a request to send an error reply instead."""

    def __init__(self, reply: _Reply) -> None:
        super().__init__(reply.status)
        self.reply = reply


@dataclass(frozen=True)
class _RepoData:
    """Everything served for one repository; replaced as a whole, so readers never see half an update."""

    full_name: str
    id: int
    issues: list[dict[str, Any]] = field(default_factory=list)
    pulls: list[dict[str, Any]] = field(default_factory=list)
    branches: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    has_issues: bool = True
    misbehaviour: Misbehaviour = Misbehaviour()
    reviewed: frozenset[int] = frozenset()  # pull requests someone has reviewed (never in the list)
    comments: dict[int, list[dict[str, Any]]] = field(default_factory=dict)  # by issue number, oldest first
    reviews: dict[int, list[dict[str, Any]]] = field(default_factory=dict)  # by pull request number, oldest first
    deleted: frozenset[int] = frozenset()  # issues deleted on GitHub: their number answers 410


_ROUTE = re.compile(r"/repos/([^/]+)/([^/]+?)(?:/(issues|pulls|commits))?/?")
# One issue or pull request, and its comments or reviews, under the repository's name or id.
_ITEM = re.compile(r"/(?:repos/([^/]+)/([^/]+)|repositories/(\d+))/(issues|pulls)/(\d{1,12})(?:/(comments|reviews))?/?")
# GitHub's Link headers, and its redirects for renamed repositories, use the repository's id.
_BY_ID = re.compile(r"/repositories/(\d+)(?:/(issues|pulls|commits))?/?")


def _int_param(query: dict[str, str], name: str, default: int) -> int:
    """GitHub silently falls back to the default for unparsable numbers."""
    try:
        return int(query[name])
    except (KeyError, ValueError):
        return default


def _error(status: int, message: str, docs: str) -> _Reply:
    return _Reply(status, {"message": message, "documentation_url": docs, "status": str(status)})


def _invalid(resource: str, name: str, value: str, docs: str) -> _Refusal:
    return _Refusal(
        _Reply(
            422,
            {
                "message": "Validation Failed",
                "errors": [{"resource": resource, "field": name, "code": "invalid", "value": value}],
                "documentation_url": docs,
                "status": "422",
            },
        )
    )


def _choice(
    query: dict[str, str], name: str, allowed: tuple[str, ...], default: str, *, resource: str, docs: str
) -> str:
    """The value of a query parameter that must be one of ``allowed``; anything else is a 422."""
    value = query.get(name, default)
    if value not in allowed:
        raise _invalid(resource, name, value, docs)
    return value


def _time_param(query: dict[str, str], name: str) -> datetime | None:
    value = query.get(name)
    if not value:
        return None
    # githubkit sends str(datetime) ("2024-01-01 02:00:00+00:00"); an unescaped "+" arrives as a space.
    for candidate in (value, re.sub(r" (\d\d:?\d\d)$", r"+\1", value)):
        try:
            return _parse_time(candidate)
        except ValueError:
            pass
    raise _invalid("Commit", name, value, DOCS_LIST_COMMITS)


def _commit_time(item: dict[str, Any]) -> datetime:
    return _parse_time(item["commit"]["author"]["date"])


SEARCH_RATE_LIMITED = {
    "message": "API rate limit exceeded for user ID 1. If you reach out to GitHub Support for help, please "
    "include the request ID 0400:1D2E:3F4A:5B6C:7D8E9F00 and timestamp 2026-12-02 09:00:00 UTC.",
    "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api",
    "status": "403",
}


def _invalid_search(message: str) -> dict[str, Any]:
    """GitHub's 422 for a search it cannot run: "Validation Failed" and its reason."""
    return {
        "message": "Validation Failed",
        "errors": [{"message": message, "resource": "Search", "field": "q", "code": "invalid"}],
        "documentation_url": DOCS_SEARCH,
        "status": "422",
    }


def _searchable(repo: _RepoData) -> list[dict[str, Any]]:
    """A repository's issues and pull requests as the search finds them: issue-shaped, a pull
    request's draft state, requested reviewers and reviews from its pulls list (kept under ``_``
    keys, which results leave out)."""
    pulls = {pull["number"]: pull for pull in repo.pulls}
    items = {item["number"]: item for item in repo.issues if isinstance(item, dict) and "number" in item}
    for number, pull in pulls.items():
        if number not in items:
            labels = [(label["name"], label["color"]) for label in pull.get("labels") or []]
            user = (pull.get("user") or {}).get("login")
            items[number] = make_pull_request(
                repo.full_name, number, merged=bool(pull.get("merged_at")), title=pull["title"],
                state=pull["state"], labels=labels, user=user, body=pull.get("body"),
                created_at=pull["created_at"], updated_at=pull["updated_at"],
            )  # fmt: skip
    found = []
    for number, item in items.items():
        pulled = pulls.get(number)
        extra: dict[str, Any] = {"_reviewed": number in repo.reviewed}
        if pulled is not None:
            extra |= {
                "draft": bool(pulled.get("draft")),
                "_pull": True,
                "_requested_reviewers": pulled.get("requested_reviewers"),
            }
        found.append({**item, **extra})
    return found


class FakeGitHub:
    """GitHub's issues, pulls and commits lists on 127.0.0.1, with switches for the failure modes
    the app must survive."""

    def __init__(self, token: str | None = None) -> None:
        self.token = token
        self.url = ""
        self.requests: list[RecordedRequest] = []
        self.rate_limited = False
        # 403 or 429: refuse every request with GitHub's secondary rate limit answer, with
        # Retry-After (seconds) when ``secondary_retry_after`` is set; GitHub leaves it out at times.
        self.secondary_limit: int | None = None
        self.secondary_retry_after: int | str | None = None
        self.search_rate_limited = False  # the search's own quota (30 a minute) is spent
        # With it, the search's refusal carries Retry-After (seconds), as GitHub's secondary limit does.
        self.search_retry_after: int | None = None
        # Count searches against 30 a minute with a token, 10 without (off: many tests search more).
        self.search_quota = False
        self.search_used = 0
        self.search_reset = int(time.time()) + 60
        self.latency = 0.0
        # How the fake waits out ``latency`` (and a trickled body's pauses): a test of the fake
        # itself swaps it to see the wait without sitting through it.
        self.pause: Callable[[float], None] = time.sleep
        self.clock_offset = 0.0  # seconds GitHub's clock (its Date header) is ahead of ours
        self.fail_next = 0
        self.rate_limit_reset = int(time.time()) + 3600
        # Lists with strong ETags too: github.com's usual answers carry weak ones (W/"..."), but the
        # uncompressed recordings in octokit/fixtures (paginate-issues) have strong ones.
        self.strong_etags = False
        self.compress = False  # gzip bodies for clients that accept it, as GitHub does
        self.login = "mona"  # whom GET /user reports for any accepted token
        # GET /user's X-OAuth-Scopes for a classic token; None: a fine-grained token, which sends none.
        self.scopes: str | None = "repo, read:org"
        self.max_in_flight = 0  # the most requests it was answering at the same time
        self._in_flight = 0
        self._answering = threading.Event()  # cleared by hold(): requests wait until release()
        self._answering.set()
        self._answered_before_hold = 0  # requests hold() still lets through
        self._repos: dict[str, _RepoData] = {}
        self._moved: dict[str, int] = {}  # the old full name (lower case) of a renamed repository: its id
        # Pages already answered, by (data version, path, query): sorting and slicing thousands
        # of items per request would make the fake, not the app, the slow part of a benchmark.
        self._routed: dict[tuple[int, str, tuple[tuple[str, str], ...]], _Reply] = {}
        self._version = 0
        self._used = 0
        self._lock = threading.Lock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle --------------------------------------------------------------------------

    def start(self) -> None:
        """Bind a free port (port 0) so parallel test runs never collide."""
        if self._server is not None:
            return
        server = _Server(("127.0.0.1", 0), _Handler)
        server.fake = self
        self._server = server
        self.url = f"http://127.0.0.1:{server.server_address[1]}"
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-github", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        if self._server is None:
            return
        self._answering.set()  # requests held back end now
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> FakeGitHub:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def hold(self, after: int = 0) -> None:
        """Stall: requests arrive but get no answer until :meth:`release` (or 60 s pass); the
        next ``after`` requests are still answered (a fetch's first page, say)."""
        with self._lock:
            self._answered_before_hold = after
            self._answering.clear()

    def release(self) -> None:
        with self._lock:
            self._answered_before_hold = 0
            self._answering.set()

    @property
    def in_flight(self) -> int:
        """Requests that have arrived and are not answered yet (held, or waiting out ``latency``):
        something to wait on instead of a time long enough for them."""
        with self._lock:
            return self._in_flight

    # -- data -------------------------------------------------------------------------------
    # Each add_* replaces one kind of data and makes the repository exist; the other kinds stay as
    # they were (empty lists for a new repository). Lookups ignore case like GitHub; the spelling of
    # the latest call is the one the repository endpoint reports.

    def add_repo(self, full_name: str, items: list[Any]) -> None:
        """Serve ``items`` (issues and pull requests, as the issues list shows them) for ``full_name``."""
        issues = copy.deepcopy(items)
        self._update(full_name, lambda _: {"issues": issues})

    def add_pulls(self, full_name: str, pulls: list[dict[str, Any]]) -> None:
        """Serve ``pulls`` (see :func:`make_pull`) from ``GET /repos/{full_name}/pulls``."""
        served = copy.deepcopy(pulls)
        self._update(full_name, lambda _: {"pulls": served})

    def add_commits(
        self,
        full_name: str,
        commits: list[dict[str, Any]],
        branch: str = DEFAULT_BRANCH,
    ) -> None:
        """Make ``commits`` (see :func:`make_commit`) the history of ``branch``; served newest first."""
        history = copy.deepcopy(commits)
        self._update(full_name, lambda known: {"branches": {**known.branches, branch: history}})

    def review(self, full_name: str, number: int, login: str) -> None:
        """``login`` reviews pull request ``number`` as on GitHub: they leave its
        ``requested_reviewers`` (the list carries no reviews), it is updated now, and the search's
        ``review:none`` no longer finds it."""

        def reviewed(known: _RepoData) -> dict[str, Any]:
            pulls = copy.deepcopy(known.pulls)
            for pull in pulls:
                if pull["number"] == number:
                    pull["requested_reviewers"] = [u for u in pull["requested_reviewers"] if u["login"] != login]
                    pull["updated_at"] = github_now()
            reviews = known.reviews.get(number, [])
            review = make_review(full_name, number, len(reviews) + 1, user=login, submitted_at=github_now())
            return {
                "pulls": pulls,
                "reviewed": known.reviewed | {number},
                "reviews": {**known.reviews, number: [*reviews, review]},
            }

        self._update(full_name, reviewed)

    def add_comments(self, full_name: str, number: int, comments: list[dict[str, Any]]) -> None:
        """Serve ``comments`` (see :func:`make_comment`, oldest first) as issue or pull request
        ``number``'s conversation; its ``comments`` count follows."""
        served = copy.deepcopy(comments)
        self._update(full_name, lambda known: {"comments": {**known.comments, number: served}})

    def add_reviews(self, full_name: str, number: int, reviews: list[dict[str, Any]]) -> None:
        """Serve ``reviews`` (see :func:`make_review`, oldest first) for pull request ``number``."""
        served = copy.deepcopy(reviews)
        self._update(full_name, lambda known: {"reviews": {**known.reviews, number: served}})

    def delete_issue(self, full_name: str, number: int) -> None:
        """Delete issue ``number`` as GitHub does: it leaves the lists and its URL answers 410."""

        def deleted(known: _RepoData) -> dict[str, Any]:
            kept = [item for item in known.issues if not (isinstance(item, dict) and item.get("number") == number)]
            return {"issues": kept, "deleted": known.deleted | {number}}

        self._update(full_name, deleted)

    def disable_issues(self, full_name: str) -> None:
        """Switch the repository's issues off: its issues list answers 410, as GitHub does."""
        self._update(full_name, lambda _: {"has_issues": False})

    def misbehave(self, full_name: str, **switches: Any) -> None:
        """Answer the repository's lists as a broken or hostile GitHub would (see :class:`Misbehaviour`);
        no switches: behave again."""
        misbehaviour = Misbehaviour(**switches)
        self._update(full_name, lambda _: {"misbehaviour": misbehaviour})

    def rename_repo(self, old: str, new: str) -> None:
        """Rename ``old`` to ``new`` as GitHub does: the repository keeps its id and data, and every
        request under the old name is answered 301 with its ``/repositories/{id}`` URL."""
        _check_repo_name(new)
        with self._lock:
            known = self._repos.pop(old.lower())
            self._repos[new.lower()] = replace(known, full_name=new)
            self._moved[old.lower()] = known.id
            self._moved.pop(new.lower(), None)
            self._version += 1
            self._routed.clear()

    def repo_id(self, full_name: str) -> int:
        """The id of ``full_name``, under its current or a former name."""
        with self._lock:
            known = self._repos.get(full_name.lower())
            return known.id if known else self._moved.get(full_name.lower(), repository_id(full_name))

    def requests_for(self, full_name: str, resource: str, since: int = 0) -> list[RecordedRequest]:
        """The requests (from ``requests[since]`` on) for one of the repository's lists: under its
        name, a former name, or its ``/repositories/{id}`` URL."""
        repo_id = self.repo_id(full_name)
        with self._lock:
            names = {full_name.lower()} | {old for old, moved in self._moved.items() if moved == repo_id}
        paths = {f"/repos/{name}/{resource}" for name in names} | {f"/repositories/{repo_id}/{resource}"}
        return [r for r in self.requests[since:] if r.path.lower() in paths]

    def _update(self, full_name: str, changes: Callable[[_RepoData], dict[str, Any]]) -> None:
        """Swap in a changed copy of the repository's data (a new, empty one if it is unknown)."""
        _check_repo_name(full_name)
        with self._lock:
            known = self._repos.get(full_name.lower())
            if known is None:
                taken = {repo.id for repo in self._repos.values()} | set(self._moved.values())
                new_id = repository_id(full_name)
                while new_id in taken:  # a new repository under a renamed one's old name
                    new_id += 1
                known = _RepoData(full_name, new_id)
            self._repos[full_name.lower()] = replace(known, full_name=full_name, **changes(known))
            self._version += 1
            self._routed.clear()

    # -- request handling (called from server threads) --------------------------------------

    def _respond(self, method: str, path: str, pairs: list[tuple[str, str]], headers: dict[str, str]) -> _Reply:
        """Decide the answer; order mirrors GitHub: auth, then rate limit, then routing."""
        with self._lock:
            if self.fail_next > 0:
                self.fail_next -= 1
                return _Reply(500, {"message": "Server Error"})
        accepted = (f"Bearer {self.token}", f"token {self.token}")  # githubkit sends "token"
        if self.token is not None and headers.get("authorization") not in accepted:
            return _Reply(401, BAD_CREDENTIALS)
        if method == "GET" and path == "/rate_limit":  # answers even when the quota is spent
            return self._rate_limit()
        if method == "GET" and path == "/user":
            return self._user(headers)
        if self.rate_limited or self._used >= RATE_LIMIT:  # a spent quota also locks you out
            return _Reply(403, RATE_LIMITED, quota_exhausted=True)
        if self.secondary_limit is not None:
            wait = {} if self.secondary_retry_after is None else {"Retry-After": str(self.secondary_retry_after)}
            return _Reply(self.secondary_limit, SECONDARY_RATE_LIMITED, headers=wait)
        if method == "GET" and path == "/search/issues":
            return self._search(dict(pairs), headers)
        if method == "GET" and (item := _ITEM.fullmatch(path)) is not None:
            return self._item(item, path, pairs)
        by_name, by_id = _ROUTE.fullmatch(path), _BY_ID.fullmatch(path)
        if method != "GET" or (by_name is None and by_id is None):
            return _Reply(404, NOT_FOUND)
        moved = None
        with self._lock:
            if by_name is not None:
                name, resource = f"{unquote(by_name[1])}/{unquote(by_name[2])}".lower(), by_name[3]
                repo = self._repos.get(name)
                moved = self._moved.get(name) if repo is None else None
            else:
                assert by_id is not None
                resource = by_id[2]
                repo = next((known for known in self._repos.values() if known.id == int(by_id[1])), None)
            routed = self._routed.get((self._version, path, tuple(pairs)))
        if routed is not None:
            return routed
        if moved is not None:
            return self._moved_permanently(moved, resource, pairs)
        if repo is None:
            docs = {"pulls": DOCS_LIST_PULLS, "commits": DOCS_LIST_COMMITS}.get(resource or "")
            return _error(404, "Not Found", docs) if docs else _Reply(404, NOT_FOUND)
        if repo.misbehaviour.redirect_to is not None and resource:
            location = f"{repo.misbehaviour.redirect_to}{path}" + (f"?{urlencode(pairs)}" if pairs else "")
            return _Reply(302, {"message": "Found", "url": location}, headers={"Location": location})
        query = dict(pairs)
        try:
            if resource == "issues":
                if not repo.has_issues:
                    return _error(410, ISSUES_DISABLED, DOCS_LIST_ISSUES)
                items = repo.issues if repo.misbehaviour.as_given else self._issues(query, repo.issues)
            elif resource == "pulls":
                items = self._pulls(query, repo.pulls)
            elif resource == "commits":
                items = self._commits(query, repo)
            else:
                return self._repository(repo)
        except _Refusal as refusal:
            return refusal.reply
        reply = self._page(repo, resource, pairs, items)
        with self._lock:
            self._routed[(self._version, path, tuple(pairs))] = reply
        return reply

    def _item(self, match: re.Match[str], path: str, pairs: list[tuple[str, str]]) -> _Reply:
        """One issue (``/issues/{n}``, pull requests too, as on GitHub), one pull request
        (``/pulls/{n}``), or the pages of its comments or reviews (oldest first, Link headers
        to ``/repositories/{id}/...``)."""
        owner, name, by_id, resource, digits, part = match.groups()
        number = int(digits)
        with self._lock:
            if by_id is None:
                full = f"{unquote(owner)}/{unquote(name)}".lower()
                repo, moved = self._repos.get(full), self._moved.get(full)
            else:
                repo = next((known for known in self._repos.values() if known.id == int(by_id)), None)
                moved = None
        rest = path.split(f"/{resource}/", 1)[1]
        if repo is None:
            return self._moved_permanently(moved, f"{resource}/{rest}", pairs) if moved else _Reply(404, NOT_FOUND)
        if resource == "issues" and not repo.has_issues:
            return _error(410, ISSUES_DISABLED, DOCS_GET_ISSUE)
        if resource == "issues" and number in repo.deleted:
            return _error(410, "This issue was deleted", DOCS_GET_ISSUE)
        pull = next((p for p in repo.pulls if p.get("number") == number), None)
        issue = next((i for i in _searchable(repo) if i.get("number") == number), None)
        found = pull if resource == "pulls" else issue
        if found is None:
            return _error(404, "Not Found", DOCS_GET_ISSUE if resource == "issues" else DOCS_GET_PULL)
        if part == "comments":
            return self._page(repo, f"{resource}/{number}/comments", pairs, repo.comments.get(number, []))
        if part == "reviews":
            return self._page(repo, f"pulls/{number}/reviews", pairs, repo.reviews.get(number, []))
        shown = {key: value for key, value in found.items() if not key.startswith("_")}
        if resource == "issues":
            shown["comments"] = len(repo.comments.get(number, [])) or shown.get("comments", 0)
        else:
            shown |= {"merged": bool(shown.get("merged_at")), "comments": len(repo.comments.get(number, []))}
        return _Reply(200, shown)

    def _moved_permanently(self, repo_id: int, resource: str | None, pairs: list[tuple[str, str]]) -> _Reply:
        """What GitHub answers under a renamed repository's old name (octokit/fixtures, rename-repository)."""
        location = f"{self.url}/repositories/{repo_id}" + (f"/{resource}" if resource else "")
        location += f"?{urlencode(pairs)}" if pairs else ""
        body = {"message": "Moved Permanently", "url": location, "documentation_url": DOCS_REDIRECTS}
        return _Reply(301, body, headers={"Location": location})

    # -- search (GET /search/issues: testkit/fake_search.py) -----------------------------------

    def _search(self, query: dict[str, str], headers: dict[str, str]) -> _Reply:
        """GET /search/issues as GitHub answers it (octokit/fixtures, search-issues): issue-shaped
        items with a ``score``, ``total_count`` and ``incomplete_results``, 100 a page at most,
        Link headers to the same search, no page past the first 1,000 results (422), its own rate
        limit (``X-RateLimit-Resource: search``), and GitHub's 422 for what it cannot search."""
        authenticated = "authorization" in headers
        limit = 30 if authenticated else 10
        with self._lock:
            now = time.time()
            if now >= self.search_reset:
                self.search_used, self.search_reset = 0, int(now) + 60
            spent = self.search_rate_limited or (self.search_quota and self.search_used >= limit)
            if not spent:
                self.search_used += 1
            used = min(self.search_used, limit)
        rate = {
            "x-ratelimit-limit": str(limit),
            "x-ratelimit-remaining": "0" if spent else str(limit - used),
            "x-ratelimit-reset": str(self.search_reset),
            "x-ratelimit-used": str(limit if spent else used),
            "x-ratelimit-resource": "search",
        }
        if spent:
            wait = {} if self.search_retry_after is None else {"Retry-After": str(self.search_retry_after)}
            if self.search_retry_after is not None:  # a secondary limit: Retry-After, quota not spent
                rate["x-ratelimit-remaining"] = str(limit - used)
            return _Reply(403, SEARCH_RATE_LIMITED, headers=wait, rate=rate)
        per_page = min(max(_int_param(query, "per_page", 30), 1), 100)
        page = max(_int_param(query, "page", 1), 1)
        if (page - 1) * per_page >= fake_search.SEARCH_CAP:
            return _Reply(422, {"message": fake_search.CAP_MESSAGE, "documentation_url": DOCS_SEARCH}, rate=rate)
        sort = query.get("sort")
        order = query.get("order", "desc")
        if (sort is not None and sort not in fake_search.SORTS) or order not in ("asc", "desc"):
            return _Reply(422, _invalid_search(f"The sort or order given is not valid: {sort} {order}"), rate=rate)
        with self._lock:
            repos = dict(self._repos)
        owners = {name.split("/")[0] for name in repos}
        login = self.login if authenticated else None
        try:
            scope, tests, words = fake_search.plan(query.get("q", ""), owners, set(repos), login)
        except fake_search.Unsearchable as refusal:
            return _Reply(422, _invalid_search(str(refusal)), rate=rate)
        searched = [repos[name] for name in sorted(repos) if scope is None or name in scope]
        hits = fake_search.found((item for repo in searched for item in _searchable(repo)), tests, words, sort, order)
        total = len(hits)
        shown = min(total, fake_search.SEARCH_CAP)
        last = max(1, -(-shown // per_page))
        items = [fake_search.result(item) for item in hits[(page - 1) * per_page : page * per_page]]

        def link(to: int) -> str:
            kept = [(k, v) for k, v in query.items() if k != "page"] + [("page", str(to))]
            return f"<{self.url}/search/issues?{urlencode(kept)}>"

        rels = []
        if page > 1:
            rels.append(f'{link(page - 1)}; rel="prev"')
        if page < last:
            rels += [f'{link(page + 1)}; rel="next"', f'{link(last)}; rel="last"']
        if page > 1:
            rels.append(f'{link(1)}; rel="first"')
        body = {"total_count": total, "incomplete_results": False, "items": items}
        return _Reply(200, body, headers={"Link": ", ".join(rels)} if rels else {}, rate=rate)

    def _rate_limit(self) -> _Reply:
        """GET /rate_limit: the quota left, without using any of it."""
        with self._lock:
            used = RATE_LIMIT if self.rate_limited else self._used
        core = {"limit": RATE_LIMIT, "used": used, "remaining": RATE_LIMIT - used, "reset": self.rate_limit_reset}
        search = {"limit": 30, "used": 0, "remaining": 30, "reset": int(time.time()) + 60}
        resources = {"core": {**core, "resource": "core"}, "search": {**search, "resource": "search"}}
        return _Reply(200, {"resources": resources, "rate": {**core, "resource": "core"}}, free=True)

    def _user(self, headers: dict[str, str]) -> _Reply:
        """GET /user: the token's user; a classic token's scopes in X-OAuth-Scopes, as on GitHub."""
        if "authorization" not in headers:
            return _Reply(401, REQUIRES_AUTHENTICATION)
        scopes = {} if self.scopes is None else {"X-OAuth-Scopes": self.scopes, "X-Accepted-OAuth-Scopes": ""}
        return _Reply(200, {**make_user(self.login), "name": "Mona Lisa", "type": "User"}, headers=scopes)

    def _repository(self, repo: _RepoData) -> _Reply:
        """One repository, with a strong ETag as GitHub gives single resources."""
        body = {
            **make_repository(repo.full_name),
            "id": repo.id,
            "has_issues": repo.has_issues,
            "open_issues_count": sum(item["state"] == "open" for item in repo.issues),
        }
        return _Reply(200, body, weak_etag=False)

    # Each lister validates its query and returns the full, ordered result; _page slices it.

    def _issues(self, query: dict[str, str], items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """``sort`` is created (default), updated or comments; ``direction`` defaults to desc."""
        rules = {"resource": "Issue", "docs": DOCS_LIST_ISSUES}
        state = _choice(query, "state", STATES, "open", **rules)
        sort = _choice(query, "sort", ISSUE_SORTS, "created", **rules)
        direction = _choice(query, "direction", ("asc", "desc"), "desc", **rules)
        chosen = [item for item in items if state == "all" or item["state"] == state]
        field = {"created": "created_at", "updated": "updated_at", "comments": "comments"}[sort]
        return sorted(chosen, key=lambda item: (item[field], item["number"]), reverse=direction == "desc")

    def _pulls(self, query: dict[str, str], pulls: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """``direction`` defaults to desc for ``sort=created`` and to asc otherwise, as on GitHub."""
        rules = {"resource": "PullRequest", "docs": DOCS_LIST_PULLS}
        state = _choice(query, "state", STATES, "open", **rules)
        sort = _choice(query, "sort", PULL_SORTS, "created", **rules)
        default_direction = "desc" if sort == "created" else "asc"
        direction = _choice(query, "direction", ("asc", "desc"), default_direction, **rules)
        stamp = "updated_at" if sort == "updated" else "created_at"
        chosen = [pull for pull in pulls if state == "all" or pull["state"] == state]
        return sorted(chosen, key=lambda pull: (pull[stamp], pull["number"]), reverse=direction == "desc")

    def _commits(self, query: dict[str, str], repo: _RepoData) -> list[dict[str, Any]]:
        """One branch's commits, newest first, filtered on the author date (both bounds inclusive)."""
        if not any(repo.branches.values()):
            raise _Refusal(_error(409, "Git Repository is empty.", DOCS_LIST_COMMITS))
        branch = query.get("sha") or DEFAULT_BRANCH
        commits = repo.branches.get(branch)
        if commits is None:
            raise _Refusal(_error(404, f"No commit found for SHA: {branch}", DOCS_LIST_COMMITS))
        since, until = _time_param(query, "since"), _time_param(query, "until")
        early, late = since or datetime.min.replace(tzinfo=UTC), until or datetime.max.replace(tzinfo=UTC)
        chosen = [commit for commit in commits if early <= _commit_time(commit) <= late]
        return sorted(chosen, key=_commit_time, reverse=True)  # stable: equal dates keep the stored order

    def _page(
        self, repo: _RepoData, resource: str, pairs: list[tuple[str, str]], items: list[dict[str, Any]]
    ) -> _Reply:
        """Slice out ``page`` like GitHub, with a Link header to the repository's ``/repositories/{id}``
        URL that keeps the query (prev, next, last, first, in GitHub's order)."""
        query = dict(pairs)
        per_page = min(max(_int_param(query, "per_page", 30), 1), 100)
        page = max(_int_param(query, "page", 1), 1)
        pages = max(1, -(-len(items) // per_page))
        wrong = repo.misbehaviour
        base = f"{wrong.link_to or self.url}/repositories/{repo.id}/{resource}"
        last: int | None = pages
        start = (page - 1) * per_page
        if wrong.endless:
            last, start = None, ((page - 1) % pages) * per_page
        elif wrong.last_page is not None:
            last = wrong.last_page

        def link(to: int) -> str:
            kept = [(k, v) for k, v in pairs if k != "page"] + [("page", str(to))]
            return f"<{base}?{urlencode(kept)}>"

        rels = []
        if page > 1:
            rels.append(f'{link(page - 1 if last is None else min(page - 1, last))}; rel="prev"')
        if last is None or page < last:
            rels.append(f'{link(page + 1)}; rel="next"')
        if last is not None and page < last:
            rels.append(f'{link(last)}; rel="last"')
        if page > 1:
            rels.append(f'{link(1)}; rel="first"')
        headers = {"Link": ", ".join(rels)} if rels else {}
        misbehaving = wrong if wrong != Misbehaviour() else None
        return _Reply(200, items[start : start + per_page], headers, misbehaviour=misbehaving)

    def _rate_headers(self, reply: _Reply) -> dict[str, str]:
        """Count the request against the quota; 304s are free, as on GitHub."""
        if reply.rate is not None:
            return reply.rate
        with self._lock:
            if reply.status != 304 and not reply.free:
                self._used = min(self._used + 1, RATE_LIMIT)
            used = RATE_LIMIT if reply.quota_exhausted else self._used
        return {
            "x-ratelimit-limit": str(RATE_LIMIT),
            "x-ratelimit-remaining": str(RATE_LIMIT - used),
            "x-ratelimit-reset": str(self.rate_limit_reset),
            "x-ratelimit-used": str(used),
            "x-ratelimit-resource": "core",
        }


class _Server(ThreadingHTTPServer):
    daemon_threads = True  # a stuck keep-alive connection must never block interpreter exit
    request_queue_size = 128  # the default backlog of 5 makes bursts of async requests stall ~1s
    fake: FakeGitHub


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like the real API; every reply sets Content-Length
    # Headers and body leave in separate writes; with Nagle's algorithm the body would wait for
    # the client's delayed ACK of the headers (up to 40 ms a request on Linux loopback).
    disable_nagle_algorithm = True
    server: _Server

    def date_time_string(self, timestamp: float | None = None) -> str:
        """The ``Date`` header by GitHub's clock, which need not agree with the server's (``clock_offset``)."""
        return super().date_time_string(time.time() + self.server.fake.clock_offset if timestamp is None else timestamp)

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet: test output should show the app's logs, not ours."""

    def handle(self) -> None:
        """A client that hangs up (at its deadline, or on a body over its limit) is no error here."""
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            super().handle()

    def _handle(self) -> None:
        fake = self.server.fake
        with fake._lock:  # whether hold() lets it through is settled as it counts as arrived
            fake._in_flight += 1
            fake.max_in_flight = max(fake.max_in_flight, fake._in_flight)
            let_through = fake._answered_before_hold > 0
            fake._answered_before_hold -= let_through
        try:
            self._answer(fake, let_through)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up on a body (too large, too slow)
        finally:
            with fake._lock:
                fake._in_flight -= 1

    def _answer(self, fake: FakeGitHub, let_through: bool) -> None:
        if not let_through:
            fake._answering.wait(timeout=60)
        if fake.latency > 0:
            fake.pause(fake.latency)
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)  # drain the body so the connection stays usable
        split = urlsplit(self.path)
        pairs = parse_qsl(split.query, keep_blank_values=True)
        headers = {key.lower(): value for key, value in self.headers.items()}
        reply = fake._respond(self.command, split.path, pairs, headers)

        body, digest = reply.encoded()
        out = {
            "Content-Type": "application/json; charset=utf-8",
            "x-github-api-version-selected": headers.get("x-github-api-version", DEFAULT_API_VERSION),
            "X-GitHub-Media-Type": "github.v3; format=json",
            **(reply.headers or {}),
        }
        if reply.status == 200:
            etag = f'W/"{digest}"' if reply.weak_etag and not fake.strong_etags else f'"{digest}"'
            out["ETag"] = etag
            out["Cache-Control"] = "private, max-age=60, s-maxage=60"
            out["Vary"] = "Accept, Authorization, Cookie, X-GitHub-OTP"
            # If-None-Match compares weakly (RFC 9110): W/"x" matches "x" and the other way round.
            wanted = {tag.strip().removeprefix("W/") for tag in headers.get("if-none-match", "").split(",")}
            if etag.removeprefix("W/") in wanted or "*" in wanted:
                reply, body = _Reply(304), b""
        out.update(fake._rate_headers(reply))

        wrong = reply.misbehaviour
        chunks: Iterable[bytes] = [body] if reply.status != 304 else []
        size, declared = len(body), reply.status != 304
        if reply.status != 304 and wrong is not None and wrong.body_bytes is not None:
            chunks, size = _padding(wrong.body_bytes, compressed=wrong.gzip_bomb)
            declared = wrong.declare_length
            if wrong.gzip_bomb:
                out["Content-Encoding"] = "gzip"
        elif reply.status != 304 and fake.compress and "gzip" in headers.get("accept-encoding", ""):
            packed = gzip.compress(body, mtime=0)
            chunks, size = [packed], len(packed)
            out["Content-Encoding"] = "gzip"
            out["Vary"] = out.get("Vary", "Accept") + ", Accept-Encoding"
        if wrong is not None and wrong.encoding is not None:
            out["Content-Encoding"] = wrong.encoding
        if declared:
            out["Content-Length"] = str(size)
        elif reply.status != 304:
            out["Transfer-Encoding"] = "chunked"

        with fake._lock:
            fake.requests.append(RecordedRequest(self.command, split.path, dict(pairs), headers, reply.status))
        self.send_response(reply.status)
        for key, value in out.items():
            self.send_header(key, value)
        self.end_headers()
        trickle = wrong.trickle if wrong is not None else None
        for chunk in chunks:
            pieces = [chunk[i : i + 1] for i in range(len(chunk))] if trickle else [chunk]
            for piece in pieces:
                self.wfile.write(piece if declared else f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
                if trickle:
                    fake.pause(trickle)
        if "Transfer-Encoding" in out:
            self.wfile.write(b"0\r\n\r\n")

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle


def _padding(size: int, *, compressed: bool) -> tuple[Iterator[bytes], int]:
    """A JSON list of ``size`` bytes ("[", spaces, "]") made 64 KiB at a time, and its length as
    sent; gzip-compressed (to about 1 KiB per MiB) if asked."""
    if compressed:
        packed = _gzip_bomb(size)
        return iter([packed]), len(packed)
    return _spaces(size), size


def _spaces(size: int) -> Iterator[bytes]:
    yield b"["
    left = size - 2
    while left > 0:
        yield b" " * min(left, 65536)
        left -= 65536
    yield b"]"


@functools.lru_cache(maxsize=4)
def _gzip_bomb(size: int) -> bytes:
    packer = zlib.compressobj(1, zlib.DEFLATED, 16 + zlib.MAX_WBITS)  # spaces compress well even at level 1
    return b"".join(packer.compress(chunk) for chunk in _spaces(size)) + packer.flush()
