"""Errors as HTTP answers: one JSON shape, and ``IssuebridgeError`` mapped to it once.

Every error answer is ``{"error": message, ...}`` with a fitting status. A service's error
(``errors.IssuebridgeError``) carries both: routes answer it with :func:`answer`, and one that
escapes a route is answered the same way by :func:`handle` (the app's exception handler).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from issuebridge.errors import IssuebridgeError


def error(status: int, message: str, *, headers: Mapping[str, str] | None = None, **extra: Any) -> JSONResponse:
    """The one shape of an error answer: ``{"error": message, **extra}``."""
    return JSONResponse({"error": message, **extra}, status_code=status, headers=headers)


def answer(exc: IssuebridgeError, subject: str = "the change", *, then: str | None = None) -> JSONResponse:
    """``exc`` as an answer: its status, and its words about ``subject`` ("the board"), followed
    by ``then`` (what the caller may do next) if given."""
    message = exc.about(subject)
    return error(exc.status, f"{message}; {then}" if then else message)


async def handle(request: Request, exc: Exception) -> Response:
    """The app's handler for an ``IssuebridgeError`` no route answered."""
    assert isinstance(exc, IssuebridgeError)
    return answer(exc)
