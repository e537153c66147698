"""The resource notifier: a write only takes note; each session's queue is sent by its own task.

The real-server version, with SDK sessions whose clients stop reading, is
``tests/e2e/test_mcp_sessions.py::test_ten_stalled_sessions_never_hold_up_a_write``.
"""

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest
from mcp.server.mcpserver import MCPServer
from mcp.server.subscriptions import InMemorySubscriptionBus
from mcp.shared.exceptions import MCPError
from mcp_types import SubscribeRequestParams

from issuebridge.live.changes import Touched
from issuebridge.mcp import notifications
from issuebridge.mcp.notifications import MAX_SUBSCRIPTIONS, ResourceNotifier, uris_for
from tests.inprocess import until

STATUS = "dashboard://panels/status"


class Session:
    def __init__(self, stuck: bool) -> None:
        self.stuck = stuck
        self.received: list[str] = []
        self.waiting = asyncio.Event()

    async def send_resource_updated(self, uri: str) -> None:
        if self.stuck:
            self.waiting.set()
            await asyncio.Event().wait()  # a client that never reads
        self.received.append(uri)


async def subscribe(notifier: ResourceNotifier, session: Session, uri: str = STATUS) -> None:
    await notifier._subscribe(SimpleNamespace(session=session, request=None), SubscribeRequestParams(uri=uri))


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_a_change_returns_at_once_and_stuck_sessions_hold_up_no_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(notifications, "NOTIFY_TIMEOUT_SECONDS", 60.0)  # they stay stuck for the whole test
    notifier = ResourceNotifier(MCPServer("test"), InMemorySubscriptionBus())
    stuck = [Session(stuck=True) for _ in range(10)]
    healthy = Session(stuck=False)
    for session in [*stuck, healthy]:
        await subscribe(notifier, session)

    notifier.changed([Touched("panel:status", None)])  # not awaitable: a write cannot wait on it
    await settle()
    assert healthy.received == [STATUS]
    assert all(s.waiting.is_set() for s in stuck) and notifier.sending == 10

    for _ in range(1000):  # a thousand more writes while they are stuck: each session queues the URI once
        notifier.changed([Touched("panel:status", None)])
    await settle()
    assert healthy.received == [STATUS, STATUS] and notifier.sessions == 11
    assert all(len(outbox.pending) <= 1 for outbox in notifier._outboxes.values())


async def test_a_session_that_does_not_take_a_notification_in_time_is_dropped(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(notifications, "NOTIFY_TIMEOUT_SECONDS", 0.01)
    notifier = ResourceNotifier(MCPServer("test"), InMemorySubscriptionBus())
    stuck, healthy = Session(stuck=True), Session(stuck=False)
    await subscribe(notifier, stuck)
    await subscribe(notifier, healthy)
    notifier.changed([Touched("panel:status", None)])
    await until(lambda: notifier.sessions == 1)
    notifier.changed([Touched("panel:status", None)])
    await settle()
    assert healthy.received == [STATUS, STATUS] and not stuck.received


async def test_a_session_that_ended_is_forgotten_and_its_send_stopped() -> None:
    notifier = ResourceNotifier(MCPServer("test"), InMemorySubscriptionBus())
    stuck = Session(stuck=True)
    context: Any = SimpleNamespace(session=stuck, request=None)
    await notifier._subscribe(context, SubscribeRequestParams(uri=STATUS))
    notifier.changed([Touched("panel:status", None)])
    await asyncio.wait_for(stuck.waiting.wait(), 5)
    notifier.forget(notifications.session_key(context))
    await settle()
    assert notifier.sessions == 0 and notifier.sending == 0


async def test_a_session_may_subscribe_to_a_bounded_number_of_resources() -> None:
    notifier = ResourceNotifier(MCPServer("test"), InMemorySubscriptionBus())
    session = Session(stuck=False)
    for n in range(MAX_SUBSCRIPTIONS):
        await subscribe(notifier, session, f"dashboard://panels/p{n}")
    await subscribe(notifier, session, "dashboard://panels/p0")  # again: nothing new
    with pytest.raises(MCPError, match=f"at most {MAX_SUBSCRIPTIONS}"):
        await subscribe(notifier, session, "dashboard://panels/one-too-many")


def test_which_resources_a_change_touches() -> None:
    assert uris_for(Touched("issues:octo/app", "Octo/App")) == ["dashboard://boards", "dashboard://boards/octo/app"]
    assert uris_for(Touched("panel:notes", None)) == ["dashboard://boards", "dashboard://panels/notes"]
