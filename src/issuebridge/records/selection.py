"""The selection: the issues and pull requests the user ticked on the page, for the assistant to read.

Why an entry, not a note: an entry already has everything the selection needs. It is written
atomically with a revision (SQLite and Redis both keep it across restarts), every worker applies
it from Redis's change log, and the announcer sends it to every open page with that revision as
its event id, so a page that reconnects gets exactly what it missed, and an MCP resource
notification follows. A note has none of that: it is durable, but no other worker or page
learns it changed. The one entry, under :data:`SELECTION_KEY`, is not *listed*
(``Kind.listed``): it is state beside the boards, never a board on the page or in
``get_dashboard``'s entries.

An item is ``owner/repo#N``, with the repository lower-cased (GitHub compares names so), so the
same issue is one item wherever it is shown. At most :data:`MAX_SELECTED` items are kept.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, Field

from issuebridge.errors import InvalidInput
from issuebridge.records.base import GITHUB_INT_MAX, Entry, parse_repository
from issuebridge.records.kind import EntryView, Kind, RowView, entry_view

SELECTION_KEY = "selection:"
MAX_SELECTED = 500
_ITEM = re.compile(r"([A-Za-z0-9][A-Za-z0-9-]{0,38}/[A-Za-z0-9._-]{1,100})#([1-9][0-9]{0,9})")


class InvalidItem(InvalidInput):
    """Not ``owner/repo#N``, or a selection past :data:`MAX_SELECTED` items."""


def item_id(value: str) -> str:
    """``value`` (``Owner/Repo#12``) as the item it names (``owner/repo#12``), matched whole."""
    found = _ITEM.fullmatch(value.strip()) if isinstance(value, str) else None
    if found is None or int(found[2]) > GITHUB_INT_MAX:
        raise InvalidItem(f"{str(value)[:200]!r} is not an issue or pull request: use 'owner/repo#N'")
    try:
        repository = parse_repository(found[1])
    except InvalidInput as exc:
        raise InvalidItem(str(exc)) from None
    return f"{repository.lower()}#{int(found[2])}"


def split_item(item: str) -> tuple[str, int]:
    """``("owner/repo", N)`` of an item id (one :func:`item_id` returned)."""
    repository, _, number = item.rpartition("#")
    return repository, int(number)


ItemId = Annotated[str, AfterValidator(item_id)]  # InvalidItem is a ValueError: pydantic reports it


class Selection(Entry):
    """The selected items, in the order they were selected."""

    kind: Literal["selection"] = "selection"
    items: Annotated[list[ItemId], Field(max_length=MAX_SELECTED)] = []

    @property
    def key(self) -> str:
        return SELECTION_KEY

    @property
    def related_repository(self) -> str | None:
        return None

    def changed(self, add: list[str], remove: list[str]) -> list[str]:
        """The items once ``add`` are selected and ``remove`` are not; :class:`InvalidItem` past the bound."""
        dropped = set(remove)
        items = [item for item in self.items if item not in dropped]
        kept = set(items)
        items += [item for item in dict.fromkeys(add) if item not in kept and item not in dropped]
        if len(items) > MAX_SELECTED:
            raise InvalidItem(f"at most {MAX_SELECTED} items may be selected ({len(items)} would be); clear some first")
        return items


def read_back(selection: Selection) -> EntryView:
    rows = []
    for position, item in enumerate(selection.items, start=1):
        _, number = split_item(item)
        rows.append(RowView(position=position, number=number, title=item))
    return entry_view(selection, title="Selected", count=len(rows), summary=f"{len(rows)} selected", rows=rows)


KIND = Kind(
    name="selection",
    entry=Selection,
    label="selection",
    title="selection",
    noun="item",
    json_group="selection",
    json_event="selection",
    template="_selection.html",
    macro="selection_data",
    read_back=read_back,
    listed=False,
)
