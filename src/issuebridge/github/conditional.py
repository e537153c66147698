"""Conditional requests: asking GitHub "changed since?" instead of fetching a list again.

:class:`Validators` are what a complete fetch saw (its first and last pages' ETags). A re-sync
may use them only while the board on the dashboard is still the one they describe: not
replaced through the API, changed by a webhook, removed or cleared since. Store revisions only
grow, so comparing the board's revision with the one recorded tells (:class:`Freshness`).

The records are notes in the store, beside the boards: every worker sharing a store can confirm a
board another one fetched, and a restart keeps them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

from githubkit.response import Response
from pydantic import TypeAdapter, ValidationError

from issuebridge.records.base import Entry
from issuebridge.store import DashboardStore


@dataclass(frozen=True, slots=True)
class Validators:
    """The ETags of a complete fetch's first and last pages, so the next fetch can ask "changed?".

    Lists are fetched most recently updated first. Any edit, new item or reopening therefore
    changes the first page, and anything leaving the list (closed, deleted, transferred) shifts
    every later page, the last one included. Asking for both pages with ``If-None-Match``, at the
    same time, tells in one round trip whether anything changed; GitHub answers 304 to both when
    nothing did, and 304s do not count against the rate limit.
    """

    first_url: str
    first_etag: str
    last_url: str | None  # None when everything fitted on the first page
    last_etag: str | None
    # Every page's URL and ETag, where the first and last do not tell (a search in best-match
    # order: an edited item stays on its page). Asked for all at once (``github/search.py``).
    pages: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class Unchanged:
    """GitHub confirmed (304) that the list is what the given validators describe."""


def validators_of(first_url: str, first: Response[Any], last_url: str, last: Response[Any]) -> Validators | None:
    """The ETags of the first and last pages, under the URLs asked for: a page GitHub served
    from elsewhere (a redirect) is asked for under the same URL next time."""
    first_etag = first.raw_response.headers.get("etag")
    last_etag = last.raw_response.headers.get("etag")
    if not first_etag or not last_etag:
        return None
    if last is first:
        return Validators(first_url, first_etag, None, None)
    return Validators(first_url, first_etag, last_url, last_etag)


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
