"""The dashboard page's own event format: HTML fragments rendered by the page's macros.

A re-sync sends only the rows that were added or changed and the numbers of those removed, so a
5,000-issue board does not travel again when three issues changed. Fragments are rendered here,
once per change, with autoescaping; the page only inserts them.
"""

from __future__ import annotations

from issuebridge.boards import Board
from issuebridge.dashboard import BoardChange
from issuebridge.events import encode_event
from issuebridge.web.templating import BoardFragments


class PageFormat:
    """``snapshot`` (every board), ``board`` (one whole board), ``board_delta`` (a re-sync's changes)."""

    def __init__(self, fragments: BoardFragments) -> None:
        self._fragments = fragments

    def change(self, change: BoardChange) -> bytes:
        board = change.board
        if change.previous is None:
            return encode_event(
                "board",
                {"repository": board.repository, "html": self._fragments.section(board)},
                board.revision,
            )
        diff = change.diff
        data = {
            "repository": board.repository,
            "header_html": self._fragments.header(board),
            "summary_html": self._fragments.summary(board),
            "added": [{"number": i.number, "html": self._fragments.row(i)} for i in diff.added],
            "changed": [{"number": i.number, "html": self._fragments.row(i)} for i in diff.changed],
            "removed": diff.removed,
            "count": len(board.issues),
        }
        return encode_event("board_delta", data, board.revision)

    def snapshot(self, boards: list[Board], revision: int) -> bytes:
        return encode_event(
            "snapshot", {"boards": [self._fragments.section(board) for board in boards]}, revision
        )
