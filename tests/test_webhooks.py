"""Webhook payloads as changes to boards (issuebridge.webhooks): pure rules, no server."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from issuebridge.boards import Issue, IssuesBoard, StateFilter, issue_from_github, now
from issuebridge.curated import PullsBoard, pull_from_github
from issuebridge.web.webhooks import signature_matches
from issuebridge.webhooks import (
    BadPayload,
    NotShown,
    RowChange,
    issues_board_after,
    pulls_board_after,
    read_event,
)
from tests.fake_github import (
    make_comment,
    make_issue,
    make_pull,
    make_pull_request,
    make_webhook,
    sign_webhook,
)

REPO = "octo/app"
AT = datetime(2030, 1, 1, tzinfo=UTC)


def issues_board(state: StateFilter, *issues: dict[str, Any]) -> IssuesBoard:
    return IssuesBoard(
        repository=REPO,
        state=state,
        source="mcp",
        issues=[issue_from_github(item) for item in issues],
        last_updated=now(),
    )


def pulls_board(state: StateFilter, *pulls: dict[str, Any]) -> PullsBoard:
    return PullsBoard(
        repository=REPO, state=state, source="mcp", pulls=[pull_from_github(p) for p in pulls], last_updated=now()
    )


def issue_change(action: str, item: dict[str, Any], event: str = "issues") -> RowChange:
    extra = {"comment": make_comment(REPO, item["number"], 1)} if event == "issue_comment" else {}
    change = read_event(event, make_webhook(event, action, REPO, issue=item, **extra))
    assert isinstance(change, RowChange)
    return change


def numbers(board: IssuesBoard | PullsBoard | None) -> list[int]:
    assert board is not None
    rows: list[Any] = board.issues if isinstance(board, IssuesBoard) else board.pulls
    return [row.number for row in rows]


# -- reading payloads -------------------------------------------------------------------------


def test_an_issues_event_carries_the_issue_as_a_board_row() -> None:
    item = make_issue(REPO, 7, title="<b>Crash</b>", labels=[("bug", "d73a4a")], assignees=["ana"], comments=2)
    change = issue_change("labeled", item)
    assert (change.kind, change.key, change.repository, change.number, change.action) == (
        "issues",
        "issues:octo/app",
        REPO,
        7,
        "labeled",
    )
    assert change.row == issue_from_github(item)  # the same record a sync would make


@pytest.mark.parametrize("action", ["deleted", "transferred"])
def test_an_issue_that_left_the_repository_has_no_row(action: str) -> None:
    change = issue_change(action, make_issue(REPO, 7))
    assert change.row is None and change.number == 7


def test_a_comment_event_carries_the_issue_and_a_comment_on_a_pull_request_is_not_shown() -> None:
    change = issue_change("created", make_issue(REPO, 3, comments=5), event="issue_comment")
    assert isinstance(change.row, Issue) and change.row.comments == 5
    deleted_comment = issue_change("deleted", make_issue(REPO, 3, comments=4), event="issue_comment")
    assert deleted_comment.row is not None  # a deleted comment does not delete the issue

    on_pull = make_webhook(
        "issue_comment", "created", REPO, issue=make_pull_request(REPO, 4), comment=make_comment(REPO, 4, 2)
    )
    not_shown = read_event("issue_comment", on_pull)
    assert isinstance(not_shown, NotShown) and "pull request" in not_shown.reason


def test_a_pull_request_event_carries_the_pull_request() -> None:
    pull = make_pull(REPO, 9, draft=True, requested_reviewers=["bo"], head="fix/x", base="main")
    change = read_event("pull_request", make_webhook("pull_request", "review_requested", REPO, pull_request=pull))
    assert isinstance(change, RowChange) and change.kind == "pulls" and change.key == "pulls:octo/app"
    assert change.row == pull_from_github(pull)


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ([1, 2], "not a JSON object"),
        ({"issue": {}, "repository": {"full_name": REPO}}, "no action"),
        ({"action": "opened", "issue": make_issue(REPO, 1)}, "no repository object"),
        ({"action": "opened", "issue": make_issue(REPO, 1), "repository": {}}, "repository has no full_name"),
        ({"action": "opened", "issue": make_issue(REPO, 1), "repository": {"full_name": "a b/c"}}, "full_name"),
        ({"action": "opened", "repository": {"full_name": REPO}}, "no issue object"),
        ({"action": "opened", "issue": {"title": "x"}, "repository": {"full_name": REPO}}, "has no 'number'"),
        (
            {
                "action": "opened",
                "issue": {**make_issue(REPO, 1), "state": "merged"},
                "repository": {"full_name": REPO},
            },
            "state",
        ),
        (
            {"action": "opened", "issue": {**make_issue(REPO, 1), "user": "mona"}, "repository": {"full_name": REPO}},
            "wrong type",
        ),
    ],
)
def test_a_payload_without_the_expected_fields_is_refused_with_a_reason(payload: Any, message: str) -> None:
    with pytest.raises(BadPayload, match=message):
        read_event("issues", payload)


def test_a_pull_request_payload_without_its_pull_request_is_refused() -> None:
    with pytest.raises(BadPayload, match="no pull_request object"):
        read_event("pull_request", make_webhook("pull_request", "opened", REPO, issue=make_issue(REPO, 1)))


# -- applying to boards -----------------------------------------------------------------------


def test_an_opened_issue_joins_the_board_first_and_an_edit_keeps_its_place() -> None:
    board = issues_board("open", make_issue(REPO, 2), make_issue(REPO, 1))
    opened = issues_board_after(board, issue_change("opened", make_issue(REPO, 3)), AT)
    assert numbers(opened) == [3, 2, 1] and opened is not None and opened.last_updated == AT
    edited_item = make_issue(REPO, 2, title="Renamed", updated_at="2030-01-01T00:00:00Z")
    edited = issues_board_after(opened, issue_change("edited", edited_item), AT)
    assert numbers(edited) == [3, 2, 1] and edited is not None and edited.issues[1].title == "Renamed"
    assert (edited.repository, edited.state, edited.source) == (REPO, "open", "mcp")


@pytest.mark.parametrize(
    ("board_state", "issue_state", "shown"),
    [
        ("open", "open", True),
        ("open", "closed", False),
        ("closed", "open", False),
        ("closed", "closed", True),
        ("all", "open", True),
        ("all", "closed", True),
    ],
)
def test_an_issue_shows_only_on_a_board_whose_state_it_matches(
    board_state: StateFilter, issue_state: str, shown: bool
) -> None:
    board = issues_board(board_state, make_issue(REPO, 1, state="open"), make_issue(REPO, 2, state="closed"))
    item = make_issue(REPO, 5, state=issue_state)
    for number in (1, 2, 5):  # already on the board in either state, or new
        changed = issues_board_after(board, issue_change("edited", {**item, "number": number}), AT)
        assert (number in numbers(changed)) is shown, (board_state, issue_state, number)


def test_closing_an_issue_removes_it_from_an_open_board_and_reopening_brings_it_back() -> None:
    board = issues_board("open", make_issue(REPO, 2), make_issue(REPO, 1))
    closed = issues_board_after(board, issue_change("closed", make_issue(REPO, 2, state="closed")), AT)
    assert numbers(closed) == [1]
    reopened_item = make_issue(REPO, 2, updated_at="2030-01-02T00:00:00Z")
    assert numbers(issues_board_after(closed, issue_change("reopened", reopened_item), AT)) == [2, 1]


@pytest.mark.parametrize("action", ["deleted", "transferred"])
def test_a_deleted_or_transferred_issue_leaves_every_board(action: str) -> None:
    board = issues_board("all", make_issue(REPO, 2), make_issue(REPO, 1))
    assert numbers(issues_board_after(board, issue_change(action, make_issue(REPO, 2)), AT)) == [1]
    assert issues_board_after(board, issue_change(action, make_issue(REPO, 9)), AT) is board  # not shown: no change


def test_an_event_that_changes_nothing_returns_the_board_itself() -> None:
    item = make_issue(REPO, 1, labels=[("bug", "d73a4a")])
    board = issues_board("open", item)
    assert issues_board_after(board, issue_change("labeled", item), AT) is board
    assert issues_board_after(board, issue_change("closed", make_issue(REPO, 8, state="closed")), AT) is board


def test_an_event_older_than_the_row_shown_changes_nothing() -> None:
    newer = make_issue(REPO, 1, title="Newer", updated_at="2030-01-02T00:00:00Z")
    board = issues_board("open", newer)
    late = make_issue(REPO, 1, title="Older", state="closed", updated_at="2030-01-01T00:00:00Z")
    assert issues_board_after(board, issue_change("closed", late), AT) is board
    same_time = make_issue(REPO, 1, title="Same second", updated_at="2030-01-02T00:00:00Z")
    assert issues_board_after(board, issue_change("edited", same_time), AT) != board  # not older: applied


def test_a_change_only_reaches_a_board_of_its_kind() -> None:
    change = issue_change("opened", make_issue(REPO, 3))
    assert issues_board_after(None, change, AT) is None
    assert issues_board_after(pulls_board("open"), change, AT) is None
    assert pulls_board_after(issues_board("open"), change, AT) is None


def test_a_pull_request_event_updates_the_pull_request_board() -> None:
    board = pulls_board("open", make_pull(REPO, 2), make_pull(REPO, 1))

    def after(action: str, pull: dict[str, Any], on: PullsBoard | None) -> PullsBoard | None:
        change = read_event("pull_request", make_webhook("pull_request", action, REPO, pull_request=pull))
        assert isinstance(change, RowChange)
        return pulls_board_after(on, change, AT)

    reviewed = after("review_requested", make_pull(REPO, 1, requested_reviewers=["bo"]), board)
    assert reviewed is not None and numbers(reviewed) == [2, 1] and reviewed.without_reviewers[0].number == 2
    merged = after("closed", make_pull(REPO, 2, state="closed", merged=True), reviewed)
    assert numbers(merged) == [1]  # closed and merged: off the open board
    assert after("opened", make_pull(REPO, 3, draft=True), merged) is not None
    everything = pulls_board("all", make_pull(REPO, 2))
    kept = after("closed", make_pull(REPO, 2, state="closed", merged=True), everything)
    assert kept is not None and kept.pulls[0].merged is True


# -- signatures -------------------------------------------------------------------------------


def test_only_the_exact_signature_of_the_exact_body_matches() -> None:
    body = b'{"action": "opened"}'
    good = sign_webhook("s3cret", body)
    assert signature_matches("s3cret", body, good)
    assert signature_matches("s3cret", body, good.upper().replace("SHA256=", "sha256="))  # hex in either case
    for header in (
        "",
        good.removeprefix("sha256="),  # no scheme
        "sha1=" + good.removeprefix("sha256="),
        good[:-1],  # truncated
        good + "0",  # extended
        sign_webhook("wrong", body),
        "sha256=" + "z" * 64,
    ):
        assert not signature_matches("s3cret", body, header), header
    assert not signature_matches("s3cret", body + b" ", good)  # the body changed after signing
