"""``completion/complete`` for the resource templates' arguments, through the Python SDK's clients."""

from __future__ import annotations

import httpx
import pytest
from mcp_types import PromptReference, ResourceTemplateReference

from testkit.mcp_clients import ONE_TRANSPORT, TRANSPORTS
from tests.inprocess import AppServer

REPOSITORY = ResourceTemplateReference(uri="dashboard://boards/{owner}/{repo}")
PANEL = ResourceTemplateReference(uri="dashboard://panels/{panel_id}")


@pytest.mark.parametrize("transport", ONE_TRANSPORT)
async def test_template_arguments_complete_from_the_dashboard(server: AppServer, transport: str) -> None:
    async with httpx.AsyncClient(base_url=server.url) as http:
        for repository in ("facebook/react", "Facebook/jest", "vercel/next.js"):
            issue = {"number": 1, "title": "x", "state": "open"}
            response = await http.post("/api/dashboard/sync-issues", json={"repository": repository, "issues": [issue]})
            assert response.status_code == 200

    async with TRANSPORTS[transport](server.url) as client:
        assert client.server_capabilities is not None and client.server_capabilities.completions is not None
        for title in ("Weekly triage", "Release notes"):
            published = await client.call_tool("publish_to_dashboard", {"title": title, "summary_markdown": "x"})
            assert not published.is_error

        async def values(
            ref: ResourceTemplateReference | PromptReference, name: str, value: str, **context: str
        ) -> list[str]:
            result = await client.complete(ref, {"name": name, "value": value}, context or None)
            assert not result.completion.has_more
            assert result.completion.total in (None, len(result.completion.values))
            return result.completion.values

        assert await values(REPOSITORY, "owner", "") == ["facebook", "vercel"]
        assert await values(REPOSITORY, "owner", "FA") == ["facebook"]  # case-insensitive prefix
        assert await values(REPOSITORY, "repo", "", owner="facebook") == ["jest", "react"]
        assert await values(REPOSITORY, "repo", "n") == ["next.js"]  # no owner yet: every repository
        assert await values(PANEL, "panel_id", "") == ["release-notes", "weekly-triage"]
        assert await values(PANEL, "panel_id", "w") == ["weekly-triage"]
        assert await values(PANEL, "nothing", "") == []
        assert await values(PromptReference(name="any"), "arg", "") == []  # no prompts
