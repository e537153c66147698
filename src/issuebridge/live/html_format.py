"""The dashboard page's own event format: HTML fragments rendered by the page's macros.

A re-sync of a board whose kind has a ``delta`` (issues, pull requests) sends only the rows that were added or
changed and the numbers of those removed, so a 5,000-issue board does not travel again when
three issues changed. Other entries are small and travel whole. Fragments are rendered here, once per change, with
autoescaping; the page only places them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from issuebridge.live.changes import Activity, Change
from issuebridge.live.frames import encode_event
from issuebridge.live.json_format import entry_payload
from issuebridge.records.registry import AnyEntry, kind_named, kind_of
from issuebridge.records.tracked import TrackedBoard
from issuebridge.web.templating import Fragments, group_of


class PageFormat:
    """``snapshot``, ``board`` (one whole entry), ``board_delta``, ``removed``, ``selection``,
    ``sync_progress``, ``sync_unchanged``, ``sync_failed``."""

    def __init__(self, fragments: Fragments) -> None:
        self._fragments = fragments

    def change(self, change: Change) -> bytes:
        entry = change.entry
        kind = kind_of(entry)
        if not kind.listed:  # state beside the boards (the selection): its JSON, for the script
            return encode_event(kind.json_event, entry_payload(entry), entry.revision)
        where = {"id": entry.key, "group": group_of(entry)}
        previous, diff = change.previous, change.diff
        if not isinstance(entry, TrackedBoard) or type(previous) is not type(entry) or diff is None:
            return encode_event("board", {**where, "html": self._fragments.entry(entry)}, entry.revision)
        row = self._fragments.row
        data = {
            **where,
            "header_html": self._fragments.header(entry),
            "summary_html": self._fragments.summary(entry),
            "added": [{"number": r.number, "html": row(entry, r)} for r in diff.added],
            "changed": [{"number": r.number, "html": row(entry, r)} for r in diff.changed],
            "removed": diff.removed,
            "count": len(entry.rows),
        }
        return encode_event("board_delta", data, entry.revision)

    def prepare(self, key: str, rows: Sequence[Any]) -> None:
        self._fragments.rows.prepare(key, rows)

    def removed(self, key: str, revision: int) -> bytes:
        self._fragments.rows.forget(key)  # its kept rows go with it
        return encode_event("removed", {"id": key}, revision)

    def cleared(self, revision: int) -> bytes:
        self._fragments.rows.retain(())
        return self.snapshot([], revision)

    def snapshot(self, entries: list[AnyEntry], revision: int) -> bytes:
        """Every board's HTML, and each unlisted entry (the selection) under its ``json_event``."""
        listed = [entry for entry in entries if kind_of(entry).listed]
        data: dict[str, Any] = {"html": self._fragments.groups(listed)}
        for entry in entries:
            if not kind_of(entry).listed:
                data[kind_of(entry).json_event] = entry_payload(entry)
        return encode_event("snapshot", data, revision)

    def activity(self, activity: Activity) -> bytes:
        data = {
            "id": activity.key,
            "group": activity.repository.lower(),
            "label": f"{activity.repository} {kind_named(activity.kind).label}",
        }
        if activity.error is not None:
            return encode_event("sync_failed", {**data, "message": activity.error}, None)
        if activity.unchanged:
            return encode_event("sync_unchanged", data, None)
        return encode_event("sync_progress", {**data, "done": activity.done, "total": activity.total}, None)
