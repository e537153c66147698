"""The documented JSON events, and entries as the JSON API shows them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson

from issuebridge.live.changes import Activity, Change
from issuebridge.live.frames import encode_event, encode_json_event
from issuebridge.records import registry
from issuebridge.records.bodies import without_bodies
from issuebridge.records.registry import AnyEntry, kind_of
from issuebridge.records.tracked import BOOKKEEPING_FIELDS

_NOT_SHOWN: dict[str, Any] = dict.fromkeys(BOOKKEEPING_FIELDS, True)  # what the store keeps and no reader is shown


def _not_shown(entry: AnyEntry) -> dict[str, Any]:
    """Bookkeeping, and each row's body (``records/bodies.py``: megabytes on a large board)."""
    rows_field: str | None = getattr(entry, "rows_field", None)
    return _NOT_SHOWN | without_bodies(rows_field) if rows_field else _NOT_SHOWN


def entry_payload(entry: AnyEntry) -> dict[str, Any]:
    """An entry as the JSON API and the JSON event stream show it, with what is derived from it."""
    shown = entry.model_dump(mode="json", exclude=_not_shown(entry))
    return {"id": entry.key, **shown, **kind_of(entry).derived(entry)}


def entry_json(entry: AnyEntry) -> bytes:
    """:func:`entry_payload` as JSON bytes, serialised by pydantic-core in one pass.

    For a 5,000-issue board this takes about a quarter of the time of building the dict and
    running ``json.dumps`` over it, and every event and API answer carries whole boards.
    """
    # The entry's own serializer: through the union adapter the same bytes take three times as long.
    fields = entry.model_dump_json(exclude=_not_shown(entry)).encode()  # '{"source":...}': never empty
    derived = kind_of(entry).derived(entry)
    extra = b"," + orjson.dumps(derived)[1:-1] if derived else b""
    return b'{"id":' + orjson.dumps(entry.key) + b"," + fields[1:-1] + extra + b"}"


class JsonFormat:
    """The documented JSON events: each kind's ``json_event`` and ``json_group`` (``registry.py``)."""

    def change(self, change: Change) -> bytes:
        entry = change.entry
        return encode_json_event(kind_of(entry).json_event, entry_json(entry), entry.revision)

    def removed(self, key: str, revision: int) -> bytes:
        return encode_event("removed", {"id": key}, revision)

    def cleared(self, revision: int) -> bytes:
        return encode_event("cleared", {}, revision)

    def snapshot(self, entries: list[AnyEntry], revision: int) -> bytes:
        groups: dict[str, list[bytes]] = {kind.json_group: [] for kind in registry.KINDS}
        for entry in entries:
            groups[kind_of(entry).json_group].append(entry_json(entry))
        data = b",".join(orjson.dumps(name) + b":[" + b",".join(items) + b"]" for name, items in groups.items())
        return encode_json_event("initial_data", b"{" + data + b"}", revision)

    def prepare(self, key: str, rows: Sequence[Any]) -> None:
        """Nothing to do ahead: the JSON of a board is one pydantic-core pass when it is written."""

    def activity(self, activity: Activity) -> bytes:
        data = {"id": activity.key, "kind": activity.kind, "repository": activity.repository}
        if activity.error is not None:
            return encode_event("sync_failed", {**data, "message": activity.error}, None)
        if activity.unchanged:
            return encode_event("sync_unchanged", data, None)
        return encode_event("sync_progress", {**data, "done": activity.done, "total": activity.total}, None)
