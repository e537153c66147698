"""Webhook payloads as changes to boards (issuebridge.webhooks): pure rules, no server."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from issuebridge.github.mapping import (
    ISSUE_SOURCES,
    PULL_FIELDS_FROM_ELSEWHERE,
    PULL_SOURCES,
    issue_from_github,
    pull_from_github,
)
from issuebridge.github.webhook_events import SHAPES, BadPayload, NotShown, read_event
from issuebridge.records.base import StateFilter, now
from issuebridge.records.issues import Issue, IssuesBoard
from issuebridge.records.pulls import PullRequest, PullsBoard
from issuebridge.records.tracked import TOMBSTONES_PER_BOARD, RowChange, Tombstone, board_after, carry
from issuebridge.web.github_webhook import signature_matches
from testkit.fake_github import (
    make_comment,
    make_issue,
    make_pull,
    make_pull_request,
    make_webhook,
    sign_webhook,
)

REPO = "octo/app"
AT = datetime(2030, 1, 1, tzinfo=UTC)


def issues_board(state: StateFilter, *issues: dict[str, Any], as_of: datetime | None = None) -> IssuesBoard:
    return IssuesBoard(
        repository=REPO,
        state=state,
        source="mcp",
        issues=[issue_from_github(item) for item in issues],
        last_updated=now(),
        as_of=as_of,
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


def after(board: IssuesBoard, change: RowChange) -> IssuesBoard:
    """``board`` after ``change``: the same object if nothing changed."""
    result = board_after(board, change, AT)
    assert result is not None
    assert (result.board is board) == (result.board == board), "nothing changed: the board itself"
    return result.board


def numbers(board: IssuesBoard | PullsBoard | None) -> list[int]:
    assert board is not None
    rows: list[Any] = board.issues if isinstance(board, IssuesBoard) else board.pulls
    return [row.number for row in rows]


def at(day: int, hour: int = 0) -> str:
    """A GitHub timestamp in January 2030."""
    return f"2030-01-{day:02d}T{hour:02d}:00:00Z"


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
def test_an_issue_that_left_the_repository_leaves_for_good(action: str) -> None:
    change = issue_change(action, make_issue(REPO, 7))
    assert change.leaves_repository and change.number == 7


def test_a_comment_event_carries_the_issue_and_a_comment_on_a_pull_request_is_not_shown() -> None:
    change = issue_change("created", make_issue(REPO, 3, comments=5), event="issue_comment")
    assert isinstance(change.row, Issue) and change.row.comments == 5
    deleted_comment = issue_change("deleted", make_issue(REPO, 3, comments=4), event="issue_comment")
    assert not deleted_comment.leaves_repository  # a deleted comment does not delete the issue

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
        read_event("pull_request", {"action": "opened", "number": 1, "repository": {"full_name": REPO}})


# -- the event a payload claims to be (X-GitHub-Event is not signed) --------------------------


def comment_webhook(action: str, number: int = 3) -> dict[str, Any]:
    return make_webhook(
        "issue_comment", action, REPO, issue=make_issue(REPO, number), comment=make_comment(REPO, number, 1)
    )


def review_comment_webhook(action: str) -> dict[str, Any]:
    pull = make_pull(REPO, 9)
    return make_webhook("pull_request_review_comment", action, REPO, pull_request=pull, comment={"id": 1})


@pytest.mark.parametrize(
    ("claimed", "payload", "message"),
    [
        ("issues", comment_webhook("deleted"), "carries 'comment'"),  # a comment's deletion is not the issue's
        ("issues", comment_webhook("edited"), "carries 'comment'"),
        ("issue_comment", make_webhook("issues", "deleted", REPO, issue=make_issue(REPO, 3)), "no comment object"),
        (
            "issues",
            make_webhook("pull_request", "closed", REPO, pull_request=make_pull(REPO, 9)),
            "carries 'pull_request'",
        ),
        (
            "issues",
            make_webhook("issues", "closed", REPO, issue=make_issue(REPO, 3)) | {"number": 3},
            "carries 'number'",
        ),
        ("pull_request", comment_webhook("edited"), "carries 'issue'"),
        ("pull_request", review_comment_webhook("edited") | {"number": 9}, "carries 'comment'"),
        ("pull_request", {**review_comment_webhook("edited"), "comment": None}, "carries 'comment'"),
        (
            "pull_request",
            make_webhook("pull_request", "edited", REPO, pull_request=make_pull(REPO, 9)) | {"review": {}},
            "carries 'review'",
        ),
        (
            "pull_request",
            make_webhook("pull_request", "edited", REPO, pull_request=make_pull(REPO, 9)) | {"number": 8},
            "not its pull_request's number",
        ),
        (
            "pull_request",
            {**make_webhook("pull_request", "edited", REPO, pull_request=make_pull(REPO, 9)), "number": "9"},
            "no number",
        ),
        (
            "pull_request",
            {"action": "edited", "pull_request": make_pull(REPO, 9), "repository": {"full_name": REPO}},
            "no number",
        ),
    ],
)
def test_a_payload_with_another_events_shape_is_refused(claimed: str, payload: dict[str, Any], message: str) -> None:
    with pytest.raises(BadPayload, match=message):
        read_event(claimed, payload)


@pytest.mark.parametrize(("event", "action"), [(e, a) for e, shape in SHAPES.items() for a in sorted(shape.actions)])
def test_every_documented_action_is_read(event: str, action: str) -> None:
    number = 9 if event.startswith("pull_request") else 3
    objects: dict[str, Any] = {"pull_request": make_pull(REPO, number)}
    if event == "pull_request_review":
        objects["review"] = {"id": 1, "state": "approved"}
    if not event.startswith("pull_request"):
        objects = {"issue": make_issue(REPO, number)}
    if event == "issue_comment":
        objects["comment"] = make_comment(REPO, number, 1)
    change = read_event(event, make_webhook(event, action, REPO, **objects))
    assert isinstance(change, RowChange) and change.number == number and change.action == action


@pytest.mark.parametrize(
    ("event", "action"),
    [("issues", "sub_issue_added"), ("issues", "created"), ("issue_comment", "pinned"), ("pull_request", "deleted")],
)
def test_an_action_the_event_does_not_have_changes_nothing(event: str, action: str) -> None:
    payload = comment_webhook(action) if event == "issue_comment" else make_webhook(event, action, REPO)
    if event == "issues":
        payload["issue"] = make_issue(REPO, 3)
    if event == "pull_request":
        payload |= {"pull_request": make_pull(REPO, 9), "number": 9}
    ignored = read_event(event, payload)
    assert isinstance(ignored, NotShown) and "not an action GitHub documents" in ignored.reason


def test_every_field_of_a_row_is_read_from_a_known_key() -> None:
    """A field added to a record must say where GitHub sends it, or partial payloads would reset it."""
    assert set(ISSUE_SOURCES) == {f.name for f in dataclasses.fields(Issue)}
    assert set(PULL_SOURCES) | PULL_FIELDS_FROM_ELSEWHERE == set(PullRequest.model_fields)
    assert not set(PULL_SOURCES) & PULL_FIELDS_FROM_ELSEWHERE


def test_an_item_without_updated_at_cannot_be_ordered_and_is_refused() -> None:
    for item in (
        {k: v for k, v in make_issue(REPO, 1).items() if k != "updated_at"},
        make_issue(REPO, 1) | {"updated_at": None},
    ):
        with pytest.raises(BadPayload, match="updated_at"):
            read_event("issues", make_webhook("issues", "edited", REPO, issue=item))


# -- applying to boards -----------------------------------------------------------------------


def test_an_opened_issue_joins_the_board_first_and_an_edit_keeps_its_place() -> None:
    board = issues_board("open", make_issue(REPO, 2), make_issue(REPO, 1))
    opened = after(board, issue_change("opened", make_issue(REPO, 3)))
    assert numbers(opened) == [3, 2, 1] and opened.last_updated == AT
    edited_item = make_issue(REPO, 2, title="Renamed", updated_at="2030-01-01T00:00:00Z")
    edited = after(opened, issue_change("edited", edited_item))
    assert numbers(edited) == [3, 2, 1] and edited.issues[1].title == "Renamed"
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
    item = make_issue(REPO, 5, state=issue_state, updated_at=at(1))
    for number in (1, 2, 5):  # already on the board in either state, or new
        changed = after(board, issue_change("edited", {**item, "number": number}))
        assert (number in numbers(changed)) is shown, (board_state, issue_state, number)


def test_closing_an_issue_removes_it_from_an_open_board_and_reopening_brings_it_back() -> None:
    board = issues_board("open", make_issue(REPO, 2), make_issue(REPO, 1))
    closed = after(board, issue_change("closed", make_issue(REPO, 2, state="closed", updated_at=at(1))))
    assert numbers(closed) == [1]
    reopened_item = make_issue(REPO, 2, updated_at=at(2))
    assert numbers(after(closed, issue_change("reopened", reopened_item))) == [2, 1]


@pytest.mark.parametrize("action", ["deleted", "transferred"])
def test_a_deleted_or_transferred_issue_leaves_every_board(action: str) -> None:
    board = issues_board("all", make_issue(REPO, 2), make_issue(REPO, 1))
    assert numbers(after(board, issue_change(action, make_issue(REPO, 2)))) == [1]


def test_an_event_that_changes_nothing_returns_the_board_itself() -> None:
    item = make_issue(REPO, 1, labels=[("bug", "d73a4a")])
    board = issues_board("open", item)
    assert after(board, issue_change("labeled", item)) is board
    closed = make_issue(REPO, 8, state="closed")
    remembered = after(board, issue_change("closed", closed))  # not shown, but remembered
    assert numbers(remembered) == [1] and remembered.last_updated == board.last_updated
    assert after(remembered, issue_change("closed", closed)) is remembered


def test_an_event_older_than_the_row_shown_changes_nothing() -> None:
    newer = make_issue(REPO, 1, title="Newer", updated_at=at(2))
    board = issues_board("open", newer)
    late = make_issue(REPO, 1, title="Older", state="closed", updated_at=at(1))
    assert after(board, issue_change("closed", late)) is board
    assert after(board, issue_change("deleted", late)) is board  # a replayed deletion included
    same_time = make_issue(REPO, 1, title="Same second", updated_at=at(2))
    assert after(board, issue_change("edited", same_time)) != board  # not older: applied


def test_a_replayed_reopened_cannot_put_a_closed_issue_back_on_an_open_board() -> None:
    board = issues_board("open", make_issue(REPO, 2, updated_at=at(1)), make_issue(REPO, 1))
    closed = after(board, issue_change("closed", make_issue(REPO, 2, state="closed", updated_at=at(3))))
    assert numbers(closed) == [1] and closed.tombstones == [
        Tombstone(number=2, updated_at=datetime(2030, 1, 3, tzinfo=UTC))
    ]
    for older in (at(1), at(2, 23)):  # the reopening before the close, sent again
        assert after(closed, issue_change("reopened", make_issue(REPO, 2, updated_at=older))) is closed
    assert after(closed, issue_change("edited", make_issue(REPO, 2, updated_at=at(2)))) is closed
    reopened_later = after(closed, issue_change("reopened", make_issue(REPO, 2, updated_at=at(4))))
    assert numbers(reopened_later) == [2, 1]  # a newer reopening is applied


def test_events_arriving_out_of_order_about_an_item_the_board_does_not_show() -> None:
    board = issues_board("open", make_issue(REPO, 1))
    closed = after(board, issue_change("closed", make_issue(REPO, 5, state="closed", updated_at=at(3))))
    assert numbers(closed) == [1] and [stone.number for stone in closed.tombstones] == [5]
    assert after(closed, issue_change("reopened", make_issue(REPO, 5, updated_at=at(2)))) is closed


def test_nothing_about_an_issue_that_left_the_repository_brings_it_back() -> None:
    board = issues_board("all", make_issue(REPO, 2, updated_at=at(1)))
    deleted = after(board, issue_change("deleted", make_issue(REPO, 2, updated_at=at(1))))
    assert numbers(deleted) == [] and deleted.tombstones[0].left_repository
    for when in (at(1), at(5)):  # an edit from the same second as the deletion, or any later time
        for action, event in (("edited", "issues"), ("reopened", "issues"), ("created", "issue_comment")):
            assert after(deleted, issue_change(action, make_issue(REPO, 2, updated_at=when), event)) is deleted


def test_an_event_older_than_the_fetch_that_wrote_the_board_cannot_add_an_item() -> None:
    fetched = datetime(2030, 1, 2, tzinfo=UTC)
    board = issues_board("open", make_issue(REPO, 1, updated_at=at(1)), as_of=fetched)
    # The fetch did not show #5 (closed by then); an older "reopened" changes nothing, a newer one applies.
    assert after(board, issue_change("reopened", make_issue(REPO, 5, updated_at=at(1, 12)))) is board
    assert numbers(after(board, issue_change("reopened", make_issue(REPO, 5, updated_at=at(2))))) == [5, 1]
    # GitHub's times are whole seconds: a change in the second the fetch began may be after it.
    mid_second = issues_board("open", as_of=datetime(2030, 1, 2, 0, 0, 0, 600_000, tzinfo=UTC))
    assert numbers(after(mid_second, issue_change("reopened", make_issue(REPO, 5, updated_at=at(2))))) == [5]
    # Rows the board shows are ordered against their own time, as before.
    assert after(board, issue_change("edited", make_issue(REPO, 1, title="x", updated_at=at(1, 12)))) != board


def test_a_partial_payload_changes_only_the_fields_it_carries() -> None:
    shown = make_issue(REPO, 1, labels=[("bug", "d73a4a")], state="open", comments=2, updated_at=at(1))
    board = issues_board("open", shown)
    partial = {k: v for k, v in make_issue(REPO, 1, title="Pinned", comments=3, updated_at=at(2)).items()}
    del partial["state"], partial["labels"]
    change = issue_change("pinned", partial)
    assert change.row is None and "state" not in change.fields and "labels" not in change.fields
    pinned = after(board, change)
    row = pinned.issues[0]
    assert (row.title, row.comments, row.state, [label.name for label in row.labels]) == ("Pinned", 3, "open", ["bug"])
    # Not on the board: nothing to change, and nothing to add (its state is not known).
    elsewhere = issue_change("pinned", {**partial, "number": 4})
    assert after(board, elsewhere) is board
    assert after(issues_board("closed"), elsewhere).issues == []


def test_a_change_only_reaches_a_board_of_its_kind() -> None:
    change = issue_change("opened", make_issue(REPO, 3))
    assert board_after(None, change, AT) is None
    assert board_after(pulls_board("open"), change, AT) is None
    pull_change = read_event(
        "pull_request", make_webhook("pull_request", "opened", REPO, pull_request=make_pull(REPO, 3))
    )
    assert isinstance(pull_change, RowChange)
    assert board_after(issues_board("open"), pull_change, AT) is None


def test_a_pull_request_event_updates_the_pull_request_board() -> None:
    board = pulls_board("open", make_pull(REPO, 2), make_pull(REPO, 1))

    def pulls_after(action: str, pull: dict[str, Any], on: PullsBoard) -> PullsBoard:
        change = read_event("pull_request", make_webhook("pull_request", action, REPO, pull_request=pull))
        assert isinstance(change, RowChange)
        result = board_after(on, change, AT)
        assert result is not None
        return result.board

    reviewed = pulls_after("review_requested", make_pull(REPO, 1, requested_reviewers=["bo"]), board)
    assert numbers(reviewed) == [2, 1] and reviewed.waiting_for_review[0].number == 2
    merged = pulls_after("closed", make_pull(REPO, 2, state="closed", merged=True, updated_at=at(1)), reviewed)
    assert numbers(merged) == [1] and [stone.number for stone in merged.tombstones] == [2]  # off the open board
    replayed = pulls_after("reopened", make_pull(REPO, 2), merged)
    assert replayed is merged  # older than the merge: the board stays as it is
    assert numbers(pulls_after("opened", make_pull(REPO, 3, draft=True, updated_at=at(2)), merged)) == [3, 1]
    everything = pulls_board("all", make_pull(REPO, 2))
    kept = pulls_after("closed", make_pull(REPO, 2, state="closed", merged=True), everything)
    assert kept.pulls[0].merged is True


# -- tombstones when a board is replaced ------------------------------------------------------


def test_a_board_that_replaces_another_keeps_its_tombstones_unless_its_rows_make_them_redundant() -> None:
    closed = after(
        issues_board("open", make_issue(REPO, 2)),
        issue_change("closed", make_issue(REPO, 2, state="closed", updated_at=at(3))),
    )
    deleted = after(closed, issue_change("deleted", make_issue(REPO, 7, updated_at=at(1))))
    assert [(s.number, s.left_repository) for s in deleted.tombstones] == [(2, False), (7, True)]
    resynced = carry(deleted, issues_board("open", make_issue(REPO, 1)))
    assert resynced.tombstones == deleted.tombstones  # a sync (or push) without the items: still known
    stale = carry(deleted, issues_board("open", make_issue(REPO, 2, updated_at=at(2))))
    assert [s.number for s in stale.tombstones] == [2, 7]  # a row older than the close does not drop it
    current = carry(deleted, issues_board("open", make_issue(REPO, 2, updated_at=at(3)), make_issue(REPO, 7)))
    assert current.tombstones == []  # shown again, at least as new: nothing left to remember
    assert carry(deleted, pulls_board("open")).tombstones == []  # another kind of board knows nothing of these
    assert carry(None, deleted) is deleted


def test_a_board_remembers_a_bounded_number_of_tombstones_the_newest() -> None:
    start = datetime(2030, 1, 1, tzinfo=UTC)
    many = [Tombstone(number=n, updated_at=start + timedelta(minutes=n)) for n in range(1, TOMBSTONES_PER_BOARD + 2)]
    board = issues_board("open").model_copy(update={"tombstones": many})
    kept = carry(board, issues_board("open")).tombstones
    assert len(kept) == TOMBSTONES_PER_BOARD and min(s.number for s in kept) == 2
    closed = after(
        issues_board("open").model_copy(update={"tombstones": kept}),
        issue_change("closed", make_issue(REPO, 5000, state="closed", updated_at="2031-01-01T00:00:00Z")),
    )
    assert len(closed.tombstones) == TOMBSTONES_PER_BOARD and closed.tombstones[0].number == 5000


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
