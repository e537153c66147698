"""Reading request bodies: bounded in size, and JSON that cannot crash what reads it afterwards.

The JSON API and the webhook route both read their bodies here, so that any body either parses
into plain values no deeper than :data:`MAX_JSON_DEPTH`, or is refused with one clear reason
(a 400 at the route), never an exception further in.
"""

from __future__ import annotations

import json
from itertools import chain
from typing import Any, NoReturn

from starlette.requests import Request

from issuebridge.errors import InvalidInput, IssuebridgeError

# Far deeper than anything issuebridge reads (a GitHub webhook payload nests about six levels),
# and shallow enough that code walking the value can never exhaust Python's recursion limit.
MAX_JSON_DEPTH = 64


class BodyTooLarge(IssuebridgeError):
    """The body is larger than the route's limit; it was not read to the end."""

    status = 413

    def __init__(self, limit: int) -> None:
        super().__init__(f"the body is larger than the limit of {limit} bytes")


class InvalidJson(InvalidInput):
    """The body is not JSON issuebridge can use; the message says why, for the client."""


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, refusing more than ``limit`` bytes without reading them all."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge(limit)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise BodyTooLarge(limit)
    return bytes(body)


def parse_json(body: bytes) -> Any:
    """``body`` as JSON (UTF-8, standard constants only, at most :data:`MAX_JSON_DEPTH` deep).

    Raises :class:`InvalidJson`. The depth is checked on the parsed value, level by level and
    without recursion; ``json`` itself recurses once per level and gives up (RecursionError)
    somewhere near a thousand, which is reported the same way.
    """
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidJson(f"the body is not valid JSON: it is not UTF-8 ({exc.reason} at byte {exc.start})") from None
    try:
        value = json.loads(text, parse_constant=_refuse_constant)
    except RecursionError:
        raise InvalidJson(_TOO_DEEP) from None
    except ValueError as exc:  # JSONDecodeError, and ints longer than Python converts
        raise InvalidJson(f"the body is not valid JSON: {exc}") from None
    if _deeper_than(value, MAX_JSON_DEPTH):
        raise InvalidJson(_TOO_DEEP)
    return value


_TOO_DEEP = f"the body is not valid JSON for this server: it nests arrays or objects more than {MAX_JSON_DEPTH} deep"


def _refuse_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not a JSON value")


def _deeper_than(value: Any, limit: int) -> bool:
    """Whether ``value`` nests lists and dicts more than ``limit`` levels deep (breadth first)."""
    level = [value]
    for _ in range(limit + 1):
        containers = [item for item in level if isinstance(item, dict | list)]
        if not containers:
            return False
        level = list(chain.from_iterable(c.values() if isinstance(c, dict) else c for c in containers))
    return True
