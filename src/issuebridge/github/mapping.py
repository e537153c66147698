"""GitHub's JSON as records: the one mapping that fetching and webhooks both use.

Each list GitHub sends (issues, pull requests, commits) has an :class:`ItemMapping`: the fields
of a record picked from one item, not yet validated (a page of them is validated in one
pydantic-core call, about twice as fast as one at a time), and, for webhook payloads that carry
only part of an object, the key of GitHub's object each field is read from. Values GitHub
should never send but a hostile or odd server might (a colour that is not six hex digits, a
link that is not http(s)) are replaced or dropped rather than failing the whole list.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any, Generic, TypeVar

from pydantic import TypeAdapter, ValidationError

from issuebridge.records.base import DEFAULT_LABEL_COLOUR, MAX_URL_LENGTH, Label, check_web_url, displayable_colour
from issuebridge.records.bodies import body_fields
from issuebridge.records.commits import Commit
from issuebridge.records.issues import Issue
from issuebridge.records.pulls import PullRequest

Item = TypeVar("Item")


def issue_fields(item: dict[str, Any]) -> dict[str, Any]:
    """The fields of an :class:`Issue` from one item of GitHub's issues list."""
    user = item.get("user") or {}
    return {
        "number": item["number"],
        "title": item.get("title") or "",
        "state": item["state"],
        "labels": [label for raw in item.get("labels") or [] if (label := label_from_github(raw))],
        "author": user.get("login"),
        "assignees": [a["login"] for a in item.get("assignees") or [] if a and a.get("login")],
        "comments": item.get("comments") or 0,
        "created_at": item.get("created_at"),
        "updated_at": item.get("updated_at"),
        "html_url": web_url_or_none(item.get("html_url")),
        **body_fields(item.get("body")),
    }


def pull_fields(item: dict[str, Any]) -> dict[str, Any]:
    """The fields of a :class:`PullRequest` from one item of GitHub's pulls list."""
    user = item.get("user") or {}
    return {
        "number": item["number"],
        "title": item.get("title") or "",
        "state": item["state"],
        "draft": bool(item.get("draft")),
        "merged": bool(item.get("merged_at")),
        "author": user.get("login"),
        "labels": [label for raw in item.get("labels") or [] if (label := label_from_github(raw))],
        "assignees": [a["login"] for a in item.get("assignees") or [] if a and a.get("login")],
        # A deleted account is null in the list; a team is named by its slug.
        "requested_reviewers": [r["login"] for r in item.get("requested_reviewers") or [] if r and r.get("login")],
        "requested_teams": [t["slug"] for t in item.get("requested_teams") or [] if t and t.get("slug")],
        "head": str((item.get("head") or {}).get("ref") or "")[:256],
        "base": str((item.get("base") or {}).get("ref") or "")[:256],
        "created_at": item.get("created_at"),
        "updated_at": item.get("updated_at"),
        "html_url": web_url_or_none(item.get("html_url")),
        **body_fields(item.get("body")),
    }


def commit_fields(item: dict[str, Any]) -> dict[str, Any]:
    """The fields of a :class:`Commit` from one item of GitHub's commits list."""
    detail = item.get("commit") or {}
    git_author = detail.get("author") or {}
    account = item.get("author") or {}
    first_line = str(detail.get("message") or "").strip().split("\n", 1)[0]
    return {
        "sha": item["sha"],
        "message": first_line[:300],
        "author": account.get("login") or (git_author.get("name") or None),
        "date": git_author.get("date"),
        "html_url": web_url_or_none(item.get("html_url")),
    }


# Each field of a row, and the key of GitHub's object it is read from: a webhook payload that
# lacks a key does not carry that field (an ``issues.pinned`` issue has no ``state`` or ``labels``).
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
    "body": "body",
    "body_trimmed": "body",
}
PULL_SOURCES = {
    "number": "number",
    "title": "title",
    "state": "state",
    "draft": "draft",
    "merged": "merged_at",
    "author": "user",
    "labels": "labels",
    "assignees": "assignees",
    "requested_reviewers": "requested_reviewers",
    "requested_teams": "requested_teams",
    "head": "head",
    "base": "base",
    "created_at": "created_at",
    "updated_at": "updated_at",
    "html_url": "html_url",
    "body": "body",
    "body_trimmed": "body",
}


# Fields of a pull-request row that no pulls list or webhook payload carries (``github/reviews.py``
# learns them): a webhook's change keeps what the board knew of them.
PULL_FIELDS_FROM_ELSEWHERE = frozenset({"reviewed"})


def web_url_or_none(value: Any) -> str | None:
    """A link the page must not follow is dropped, not allowed to fail the whole sync."""
    try:
        return check_web_url(value) if isinstance(value, str) and len(value) <= MAX_URL_LENGTH else None
    except ValueError:
        return None


def label_from_github(raw: Any) -> Label | None:
    # GitHub's schema allows a label to be a bare name as well as an object.
    if isinstance(raw, str) and raw:
        return _label(raw, DEFAULT_LABEL_COLOUR)
    if not isinstance(raw, dict) or not isinstance(raw.get("name"), str) or not raw["name"]:
        return None
    return _label(raw["name"], displayable_colour(raw.get("color")))


@lru_cache(maxsize=4096)
def _label(name: str, colour: str) -> Label:
    """Labels are immutable and repeat across a repository's issues: each is held once."""
    return Label(name=name, color=colour)


def is_pull_request(item: dict[str, Any]) -> bool:
    """GitHub's issues list also returns pull requests; they carry a ``pull_request`` key."""
    return "pull_request" in item


class ItemMapping(Generic[Item]):
    """How one list's items become records of type ``record``.

    ``fields`` picks an item's fields (it may raise KeyError, TypeError, AttributeError or
    ValueError for an item it cannot read); ``skip`` says which items to leave out on purpose
    (and ``skip_reason`` why, in the words a webhook's answer uses);
    ``sources`` names the key each field comes from, for payloads that carry part of an item.
    """

    def __init__(
        self,
        fields: Callable[[dict[str, Any]], dict[str, Any]],
        record: type[Item],
        sources: Mapping[str, str] | None = None,
        skip: Callable[[dict[str, Any]], bool] | None = None,
        skip_reason: str = "",
    ) -> None:
        self.fields = fields
        self.record = record
        self.sources: Mapping[str, str] = sources or {}
        self.skip = skip
        self.skip_reason = skip_reason
        self._one: TypeAdapter[Item] = TypeAdapter(record)
        self._page: TypeAdapter[list[Item]] = TypeAdapter(list[record])  # type: ignore[valid-type]

    def from_github(self, item: dict[str, Any]) -> Item:
        """One item as a record; raises what ``fields`` raises, or ``ValidationError``."""
        return self.record(**self.fields(item))

    def records(self, fields: list[dict[str, Any]]) -> tuple[list[Item], int]:
        """``fields`` as validated records, and how many could not be validated (left out).

        A page is validated in one call; only a page holding an item that does not validate is
        gone through again, item by item.
        """
        try:
            return self._page.validate_python(fields), 0
        except ValidationError:
            pass
        records = []
        for one in fields:
            with contextlib.suppress(ValidationError):
                records.append(self._one.validate_python(one))
        return records, len(fields) - len(records)


ISSUES = ItemMapping(
    issue_fields,
    Issue,
    ISSUE_SOURCES,
    skip=is_pull_request,
    skip_reason="it is about a pull request, and issues boards leave those out",
)
PULLS = ItemMapping(pull_fields, PullRequest, PULL_SOURCES)
COMMITS = ItemMapping(commit_fields, Commit)


issue_from_github = ISSUES.from_github
pull_from_github = PULLS.from_github
commit_from_github = COMMITS.from_github
