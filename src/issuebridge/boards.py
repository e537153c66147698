"""The dashboard's records: issues, boards, and the rules every incoming value must pass.

Everything that reaches a board, from GitHub or from an API client, goes through these models,
so the page and the event stream only ever see validated, compact records: no HTML-bearing
URLs, no colours that are not exactly six hex digits, no unbounded lists. Every rule matches a
value whole (``fullmatch``), never a part of it. The renderers escape every value all the same.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Annotated, Any, Literal, Protocol, TypeGuard, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PlainValidator, StringConstraints, ValidationInfo
from pydantic.dataclasses import dataclass as pydantic_dataclass

StateFilter = Literal["open", "closed", "all"]
IssueState = Literal["open", "closed"]
Source = Literal["mcp", "api"]

# GitHub's own rules: an owner is 1-39 letters, digits or hyphens, not starting with a hyphen;
# a repository name is 1-100 letters, digits, '.', '-' or '_', and never '.' or '..'.
_OWNER = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,38}")
_REPO = re.compile(r"[A-Za-z0-9._-]{1,100}")
_HEX_COLOUR = re.compile(r"[0-9a-fA-F]{6}")
DEFAULT_LABEL_COLOUR = "ededed"


class InvalidRepository(ValueError):
    """An owner or repository name that GitHub could not have; the message says which part."""


def validate_owner(owner: str) -> str:
    """Return ``owner`` if GitHub allows it as a user or organisation name."""
    if not _OWNER.fullmatch(owner):
        raise InvalidRepository(
            f"{owner!r} is not a valid GitHub owner: use 1-39 letters, digits or hyphens, not starting with a hyphen"
        )
    return owner


def validate_repo(repo: str) -> str:
    """Return ``repo`` if GitHub allows it as a repository name."""
    if not _REPO.fullmatch(repo) or repo in {".", ".."}:
        raise InvalidRepository(
            f"{repo!r} is not a valid GitHub repository name: use 1-100 letters, digits, '.', '-' or '_'"
        )
    return repo


def repository_name(owner: str, repo: str) -> str:
    """Validate both parts and join them as ``owner/repo``."""
    return f"{validate_owner(owner)}/{validate_repo(repo)}"


def parse_repository(value: str) -> str:
    """Validate an ``owner/repo`` string (surrounding spaces ignored) and return it."""
    owner, slash, repo = value.strip().partition("/")
    if not slash:
        raise InvalidRepository(f"{value!r} is not of the form 'owner/repo'")
    return repository_name(owner, repo)


def _check_repository(value: str) -> str:
    return parse_repository(value)


def full_match(pattern: re.Pattern[str], description: str) -> AfterValidator:
    """A validator that accepts a string only if ``pattern`` matches all of it.

    Pydantic's ``StringConstraints(pattern=...)`` is a search: a pattern without anchors
    accepts any string that merely contains a match. Every pattern rule here goes through this.
    """

    def check(value: str) -> str:
        if not pattern.fullmatch(value):
            raise ValueError(f"must be {description}")
        return value

    return AfterValidator(check)


def is_hex_colour(value: object) -> TypeGuard[str]:
    """Whether ``value`` is exactly six hex digits: the only label colour that reaches a page."""
    return isinstance(value, str) and _HEX_COLOUR.fullmatch(value) is not None


def displayable_colour(value: object) -> str:
    """``value`` if it is six hex digits, else the default grey: what a renderer puts in a style
    or a fill, whether or not the record it came from was validated."""
    return value if is_hex_colour(value) else DEFAULT_LABEL_COLOUR


@dataclass
class Repairs:
    """The validation context for reading back what a store kept (``entries.read_stored``).

    An older version let through any colour that *contained* six hex digits. Such a stored colour
    is replaced by the default grey (and counted here, for the log) rather than losing the whole
    board; anything else still has to be valid.
    """

    colours: int = 0


def _check_colour(value: object, info: ValidationInfo) -> str:
    # Sees the raw value (no stripping first): anything around the six digits is refused.
    if is_hex_colour(value):
        return value.lower()
    if isinstance(info.context, Repairs):
        info.context.colours += 1
        return DEFAULT_LABEL_COLOUR
    raise ValueError("must be exactly six hex digits, like d73a4a")


# Only links a browser follows as a page: no javascript:, data: or relative URLs.
_WEB_URL = re.compile(r"https?://[^\s\"'<>`]+")


def _check_web_url(value: str) -> str:
    if not _WEB_URL.fullmatch(value):
        raise ValueError("must be an http(s) URL")
    return value


def to_utc(value: datetime) -> datetime:
    """``value`` in UTC (a time without an offset is taken as UTC already).

    Raises ValueError, which validation reports naming the field, for a time that exists with
    its offset but not in UTC: ``9999-12-31T23:59:59-23:59`` is in the year 10000 there.
    """
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError("is outside the years 1 to 9999 once converted to UTC") from None


# Every number a record holds is bounded on the way in. GitHub's fit in 32 bits: its GraphQL
# schema types issue and pull-request numbers and counts (comments, totalCount) as Int, a
# signed 32-bit integer. A larger one is not GitHub's, and would not survive every encoder on
# the way to a page (orjson refuses integers past 64 bits; JavaScript rounds past 2^53).
GITHUB_INT_MAX = 2**31 - 1
ItemNumber = Annotated[int, Field(ge=1, le=GITHUB_INT_MAX)]
Count = Annotated[int, Field(ge=0, le=GITHUB_INT_MAX)]
# Revisions (and so event ids) stay below 2^53, where a browser's numbers are still exact.
Revision = Annotated[int, Field(ge=0, lt=2**53)]

RepositoryName = Annotated[str, AfterValidator(_check_repository)]
HexColour = Annotated[str, PlainValidator(_check_colour, json_schema_input_type=str)]
WebUrl = Annotated[str, StringConstraints(max_length=2048), AfterValidator(_check_web_url)]
UtcDatetime = Annotated[datetime, AfterValidator(to_utc)]
ShortText = Annotated[str, StringConstraints(min_length=1, max_length=256)]


class Record(BaseModel):
    """Immutable, strict-shaped: unknown fields are ignored, nothing is coerced into a board silently."""

    model_config = ConfigDict(frozen=True, extra="ignore", str_strip_whitespace=True)


# Rows (issues, labels) are validated like records but are slotted dataclasses: a board holds
# thousands, and a model instance with its __dict__ and fields-set costs about four times the memory.
ROW = ConfigDict(extra="ignore", str_strip_whitespace=True)


@pydantic_dataclass(frozen=True, slots=True, config=ROW)
class Label:
    name: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    color: HexColour = DEFAULT_LABEL_COLOUR


@pydantic_dataclass(frozen=True, slots=True, config=ROW)
class Issue:
    """One row of an issues board: what the page shows and nothing more."""

    number: ItemNumber
    title: Annotated[str, StringConstraints(max_length=1024)]
    state: IssueState
    labels: Annotated[list[Label], Field(max_length=100)] = field(default_factory=list)
    author: ShortText | None = None
    assignees: Annotated[list[ShortText], Field(max_length=100)] = field(default_factory=list)
    comments: Count = 0
    created_at: UtcDatetime | None = None
    updated_at: UtcDatetime | None = None
    html_url: WebUrl | None = None


Kind = Literal["issues", "pulls", "commits", "panel"]


class Entry(Record):
    """Anything the dashboard shows: a board fetched from GitHub, or a panel the assistant wrote.

    Every entry has a ``key`` (``issues:owner/repo``, ``panel:weekly-triage``, ...) that names it
    in the store, in events, and to the tools that remove it. Saving under an existing key
    replaces that entry whole.
    """

    source: Source
    last_updated: UtcDatetime
    revision: Revision = 0

    @property
    def key(self) -> str:
        raise NotImplementedError

    @property
    def related_repository(self) -> str | None:
        """The repository the entry belongs with on the page, if any."""
        raise NotImplementedError


class RepositoryBoard(Entry):
    repository: RepositoryName
    truncated: bool = False
    # Items GitHub sent that could not be read (a title over the limit, a negative count, ...):
    # left out of the board, and said so on it.
    unreadable: Annotated[int, Field(ge=0)] = 0

    @property
    def related_repository(self) -> str | None:
        return self.repository


# How many items that left it one board remembers (see ``tombstones.py``): a few dozen kilobytes.
TOMBSTONES_PER_BOARD = 1000
# What the store keeps of a board but nobody is shown: the API, the events and the tools leave it out.
BOOKKEEPING_FIELDS = frozenset({"tombstones", "as_of"})


@pydantic_dataclass(frozen=True, slots=True, config=ROW)
class Tombstone:
    """An item a board no longer shows (closed on an ``open`` board, deleted, transferred), as of
    the ``updated_at`` of the event that said so; ``left_repository`` if it can never come back."""

    number: Annotated[int, Field(ge=1)]
    updated_at: UtcDatetime
    left_repository: bool = False


class TrackedBoard(RepositoryBoard):
    """A board of items GitHub sends webhook events about (issues, pull requests), with what it
    needs to apply them in order and never move backwards (``tombstones.py`` says how)."""

    tombstones: Annotated[list[Tombstone], Field(max_length=TOMBSTONES_PER_BOARD)] = []
    # When its list was taken: the start of the fetch that wrote it, or the push. Every item the
    # board does not show was, as of then, not one it shows.
    as_of: UtcDatetime | None = None

    @property
    def rows(self) -> Sequence[_Dated]:
        raise NotImplementedError


class IssuesBoard(TrackedBoard):
    """One repository's issues as last synced."""

    kind: Literal["issues"] = "issues"
    state: StateFilter
    issues: list[Issue]

    @property
    def key(self) -> str:
        return issues_key(self.repository)

    @property
    def rows(self) -> Sequence[Issue]:
        return self.issues


def issues_key(repository: str) -> str:
    """Keys are case-insensitive, as GitHub treats ``Facebook/React`` as ``facebook/react``."""
    return f"issues:{repository.lower()}"


class SyncIssuesRequest(Record):
    """The body of ``POST /api/dashboard/sync-issues``."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    repository: RepositoryName
    issues: Annotated[list[Issue], Field(max_length=10_000)]
    state: StateFilter = "all"


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class _Dated(Protocol):
    @property
    def number(self) -> int: ...

    @property
    def updated_at(self) -> datetime | None: ...

    @property
    def created_at(self) -> datetime | None: ...


Row = TypeVar("Row", bound=_Dated)


def sorted_for_display(rows: list[Row]) -> list[Row]:
    """Most recently updated first: the page's default order, as on GitHub's and Linear's lists."""
    return sorted(rows, key=lambda r: (r.updated_at or r.created_at or _EPOCH, r.number), reverse=True)


def now() -> datetime:
    return datetime.now(UTC)


def iso_utc(value: datetime) -> str:
    """``2026-11-25T09:40:00.123456Z``: how every time leaves the server (API, events, tools)."""
    return value.isoformat().replace("+00:00", "Z")


def issue_from_github(item: dict[str, Any]) -> Issue:
    """Map one item of GitHub's issues list to a compact record (see :func:`issue_fields`)."""
    return Issue(**issue_fields(item))


def issue_fields(item: dict[str, Any]) -> dict[str, Any]:
    """The fields of the compact record for one item of GitHub's issues list, not yet validated.

    A whole page of them is validated in one pydantic-core call, about twice as fast as one
    record at a time. Colours GitHub should never send but a hostile or odd server might are
    replaced by the default grey rather than failing the whole sync.
    """
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
    }


def web_url_or_none(value: Any) -> str | None:
    # A link the page must not follow is dropped, not allowed to fail the whole sync.
    try:
        return _check_web_url(value) if isinstance(value, str) and len(value) <= 2048 else None
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


@dataclass(frozen=True, slots=True)
class IssuesDiff:
    """What a re-sync changed on a board, by issue number."""

    added: list[Issue]
    changed: list[Issue]
    removed: list[int]


def diff_issues(old: list[Issue], new: list[Issue]) -> IssuesDiff:
    """Added, changed and removed issues between two versions of a board."""
    before = {issue.number: issue for issue in old}
    after = {issue.number: issue for issue in new}
    return IssuesDiff(
        added=[issue for number, issue in after.items() if number not in before],
        changed=[issue for number, issue in after.items() if number in before and before[number] != issue],
        removed=[number for number in before if number not in after],
    )


AGE_BUCKETS: tuple[tuple[str, timedelta | None], ...] = (
    ("< 1 week", timedelta(days=7)),
    ("1-4 weeks", timedelta(days=28)),
    ("1-3 months", timedelta(days=91)),
    ("3-12 months", timedelta(days=365)),
    ("> 1 year", None),
)
TOP_LABELS = 8


@dataclass(frozen=True, slots=True)
class LabelCount:
    name: str
    color: str
    count: int


@dataclass(frozen=True, slots=True)
class BoardSummary:
    """The counts a person would rather see drawn than read: by label, and by age."""

    labels: list[LabelCount]
    unlabelled: int
    other_labels: int
    ages: list[tuple[str, int]]

    @property
    def largest_label_count(self) -> int:
        return max([label.count for label in self.labels] + [self.unlabelled, 1])

    @property
    def largest_age_count(self) -> int:
        return max([count for _, count in self.ages] + [1])


def summarize(issues: list[Issue], at: datetime) -> BoardSummary:
    """Counts by label (the most common ones) and by age (from ``created_at``) as of ``at``."""
    counts: Counter[str] = Counter()
    colours: dict[str, str] = {}
    unlabelled = 0
    for issue in issues:
        if not issue.labels:
            unlabelled += 1
        for label in issue.labels:
            counts[label.name] += 1
            colours.setdefault(label.name, label.color)
    top = counts.most_common(TOP_LABELS)
    ages = Counter[str]()
    for issue in issues:
        if issue.created_at is not None:
            ages[_age_bucket(at - issue.created_at)] += 1
    return BoardSummary(
        labels=[LabelCount(name, colours[name], count) for name, count in top],
        unlabelled=unlabelled,
        other_labels=len(counts) - len(top),
        ages=[(name, ages[name]) for name, _ in AGE_BUCKETS],
    )


def _age_bucket(age: timedelta) -> str:
    for name, limit in AGE_BUCKETS:
        if limit is None or age < limit:
            return name
    raise AssertionError("the last bucket has no limit")


def readable_text_colour(background: str) -> str:
    """Black or white text for a label of colour ``background`` (six hex digits, see
    :func:`displayable_colour`), by GitHub's rule.

    GitHub weighs the channels by perceived brightness and switches to black text above 45.3%.
    """
    red, green, blue = (int(background[i : i + 2], 16) for i in (0, 2, 4))
    lightness = (0.2126 * red + 0.7152 * green + 0.0722 * blue) / 255
    return "000000" if lightness > 0.453 else "ffffff"
