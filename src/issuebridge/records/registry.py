"""Every kind of entry, in one place: what the rest of the code asks instead of testing classes.

A new kind is a module beside this one (its record, its board, what is derived from it, how it
reads back, its GitHub query, all in its :class:`~issuebridge.records.kind.Kind`), a macro in
``templates/``, and its line here: in :data:`KINDS` and in the :data:`AnyEntry` union.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any

from pydantic import Field, TypeAdapter

from issuebridge.records import commits, issues, panels, pulls, selection, views
from issuebridge.records.base import Entry, Repairs
from issuebridge.records.commits import CommitsBoard
from issuebridge.records.issues import IssuesBoard
from issuebridge.records.kind import Kind
from issuebridge.records.panels import Panel
from issuebridge.records.pulls import PullsBoard
from issuebridge.records.selection import Selection
from issuebridge.records.views import View

logger = logging.getLogger(__name__)

KINDS: tuple[Kind[Any], ...] = (issues.KIND, pulls.KIND, commits.KIND, views.KIND, panels.KIND, selection.KIND)
AnyEntry = Annotated[IssuesBoard | PullsBoard | CommitsBoard | View | Panel | Selection, Field(discriminator="kind")]

entry_adapter: TypeAdapter[AnyEntry] = TypeAdapter(AnyEntry)
_BY_NAME: dict[str, Kind[Any]] = {kind.name: kind for kind in KINDS}


def kind_of(entry: Entry) -> Kind[Any]:
    """The kind of ``entry``."""
    return _BY_NAME[entry.kind]


def kind_named(name: str) -> Kind[Any]:
    """The kind called ``name`` (an entry's ``kind``, a key's prefix); KeyError for none."""
    return _BY_NAME[name]


def kind_of_key(key: str) -> Kind[Any] | None:
    """The kind of the entry stored under ``key`` (``issues:owner/repo``), if it names one."""
    return _BY_NAME.get(key.partition(":")[0])


def key_named(identifier: str) -> str:
    """The key an id from a tool result or ``get_dashboard`` names: keys are lower-case (as GitHub
    compares names), and an id with no kind before a colon (as ``publish_to_dashboard`` returns
    it) is a panel's."""
    key = identifier.strip().lower()
    return key if ":" in key else panels.panel_key(key)


def read_stored(body: str | bytes) -> AnyEntry:
    """An entry as a store (or another worker's change log) kept it, validated like any input.

    A label colour an earlier version let through is replaced by the default grey, with a
    warning, so that the board still shows; anything else invalid raises ``ValidationError``
    (the store then skips the entry).
    """
    repairs = Repairs()
    entry = entry_adapter.validate_json(body, context=repairs)
    if repairs.colours:
        logger.warning(
            "issuebridge: %s was stored with %d label colour(s) that are not six hex digits; shown in grey",
            entry.key,
            repairs.colours,
        )
    return entry
