"""One issue or pull request as the assistant reads it (``get_issue_details``): sized for a model.

An MCP client caps a tool result (Claude Code at 25,000 tokens), and an assistant reading what
the user picked makes several calls in a row. So an answer is at most :data:`DETAILS_BYTES`
bytes of JSON, about 4,000 tokens of English: five calls stay under 20,000 tokens whatever
GitHub holds (65,536-character bodies, 100 long comments). Within that, the body keeps up to
:data:`BODY_LIMIT` bytes and each comment up to :data:`COMMENT_LIMIT`; when many comments are
asked for, the room left is shared evenly and every cut text says so (``body_trimmed``).

All text from GitHub has its invisible characters removed (``invisible.py``).
"""

from __future__ import annotations

from typing import Literal

import orjson
from pydantic import BaseModel, Field

from issuebridge.records.bodies import trim_body

DETAILS_BYTES = 16_000
BODY_LIMIT = 4_000
COMMENT_LIMIT = 1_500
MAX_COMMENTS = 100
MAX_NAMES = 20  # labels, assignees, reviewers listed at most (GitHub allows 10 assignees)
MAX_NAME = 100  # characters of a label, branch or team name (GitHub's labels have 50 at most)
MAX_TITLE = 256  # characters, GitHub's own limit


class CommentDetails(BaseModel):
    author: str | None = Field(description="null for a deleted account.")
    created_at: str | None
    body: str
    body_trimmed: bool = False


class ReviewDetails(BaseModel):
    reviewer: str
    state: Literal["approved", "changes_requested", "commented", "dismissed"]
    submitted_at: str | None


class PullRequestDetails(BaseModel):
    head: str = Field(description="The branch with the changes.")
    base: str = Field(description="The branch it would merge into.")
    draft: bool
    merged: bool
    requested_reviewers: list[str] = Field(description="People asked who have not reviewed yet.")
    requested_teams: list[str]
    reviews: list[ReviewDetails] = Field(description="Each reviewer's standing review, oldest first.")
    review_state: Literal["changes_requested", "approved", "commented", "none"] = Field(
        description="changes_requested if any reviewer's standing review asks for changes, else approved "
        "if any approves, else commented if anyone reviewed, else none."
    )


class ItemDetails(BaseModel):
    repository: str
    number: int
    kind: Literal["issue", "pull_request"]
    title: str
    state: str
    state_reason: str | None = None
    url: str | None
    author: str | None
    labels: list[str]
    assignees: list[str]
    created_at: str | None
    updated_at: str | None
    closed_at: str | None
    body: str = Field(description=f"Markdown, at most {BODY_LIMIT} bytes.")
    body_trimmed: bool
    comment_count: int = Field(description="Comments the item has in all.")
    comments: list[CommentDetails] = Field(description="The latest ones asked for, oldest first.")
    comments_left_out: int = Field(
        default=0, description="Of the latest ones asked for, the oldest left out to keep the answer small."
    )
    pull_request: PullRequestDetails | None = None


def review_state(reviews: list[ReviewDetails]) -> Literal["changes_requested", "approved", "commented", "none"]:
    states = {review.state for review in reviews}
    if "changes_requested" in states:
        return "changes_requested"
    if "approved" in states:
        return "approved"
    return "commented" if reviews else "none"


def standing_reviews(reviews: list[ReviewDetails]) -> list[ReviewDetails]:
    """Each reviewer's review that stands, in the order given (oldest first): the latest that
    approves, asks for changes or was dismissed; a comment only where they left nothing else."""
    standing: dict[str, ReviewDetails] = {}
    for review in reviews:
        earlier = standing.get(review.reviewer)
        if review.state != "commented" or earlier is None or earlier.state == "commented":
            standing.pop(review.reviewer, None)
            standing[review.reviewer] = review
    return list(standing.values())


def fitted(details: ItemDetails) -> ItemDetails:
    """``details`` with its body and comments cut so that the whole is at most :data:`DETAILS_BYTES`
    bytes of JSON: the body to :data:`BODY_LIMIT`, each comment to :data:`COMMENT_LIMIT`, and
    all of them further, evenly, if together they still do not fit. Only if the rest alone would
    not fit (names and branches at their longest, from a server that is not GitHub) are the
    oldest comments left out, and counted."""
    bare = details.model_copy(
        update={"body": "", "comments": [c.model_copy(update={"body": ""}) for c in details.comments]}
    )
    size = _size(bare)
    left_out = 0
    while size > DETAILS_BYTES and left_out < len(details.comments):
        size -= _size(bare.comments[left_out]) + 1  # and its comma
        left_out += 1
    if left_out:
        size += len(str(left_out)) - 1
        details = details.model_copy(
            update={"comments": details.comments[left_out:], "comments_left_out": details.comments_left_out + left_out}
        )
    room = max(DETAILS_BYTES - size, 0)
    texts = [details.body, *(comment.body for comment in details.comments)]
    limits = [BODY_LIMIT, *(COMMENT_LIMIT for _ in details.comments)]
    grants = _shares(room, [min(_json_size(text), limit) for text, limit in zip(texts, limits, strict=True)])
    cut = [_cut(text, grant) for text, grant in zip(texts, grants, strict=True)]
    body, body_cut = cut[0]
    comments = [
        comment.model_copy(update={"body": text, "body_trimmed": comment.body_trimmed or trimmed})
        for comment, (text, trimmed) in zip(details.comments, cut[1:], strict=True)
    ]
    return details.model_copy(
        update={"body": body, "body_trimmed": details.body_trimmed or body_cut, "comments": comments}
    )


def _shares(room: int, wanted: list[int]) -> list[int]:
    """Split ``room`` among texts wanting ``wanted`` bytes: the smallest get all they want, the
    rest an even share of what is left (water-filling)."""
    grants = [0] * len(wanted)
    left = room
    order = sorted(range(len(wanted)), key=wanted.__getitem__)
    for taken, index in enumerate(order):
        share = left // (len(order) - taken)
        grants[index] = min(wanted[index], share)
        left -= grants[index]
    return grants


def _size(model: BaseModel) -> int:
    """The bytes ``model`` takes as JSON (UTF-8)."""
    return len(model.__pydantic_serializer__.to_json(model))


def _json_size(text: str) -> int:
    """The bytes ``text`` takes as a JSON string, quotes left out."""
    return len(orjson.dumps(text)) - 2


def _cut(text: str, budget: int) -> tuple[str, bool]:
    """``text`` cut so that it takes at most ``budget`` bytes as a JSON string, and whether it was:
    the longest such start, found by halving (JSON escapes make a byte count only a bound)."""
    if _json_size(text) <= budget:
        return text, False
    low, high = 0, budget  # a cut to `low` bytes fits; one to more than `high` cannot
    while low < high:
        middle = (low + high + 1) // 2
        if _json_size(trim_body(text, middle)[0]) <= budget:
            low = middle
        else:
            high = middle - 1
    return trim_body(text, low)[0], True
