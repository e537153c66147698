"""Which boards are exactly what a GitHub fetch returned, with that fetch's validators.

A re-sync may ask GitHub "changed since?" only while the board on the dashboard is still the
one the validators describe: not replaced through the API, changed by a webhook, removed or
cleared since. Store revisions only grow, so comparing the board's revision with the one recorded
tells.

The records are notes in the store, beside the boards: every worker sharing a store can confirm a
board another one fetched, and a restart keeps them.
"""

from __future__ import annotations

from typing import NamedTuple

from pydantic import TypeAdapter, ValidationError

from issuebridge.boards import Entry
from issuebridge.github import Validators
from issuebridge.store import DashboardStore


class Known(NamedTuple):
    """What the fetch that wrote a board saw: its validators, and how many items it left out
    (skipped on purpose, or unreadable), so that "unchanged" can report the same counts."""

    revision: int
    validators: Validators
    skipped: int
    unreadable: int = 0


_KNOWN = TypeAdapter(Known)


class Freshness:
    def __init__(self, store: DashboardStore) -> None:
        self._store = store

    async def known(self, board: Entry | None) -> Known | None:
        """What the fetch that wrote ``board`` saw, if ``board`` is still what it wrote."""
        if board is None or (raw := await self._store.read_note(_note(board.key))) is None:
            return None
        try:
            known = _KNOWN.validate_json(raw)
        except ValidationError:  # written by another version: a full fetch replaces it
            return None
        return known if known.revision == board.revision else None

    async def remember(self, board: Entry, validators: Validators | None, skipped: int, unreadable: int = 0) -> None:
        """Record that ``board`` (as stored) is what a fetch with ``validators`` returned."""
        known = None if validators is None else Known(board.revision, validators, skipped, unreadable)
        await self._store.write_note(_note(board.key), None if known is None else _KNOWN.dump_json(known).decode())

    async def forget(self, key: str) -> None:
        """Drop what was recorded for the board under ``key`` (it moved, or went away)."""
        await self._store.write_note(_note(key), None)


def _note(key: str) -> str:
    return f"validators:{key}"
