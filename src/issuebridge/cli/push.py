"""``issuebridge push``: boards fetched from GitHub without an assistant.

Through a running server, the push calls the same MCP tools an assistant would (so open pages
update at once, and the server's token and limits apply); without one it builds the server's own
sync service over the store from the environment.
"""

from __future__ import annotations

import asyncio
from typing import Any, Literal, NamedTuple

import httpx
import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.dispatcher import ProgressFnT
from mcp_types import TextContent
from rich.console import Console

from issuebridge.cli import print_error
from issuebridge.cli.output import PageCallback, console, page_bars
from issuebridge.github.client import GitHubSource
from issuebridge.github.errors import GitHubError
from issuebridge.github.paging import Progress
from issuebridge.records.base import StateFilter
from issuebridge.records.kind import BoardQuery, Kind, SyncTool
from issuebridge.records.registry import kind_named
from issuebridge.records.views import InvalidQuery, view_query
from issuebridge.services import core
from issuebridge.settings import Settings, SettingsError
from issuebridge.store import StoreError, store_for

PUSHED_KINDS = Literal["issues", "pulls", "commits"]  # the command's choices: issues, --prs, --commits
DEFAULT_DASHBOARD = "http://127.0.0.1:8000/"  # where `issuebridge serve` shows it by default


class PushFailed(Exception):
    """The push could not be done; the message says why and is safe to print (no token)."""


class Pushed(NamedTuple):
    board_id: str
    kind: str
    items: int
    changed: bool
    truncated: bool
    dashboard_url: str

    def line(self) -> str:
        noun = kind_named(self.kind).noun + ("" if self.items == 1 else "s")
        what = "sent" if self.changed else "unchanged on GitHub, board kept"
        # A board stops at ISSUEBRIDGE_MAX_ITEMS; a view also at GitHub's 1,000 results a search.
        more = " (stopped at a limit: ISSUEBRIDGE_MAX_ITEMS, or a search's 1,000 results; there are more)"
        more = more if self.truncated else ""
        return f"{self.board_id}: {self.items} {noun}, {what}{more}: {self.dashboard_url}"


def push(
    repository: str | None,
    state: StateFilter,
    prs: bool,
    commits: bool,
    server: str | None,
    token: str | None,
    *,
    search: str | None = None,
) -> int:
    """Push ``repository``'s boards (none if None) and, with ``search``, a view of that search."""
    kinds: list[PUSHED_KINDS] = ["issues"] if repository else []
    kinds += ["pulls"] if prs and repository else []
    kinds += ["commits"] if commits and repository else []
    what = " and ".join(part for part in (repository, repr(search) if search else None) if part)
    out, bars = console(), console(stderr=True)
    try:
        if search:
            view_query(search)  # checked before anything is fetched
        if server:
            where = f"through {server.rstrip('/')}"
            pushed = asyncio.run(
                _through_server(server.rstrip("/"), token, repository or "", kinds, state, bars, search)
            )
        else:
            settings = Settings.from_env()
            where = f"directly into {'Redis' if settings.redis_url else settings.db_path}"
            pushed = asyncio.run(_direct(settings, repository or "", kinds, state, bars, search))
    except SettingsError as exc:
        print_error(str(exc))
        return 2
    except (PushFailed, GitHubError, StoreError, InvalidQuery) as exc:
        print_error(f"push of {what} failed: {exc}")
        return 1
    out.print(f"Pushed {what} {where}:", markup=False)
    for board in pushed:
        out.print(board.line(), markup=False, soft_wrap=True)
    return 0


def _query(kind: Kind[Any], repository: str, state: StateFilter) -> BoardQuery[Any]:
    """The board as the kind's tool fetches it with no options but ``state``."""
    assert kind.repository_query is not None, f"{kind.name} boards are not fetched from GitHub"
    return kind.repository_query(repository, state)


def _tool(kind: Kind[Any]) -> SyncTool:
    assert kind.sync_tool is not None, f"no MCP tool fetches {kind.name} boards"
    return kind.sync_tool


async def _direct(
    settings: Settings,
    repository: str,
    kinds: list[PUSHED_KINDS],
    state: StateFilter,
    bars: Console,
    search: str | None = None,
) -> list[Pushed]:
    """The server's own sync service (``services.py``), over the store, without pages or MCP."""
    store = store_for(settings)
    parts = core(store, event_history=settings.event_history)
    boards = parts.board_sync(GitHubSource.from_settings(settings))
    url = f"{settings.public_url}/" if settings.public_url else DEFAULT_DASHBOARD
    await store.open()
    pushed: list[Pushed] = []
    try:
        with page_bars(bars) as add:
            for name in kinds:
                kind = kind_named(name)
                progress = _sync_progress(add(f"{name} {repository}"))
                synced = await boards.sync(_query(kind, repository, state), progress)
                board = synced.board
                count = kind.read_back(board).count
                pushed.append(Pushed(board.key, name, count, synced.changed, board.truncated, url))
            if search:
                viewed = await boards.sync(view_query(search), _sync_progress(add(f"search {search}")))
                view = viewed.board
                pushed.append(Pushed(view.key, "view", len(view.items), viewed.changed, view.truncated, url))
    finally:
        parts.hub.close()
        await store.close()
    return pushed


async def _through_server(
    server: str,
    token: str | None,
    repository: str,
    kinds: list[PUSHED_KINDS],
    state: StateFilter,
    bars: Console,
    search: str | None = None,
) -> list[Pushed]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    await _check_server(server, headers, token is not None)
    owner, _, repo = repository.partition("/")
    calls: list[tuple[str, str, str, dict[str, str], str]] = []
    for name in kinds:
        tool = _tool(kind_named(name))
        arguments = {"owner": owner, "repo": repo, **({"state": state} if tool.takes_state else {})}
        calls.append((name, f"{name} {repository}", tool.name, arguments, tool.count_field))
    if search:
        calls.append(("view", f"search {search}", "send_search_to_dashboard", {"query": search}, "item_count"))
    pushed: list[Pushed] = []
    try:
        async with (
            httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(30, read=300)) as http,
            Client(streamable_http_client(f"{server}/mcp", http_client=http)) as client,
        ):
            with page_bars(bars) as add:
                for kind_name, label, tool_name, arguments, count_field in calls:
                    progress = _mcp_progress(add(label))
                    result = await client.call_tool(tool_name, arguments, progress_callback=progress)
                    text = " ".join(c.text for c in result.content if isinstance(c, TextContent))
                    if result.is_error or not result.structured_content:
                        raise PushFailed(text or f"the server's {tool_name} failed")
                    data = result.structured_content
                    pushed.append(
                        Pushed(
                            str(data["board_id"]),
                            kind_name,
                            int(data[count_field]),
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
