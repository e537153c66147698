"""``issuebridge push``: boards fetched from GitHub without an assistant.

Through a running server, the push calls the same MCP tools an assistant would (so open pages
update at once, and the server's token and limits apply); without one it builds the server's own
sync service over the store from the environment.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any, Literal, NamedTuple

import httpx
import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.dispatcher import ProgressFnT
from mcp_types import TextContent
from rich.console import Console

from issuebridge.boards import StateFilter, now
from issuebridge.cli import error
from issuebridge.cli.output import PageCallback, console, page_bars
from issuebridge.dashboard import Dashboard, JsonFormat
from issuebridge.events import EventHub
from issuebridge.github import GitHubError, GitHubSource, Progress
from issuebridge.settings import Settings, SettingsError
from issuebridge.store import StoreError, store_for
from issuebridge.sync import BoardQuery, BoardSync, commits_query, issues_query, pulls_query

Kind = Literal["issues", "pulls", "commits"]
TOOLS: dict[Kind, str] = {
    "issues": "send_issues_to_dashboard",
    "pulls": "send_pull_requests_to_dashboard",
    "commits": "send_commit_summary_to_dashboard",
}
NOUNS: dict[Kind, str] = {"issues": "issue", "pulls": "pull request", "commits": "commit"}
COUNTS: dict[Kind, str] = {"issues": "issue_count", "pulls": "pull_request_count", "commits": "commit_count"}
DEFAULT_DASHBOARD = "http://127.0.0.1:8000/"  # where `issuebridge serve` shows it by default


class PushFailed(Exception):
    """The push could not be done; the message says why and is safe to print (no token)."""


class Pushed(NamedTuple):
    board_id: str
    kind: Kind
    items: int
    changed: bool
    truncated: bool
    dashboard_url: str

    def line(self) -> str:
        noun = NOUNS[self.kind] + ("" if self.items == 1 else "s")
        what = "sent" if self.changed else "unchanged on GitHub, board kept"
        more = " (stopped at ISSUEBRIDGE_MAX_ITEMS; there are more)" if self.truncated else ""
        return f"{self.board_id}: {self.items} {noun}, {what}{more}: {self.dashboard_url}"


def push(repository: str, state: StateFilter, prs: bool, commits: bool, server: str | None, token: str | None) -> int:
    kinds: list[Kind] = ["issues"]
    kinds += ["pulls"] if prs else []
    kinds += ["commits"] if commits else []
    out, bars = console(), console(stderr=True)
    try:
        if server:
            where = f"through {server.rstrip('/')}"
            pushed = asyncio.run(_through_server(server.rstrip("/"), token, repository, kinds, state, bars))
        else:
            settings = Settings.from_env()
            where = f"directly into {'Redis' if settings.redis_url else settings.db_path}"
            pushed = asyncio.run(_direct(settings, repository, kinds, state, bars))
    except SettingsError as exc:
        error(str(exc))
        return 2
    except (PushFailed, GitHubError, StoreError) as exc:
        error(f"push of {repository} failed: {exc}")
        return 1
    out.print(f"Pushed {repository} {where}:", markup=False)
    for board in pushed:
        out.print(board.line(), markup=False, soft_wrap=True)
    return 0


def _query(kind: Kind, repository: str, state: StateFilter) -> BoardQuery[Any]:
    if kind == "issues":
        return issues_query(repository, state)
    if kind == "pulls":
        return pulls_query(repository, state)
    return commits_query(repository, None, now() - timedelta(days=30), None)  # the tool's default window


async def _direct(
    settings: Settings, repository: str, kinds: list[Kind], state: StateFilter, bars: Console
) -> list[Pushed]:
    """The server's own sync service (app.py builds it the same way), over the store, without pages."""
    store = store_for(settings)
    hub = EventHub(history_events=settings.event_history)
    dashboard = Dashboard(store, hub, {"json": JsonFormat()})
    boards = BoardSync(dashboard, GitHubSource.from_settings(settings))
    url = f"{settings.public_url}/" if settings.public_url else DEFAULT_DASHBOARD
    await store.open()
    pushed: list[Pushed] = []
    try:
        with page_bars(bars) as add:
            for kind in kinds:
                synced = await boards.sync(_query(kind, repository, state), _sync_progress(add(f"{kind} {repository}")))
                board = synced.board
                count = len(board.issues if kind == "issues" else board.pulls if kind == "pulls" else board.commits)
                pushed.append(Pushed(board.key, kind, count, synced.changed, board.truncated, url))
    finally:
        hub.close()
        await store.close()
    return pushed


async def _through_server(
    server: str, token: str | None, repository: str, kinds: list[Kind], state: StateFilter, bars: Console
) -> list[Pushed]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    await _check_server(server, headers, token is not None)
    owner, repo = repository.split("/")
    pushed: list[Pushed] = []
    try:
        async with (
            httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(30, read=300)) as http,
            Client(streamable_http_client(f"{server}/mcp", http_client=http)) as client,
        ):
            with page_bars(bars) as add:
                for kind in kinds:
                    progress = _mcp_progress(add(f"{kind} {repository}"))
                    arguments = {"owner": owner, "repo": repo, **({} if kind == "commits" else {"state": state})}
                    result = await client.call_tool(TOOLS[kind], arguments, progress_callback=progress)
                    text = " ".join(c.text for c in result.content if isinstance(c, TextContent))
                    if result.is_error or not result.structured_content:
                        raise PushFailed(text or f"the server's {TOOLS[kind]} failed")
                    data = result.structured_content
                    pushed.append(
                        Pushed(
                            str(data["board_id"]),
                            kind,
                            int(data[COUNTS[kind]]),
                            bool(data["changed"]),
                            bool(data["truncated"]),
                            str(data["dashboard_url"]),
                        )
                    )
    except PushFailed:
        raise
    except Exception as exc:  # the SDK wraps transport failures in exception groups
        raise PushFailed(f"the MCP call to {server}/mcp failed: {_innermost(exc)}") from None
    return pushed


async def _check_server(server: str, headers: dict[str, str], has_token: bool) -> None:
    """Reachable, and our token accepted: said plainly here rather than deep in an MCP stack trace."""
    try:
        async with httpx.AsyncClient(timeout=5) as http:
            await http.get(f"{server}/healthz")
            answer = await http.get(f"{server}/mcp", headers={**headers, "Accept": "text/event-stream"})
    except httpx.HTTPError as exc:
        raise PushFailed(f"cannot reach the server at {server} ({type(exc).__name__}); is it running?") from None
    if answer.status_code == 401:
        if has_token:
            raise PushFailed("the server refused the token (401): check --token or ISSUEBRIDGE_TOKEN")
        raise PushFailed("the server needs its token (401): pass --token or set ISSUEBRIDGE_TOKEN")


def _sync_progress(bar: PageCallback) -> Progress:
    async def progress(done: int, total: int | None, rows: list[Any]) -> None:
        bar(done, total)

    return progress


def _mcp_progress(bar: PageCallback) -> ProgressFnT:
    """MCP progress notifications (``page 3 of 12``, as the tools report them) to the bar."""

    async def report(progress: float, total: float | None, message: str | None) -> None:
        bar(int(progress), int(total) if total else None)

    return report


def _innermost(exc: BaseException) -> str:
    """The first leaf of an exception group, as ``Type: message``."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return f"{type(exc).__name__}: {exc}"
