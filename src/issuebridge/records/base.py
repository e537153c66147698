"""The rules every incoming value must pass, and what every entry on the dashboard has.

Everything that reaches a board, from GitHub or from an API client, goes through these types,
so the page and the event stream only ever see validated, compact records: no HTML-bearing
URLs, no colours that are not exactly six hex digits, no unbounded lists. Every rule matches a
value whole (``fullmatch``), never a part of it. The renderers escape every value all the same.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal, Protocol, TypeGuard, TypeVar, cast

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PlainValidator, StringConstraints, ValidationInfo
from pydantic.dataclasses import dataclass as pydantic_dataclass

from issuebridge.errors import InvalidInput

StateFilter = Literal["open", "closed", "all"]
IssueState = Literal["open", "closed"]
Source = Literal["mcp", "api"]

# GitHub's own rules: an owner is 1-39 letters, digits or hyphens, not starting with a hyphen;
# a repository name is 1-100 letters, digits, '.', '-' or '_', and never '.' or '..'.
_OWNER = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,38}")
_REPO = re.compile(r"[A-Za-z0-9._-]{1,100}")
_HEX_COLOUR = re.compile(r"[0-9a-fA-F]{6}")
DEFAULT_LABEL_COLOUR = "ededed"


class InvalidRepository(InvalidInput):
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


def repository_key(kind: str, repository: str) -> str:
    """The key of a repository's board of ``kind``: case-insensitive, as GitHub treats
    ``Facebook/React`` as ``facebook/react``."""
    return f"{kind}:{repository.lower()}"


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


def readable_text_colour(background: str) -> str:
    """Black or white text for a label of colour ``background`` (six hex digits, see
    :func:`displayable_colour`): GitHub's rule, unless its pick reads below WCAG's 4.5:1.

    GitHub weighs the channels by perceived brightness and switches to black text above 45.3%;
    on saturated mid-tones (``#00a000``: white at 3.5:1) that pick fails. One of black and white
    always reaches 4.58:1 on any colour, so the other one is then taken.
    """
    red, green, blue = (int(background[i : i + 2], 16) for i in (0, 2, 4))
    lightness = (0.2126 * red + 0.7152 * green + 0.0722 * blue) / 255
    github = "000000" if lightness > 0.453 else "ffffff"
    on_black = (relative_luminance(background) + 0.05) / 0.05
    on_white = 1.05 / (relative_luminance(background) + 0.05)
    readable = on_black if github == "000000" else on_white
    if readable >= 4.5:
        return github
    return "ffffff" if github == "000000" else "000000"


def relative_luminance(colour: str) -> float:
    """WCAG 2's relative luminance of six hex digits, from 0 (black) to 1 (white)."""
    linear = []
    for i in (0, 2, 4):
        channel = int(colour[i : i + 2], 16) / 255
        linear.append(channel / 12.92 if channel <= 0.04045 else ((channel + 0.055) / 1.055) ** 2.4)
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


@dataclass
class Repairs:
    """The validation context for reading back what a store kept (``registry.read_stored``).

    Stores may hold colours that merely *contain* six hex digits, from a version that allowed
    them. Such a stored colour is replaced by the default grey (and counted here, for the log)
    rather than losing the whole board; anything else still has to be valid.
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
MAX_URL_LENGTH = 2048


def check_web_url(value: str) -> str:
    """``value`` if it is an http(s) URL a page may link to; else ValueError."""
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
WebUrl = Annotated[str, StringConstraints(max_length=MAX_URL_LENGTH), AfterValidator(check_web_url)]
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


class Entry(Record):
    """Anything the dashboard shows: a board fetched from GitHub, or a panel the assistant wrote.

    Every entry has a ``key`` (``issues:owner/repo``, ``panel:weekly-triage``, ...) that names it
    in the store, in events, and to the tools that remove it. Saving under an existing key
    replaces that entry whole. Its ``kind`` names its module and its line in ``registry.py``.
    """

    if TYPE_CHECKING:  # declared by each kind as its own Literal, which pydantic discriminates on
        kind: str
    source: Source
    last_updated: UtcDatetime
    revision: Revision = 0
    # When its key first appeared on the dashboard, kept by every write that replaces it
    # (:func:`appearing`): the page orders entries by it, so a re-sync never moves a board.
    # None in entries stored before it was kept: their ``last_updated`` stands in (:func:`appeared_at`).
    appeared: UtcDatetime | None = None

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
    def key(self) -> str:
        return repository_key(self.kind, self.repository)

    @property
    def related_repository(self) -> str | None:
        return self.repository


class DatedRow(Protocol):
    """A row of a board: an item with a number, ordered on the page by when it last changed."""

    @property
    def number(self) -> int: ...

    @property
    def updated_at(self) -> datetime | None: ...

    @property
    def created_at(self) -> datetime | None: ...


RowT = TypeVar("RowT", bound=DatedRow)
EntryT = TypeVar("EntryT", bound=Entry)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def sorted_for_display(rows: Sequence[RowT]) -> list[RowT]:
    """Most recently updated first: the page's default order, as on GitHub's and Linear's lists."""
    return sorted(rows, key=lambda r: (r.updated_at or r.created_at or _EPOCH, r.number), reverse=True)


def with_fields(row: RowT, fields: dict[str, Any]) -> RowT:
    """``row`` with ``fields`` replaced: rows are slotted dataclasses or records, both immutable."""
    changed: Any = row
    if isinstance(changed, BaseModel):
        return cast(RowT, changed.model_copy(update=fields))
    return cast(RowT, replace(changed, **fields))


def now() -> datetime:
    return datetime.now(UTC)


def iso_utc(value: datetime) -> str:
    """``2026-11-25T09:40:00.123456Z``: how every time leaves the server (API, events, tools)."""
    return value.isoformat().replace("+00:00", "Z")


def appearing(previous: Entry | None, entry: EntryT) -> EntryT:
    """``entry``, about to replace ``previous`` under the same key, keeping when the key first
    appeared (now, for a new key)."""
    appeared = appeared_at(previous) if previous is not None else now()
    return entry if entry.appeared == appeared else entry.model_copy(update={"appeared": appeared})


def appeared_at(entry: Entry) -> datetime:
    """When ``entry`` first appeared; for one stored before that was kept, its last write, which
    stays what it was until it is next written (and then becomes its ``appeared``)."""
    return entry.appeared or entry.last_updated


def in_order_of_appearance(entries: Iterable[EntryT]) -> list[EntryT]:
    """The page's order: the entry that appeared first first, the newest last (ties by key). Only
    a new entry changes where anything is, and it goes at the end."""
    return sorted(entries, key=lambda entry: (appeared_at(entry), entry.key))
