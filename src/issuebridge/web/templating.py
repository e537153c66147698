"""The Jinja environment and the fragments rendered from it.

The page and the live updates come from the same macros (``templates/_*.html``), so an entry looks
the same whether it arrived with the page or through the event stream.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from issuebridge.boards import Issue, IssuesBoard, iso_utc, now, readable_text_colour, sorted_for_display, summarize
from issuebridge.entries import AnyEntry
from issuebridge.web.markdown import render_markdown


def iso(value: datetime | None) -> str:
    return iso_utc(value) if value else ""


def ago(value: datetime | None) -> str:
    """``3 minutes ago``: what the page shows until its script takes over the ticking."""
    if value is None:
        return ""
    seconds = (now() - value).total_seconds()
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


def group_of(entry: AnyEntry) -> str:
    """Entries about one repository share a group; a panel about none stands alone."""
    repository = entry.related_repository
    return repository.lower() if repository else entry.key


def grouped(entries: Iterable[AnyEntry]) -> list[tuple[str, list[AnyEntry]]]:
    """Entries (newest first) in groups, each group placed where its newest entry is."""
    groups: dict[str, list[AnyEntry]] = {}
    for entry in entries:
        groups.setdefault(group_of(entry), []).append(entry)
    return list(groups.items())


def environment() -> Environment:
    # Templates ship inside the package (see pyproject.toml), so they are found wherever the
    # server is started from. Autoescaping is on for every template: GitHub text is hostile.
    env = Environment(loader=PackageLoader("issuebridge", "templates"), autoescape=select_autoescape(default=True))
    env.filters["iso"] = iso
    env.filters["ago"] = ago
    env.filters["text_colour"] = readable_text_colour
    env.filters["markdown"] = lambda source: Markup(render_markdown(source))  # noqa: S704 - sanitised
    env.globals["summarize"] = lambda board: summarize(board.issues, now())
    env.globals["sorted_for_display"] = sorted_for_display
    env.globals["group_of"] = group_of
    env.globals["grouped"] = grouped
    return env


class Fragments:
    """Renders entries, or parts of an issues board, to HTML for the page's live updates."""

    def __init__(self, env: Environment) -> None:
        self._board = env.get_template("_board.html").module
        self._entries = env.get_template("_entries.html").module

    def entry(self, entry: AnyEntry) -> str:
        return str(self._entries.entry_section(entry))  # type: ignore[attr-defined]

    def groups(self, entries: list[AnyEntry]) -> str:
        return str(self._entries.all_groups(entries))  # type: ignore[attr-defined]

    def header(self, board: IssuesBoard) -> str:
        return str(self._board.board_header(board))  # type: ignore[attr-defined]

    def summary(self, board: IssuesBoard) -> str:
        return str(self._board.board_summary(board))  # type: ignore[attr-defined]

    def row(self, issue: Issue) -> str:
        return str(self._board.issue_row(issue))  # type: ignore[attr-defined]
