"""One issue's or pull request's preview, for the page's drawer: found on the dashboard, its body
rendered on demand.

The page never carries bodies (5,000 of them are up to 40 MB); a click or Enter on a row asks
``GET /api/dashboard/item`` for one, and this renders it: the body through ``web/markdown.py``
(markdown-it without raw HTML, then nh3), everything else autoescaped by ``_preview.html``.
The script only places the fragment.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from jinja2 import Environment
from markupsafe import Markup
from starlette.concurrency import run_in_threadpool

from issuebridge.dashboard.entries import Dashboard
from issuebridge.records import registry
from issuebridge.records.base import GITHUB_INT_MAX, repository_key
from issuebridge.records.bodies import BODY_BYTES
from issuebridge.records.tracked import TrackedBoard
from issuebridge.web.markdown import render_markdown

# Kinds whose rows are issues or pull requests: the boards an item can be on.
_ITEM_KINDS = tuple(kind for kind in registry.KINDS if issubclass(kind.entry, TrackedBoard))


class InvalidNumber(ValueError):
    """A number that no issue or pull request can have."""


def parse_number(value: str) -> int:
    """An issue or pull-request number from a query string: 1 to 2^31 - 1, in plain digits."""
    if not value.isascii() or not value.isdigit() or len(value) > 10 or not 1 <= int(value) <= GITHUB_INT_MAX:
        raise InvalidNumber(f"{value[:20]!r} is not an issue or pull-request number: use 1 to {GITHUB_INT_MAX}")
    return int(value)


@dataclass(frozen=True, slots=True)
class Found:
    board: TrackedBoard
    row: Any  # the kind's row: an Issue or a PullRequest
    noun: str  # "issue", "pull request"


async def find_item(dashboard: Dashboard, repository: str, number: int) -> Found | None:
    """Item ``number`` of ``repository`` on any of its boards, or None."""
    for kind in _ITEM_KINDS:
        board = await dashboard.get(repository_key(kind.name, repository))
        if not isinstance(board, TrackedBoard):
            continue
        row = next((row for row in board.rows if row.number == number), None)
        if row is not None:
            return Found(board, row, kind.noun)
    return None


@functools.lru_cache(maxsize=128)
def rendered_body(body: str) -> str:
    """``body`` as sanitised HTML, kept for the next preview of the same text.

    Anyone who can open an issue writes its body, and 8 KB of Markdown can be made slow to
    parse (8,192 ``[`` take markdown-it about 0.7 s): rendered off the event loop, and once.
    """
    return render_markdown(body)


async def preview_json(env: Environment, found: Found) -> dict[str, Any]:
    """What the drawer gets: the item's reference and link, and its fragment (``html``)."""
    board, row = found.board, found.row
    reference = f"{board.repository}#{row.number}"
    body_html = await run_in_threadpool(rendered_body, row.body) if row.body else None
    macro = env.get_template("_preview.html").module.item_preview  # type: ignore[attr-defined]
    html = macro(
        board=board,
        row=row,
        noun=found.noun,
        reference=reference,
        body_html=Markup(body_html) if body_html else None,  # noqa: S704 - sanitised by nh3
        limit_kb=BODY_BYTES // 1024,
    )
    return {
        "repository": board.repository,
        "number": row.number,
        "reference": reference,
        "url": row.html_url,
        "html": str(html),
    }
