"""Dashboard sessions: what the browser's cookie holds, how long it lasts, and signing out.

A person signs in once with ``ISSUEBRIDGE_TOKEN`` (``web/auth.py``) and gets a session of its
own: a random id and an expiry, signed with a key derived from the token. The cookie never holds
the token, and changing the token ends every session. Signing out revokes the session in the
store (a claim that outlives the session), so a copy of the cookie stops working too, on every
worker sharing the store; requests that session has open in this process (an event stream) end
at once, and any open request ends when its session expires.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import re
import secrets
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

from starlette.types import Message, Receive, Scope

from issuebridge.store.base import Claims

COOKIE = "issuebridge_session"
SCOPE_KEY = "issuebridge.session"  # the verified session of a request, for the page's "Sign out"
_REVOKED = "session-revoked:"
_VALUE = re.compile(r"([A-Za-z0-9_-]{22})\.([0-9]{1,12})\.([0-9a-f]{64})")
_DISCONNECT: Message = {"type": "http.disconnect"}


@dataclass(frozen=True, slots=True)
class Session:
    id: str
    expires: int  # Unix time, whole seconds


def session_of(scope: Scope) -> Session | None:
    """The session a request was let in with, if it came with one."""
    found = scope.get(SCOPE_KEY)
    return found if isinstance(found, Session) else None


class Sessions:
    """Issues, checks and revokes sessions; ``clock`` is Unix time (injected by tests)."""

    def __init__(
        self, token: str, lifetime_seconds: float, store: Claims, clock: Callable[[], float] = time.time
    ) -> None:
        self._key = hmac.new(token.encode(), b"issuebridge dashboard session v2", hashlib.sha256).digest()
        self.lifetime = max(1, round(lifetime_seconds))
        self._store = store
        self._clock = clock
        self._open: dict[str, set[asyncio.Event]] = {}  # session id -> one event per open request

    def issue(self) -> str:
        """A new session's cookie value: ``id.expires.signature``."""
        session = Session(secrets.token_urlsafe(16), int(self._clock()) + self.lifetime)
        return f"{session.id}.{session.expires}.{self._signature(session)}"

    def read(self, value: str) -> Session | None:
        """The session a cookie value names, if this server signed it (expired or not); else None."""
        found = _VALUE.fullmatch(value)
        if found is None:
            return None
        session = Session(found[1], int(found[2]))
        return session if hmac.compare_digest(found[3], self._signature(session)) else None

    async def is_live(self, session: Session) -> bool:
        """Not expired, not revoked. Raises ``StoreError`` when the store cannot say."""
        now = self._clock()
        # A session may not outlast the current lifetime either: shortening it takes effect at once.
        if not now < session.expires <= now + self.lifetime:
            return False
        return not await self._store.claimed(_REVOKED + session.id)

    async def revoke(self, session: Session) -> None:
        """End ``session`` for every worker, and its open requests in this process."""
        remaining = session.expires - self._clock()
        if remaining > 0:  # the claim needs to outlive the session only, so it never piles up
            await self._store.claim(_REVOKED + session.id, remaining + 60)
        for ended in self._open.pop(session.id, set()):
            ended.set()

    @contextlib.asynccontextmanager
    async def held(self, session: Session, receive: Receive) -> AsyncIterator[Receive]:
        """``receive`` for a request let in by ``session``, reporting a disconnect once it ends."""
        ended = asyncio.Event()
        self._open.setdefault(session.id, set()).add(ended)

        async def receive_until_ended() -> Message:
            remaining = session.expires - self._clock()
            if ended.is_set() or remaining <= 0:
                return _DISCONNECT
            receiving = asyncio.ensure_future(receive())
            ending = asyncio.ensure_future(ended.wait())
            try:
                await asyncio.wait((receiving, ending), timeout=remaining, return_when=asyncio.FIRST_COMPLETED)
            finally:
                ending.cancel()
                if not receiving.done():
                    receiving.cancel()
            if receiving.done() and not receiving.cancelled():
                return receiving.result()
            ended.set()
            return _DISCONNECT

        try:
            yield receive_until_ended
        finally:
            requests = self._open.get(session.id)
            if requests is not None:
                requests.discard(ended)
                if not requests:
                    del self._open[session.id]

    def _signature(self, session: Session) -> str:
        return hmac.new(self._key, f"{session.id}.{session.expires}".encode(), hashlib.sha256).hexdigest()
