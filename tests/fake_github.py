"""A fake GitHub REST API, served over real HTTP on 127.0.0.1, for tests.

Tests point ``githubkit`` at :attr:`FakeGitHub.url` instead of api.github.com, so the
app's real HTTP client, pagination, conditional requests and error handling run end to
end without the network. The server uses only the stdlib and runs in a daemon thread,
so it works the same from sync and async tests.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import re
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit

API = "https://api.github.com"
WEB = "https://github.com"
RATE_LIMIT = 5000
DEFAULT_API_VERSION = "2022-11-28"
DOCS_LIST_ISSUES = "https://docs.github.com/rest/issues/issues#list-repository-issues"
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
# Labels GitHub creates in every new repository; they carry "default": true.
DEFAULT_LABELS = frozenset(("bug", "documentation", "duplicate", "enhancement", "good first issue"))
DEFAULT_LABELS |= {"help wanted", "invalid", "question", "wontfix"}
_EPOCH = datetime(2024, 1, 1, tzinfo=UTC)


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


def _timestamp(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


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
    user: str = "octocat",
    assignees: list[str] | None = None,
    comments: int = 0,
    body: str | None = None,
    created_at: str | None = None,
    updated_at: str | None = None,
) -> dict[str, Any]:
    """One item exactly as ``GET /repos/{owner}/{repo}/issues`` returns it for an issue.

    Unset timestamps derive from ``number`` (created 2024-01-01 + number hours, updated
    30 minutes later) so pages are identical from run to run.
    """
    if state not in ("open", "closed"):
        raise ValueError(f"state must be 'open' or 'closed', not {state!r}")
    if repo.count("/") != 1:
        raise ValueError(f"repo must look like 'owner/name', not {repo!r}")
    created = created_at or _timestamp(_EPOCH + timedelta(hours=number))
    updated = updated_at or _timestamp(
        datetime.strptime(created, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC) + timedelta(minutes=30)
    )
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
        "user": make_user(user),
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
        "author_association": "OWNER" if user.lower() == repo.split("/")[0].lower() else "NONE",
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


@dataclass
class _Reply:
    status: int
    body: Any = None
    headers: dict[str, str] | None = None
    quota_exhausted: bool = False


def _int_param(query: dict[str, str], name: str, default: int) -> int:
    """GitHub silently falls back to the default for unparsable numbers."""
    try:
        return int(query[name])
    except (KeyError, ValueError):
        return default


class FakeGitHub:
    """GitHub's issues API on 127.0.0.1 with switches for the failure modes the app must survive."""

    def __init__(self, token: str | None = None) -> None:
        self.token = token
        self.url = ""
        self.requests: list[RecordedRequest] = []
        self.rate_limited = False
        self.latency = 0.0
        self.fail_next = 0
        self.rate_limit_reset = int(time.time()) + 3600
        self._repos: dict[str, tuple[str, list[dict[str, Any]]]] = {}
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

    # -- data -------------------------------------------------------------------------------

    def add_repo(self, full_name: str, items: list[dict[str, Any]]) -> None:
        """Serve ``items`` for ``full_name`` (replacing earlier ones); lookups ignore case like GitHub."""
        if full_name.count("/") != 1:
            raise ValueError(f"full_name must look like 'owner/name', not {full_name!r}")
        with self._lock:
            self._repos[full_name.lower()] = (full_name, copy.deepcopy(items))

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
        if self.rate_limited or self._used >= RATE_LIMIT:  # a spent quota also locks you out
            return _Reply(403, RATE_LIMITED, quota_exhausted=True)
        match = re.fullmatch(r"/repos/([^/]+)/([^/]+?)(/issues)?/?", path)
        if method != "GET" or match is None:
            return _Reply(404, NOT_FOUND)
        with self._lock:
            repo = self._repos.get(f"{unquote(match[1])}/{unquote(match[2])}".lower())
        if repo is None:
            return _Reply(404, NOT_FOUND)
        full_name, items = repo
        if match[3] is None:
            return _Reply(
                200,
                {
                    "id": _stable_int("repo", full_name.lower()),
                    "name": full_name.split("/")[1],
                    "full_name": full_name,
                    "owner": {"login": full_name.split("/")[0]},
                    "private": False,
                    "html_url": f"{WEB}/{full_name}",
                    "url": f"{API}/repos/{full_name}",
                    "open_issues_count": sum(item["state"] == "open" for item in items),
                },
            )
        return self._list_issues(path, pairs, items)

    def _list_issues(self, path: str, pairs: list[tuple[str, str]], items: list[dict[str, Any]]) -> _Reply:
        """Filter, sort and paginate like GitHub, with a Link header that stays on the fake's host."""
        query = dict(pairs)
        state = query.get("state", "open")
        if state not in ("open", "closed", "all"):
            return _Reply(
                422,
                {
                    "message": "Validation Failed",
                    "errors": [{"resource": "Issue", "field": "state", "code": "invalid", "value": state}],
                    "documentation_url": DOCS_LIST_ISSUES,
                    "status": "422",
                },
            )
        per_page = min(max(_int_param(query, "per_page", 30), 1), 100)
        page = max(_int_param(query, "page", 1), 1)
        chosen = [item for item in items if state == "all" or item["state"] == state]
        chosen.sort(key=lambda item: (item["created_at"], item["number"]), reverse=True)
        last = max(1, -(-len(chosen) // per_page))

        def link(to: int) -> str:
            kept = [(k, v) for k, v in pairs if k != "page"] + [("page", str(to))]
            return f"<{self.url}{path}?{urlencode(kept)}>"

        rels = []
        if page > 1:
            rels.append(f'{link(min(page - 1, last))}; rel="prev"')
        if page < last:
            rels += [f'{link(page + 1)}; rel="next"', f'{link(last)}; rel="last"']
        if page > 1:
            rels.append(f'{link(1)}; rel="first"')
        headers = {"Link": ", ".join(rels)} if rels else {}
        return _Reply(200, chosen[(page - 1) * per_page : page * per_page], headers)

    def _rate_headers(self, reply: _Reply) -> dict[str, str]:
        """Count the request against the quota; 304s are free, as on GitHub."""
        with self._lock:
            if reply.status != 304:
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
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet: test output should show the app's logs, not ours."""

    def _handle(self) -> None:
        fake = self.server.fake
        if fake.latency > 0:
            time.sleep(fake.latency)
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)  # drain the body so the connection stays usable
        split = urlsplit(self.path)
        pairs = parse_qsl(split.query, keep_blank_values=True)
        headers = {key.lower(): value for key, value in self.headers.items()}
        reply = fake._respond(self.command, split.path, pairs, headers)

        body = b"" if reply.body is None else json.dumps(reply.body).encode()
        out = {
            "Content-Type": "application/json; charset=utf-8",
            "x-github-api-version-selected": headers.get("x-github-api-version", DEFAULT_API_VERSION),
            "X-GitHub-Media-Type": "github.v3; format=json",
            **(reply.headers or {}),
        }
        if reply.status == 200:
            out["ETag"] = f'W/"{hashlib.sha256(body).hexdigest()}"'
            out["Cache-Control"] = "private, max-age=60, s-maxage=60"
            out["Vary"] = "Accept, Authorization, Cookie, X-GitHub-OTP"
            wanted = {tag.strip().removeprefix("W/") for tag in headers.get("if-none-match", "").split(",")}
            if out["ETag"].removeprefix("W/") in wanted:
                reply, body = _Reply(304), b""
        out.update(fake._rate_headers(reply))

        with fake._lock:
            fake.requests.append(RecordedRequest(self.command, split.path, dict(pairs), headers, reply.status))
        self.send_response(reply.status)
        for key, value in out.items():
            self.send_header(key, value)
        if reply.status != 304:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle
