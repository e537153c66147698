"""GitHub webhooks end to end: the real server, real HMAC signatures, the page's event stream."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from testkit.fake_github import (
    FakeGitHub,
    github_now,
    make_comment,
    make_issue,
    make_pull,
    make_pull_request,
    make_webhook,
    sign_webhook,
    webhook_request,
)
from testkit.mcp_clients import TRANSPORTS
from testkit.sse import EventStream, open_event_stream
from tests.inprocess import AppServer, start_app

SECRET = "whsec-0123456789-not-a-real-one"
REPO = "octo/app"


@pytest.fixture
def hooked(tmp_path: Path, server_env: dict[str, str]) -> Iterator[AppServer]:
    """A server that accepts webhooks signed with SECRET."""
    running = start_app({**server_env, "ISSUEBRIDGE_WEBHOOK_SECRET": SECRET})
    yield running
    running.stop()


async def post(base_url: str, body: bytes, headers: dict[str, str]) -> httpx.Response:
    async with httpx.AsyncClient(base_url=base_url) as http:
        return await http.post("/webhooks/github", content=body, headers=headers)


async def deliver(
    base_url: str, event: str, payload: Any, *, delivery: str | None = None, secret: str | None = SECRET
) -> httpx.Response:
    """One delivery as GitHub sends it, signed with ``secret``."""
    return await post(base_url, *webhook_request(secret, event, payload, delivery=delivery))


async def get(base_url: str, path: str, **params: str) -> httpx.Response:
    async with httpx.AsyncClient(base_url=base_url) as http:
        return await http.get(path, params=params)


async def push(base_url: str, issues: list[dict[str, Any]], repository: str = REPO, state: str = "open") -> None:
    board = {"repository": repository, "state": state, "issues": issues}
    async with httpx.AsyncClient(base_url=base_url) as http:
        assert (await http.post("/api/dashboard/sync-issues", json=board)).status_code == 200


async def board_numbers(base_url: str, repository: str = REPO) -> list[int]:
    board = (await get(base_url, "/api/dashboard/issues", repository=repository)).json()
    return [issue["number"] for issue in board["issues"]]


async def revision(base_url: str) -> int:
    return int((await get(base_url, "/healthz")).json()["revision"])


def rest_issue(number: int, **fields: Any) -> dict[str, Any]:
    """An issue as the JSON API accepts it."""
    return {"number": number, "title": f"Issue {number}", "state": "open", **fields}


async def test_only_a_correctly_signed_body_is_applied(hooked: AppServer) -> None:
    await push(hooked.url, [rest_issue(1)])
    payload = make_webhook("issues", "opened", REPO, issue=make_issue(REPO, 2, updated_at=github_now()))
    body, headers = webhook_request(SECRET, "issues", payload)
    unsigned = {k: v for k, v in headers.items() if k != "X-Hub-Signature-256"}
    attempts = {
        "missing": (body, unsigned),
        "empty": (body, {**unsigned, "X-Hub-Signature-256": ""}),
        "no scheme": (body, {**unsigned, "X-Hub-Signature-256": headers["X-Hub-Signature-256"][7:]}),
        "sha1": (body, {**unsigned, "X-Hub-Signature-256": "sha1=" + "0" * 40}),
        "not hex": (body, {**unsigned, "X-Hub-Signature-256": "sha256=" + "g" * 64}),
        "wrong secret": (body, {**unsigned, "X-Hub-Signature-256": sign_webhook("another-secret", body)}),
        "tampered": (body.replace(b"Issue #2", b"Issue #3"), headers),
    }
    for name, (sent, sent_headers) in attempts.items():
        response = await post(hooked.url, sent, sent_headers)
        assert response.status_code == 401, name
        assert "X-Hub-Signature-256" in response.json()["error"] and SECRET not in response.text
    assert await board_numbers(hooked.url) == [1] and await revision(hooked.url) == 1  # nothing changed

    accepted = await post(hooked.url, body, headers)
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["changed"] is True and await board_numbers(hooked.url) == [2, 1]
    hooked.stop()
    assert SECRET not in hooked.log and "Refused a webhook delivery" in hooked.log


async def test_without_a_secret_webhooks_are_refused_with_how_to_switch_them_on(server: AppServer) -> None:
    await push(server.url, [rest_issue(1)])
    payload = make_webhook("issues", "opened", REPO, issue=make_issue(REPO, 2, updated_at=github_now()))
    for secret in (None, "any-secret"):
        response = await deliver(server.url, "issues", payload, secret=secret)
        assert response.status_code == 404 and "ISSUEBRIDGE_WEBHOOK_SECRET" in response.json()["error"]
    assert await board_numbers(server.url) == [1] and await revision(server.url) == 1


async def test_ping_other_events_and_malformed_payloads(hooked: AppServer) -> None:
    await push(hooked.url, [rest_issue(1)])
    pong = await deliver(hooked.url, "ping", {"zen": "Keep it logically awesome.", "hook_id": 42})
    assert pong.status_code == 200 and pong.json() == {"pong": True, "hook_id": 42}

    star = await deliver(hooked.url, "star", make_webhook("star", "created", REPO))
    assert star.status_code == 202 and star.json()["ignored"] is True and star.json()["event"] == "star"

    body = b'{"action": "opened", "issue": '
    headers = {
        "Content-Type": "application/json",
        "X-GitHub-Event": "issues",
        "X-GitHub-Delivery": "d-1",
        "X-Hub-Signature-256": sign_webhook(SECRET, body),
    }
    bad_json = await post(hooked.url, body, headers)
    assert bad_json.status_code == 400 and "not valid JSON" in bad_json.json()["error"]

    no_issue = await deliver(hooked.url, "issues", {"action": "opened", "repository": {"full_name": REPO}})
    assert no_issue.status_code == 422 and "no issue object" in no_issue.json()["error"]
    bad_name = await deliver(
        hooked.url,
        "issues",
        make_webhook("issues", "opened", REPO, issue=make_issue(REPO, 2)) | {"repository": {"full_name": "not a/repo"}},
    )
    assert bad_name.status_code == 422 and "full_name" in bad_name.json()["error"]

    form_body = b"payload=%7B%7D"
    form = await post(
        hooked.url,
        form_body,
        {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-GitHub-Event": "issues",
            "X-Hub-Signature-256": sign_webhook(SECRET, form_body),
        },
    )
    assert form.status_code == 415 and "application/json" in form.json()["error"]
    assert await board_numbers(hooked.url) == [1] and await revision(hooked.url) == 1


async def next_board(stream: EventStream) -> Any:
    event = await stream.next_past_progress()
    assert event.event in ("board", "board_delta"), event
    return event


async def test_each_event_changes_the_right_board_live(hooked: AppServer, fake_github: FakeGitHub) -> None:
    fake_github.add_repo(REPO, [make_issue(REPO, 2), make_issue(REPO, 1, comments=1), make_pull_request(REPO, 4)])
    fake_github.add_pulls(REPO, [make_pull(REPO, 4), make_pull(REPO, 5)])
    async with TRANSPORTS["streamable-http"](hooked.url) as client:
        for tool in ("send_issues_to_dashboard", "send_pull_requests_to_dashboard"):
            assert not (await client.call_tool(tool, {"owner": "octo", "repo": "app"})).is_error
    start = await revision(hooked.url)

    async with open_event_stream(f"{hooked.url}/api/dashboard/events?format=html&last_event_id={start}") as page:
        new_issue = make_issue(REPO, 3, updated_at=github_now())  # opened after the sync, as GitHub dates it
        opened = await deliver(hooked.url, "issues", make_webhook("issues", "opened", REPO, issue=new_issue))
        assert opened.status_code == 200 and opened.json()["board_id"] == f"issues:{REPO}"
        delta = (await next_board(page)).json()["data"]
        assert delta["id"] == f"issues:{REPO}" and [row["number"] for row in delta["added"]] == [3]
        assert await board_numbers(hooked.url) == [3, 2, 1]

        commented = make_webhook(
            "issue_comment", "created", REPO, issue=make_issue(REPO, 1, comments=2), comment=make_comment(REPO, 1, 9)
        )
        assert (await deliver(hooked.url, "issue_comment", commented)).status_code == 200
        delta = (await next_board(page)).json()["data"]
        assert [row["number"] for row in delta["changed"]] == [1]
        issues = (await get(hooked.url, "/api/dashboard/issues", repository=REPO)).json()["issues"]
        assert next(i for i in issues if i["number"] == 1)["comments"] == 2

        on_pull = make_webhook(
            "issue_comment", "created", REPO, issue=make_pull_request(REPO, 4), comment=make_comment(REPO, 4, 10)
        )
        ignored = await deliver(hooked.url, "issue_comment", on_pull)
        assert ignored.status_code == 202 and "pull request" in ignored.json()["message"]

        closed = make_webhook("issues", "closed", REPO, issue=make_issue(REPO, 2, state="closed"))
        assert (await deliver(hooked.url, "issues", closed)).json()["changed"] is True
        delta = (await next_board(page)).json()["data"]  # the next board event: nothing for the PR comment
        assert delta["removed"] == [2] and delta["added"] == [] and delta["changed"] == []
        assert await board_numbers(hooked.url) == [3, 1]  # closed: off the open board; never the pull request

        review = make_webhook(
            "pull_request", "review_requested", REPO, pull_request=make_pull(REPO, 5, requested_reviewers=["ana"])
        )
        assert (await deliver(hooked.url, "pull_request", review)).json()["board_id"] == f"pulls:{REPO}"
        pulls_event = await next_board(page)
        assert pulls_event.event == "board_delta" and pulls_event.json()["data"]["id"] == f"pulls:{REPO}"
        assert [row["number"] for row in pulls_event.json()["data"]["changed"]] == [5]  # that row only
        merged = make_webhook(
            "pull_request", "closed", REPO, pull_request=make_pull(REPO, 4, state="closed", merged=True)
        )
        assert (await deliver(hooked.url, "pull_request", merged)).json()["changed"] is True
        await next_board(page)

        before = await revision(hooked.url)
        elsewhere = await deliver(
            hooked.url, "issues", make_webhook("issues", "opened", "octo/other", issue=make_issue("octo/other", 1))
        )
        assert elsewhere.status_code == 202 and "no issues board" in elsewhere.json()["message"]
        pulls_elsewhere = await deliver(
            hooked.url,
            "pull_request",
            make_webhook("pull_request", "opened", "octo/other", pull_request=make_pull("octo/other", 1)),
        )
        assert pulls_elsewhere.status_code == 202 and "no pull-request board" in pulls_elsewhere.json()["message"]
        assert await revision(hooked.url) == before

    async with open_event_stream(f"{hooked.url}/api/dashboard/events") as stream:
        snapshot = (await stream.next()).json()["data"]
    assert [p["number"] for p in snapshot["pull_boards"][0]["pulls"]] == [5]
    assert snapshot["pull_boards"][0]["pulls"][0]["requested_reviewers"] == ["ana"]
    assert "other" not in str(snapshot)


def github_time(seconds_from_now: int) -> str:
    return (datetime.now(UTC) + timedelta(seconds=seconds_from_now)).strftime("%Y-%m-%dT%H:%M:%SZ")


async def test_captured_deliveries_sent_again_cannot_move_a_board_backwards(
    hooked: AppServer, fake_github: FakeGitHub
) -> None:
    """The review's two replays: a signed "reopened" re-sent with a fresh delivery id after the issue
    was closed again, and a signed comment deletion re-sent as an ``issues`` event."""
    fake_github.add_repo(REPO, [make_issue(REPO, 2), make_issue(REPO, 1)])
    async with TRANSPORTS["streamable-http"](hooked.url) as client:
        assert not (await client.call_tool("send_issues_to_dashboard", {"owner": "octo", "repo": "app"})).is_error
    closed, reopened, closed_again = (
        make_webhook("issues", action, REPO, issue=make_issue(REPO, 2, state=state, updated_at=github_time(n)))
        for n, (action, state) in enumerate([("closed", "closed"), ("reopened", "open"), ("closed", "closed")], 1)
    )
    for delivered, shown in ((closed, [1]), (reopened, [2, 1]), (closed_again, [1])):
        assert (await deliver(hooked.url, "issues", delivered)).json()["changed"] is True
        assert await board_numbers(hooked.url) == shown
    before = await revision(hooked.url)
    replay = await deliver(hooked.url, "issues", reopened)  # the captured body, a fresh X-GitHub-Delivery
    assert replay.status_code == 200 and replay.json()["changed"] is False, replay.text
    assert await board_numbers(hooked.url) == [1] and await revision(hooked.url) == before

    comment_deleted = make_webhook(
        "issue_comment", "deleted", REPO, issue=make_issue(REPO, 1), comment=make_comment(REPO, 1, 5)
    )
    body, headers = webhook_request(SECRET, "issue_comment", comment_deleted)
    assert (await post(hooked.url, body, headers)).status_code == 200
    relabelled = await post(hooked.url, body, {**headers, "X-GitHub-Event": "issues", "X-GitHub-Delivery": "d-2"})
    assert relabelled.status_code == 422 and "carries 'comment'" in relabelled.json()["error"]
    assert await board_numbers(hooked.url) == [1] and await revision(hooked.url) == before


@pytest.mark.usefixtures("backend")  # the deliveries the store remembers across a restart
async def test_a_redelivered_event_is_applied_once_even_after_a_restart(server_env: dict[str, str]) -> None:
    env = {**server_env, "ISSUEBRIDGE_WEBHOOK_SECRET": SECRET}
    first = start_app(env)
    try:
        await push(first.url, [rest_issue(1)])
        payload = make_webhook("issues", "opened", REPO, issue=make_issue(REPO, 2, updated_at=github_now()))
        assert (await deliver(first.url, "issues", payload, delivery="delivery-1")).json()["changed"] is True
        await push(first.url, [rest_issue(1)])  # the board is pushed again without issue 2
        again = await deliver(first.url, "issues", payload, delivery="delivery-1")
        assert again.status_code == 200 and again.json()["duplicate"] is True
        assert await board_numbers(first.url) == [1]  # the redelivery did not bring issue 2 back
    finally:
        first.stop()
    second = start_app(env)
    try:
        after_restart = await deliver(second.url, "issues", payload, delivery="delivery-1")
        assert after_restart.json()["duplicate"] is True and await board_numbers(second.url) == [1]
        newer = make_webhook("issues", "opened", REPO, issue=make_issue(REPO, 3, updated_at=github_now()))
        fresh = await deliver(second.url, "issues", newer, delivery="delivery-2")  # another delivery: applied
        assert fresh.json()["changed"] is True and await board_numbers(second.url) == [3, 1]
    finally:
        second.stop()


async def test_hostile_html_in_a_webhook_title_is_escaped_on_the_page(hooked: AppServer) -> None:
    hostile = '<img src=x onerror="alert(1)"><script>alert(2)</script>'
    await push(hooked.url, [rest_issue(1)])
    async with open_event_stream(f"{hooked.url}/api/dashboard/events?format=html&last_event_id=1") as page:
        item = make_issue(
            REPO, 2, title=hostile, labels=[("<b>label</b>", "00ff00")], user="x", updated_at=github_now()
        )
        opened = await deliver(hooked.url, "issues", make_webhook("issues", "opened", REPO, issue=item))
        assert opened.status_code == 200
        fragment = (await next_board(page)).json()["data"]["added"][0]["html"]
    html = (await get(hooked.url, "/")).text
    for shown in (html, fragment):
        assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;&lt;script&gt;alert(2)&lt;/script&gt;" in shown
        assert "<script>alert(2)</script>" not in shown and 'onerror="alert(1)"' not in shown
        assert "&lt;b&gt;label&lt;/b&gt;" in shown
