"""An issues board's rows, rendered in Python rather than by a Jinja macro.

A new board renders all its rows at once, on the way from a tool call to the open pages: as a
macro, a row cost about 45 µs (mostly Jinja's call and filter machinery), 5,000 rows over 200 ms;
as the function below, about a third of that. Every value goes through markupsafe's ``escape``,
exactly as autoescaping would, numbers and validated states included: a record that was never
validated (a bug, or an entry an older version stored) must still render inert. A label colour
that is not six hex digits is drawn in the default grey.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import lru_cache
from typing import Any

from markupsafe import Markup, escape

from issuebridge.records.base import Label, displayable_colour, iso_utc, readable_text_colour, relative_luminance
from issuebridge.records.issues import Issue

# A row as kept: its HTML in pieces, with the times whose relative text goes between them.
RowParts = tuple[str | datetime, ...]
# A label at least this light (WCAG luminance: #ededed is 0.85, #a2eeef 0.76) has dark text, still
# 6:1 or more on it once the dark theme has toned it down by 30% (static/dashboard.css).
LIGHT_LABEL = 0.6


@lru_cache(maxsize=4096)
def label_chip(label: Label) -> Markup:
    """A label in its GitHub colour, with text readable on it (GitHub's rule, kept to 4.5:1).

    Labels repeat across a board's rows (and are immutable): each chip is built once.
    """
    background = displayable_colour(label.color)
    # "label-light": the stylesheet tones these down on a dark page, where they would glare.
    light = " label-light" if relative_luminance(background) >= LIGHT_LABEL else ""
    return Markup('<li class="label{}" style="background-color:#{};color:#{}">{}</li>').format(
        light, background, readable_text_colour(background), label.name
    )  # Markup.format escapes each value


def select_box(number: int, repository: str | None = None) -> Markup:
    """A row's checkbox for the selection (``static/dashboard/selection.js``), unticked: rows are
    rendered once and kept, so the script ticks the selected ones. On a repository's board the
    item is that board's repository and ``number`` ("Select #12"); a row shown away from its
    repository's board (a search view) names it (``repository``: "Select owner/repo#12") and
    carries the item in ``data-item``.

    ``autocomplete="off"``: the selection is the store's, not the browser's form state, so Back
    must not put back a tick the store no longer has; and Chromium saves every other form
    control's state into the history entry on each ``history.replaceState`` (the URL's filter
    and sort, ``url_state.js``): 30 ms a call with 5,000 rows, against 4 ms without."""
    if repository is None:
        return Markup('<input type="checkbox" class="select-row" autocomplete="off" aria-label="Select #{}">').format(
            number
        )
    item = f"{repository.lower()}#{number}"
    return Markup(
        '<input type="checkbox" class="select-row" autocomplete="off" aria-label="Select {}#{}" data-item="{}">'
    ).format(repository, number, item)


def issue_row(issue: Issue) -> RowParts:
    """One ``<tr>``, with its "updated" time left as a datetime for the caller to fill in.

    No whitespace between its tags: in a table it would be text nodes, about ten a row, that a
    5,000-row page parses and keeps for nothing. The ``data-*`` attributes are what the page's
    script sorts and filters by, so that it never reads a row's cells.
    """
    updated = escape(iso_utc(issue.updated_at)) if issue.updated_at else ""
    created = escape(iso_utc(issue.created_at)) if issue.created_at else ""
    number, state, comments = escape(issue.number), escape(issue.state), escape(issue.comments)
    author = escape(issue.author or "")
    link = escape(issue.html_url) if issue.html_url else None
    title = (
        f'<a href="{link}" target="_blank" rel="noopener noreferrer">{escape(issue.title)}</a>'
        if link
        else f"<span>{escape(issue.title)}</span>"
    )
    labels = "".join(label_chip(label) for label in issue.labels)
    head = (
        f'<tr class="issue" data-number="{number}" data-state="{state}" data-updated="{updated}"'
        f' data-created="{created}" data-comments="{comments}" data-author="{author}"'
        f' data-assignees="{escape(chr(10).join(issue.assignees))}"'
        f' data-labels="{escape(chr(10).join(label.name for label in issue.labels))}">'
        f'<td class="number">{select_box(issue.number)}#{number}</td>'
        f'<td class="title">{title}'
        + (f'<ul class="labels" aria-label="Labels">{labels}</ul>' if labels else "")
        + "</td>"
        f'<td class="state"><span class="state-badge state-{state}">{state}</span></td>'
        f'<td class="author">{author}</td>'
        f'<td class="assignees">{escape(", ".join(issue.assignees))}</td>'
        f'<td class="comments">{comments}</td>'
        f'<td class="updated">'
    )
    if issue.updated_at is None:
        return (head + "</td></tr>",)
    return (head + f'<time datetime="{updated}">', issue.updated_at, "</time></td></tr>")


# Row macros written in Python (``Kind.row_macro`` names them like any macro): about three times
# faster than Jinja for the 5,000 rows a new board can bring at once.
PYTHON_ROWS: dict[str, Callable[[Any], RowParts]] = {"issue_row": issue_row}
