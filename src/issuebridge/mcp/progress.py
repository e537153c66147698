"""MCP progress for a tool call that fetches from GitHub: each page, and while GitHub is slow,
that the call is still waiting, so that clients which reset their request timeout on progress
wait for the call's own deadline and its message rather than give up first."""

from __future__ import annotations

import asyncio
from typing import Any

from mcp.server.mcpserver import Context

# Seconds without a page from GitHub after which a tool call tells the client it is still waiting.
PROGRESS_EVERY = 5.0


class CallProgress:
    """MCP progress for one sync: each page as it is taken, and while GitHub keeps the call
    waiting (a lock held by a refresh, a slow page), a "waiting for GitHub" note every ``every``
    seconds, so that a client that resets its request timeout on progress keeps waiting.

    Progress values only grow, as the protocol requires: each note while page ``done + 1`` is
    awaited goes halfway from the last value towards it.
    """

    def __init__(self, ctx: Context, repository: str, every: float) -> None:
        self._ctx = ctx
        self._repository = repository
        self._every = every
        self._done = 0
        self._total: int | None = None
        self._value = 0.0
        self._loop = asyncio.get_running_loop()
        self._last_sent = self._loop.time()

    async def page(self, done: int, total: int | None, rows: list[Any]) -> None:
        self._done, self._total = done, total
        await self._send(float(done), f"{self._repository}: page {done}" + (f" of {total}" if total else ""))

    async def keep_waiting(self) -> None:
        """Run until cancelled (when the sync ends)."""
        while True:
            await asyncio.sleep(self._last_sent + self._every - self._loop.time())
            if self._loop.time() - self._last_sent < self._every:
                continue  # a page came meanwhile
            if self._total is not None and self._done >= self._total:
                self._last_sent = self._loop.time()  # every page is in: nothing is awaited from GitHub
                continue
            nearer = self._value + (self._done + 1 - self._value) / 2
            await self._send(nearer, f"{self._repository}: waiting for GitHub (page {self._done + 1})")

    async def _send(self, value: float, message: str) -> None:
        self._value, self._last_sent = value, self._loop.time()
        await self._ctx.report_progress(value, self._total, message)
