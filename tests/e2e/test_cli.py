"""The ``issuebridge`` command as a user runs it, against the fake GitHub and a real server.

The console script runs as a subprocess where the process is the point (``serve`` and its
signals, one push and one doctor run end to end, exit codes from the installed script); the
other runs call its entry point, :func:`issuebridge.cli.main`, in this process with the same
environment, working directory and output, which spares each the second of imports a new
interpreter costs.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from issuebridge.cli import main
from testkit.fake_github import FakeGitHub, make_commit, make_issue, make_pull, make_pull_request
from testkit.servers import clean_environment, free_port
from tests.inprocess import AppServer, start_app

REPO = "octo/app"
SCRIPT = str(Path(sys.executable).parent / "issuebridge")  # the installed console script
SERVER_TOKEN = "cli-server-secret"
GITHUB_TOKEN = "ghp_cli_github_secret"


def command_environment(env: dict[str, str]) -> dict[str, str]:
    """This process's environment with only ``env`` of the ISSUEBRIDGE_*/GITHUB_* variables, and wide output."""
    return clean_environment({"COLUMNS": "200", **env})


def run(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """The command with only ``env`` of the ISSUEBRIDGE_*/GITHUB_* variables, from ``cwd``."""
    return subprocess.run(
        [SCRIPT, *args], env=command_environment(env), cwd=cwd, capture_output=True, text=True, timeout=120
    )


@dataclass
class Ran:
    """What a run of the command left, as :class:`subprocess.CompletedProcess` has it."""

    returncode: int
    stdout: str
    stderr: str


Run = Callable[[list[str], dict[str, str], Path], Ran]


@pytest.fixture
def run_here(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Run:
    """:func:`run`, through the entry point in this process: the same environment (only ``env`` of
    the ISSUEBRIDGE_*/GITHUB_* variables), working directory and output streams."""

    def run_main(args: list[str], env: dict[str, str], cwd: Path) -> Ran:
        wanted = command_environment(env)
        with monkeypatch.context() as patched:
            for name in set(os.environ) - set(wanted):
                patched.delenv(name)
            for name, value in wanted.items():
                patched.setenv(name, value)
            patched.chdir(cwd)
            capsys.readouterr()
            try:
                code = main(args)
            except SystemExit as exited:  # argparse's usage errors, as the interpreter would exit
                code = 0 if exited.code is None else exited.code if isinstance(exited.code, int) else 1
            printed = capsys.readouterr()
        return Ran(code, printed.out, printed.err)

    return run_main


def seed(fake: FakeGitHub, issues: int = 3) -> None:
    """``issues`` issues and one pull request in the issues list, three pull requests, two recent commits."""
    items = [make_issue(REPO, n, title=f"Issue {n}") for n in range(1, issues + 1)]
    fake.add_repo(REPO, [*items, make_pull_request(REPO, issues + 1, title="A PR in the issues list")])
    fake.add_pulls(REPO, [make_pull(REPO, n, title=f"PR {n}") for n in (1, 2, 3)])
    recent = (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    fake.add_commits(REPO, [make_commit(REPO, n, date=recent) for n in (1, 2)])


def board(server: AppServer, kind: str = "issues") -> httpx.Response:
    return httpx.get(f"{server.url}/api/dashboard/issues", params={"repository": REPO}, timeout=10)


def test_push_through_a_running_server(
    server: AppServer, fake_github: FakeGitHub, server_env: dict[str, str], tmp_path: Path, run_here: Run
) -> None:
    seed(fake_github, issues=250)  # three pages of 100
    done = run(["push", REPO, "--server", server.url, "--prs", "--commits"], {}, tmp_path)
    assert done.returncode == 0, done.stderr
    assert f"Pushed {REPO} through {server.url}:" in done.stdout
    assert f"issues:{REPO}: 250 issues, sent: {server.url}/" in done.stdout
    assert f"pulls:{REPO}: 3 pull requests, sent" in done.stdout
    assert f"commits:{REPO}: 2 commits, sent" in done.stdout
    assert f"issues {REPO}" in done.stderr and "3/3 pages" in done.stderr  # the finished bar

    shown = board(server).json()
    assert len(shown["issues"]) == 250 and shown["source"] == "mcp"
    assert "A PR in the issues list" not in {issue["title"] for issue in shown["issues"]}
    health = httpx.get(f"{server.url}/healthz", timeout=10).json()
    assert health["entries"] == 3  # issues, pull requests, commits

    again = run_here(["push", REPO, "--server", server.url], {}, tmp_path)
    assert again.returncode == 0 and f"issues:{REPO}: 250 issues, unchanged on GitHub" in again.stdout


@pytest.mark.usefixtures("backend")  # the command writes the store itself, and the server reads it
def test_push_direct_is_what_the_server_later_shows(
    fake_github: FakeGitHub, server_env: dict[str, str], tmp_path: Path, run_here: Run
) -> None:
    seed(fake_github)
    done = run_here(["push", REPO, "--state", "all", "--prs"], server_env, tmp_path)
    assert done.returncode == 0, done.stderr
    assert f"issues:{REPO}: 3 issues, sent" in done.stdout and f"pulls:{REPO}: 3 pull requests" in done.stdout
    assert "directly into" in done.stdout
    server = start_app(server_env)
    try:
        shown = board(server).json()
        assert [issue["number"] for issue in shown["issues"]] == [3, 2, 1] and shown["state"] == "all"
    finally:
        server.stop()


def test_push_of_a_missing_repository_fails_cleanly(
    server: AppServer, fake_github: FakeGitHub, server_env: dict[str, str], tmp_path: Path, run_here: Run
) -> None:
    for args, env in ((["--server", server.url], {}), (["--direct"], server_env)):
        failed = run_here(["push", "octo/nowhere", *args], env, tmp_path)
        assert failed.returncode == 1, failed.stdout
        assert "issuebridge: push of octo/nowhere failed:" in failed.stderr
        assert "not found" in failed.stderr.lower() and "Traceback" not in failed.stderr


def test_push_refuses_a_name_github_could_not_have(tmp_path: Path) -> None:
    failed = run(["push", "octo_cat/app"], {}, tmp_path)
    assert failed.returncode == 2
    assert "is not a valid GitHub owner" in failed.stderr


def test_push_to_a_guarded_server_needs_its_token(
    fake_github: FakeGitHub, server_env: dict[str, str], tmp_path: Path, run_here: Run
) -> None:
    seed(fake_github)
    guarded = start_app({**server_env, "ISSUEBRIDGE_TOKEN": SERVER_TOKEN})
    try:
        missing = run_here(["push", REPO, "--server", guarded.url], {}, tmp_path)
        assert missing.returncode == 1 and "needs its token" in missing.stderr
        wrong = run_here(["push", REPO, "--server", guarded.url, "--token", "wrong-one"], {}, tmp_path)
        assert wrong.returncode == 1 and "refused the token" in wrong.stderr
        assert "wrong-one" not in wrong.stdout + wrong.stderr
        by_variables = {"ISSUEBRIDGE_SERVER": guarded.url, "ISSUEBRIDGE_TOKEN": SERVER_TOKEN}
        right = run_here(["push", REPO], by_variables, tmp_path)
        assert right.returncode == 0, right.stderr
        assert SERVER_TOKEN not in right.stdout + right.stderr
    finally:
        guarded.stop()


@pytest.fixture
def guarded_github() -> Iterator[FakeGitHub]:
    with FakeGitHub(token=GITHUB_TOKEN) as fake:
        yield fake


def test_doctor_all_ok_with_a_token(
    guarded_github: FakeGitHub, server: AppServer, store_env: dict[str, str], tmp_path: Path
) -> None:
    env = {**store_env, "GITHUB_API_URL": guarded_github.url, "GITHUB_TOKEN": GITHUB_TOKEN}
    env["ISSUEBRIDGE_TOKEN"] = SERVER_TOKEN
    done = run(["doctor", "--server", server.url], env, tmp_path)
    assert done.returncode == 0, done.stdout
    assert "fail" not in done.stdout
    assert "valid, for mona" in done.stdout and "repo, read:org" in done.stdout
    assert "5000 requests left this hour" in done.stdout.replace("4999", "5000")
    assert "entries, revision" in done.stdout or "not created yet" in done.stdout
    assert f"{server.url}: ok" in done.stdout
    assert f'"url": "{server.url}/mcp"' in done.stdout and "Bearer <ISSUEBRIDGE_TOKEN>" in done.stdout
    assert f"claude mcp add --transport http issuebridge {server.url}/mcp" in done.stdout
    assert GITHUB_TOKEN not in done.stdout + done.stderr and SERVER_TOKEN not in done.stdout + done.stderr


def test_doctor_says_what_is_wrong(guarded_github: FakeGitHub, tmp_path: Path, closed_port: int, run_here: Run) -> None:
    guarded_github.scopes = None  # a fine-grained token
    fine = run_here(["doctor"], {"GITHUB_API_URL": guarded_github.url, "GITHUB_TOKEN": GITHUB_TOKEN}, tmp_path)
    assert fine.returncode == 0 and "fine-grained token" in fine.stdout
    assert '"url": "http://localhost:8000/mcp"' in fine.stdout and "Bearer" not in fine.stdout

    wrong = run_here(["doctor"], {"GITHUB_API_URL": guarded_github.url, "GITHUB_TOKEN": "ghp_wrong"}, tmp_path)
    assert wrong.returncode == 1 and "GITHUB_TOKEN was refused (Bad credentials)" in wrong.stdout
    assert "ghp_wrong" not in wrong.stdout

    anonymous = run_here(["doctor"], {"GITHUB_API_URL": guarded_github.url}, tmp_path)
    assert "60 requests/hour" in anonymous.stdout

    unreachable = run_here(["doctor"], {"GITHUB_API_URL": f"http://127.0.0.1:{closed_port}"}, tmp_path)
    assert unreachable.returncode == 1 and "cannot reach http://127.0.0.1:" in unreachable.stdout

    bad = run_here(["doctor"], {"ISSUEBRIDGE_MAX_ITEMS": "abc"}, tmp_path)
    assert bad.returncode == 1 and "ISSUEBRIDGE_MAX_ITEMS must be a whole number" in bad.stdout


def test_serve_answers_healthz_and_stops_on_sigterm(fake_github: FakeGitHub, tmp_path: Path) -> None:
    port = free_port()
    env = clean_environment({"GITHUB_API_URL": fake_github.url, "ISSUEBRIDGE_DB": str(tmp_path / "serve.db")})
    process = subprocess.Popen(
        [SCRIPT, "serve", "--port", str(port)], env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, process.stdout.read() if process.stdout else ""
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "issuebridge serve did not answer /healthz"
                time.sleep(0.1)
        assert health.status_code == 200 and health.json()["store"] == "sqlite"
    finally:
        process.send_signal(signal.SIGTERM)
        # uvicorn shuts down gracefully, then re-raises the signal it caught (as plain uvicorn does).
        assert process.wait(15) in (0, -signal.SIGTERM)
    output = process.communicate()[0].decode()  # the rest of it, and the pipe closed
    assert "Finished server process" in output


def test_serve_refuses_what_cannot_work(tmp_path: Path) -> None:
    workers = run(["serve", "--workers", "2"], {}, tmp_path)
    assert workers.returncode == 2 and "--workers 2 needs ISSUEBRIDGE_REDIS_URL" in workers.stderr
    bad = run(["serve"], {"ISSUEBRIDGE_MAX_ITEMS": "abc"}, tmp_path)
    assert bad.returncode == 2
    assert bad.stderr.strip() == "issuebridge: ISSUEBRIDGE_MAX_ITEMS must be a whole number, got 'abc'"
    exposed = run(["serve", "--host", "0.0.0.0"], {}, tmp_path)
    assert exposed.returncode == 2 and "without ISSUEBRIDGE_TOKEN" in exposed.stderr
