"""Bodies kept with their records: trimmed from GitHub, checked when pushed or stored, read back
from stores that kept none, and left out of whatever carries whole boards."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
from pydantic import TypeAdapter, ValidationError

from issuebridge.github.mapping import ISSUES, PULLS
from issuebridge.github.webhook_events import read_event
from issuebridge.live.json_format import JsonFormat, entry_json, entry_payload
from issuebridge.records.bodies import BODY_BYTES, body_fields, trim_body
from issuebridge.records.issues import Issue, IssuesBoard
from issuebridge.records.pulls import PullRequest, PullsBoard
from issuebridge.records.registry import read_stored
from issuebridge.records.tracked import RowChange, board_after
from testkit.fake_github import make_issue, make_pull, make_webhook

REPO = "octo/app"
NOW = datetime(2026, 12, 1, tzinfo=UTC)


@pytest.mark.parametrize("character", ["a", "é", "€", "😀"])  # 1, 2, 3 and 4 bytes in UTF-8
def test_a_long_body_is_cut_to_the_limit_where_a_character_ends(character: str) -> None:
    text = "x" + character * BODY_BYTES  # the limit falls inside a character for every width but 1
    trimmed, cut = trim_body(text)
    assert cut
    assert len(trimmed.encode()) <= BODY_BYTES
    assert len(trimmed.encode()) > BODY_BYTES - len(character.encode())  # nothing more than that character lost
    assert text.startswith(trimmed)  # a prefix, character for character: nothing replaced or dropped inside


def test_a_body_within_the_limit_is_kept_exactly() -> None:
    text = "    indented code\n\n<script>kept as text</script>\r\n  \t"
    assert trim_body(text) == (text, False)
    exact = "€" * (BODY_BYTES // 3) + "ab"  # exactly BODY_BYTES bytes
    assert len(exact.encode()) == BODY_BYTES
    assert trim_body(exact) == (exact, False)
    assert trim_body(exact + "c") == (exact, True)


def test_a_character_no_json_can_carry_is_replaced_not_stored() -> None:
    assert trim_body("a\ud800b") == ("a?b", False)


def test_github_bodies_become_fields_of_a_row() -> None:
    assert body_fields(None) == {"body": "", "body_trimmed": False}  # GitHub's null: no description
    assert body_fields(12) == {"body": None, "body_trimmed": False}  # not GitHub's: not known
    assert body_fields("x" * (BODY_BYTES + 5)) == {"body": "x" * BODY_BYTES, "body_trimmed": True}

    issue = ISSUES.from_github(make_issue(REPO, 1, body="  **Steps**\n\n1. run\n"))
    assert (issue.body, issue.body_trimmed) == ("  **Steps**\n\n1. run\n", False)  # whitespace kept
    long = ISSUES.from_github(make_issue(REPO, 2, body="€" * 5000))
    assert long.body_trimmed and long.body == "€" * (BODY_BYTES // 3)
    pull = PULLS.from_github(make_pull(REPO, 3, body=None))
    assert (pull.body, pull.body_trimmed) == ("", False)
    listed, unreadable = ISSUES.records([ISSUES.fields(make_issue(REPO, n, body="b" * 10_000)) for n in (4, 5)])
    assert unreadable == 0 and all(row.body_trimmed for row in listed)


def test_a_pushed_or_stored_body_over_the_limit_is_refused_not_cut() -> None:
    fields: dict[str, Any] = {"number": 1, "title": "t", "state": "open"}
    assert TypeAdapter(Issue).validate_python({**fields, "body": "é" * (BODY_BYTES // 2)}).body is not None
    with pytest.raises(ValidationError, match="at most 8192 bytes"):
        TypeAdapter(Issue).validate_python({**fields, "body": "é" * (BODY_BYTES // 2 + 1)})
    with pytest.raises(ValidationError, match="at most 8192 bytes"):
        PullRequest.model_validate({**fields, "body": "x" * (BODY_BYTES + 1)})


def test_a_board_stored_before_bodies_were_kept_still_loads() -> None:
    # Exactly what the previous version wrote for each kind: rows without body fields.
    issues = (
        '{"source":"mcp","last_updated":"2026-11-30T10:00:00Z","revision":4,"repository":"octo/app",'
        '"truncated":false,"unreadable":0,"tombstones":[],"as_of":null,"kind":"issues","state":"open",'
        '"issues":[{"number":1,"title":"Crash","state":"open","labels":[{"name":"bug","color":"d73a4a"}],'
        '"author":"mona","assignees":[],"comments":2,"created_at":"2026-11-01T00:00:00Z",'
        '"updated_at":"2026-11-02T00:00:00Z","html_url":"https://github.com/octo/app/issues/1"}]}'
    )
    pulls = (
        '{"source":"mcp","last_updated":"2026-11-30T10:00:00Z","revision":5,"repository":"octo/app",'
        '"truncated":false,"unreadable":0,"tombstones":[],"as_of":null,"kind":"pulls","state":"open",'
        '"pulls":[{"number":2,"title":"Fix","state":"open","draft":false,"merged":false,"author":"mona",'
        '"labels":[],"requested_reviewers":[],"requested_teams":[],"reviewed":null,"head":"fix","base":"main",'
        '"created_at":null,"updated_at":null,"html_url":null}]}'
    )
    board = read_stored(issues)
    assert isinstance(board, IssuesBoard)
    assert (board.issues[0].body, board.issues[0].body_trimmed) == (None, False)  # not known, not "no description"
    pull_board = read_stored(pulls)
    assert isinstance(pull_board, PullsBoard) and pull_board.pulls[0].body is None
    # And what this version stores, it reads back whole.
    kept = board.model_copy(
        update={"issues": [Issue(number=1, title="t", state="open", body="  b", body_trimmed=True)]}
    )
    again = read_stored(kept.model_dump_json())
    assert isinstance(again, IssuesBoard) and again.issues == kept.issues


def issues_board(*rows: Issue) -> IssuesBoard:
    return IssuesBoard(repository=REPO, state="all", source="mcp", issues=list(rows), last_updated=NOW)


def test_whole_boards_are_read_and_sent_without_bodies() -> None:
    board = issues_board(Issue(number=1, title="t", state="open", body="secret-ish " * 100, body_trimmed=True))
    pulls = PullsBoard(
        repository=REPO,
        state="open",
        source="mcp",
        last_updated=NOW,
        pulls=[PullRequest(number=2, title="p", state="open", body="b")],
    )
    for entry in (board, pulls):
        for shown in (orjson.loads(entry_json(entry)), entry_payload(entry)):
            row = shown[entry.rows_field][0]
            assert "body" not in row and "body_trimmed" not in row
            assert row["title"] in {"t", "p"}
    snapshot = JsonFormat().snapshot([board, pulls], 2)
    assert b"body" not in snapshot and b"secret-ish" not in snapshot
    assert b"secret-ish" in board.model_dump_json().encode()  # the store keeps it


def change(event: str, action: str, **objects: Any) -> RowChange:
    read = read_event(event, make_webhook(event, action, REPO, **objects))
    assert isinstance(read, RowChange)
    return read


def test_a_webhook_brings_the_body_and_an_edit_replaces_it() -> None:
    opened = change("issues", "opened", issue=make_issue(REPO, 1, body="first", updated_at="2026-12-01T00:00:00Z"))
    after = board_after(issues_board(), opened, NOW)
    assert after is not None and after.board.issues[0].body == "first"
    edited = make_issue(REPO, 1, body="x" * (BODY_BYTES + 1), updated_at="2026-12-01T00:01:00Z")
    again = board_after(after.board, change("issues", "edited", issue=edited), NOW)
    assert again is not None and again.shown
    assert again.board.issues[0].body == "x" * BODY_BYTES and again.board.issues[0].body_trimmed
    # A payload that carries only part of the issue (no body) keeps the body the board knew.
    partial = {
        k: v for k, v in make_issue(REPO, 1, updated_at="2026-12-01T00:02:00Z").items() if k not in {"body", "labels"}
    }
    kept = board_after(again.board, change("issues", "pinned", issue=partial), NOW)
    assert kept is not None and kept.board.issues[0].body == "x" * BODY_BYTES

    pull = make_pull(REPO, 9, body="pull body", updated_at="2026-12-01T00:00:00Z")
    pulled = read_event("pull_request", make_webhook("pull_request", "opened", REPO, pull_request=pull))
    assert isinstance(pulled, RowChange) and pulled.row.body == "pull body"
