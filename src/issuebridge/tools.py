"""The MCP tools an assistant calls to fetch, curate, publish and read back the dashboard."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
from collections.abc import Callable, Iterator
from typing import Annotated, Any, TypeVar

from jinja2 import Environment
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.subscriptions import InMemorySubscriptionBus
from mcp_types import CallToolResult, TextContent, ToolAnnotations
from pydantic import BaseModel, Field, ValidationError

from issuebridge import __version__
from issuebridge.apps import VIEW_URI, board_apps, register_board_views
from issuebridge.dashboard.entries import Dashboard
from issuebridge.dashboard.readback import read_back
from issuebridge.dashboard.sync import B, BoardSync, Synced
from issuebridge.github.errors import GitHubError
from issuebridge.live.announcer import Announcer
from issuebridge.progress import PROGRESS_EVERY, CallProgress
from issuebridge.records.base import (
    Entry,
    InvalidRepository,
    StateFilter,
    iso_utc,
    now,
    parse_repository,
    repository_name,
)
from issuebridge.records.commits import DEFAULT_WINDOW, commits_query, parse_since
from issuebridge.records.issues import issues_query
from issuebridge.records.kind import BoardQuery, DashboardView
from issuebridge.records.panels import PANEL_ID, Metric, Panel, PanelItem, panel_id_from_title, panel_key
from issuebridge.records.pulls import pulls_query
from issuebridge.resources import ResourceNotifier, register_resources
from issuebridge.settings import Settings
from issuebridge.store import StoreError
from issuebridge.web.mcp_sessions import McpSessions
from issuebridge.web.templating import environment

INSTRUCTIONS = """\
issuebridge puts GitHub data and your own analysis on a live web dashboard that the user keeps
open in a browser. The page updates by itself; give the user the dashboard URL from a result.

Workflow: fetch, curate, publish, read back.
1. Fetch: send_issues_to_dashboard, send_pull_requests_to_dashboard and
   send_commit_summary_to_dashboard put a repository's issues, pull requests or recent commits
   on the dashboard (one board of each kind per repository; a new call replaces it).
2. Curate and publish: when the user wants analysis rather than a mirror of GitHub (a triage
   summary, release notes, a health report), write it yourself and call publish_to_dashboard
   with markdown, key metrics and a table of items. Reuse the returned panel_id to update it.
3. Read back: get_dashboard tells you what the page shows, in order, so you can follow up on
   "the third issue on my dashboard". remove_from_dashboard and clear_dashboard tidy up.
"""

CHANGED = "False if GitHub had nothing new: the board was left as it was and the page only told so."
TRUNCATED = (
    "True if the sync stopped at the server's limit (ISSUEBRIDGE_MAX_ITEMS items from GitHub) with more to come."
)
UNREADABLE = "Items GitHub sent in a shape that could not be read, left out of the board."
RENAMED_FROM = "The name asked for, if GitHub said the repository was renamed: the board moved to the new name."
READS_GITHUB = ToolAnnotations(read_only_hint=False, destructive_hint=False, idempotent_hint=True, open_world_hint=True)


class IssuesSyncResult(BaseModel):
    """What an issues sync put on the dashboard."""

    board_id: str = Field(description="The board's id, for remove_from_dashboard.")
    repository: str = Field(description="The repository as owner/repo.")
    state: StateFilter = Field(description="Which issues the board shows: open, closed or all.")
    issue_count: int = Field(description="How many issues the board now shows.")
    pull_requests_skipped: int = Field(description="Pull requests GitHub listed among the issues, left out.")
    truncated: bool = Field(description=TRUNCATED)
    changed: bool = Field(description=CHANGED)
    dashboard_url: str = Field(description="Where the user sees the board.")
    last_updated: str = Field(description="When the board last changed (ISO 8601, UTC).")
    unreadable: int = Field(0, description=UNREADABLE)
    renamed_from: str | None = Field(None, description=RENAMED_FROM)


class PullsSyncResult(BaseModel):
    """What a pull-request sync put on the dashboard, and what needs attention."""

    board_id: str
    repository: str
    state: StateFilter
    pull_request_count: int
    drafts: list[int] = Field(description="Numbers of open draft pull requests.")
    without_reviewers: list[int] = Field(description="Open, ready pull requests nobody was asked to review.")
    oldest_open: list[int] = Field(description="The oldest open pull requests, oldest first.")
    truncated: bool = Field(description=TRUNCATED)
    changed: bool = Field(description=CHANGED)
    dashboard_url: str
    last_updated: str
    unreadable: int = Field(0, description=UNREADABLE)
    renamed_from: str | None = Field(None, description=RENAMED_FROM)


class AuthorCount(BaseModel):
    author: str
    commits: int


class CommitsSyncResult(BaseModel):
    """What a commit summary put on the dashboard."""

    board_id: str
    repository: str
    branch: str | None = Field(description="The branch, or null for the default branch.")
    since: str
    until: str | None
    commit_count: int
    active_days: int = Field(description="Days with at least one commit.")
    top_authors: list[AuthorCount]
    truncated: bool = Field(description=TRUNCATED)
    changed: bool = Field(description=CHANGED)
    dashboard_url: str
    last_updated: str
    unreadable: int = Field(0, description=UNREADABLE)
    renamed_from: str | None = Field(None, description=RENAMED_FROM)


class PublishResult(BaseModel):
    panel_id: str = Field(description="Pass this panel_id again to update the panel in place.")
    created: bool = Field(description="True if a new panel was made, false if one was updated.")
    dashboard_url: str
    last_updated: str


class RemoveResult(BaseModel):
    id: str
    removed: bool = Field(description="False if nothing on the dashboard had that id.")


class ClearResult(BaseModel):
    removed_count: int


def build_mcp_server(
    dashboard: Dashboard,
    announcer: Announcer,
    boards: BoardSync,
    settings: Settings,
    env: Environment | None = None,
    *,
    progress_every: float = PROGRESS_EVERY,
    sessions: McpSessions | None = None,
) -> MCPServer:
    """One MCP server, served by the app over both SSE and Streamable HTTP; ``boards`` fetches
    from GitHub (shared with the background refresher); ``env`` renders the MCP Apps views (the
    page's templates; a fresh environment if not given); ``progress_every`` seconds without a page
    from GitHub, a tool call reports that it is still waiting; ``sessions`` says when a session
    ends, so that its resource subscriptions go with it."""
    bus = InMemorySubscriptionBus()
    # MCP Apps: the board tools bind to a ui:// view of the board they update (apps.py); the
    # extension is handed to the server below, once they are declared.
    env = env or environment()
    apps = board_apps(env)

    def dashboard_url(ctx: Context) -> str:
        """ISSUEBRIDGE_PUBLIC_URL if set, else the host the client reached us on."""
        if settings.public_url:
            return f"{settings.public_url}/"
        host = (ctx.headers or {}).get("host")
        return f"http://{host}/" if host else "http://127.0.0.1:8000/"

    async def sync(ctx: Context, query: BoardQuery[B]) -> Synced[B]:
        """Sync ``query``'s board, reporting each page to the client as MCP progress, and while
        GitHub keeps it waiting, that it still is (see :class:`CallProgress`).

        A failure is shown on the page, next to the board it leaves untouched, and comes back
        to the client as a tool error saying what happened and what to do. The whole call ends
        within ``ISSUEBRIDGE_CALL_TIMEOUT`` (the sync's deadline), before MCP clients give up.
        """
        progress = CallProgress(ctx, query.repository, progress_every)
        waiting = asyncio.create_task(progress.keep_waiting())
        try:
            return await boards.sync(query, progress.page)
        except GitHubError as exc:
            raise ToolError(str(exc)) from None
        except StoreError as exc:
            raise ToolError(exc.about("the board")) from None
        finally:
            waiting.cancel()
            await asyncio.gather(waiting, return_exceptions=True)

    @apps.tool(resource_uri=VIEW_URI, title="Send issues to the dashboard", annotations=READS_GITHUB)
    @described
    async def send_issues_to_dashboard(
        owner: Annotated[str, Field(description="Repository owner (user or organisation), e.g. 'facebook'.")],
        repo: Annotated[str, Field(description="Repository name, e.g. 'react'.")],
        ctx: Context,
        state: Annotated[StateFilter, Field(description="Which issues: 'open' (default), 'closed' or 'all'.")] = "open",
    ) -> Annotated[CallToolResult, IssuesSyncResult]:
        """Fetch a GitHub repository's issues and show them on the user's live dashboard.

        Fetches every issue in the given state (all pages; pull requests are left out), replaces
        that repository's issues board, and updates every open dashboard page at once.
        Example: the user says "send the open issues of facebook/react to my dashboard" ->
        owner="facebook", repo="react", state="open".
        """
        repository = _repository(owner, repo)
        synced = await sync(ctx, issues_query(repository, state))
        board = synced.board
        result = IssuesSyncResult(
            board_id=board.key,
            repository=board.repository,
            state=board.state,
            issue_count=len(board.issues),
            pull_requests_skipped=synced.skipped,
            truncated=board.truncated,
            changed=synced.changed,
            dashboard_url=dashboard_url(ctx),
            last_updated=iso_utc(board.last_updated),
            unreadable=synced.unreadable,
            renamed_from=synced.renamed_from,
        )
        which = "" if state == "all" else f"{state} "
        shown = f"{_count(len(board.issues), which + 'issue')} of {board.repository}"
        text = f"Sent {shown} to the dashboard: " if synced.changed else unchanged_text(shown, board)
        return _result(text + result.dashboard_url + notes(synced, settings.max_items), result)

    @apps.tool(resource_uri=VIEW_URI, title="Send pull requests to the dashboard", annotations=READS_GITHUB)
    @described
    async def send_pull_requests_to_dashboard(
        owner: Annotated[str, Field(description="Repository owner, e.g. 'facebook'.")],
        repo: Annotated[str, Field(description="Repository name, e.g. 'react'.")],
        ctx: Context,
        state: Annotated[StateFilter, Field(description="'open' (default), 'closed' or 'all'.")] = "open",
    ) -> Annotated[CallToolResult, PullsSyncResult]:
        """Show a repository's pull requests on the dashboard, with what needs attention.

        The board lists number, title, author, draft status, labels, requested reviewers,
        head and base branches, age and last update, and sums up what needs a person: drafts,
        pull requests nobody was asked to review, and the oldest open ones. The result carries
        the same summary, so you can tell the user at once.
        Example: "which PRs in vercel/next.js need a reviewer?" -> owner="vercel", repo="next.js".
        """
        repository = _repository(owner, repo)
        synced = await sync(ctx, pulls_query(repository, state))
        stored = synced.board
        result = PullsSyncResult(
            board_id=stored.key,
            repository=stored.repository,
            state=state,
            pull_request_count=len(stored.pulls),
            drafts=[p.number for p in stored.drafts],
            without_reviewers=[p.number for p in stored.without_reviewers],
            oldest_open=[p.number for p in stored.oldest_open],
            truncated=stored.truncated,
            changed=synced.changed,
            dashboard_url=dashboard_url(ctx),
            last_updated=iso_utc(stored.last_updated),
            unreadable=synced.unreadable,
            renamed_from=synced.renamed_from,
        )
        shown = f"{_count(len(stored.pulls), 'pull request')} of {stored.repository}"
        waiting = f"({len(result.drafts)} drafts, {len(result.without_reviewers)} waiting for a reviewer)"
        text = f"Sent {shown} to the dashboard {waiting}: " if synced.changed else unchanged_text(shown, stored)
        return _result(text + result.dashboard_url + notes(synced, settings.max_items), result)

    @apps.tool(resource_uri=VIEW_URI, title="Send a commit timeline to the dashboard", annotations=READS_GITHUB)
    @described
    async def send_commit_summary_to_dashboard(
        owner: Annotated[str, Field(description="Repository owner, e.g. 'facebook'.")],
        repo: Annotated[str, Field(description="Repository name, e.g. 'react'.")],
        ctx: Context,
        branch: Annotated[str | None, Field(description="Branch name; the default branch if omitted.")] = None,
        since: Annotated[
            str | None,
            Field(description="ISO 8601 date or date-time (UTC if no offset); 30 days ago if omitted."),
        ] = None,
        until: Annotated[str | None, Field(description="ISO 8601 date or date-time; now if omitted.")] = None,
    ) -> Annotated[CallToolResult, CommitsSyncResult]:
        """Show a repository's recent commits on the dashboard as a timeline.

        Draws commits per day and the top authors, and lists the latest commits (first line of
        each message, linked). Example: "what happened on main in facebook/react this week?" ->
        owner="facebook", repo="react", branch="main", since="2026-11-18".
        """
        repository = _repository(owner, repo)
        try:
            start = parse_since(since, "since") or now() - DEFAULT_WINDOW
            end = parse_since(until, "until")
        except ValueError as exc:
            raise ToolError(str(exc)) from None
        if end is not None and end < start:
            raise ToolError("until must be later than since")
        chosen = branch.strip() if branch and branch.strip() else None
        synced = await sync(ctx, commits_query(repository, chosen, start, end))
        stored = synced.board
        result = CommitsSyncResult(
            board_id=stored.key,
            repository=stored.repository,
            branch=chosen,
            since=iso_utc(start),
            until=iso_utc(end) if end else None,
            commit_count=len(stored.commits),
            active_days=sum(1 for _, count in stored.per_day if count),
            top_authors=[AuthorCount(author=a, commits=n) for a, n in stored.top_authors],
            truncated=stored.truncated,
            changed=synced.changed,
            dashboard_url=dashboard_url(ctx),
            last_updated=iso_utc(stored.last_updated),
            unreadable=synced.unreadable,
            renamed_from=synced.renamed_from,
        )
        where = f" on {chosen}" if chosen else ""
        shown = f"a timeline of {_count(len(stored.commits), 'commit')}{where} in {stored.repository}"
        text = f"Sent {shown}: " if synced.changed else unchanged_text(shown, stored)
        return _result(text + result.dashboard_url + notes(synced, settings.max_items), result)

    @apps.tool(
        resource_uri=VIEW_URI,
        title="Publish a panel to the dashboard",
        annotations=ToolAnnotations(
            read_only_hint=False, destructive_hint=False, idempotent_hint=False, open_world_hint=False
        ),
    )
    @described
    async def publish_to_dashboard(
        title: Annotated[str, Field(description="The panel's heading, e.g. 'Triage: what to fix first'.")],
        summary_markdown: Annotated[
            str,
            Field(description="Your analysis in Markdown (headings, lists, tables, links). Raw HTML is shown as text."),
        ],
        ctx: Context,
        metrics: Annotated[
            list[Metric] | None,
            Field(description="Key numbers: [{label, value, trend?}] with trend 'up', 'down' or 'flat'."),
        ] = None,
        items: Annotated[
            list[PanelItem] | None,
            Field(description="A table of items: [{title, url?, note?, tags?}], e.g. issues you picked."),
        ] = None,
        panel_id: Annotated[
            str | None, Field(description="Update this existing panel in place; omit to create a new panel.")
        ] = None,
        repository: Annotated[
            str | None, Field(description="owner/repo: show the panel beside that repository's boards.")
        ] = None,
    ) -> Annotated[CallToolResult, PublishResult]:
        """Publish your own curated panel: analysis in markdown, key metrics, and a table of items.

        Use it to present what you concluded, not just raw data: e.g. after fetching issues,
        publish "Top 5 bugs to fix this week" with a metric per severity and the five issues as
        items. The result's panel_id updates the same panel later (e.g. after the user asks for
        changes): title and summary_markdown are replaced; metrics, items and repository are
        kept unless given (pass [] to empty them).
        Example: title="Release 19.1 readiness", summary_markdown="**3 blockers** ...",
        metrics=[{"label": "Blockers", "value": 3, "trend": "down"}], repository="facebook/react".
        """
        try:
            related = parse_repository(repository) if repository else None
        except InvalidRepository as exc:
            raise ToolError(str(exc)) from None
        existing = {entry.panel_id: entry for entry in await dashboard.panels()}
        if panel_id is not None:
            chosen = panel_id.strip()
            if not PANEL_ID.fullmatch(chosen):
                raise ToolError(
                    f"{panel_id!r} is not a panel id: use the panel_id a publish returned "
                    "(lower-case letters, digits and hyphens)"
                )
        else:
            chosen = _unused(panel_id_from_title(title), set(existing))
        # An update replaces the title and text; metrics, items and repository left out stay.
        previous = existing.get(chosen)
        try:
            panel = Panel(
                panel_id=chosen,
                title=title,
                summary_markdown=summary_markdown,
                metrics=metrics if metrics is not None else (previous.metrics if previous else []),
                items=items if items is not None else (previous.items if previous else []),
                repository=related or (previous.repository if previous else None),
                source="mcp",
                last_updated=now(),
            )
        except ValidationError as exc:
            raise ToolError(_validation_message(exc)) from None
        with _store_errors("the panel"):
            stored = await dashboard.put(panel)
        created = previous is None
        result = PublishResult(
            panel_id=chosen,
            created=created,
            dashboard_url=dashboard_url(ctx),
            last_updated=iso_utc(stored.last_updated),
        )
        verb = "Published" if created else "Updated"
        return _result(f"{verb} panel {chosen!r} on the dashboard: {result.dashboard_url}", result)

    mcp = MCPServer(
        name="issuebridge",
        title="issuebridge",
        version=__version__,
        instructions=INSTRUCTIONS,
        subscriptions=bus,
        extensions=[apps],
    )
    register_resources(mcp, dashboard)
    register_board_views(mcp, dashboard, env)
    notifier = ResourceNotifier(mcp, bus)
    announcer.listeners.append(notifier.changed)
    if sessions is not None:
        sessions.on_end.append(notifier.forget)

    @mcp.tool(
        title="Read the dashboard",
        annotations=ToolAnnotations(read_only_hint=True, open_world_hint=False),
    )
    @described
    async def get_dashboard(
        repository: Annotated[
            str | None, Field(description="owner/repo: only that repository's boards and panels.")
        ] = None,
    ) -> DashboardView:
        """What the dashboard shows now, in page order, compactly.

        Each entry lists its rows in the order the page shows them (position 1 first), so
        "the third issue on my dashboard" is position 3 of the issues board. Use it before
        answering questions about the dashboard, or to find an id for remove_from_dashboard.
        """
        try:
            related = parse_repository(repository) if repository else None
        except InvalidRepository as exc:
            raise ToolError(str(exc)) from None
        return await read_back(dashboard, related)

    @mcp.tool(
        title="Remove a board or panel",
        annotations=ToolAnnotations(
            read_only_hint=False, destructive_hint=True, idempotent_hint=True, open_world_hint=False
        ),
    )
    @described
    async def remove_from_dashboard(
        board_or_panel_id: Annotated[
            str,
            Field(description="An id from get_dashboard or a result: 'issues:owner/repo', 'panel:weekly-triage', ..."),
        ],
    ) -> RemoveResult:
        """Remove one board or panel from the dashboard (the page updates at once).

        Example: the user says "take the react pull requests off my dashboard" ->
        board_or_panel_id="pulls:facebook/react". get_dashboard lists every id.
        """
        key = board_or_panel_id.strip().lower()  # keys are lower-case, as GitHub names compare
        if ":" not in key:  # a bare panel id, as publish_to_dashboard returns it
            key = panel_key(key)
        with _store_errors("the removal"):
            return RemoveResult(id=key, removed=await dashboard.remove(key))

    @mcp.tool(
        title="Clear the dashboard",
        annotations=ToolAnnotations(
            read_only_hint=False, destructive_hint=True, idempotent_hint=True, open_world_hint=False
        ),
    )
    @described
    async def clear_dashboard() -> ClearResult:
        """Remove every board and panel from the dashboard. Ask the user before doing this.

        Example: "start my dashboard over" -> clear_dashboard(), then fetch what they ask for next.
        """
        with _store_errors("the clearing"):
            return ClearResult(removed_count=await dashboard.clear())

    return mcp


def notes(synced: Synced[Any], max_items: int) -> str:
    """What a result's text adds about the sync: a rename followed, a limit reached, items left out."""
    board = synced.board
    said = []
    if synced.renamed_from:
        said.append(f"{synced.renamed_from} is now {board.repository} on GitHub; the board moved with it")
    if board.truncated:
        said.append(f"stopped at the server's limit, ISSUEBRIDGE_MAX_ITEMS={max_items}; GitHub lists more")
    if synced.unreadable:
        were = "was" if synced.unreadable == 1 else "were"
        said.append(f"{_count(synced.unreadable, 'item')} GitHub sent could not be read and {were} left out")
    return f" ({'; '.join(said)})" if said else ""


def unchanged_text(shown: str, board: Entry) -> str:
    return f"No change on GitHub since {iso_utc(board.last_updated)}: the dashboard already shows {shown}: "


def _repository(owner: str, repo: str) -> str:
    try:
        return repository_name(owner.strip(), repo.strip())
    except InvalidRepository as exc:
        raise ToolError(str(exc)) from None


def _unused(base: str, taken: set[str]) -> str:
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}"[:64] in taken:
        n += 1
    return f"{base[: 63 - len(str(n))]}-{n}"


@contextlib.contextmanager
def _store_errors(subject: str) -> Iterator[None]:
    """A store that cannot be written (disk full, Redis away) is a tool error the model can tell
    the user about: why, and whether ``subject`` was saved."""
    try:
        yield
    except StoreError as exc:
        raise ToolError(exc.about(subject)) from None


ToolFunction = TypeVar("ToolFunction", bound=Callable[..., Any])


def described(tool: ToolFunction) -> ToolFunction:
    """Dedent the docstring the SDK sends as the tool's description: Python 3.11 keeps the source's
    indentation, and a model reading the description should not get eight spaces a line."""
    tool.__doc__ = inspect.cleandoc(tool.__doc__ or "")
    return tool


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _validation_message(exc: ValidationError) -> str:
    problems = "; ".join(
        f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors(include_url=False)
    )
    return f"The panel was not published: {problems}"


def _result(text: str, structured: BaseModel) -> CallToolResult:
    return CallToolResult(
        content=[TextContent(type="text", text=text)], structured_content=structured.model_dump(mode="json")
    )
