import asyncio
import contextvars
import json

import pytest
from starlette.types import Message

from issuebridge.live.delivery import PIECE_BYTES, STALL_BYTES, Delivery, Stalled, Stalls
from issuebridge.live.frames import RETRY_FRAME, encode_event
from issuebridge.live.hub import HEARTBEAT, Event, EventHub, Subscription


def event(n: int, size: int = 1) -> Event:
    return Event(n, {"json": b"j" * size, "html": b"h" * size})


def test_encode_event_is_one_sse_frame_with_id_and_json_payload() -> None:
    frame = encode_event("issues_update", {"repository": "a/b", "title": "line\nbreak"}, 42).decode()
    lines = frame.rstrip("\r\n").splitlines()
    assert lines[0] == "id: 42"
    assert lines[1] == "event: issues_update"
    assert lines[2].startswith("data: ")
    assert len(lines) == 3  # the newline inside the payload is escaped by JSON, not split
    assert json.loads(lines[2].removeprefix("data: ")) == {
        "type": "issues_update",
        "data": {"repository": "a/b", "title": "line\nbreak"},
    }
    assert RETRY_FRAME == b"retry: 2000\r\n\r\n"


async def test_every_subscriber_gets_every_event_in_order() -> None:
    hub = EventHub()

    async def first_three(subscription: Subscription) -> list[int | None]:
        ids: list[int | None] = []
        async for received in subscription:
            ids.append(received.id)
            if len(ids) == 3:
                break
        return ids

    async with hub.subscribe() as first, hub.subscribe() as second:
        for n in range(1, 4):
            hub.publish(event(n))
        assert await first_three(first) == await first_three(second) == [1, 2, 3]
        hub.close()
        assert [received async for received in first] == []  # close ends the streams
    assert hub.subscriber_count == 0


async def test_a_subscriber_that_stops_reading_is_dropped_without_slowing_others() -> None:
    hub = EventHub(max_queued=4)
    async with hub.subscribe() as stalled, hub.subscribe() as reader:
        received: list[int | None] = []

        async def read() -> None:
            async for item in reader:
                received.append(item.id)

        task = asyncio.create_task(read())
        for n in range(1, 11):
            hub.publish(event(n))
            await asyncio.sleep(0)
        assert hub.subscriber_count == 1  # the stalled one is gone
        stalled_ids = [item.id async for item in stalled]  # it ends instead of blocking
        hub.close()
        await asyncio.wait_for(task, 1)
    assert received == list(range(1, 11))
    assert stalled_ids == []  # its stream ends at once; on reconnect it catches up


def test_missed_events_come_from_history_or_not_at_all() -> None:
    hub = EventHub(history_events=3)
    assert hub.missed_since(0, 0) == []  # in step, nothing happened
    assert hub.missed_since(0, 5) is None  # nothing remembered: the client needs a snapshot
    for n in range(1, 6):
        hub.publish(event(n))
    # History holds 3, 4, 5.
    assert [e.id for e in hub.missed_since(2, 5) or []] == [3, 4, 5]
    assert [e.id for e in hub.missed_since(4, 5) or []] == [5]
    assert hub.missed_since(5, 5) == []
    assert hub.missed_since(1, 5) is None  # event 2 is gone
    assert hub.missed_since(9, 5) is None  # an id from another database
    assert [e.id for e in hub.missed_since(2, 4) or []] == [3, 4]  # not beyond the caller's revision


def test_history_is_bounded_in_bytes_too() -> None:
    hub = EventHub(history_events=100, history_bytes=50)
    for n in range(1, 5):
        hub.publish(event(n, size=10))  # 20 bytes each over both formats
    assert [e.id for e in hub.missed_since(2, 4) or []] == [3, 4]
    assert hub.missed_since(1, 4) is None
    hub.publish(event(5, size=100))  # larger than the whole budget: nothing can be replayed
    assert hub.missed_since(4, 5) is None


async def test_a_heartbeat_tick_pings_only_the_subscribers_that_were_sent_nothing() -> None:
    hub = EventHub()
    async with hub.subscribe() as busy, hub.subscribe() as idle:
        hub.heartbeat()  # both just opened: nothing to send yet
        assert busy.pop() is idle.pop() is None
        assert busy.offer(event(1))
        hub.heartbeat()  # idle was sent nothing since the last tick; busy had event 1
        assert busy.pop() == event(1) and busy.pop() is None
        assert (ping := idle.pop()) is HEARTBEAT
        assert ping.frames["json"] == ping.frames["html"] == b": ping\r\n\r\n"  # one comment, whatever the format
        hub.heartbeat()
        assert busy.pop() is HEARTBEAT and idle.pop() is None  # a ping counts as activity: one per two ticks


async def test_one_timer_keeps_every_idle_stream_alive() -> None:
    hub = EventHub()
    async with hub.subscribe() as first, hub.subscribe() as second:
        timer = asyncio.create_task(hub.keep_alive(0.04))
        try:
            first_ping, second_ping = await asyncio.wait_for(asyncio.gather(first.next(), second.next()), 1)
        finally:
            timer.cancel()
    assert first_ping is second_ping is HEARTBEAT


async def test_a_waiting_stream_can_take_events_straight_from_publish() -> None:
    hub = EventHub(max_queued=2)
    delivered: list[int | None] = []

    def take(e: Event) -> bool:
        delivered.append(e.id)
        return True

    async with hub.subscribe() as subscription:
        subscription.deliver = take
        hub.publish(event(1))
        hub.publish(event(2))
        assert delivered == [1, 2] and subscription.pop() is None  # nothing queued, nobody woken
        subscription.deliver = None  # the stream is busy (a slow send): events queue again
        hub.publish(event(3))
        subscription.deliver = take
        hub.publish(event(4))  # queued behind 3, not delivered ahead of it
        assert delivered == [1, 2]
        assert [subscription.pop(), subscription.pop()] == [event(3), event(4)]
        hub.publish(event(5))
        assert delivered == [1, 2, 5]


async def test_streams_opened_after_close_end_at_once() -> None:
    hub = EventHub()
    hub.close()  # the server is shutting down
    async with hub.subscribe() as late:
        assert late.ended and await late.next() is None
    assert hub.subscriber_count == 0


# How a stream follows its subscription (issuebridge.live.delivery): events written from publish,
# and a send that has to wait holding back the ones after it.


def numbered(n: int) -> Event:
    return Event(n, {"json": b"j%d" % n, "html": b"h%d" % n})


async def test_a_stream_sends_from_publish_and_a_slow_send_holds_back_the_rest() -> None:
    hub = EventHub()
    sent: list[bytes] = []
    slow: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    async def send(message: Message) -> None:
        if message["body"] == b"j3":  # the client stops reading: this send waits for room
            await slow
        sent.append(message["body"])

    async with hub.subscribe() as subscription:
        stream = asyncio.create_task(Delivery(subscription, send, "json", timeout=5, stalls=Stalls()).run(1))
        await asyncio.sleep(0)  # the stream is waiting
        hub.publish(numbered(1))  # already in the catch-up
        hub.publish(numbered(2))
        assert sent == [b"j2"]  # written within publish
        hub.publish(numbered(3))
        hub.publish(numbered(4))  # queued behind the waiting send
        assert sent == [b"j2"]
        slow.set_result(None)
        for _ in range(5):
            await asyncio.sleep(0)
        assert sent == [b"j2", b"j3", b"j4"]
        hub.publish(numbered(5))
        assert sent == [b"j2", b"j3", b"j4", b"j5"]  # back to writing within publish
        hub.close()
        await asyncio.wait_for(stream, 1)


STREAM = contextvars.ContextVar[str]("stream", default="publisher")


async def test_sends_run_in_the_streams_context_and_a_waiting_one_is_finished_like_a_task() -> None:
    """Written within publish or finished by the stream's task, a send runs in its stream's context;
    one that waits gets what it waited for, and the stream's cancellation, as under its own task."""
    hub = EventHub()
    seen: list[tuple[bytes, str]] = []
    room: asyncio.Future[str] = asyncio.get_running_loop().create_future()
    other_waiter_of_room: list[str] = []
    cleaned_up: list[bytes] = []

    async def send(message: Message) -> None:
        try:
            if message["body"] == b"j2":
                seen.append((b"room: " + (await room).encode(), STREAM.get()))
            if message["body"] == b"j4":
                await asyncio.get_running_loop().create_future()  # never: cancelled with the stream
            seen.append((message["body"], STREAM.get()))
        finally:
            cleaned_up.append(message["body"])

    async def stream_task(subscription: Subscription) -> None:
        STREAM.set("stream")
        await Delivery(subscription, send, "json", timeout=5, stalls=Stalls()).run(0)

    async def also_waits_for_room() -> None:
        other_waiter_of_room.append(await room)

    async with hub.subscribe() as subscription:
        stream = asyncio.create_task(stream_task(subscription))
        await asyncio.sleep(0)  # the stream is waiting
        hub.publish(numbered(1))  # written within publish, in the stream's context
        assert seen == [(b"j1", "stream")]
        hub.publish(numbered(2))  # waits for room: handed to the stream's task
        other = asyncio.create_task(also_waits_for_room())
        for _ in range(3):
            await asyncio.sleep(0)
        room.set_result("made")
        await asyncio.wait_for(other, 1)
        for _ in range(3):
            await asyncio.sleep(0)
        assert seen[1:] == [(b"room: made", "stream"), (b"j2", "stream")] and other_waiter_of_room == ["made"]
        hub.publish(numbered(3))
        hub.publish(numbered(4))
        await asyncio.sleep(0)
        stream.cancel()
        with pytest.raises(asyncio.CancelledError):
            await stream
    assert seen[3:] == [(b"j3", "stream")] and cleaned_up == [b"j1", b"j2", b"j3", b"j4"]


async def test_a_failing_send_fails_its_own_stream_only() -> None:
    hub = EventHub()
    received: list[bytes] = []

    async def broken(message: Message) -> None:
        raise RuntimeError("the connection is in a bad state")

    async def working(message: Message) -> None:
        received.append(message["body"])

    async with hub.subscribe() as first, hub.subscribe() as second:
        failing = asyncio.create_task(Delivery(first, broken, "html", timeout=5, stalls=Stalls()).run(0))
        healthy = asyncio.create_task(Delivery(second, working, "html", timeout=5, stalls=Stalls()).run(0))
        await asyncio.sleep(0)
        hub.publish(numbered(1))  # publish itself does not raise
        hub.publish(numbered(2))
        assert received == [b"h1", b"h2"]
        with pytest.raises(RuntimeError, match="bad state"):
            await asyncio.wait_for(failing, 1)
        hub.close()
        await asyncio.wait_for(healthy, 1)


async def test_a_restart_ends_every_stream_and_forgets_the_history_but_keeps_serving() -> None:
    """After a store reload (Redis): what was sent can no longer be built on, so every page reconnects."""
    hub = EventHub()
    async with hub.subscribe() as open_stream:
        for n in (1, 2, 3):
            hub.publish(event(n))
        hub.restart()
        assert open_stream.ended and [e.id async for e in open_stream] == []
        assert hub.missed_since(2, 3) is None  # a reconnecting page gets a snapshot
        assert hub.subscriber_count == 0
    async with hub.subscribe() as reconnected:  # unlike close(), new streams are served
        hub.publish(event(4))
        assert (await asyncio.wait_for(reconnected.next(), 1)) == event(4)
        assert [e.id for e in hub.missed_since(3, 4) or []] == [4]


# Bounds (issue 14, items 8 and 11): bytes per subscriber, gaps in the ids, frames in pieces,
# a deadline per send and a budget for all the sends that wait.


async def test_a_subscriber_is_bounded_by_the_bytes_it_holds_not_only_by_count() -> None:
    hub = EventHub(max_queued=100, max_queued_bytes=100)
    async with hub.subscribe() as behind, hub.subscribe() as reader:
        for n in range(1, 6):
            hub.publish(event(n, size=10))  # 20 bytes each, both formats: 100 in all
            assert reader.pop() == event(n, size=10)
        assert behind.held_bytes == 100 and hub.subscriber_count == 2
        in_flight = behind.pop()  # taken by its stream but not yet written: still held
        assert in_flight == event(1, size=10) and behind.held_bytes == 100
        hub.publish(event(6, size=10))
        assert behind.ended and hub.subscriber_count == 1  # one byte too many: dropped
        assert reader.pop() == event(6, size=10)
        reader.finished()
        assert reader.held_bytes == 0  # what a subscriber has written no longer counts


def test_replay_notices_an_event_that_was_never_published() -> None:
    hub = EventHub()
    for n in (1, 2, 4, 5):  # revision 3 was stored, but its event could not be built
        hub.publish(event(n))
    assert hub.missed_since(2, 5) is None  # not [4, 5]: the client would miss revision 3
    assert hub.missed_since(1, 5) is None
    assert [e.id for e in hub.missed_since(3, 5) or []] == [4, 5]
    assert hub.missed_since(5, 6) is None  # the store is ahead of everything published


async def test_a_stream_ends_when_a_revision_is_skipped_instead_of_missing_it() -> None:
    hub = EventHub()
    sent: list[bytes] = []

    async def send(message: Message) -> None:
        sent.append(message["body"])

    async with hub.subscribe() as subscription:
        stream = asyncio.create_task(Delivery(subscription, send, "json", timeout=5, stalls=Stalls()).run(1))
        await asyncio.sleep(0)
        hub.publish(numbered(2))
        hub.publish(numbered(4))  # 3 never came
        await asyncio.wait_for(stream, 1)  # the stream ends: its client reconnects from 2 and gets a snapshot
    assert sent == [b"j2"]


async def test_a_large_frame_goes_out_in_pieces() -> None:
    hub = EventHub()
    bodies: list[bytes] = []

    async def send(message: Message) -> None:
        bodies.append(message["body"])

    frame = bytes(range(256)) * (3 * PIECE_BYTES // 256) + b"tail"
    async with hub.subscribe() as subscription:
        stream = asyncio.create_task(Delivery(subscription, send, "json", timeout=5, stalls=Stalls()).run(0))
        await asyncio.sleep(0)
        hub.publish(Event(1, {"json": frame}))
        hub.publish(numbered(2))
        for _ in range(10):
            await asyncio.sleep(0)
        hub.close()
        await asyncio.wait_for(stream, 1)
    assert len(bodies) == 5 and all(len(body) <= PIECE_BYTES for body in bodies)
    assert b"".join(bodies[:4]) == frame and bodies[4] == b"j2"


async def test_a_send_the_client_does_not_take_in_time_ends_the_stream() -> None:
    hub = EventHub()
    never: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    async def stuck(message: Message) -> None:
        await never  # the client stopped reading: uvicorn waits for its buffer to drain

    async with hub.subscribe() as subscription:
        stream = asyncio.create_task(Delivery(subscription, stuck, "json", timeout=0.01, stalls=Stalls()).run(0))
        await asyncio.sleep(0)
        hub.publish(numbered(1))
        with pytest.raises(Stalled, match="took nothing"):
            await asyncio.wait_for(stream, 5)
    assert never.cancelled()  # the send was given up (uvicorn's wait for the buffer to drain)


async def test_streams_waiting_for_their_clients_share_one_budget() -> None:
    never: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    async def stuck(message: Message) -> None:
        await never

    stalls = Stalls(max_bytes=STALL_BYTES)  # room for one stalled stream
    first = asyncio.create_task(
        Delivery(Subscription(1), stuck, "json", timeout=60, stalls=stalls).message(
            {"type": "http.response.body", "body": b"x"}
        )
    )
    await asyncio.sleep(0)
    assert stalls.held == STALL_BYTES
    with pytest.raises(Stalled, match="too many streams"):  # refused at once, not after the deadline
        await Delivery(Subscription(1), stuck, "json", timeout=1, stalls=stalls).message(
            {"type": "http.response.body", "body": b"y"}
        )
    first.cancel()
    with pytest.raises(asyncio.CancelledError):
        await first
    assert stalls.held == 0


@pytest.mark.parametrize("variant", ["queued", "plain"])
async def test_the_ablations_variants_send_every_event_from_the_streams_task(variant: str) -> None:
    """``bench.fanout --ablation`` compares with these: they must deliver the same, without the fast path."""
    from bench.delivery_variants import VARIANTS

    hub = EventHub()
    sent: list[bytes] = []

    async def send(message: Message) -> None:
        sent.append(message["body"])

    async with hub.subscribe() as subscription:
        stream = asyncio.create_task(VARIANTS[variant](subscription, send, "json", timeout=5, stalls=Stalls()).run(0))
        await asyncio.sleep(0)
        hub.publish(numbered(1))
        assert subscription.deliver is None and sent == []  # queued: nothing is written within publish
        hub.publish(numbered(2))
        for _ in range(3):
            await asyncio.sleep(0)
        assert sent == [b"j1", b"j2"]
        hub.close()
        await asyncio.wait_for(stream, 1)
