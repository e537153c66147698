"""Several server processes behind one Redis behave as one server.

Each test starts real ``uvicorn issuebridge.app:app`` processes sharing one Redis database, as
several workers or hosts behind a load balancer would.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from testkit.fake_github import FakeGitHub, make_issue, make_webhook, webhook_request
from testkit.mcp_clients import TRANSPORTS
from testkit.servers import RedisServer, ServerProcess, start_servers
from testkit.sse import open_event_stream
from tests.tcp_proxy import TcpProxy

SECRET = "whsec-shared-by-every-worker"


@pytest.fixture
def redis_env(fake_github: FakeGitHub, redis_server: RedisServer) -> dict[str, str]:
    return {
        "GITHUB_API_URL": fake_github.url,
        "ISSUEBRIDGE_REDIS_URL": redis_server.fresh_url(),
        "ISSUEBRIDGE_WEBHOOK_SECRET": SECRET,
    }


@pytest.fixture
def two_workers(tmp_path: Path, redis_env: dict[str, str]) -> Iterator[tuple[ServerProcess, ServerProcess]]:
    first, second = start_servers(tmp_path, redis_env, redis_env)
    yield first, second
    first.stop()
    second.stop()


async def push(base_url: str, repository: str, titles: list[str]) -> int:
    """An open-issues board with these titles, through the JSON API."""
    issues = [{"number": n, "title": title, "state": "open"} for n, title in enumerate(titles, start=1)]
    body = {"repository": repository, "state": "open", "issues": issues}
    async with httpx.AsyncClient(base_url=base_url) as http:
        response = await http.post("/api/dashboard/sync-issues", json=body)
    assert response.status_code == 200, response.text
    return int(response.json()["revision"])


async def test_a_tool_run_on_one_worker_reaches_a_subscriber_on_the_other(
    two_workers: tuple[ServerProcess, ServerProcess], fake_github: FakeGitHub
) -> None:
    tool_worker, page_worker = two_workers
    fake_github.add_repo("facebook/react", [make_issue("facebook/react", n) for n in range(1, 31)])
    async with open_event_stream(f"{page_worker.url}/api/dashboard/events") as stream:
        assert (await stream.next()).event == "initial_data"
        async with TRANSPORTS["streamable-http"](tool_worker.url) as client:
            result = await client.call_tool("send_issues_to_dashboard", {"owner": "facebook", "repo": "react"})
        assert not result.is_error
        update = await stream.next_past_progress()
    assert update.event == "issues_update" and update.id == "1"
    assert len(update.json()["data"]["issues"]) == 30
    async with httpx.AsyncClient() as http:
        for worker in two_workers:
            board = (await http.get(f"{worker.url}/api/dashboard/issues?repository=facebook/react")).json()
            assert len(board["issues"]) == 30 and board["revision"] == 1
            assert (await http.get(f"{worker.url}/healthz")).json()["store"] == "redis"


async def test_a_resync_on_the_other_worker_is_confirmed_with_304s(
    two_workers: tuple[ServerProcess, ServerProcess], fake_github: FakeGitHub
) -> None:
    first, second = two_workers
    fake_github.add_repo("facebook/react", [make_issue("facebook/react", n) for n in range(1, 251)])
    args = {"owner": "facebook", "repo": "react"}
    async with TRANSPORTS["streamable-http"](first.url) as client:
        assert not (await client.call_tool("send_issues_to_dashboard", args)).is_error
    fake_github.requests.clear()
    async with TRANSPORTS["streamable-http"](second.url) as client:
        again = await client.call_tool("send_issues_to_dashboard", args)
    assert again.structured_content is not None and again.structured_content["changed"] is False
    assert [r.status for r in fake_github.requests] == [304, 304]


async def test_a_reconnect_to_the_other_worker_replays_what_was_missed(
    two_workers: tuple[ServerProcess, ServerProcess],
) -> None:
    first, second = two_workers
    await push(first.url, "octo/one", ["First"])
    async with open_event_stream(f"{first.url}/api/dashboard/events") as stream:
        seen = (await stream.next()).id
    assert seen == "1"

    # While the browser is away, both workers write.
    await push(second.url, "octo/two", ["Second"])
    await push(first.url, "octo/one", ["First, renamed"])

    # It comes back through the load balancer, to the other worker, with the id it last saw.
    async with open_event_stream(f"{second.url}/api/dashboard/events", headers={"Last-Event-ID": seen}) as stream:
        replayed = [await stream.next(), await stream.next()]
    assert [(e.event, e.id) for e in replayed] == [("issues_update", "2"), ("issues_update", "3")]
    assert replayed[0].json()["data"]["repository"] == "octo/two"
    assert replayed[1].json()["data"]["issues"][0]["title"] == "First, renamed"


async def test_a_webhook_to_one_worker_changes_the_page_on_the_other_once(
    two_workers: tuple[ServerProcess, ServerProcess],
) -> None:
    first, second = two_workers
    await push(first.url, "octo/app", ["One", "Two"])
    payload = make_webhook("issues", "closed", "octo/app", issue=make_issue("octo/app", 2, state="closed"))
    body, headers = webhook_request(SECRET, "issues", payload, delivery="4c1e6b2e-0000-4000-8000-000000000001")
    async with (
        open_event_stream(f"{first.url}/api/dashboard/events?format=html&last_event_id=1") as page,
        httpx.AsyncClient() as http,
    ):
        applied = await http.post(f"{second.url}/webhooks/github", content=body, headers=headers)
        assert applied.status_code == 200 and applied.json()["changed"], applied.text
        delta = await page.next()
        # GitHub redelivers it, this time to the first worker: the claim is shared, nothing changes.
        again = await http.post(f"{first.url}/webhooks/github", content=body, headers=headers)
        assert again.status_code == 200 and again.json()["duplicate"]
    assert delta.event == "board_delta" and delta.id == "2" and delta.json()["data"]["removed"] == [2]
    async with httpx.AsyncClient() as http:
        for worker in two_workers:
            board = (await http.get(f"{worker.url}/api/dashboard/issues?repository=octo/app")).json()
            assert [issue["number"] for issue in board["issues"]] == [1] and board["revision"] == 2


async def test_pages_on_every_worker_get_every_delta_in_the_same_order(
    two_workers: tuple[ServerProcess, ServerProcess],
) -> None:
    first, second = two_workers
    await push(first.url, "octo/app", [f"Issue {n}" for n in range(1, 11)])
    url = "/api/dashboard/events?format=html&last_event_id=1"
    async with open_event_stream(first.url + url) as one, open_event_stream(second.url + url) as two:
        # Writes from both workers at once: each gets a revision, every page sees all of them.
        await asyncio.gather(
            push(first.url, "octo/app", [f"Issue {n}" for n in range(1, 12)]),
            push(second.url, "octo/app", [f"Issue {n}" for n in range(1, 13)]),
        )
        deltas = [[await stream.next(), await stream.next()] for stream in (one, two)]
    assert [[(e.event, e.id) for e in page] for page in deltas] == [[("board_delta", "2"), ("board_delta", "3")]] * 2
    assert [e.data for e in deltas[0]] == [e.data for e in deltas[1]]


async def test_a_worker_that_loses_redis_says_so_keeps_serving_and_recovers(
    tmp_path: Path, redis_server: RedisServer, fake_github: FakeGitHub
) -> None:
    url = redis_server.fresh_url()
    database = url.rsplit("/", 1)[1]
    env = {"GITHUB_API_URL": fake_github.url}
    with TcpProxy(redis_server.port) as proxy:
        through_proxy = f"redis://127.0.0.1:{proxy.port}/{database}"
        healthy, cut_off = start_servers(
            tmp_path, {**env, "ISSUEBRIDGE_REDIS_URL": url}, {**env, "ISSUEBRIDGE_REDIS_URL": through_proxy}
        )
        try:
            await push(healthy.url, "octo/app", ["Before"])
            async with httpx.AsyncClient(base_url=cut_off.url) as http:
                async with open_event_stream(f"{cut_off.url}/api/dashboard/events") as stream:
                    assert (await stream.next()).event == "initial_data"
                    proxy.cut()
                    health = await wait_for_health(http, 503)
                    assert health["status"] == "degraded" and "Redis is unreachable" in health["problem"]
                    assert str(proxy.port) not in health["problem"]
                    page = await http.get("/")
                    assert page.status_code == 200 and "Before" in page.text  # still served
                    refused = await http.post(
                        "/api/dashboard/sync-issues", json={"repository": "octo/app", "issues": []}
                    )
                    assert refused.status_code == 503 and "not saved" in refused.json()["error"]
                    assert str(proxy.port) in refused.json()["error"]  # the writer (a producer) is told where

                    await push(healthy.url, "octo/app", ["While away"])
                    proxy.restore()
                    await wait_for_health(http, 200)
                    update = await stream.next()
                    assert update.id == "2" and update.json()["data"]["issues"][0]["title"] == "While away"
                assert "reachable again" in cut_off.log and "unreachable" not in cut_off.log.split("again")[-1]
        finally:
            cut_off.stop()
            healthy.stop()


async def wait_for_health(http: httpx.AsyncClient, status: int) -> dict[str, Any]:
    """Poll ``/healthz`` until it answers ``status``: how soon is the worker's own reconnecting
    (a process of its own, on its real back-off), so only a generous bound, no window."""
    response = await http.get("/healthz")
    try:
        async with asyncio.timeout(20):
            while response.status_code != status:
                await asyncio.sleep(0.05)
                response = await http.get("/healthz")
    except TimeoutError:
        raise AssertionError(f"/healthz never answered {status}: {response.json()}") from None
    return dict(response.json())


async def test_a_selection_made_on_one_worker_reaches_pages_and_reads_on_the_other(
    two_workers: tuple[ServerProcess, ServerProcess],
) -> None:
    selecting, reading = two_workers
    async with open_event_stream(f"{reading.url}/api/dashboard/events?format=html") as stream:
        assert (await stream.next()).event == "snapshot"
        async with httpx.AsyncClient() as http:
            answer = await http.post(f"{selecting.url}/api/dashboard/selection", json={"add": ["Octo/App#9"]})
            assert answer.status_code == 200, answer.text
            update = await stream.next_past_progress()
            assert update.event == "selection" and update.json()["data"]["items"] == ["octo/app#9"]
            read = (await http.get(f"{reading.url}/api/dashboard/selection")).json()
    assert read == {"selected": [{"repository": "octo/app", "number": 9, "title": None}]}
