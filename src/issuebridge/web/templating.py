"""The Jinja environment and the fragments rendered from it.

The page and the live updates come from the same macros (``templates/_*.html``), so an entry looks
the same whether it arrived with the page or through the event stream.
"""

from __future__ import annotations

import functools
import hashlib
import re
import secrets
from collections.abc import Callable, Iterable
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from jinja2 import Environment, FileSystemLoader, Template, select_autoescape
from markupsafe import Markup

from issuebridge.assets import TEMPLATES
from issuebridge.records.base import (
    DatedRow,
    appeared_at,
    displayable_colour,
    in_order_of_appearance,
    iso_utc,
    now,
    sorted_for_display,
)
from issuebridge.records.kind import Kind
from issuebridge.records.registry import AnyEntry, kind_of, kind_of_key
from issuebridge.records.tracked import TrackedBoard
from issuebridge.records.trends import leaves_when_closed
from issuebridge.web.markdown import render_markdown
from issuebridge.web.rows import PYTHON_ROWS, RowParts, label_chip, select_box
from issuebridge.web.sparkline import sparkline_points


def iso(value: datetime | None) -> str:
    return iso_utc(value) if value else ""


def ago(value: datetime | None, at: datetime | None = None) -> str:
    """``3 minutes ago`` as of ``at`` (now): what the page shows until its script takes over the ticking."""
    if value is None:
        return ""
    seconds = ((at or now()) - value).total_seconds()
    for unit, size in (
        ("year", 31_536_000),
        ("month", 2_592_000),
        ("day", 86_400),
        ("hour", 3_600),
        ("minute", 60),
    ):
        if seconds >= size:
            count = round(seconds / size)
            return f"{count} {unit}{'' if count == 1 else 's'} ago"
    return "just now"


# While rows are rendered for keeping, each relative time becomes a numbered slot instead of text;
# while the page is rendered, each board's rows do. A slot starts with "<" and a NUL: text from
# GitHub or the assistant reaches the HTML autoescaped (no "<" at all) or as sanitised markdown
# (every "<" opens an allowed tag), so no content can pose as a slot. The random token is a second
# lock.
_SLOT_TOKEN = secrets.token_hex(8)
_TIME_SLOT = re.compile(f"<\x00{_SLOT_TOKEN}t(\\d+)>")
_ROWS_SLOT = re.compile(f"<\x00{_SLOT_TOKEN}r(\\d+)>")
_time_slots: ContextVar[list[datetime] | None] = ContextVar("_time_slots", default=None)
_rows_slots: ContextVar[list[TrackedBoard] | None] = ContextVar("_rows_slots", default=None)


def _ago_filter(value: datetime | None) -> str:
    slots = _time_slots.get()
    if slots is None or value is None:
        return ago(value)
    slots.append(value)
    return Markup(f"<\x00{_SLOT_TOKEN}t{len(slots) - 1}>")  # noqa: S704 - no outside text in it


# A board's rows go out in <tbody class="rows"> chunks of this many: the page's CSS gives each
# chunk `content-visibility: auto`, so the browser lays out and paints only the chunks on
# screen, and the script keeps the chunks packed as it sorts and filters (static/dashboard/
# rows_index.js reads the size from the table's `data-chunk-rows`). Fifty rows are about
# 2,100 px: a chunk that comes into view costs one short frame, and a sort lays out a screen or two.
CHUNK_ROWS = 50
_CHUNK_OPEN = '<tbody class="rows">'
_CHUNK_BREAK = '</tbody><tbody class="rows">'
_CHUNK_CLOSE = "</tbody>"


def chunked(rows: Iterable[str]) -> Markup:
    """Rows' HTML in chunks of :data:`CHUNK_ROWS` (one empty chunk for no rows), as the page has them."""
    pieces = [_CHUNK_OPEN]
    for index, row in enumerate(rows):
        if index and index % CHUNK_ROWS == 0:
            pieces.append(_CHUNK_BREAK)
        pieces.append(row)
    pieces.append(_CHUNK_CLOSE)
    return Markup("".join(pieces))  # noqa: S704 - rows rendered by the row macros


class _KeptRows:
    __slots__ = ("by_number", "ordered", "rows")

    def __init__(self, rows: Any, ordered: list[RowParts], by_number: dict[int, tuple[DatedRow, RowParts]]) -> None:
        self.rows = rows
        self.ordered = ordered
        self.by_number = by_number


class RenderedRows:
    """The table rows of each board whose kind has a ``row_macro``, rendered once and kept.

    A 5,000-issue board is 5,000 macro calls, about 300 ms; the page needs them on every load.
    A board's rows are kept for as long as the store holds the same list of rows (a write
    replaces the list, never changes it), and a re-sync renders only the rows that changed.
    The one part of a row that changes with the clock, its relative times ("3 days ago"), is
    filled in each time the rows are placed, as of that moment, so kept rows never go stale.
    """

    def __init__(self, env: Environment) -> None:
        self._env = env
        self._boards: dict[str, _KeptRows] = {}
        self._prepared: dict[str, dict[int, tuple[DatedRow, RowParts]]] = {}

    def html(self, board: TrackedBoard) -> Markup:
        """The board's rows, most recently updated first, with times as of now, in chunks (:func:`chunked`)."""
        placing = _rows_slots.get()
        if placing is not None:  # a whole page: the rows go in once it is rendered (render_page)
            placing.append(board)
            return Markup(f"<\x00{_SLOT_TOKEN}r{len(placing) - 1}>")  # noqa: S704 - no outside text in it
        pieces: list[str] = []
        self._place(board, now(), pieces)
        return Markup("".join(pieces))  # noqa: S704 - pieces of macro output and plain time text

    def render_page(self, template: Template, context: dict[str, Any]) -> str:
        """``template`` rendered, with each board's rows put in at the end, in one join.

        Handing megabytes of rows up through each enclosing macro would copy them at every level.
        """
        boards: list[TrackedBoard] = []
        token = _rows_slots.set(boards)
        try:
            html = template.render(context)
        finally:
            _rows_slots.reset(token)
        at = now()
        pieces: list[str] = []
        split = _ROWS_SLOT.split(html)
        if len(split) != 2 * len(boards) + 1:
            raise RuntimeError("a board's rows did not reach the page's HTML intact")
        for index, piece in enumerate(split):
            if index % 2:
                self._place(boards[int(piece)], at, pieces)
            else:
                pieces.append(piece)
        return "".join(pieces)

    def warm(self, entries: Iterable[AnyEntry]) -> None:
        """Render and keep the rows of these entries' boards now, rather than on the next page load."""
        for entry in entries:
            if isinstance(entry, TrackedBoard) and kind_of(entry).row_macro is not None:
                self._ordered(entry)

    def prepare(self, key: str, rows: Iterable[Any]) -> None:
        """Render rows that a fetch in progress will write under ``key``, unless kept already.

        The board's write then finds them ready (``_ordered``), so a new 5,000-row board's
        rendering happens while GitHub is still sending pages rather than after the last one.
        """
        kind = kind_of_key(key)
        if kind is None or kind.row_macro is None:
            return
        kept = self._boards.get(key)
        previous = kept.by_number if kept is not None else {}
        prepared = self._prepared.setdefault(key, {})
        for row in rows:
            known = previous.get(row.number)
            if known is None or known[0] != row:
                prepared[row.number] = (row, self.render(kind, row))

    def forget(self, key: str) -> None:
        self._boards.pop(key, None)
        self._prepared.pop(key, None)

    def retain(self, keys: Iterable[str]) -> None:
        """Forget every board but these."""
        keep = set(keys)
        for key in [key for key in self._boards if key not in keep]:
            del self._boards[key]
        for key in [key for key in self._prepared if key not in keep]:
            del self._prepared[key]

    def _place(self, board: TrackedBoard, at: datetime, pieces: list[str]) -> None:
        pieces.append(_CHUNK_OPEN)
        for index, row in enumerate(self._ordered(board)):
            if index and index % CHUNK_ROWS == 0:
                pieces.append(_CHUNK_BREAK)
            for part in row:
                pieces.append(part if isinstance(part, str) else ago(part, at))
        pieces.append(_CHUNK_CLOSE)

    def _ordered(self, board: TrackedBoard) -> list[RowParts]:
        rows, kind = board.rows, kind_of(board)
        kept = self._boards.get(board.key)
        if kept is not None and kept.rows is rows:
            return kept.ordered
        previous = kept.by_number if kept is not None else {}
        prepared = self._prepared.pop(board.key, {})
        by_number: dict[int, tuple[DatedRow, RowParts]] = {}
        ordered: list[RowParts] = []
        for row in sorted_for_display(rows):
            reused = prepared.get(row.number) or previous.get(row.number)
            parts = (
                reused[1] if reused is not None and (reused[0] is row or reused[0] == row) else self.render(kind, row)
            )
            by_number[row.number] = (row, parts)
            ordered.append(parts)
        self._boards[board.key] = _KeptRows(rows, ordered, by_number)
        return ordered

    def render(self, kind: Kind[Any], row: DatedRow) -> RowParts:
        """One row of a board of ``kind``, by its ``row_macro`` (written in Python if ``web/rows.py`` has it)."""
        assert kind.row_macro is not None, f"{kind.name} boards have no rows of their own"
        python = PYTHON_ROWS.get(kind.row_macro)
        if python is not None:
            return fingerprinted(python(row))
        return fingerprinted(_render(getattr(self._env.get_template(kind.template).module, kind.row_macro), row))


def fingerprinted(parts: RowParts) -> RowParts:
    """``parts`` with ``data-fingerprint`` on its ``<tr>``: a short hash of what the row shows (its
    times as times, not as "3 hours ago"), by which the page tells a row that changed since this
    browser last saw it (``static/dashboard/changes.js``) without reading 5,000 rows' cells."""
    digest = hashlib.blake2b(digest_size=4)
    for part in parts:
        digest.update((part if isinstance(part, str) else part.isoformat()).encode())
    mark = f' data-fingerprint="{_base36(int.from_bytes(digest.digest()))}"'
    first = parts[0]
    assert isinstance(first, str) and first.startswith("<tr"), "a row's HTML starts with its <tr>"
    end = first.index(">")  # the <tr>'s own: attribute values are escaped, so none holds a ">"
    return (f"{first[:end]}{mark}{first[end:]}", *parts[1:])


def _base36(value: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    text = ""
    while True:
        value, digit = divmod(value, 36)
        text = digits[digit] + text
        if not value:
            return text


def placed(parts: RowParts, at: datetime) -> str:
    """A kept row with its relative times as of ``at``."""
    return "".join(part if isinstance(part, str) else ago(part, at) for part in parts)


def _render(macro: Callable[[DatedRow], Any], row: DatedRow) -> RowParts:
    slots: list[datetime] = []
    token = _time_slots.set(slots)
    try:
        html = str(macro(row))
    finally:
        _time_slots.reset(token)
    if not slots:
        return (html,)
    pieces = _TIME_SLOT.split(html)
    if len(pieces) != 2 * len(slots) + 1:  # a template passed a time on through another filter
        raise RuntimeError("a relative time did not reach the row's HTML intact")
    return tuple(slots[int(piece)] if index % 2 else piece for index, piece in enumerate(pieces))


@functools.lru_cache(maxsize=128)
def _markdown(source: str) -> Markup:
    return Markup(render_markdown(source))  # noqa: S704 - sanitised


def group_of(entry: AnyEntry) -> str:
    """Entries about one repository share a group; a panel about none stands alone."""
    repository = entry.related_repository
    return repository.lower() if repository else entry.key


def grouped(entries: Iterable[AnyEntry]) -> list[tuple[str, list[AnyEntry]]]:
    """Entries in groups, in the order they first appeared (``in_order_of_appearance``), each
    group where its first entry is: a re-sync moves nothing, a new entry joins the end of its
    group and a new group the end of the page. The script places live entries by the same rule
    (``static/dashboard/order.js``, from each section's ``data-appeared``)."""
    groups: dict[str, list[AnyEntry]] = {}
    for entry in in_order_of_appearance(entries):
        groups.setdefault(group_of(entry), []).append(entry)
    return list(groups.items())


def appearance(entry: AnyEntry) -> str:
    """When ``entry`` first appeared, as the script compares it: ISO 8601 to the microsecond, so
    that two values compare as text as they do as times."""
    return appeared_at(entry).astimezone(UTC).isoformat(timespec="microseconds")


def environment() -> Environment:
    """The templates' environment, with the filters and globals the macros use."""
    # Found wherever the server is started from (``assets.py``). Autoescaping is on for every
    # template: GitHub text is hostile.
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(default=True))
    env.filters["iso"] = iso
    env.filters["ago"] = _ago_filter
    env.filters["hex_colour"] = displayable_colour  # six hex digits, whatever the record holds
    env.filters["markdown"] = _markdown
    env.globals["now"] = lambda: now()  # looked up at each call (the tests fix the clock)
    env.globals["sorted_for_display"] = sorted_for_display
    env.globals["group_of"] = group_of
    env.globals["label_chip"] = label_chip
    env.globals["select_box"] = select_box
    env.globals["sparkline_points"] = sparkline_points
    env.globals["leaves_when_closed"] = leaves_when_closed
    env.globals["grouped"] = grouped
    env.globals["appearance"] = appearance
    env.globals["rendered_rows"] = RenderedRows(env)
    env.globals["chunk_rows"] = CHUNK_ROWS

    def entry_html(entry: AnyEntry) -> Markup:
        """``entry`` rendered by its kind's macro."""
        kind = kind_of(entry)
        return Markup(getattr(env.get_template(kind.template).module, kind.macro)(entry))  # noqa: S704 - macro output

    env.globals["entry_html"] = entry_html
    return env


def rendered_rows(env: Environment) -> RenderedRows:
    rows = env.globals["rendered_rows"]
    assert isinstance(rows, RenderedRows)
    return rows


class Fragments:
    """Renders entries, or parts of a board whose updates carry changed rows (``Kind.delta``), to
    HTML for the page's live updates."""

    def __init__(self, env: Environment) -> None:
        self._env = env
        self._entries = env.get_template("_entries.html").module
        self.rows = rendered_rows(env)

    def entry(self, entry: AnyEntry) -> str:
        return str(self._entries.entry_section(entry))  # type: ignore[attr-defined]

    def groups(self, entries: list[AnyEntry]) -> str:
        return str(self._entries.all_groups(entries))  # type: ignore[attr-defined]

    def header(self, board: AnyEntry) -> str:
        return self._delta_part(board, "header_macro")

    def summary(self, board: AnyEntry) -> str:
        return self._delta_part(board, "summary_macro")

    def row(self, board: AnyEntry, row: DatedRow) -> str:
        return placed(self.rows.render(kind_of(board), row), now())

    def _delta_part(self, board: AnyEntry, which: str) -> str:
        kind = kind_of(board)
        assert kind.delta is not None, f"{kind.name} updates carry the whole entry"
        return str(getattr(self._env.get_template(kind.template).module, getattr(kind.delta, which))(board))
