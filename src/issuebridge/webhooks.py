"""GitHub webhook events as changes to boards: which board an event is about, and that board after it.

Pure functions, no I/O: ``web/webhooks.py`` checks the signature, deduplicates deliveries and
writes the result through the dashboard.

- ``issues`` and ``issue_comment`` events carry the issue (as GitHub's REST API shows it): it
  replaces the row of that number on the repository's issues board, or joins the board, or
  leaves it when it no longer matches the board's state (closed on an ``open`` board) or left
  the repository (``deleted``, ``transferred``). Comments on pull requests are about pull
  requests, which issues boards leave out.
- ``pull_request`` events do the same for the pull-request board.
- Some deliveries carry only part of the item (``issues.pinned``: no ``state``, no ``labels``):
  they change the fields they carry on a row the board shows, and nothing else.

Only the body is signed, not the ``X-GitHub-Event`` header, so a payload is read as the event it
claims to be only if it has that event's shape (:data:`SHAPES`): a captured comment deletion sent
again as an ``issues`` event is refused, never read as the issue's deletion. An action GitHub
does not document for the event changes nothing, and is acknowledged (GitHub adds actions now and
then, and a refused delivery shows as failed in its webhook settings).

An event is applied only if it is not older, by the item's ``updated_at``, than what the board
knows of the item (its row, its tombstone, or when the board's list was taken; see
``tombstones.py``): GitHub does not promise to deliver in order, and a redelivered or replayed
old event must not undo a newer one.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, Literal, TypeVar, cast

from pydantic import ValidationError

from issuebridge.boards import (
    InvalidRepository,
    Issue,
    IssuesBoard,
    Tombstone,
    TrackedBoard,
    is_pull_request,
    issue_from_github,
    issues_key,
    parse_repository,
)
from issuebridge.curated import PullRequest, PullsBoard, pull_from_github, pulls_key
from issuebridge.entries import AnyEntry
from issuebridge.tombstones import tombstone_of, with_tombstone


@dataclass(frozen=True, slots=True)
class Shape:
    """What a payload of one event carries, as GitHub documents it (docs.github.com, "Webhook
    events and payloads", and the schemas of octokit/webhooks)."""

    item: Literal["issue", "pull_request"]  # the object the event is about
    carries: tuple[str, ...]  # the top-level keys among :data:`MARKS` it has
    actions: frozenset[str]


SHAPES: dict[str, Shape] = {
    "issues": Shape(
        "issue",
        ("issue",),
        frozenset(
            {
                "assigned",
                "closed",
                "deleted",
                "demilestoned",
                "edited",
                "labeled",
                "locked",
                "milestoned",
                "opened",
                "pinned",
                "reopened",
                "transferred",
                "typed",
                "unassigned",
                "unlabeled",
                "unlocked",
                "unpinned",
                "untyped",
            }
        ),
    ),
    "issue_comment": Shape("issue", ("issue", "comment"), frozenset({"created", "deleted", "edited"})),
    "pull_request": Shape(
        "pull_request",
        ("pull_request", "number"),
        frozenset(
            {
                "assigned",
                "auto_merge_disabled",
                "auto_merge_enabled",
                "closed",
                "converted_to_draft",
                "demilestoned",
                "dequeued",
                "edited",
                "enqueued",
                "labeled",
                "locked",
                "milestoned",
                "opened",
                "ready_for_review",
                "reopened",
                "review_request_removed",
                "review_requested",
                "synchronize",
                "unassigned",
                "unlabeled",
                "unlocked",
            }
        ),
    ),
}
APPLIED_EVENTS = tuple(SHAPES)
# Top-level keys that tell the payloads of these and neighbouring events apart, and whose they are.
MARKS = {
    "issue": "an issues or issue_comment",
    "comment": "an issue_comment (or review comment)",
    "pull_request": "a pull_request (or review)",
    "number": "a pull_request",
    "review": "a pull_request_review",
    "thread": "a pull_request_review_thread",
}
# ``issues`` actions after which the issue is no longer in the repository.
LEAVING_ACTIONS = frozenset({"deleted", "transferred"})
# Each field of a row, and the key of GitHub's object it is read from: a payload that lacks a key
# does not carry that field (an ``issues.pinned`` issue has no ``state`` or ``labels``).
ISSUE_SOURCES = {
    "number": "number",
    "title": "title",
    "state": "state",
    "labels": "labels",
    "author": "user",
    "assignees": "assignees",
    "comments": "comments",
    "created_at": "created_at",
    "updated_at": "updated_at",
    "html_url": "html_url",
}
PULL_SOURCES = {
    "number": "number",
    "title": "title",
    "state": "state",
    "draft": "draft",
    "merged": "merged_at",
    "author": "user",
    "labels": "labels",
    "requested_reviewers": "requested_reviewers",
    "head": "head",
    "base": "base",
    "created_at": "created_at",
    "updated_at": "updated_at",
    "html_url": "html_url",
}


class BadPayload(ValueError):
    """A payload without the fields its event must have, or with another event's shape; the
    message names what is wrong."""


@dataclass(frozen=True, slots=True)
class RowChange:
    """One issue or pull request as an event left it."""

    event: str
    action: str
    kind: Literal["issues", "pulls"]
    repository: str
    number: int
    updated_at: datetime
    row: Issue | PullRequest | None  # None: the payload carries only part of it (see ``fields``)
    fields: Mapping[str, Any]  # the row's fields the payload carries, validated
    leaves_repository: bool = False  # deleted or transferred

    @property
    def key(self) -> str:
        """The board the row belongs on."""
        return issues_key(self.repository) if self.kind == "issues" else pulls_key(self.repository)


@dataclass(frozen=True, slots=True)
class NotShown:
    """A well-formed event that no board shows anything of."""

    event: str
    action: str
    repository: str
    reason: str


B = TypeVar("B", IssuesBoard, PullsBoard)


@dataclass(frozen=True, slots=True)
class After(Generic[B]):
    """A board after an event, and what the event did to it."""

    board: B  # the board itself if nothing changed
    shown: bool  # whether what the board shows changed (else at most what it remembers)
    message: str


def read_event(event: str, payload: Any) -> RowChange | NotShown:
    """What the ``event`` (the ``X-GitHub-Event`` header, one of :data:`APPLIED_EVENTS`) with
    ``payload`` (parsed JSON) changes. Raises :class:`BadPayload`."""
    shape = SHAPES.get(event)
    if shape is None:
        raise ValueError(f"{event!r} is not an event issuebridge applies")
    if not isinstance(payload, dict):
        raise BadPayload("the payload is not a JSON object")
    action = payload.get("action")
    if not isinstance(action, str) or not action:
        raise BadPayload("the payload has no action")
    repository = _repository(payload)
    _check_shape(event, shape, payload)
    if action not in shape.actions:
        reason = f"{action!r} is not an action GitHub documents for {event} events, so it changes nothing"
        return NotShown(event, action, repository, reason)
    item = _object(payload, shape.item)
    if event == "pull_request":
        pull, fields = _read(pull_from_github, PULL_SOURCES, item, "pull_request")
        if payload["number"] != fields["number"]:
            raise BadPayload("the payload's number is not its pull_request's number")
        return RowChange(event, action, "pulls", repository, fields["number"], fields["updated_at"], pull, fields)
    if is_pull_request(item):
        return NotShown(event, action, repository, "it is about a pull request, and issues boards leave those out")
    issue, fields = _read(issue_from_github, ISSUE_SOURCES, item, "issue")
    leaving = event == "issues" and action in LEAVING_ACTIONS
    number, updated_at = fields["number"], fields["updated_at"]
    return RowChange(event, action, "issues", repository, number, updated_at, issue, fields, leaving)


def issues_board_after(board: AnyEntry | None, change: RowChange, at: datetime) -> After[IssuesBoard] | None:
    """The issues board ``board`` (stored under ``change.key``) after ``change``, written at ``at``;
    None if there is no issues board."""
    if not isinstance(board, IssuesBoard) or change.kind != "issues":
        return None
    return _after(board, board.issues, "issues", change, at)


def pulls_board_after(board: AnyEntry | None, change: RowChange, at: datetime) -> After[PullsBoard] | None:
    """:func:`issues_board_after` for a pull-request board."""
    if not isinstance(board, PullsBoard) or change.kind != "pulls":
        return None
    return _after(board, board.pulls, "pulls", change, at)


Row = TypeVar("Row", Issue, PullRequest)


def _after(board: B, rows: list[Row], name: str, change: RowChange, at: datetime) -> After[B]:
    number = change.number
    index = next((i for i, existing in enumerate(rows) if existing.number == number), -1)
    current = rows[index] if index >= 0 else None
    why_not = _older_than_known(board, current, change)
    if why_not is not None:
        return After(board, False, f"ignored: {why_not}; nothing changed")
    row: Row | None
    if change.leaves_repository:
        row = None
    elif current is not None:
        row = _merged(current, change.fields)
    elif change.row is not None:
        row = cast(Row, change.row)  # the change's kind is the board's
    else:
        message = f"ignored: the payload carries only part of #{number}, which the board does not show"
        return After(board, False, message)
    updated = list(rows)
    if row is not None and board.state in ("all", row.state):
        if current == row:
            return After(board, False, "the board already showed this")
        if current is None:
            updated.insert(0, row)  # the newest change first, where a fetch (most recently updated first) puts it
        else:
            updated[index] = row
        return After(board.model_copy(update={name: updated, "last_updated": at}), True, "the board was updated")
    # Off the board after this event: remember when, so that no older event brings it back.
    stone = Tombstone(number=number, updated_at=change.updated_at, left_repository=change.leaves_repository)
    stones = with_tombstone(board.tombstones, stone)
    if current is not None:
        del updated[index]
        after = board.model_copy(update={name: updated, "tombstones": stones, "last_updated": at})
        return After(after, True, "the board was updated")
    if stones == board.tombstones:
        return After(board, False, "the board already showed this")
    remembered = f"the board does not show #{number}; remembered, so that no older event can put it on the board"
    return After(board.model_copy(update={"tombstones": stones}), False, remembered)


def _older_than_known(board: TrackedBoard, current: Issue | PullRequest | None, change: RowChange) -> str | None:
    """Why ``change`` is older than what ``board`` knows of its item, or None if it is not.

    Not older means at least as new: GitHub's times have one-second resolution, and of two
    events in the same second the later delivery wins, as when they arrived in order.
    """
    when, number = change.updated_at, change.number
    stone = tombstone_of(board, number)
    if stone is not None and stone.left_repository:
        return f"#{number} left the repository"
    if current is not None and current.updated_at is not None and when < current.updated_at:
        return f"older than the row the board shows (updated {current.updated_at.isoformat()})"
    if stone is not None and when < stone.updated_at:
        return f"older than the event that took #{number} off the board (updated {stone.updated_at.isoformat()})"
    # To the second, as GitHub's times are: a change in the second the list was taken may be after it.
    if current is None and board.as_of is not None and when < board.as_of.replace(microsecond=0):
        return "older than the list the board shows (its fetch or push), which accounted for it"
    return None


def _merged(current: Row, fields: Mapping[str, Any]) -> Row:
    """``current`` with the fields the payload carries: all of them, unless it is a partial one."""
    if isinstance(current, PullRequest):
        return current.model_copy(update=fields)
    return dataclasses.replace(current, **fields)


def _repository(payload: dict[str, Any]) -> str:
    full_name = _object(payload, "repository").get("full_name")
    if not isinstance(full_name, str):
        raise BadPayload("the payload's repository has no full_name")
    try:
        return parse_repository(full_name)
    except InvalidRepository as exc:
        raise BadPayload(f"repository.full_name: {exc}") from None


def _check_shape(event: str, shape: Shape, payload: dict[str, Any]) -> None:
    """That ``payload`` has what ``event`` payloads carry, and nothing that marks another event's."""
    for key in MARKS:
        if key in payload and key not in shape.carries:
            raise BadPayload(
                f"it carries {key!r}, as {MARKS[key]} payload does and {event} payloads never do "
                "(the X-GitHub-Event header is not signed; the body is)"
            )
    for key in shape.carries:
        if key == "number":
            if not isinstance(payload.get("number"), int):
                raise BadPayload("the payload has no number")
        else:
            _object(payload, key)


def _object(payload: dict[str, Any], name: str) -> dict[str, Any]:
    value = payload.get(name)
    if not isinstance(value, dict):
        raise BadPayload(f"the payload has no {name} object")
    return value


Record = TypeVar("Record", Issue, PullRequest)


def _read(
    make: Callable[[dict[str, Any]], Record], sources: Mapping[str, str], item: dict[str, Any], name: str
) -> tuple[Record | None, dict[str, Any]]:
    """The row ``item`` describes (None if it lacks some of ``sources``' keys), and the fields it
    carries, validated. Raises :class:`BadPayload` naming the first field that is missing or wrong."""
    whole = all(key in item for key in sources.values())
    record = _record(make, item if whole else {"state": "open", **item}, name)  # "open": validates, never kept
    fields = {field: getattr(record, field) for field, key in sources.items() if key in item}
    if fields.get("updated_at") is None:
        raise BadPayload(f"the payload's {name} has no updated_at, so it cannot be ordered against the board")
    return (record if whole else None), fields


def _record(make: Callable[[dict[str, Any]], Record], item: dict[str, Any], name: str) -> Record:
    """``make(item)``, or :class:`BadPayload` naming the first field that is missing or wrong."""
    try:
        return make(item)
    except KeyError as exc:
        raise BadPayload(f"the payload's {name} has no {exc.args[0]!r}") from None
    except (TypeError, AttributeError):
        raise BadPayload(f"the payload's {name} has a field of the wrong type") from None
    except ValidationError as exc:
        first = exc.errors(include_url=False, include_input=False)[0]
        where = ".".join(str(part) for part in first["loc"])
        raise BadPayload(f"the payload's {name} cannot be read: {where}: {first['msg']}") from None
