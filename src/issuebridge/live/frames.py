"""The bytes of one Server-Sent Event, as every stream sends them.

An event's ``data`` is ``{"type": name, "data": ...}`` on one line, so that a client can route
on the payload alone; events without an id (progress) do not move a client's ``Last-Event-ID``.
"""

from __future__ import annotations

from typing import Any

import orjson
from sse_starlette import ServerSentEvent

# Tells EventSource clients how long to wait before reconnecting after the stream drops. Sent
# as the first frame of every stream.
RETRY_MILLISECONDS = 2000
RETRY_FRAME = ServerSentEvent(retry=RETRY_MILLISECONDS).encode()


def encode_event(name: str, data: dict[str, Any], event_id: int | None) -> bytes:
    """The wire form of one event: ``id``, ``event`` and a single-line JSON ``data`` field.

    ``data`` is ``{"type": name, "data": ...}`` so that a client can route on the payload alone.
    Events without an id (progress) do not move a client's ``Last-Event-ID``.
    """
    return encode_json_event(name, orjson.dumps(data), event_id)


def encode_json_event(name: str, data: bytes, event_id: int | None) -> bytes:
    """:func:`encode_event` for ``data`` that is JSON already.

    Laid out as sse-starlette's ``ServerSentEvent.encode`` lays out a frame, without its scan of
    the data for line breaks: JSON has none outside its strings, where they are escaped. On a
    new 5,000-issue board's 3 MB page event that scan alone took about 20 ms.
    """
    head = b"" if event_id is None else b"id: %d\r\n" % event_id
    envelope = b'{"type":' + orjson.dumps(name) + b',"data":' + data + b"}"
    return head + b"event: " + name.encode() + b"\r\ndata: " + envelope + b"\r\n\r\n"
