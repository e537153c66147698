"""The official MCP conformance suite (``@modelcontextprotocol/conformance``) against the real server.

One test per scenario that applies to a server of our kind. The suite's other server scenarios
call fixture tools, resources and prompts of its own (``test_simple_text``, ``test://static-text``,
``test_prompt_with_arguments``, ...) that a real product does not ship: ``DOES_NOT_APPLY`` lists
them with the reason, and docs/testing.md has the table.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from testkit.fake_github import FakeGitHub
from tests.e2e.node_clients import package_bin, run_node
from tests.inprocess import AppServer, start_app

APPLIES = [
    "server-initialize",
    "ping",
    "tools-list",
    "resources-list",
    "resources-subscribe",
    "resources-unsubscribe",
    "prompts-list",
    "completion-complete",  # asks about a fixture prompt: answered with no values (our templates: test_completion)
    "server-sse-multiple-streams",
    "dns-rebinding-protection",
]

FIXTURE_TOOL = "calls a fixture tool of the suite's own"
DOES_NOT_APPLY = {
    "tools-call-simple-text": f"{FIXTURE_TOOL} (test_simple_text); it 'passes' on our 'Unknown tool' error",
    "tools-call-image": f"{FIXTURE_TOOL} (test_image_content)",
    "tools-call-audio": f"{FIXTURE_TOOL} (test_audio_content)",
    "tools-call-embedded-resource": f"{FIXTURE_TOOL} (test_embedded_resource)",
    "tools-call-mixed-content": f"{FIXTURE_TOOL} (test_multiple_content_types)",
    "tools-call-with-logging": f"{FIXTURE_TOOL} (test_tool_with_logging)",
    "tools-call-error": f"{FIXTURE_TOOL} (test_error_handling); it 'passes' on our 'Unknown tool' error",
    "tools-call-with-progress": f"{FIXTURE_TOOL} (test_tool_with_progress); our progress is tested in test_mcp_tool",
    "tools-call-sampling": f"{FIXTURE_TOOL} (test_sampling); issuebridge never asks the client to sample",
    "tools-call-elicitation": f"{FIXTURE_TOOL} (test_elicitation); issuebridge never elicits",
    "json-schema-2020-12": f"{FIXTURE_TOOL} (json_schema_2020_12_tool)",
    "elicitation-sep1034-defaults": f"{FIXTURE_TOOL} (test_elicitation_sep1034_defaults); issuebridge never elicits",
    "elicitation-sep1330-enums": f"{FIXTURE_TOOL} (test_elicitation_sep1330_enums); issuebridge never elicits",
    "server-sse-polling": f"{FIXTURE_TOOL} (test_reconnection, which closes its stream mid-call)",
    "resources-read-text": "reads the suite's fixture resource test://static-text",
    "resources-read-binary": "reads the suite's fixture resource test://static-binary",
    "resources-templates-read": "reads the suite's fixture template test://template/{id}/data",
    "prompts-get-simple": "gets the suite's fixture prompt test_simple_prompt; issuebridge has no prompts",
    "prompts-get-with-args": "gets the suite's fixture prompt test_prompt_with_arguments",
    "prompts-get-embedded-resource": "gets the suite's fixture prompt test_prompt_with_embedded_resource",
    "prompts-get-with-image": "gets the suite's fixture prompt test_prompt_with_image",
    "logging-set-level": "issuebridge sends no log notifications, so it declares no logging capability and "
    "answers logging/setLevel with 'Method not found', as the spec allows",
}


@pytest.fixture(scope="module")
def conformance_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:
    """One real server (SQLite, the fake GitHub) for every scenario: none of them writes a board."""
    workdir = tmp_path_factory.mktemp("conformance")
    with FakeGitHub() as fake:
        server = start_app({"GITHUB_API_URL": fake.url, "ISSUEBRIDGE_DB": str(workdir / "boards.db")})
        yield server
        server.stop()


def test_every_server_scenario_is_accounted_for(tmp_path: Path) -> None:
    """A new suite version with new scenarios fails here until each is run or explained."""
    listed = run_node([package_bin("conformance"), "list", "--server"], tmp_path)
    assert listed.returncode == 0, listed.stderr
    scenarios = {line.strip()[2:].split(" ")[0] for line in listed.stdout.splitlines() if line.strip().startswith("- ")}
    assert scenarios == set(APPLIES) | set(DOES_NOT_APPLY)
    assert not set(APPLIES) & set(DOES_NOT_APPLY)


@pytest.mark.parametrize("scenario", APPLIES)
def test_conformance_scenario(conformance_server: AppServer, tmp_path: Path, scenario: str) -> None:
    out = tmp_path / "results"
    url = f"{conformance_server.url}/mcp"
    run = run_node([package_bin("conformance"), "server", "--url", url, "--scenario", scenario, "-o", out], tmp_path)
    # The suite exits 0 even when a check fails: the verdict is in checks.json.
    assert run.returncode == 0, run.stdout + run.stderr
    (results,) = out.glob("*/checks.json")
    checks: list[dict[str, Any]] = json.loads(results.read_text())
    assert checks, run.stdout
    failed = [check for check in checks if check["status"] != "SUCCESS"]
    assert not failed, json.dumps(failed, indent=2) + "\n" + conformance_server.log[-3000:]
