"""Clients we did not write, against the real server and the fake GitHub: the TypeScript SDK's
``Client`` (tests/node/client.mjs) over both transports, and the MCP Inspector's CLI."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from issuebridge.mcp.server import INSTRUCTIONS
from testkit.fake_github import FakeGitHub, make_issue, make_pull_request
from tests.e2e.node_clients import NODE_DIR, VENV_BIN, package_bin, run_node
from tests.inprocess import AppServer, start_app

OWNER, NAME = "vercel", "next.js"
REPO = f"{OWNER}/{NAME}"


@pytest.fixture
def node_server(tmp_path: Path, fake_github: FakeGitHub) -> Iterator[AppServer]:
    """The real server on SQLite (these tests are about the clients, not the store)."""
    server = start_app({"GITHUB_API_URL": fake_github.url, "ISSUEBRIDGE_DB": str(tmp_path / "b.db")})
    yield server
    server.stop()


def seed(fake: FakeGitHub) -> tuple[list[int], list[int]]:
    """150 items over two pages, every fifth a pull request; returns (open issue numbers, pull request numbers)."""
    items: list[dict[str, Any]] = []
    for n in range(1, 151):
        if n % 5 == 0:
            items.append(make_pull_request(REPO, n, title=f"PR {n}"))
        else:
            items.append(make_issue(REPO, n, title=f"Issue {n}", state="closed" if n % 7 == 0 else "open"))
    fake.add_repo(REPO, items)
    issues = sorted((i["number"] for i in items if "pull_request" not in i and i["state"] == "open"), reverse=True)
    return issues, [i["number"] for i in items if "pull_request" in i]


def board(server: AppServer) -> dict[str, Any]:
    response = httpx.get(f"{server.url}/api/dashboard/issues", params={"repository": REPO})
    assert response.status_code == 200
    data: dict[str, Any] = response.json()
    return data


@pytest.mark.parametrize("transport", ["sse", "streamable-http"])
def test_typescript_sdk_client_fills_the_dashboard(
    node_server: AppServer, fake_github: FakeGitHub, tmp_path: Path, transport: str
) -> None:
    issues, pulls = seed(fake_github)
    run = run_node([VENV_BIN / "node", NODE_DIR / "client.mjs", node_server.url, transport, OWNER, NAME], tmp_path)
    assert run.returncode == 0, run.stderr + node_server.log[-3000:]
    summary = json.loads(run.stdout)

    assert summary["server"]["name"] == "issuebridge"
    assert summary["instructions"] == INSTRUCTIONS  # the server's instructions reach a TypeScript client
    assert "send_issues_to_dashboard" in summary["tools"] and "publish_to_dashboard" in summary["tools"]
    assert summary["isError"] is False, summary["text"]
    result = summary["structuredContent"]
    assert result["repository"] == REPO and result["issue_count"] == len(issues)
    assert result["pull_requests_skipped"] == len(pulls)  # all open, listed among the issues, left out
    assert summary["text"] == [f"Sent {len(issues)} open issues of {REPO} to the dashboard: {node_server.url}/"]
    pages = [(1, 2), (2, 2)]
    assert [(p["progress"], p["total"]) for p in summary["progressOnTheWire"]] == pages  # one per page, in order
    # The SDK's `onprogress` sees them in order, all but possibly the last (see client.mjs).
    told = [(p["progress"], p["total"]) for p in summary["progress"]]
    assert told and told == pages[: len(told)]

    shown = board(node_server)
    assert [issue["number"] for issue in shown["issues"]] == issues
    assert not {issue["number"] for issue in shown["issues"]} & set(pulls)  # no pull requests


def inspector(server: AppServer, home: Path, transport: str, *args: str) -> Any:
    path = {"http": "/mcp", "sse": "/sse"}[transport]
    cli: list[str | Path] = [
        package_bin("mcp-inspector"),
        "--cli",
        f"{server.url}{path}",
        "--transport",
        transport,
        *args,
    ]
    run = run_node(cli, home)
    assert run.returncode == 0, run.stdout + run.stderr + server.log[-3000:]
    return json.loads(run.stdout)


def test_inspector_cli_lists_the_tools(node_server: AppServer, tmp_path: Path) -> None:
    listed = inspector(node_server, tmp_path, "http", "--method", "tools/list")
    tools = {tool["name"]: tool for tool in listed["tools"]}
    assert set(tools) >= {"send_issues_to_dashboard", "publish_to_dashboard", "get_dashboard", "clear_dashboard"}
    schema = tools["send_issues_to_dashboard"]["inputSchema"]
    assert schema["required"] == ["owner", "repo"] and schema["properties"]["state"]["default"] == "open"
    assert "issue_count" in tools["send_issues_to_dashboard"]["outputSchema"]["properties"]


@pytest.mark.parametrize("transport", ["http", "sse"])
def test_inspector_cli_calls_the_tool(
    node_server: AppServer, fake_github: FakeGitHub, tmp_path: Path, transport: str
) -> None:
    issues, pulls = seed(fake_github)
    called = inspector(
        node_server,
        tmp_path,
        transport,
        *("--method", "tools/call", "--tool-name", "send_issues_to_dashboard"),
        *("--tool-arg", f"owner={OWNER}", "--tool-arg", f"repo={NAME}"),
    )
    assert called["isError"] is False, called
    assert called["structuredContent"]["issue_count"] == len(issues)
    assert called["content"][0]["text"].startswith(f"Sent {len(issues)} open issues of {REPO}")
    shown = board(node_server)
    assert [issue["number"] for issue in shown["issues"]] == issues
    assert not {issue["number"] for issue in shown["issues"]} & set(pulls)
