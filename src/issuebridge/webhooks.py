"""GitHub webhook events as changes to boards: which board an event is about, and that board after it.

Pure functions, no I/O: ``web/webhooks.py`` checks the signature, deduplicates deliveries and
writes the result through the dashboard.

- ``issues`` and ``issue_comment`` events carry the whole issue (as GitHub's REST API shows it):
  it replaces the row of that number on the repository's issues board, or joins the board, or
  leaves it when it no longer matches the board's state (closed on an ``open`` board) or left
  the repository (``deleted``, ``transferred``). Comments on pull requests are about pull
  requests, which issues boards leave out.
- ``pull_request`` events do the same for the pull-request board.
- An event older than the row the board shows (by ``updated_at``) changes nothing: GitHub does
  not promise to deliver events in order, and a redelivered old event must not undo a newer one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, TypeVar

from pydantic import ValidationError

from issuebridge.boards import (
    InvalidRepository,
    Issue,
    IssuesBoard,
    StateFilter,
    is_pull_request,
    issue_from_github,
    issues_key,
    parse_repository,
)
from issuebridge.curated import PullRequest, PullsBoard, pull_from_github, pulls_key
from issuebridge.entries import AnyEntry

APPLIED_EVENTS = ("issues", "pull_request", "issue_comment")
# ``issues`` actions after which the issue is no longer in the repository.
LEAVING_ACTIONS = frozenset({"deleted", "transferred"})


class BadPayload(ValueError):
    """A payload without the fields its event must have; the message names what is missing."""


@dataclass(frozen=True, slots=True)
class RowChange:
    """One issue or pull request as an event left it."""

    event: str
    action: str
    kind: Literal["issues", "pulls"]
    repository: str
    number: int
    row: Issue | PullRequest | None  # None: it left the repository

    @property
    def key(self) -> str:
        """The board the row belongs on."""
        return issues_key(self.repository) if self.kind == "issues" else pulls_key(self.repository)


@dataclass(frozen=True, slots=True)
class NotShown:
    """A well-formed event about something no board shows."""

    event: str
    action: str
    repository: str
    reason: str


def read_event(event: str, payload: Any) -> RowChange | NotShown:
    """What the ``event`` (the ``X-GitHub-Event`` header, one of :data:`APPLIED_EVENTS`) with
    ``payload`` (parsed JSON) changes. Raises :class:`BadPayload`."""
    if event not in APPLIED_EVENTS:
        raise ValueError(f"{event!r} is not an event issuebridge applies")
    if not isinstance(payload, dict):
        raise BadPayload("the payload is not a JSON object")
    action = payload.get("action")
    if not isinstance(action, str) or not action:
        raise BadPayload("the payload has no action")
    repository = _repository(payload)
    if event == "pull_request":
        pull = _record(pull_from_github, _object(payload, "pull_request"), "pull_request")
        return RowChange(event, action, "pulls", repository, pull.number, pull)
    item = _object(payload, "issue")
    if is_pull_request(item):
        return NotShown(event, action, repository, "it is about a pull request, and issues boards leave those out")
    issue = _record(issue_from_github, item, "issue")
    leaving = event == "issues" and action in LEAVING_ACTIONS
    return RowChange(event, action, "issues", repository, issue.number, None if leaving else issue)


def issues_board_after(board: AnyEntry | None, change: RowChange, at: datetime) -> IssuesBoard | None:
    """The issues board ``board`` (stored under ``change.key``) after ``change``, written at ``at``.

    None if there is no issues board; ``board`` itself if the change shows nothing new.
    """
    if not isinstance(board, IssuesBoard) or change.kind != "issues":
        return None
    assert change.row is None or isinstance(change.row, Issue)
    issues = _rows(board.issues, change.number, change.row, board.state)
    return board if issues is None else board.model_copy(update={"issues": issues, "last_updated": at})


def pulls_board_after(board: AnyEntry | None, change: RowChange, at: datetime) -> PullsBoard | None:
    """:func:`issues_board_after` for a pull-request board."""
    if not isinstance(board, PullsBoard) or change.kind != "pulls":
        return None
    assert change.row is None or isinstance(change.row, PullRequest)
    pulls = _rows(board.pulls, change.number, change.row, board.state)
    return board if pulls is None else board.model_copy(update={"pulls": pulls, "last_updated": at})


Row = TypeVar("Row", Issue, PullRequest)


def _rows(rows: list[Row], number: int, row: Row | None, state: StateFilter) -> list[Row] | None:
    """``rows`` with ``row`` in place of number ``number`` (added first if new; left out if None
    or not in ``state``); None if that changes nothing."""
    index = -1
    for i, existing in enumerate(rows):
        if existing.number == number:
            index = i
            break
    current = rows[index] if index >= 0 else None
    if row is not None and current is not None and _older(row, current):
        return None
    updated = list(rows)
    if row is not None and state in ("all", row.state):
        if current == row:
            return None
        if current is None:
            updated.insert(0, row)  # the newest change first, where a fetch (most recently updated first) puts it
        else:
            updated[index] = row
        return updated
    if current is None:
        return None
    del updated[index]
    return updated


def _older(row: Issue | PullRequest, current: Issue | PullRequest) -> bool:
    return row.updated_at is not None and current.updated_at is not None and row.updated_at < current.updated_at


def _repository(payload: dict[str, Any]) -> str:
    full_name = _object(payload, "repository").get("full_name")
    if not isinstance(full_name, str):
        raise BadPayload("the payload's repository has no full_name")
    try:
        return parse_repository(full_name)
    except InvalidRepository as exc:
        raise BadPayload(f"repository.full_name: {exc}") from None


def _object(payload: dict[str, Any], name: str) -> dict[str, Any]:
    value = payload.get(name)
    if not isinstance(value, dict):
        raise BadPayload(f"the payload has no {name} object")
    return value


Record = TypeVar("Record", Issue, PullRequest)


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
