"""The ``issuebridge`` command's pieces in-process: arguments, client configs, and the fake's account routes."""

from __future__ import annotations

import httpx
import pytest

from issuebridge.cli import build_parser
from issuebridge.cli.doctor import client_configs
from issuebridge.cli.push import Pushed
from testkit.fake_github import FakeGitHub


def test_push_arguments() -> None:
    args = build_parser().parse_args(["push", " octo/app ", "--prs", "--state", "all"])
    assert (args.repository, args.prs, args.commits, args.state) == ("octo/app", True, False, "all")
    with pytest.raises(SystemExit) as exited:
        build_parser().parse_args(["push", "octo/app/extra"])
    assert exited.value.code == 2


def test_client_configs_show_a_placeholder_never_a_token() -> None:
    open_server = client_configs("http://localhost:8000", has_token=False)
    assert '"issuebridge": {"url": "http://localhost:8000/mcp"}' in open_server
    assert "claude mcp add --transport http issuebridge http://localhost:8000/mcp\n" in open_server
    assert "Bearer" not in open_server
    guarded = client_configs("http://localhost:8000", has_token=True)
    assert '"headers": {"Authorization": "Bearer <ISSUEBRIDGE_TOKEN>"}' in guarded
    assert '--header "Authorization: Bearer <ISSUEBRIDGE_TOKEN>"' in guarded


def test_a_pushed_board_is_one_line() -> None:
    line = Pushed("pulls:octo/app", "pulls", 1, False, False, "http://127.0.0.1:8000/").line()
    assert line == "pulls:octo/app: 1 pull request, unchanged on GitHub, board kept: http://127.0.0.1:8000/"
    cut = Pushed("view:0123456789abcdef", "view", 1000, True, True, "http://127.0.0.1:8000/").line()
    assert cut == (
        "view:0123456789abcdef: 1000 results, sent (stopped at a limit: ISSUEBRIDGE_MAX_ITEMS, or a search's "
        "1,000 results; there are more): http://127.0.0.1:8000/"
    )


def test_fake_github_answers_user_and_rate_limit_like_github(fake_github: FakeGitHub) -> None:
    assert httpx.get(f"{fake_github.url}/user").status_code == 401  # "Requires authentication"
    user = httpx.get(f"{fake_github.url}/user", headers={"Authorization": "Bearer x"})
    assert user.json()["login"] == "mona" and user.headers["X-OAuth-Scopes"] == "repo, read:org"
    fake_github.scopes = None
    assert "X-OAuth-Scopes" not in httpx.get(f"{fake_github.url}/user", headers={"Authorization": "Bearer x"}).headers
    limits = httpx.get(f"{fake_github.url}/rate_limit").json()
    again = httpx.get(f"{fake_github.url}/rate_limit").json()
    assert limits["rate"] == limits["resources"]["core"] and limits["rate"]["limit"] == 5000
    assert again["rate"]["used"] == limits["rate"]["used"]  # asking costs nothing
