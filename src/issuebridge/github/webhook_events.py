"""GitHub webhook payloads as row changes: which board an event is about, and what it says of the row.

Pure functions, no I/O: ``web/github_webhook.py`` checks the signature,
``dashboard/webhook_deliveries.py`` deduplicates deliveries and writes the result through the
dashboard, and ``records/tracked.py`` says what a change does to a board.

- ``issues`` and ``issue_comment`` events carry the issue (as GitHub's REST API shows it): it
  replaces the row of that number on the repository's issues board, or joins the board, or
  leaves it when it no longer matches the board's state (closed on an ``open`` board) or left
  the repository (``deleted``, ``transferred``). Comments on pull requests are about pull
  requests, which issues boards leave out.
- ``pull_request`` events do the same for the pull-request board. Their payload says nothing
  of reviews: a row keeps what the board knew (``reviewed``), and one just opened has none.
- ``pull_request_review`` events carry the pull request (without ``merged``, sometimes without
  ``draft``: a partial row) and the review: submitted or edited, the row is reviewed; dismissed,
  whether it still has a review is not known (:data:`REVIEWED_AFTER`). That moves it in or out
  of "waiting for review" on the board's attention cards.
- The item's body comes with it, trimmed as a list's is (``records/bodies.py``): an ``edited``
  event replaces it, and a payload without one keeps what the board knew.
- Some deliveries carry only part of the item (``issues.pinned``: no ``state``, no ``labels``):
  they change the fields they carry on a row the board shows, and nothing else.

Only the body is signed, not the ``X-GitHub-Event`` header, so a payload is read as the event it
claims to be only if it has that event's shape (:data:`SHAPES`): a captured comment deletion sent
again as an ``issues`` event is refused, never read as the issue's deletion. An action GitHub
does not document for the event changes nothing, and is acknowledged (GitHub adds actions now and
then, and a refused delivery shows as failed in its webhook settings).

An event is applied only if it is not older, by the item's ``updated_at``, than what the board
knows of the item (``records/tracked.py``): GitHub does not promise to deliver in order, and a
redelivered or replayed old event must not undo a newer one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from pydantic import ValidationError

from issuebridge.errors import InvalidInput
from issuebridge.github.mapping import ISSUES, PULLS, ItemMapping
from issuebridge.records.base import DatedRow, InvalidRepository, parse_repository, repository_key, with_fields
from issuebridge.records.tracked import RowChange


@dataclass(frozen=True, slots=True)
class Shape:
    """What a payload of one event carries, as GitHub documents it (docs.github.com, "Webhook
    events and payloads", and the schemas of octokit/webhooks)."""

    item: Literal["issue", "pull_request"]  # the object the event is about
    carries: tuple[str, ...]  # the top-level keys among :data:`MARKS` it has
    actions: frozenset[str]
    kind: str  # the kind of board its rows go on
    mapping: ItemMapping[Any]  # how its object becomes a row


# What a pull request's row says of its reviews (``PullRequest.reviewed``) after each
# ``pull_request_review`` action: submitted or edited, someone has reviewed it; dismissed, the
# payload cannot say whether another review still stands, so it is not known (and the pull request
# counts as waiting, with the card's "may have a review" note) until the next sync asks GitHub.
REVIEWED_AFTER: dict[str, bool | None] = {"submitted": True, "edited": True, "dismissed": None}

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
        "issues",
        ISSUES,
    ),
    "issue_comment": Shape(
        "issue", ("issue", "comment"), frozenset({"created", "deleted", "edited"}), "issues", ISSUES
    ),
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
        "pulls",
        PULLS,
    ),
    "pull_request_review": Shape("pull_request", ("pull_request", "review"), frozenset(REVIEWED_AFTER), "pulls", PULLS),
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


class BadPayload(InvalidInput):
    """A payload without the fields its event must have, or with another event's shape; the
    message names what is wrong."""

    status = 422


@dataclass(frozen=True, slots=True)
class NotShown:
    """A well-formed event that no board shows anything of."""

    event: str
    action: str
    repository: str
    reason: str


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
    mapping = shape.mapping
    if mapping.skip is not None and mapping.skip(item):
        return NotShown(event, action, repository, mapping.skip_reason)
    row, fields = _read(mapping, item, shape.item)
    if event == "pull_request" and action == "opened" and row is not None:
        row = with_fields(row, {"reviewed": False})  # just opened: nobody has reviewed it yet
    if event == "pull_request_review":
        reviewed = {"reviewed": REVIEWED_AFTER[action]}
        fields = {**fields, **reviewed}
        row = with_fields(row, reviewed) if row is not None else None
    if "number" in shape.carries and payload["number"] != fields["number"]:
        raise BadPayload(f"the payload's number is not its {shape.item}'s number")
    leaving = event == "issues" and action in LEAVING_ACTIONS
    key = repository_key(shape.kind, repository)
    number, updated_at = fields["number"], fields["updated_at"]
    return RowChange(event, action, shape.kind, key, repository, number, updated_at, row, fields, leaving)


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


def _read(mapping: ItemMapping[Any], item: dict[str, Any], name: str) -> tuple[DatedRow | None, dict[str, Any]]:
    """The row ``item`` describes (None if it lacks some of the keys its fields come from), and
    the fields it carries, validated. Raises :class:`BadPayload` naming the first field that is
    missing or wrong."""
    sources = mapping.sources
    whole = all(key in item for key in sources.values())
    record = _record(mapping, item if whole else {"state": "open", **item}, name)  # "open": validates, never kept
    fields = {field: getattr(record, field) for field, key in sources.items() if key in item}
    if fields.get("updated_at") is None:
        raise BadPayload(f"the payload's {name} has no updated_at, so it cannot be ordered against the board")
    return (record if whole else None), fields


def _record(mapping: ItemMapping[Any], item: dict[str, Any], name: str) -> DatedRow:
    """``item`` as a row, or :class:`BadPayload` naming the first field that is missing or wrong."""
    try:
        row: DatedRow = mapping.from_github(item)
    except KeyError as exc:
        raise BadPayload(f"the payload's {name} has no {exc.args[0]!r}") from None
    except (TypeError, AttributeError):
        raise BadPayload(f"the payload's {name} has a field of the wrong type") from None
    except ValidationError as exc:
        first = exc.errors(include_url=False, include_input=False)[0]
        where = ".".join(str(part) for part in first["loc"])
        raise BadPayload(f"the payload's {name} cannot be read: {where}: {first['msg']}") from None
    return row
