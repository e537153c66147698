"""Keeps the API token out of uvicorn's access log, which logs every request line as sent.

A browser signs in with ``/?token=...``, and Starlette decodes the query before looking for
``token``, so ``/?%74oken=...`` or ``/?t%6Fken=...`` sign in as well; the log, though, shows the
query as it arrived. Two locks, so that neither depends on guessing how a client spells things:

1. every query parameter whose *decoded* name is ``token`` (in any case) loses its value;
2. the configured token itself is taken out wherever it appears in the line, raw or
   percent-encoded in any way (each path segment and query part is decoded, repeatedly, before
   it is compared), and if it could still be read after that, the whole request line goes.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import unquote, unquote_plus

REDACTED = "[redacted]"
ACCESS_LOGGER = "uvicorn.access"
# The request line's parts that a value can hide in; the separators themselves are kept.
_PARTS = re.compile(r"([/?&=;,\s\"'])")
_DECODING_ROUNDS = 4  # %2574 is %74 after one round and t after two; no client needs more


class RedactTokens(logging.Filter):
    """A filter on the access logger: rewrites each record's arguments before any handler sees them."""

    def __init__(self) -> None:
        super().__init__()
        self.tokens: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(self.redact(arg) if isinstance(arg, str) else arg for arg in record.args)
        elif isinstance(record.msg, str) and not record.args:
            record.msg = self.redact(record.msg)
        return True

    def redact(self, text: str) -> str:
        path, mark, query = text.partition("?")
        if mark:
            text = path + mark + "&".join(_without_token_value(pair) for pair in query.split("&"))
        if not any(token in decoded for token in self.tokens for decoded in _decodings(text)):
            return text
        text = "".join(REDACTED if self._holds_token(part) else part for part in _PARTS.split(text))
        return REDACTED if any(self._holds_token(decoded) for decoded in _decodings(text)) else text

    def _holds_token(self, text: str) -> bool:
        return any(token in decoded for token in self.tokens for decoded in _decodings(text))


def _without_token_value(pair: str) -> str:
    name, equals, _ = pair.partition("=")
    return f"{name}={REDACTED}" if equals and unquote_plus(name).strip().lower() == "token" else pair


def _decodings(text: str) -> set[str]:
    """``text`` and everything it decodes to within a few rounds (``+`` read as a space and as itself)."""
    seen = {text}
    frontier = [text]
    for _ in range(_DECODING_ROUNDS):
        frontier = [decoded for t in frontier for decoded in (unquote(t), unquote_plus(t)) if decoded not in seen]
        if not frontier:
            break
        seen.update(frontier)
    return seen


def redact_access_log(token: str | None) -> None:
    """Install the filter on uvicorn's access logger once per process, and have it hide ``token``."""
    access = logging.getLogger(ACCESS_LOGGER)
    existing = next((f for f in access.filters if isinstance(f, RedactTokens)), None)
    if existing is None:
        existing = RedactTokens()
        access.addFilter(existing)
    if token:
        existing.tokens.add(token)
