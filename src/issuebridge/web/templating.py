"""The Jinja environment and the board fragments rendered from it.

The page and the live updates come from the same macros (``templates/_board.html``), so a board
looks the same whether it arrived with the page or through the event stream.
"""

from __future__ import annotations

from datetime import UTC, datetime

from jinja2 import Environment, PackageLoader, select_autoescape

from issuebridge.boards import Board, Issue, now, readable_text_colour, summarize


def iso(value: datetime | None) -> str:
    return value.isoformat().replace("+00:00", "Z") if value else ""


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


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def sorted_for_display(issues: list[Issue]) -> list[Issue]:
    """Most recently updated first: the page's default order, as on GitHub's and Linear's lists."""
    return sorted(issues, key=lambda i: (i.updated_at or i.created_at or _EPOCH, i.number), reverse=True)


def environment() -> Environment:
    # Templates ship inside the package (see pyproject.toml), so they are found wherever the
    # server is started from. Autoescaping is on for every template: GitHub text is hostile.
    env = Environment(
        loader=PackageLoader("issuebridge", "templates"), autoescape=select_autoescape(default=True)
    )
    env.filters["iso"] = iso
    env.filters["ago"] = ago
    env.filters["text_colour"] = readable_text_colour
    env.globals["summarize"] = lambda board: summarize(board.issues, now())
    env.globals["sorted_for_display"] = sorted_for_display
    return env


class BoardFragments:
    """Renders one board, or its parts, to HTML for the page's live updates."""

    def __init__(self, env: Environment) -> None:
        self._macros = env.get_template("_board.html").module

    def section(self, board: Board) -> str:
        return str(self._macros.board_section(board))  # type: ignore[attr-defined]

    def header(self, board: Board) -> str:
        return str(self._macros.board_header(board))  # type: ignore[attr-defined]

    def summary(self, board: Board) -> str:
        return str(self._macros.board_summary(board))  # type: ignore[attr-defined]

    def row(self, issue: Issue) -> str:
        return str(self._macros.issue_row(issue))  # type: ignore[attr-defined]
