"""Pages rendered the plain way: every row of every board on every use, nothing kept.

What kept rows (``web/templating.py``'s ``RenderedRows``) must render exactly like
(``tests/test_page.py``) and are measured against (``bench/page.py``). Relative times are as of
``templating.now``, which the tests fix.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from jinja2 import Environment, Template
from markupsafe import Markup

from issuebridge.records.base import sorted_for_display
from issuebridge.records.registry import AnyEntry, kind_of
from issuebridge.records.tracked import TrackedBoard
from issuebridge.web import templating


class EveryRowEachTime(templating.RenderedRows):
    def html(self, board: TrackedBoard) -> Markup:
        kind, at = kind_of(board), templating.now()  # type: ignore[attr-defined]  # read at each call: tests fix it
        rows = (templating.placed(self.render(kind, row), at) for row in sorted_for_display(board.rows))
        return templating.chunked(rows)

    def render_page(self, template: Template, context: dict[str, Any]) -> str:
        return template.render(context)

    def warm(self, entries: Iterable[AnyEntry]) -> None:
        """Nothing is kept, so nothing is rendered ahead."""

    def prepare(self, key: str, rows: Iterable[Any]) -> None:
        """Nothing is kept, so nothing is rendered ahead."""


def baseline_environment() -> Environment:
    """The templates' environment with :class:`EveryRowEachTime` in place of kept rows."""
    env = templating.environment()
    env.globals["rendered_rows"] = EveryRowEachTime(env)
    return env
