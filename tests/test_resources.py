"""The resource notifier: a subscribed session that stops taking notifications cannot hold up writes."""

import asyncio
import time
from types import SimpleNamespace

import pytest
from mcp.server.mcpserver import MCPServer
from mcp.server.subscriptions import InMemorySubscriptionBus
from mcp_types import SubscribeRequestParams

from issuebridge import resources
from issuebridge.dashboard import Touched
from issuebridge.resources import ResourceNotifier, uris_for


class Session:
    def __init__(self, stuck: bool) -> None:
        self.stuck = stuck
        self.received: list[str] = []

    async def send_resource_updated(self, uri: str) -> None:
        if self.stuck:
            await asyncio.Event().wait()  # a client that never reads
        self.received.append(uri)


async def test_a_stuck_session_is_dropped_after_the_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(resources, "NOTIFY_TIMEOUT_SECONDS", 0.2)
    notifier = ResourceNotifier(MCPServer("test"), InMemorySubscriptionBus())
    stuck, healthy = Session(stuck=True), Session(stuck=False)
    uri = "dashboard://panels/status"
    for session in (stuck, healthy):
        await notifier._subscribe(SimpleNamespace(session=session), SubscribeRequestParams(uri=uri))

    started = time.monotonic()
    await notifier.changed([Touched("panel:status", None)])
    assert time.monotonic() - started < 1  # bounded, not forever
    assert healthy.received == [uri]

    started = time.monotonic()
    await notifier.changed([Touched("panel:status", None)])
    assert time.monotonic() - started < 0.1  # the stuck session was dropped
    assert healthy.received == [uri, uri]


def test_which_resources_a_change_touches() -> None:
    assert uris_for(Touched("issues:octo/app", "Octo/App")) == ["dashboard://boards", "dashboard://boards/octo/app"]
    assert uris_for(Touched("panel:notes", None)) == ["dashboard://boards", "dashboard://panels/notes"]
