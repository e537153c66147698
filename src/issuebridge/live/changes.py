"""What a wire format is given to encode: a change the store reported, or a sync's activity."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple, Protocol

from issuebridge.records.kind import RowsDiff
from issuebridge.records.registry import AnyEntry


class Change(NamedTuple):
    """One write as a wire format sees it: the entry as stored, what it replaced, and for kinds
    whose pages take only changed rows (``Kind.delta``) the difference between the two."""

    entry: AnyEntry
    previous: AnyEntry | None
    diff: RowsDiff | None


class Activity(NamedTuple):
    """A sync in progress, failed, or that found nothing new: shown on the page, never stored."""

    key: str
    kind: str
    repository: str
    done: int = 0
    total: int | None = None
    error: str | None = None
    unchanged: bool = False


class Touched(NamedTuple):
    """An entry a write changed, as the MCP resource notifications need it."""

    key: str
    repository: str | None


class WireFormat(Protocol):
    """How events look on one kind of stream: a pure encoder, called once per change."""

    def change(self, change: Change) -> bytes: ...

    def removed(self, key: str, revision: int) -> bytes: ...

    def cleared(self, revision: int) -> bytes: ...

    def snapshot(self, entries: list[AnyEntry], revision: int) -> bytes: ...

    def activity(self, activity: Activity) -> bytes: ...

    def prepare(self, key: str, rows: Sequence[Any]) -> None:
        """Rows that are about to be written under ``key``: do per-row work now if it helps."""
