"""A stable page, on the server: entries in the order they first appeared (across re-syncs and
restarts), pull-request boards re-synced as deltas, and reviews from webhooks moving pull
requests in and out of "waiting for review". The page's side is tests/e2e/test_page_stable.py."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from issuebridge.app import create_app
from issuebridge.live.changes import Change
from issuebridge.live.html_format import PageFormat
from issuebridge.records.base import in_order_of_appearance, now
from issuebridge.records.pulls import PullRequest, PullsBoard, derived, pulls_key
from issuebridge.records.tracked import diff_rows
from issuebridge.settings import Settings
from issuebridge.web.templating import Fragments, environment
from tests.test_webhook_route import worker

REVIEWS = Path(__file__).parent / "fixtures" / "webhooks" / "api.github.com" / "pull_request_review"


def push(client: TestClient, repository: str, *titles: str) -> None:
    issues = [{"number": n, "title": title, "state": "open"} for n, title in enumerate(titles, start=1)]
    response = client.post("/api/dashboard/sync-issues", json={"repository": repository, "issues": issues})
    assert response.status_code == 200, response.text


def page_order(client: TestClient) -> list[str]:
    return re.findall(r'<section class="entry [^"]*" data-id="([^"]+)"', client.get("/").text)


@pytest.mark.usefixtures("backend")  # the order is kept by the store, across a restart
def test_entries_keep_the_place_they_first_appeared_in(store_settings: dict[str, Any]) -> None:
    settings = Settings(**store_settings, github_api_url="http://127.0.0.1:9")
    first = ["issues:octo/one", "issues:octo/two", "issues:octo/three"]
    with TestClient(create_app(settings), base_url="http://127.0.0.1:8000") as client:
        for key in first:
            push(client, key.split(":")[1], "Before")
        assert page_order(client) == first
        push(client, "octo/one", "After", "Another")  # a re-sync of the first board, the newest write now
        push(client, "octo/two", "After")
        assert page_order(client) == first
        assert '"appeared"' not in client.get("/api/dashboard/issues").text  # bookkeeping: not in the API
    with TestClient(create_app(settings), base_url="http://127.0.0.1:8000") as restarted:
        assert page_order(restarted) == first


async def test_an_entry_removed_and_sent_again_appears_anew_at_the_end(tmp_path: Path) -> None:
    async with worker(Settings(db_path=tmp_path / "b.db")) as hooks:
        for repository in ("octo/one", "octo/two"):
            await hooks.dashboard.put(pulls_board(pull(1, "One"), repository=repository))
        assert await hooks.dashboard.remove(pulls_key("octo/one"))
        await hooks.dashboard.put(pulls_board(pull(1, "Back"), repository="octo/one"))
        keys = [entry.key for entry in in_order_of_appearance(await hooks.dashboard.entries())]
        assert keys == [pulls_key("octo/two"), pulls_key("octo/one")]


def pulls_board(*pulls: PullRequest, revision: int = 1, repository: str = "octo/app") -> PullsBoard:
    at = datetime(2030, 1, 1, tzinfo=UTC)
    return PullsBoard(
        repository=repository, state="open", source="mcp", pulls=list(pulls), last_updated=at, revision=revision
    )


def pull(number: int, title: str, **fields: Any) -> PullRequest:
    return PullRequest(
        number=number, title=title, state="open", updated_at=datetime(2030, 1, number, tzinfo=UTC), **fields
    )


def test_a_resynced_pull_request_board_is_sent_as_a_delta() -> None:
    before = pulls_board(pull(1, "Keep"), pull(2, "Change"), pull(3, "Drop"))
    after = pulls_board(pull(1, "Keep"), pull(2, "Changed", draft=True), pull(4, "New"), revision=2)
    frame = PageFormat(Fragments(environment())).change(Change(after, before, diff_rows(before, after)))
    event, data = frame.decode().splitlines()[1], json.loads(frame.decode().split("data: ", 1)[1])
    assert event == "event: board_delta"
    delta = data["data"]
    assert (delta["id"], delta["count"], delta["removed"]) == (pulls_key("octo/app"), 3, [3])
    assert [row["number"] for row in delta["changed"]] == [2] and "Changed" in delta["changed"][0]["html"]
    assert [row["number"] for row in delta["added"]] == [4]
    assert (
        delta["header_html"].startswith('<header class="board-header">')
        and '<span class="count">3</span>' in (delta["header_html"])
    )
    summary = delta["summary_html"]
    assert summary.startswith('<div class="attention" data-part="summary">')
    assert 'data-attention="drafts" data-numbers="2"' in summary  # the cards as they are now
    assert "Keep" not in "".join(row["html"] for row in delta["changed"] + delta["added"])  # unchanged rows stay


def load(name: str) -> tuple[bytes, dict[str, Any]]:
    body = (REVIEWS / name).read_bytes()
    return body, json.loads(body)


async def test_reviews_from_webhooks_move_a_pull_request_out_of_waiting_and_back(tmp_path: Path) -> None:
    submitted, payload = load("submitted.json")  # a pull request without "draft": a partial row
    dismissed = load("dismissed.with-organization.with-installation.json")[1]
    dismissed["pull_request"]["requested_reviewers"] = []  # nobody asked any more: it waits on nobody
    dismissed["pull_request"]["updated_at"] = "2019-05-15T15:21:00Z"
    repository, number = payload["repository"]["full_name"], payload["pull_request"]["number"]
    assert payload["pull_request"]["requested_reviewers"] == []
    waiting = PullRequest(
        number=number, title="Waiting", state="open", reviewed=False, updated_at=datetime(2000, 1, 1, tzinfo=UTC)
    )
    board = PullsBoard(repository=repository, state="open", source="mcp", pulls=[waiting], last_updated=now())
    key = pulls_key(repository)
    async with worker(Settings(db_path=tmp_path / "b.db")) as hooks:
        await hooks.dashboard.put(board)

        async def attention() -> dict[str, list[int]]:
            stored = await hooks.dashboard.get(key)
            assert isinstance(stored, PullsBoard)
            return dict(derived(stored)["attention"])

        assert (await attention())["waiting_for_review"] == [number]
        answer = await hooks.deliver("pull_request_review", body=submitted)
        assert answer.status_code == 200 and answer.json()["changed"] is True, answer.text
        assert (await attention())["waiting_for_review"] == []
        stored = await hooks.dashboard.get(key)
        assert isinstance(stored, PullsBoard) and stored.pulls[0].title == payload["pull_request"]["title"]
        answer = await hooks.deliver("pull_request_review", dismissed)
        assert answer.status_code == 200 and answer.json()["changed"] is True, answer.text
        after = await attention()  # whether another review still stands is not known: it counts, with the note
        assert (after["waiting_for_review"], after["review_unknown"]) == ([number], [number])
        # A review sent as another event is refused (the X-GitHub-Event header is not signed).
        shaped = await hooks.deliver("pull_request", body=submitted)
        assert shaped.status_code == 422 and "review" in shaped.json()["error"]


async def test_an_entry_stored_before_appearances_were_kept_keeps_its_place(tmp_path: Path) -> None:
    async with worker(Settings(db_path=tmp_path / "b.db")) as hooks:
        old = pulls_board(pull(1, "Old"), repository="octo/old").model_copy(
            update={"last_updated": datetime(2020, 1, 1, tzinfo=UTC)}
        )
        await hooks.parts.store.save(old)  # as an older version stored it: no "appeared"
        await hooks.dashboard.put(pulls_board(pull(1, "New"), repository="octo/new"))
        _, changed = await hooks.dashboard.put_if_changed(old.model_copy(update={"last_updated": now()}))
        assert not changed  # when it appeared is not content: nothing to write, nothing sent
        stored = await hooks.dashboard.put(pulls_board(pull(1, "Changed"), repository="octo/old"))
        assert stored.appeared == datetime(2020, 1, 1, tzinfo=UTC)  # its last write before, kept from now on
        keys = [entry.key for entry in in_order_of_appearance(await hooks.dashboard.entries())]
        assert keys == [pulls_key("octo/old"), pulls_key("octo/new")]
