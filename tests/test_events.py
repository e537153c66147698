import asyncio
import json

from issuebridge.events import Event, EventHub, Subscription, encode_event


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
    assert "retry: 2000" in encode_event("initial_data", {}, 1, retry=2000).decode()


async def test_every_subscriber_gets_every_event_in_order() -> None:
    hub = EventHub()

    async def first_three(subscription: Subscription) -> list[int]:
        ids: list[int] = []
        async for event in subscription:
            ids.append(event.id)
            if len(ids) == 3:
                break
        return ids

    async with hub.subscribe() as first, hub.subscribe() as second:
        for n in range(1, 4):
            hub.publish(Event(n, f"frame {n}".encode()))
        assert await first_three(first) == await first_three(second) == [1, 2, 3]
        hub.close()
        assert [event async for event in first] == []  # close ends the streams
    assert hub.subscriber_count == 0


async def test_a_subscriber_that_stops_reading_is_dropped_without_slowing_others() -> None:
    hub = EventHub(max_queued=4)
    async with hub.subscribe() as stalled, hub.subscribe() as reader:
        received: list[int] = []

        async def read() -> None:
            async for event in reader:
                received.append(event.id)

        task = asyncio.create_task(read())
        for n in range(1, 11):
            hub.publish(Event(n, b"x"))
            await asyncio.sleep(0)
        assert hub.subscriber_count == 1  # the stalled one is gone
        stalled_ids = [event.id async for event in stalled]  # it ends instead of blocking
        hub.close()
        await asyncio.wait_for(task, 1)
    assert received == list(range(1, 11))
    assert stalled_ids == []  # its stream ends at once; on reconnect it gets a fresh snapshot
