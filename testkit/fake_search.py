"""The fake GitHub's issue search (``GET /search/issues``): its qualifiers, as GitHub documents
them ("Searching issues and pull requests"), over the fake's repositories.

Terms are ANDed. Known qualifiers: ``repo:``, ``org:``, ``user:``, ``is:`` (open, closed, issue,
pr, pull-request, merged, unmerged, draft), ``state:``, ``type:``, ``label:`` (a comma is "any of"),
``-label:``, ``author:``, ``assignee:``, ``no:assignee``, ``no:label``, ``review-requested:``,
``review:none``, ``created:``/``updated:``/``closed:`` (``>``, ``<``, ``>=``, ``<=``, a day, or
``a..b``), and ``-`` before any of them. ``@me`` is the token's user. Other words are free text,
matched in titles (as ``in:title``), as are qualifiers GitHub does not know. A ``repo:``,
``org:`` or ``user:`` that does not exist is GitHub's 422.

"Best match" (no ``sort``) orders by how many free words the title holds, then newest created
first: with no words, not the order of the last update, so a client that re-sorts shows it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

UNSEARCHABLE = (
    "The listed users and repositories cannot be searched either because the resources do not exist "
    "or you do not have permission to view them."
)
SEARCH_CAP = 1000  # results a search gives, at most
CAP_MESSAGE = "Only the first 1000 search results are available"
SORTS = ("comments", "reactions", "interactions", "created", "updated")
_TOKEN = re.compile(r'(?:[^\s"]+|"[^"]*"?)+')
_RANGE = re.compile(r"(>=|<=|>|<)?(\d{4}-\d{2}-\d{2}(?:T[\d:]+Z?)?)(?:\.\.(\d{4}-\d{2}-\d{2}))?")

Item = dict[str, Any]
Test = Callable[[Item], bool]


class Unsearchable(Exception):
    """A query GitHub answers 422 to; the message is GitHub's."""


def _unquote(value: str) -> str:
    return value.replace('"', "")


def _time(value: str) -> datetime:
    if "T" not in value:
        return datetime.fromisoformat(value).replace(tzinfo=UTC)
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _when(field: str, value: str) -> Test:
    match = _RANGE.fullmatch(value)
    if match is None:
        return lambda item: False
    op, start, end = match[1], _time(match[2]), match[3]
    day = "T" not in match[2]

    def test(item: Item) -> bool:
        raw = item.get(field)
        if not raw:
            return False
        at = _time(raw)
        if end is not None:
            return start <= at < _time(end) + timedelta(days=1)
        if op == ">":
            return at >= start + timedelta(days=1) if day else at > start
        if op == ">=":
            return at >= start
        if op == "<":
            return at < start
        if op == "<=":
            return at < start + timedelta(days=1) if day else at <= start
        return start <= at < start + timedelta(days=1) if day else at == start

    return test


def _logins(people: Iterable[Any]) -> set[str]:
    return {person["login"].lower() for person in people if person and person.get("login")}


def plan(q: str, owners: set[str], repos: set[str], login: str | None) -> tuple[set[str] | None, list[Test], list[str]]:
    """``q`` as the repositories to look in (None: all), the tests an item must pass, and the
    free words. Raises :class:`Unsearchable` for a repository or owner that does not exist."""
    scope: set[str] | None = None
    tests: list[Test] = []
    words: list[str] = []

    def me(value: str) -> str:
        value = _unquote(value).lower()
        if value == "@me":
            if login is None:
                raise Unsearchable(UNSEARCHABLE)
            return login.lower()
        return value

    for token in _TOKEN.findall(q):
        negated = token.startswith("-") and ":" in token
        name, colon, value = token.removeprefix("-" if negated else "").partition(":")
        name = name.lower()
        test: Test | None = None
        if not colon or not value:
            words.append(_unquote(token).lower())
            continue
        low = _unquote(value).lower()
        if name == "repo":
            if low not in repos:
                raise Unsearchable(UNSEARCHABLE)
            scope = (scope or set()) | {low}
            continue
        if name in ("org", "user"):
            if low not in owners:
                raise Unsearchable(UNSEARCHABLE)
            scope = (scope or set()) | {r for r in repos if r.split("/")[0] == low}
            continue
        if name in ("is", "state", "type"):
            test = {
                "open": lambda i: i["state"] == "open",
                "closed": lambda i: i["state"] == "closed",
                "issue": lambda i: "pull_request" not in i,
                "pr": lambda i: "pull_request" in i,
                "pull-request": lambda i: "pull_request" in i,
                "merged": lambda i: bool((i.get("pull_request") or {}).get("merged_at")),
                "unmerged": lambda i: "pull_request" in i and not i["pull_request"].get("merged_at"),
                "draft": lambda i: bool(i.get("draft")),
            }.get(low)
        elif name == "label":
            wanted = {part for part in low.split(",") if part}
            test = lambda i, wanted=wanted: bool(wanted & {label["name"].lower() for label in i["labels"]})  # noqa: E731
        elif name == "author":
            who = me(value)
            test = lambda i, who=who: (i.get("user") or {}).get("login", "").lower() == who  # noqa: E731
        elif name == "assignee":
            who = me(value)
            test = lambda i, who=who: who in _logins(i.get("assignees") or [])  # noqa: E731
        elif name == "no":
            test = {
                "assignee": lambda i: not i.get("assignees"),
                "label": lambda i: not i["labels"],
            }.get(low)
        elif name == "review-requested":
            who = me(value)
            test = lambda i, who=who: who in _logins(i.get("_requested_reviewers") or [])  # noqa: E731
        elif name == "review" and low == "none":
            test = lambda i: bool(i.get("_pull")) and not i.get("_reviewed")  # noqa: E731
        elif name in ("created", "updated", "closed"):
            test = _when(f"{name}_at", _unquote(value))
        if test is None:  # a qualifier GitHub does not know: free text
            words.append(_unquote(token).lower())
            continue
        tests.append(_negated(test) if negated else test)
    return scope, tests, words


def _negated(test: Test) -> Test:
    return lambda item: not test(item)


def found(items: Iterable[Item], tests: list[Test], words: list[str], sort: str | None, order: str) -> list[Item]:
    """The items passing every test with every word in the title, in the order asked for."""
    hits = [item for item in items if all(t(item) for t in tests) and all(w in item["title"].lower() for w in words)]
    if sort is None:  # best match
        return sorted(hits, key=lambda i: (i["created_at"], i["repository_url"], i["number"]), reverse=True)
    field = {"created": "created_at", "updated": "updated_at"}.get(sort, "comments")
    return sorted(hits, key=lambda i: (i[field], i["repository_url"], i["number"]), reverse=order != "asc")


def result(item: Item) -> Item:
    """A search result as GitHub sends it: the issue-shaped item with its ``score``."""
    return {**{key: value for key, value in item.items() if not key.startswith("_")}, "score": 1.0}
