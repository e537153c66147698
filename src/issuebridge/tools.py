"""The MCP server: the tools an assistant calls to put GitHub data on the dashboard."""

from __future__ import annotations

from typing import Annotated

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import CallToolResult, TextContent, ToolAnnotations
from pydantic import BaseModel, Field

from issuebridge import __version__
from issuebridge.boards import InvalidRepository, StateFilter, repository_name
from issuebridge.dashboard import Dashboard
from issuebridge.github import GitHubError, GitHubSource
from issuebridge.settings import Settings

INSTRUCTIONS = """\
issuebridge puts GitHub data on a live web dashboard that the user keeps open in a browser.
Use send_issues_to_dashboard when the user asks to see, send, show or put a repository's issues
on their dashboard. The page updates by itself; tell the user the dashboard URL from the result.
"""


class IssuesSyncResult(BaseModel):
    """What a sync put on the dashboard."""

    repository: str = Field(description="The repository as owner/repo.")
    state: StateFilter = Field(description="Which issues the board shows: open, closed or all.")
    issue_count: int = Field(description="How many issues the board now shows.")
    pull_requests_skipped: int = Field(description="Pull requests GitHub listed among the issues, left out.")
    truncated: bool = Field(description="True if the repository had more issues than the server's limit.")
    dashboard_url: str = Field(description="Where the user sees the board.")
    last_updated: str = Field(description="When the board was written (ISO 8601, UTC).")


def build_mcp_server(dashboard: Dashboard, github: GitHubSource, settings: Settings) -> MCPServer:
    """One MCP server, served by the app over both SSE and Streamable HTTP."""
    mcp = MCPServer(name="issuebridge", title="issuebridge", version=__version__, instructions=INSTRUCTIONS)

    @mcp.tool(
        title="Send issues to the dashboard",
        annotations=ToolAnnotations(
            read_only_hint=False, destructive_hint=False, idempotent_hint=True, open_world_hint=True
        ),
    )
    async def send_issues_to_dashboard(
        owner: Annotated[str, Field(description="Repository owner (user or organisation), e.g. 'facebook'.")],
        repo: Annotated[str, Field(description="Repository name, e.g. 'react'.")],
        ctx: Context,
        state: Annotated[
            StateFilter, Field(description="Which issues: 'open' (default), 'closed' or 'all'.")
        ] = "open",
    ) -> Annotated[CallToolResult, IssuesSyncResult]:
        """Fetch a GitHub repository's issues and show them on the user's live dashboard.

        Fetches every issue in the given state (all pages; pull requests are left out), replaces
        that repository's board on the dashboard, and updates every open dashboard page at once.
        Example: the user says "send the open issues of facebook/react to my dashboard" ->
        owner="facebook", repo="react", state="open".
        """
        try:
            repository = repository_name(owner.strip(), repo.strip())
            fetched = await github.list_issues(owner.strip(), repo.strip(), state)
        except (InvalidRepository, GitHubError) as exc:
            raise ToolError(str(exc)) from None
        board = await dashboard.sync_issues(
            repository, fetched.issues, state=state, source="mcp", truncated=fetched.truncated
        )
        result = IssuesSyncResult(
            repository=board.repository,
            state=board.state,
            issue_count=len(board.issues),
            pull_requests_skipped=fetched.pull_requests_skipped,
            truncated=board.truncated,
            dashboard_url=_dashboard_url(settings, ctx),
            last_updated=board.last_updated.isoformat().replace("+00:00", "Z"),
        )
        return CallToolResult(
            content=[TextContent(type="text", text=_summary(result))],
            structured_content=result.model_dump(mode="json"),
        )

    return mcp


def _summary(result: IssuesSyncResult) -> str:
    which = "" if result.state == "all" else f"{result.state} "
    noun = "issue" if result.issue_count == 1 else "issues"
    text = f"Sent {result.issue_count} {which}{noun} of {result.repository} to the dashboard: "
    text += result.dashboard_url
    if result.truncated:
        text += f" (stopped at the server's limit of {result.issue_count} issues; there are more)"
    return text


def _dashboard_url(settings: Settings, ctx: Context) -> str:
    """ISSUEBRIDGE_PUBLIC_URL if set, else the host the client reached us on."""
    if settings.public_url:
        return f"{settings.public_url}/"
    host = (ctx.headers or {}).get("host")
    return f"http://{host}/" if host else "http://127.0.0.1:8000/"
