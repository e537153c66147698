"""Records that never went through validation, and the hostile label colours they may carry.

Validation keeps a colour that is not six hex digits out of every new record; these build the
records it would have refused (as an older version let through, or a bug might build), so that
tests can check that the renderers and the stores make them harmless anyway.
"""

from __future__ import annotations

from datetime import UTC, datetime

from issuebridge.records.base import Label
from issuebridge.records.issues import Issue, IssuesBoard
from issuebridge.settings import Settings
from issuebridge.store import store_for

# What an injection through a colour would do in a browser; the browser tests check it never happens.
PWN = "window.__pwned = (window.__pwned || 0) + 1"


def hostile_colours(target: str) -> list[str]:
    """Colours that contain six hex digits and more: each tries to leave the style attribute,
    the ``<li>``, or the CSS declaration; ``target`` is where a successful one would send the page."""
    return [
        f'd73a4a"><meta http-equiv="refresh" content="0;url={target}">',
        f'd73a4a"></li><img src=x onerror="{PWN}">',
        f"d73a4a</li><script>{PWN}</script>",
        f'd73a4a" onmouseover="{PWN}" x="',
        f"d73a4a;background-image:url({target})",
        "d73a4a\n",
        " d73a4a",
        "xd73a4a",
        "d73a4a0",
        "#d73a4a",
    ]


def unvalidated_label(name: str, color: str) -> Label:
    """A label with any colour at all, as validation would never build it."""
    label = object.__new__(Label)
    object.__setattr__(label, "name", name)
    object.__setattr__(label, "color", color)
    return label


def board_with_colours(repository: str, colours: list[str]) -> IssuesBoard:
    """An open issues board, one issue per colour, each with one label of that colour."""
    issues = [
        Issue(number=n, title=f"Issue {n}", state="open", labels=[unvalidated_label(f"label {n}", colour)])
        for n, colour in enumerate(colours, start=1)
    ]
    return IssuesBoard(repository=repository, state="open", source="api", issues=issues, last_updated=datetime.now(UTC))


async def store_unvalidated(store_env: dict[str, str], board: IssuesBoard) -> None:
    """Save ``board`` as it is into the test's store (SQLite file or Redis), as an older version would have."""
    store = store_for(Settings.from_env(store_env))
    await store.open()
    try:
        await store.save(board)
    finally:
        await store.close()
