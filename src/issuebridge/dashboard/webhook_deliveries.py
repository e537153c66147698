"""Applying a GitHub webhook delivery to its board, once.

Each delivery (``X-GitHub-Delivery``) is recorded in the store (a claim, 7 days, across restarts
and workers) once its change is written, and a redelivery of a recorded one is a duplicate.
Nothing is recorded before the write: a delivery that failed (the store away, a crash
mid-write) is applied when GitHub redelivers it. Two copies arriving at once may both be
applied, which is harmless: applying a change again never moves a board (``records/tracked.py``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from issuebridge.dashboard.entries import Dashboard
from issuebridge.records.base import Entry, now
from issuebridge.records.registry import kind_of
from issuebridge.records.tracked import After, RowChange, board_after
from issuebridge.store.base import Claims, StoreError

logger = logging.getLogger(__name__)

# GitHub lets a delivery be redelivered for 3 days; a claim outlasts that.
DELIVERY_CLAIM_SECONDS = 7 * 24 * 3600.0


@dataclass(frozen=True, slots=True)
class Applied:
    """What a delivery did: ``after`` is None if no board of its kind shows its repository."""

    stored: Entry | None
    after: After[Any] | None
    views: tuple[str, ...] = ()  # the search views whose row of the item it updated


class WebhookDeliveries:
    def __init__(self, dashboard: Dashboard, claims: Claims) -> None:
        self._dashboard = dashboard
        self._claims = claims

    async def applied_before(self, delivery: str) -> bool:
        """Whether ``delivery`` was applied and recorded already. Raises ``StoreError``."""
        return await self._claims.claimed(_claim(delivery))

    async def apply(self, delivery: str, change: RowChange) -> Applied:
        """Apply ``change`` to its board, then record ``delivery`` as applied. Raises ``StoreError``
        if the board could not be written (nothing is recorded: a redelivery tries again)."""
        at = now()
        outcome: list[After[Any]] = []  # what the last application of the change (the one written) did

        def record_outcome(after: After[Any] | None) -> Entry | None:
            outcome[:] = [] if after is None else [after]
            return None if after is None else after.board

        stored, _ = await self._dashboard.update(change.key, lambda b: record_outcome(board_after(b, change, at)))
        views = await self._watching(change, at)
        try:
            await self._claims.claim(_claim(delivery), DELIVERY_CLAIM_SECONDS)
        except StoreError:  # applied all the same: a redelivery applies it again, which changes nothing
            logger.warning("Webhook delivery %s was applied but could not be recorded as applied", delivery)
        return Applied(stored, outcome[0] if stored is not None and outcome else None, views)

    async def _watching(self, change: RowChange, at: datetime) -> tuple[str, ...]:
        """Apply ``change`` to every entry of a kind that shows rows of other boards (search views:
        ``Kind.watches``) and shows the item; the keys of those it changed."""
        changed_keys = []
        for entry in await self._dashboard.entries():
            kind = kind_of(entry)
            watches = kind.watches
            if watches is None:
                continue

            def after(current: Entry | None, kind: Any = kind, watches: Any = watches) -> Entry | None:
                return watches(current, change, at) if isinstance(current, kind.entry) else None

            _, changed = await self._dashboard.update(entry.key, after)
            if changed:
                changed_keys.append(entry.key)
        return tuple(changed_keys)


def _claim(delivery: str) -> str:
    return f"webhook:{delivery}"
