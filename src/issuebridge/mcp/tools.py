"""The MCP tools an assistant calls to fetch, curate, publish and read back the dashboard.

Each is a thin adapter: it parses its arguments, calls a service (``dashboard/``), and shapes
the answer (``results.py``). Every error a service raises (``errors.IssuebridgeError``) becomes a
tool error saying what happened, once, in :func:`refusing`.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
from collections.abc import Callable, Iterator
from typing import Annotated, Any, TypeVar

from mcp.server.apps import Apps
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import CallToolResult, TextContent, ToolAnnotations
from pydantic import Field

from issuebridge.dashboard.entries import Dashboard
from issuebridge.dashboard.panels import publish_panel
from issuebridge.dashboard.readback import read_back
from issuebridge.dashboard.sync import B, BoardSync, Synced
from issuebridge.errors import IssuebridgeError
from issuebridge.github.details import DetailsReader
from issuebridge.mcp.progress import CallProgress
from issuebridge.mcp.results import (
    AuthorCount,
    ClearResult,
    CommitsSyncResult,
    IssuesSyncResult,
    PublishResult,
    PullsSyncResult,
    RemoveResult,
    ViewSyncResult,
    count,
    notes,
    result,
    sync_outcome,
    unchanged_text,
)
from issuebridge.mcp.views import VIEW_URI
from issuebridge.records.base import GITHUB_INT_MAX, StateFilter, iso_utc, now, parse_repository, repository_name
from issuebridge.records.commits import DEFAULT_WINDOW, commits_query, parse_since
from issuebridge.records.details import MAX_COMMENTS, ItemDetails
from issuebridge.records.issues import issues_query
from issuebridge.records.kind import BoardQuery, DashboardView
from issuebridge.records.panels import Metric, PanelItem
from issuebridge.records.pulls import pulls_query
from issuebridge.records.registry import key_named
from issuebridge.records.views import SEARCH_CAP, view_query
from issuebridge.settings import Settings

READS_GITHUB = ToolAnnotations(read_only_hint=False, destructive_hint=False, idempotent_hint=True, open_world_hint=True)


def register_board_tools(
    apps: Apps, dashboard: Dashboard, boards: BoardSync, settings: Settings, *, progress_every: float
) -> None:
    """The tools that update a board or panel, each bound to the MCP Apps view that shows it.

    They are declared on ``apps``, the extension the server takes whole when it is built
    (``server.py``); ``boards`` fetches from GitHub; ``progress_every`` seconds without a page
    from GitHub, a call reports that it is still waiting.
    """

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
        synced = await sync(ctx, boards, progress_every, issues_query(repository, state))
        board = synced.board
        answer = IssuesSyncResult(
            board_id=board.key,
            repository=board.repository,
            state=board.state,
            issue_count=len(board.issues),
            pull_requests_skipped=synced.skipped,
            **sync_outcome(synced, dashboard_url(settings, ctx)),
        )
        which = "" if state == "all" else f"{state} "
        shown = f"{count(len(board.issues), which + 'issue')} of {board.repository}"
        text = f"Sent {shown} to the dashboard: " if synced.changed else unchanged_text(shown, board)
        return result(text + answer.dashboard_url + notes(synced, settings.max_items), answer)

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
        pull requests waiting for review (no review yet, and no person or team asked), and the
        oldest open ones. The result carries
        the same summary, so you can tell the user at once.
        Example: "which PRs in vercel/next.js need a reviewer?" -> owner="vercel", repo="next.js".
        """
        repository = _repository(owner, repo)
        synced = await sync(ctx, boards, progress_every, pulls_query(repository, state))
        stored = synced.board
        answer = PullsSyncResult(
            board_id=stored.key,
            repository=stored.repository,
            state=state,
            pull_request_count=len(stored.pulls),
            drafts=[p.number for p in stored.drafts],
            waiting_for_review=[p.number for p in stored.waiting_for_review],
            review_unknown=[p.number for p in stored.review_unknown],
            oldest_open=[p.number for p in stored.oldest_open],
            **sync_outcome(synced, dashboard_url(settings, ctx)),
        )
        shown = f"{count(len(stored.pulls), 'pull request')} of {stored.repository}"
        waiting = f"({len(answer.drafts)} drafts, {len(answer.waiting_for_review)} waiting for review)"
        text = f"Sent {shown} to the dashboard {waiting}: " if synced.changed else unchanged_text(shown, stored)
        return result(text + answer.dashboard_url + notes(synced, settings.max_items), answer)

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
        with refusing("the board"):
            start = parse_since(since, "since") or now() - DEFAULT_WINDOW
            end = parse_since(until, "until")
        if end is not None and end < start:
            raise ToolError("until must be later than since")
        chosen = branch.strip() if branch and branch.strip() else None
        synced = await sync(ctx, boards, progress_every, commits_query(repository, chosen, start, end))
        stored = synced.board
        answer = CommitsSyncResult(
            board_id=stored.key,
            repository=stored.repository,
            branch=chosen,
            since=iso_utc(start),
            until=iso_utc(end) if end else None,
            commit_count=len(stored.commits),
            active_days=sum(1 for _, count in stored.per_day if count),
            top_authors=[AuthorCount(author=a, commits=n) for a, n in stored.top_authors],
            **sync_outcome(synced, dashboard_url(settings, ctx)),
        )
        where = f" on {chosen}" if chosen else ""
        shown = f"a timeline of {count(len(stored.commits), 'commit')}{where} in {stored.repository}"
        text = f"Sent {shown}: " if synced.changed else unchanged_text(shown, stored)
        return result(text + answer.dashboard_url + notes(synced, settings.max_items), answer)

    @apps.tool(resource_uri=VIEW_URI, title="Send a GitHub search to the dashboard", annotations=READS_GITHUB)
    @described
    async def send_search_to_dashboard(
        query: Annotated[
            str,
            Field(description="A GitHub issue search (256 characters at most), e.g. 'is:open label:bug repo:o/r'."),
        ],
        ctx: Context,
        title: Annotated[str | None, Field(description="The view's heading; the query if omitted.")] = None,
    ) -> Annotated[CallToolResult, ViewSyncResult]:
        """Show the results of any GitHub issue search on the dashboard, as a view across repositories.

        Issues and pull requests together, each row with its repository, in GitHub's order (or
        the query's sort:). Qualifiers: repo:, org:, user:, is:open/closed/issue/pr/merged/draft,
        state:, label:, -label:, author:, assignee:, no:assignee, review-requested:, created:/
        updated:/closed: with > or <, and free words. Without is:issue or is:pr both are searched
        and merged, newest first. At most 1,000 results per search (GitHub's cap); @me needs
        GITHUB_TOKEN. The same query again updates its view; another query adds another view.
        Example: "PRs waiting for my review across vercel" -> query="is:pr is:open review-requested:@me org:vercel".
        """
        with refusing("the view"):
            board_query = view_query(query, title)
        synced = await sync(ctx, boards, progress_every, board_query)
        view = synced.board
        answer = ViewSyncResult(
            board_id=view.key,
            query=view.query,
            title=view.title,
            total_count=view.total_count,
            item_count=len(view.items),
            issue_count=view.issue_count,
            pull_request_count=view.pull_request_count,
            **sync_outcome(synced, dashboard_url(settings, ctx)),
        )
        shown = (
            f"a view of {count(len(view.items), 'result')} ({count(view.issue_count, 'issue')}, "
            f"{count(view.pull_request_count, 'pull request')}) for {view.query!r}"
        )
        text = f"Sent {shown} to the dashboard: " if synced.changed else unchanged_text(shown, view)
        said = []
        if view.truncated:
            said.append(
                f"GitHub found {view.total_count}; a search gives at most {SEARCH_CAP} results"
                f" and the server takes at most ISSUEBRIDGE_MAX_ITEMS={settings.max_items}"
            )
        if synced.unreadable:
            said.append(f"{count(synced.unreadable, 'result')} GitHub sent could not be read and were left out")
        return result(text + answer.dashboard_url + (f" ({'; '.join(said)})" if said else ""), answer)

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
        with refusing("the panel"):
            published = await publish_panel(
                dashboard,
                title=title,
                summary_markdown=summary_markdown,
                metrics=metrics,
                items=items,
                panel_id=panel_id,
                repository=repository,
            )
        panel = published.panel
        answer = PublishResult(
            panel_id=panel.panel_id,
            created=published.created,
            dashboard_url=dashboard_url(settings, ctx),
            last_updated=iso_utc(panel.last_updated),
        )
        verb = "Published" if published.created else "Updated"
        return result(f"{verb} panel {panel.panel_id!r} on the dashboard: {answer.dashboard_url}", answer)


def register_dashboard_tools(mcp: MCPServer, dashboard: Dashboard) -> None:
    """The tools that read the dashboard back or tidy it up."""

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
        It carries no bodies or comments: get_issue_details reads one item in full.
        """
        with refusing("the reading"):
            related = parse_repository(repository) if repository else None
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
        key = key_named(board_or_panel_id)
        with refusing("the removal"):
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
        with refusing("the clearing"):
            return ClearResult(removed_count=await dashboard.clear())


def register_reading_tools(mcp: MCPServer, reader: DetailsReader) -> None:
    """The tools that read GitHub for the assistant, without changing the dashboard."""

    @mcp.tool(
        title="Read an issue or pull request",
        annotations=ToolAnnotations(read_only_hint=True, open_world_hint=True),
    )
    @described
    async def get_issue_details(
        owner: Annotated[str, Field(description="Repository owner, e.g. 'facebook'.")],
        repo: Annotated[str, Field(description="Repository name, e.g. 'react'.")],
        number: Annotated[int, Field(description="The issue or pull request number.", ge=1, le=GITHUB_INT_MAX)],
        comments: Annotated[
            int,
            Field(
                description=f"How many of the latest comments to include, 0 to {MAX_COMMENTS}.", ge=0, le=MAX_COMMENTS
            ),
        ] = 5,
    ) -> Annotated[CallToolResult, ItemDetails]:
        """Read one issue or pull request in full: its body, its latest comments and, for a pull
        request, its branches, draft state, reviewers and review state.

        Use it to curate: read the issues the user selected (get_dashboard's `selected`) or the
        ones a board shows before you summarise them in publish_to_dashboard. Comments come oldest
        first, the latest `comments` of them. The answer is kept small: the body to 4,000 bytes,
        each comment to 1,500, the whole to 16,000 bytes (about 4,000 tokens; cut texts say
        body_trimmed). Invisible characters are removed from GitHub's text.
        Example: "what is facebook/react#31337 about?" -> owner="facebook", repo="react", number=31337.
        """
        repository = _repository(owner, repo)
        with refusing("the reading"):
            owner, repo = repository.split("/")
            details = await reader.read(owner, repo, number, comments)
        return CallToolResult(
            content=[TextContent(type="text", text=details.model_dump_json())],
            structured_content=details.model_dump(mode="json"),
        )


def dashboard_url(settings: Settings, ctx: Context) -> str:
    """ISSUEBRIDGE_PUBLIC_URL if set, else the host the client reached us on."""
    if settings.public_url:
        return f"{settings.public_url}/"
    host = (ctx.headers or {}).get("host")
    return f"http://{host}/" if host else "http://127.0.0.1:8000/"


async def sync(ctx: Context, boards: BoardSync, progress_every: float, query: BoardQuery[B]) -> Synced[B]:
    """Sync ``query``'s board, reporting each page to the client as MCP progress, and while
    GitHub keeps it waiting, that it still is (see :class:`CallProgress`).

    A failure is shown on the page, next to the board it leaves untouched, and comes back to the
    client as a tool error saying what happened and what to do. The whole call ends within
    ``ISSUEBRIDGE_CALL_TIMEOUT`` (the sync's deadline), before MCP clients give up.
    """
    progress = CallProgress(ctx, query.repository, progress_every)
    waiting = asyncio.create_task(progress.keep_waiting())
    try:
        with refusing("the board"):
            return await boards.sync(query, progress.page)
    finally:
        waiting.cancel()
        await asyncio.gather(waiting, return_exceptions=True)


@contextlib.contextmanager
def refusing(subject: str) -> Iterator[None]:
    """Every error a service raises, as a tool error the model can tell the user about: what
    happened, and, for a store that cannot be written (disk full, Redis away), whether
    ``subject`` ("the board", "the panel") was saved."""
    try:
        yield
    except IssuebridgeError as exc:
        raise ToolError(exc.about(subject)) from None


def _repository(owner: str, repo: str) -> str:
    with refusing("the board"):
        return repository_name(owner.strip(), repo.strip())


ToolFunction = TypeVar("ToolFunction", bound=Callable[..., Any])


def described(tool: ToolFunction) -> ToolFunction:
    """Dedent the docstring the SDK sends as the tool's description: Python 3.11 keeps the source's
    indentation, and a model reading the description should not get eight spaces a line."""
    tool.__doc__ = inspect.cleandoc(tool.__doc__ or "")
    return tool
