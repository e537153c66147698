"""Which boards are exactly what a GitHub fetch returned, with that fetch's validators.

A re-sync may ask GitHub "changed since?" only while the board on the dashboard is still the
one the validators describe: not replaced through the API, removed or cleared since. Store
revisions only grow, so comparing the board's revision with the one recorded tells.

Kept in memory: after a restart the first re-sync of each board is a full fetch.
"""

from __future__ import annotations

from typing import NamedTuple

from issuebridge.boards import Entry
from issuebridge.github import Validators


class Known(NamedTuple):
    """What the fetch that wrote a board saw: its validators, and how many items it left out."""

    revision: int
    validators: Validators
    skipped: int


class Freshness:
    def __init__(self) -> None:
        self._known: dict[str, Known] = {}

    def known(self, board: Entry | None) -> Known | None:
        """What the fetch that wrote ``board`` saw, if ``board`` is still what it wrote."""
        known = None if board is None else self._known.get(board.key)
        return known if board is not None and known is not None and known.revision == board.revision else None

    def remember(self, board: Entry, validators: Validators | None, skipped: int) -> None:
        """Record that ``board`` (as stored) is what a fetch with ``validators`` returned."""
        if validators is None:
            self._known.pop(board.key, None)
        else:
            self._known[board.key] = Known(board.revision, validators, skipped)
