"""Taking a list's pages: in parallel, in order, and never past the item limit.

The first page's ``Link: rel="last"`` gives the page count; the other pages are then fetched
concurrently (``concurrency`` requests in flight, never more than a few windows ahead of the
page being taken) and taken in order. Without a "last" link, "next" links are followed one at
a time. However many pages the Link headers promise, no more are fetched than could hold
``max_items`` items.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Generic, NamedTuple, TypeVar
from urllib.parse import quote

import httpx
import orjson
from githubkit.response import Response

from issuebridge.github.conditional import Validators, validators_of
from issuebridge.github.errors import GitHubUnavailable
from issuebridge.github.mapping import ItemMapping

PER_PAGE = 100
# How far ahead of the page being taken a fetch may run, in windows of `concurrency` pages.
LOOKAHEAD_WINDOWS = 4

Item = TypeVar("Item")
T = TypeVar("T")
# Called after each page with (pages done, total pages if known, the items that page added).
Progress = Callable[[int, int | None, list[Any]], Awaitable[None]]
Get = Callable[[str], Awaitable[Response[Any]]]


@dataclass(frozen=True, slots=True)
class Fetched(Generic[Item]):
    items: list[Item]
    skipped: int  # left out on purpose: the pull requests GitHub's issues list mixes in
    truncated: bool  # stopped at the item limit with more to come
    # None when the fetch cannot be checked cheaply next time (truncated, or GitHub sent no ETag).
    validators: Validators | None = None
    unreadable: int = 0  # items GitHub sent in a shape that cannot be read: left out, and counted
    renamed_to: str | None = None  # the repository's name now, if GitHub answered that it moved
    # GitHub's clock when it answered the first page (its Date header): lists are most recently
    # updated first, so every change made before then is on that page.
    listed_at: datetime | None = None


class Listing(NamedTuple):
    """One of a repository's lists (``issues``, ``pulls``, ``commits``) and its query."""

    owner: str
    repo: str
    name: str
    query: dict[str, str]

    @property
    def repository(self) -> str:
        return f"{self.owner}/{self.repo}"

    def repository_url(self, api_url: str) -> str:
        return f"{api_url}/repos/{quote(self.owner, safe='')}/{quote(self.repo, safe='')}"

    def url(self, api_url: str) -> str:
        url = f"{self.repository_url(api_url)}/{self.name}"
        return str(httpx.URL(url, params={**self.query, "per_page": PER_PAGE}))


class Collector(Generic[Item]):
    """Takes pages in order: maps their items, leaves out what the mapping skips or cannot read,
    and stops once GitHub has sent ``max_items`` items.

    Every item GitHub sent counts towards the limit: the pull requests in an issues list, items
    that cannot be read, and items sent twice (one that moves up the list while the pages are
    being fetched may appear twice, and is taken once).
    """

    def __init__(self, mapping: ItemMapping[Item], max_items: int) -> None:
        self.items: list[Item] = []
        self.skipped = 0
        self.unreadable = 0
        self.sent = 0
        self.cut = False  # a page held items past the limit
        self._mapping = mapping
        self._max_items = max_items
        self._seen: set[int | str | tuple[Any, ...]] = set()

    @property
    def full(self) -> bool:
        return self.sent >= self._max_items

    def items_of(self, page: Response[Any]) -> list[Any]:
        """The items of one page: a list's answer is the list itself (a search's holds it)."""
        return _items(page)

    def identity(self, item: dict[str, Any]) -> Any:
        """What tells an item sent twice: its number (a commit's sha) within one repository."""
        return item.get("number", item.get("sha"))

    def take(self, page: Response[Any]) -> None:
        items = self.items_of(page)
        room = self._max_items - self.sent
        if len(items) > room:
            self.cut, items = True, items[:room]
        self.sent += len(items)
        mapping = self._mapping
        picked: list[dict[str, Any]] = []
        for item in items:
            if not isinstance(item, dict):
                self.unreadable += 1
                continue
            identity = self.identity(item)
            if isinstance(identity, int | str | tuple):
                if identity in self._seen:
                    continue
                self._seen.add(identity)
            if mapping.skip is not None and mapping.skip(item):
                self.skipped += 1
                continue
            try:
                picked.append(mapping.fields(item))
            except (KeyError, TypeError, AttributeError, ValueError):
                self.unreadable += 1
        records, unreadable = mapping.records(picked)
        self.items.extend(records)
        self.unreadable += unreadable


async def pages(
    get: Get,
    first_url: str,
    first: Response[Any],
    collector: Collector[Item],
    progress: Progress | None,
    *,
    max_items: int,
    concurrency: int,
) -> Fetched[Item]:
    """Every page of a list whose first page is ``first``, taken by ``collector`` in order."""
    # Never more pages than could hold max_items, whatever the Link headers promise (a last
    # page of 1,000,000,000, or a next link on every page) and however few items each holds.
    max_pages = -(-max_items // PER_PAGE)
    last_link = link(first, "last")
    claimed = _page_number(last_link)
    last = min(claimed, max_pages) if claimed else None
    collector.take(first)
    if progress is not None:
        total = last or (None if link(first, "next") else 1)
        await progress(1, total, list(collector.items))
    final, final_url, more = first, first_url, False
    if last_link and claimed and last:
        # Pages 2..last: `concurrency` requests in flight whichever finish first, taken in
        # page order, never more than a few windows ahead of the page being taken.
        running: dict[int, asyncio.Task[Response[Any]]] = {}
        urls: dict[int, str] = {}
        next_page = head = 2
        try:
            while not collector.full and head <= last:
                while (
                    next_page <= last
                    and next_page < head + LOOKAHEAD_WINDOWS * concurrency
                    and sum(not task.done() for task in running.values()) < concurrency
                ):
                    urls[next_page] = str(last_link.copy_set_param("page", next_page))
                    running[next_page] = asyncio.ensure_future(get(urls[next_page]))
                    next_page += 1
                if not running[head].done():
                    await asyncio.wait(running.values(), return_when=asyncio.FIRST_COMPLETED)
                    _raise_first_failure(running.values())
                    continue
                final, final_url = running.pop(head).result(), urls[head]
                taken = len(collector.items)
                collector.take(final)
                if progress is not None:
                    await progress(head, last, collector.items[taken:])
                head += 1
        finally:
            await cancel(running.values())
        more = head <= claimed
    else:
        # No "last" link (GitHub omits it on some lists): follow "next" one page at a time.
        done = 1
        next_link = link(first, "next")
        while next_link is not None and not collector.full and done < max_pages:
            final, final_url = await get(str(next_link)), str(next_link)
            next_link = link(final, "next")
            done += 1
            taken = len(collector.items)
            collector.take(final)
            if progress is not None:
                await progress(done, None if next_link else done, collector.items[taken:])
        more = next_link is not None
    truncated = collector.cut or more
    return Fetched(
        collector.items,
        collector.skipped,
        truncated,
        None if truncated else validators_of(first_url, first, final_url, final),
        collector.unreadable,
        listed_at=_answered_at(first),
    )


def moved(response: Response[Any]) -> bool:
    """Whether GitHub answered 301 on the way: the repository has another name now."""
    return any(hop.status_code == 301 for hop in response.raw_response.history)


def link(response: Response[Any], rel: str) -> httpx.URL | None:
    """The ``Link`` header's URL for ``rel``; where it leads is checked when it is requested."""
    url = response.raw_response.links.get(rel, {}).get("url")
    if not url:
        return None
    try:
        return httpx.URL(url)
    except httpx.InvalidURL:
        raise GitHubUnavailable(f"GitHub sent a Link header whose {rel!r} page is not a URL.") from None


def _items(response: Response[Any]) -> list[Any]:
    try:
        items = orjson.loads(response.content)  # a 100-item page: ~0.8 ms, against ~2.5 ms with json
    except orjson.JSONDecodeError:
        raise GitHubUnavailable("GitHub answered with something that is not JSON.") from None
    if not isinstance(items, list):
        raise GitHubUnavailable("GitHub answered the list with something that is not a list.")
    return items


async def together(requests: Iterable[Awaitable[T]]) -> list[T]:
    """Run ``requests`` together; if one fails, cancel the others and raise its error."""
    tasks = [asyncio.ensure_future(request) for request in requests]
    try:
        return [await task for task in tasks]
    finally:
        await cancel(tasks)


def _raise_first_failure(tasks: Iterable[asyncio.Task[Response[Any]]]) -> None:
    """Fail fast: a later page's error ends the fetch without waiting for the pages before it."""
    for task in tasks:
        if task.done() and not task.cancelled() and (error := task.exception()) is not None:
            raise error


async def cancel(tasks: Iterable[asyncio.Future[Any]]) -> None:
    """Cancel what is still running and wait for it, so nothing outlives the HTTP client."""
    pending = [task for task in tasks if not task.done()]
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)


def _answered_at(response: Response[Any]) -> datetime | None:
    """The response's ``Date`` header as a time, or None if it is missing or unreadable."""
    try:
        return parsedate_to_datetime(response.raw_response.headers.get("date", "")).astimezone(UTC)
    except (TypeError, ValueError, OverflowError):
        return None


def _page_number(url: httpx.URL | None) -> int | None:
    """The page number in a ``Link`` URL (the page count, for ``rel="last"``)."""
    page = url.params.get("page", "") if url else ""
    return int(page) if page.isdigit() and len(page) < 12 else None
