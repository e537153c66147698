"""POST /webhooks/github in-process: around the bearer token, under the rate limit, size limits, a
delivery whose write fails being tried again, payloads of the wrong shape, replays after a restart
and on another worker, and every recorded GitHub delivery."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from issuebridge.app import create_app
from issuebridge.dashboard.entries import Dashboard
from issuebridge.dashboard.push import push_issues
from issuebridge.dashboard.webhook_deliveries import WebhookDeliveries
from issuebridge.github.client import GitHubSource
from issuebridge.records.base import now
from issuebridge.records.issues import Issue, IssuesBoard, issues_key, issues_query
from issuebridge.records.pulls import PullRequest, PullsBoard, pulls_key
from issuebridge.records.registry import AnyEntry, entry_adapter
from issuebridge.records.tracked import BOOKKEEPING_FIELDS
from issuebridge.services import Core, core
from issuebridge.settings import Settings
from issuebridge.store import store_for
from issuebridge.web.github_webhook import webhook_routes
from testkit.fake_github import FakeGitHub, github_now, make_comment, make_issue, make_webhook, webhook_request

SECRET = "whsec-for-in-process-tests"
TOKEN = "api-token-for-tests"
REPO = "octo/app"
PUSH = {"repository": REPO, "issues": [{"number": 1, "title": "One", "state": "open"}], "state": "open"}


def app_client(tmp_path: Path, **settings: Any) -> TestClient:
    base = {"db_path": tmp_path / "b.db", "github_api_url": "http://127.0.0.1:9", "webhook_secret": SECRET}
    return TestClient(create_app(Settings(**{**base, **settings})), base_url="http://127.0.0.1:8000")


@pytest.fixture
def guarded(tmp_path: Path) -> Iterator[TestClient]:
    with app_client(tmp_path, api_token=TOKEN) as client:
        yield client


def opened(number: int) -> dict[str, Any]:
    """A new issue, opened after the board was pushed (as GitHub dates it)."""
    return make_webhook("issues", "opened", REPO, issue=make_issue(REPO, number, updated_at=github_now()))


def deliver(client: TestClient, event: str, payload: Any, delivery: str | None = None) -> Any:
    body, headers = webhook_request(SECRET, event, payload, delivery=delivery)
    return client.post("/webhooks/github", content=body, headers=headers)


def test_a_signed_webhook_needs_no_bearer_token_and_an_unsigned_one_is_refused(guarded: TestClient) -> None:
    bearer = {"Authorization": f"Bearer {TOKEN}"}
    assert guarded.post("/api/dashboard/sync-issues", json=PUSH, headers=bearer).status_code == 200
    applied = deliver(guarded, "issues", opened(2))
    assert applied.status_code == 200 and applied.json()["changed"] is True
    body, headers = webhook_request(None, "issues", opened(3))
    unsigned = guarded.post("/webhooks/github", content=body, headers=headers)
    assert unsigned.status_code == 401 and "X-Hub-Signature-256" in unsigned.json()["error"]
    # The bearer token does not stand in for the signature...
    assert guarded.post("/webhooks/github", content=body, headers={**headers, **bearer}).status_code == 401
    # ...and only the webhook route itself is open without a token.
    for path in ("/webhooks/github/", "/webhooks/githubx", "/webhooks/other"):
        refused = guarded.post(path, content=body, headers=headers)
        assert refused.status_code == 401 and "Bearer" in refused.json()["error"], path
    issues = guarded.get("/api/dashboard/issues", headers=bearer).json()["issues"]
    assert [issue["number"] for issue in issues] == [2, 1]


def test_webhooks_count_against_the_rate_limit(tmp_path: Path) -> None:
    with app_client(tmp_path, rate_limit="3/minute") as client:
        answers = [deliver(client, "ping", {"hook_id": 1}).status_code for _ in range(4)]
    assert answers == [200, 200, 200, 429]


def test_a_body_over_the_limit_is_refused_unread(tmp_path: Path) -> None:
    with app_client(tmp_path, max_body_bytes=1024) as client:
        big = opened(2) | {"padding": "x" * 2048}
        response = deliver(client, "issues", big)
    assert response.status_code == 413 and "1024 bytes" in response.json()["error"]


REFUSING = {  # SQLite itself refuses the board write and, in the second case, any undoing of a claim
    "the board write": ["CREATE TRIGGER refuse_board BEFORE UPDATE ON entries BEGIN SELECT RAISE(ABORT, 'no'); END"],
    "the write and any undoing": [
        "CREATE TRIGGER refuse_board BEFORE UPDATE ON entries BEGIN SELECT RAISE(ABORT, 'no'); END",
        "CREATE TRIGGER refuse_undoing BEFORE DELETE ON claims BEGIN SELECT RAISE(ABORT, 'no'); END",
    ],
}


@pytest.mark.parametrize("refused", list(REFUSING))
def test_a_delivery_whose_write_failed_is_applied_when_redelivered(tmp_path: Path, refused: str) -> None:
    """A delivery is recorded as applied only once its change is written: nothing of a failed one
    stays behind, even when the store would not let it be undone."""
    with app_client(tmp_path) as client:
        assert client.post("/api/dashboard/sync-issues", json=PUSH).status_code == 200
        with sqlite3.connect(tmp_path / "b.db") as raw:
            for statement in REFUSING[refused]:
                raw.execute(statement)
        failed = deliver(client, "issues", opened(2), delivery="delivery-1")
        assert failed.status_code == 503 and "redeliver" in failed.json()["error"]
        assert [i["number"] for i in client.get("/api/dashboard/issues").json()["issues"]] == [1]
        with sqlite3.connect(tmp_path / "b.db") as raw:
            for (trigger,) in raw.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall():
                raw.execute(f"DROP TRIGGER {trigger}")
        retried = deliver(client, "issues", opened(2), delivery="delivery-1")
        assert retried.status_code == 200 and retried.json()["changed"] is True
        assert [i["number"] for i in client.get("/api/dashboard/issues").json()["issues"]] == [2, 1]
        assert deliver(client, "issues", opened(2), delivery="delivery-1").json()["duplicate"] is True


def test_a_delivery_without_an_id_is_refused(tmp_path: Path) -> None:
    with app_client(tmp_path) as client:
        client.post("/api/dashboard/sync-issues", json=PUSH)
        body, headers = webhook_request(SECRET, "issues", opened(2))
        del headers["X-GitHub-Delivery"]
        response = client.post("/webhooks/github", content=body, headers=headers)
    assert response.status_code == 400 and "X-GitHub-Delivery" in response.json()["error"]


def test_a_payload_of_another_event_is_refused_and_changes_nothing(tmp_path: Path) -> None:
    """X-GitHub-Event is not signed: a captured comment deletion re-sent as an issues event."""
    with app_client(tmp_path) as client:
        assert client.post("/api/dashboard/sync-issues", json=PUSH).status_code == 200
        comment_deleted = make_webhook(
            "issue_comment", "deleted", REPO, issue=make_issue(REPO, 1), comment=make_comment(REPO, 1, 7)
        )
        relabelled = deliver(client, "issues", comment_deleted, delivery="delivery-1")
        assert relabelled.status_code == 422 and "carries 'comment'" in relabelled.json()["error"]
        issue_deleted = make_webhook("issues", "deleted", REPO, issue=make_issue(REPO, 1))
        as_comment = deliver(client, "issue_comment", issue_deleted)
        assert as_comment.status_code == 422 and "no comment object" in as_comment.json()["error"]
        board = client.get("/api/dashboard/issues").json()
        assert [i["number"] for i in board["issues"]] == [1] and board["revision"] == 1
        # The comment event as GitHub labels it (the refusal claimed no delivery id) updates the issue
        # and never deletes it.
        assert deliver(client, "issue_comment", comment_deleted, delivery="delivery-1").json()["changed"] is True
        assert [i["number"] for i in client.get("/api/dashboard/issues").json()["issues"]] == [1]


def test_an_action_the_event_does_not_have_is_acknowledged_and_changes_nothing(tmp_path: Path) -> None:
    with app_client(tmp_path) as client:
        assert client.post("/api/dashboard/sync-issues", json=PUSH).status_code == 200
        response = deliver(client, "issues", make_webhook("issues", "archived", REPO, issue=make_issue(REPO, 2)))
        assert response.status_code == 202 and "not an action GitHub documents" in response.json()["message"]
        assert client.get("/api/dashboard/issues").json()["revision"] == 1


# -- the route over a real store in the test's own event loop ---------------------------------


@dataclass
class Worker:
    """One server's webhook route and dashboard, as far as webhooks go."""

    parts: Core
    http: httpx.AsyncClient

    @property
    def dashboard(self) -> Dashboard:
        return self.parts.dashboard

    async def deliver(self, event: str, payload: Any = None, *, body: bytes | None = None) -> httpx.Response:
        """A delivery signed as GitHub signs it, with a delivery id of its own (as a replay has)."""
        sent, headers = webhook_request(SECRET, event, payload, body=body)
        return await self.http.post("/webhooks/github", content=sent, headers=headers)

    async def numbers(self, key: str) -> list[int]:
        board = await self.dashboard.get(key)
        assert isinstance(board, IssuesBoard | PullsBoard)
        return [row.number for row in board.rows]


@contextlib.asynccontextmanager
async def worker(settings: Settings) -> AsyncIterator[Worker]:
    store = store_for(settings)
    await store.open()
    parts = core(store)
    app = Starlette(routes=webhook_routes(WebhookDeliveries(parts.dashboard, store), SECRET, settings.max_body_bytes))
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1") as http:
            yield Worker(parts, http)
    finally:
        await store.close()


def at(day: int) -> str:
    return f"2030-01-{day:02d}T00:00:00Z"


def open_board(*issues: tuple[int, str]) -> IssuesBoard:
    rows = [
        Issue(number=n, title=f"Issue {n}", state="open", updated_at=datetime.fromisoformat(when)) for n, when in issues
    ]
    return IssuesBoard(repository=REPO, state="open", source="mcp", issues=rows, last_updated=now())


REOPENED = make_webhook("issues", "reopened", REPO, issue=make_issue(REPO, 2, updated_at=at(2)))  # a captured body
CLOSED = make_webhook("issues", "closed", REPO, issue=make_issue(REPO, 2, state="closed", updated_at=at(3)))


@pytest.mark.usefixtures("backend")  # what the store remembers of deliveries across a restart
async def test_a_replayed_reopened_changes_nothing_after_a_restart(store_settings: dict[str, Any]) -> None:
    settings = Settings(**store_settings)
    async with worker(settings) as first:
        await first.dashboard.put(open_board((2, at(1)), (1, at(1))))
        assert (await first.deliver("issues", CLOSED)).json()["changed"] is True
    async with worker(settings) as restarted:
        revision = restarted.dashboard.revision
        replay = await restarted.deliver("issues", REOPENED)
        assert replay.status_code == 200 and replay.json()["changed"] is False, replay.text
        assert "older than the event that took #2 off the board" in replay.json()["message"]
        assert await restarted.numbers(issues_key(REPO)) == [1]
        assert restarted.dashboard.revision == revision  # nothing written
        later = make_webhook("issues", "reopened", REPO, issue=make_issue(REPO, 2, updated_at=at(4)))
        assert (await restarted.deliver("issues", later)).json()["changed"] is True  # a real, newer reopening
        assert await restarted.numbers(issues_key(REPO)) == [2, 1]


async def test_workers_sharing_redis_share_what_left_a_board(redis_server: Any) -> None:
    settings = Settings(redis_url=redis_server.fresh_url())
    async with worker(settings) as first, worker(settings) as second:
        await first.dashboard.put(open_board(*((n, at(1)) for n in range(1, 9))))
        closes = [
            make_webhook("issues", "closed", REPO, issue=make_issue(REPO, n, state="closed", updated_at=at(3)))
            for n in range(1, 9)
        ]
        # Eight closes on one board at once, half on each worker: every tombstone is kept.
        answers = await asyncio.gather(
            *(w.deliver("issues", c) for w, c in zip([first, second] * 4, closes, strict=True))
        )
        assert [a.json()["changed"] for a in answers] == [True] * 8
        for n in range(1, 9):
            reopened = make_webhook("issues", "reopened", REPO, issue=make_issue(REPO, n, updated_at=at(2)))
            for replayed_on in (first, second):
                assert (await replayed_on.deliver("issues", reopened)).json()["changed"] is False
        assert await first.numbers(issues_key(REPO)) == [] and await second.numbers(issues_key(REPO)) == []


async def test_a_board_pushed_in_place_of_another_still_knows_what_left_it(tmp_path: Path) -> None:
    async with worker(Settings(db_path=tmp_path / "b.db")) as hooks:
        await hooks.dashboard.put(open_board((2, at(1)), (1, at(1))))
        assert (await hooks.deliver("issues", CLOSED)).json()["changed"] is True
        pushed = [Issue(number=1, title="Pushed", state="open")]
        await push_issues(hooks.dashboard, REPO, pushed, state="open", source="api")
        assert (await hooks.deliver("issues", REOPENED)).json()["changed"] is False
        assert await hooks.numbers(issues_key(REPO)) == [1]


async def only_a_newer_reopen_brings_back_issue_2(hooks: Worker) -> None:
    """Issue 2 is not on the board: a reopen older than the board's list changes nothing, a newer one adds it."""
    replay = make_webhook("issues", "reopened", REPO, issue=make_issue(REPO, 2, updated_at="2024-02-01T00:00:00Z"))
    answer = (await hooks.deliver("issues", replay)).json()
    assert answer["changed"] is False and "older than the list the board shows" in answer["message"]
    reopened_now = make_webhook("issues", "reopened", REPO, issue=make_issue(REPO, 2, updated_at=github_now()))
    assert (await hooks.deliver("issues", reopened_now)).json()["changed"] is True
    assert await hooks.numbers(issues_key(REPO)) == [2, 1]


async def test_a_replay_older_than_the_fetch_cannot_add_what_the_fetch_left_out(
    tmp_path: Path, fake_github: FakeGitHub
) -> None:
    """The board is fetched after the close, so it never saw the issue leave: the fetch's time stands in."""
    closed_at = "2024-03-01T10:00:00Z"
    fake_github.add_repo(REPO, [make_issue(REPO, 1), make_issue(REPO, 2, state="closed", updated_at=closed_at)])
    async with worker(Settings(db_path=tmp_path / "b.db")) as hooks:
        github = GitHubSource(fake_github.url, None, timeout=10, max_items=1000)
        await hooks.parts.board_sync(github).sync(issues_query(REPO, "open"))
        assert await hooks.numbers(issues_key(REPO)) == [1]
        await only_a_newer_reopen_brings_back_issue_2(hooks)


async def test_a_board_is_ordered_against_githubs_clock_not_the_servers(
    tmp_path: Path, fake_github: FakeGitHub
) -> None:
    """With the server's clock two minutes ahead of GitHub's, an issue reopened on GitHub just after
    the list was taken (by GitHub's clock) is still newer than the board, and joins it."""
    fake_github.clock_offset = -120
    fake_github.add_repo(
        REPO, [make_issue(REPO, 1), make_issue(REPO, 2, state="closed", updated_at="2024-03-01T10:00:00Z")]
    )
    async with worker(Settings(db_path=tmp_path / "b.db")) as hooks:
        github = GitHubSource(fake_github.url, None, timeout=10, max_items=1000)
        await hooks.parts.board_sync(github).sync(issues_query(REPO, "open"))
        github_clock = datetime.now(UTC) + timedelta(seconds=fake_github.clock_offset + 10)
        reopened = make_issue(REPO, 2, updated_at=github_clock.strftime("%Y-%m-%dT%H:%M:%SZ"))
        answer = (await hooks.deliver("issues", make_webhook("issues", "reopened", REPO, issue=reopened))).json()
        assert answer["changed"] is True, answer
        assert await hooks.numbers(issues_key(REPO)) == [2, 1]


async def test_a_replay_older_than_a_push_cannot_add_what_the_push_left_out(tmp_path: Path) -> None:
    async with worker(Settings(db_path=tmp_path / "b.db")) as hooks:
        await push_issues(
            hooks.dashboard, REPO, [Issue(number=1, title="One", state="open")], state="open", source="api"
        )
        await only_a_newer_reopen_brings_back_issue_2(hooks)


def test_what_a_board_remembers_is_never_shown(tmp_path: Path) -> None:
    with app_client(tmp_path) as client:
        assert client.post("/api/dashboard/sync-issues", json=PUSH).status_code == 200
        closed = make_webhook("issues", "closed", REPO, issue=make_issue(REPO, 1, state="closed"))
        assert deliver(client, "issues", closed).json()["changed"] is True
        board = client.get("/api/dashboard/issues", params={"repository": REPO}).json()
        assert board["issues"] == [] and not BOOKKEEPING_FIELDS & set(board)
        with client.stream("GET", "/api/dashboard/events") as stream:
            snapshot = next(line for line in stream.iter_lines() if line.startswith("data:"))
        assert '"issues":[]' in snapshot and not any(f'"{name}"' in snapshot for name in BOOKKEEPING_FIELDS)


# -- every payload example of octokit/webhooks ------------------------------------------------

RECORDED = sorted((Path(__file__).parent / "fixtures" / "webhooks").glob("*/*/*.json"))
BEFORE = datetime(2000, 1, 1, tzinfo=UTC)  # older than every recording: any event about the row applies


async def show(hooks: Worker, repository: str, number: int) -> None:
    """Fresh issues and pull-request boards of ``repository`` (state "all") showing item ``number``."""
    for key in (issues_key(repository), pulls_key(repository)):
        await hooks.dashboard.remove(key)
    issues = [Issue(number=n, title="Before", state="open", updated_at=BEFORE) for n in (number, 99999)]
    pulls = [PullRequest(number=n, title="Before", state="open", updated_at=BEFORE) for n in (number, 99999)]
    common: dict[str, Any] = {"repository": repository, "state": "all", "source": "mcp", "last_updated": now()}
    await hooks.dashboard.put(IssuesBoard(issues=issues, **common))
    await hooks.dashboard.put(PullsBoard(pulls=pulls, **common))


def round_trip(entry: AnyEntry | None) -> None:
    """The entry as stored reads back as the same valid entry."""
    assert entry is not None and entry_adapter.validate_json(entry.model_dump_json()) == entry


async def test_every_recorded_github_delivery_is_acknowledged(tmp_path: Path) -> None:
    assert len(RECORDED) == 89, "tests/fixtures/webhooks/README.md says which recordings there are"
    async with worker(Settings(db_path=tmp_path / "b.db")) as hooks:
        for path in RECORDED:
            event, body = path.parent.name, path.read_bytes()
            payload = json.loads(body)
            repository = payload["repository"]["full_name"]
            about_pulls = event in ("pull_request", "pull_request_review")
            item = payload["pull_request" if about_pulls else "issue"]
            await show(hooks, repository, item["number"])
            response = await hooks.deliver(event, body=body)
            where = path.relative_to(path.parents[2])
            assert response.status_code in (200, 202), (where, response.text)
            answer = response.json()
            for key in (issues_key(repository), pulls_key(repository)):
                round_trip(await hooks.dashboard.get(key))
            kind = "pulls" if about_pulls else "issues"
            if "pull_request" in item and kind == "issues":  # about a pull request: issues boards leave it out
                assert response.status_code == 202 and "pull request" in answer["message"], where
                continue
            assert answer["board_id"] == (pulls_key if kind == "pulls" else issues_key)(repository), where
            assert answer["changed"] is True, (where, answer)
            board = await hooks.dashboard.get(answer["board_id"])
            assert isinstance(board, IssuesBoard | PullsBoard)
            rows = {row.number: row for row in board.rows}
            if payload["action"] in ("deleted", "transferred") and event == "issues":
                assert item["number"] not in rows, where
            else:
                assert rows[item["number"]].title == item["title"], where
                assert rows[item["number"]].state == item.get("state", "open"), where  # pinned: kept
    async with worker(Settings(db_path=tmp_path / "b.db")) as restarted:  # everything written loads again
        assert len(await restarted.dashboard.entries()) >= 2
