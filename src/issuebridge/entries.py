"""Every kind of dashboard entry as one validated type, for storage and for reading back."""

from __future__ import annotations

import logging
from typing import Annotated

from pydantic import Field, TypeAdapter

from issuebridge.boards import IssuesBoard, Repairs
from issuebridge.curated import CommitsBoard, Panel, PullsBoard

logger = logging.getLogger(__name__)

AnyEntry = Annotated[IssuesBoard | PullsBoard | CommitsBoard | Panel, Field(discriminator="kind")]
entry_adapter: TypeAdapter[AnyEntry] = TypeAdapter(AnyEntry)


def read_stored(body: str | bytes) -> AnyEntry:
    """An entry as a store (or another worker's change log) kept it, validated like any input.

    A label colour that an older version let through is replaced by the default grey, with a
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
