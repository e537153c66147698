"""Selecting and reading the selection: the one service the page's checkboxes, the HTTP API,
``get_dashboard`` and the ``dashboard://selection`` resource share."""

from __future__ import annotations

from collections import defaultdict

from issuebridge.dashboard.entries import Dashboard
from issuebridge.records.base import now, repository_key
from issuebridge.records.kind import SelectedView
from issuebridge.records.registry import KINDS, AnyEntry
from issuebridge.records.selection import SELECTION_KEY, Selection, split_item
from issuebridge.records.tracked import TrackedBoard

_ITEM_KINDS = tuple(kind.name for kind in KINDS if issubclass(kind.entry, TrackedBoard))


async def selected_items(dashboard: Dashboard) -> list[str]:
    """The selected items (``owner/repo#N``), in the order they were selected."""
    stored = await dashboard.get(SELECTION_KEY)
    return list(stored.items) if isinstance(stored, Selection) else []


async def change_selection(dashboard: Dashboard, add: list[str], remove: list[str]) -> Selection:
    """Select ``add`` and deselect ``remove`` (item ids, already valid), for every page and worker.

    A read-modify-write (``Dashboard.update``), so two pages ticking at once both count; an
    unchanged selection writes nothing. :class:`~issuebridge.records.selection.InvalidItem`
    past the bound, and nothing changes.
    """

    def change(stored: AnyEntry | None) -> Selection:
        current = stored if isinstance(stored, Selection) else Selection(source="api", last_updated=now())
        return Selection(source="api", last_updated=now(), items=current.changed(add, remove))

    written, _ = await dashboard.update(SELECTION_KEY, change)
    assert written is not None
    return written


async def clear_selection(dashboard: Dashboard) -> Selection:
    """Deselect everything."""
    return await change_selection(dashboard, [], await selected_items(dashboard))


async def selected_views(dashboard: Dashboard) -> list[SelectedView]:
    """The selection with each item's title, from the boards of its repository (each read once)."""
    items = [split_item(item) for item in await selected_items(dashboard)]
    wanted: dict[str, set[int]] = defaultdict(set)
    for repository, number in items:
        wanted[repository].add(number)
    titles: dict[tuple[str, int], str] = {}
    for repository, numbers in wanted.items():
        for kind in _ITEM_KINDS:
            board = await dashboard.get(repository_key(kind, repository))
            if isinstance(board, TrackedBoard):
                for row in board.rows:
                    if row.number in numbers:
                        titles.setdefault((repository, row.number), row.title)
    return [SelectedView(repository=r, number=n, title=titles.get((r, n))) for r, n in items]
