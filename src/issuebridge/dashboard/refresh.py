"""Optional background refresh: every board fetched from GitHub is synced again each interval, so
the dashboard stays current without the assistant (``ISSUEBRIDGE_REFRESH_SECONDS``).

A refresh is silent: an unchanged board (mostly two 304s, free against the rate limit) sends
pages nothing at all, and a changed one is written like any sync, so pages get the usual update.

Each board's refresh has the sync deadline (``ISSUEBRIDGE_CALL_TIMEOUT``): a board whose GitHub
never finishes answering fails like any other, backs off, and cannot keep the round from the
boards after it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable

from issuebridge.dashboard.sync import BoardSync, query_for
from issuebridge.github.errors import GitHubError, RateLimited
from issuebridge.records.registry import kind_of
from issuebridge.store import DashboardStore

logger = logging.getLogger(__name__)

# A failing board is tried again after 2, 4, 8, ... intervals, but at least once an hour (or once
# an interval, if that is longer).
BACKOFF_CAP_SECONDS = 3600.0
# A refresh's claim lasts a little less than an interval, so that timer jitter never lets a
# worker find its own claim from the previous round still held.
CLAIM_SHARE = 0.9


class Refresher:
    """Runs the rounds; one per ``interval`` seconds, each after the previous one has finished.

    ``clock`` (seconds, only ever compared) decides when a paused refresh or a failing board is
    due again; ``pause`` waits out the interval before each round. Tests pass both, to count
    rounds rather than time them.
    """

    def __init__(
        self,
        store: DashboardStore,
        boards: BoardSync,
        interval: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        pause: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.store = store
        self.boards = boards
        self.interval = interval
        self._clock = clock
        self._pause = pause
        # By quota ("core", "search"): when GitHub's rate limit lets its requests through again.
        self._paused_until: dict[str, float] = {}
        self._failures: dict[str, int] = {}
        self._retry_at: dict[str, float] = {}  # before this, a failing board waits

    async def run(self) -> None:
        """Refresh forever; nothing that goes wrong in a round ends the loop (cancel it to stop)."""
        while True:
            await self._pause(self.interval)
            try:
                await self.round()
            except Exception:
                logger.exception("Background refresh: a round failed; trying again in %g s", self.interval)

    async def round(self) -> None:
        """Refresh each board that has a GitHub query behind it, one at a time; while a rate limit
        is spent, the boards drawing on it wait (all of them for the core limit)."""
        for quota, until in list(self._paused_until.items()):
            if self._clock() >= until:
                del self._paused_until[quota]
                logger.info("Background refresh: GitHub's %s rate limit has reset; refreshing again", quota)
        if "core" in self._paused_until:
            return
        due = [
            (entry.key, kind_of(entry).quota) for entry in await self.store.entries() if query_for(entry) is not None
        ]
        for gone in set(self._failures) - {key for key, _ in due}:
            self._succeeded(gone)
        for key, quota in due:
            if quota in self._paused_until or (key in self._retry_at and self._retry_at[key] > self._clock()):
                continue
            # With several workers sharing a store, one of them refreshes each board per interval.
            if not await self.store.claim(f"refresh:{key}", self.interval * CLAIM_SHARE):
                continue
            try:
                await self.boards.resync(key)
            except RateLimited as exc:
                # Every other board on that quota would fail the same way (a secondary limit too:
                # it is per token): wait as long as GitHub said (a minute if it did not), and say
                # so once; at most as long as a back-off, should a broken GitHub name a reset
                # years ahead. A spent search limit holds up the views alone.
                pause = min(exc.wait.total_seconds(), max(BACKOFF_CAP_SECONDS, self.interval))
                self._paused_until[exc.quota] = self._clock() + pause
                logger.warning("Background refresh paused%s: %s", "" if exc.quota == "core" else " for views", exc)
                if exc.quota == "core":
                    return
            except GitHubError as exc:
                self._failed(key, str(exc))
            except Exception as exc:
                logger.exception("Background refresh of %s failed unexpectedly", key)
                self._failed(key, type(exc).__name__)
            else:
                self._succeeded(key)

    def _failed(self, key: str, reason: str) -> None:
        failures = self._failures[key] = self._failures.get(key, 0) + 1
        delay = min(self.interval * 2 ** min(failures, 20), max(BACKOFF_CAP_SECONDS, self.interval))
        self._retry_at[key] = self._clock() + delay
        logger.warning("Background refresh of %s failed (%s); next try in %g s", key, reason, delay)

    def _succeeded(self, key: str) -> None:
        self._failures.pop(key, None)
        self._retry_at.pop(key, None)


@contextlib.asynccontextmanager
async def background_refresh(refresher: Refresher | None) -> AsyncIterator[None]:
    """Run ``refresher`` (if any) while the context is open; stop it promptly on the way out."""
    if refresher is None:
        yield
        return
    task = asyncio.create_task(refresher.run(), name="issuebridge-refresh")
    logger.info("issuebridge: boards fetched from GitHub are refreshed every %g s", refresher.interval)
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
