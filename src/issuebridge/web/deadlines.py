"""A deadline for reading a request's body, under any server.

uvicorn bounds neither how long a client may take to send its headers nor its body: one that
sends a byte every few seconds holds its connection, and a task, for ever. The body is bounded
here, for every route: from the moment the headers are in, the whole body must arrive within
``ISSUEBRIDGE_BODY_TIMEOUT`` seconds, or the request is answered 408 and the connection closed.
(The headers can only be bounded where uvicorn is configured: ``issuebridge serve``, see
``cli/connection_bounds.py``, or a proxy in front.)
"""

from __future__ import annotations

import anyio
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from issuebridge.web.errors import error


class _TooSlow(Exception):
    """Raised into the app from ``receive`` when the deadline passes."""


class BodyDeadline:
    """ASGI middleware: 408 for a request whose body takes longer than ``seconds`` to arrive."""

    def __init__(self, app: ASGIApp, seconds: float) -> None:
        self.app = app
        self._seconds = seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        deadline = anyio.current_time() + self._seconds
        body_read = expired = started = False

        async def receive_in_time() -> Message:
            nonlocal body_read, expired
            if body_read:  # what follows the body is only ever the disconnect: no deadline
                return await receive()
            try:
                with anyio.fail_after(max(0.0, deadline - anyio.current_time())):
                    message = await receive()
            except TimeoutError:
                expired = True
                raise _TooSlow from None
            body_read = message["type"] != "http.request" or not message.get("more_body", False)
            return message

        async def send_unless_expired(message: Message) -> None:
            nonlocal started
            if expired:
                return  # whatever the app makes of the interruption, the answer is the 408 below
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive_in_time, send_unless_expired)
        except Exception:
            if not expired:
                raise
        if expired and not started:
            response = error(
                408, f"the request body did not arrive within {self._seconds:g} s", headers={"Connection": "close"}
            )
            await response(scope, receive, send)
