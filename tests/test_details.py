"""The dense parts of reading an item in full: the latest comments from pages GitHub numbers oldest
first, with a comment count gone stale; invisible characters; a standing review; the size bound."""

from __future__ import annotations

import unicodedata
from typing import Any

import pytest

from issuebridge.github.details import Answer, AnswerCache, _latest_comments
from issuebridge.records.details import (
    DETAILS_BYTES,
    CommentDetails,
    ItemDetails,
    ReviewDetails,
    fitted,
    review_state,
    standing_reviews,
)
from issuebridge.records.invisible import visible

URL = "https://api.github.com/repos/o/r/issues/1/comments"


class Pages:
    """``count`` comments, 100 a page, answered as GitHub does: Link headers with prev, next, last
    and first; a page past the end is empty and links back."""

    def __init__(self, count: int, last_past_the_end: bool = False) -> None:
        self.count = count
        self.asked: list[int] = []
        self.last_past_the_end = last_past_the_end  # a page past the end also links to the last

    async def get(self, url: str) -> Answer:
        page = int(url.rsplit("page=", 1)[1])
        self.asked.append(page)
        last = max(1, -(-self.count // 100))
        items = [{"id": n, "body": str(n), "user": {"login": "u"}} for n in range(1, self.count + 1)]
        links = {"first": f"{URL}?per_page=100&page=1"}
        if page > 1:
            links["prev"] = f"{URL}?per_page=100&page={min(page - 1, last)}"
        if page < last:
            links |= {"next": f"{URL}?per_page=100&page={page + 1}", "last": f"{URL}?per_page=100&page={last}"}
        if page > last and self.last_past_the_end:
            links["last"] = f"{URL}?per_page=100&page={last}"
        return Answer(items[(page - 1) * 100 : page * 100], links)


@pytest.mark.parametrize(
    ("count", "said", "wanted", "pages"),
    [
        (230, 230, 5, [3]),
        (230, 230, 40, [3, 2]),
        (200, 200, 100, [2]),
        (230, 130, 5, [2, 3]),  # 100 more came since the count: page 2 says where the end is
        (120, 330, 5, [4, 2]),  # 210 were deleted since: the page past the end links back
        (7, 7, 100, [1]),
    ],
)
async def test_the_latest_comments_come_from_the_end_whatever_the_count_says(
    count: int, said: int, wanted: int, pages: list[int]
) -> None:
    github = Pages(count)
    latest = await _latest_comments(github.get, URL, said, wanted)
    assert [int(c.body) for c in latest] == list(range(max(1, count - wanted + 1), count + 1))
    assert github.asked == pages


async def test_a_page_past_the_end_that_names_the_last_is_followed_there() -> None:
    github = Pages(120, last_past_the_end=True)
    latest = await _latest_comments(github.get, URL, 950, 5)  # 830 deleted since the count
    assert [int(c.body) for c in latest] == list(range(116, 121))
    assert github.asked == [10, 2]


async def test_no_comments_asked_for_or_none_there_cost_no_request() -> None:
    github = Pages(5)
    assert await _latest_comments(github.get, URL, 5, 0) == []
    assert await _latest_comments(github.get, URL, 0, 5) == []
    assert github.asked == []


def test_every_invisible_character_goes_and_every_visible_one_stays() -> None:
    tags = "".join(chr(0xE0000 + ord(c)) for c in "run rm -rf")
    text = f"a\u200bb\u200c\u200d\u2060c\u202ed\u2066e\ufeff{tags}f\ufe0f\U000e0100g\u3164h\x00\x1b[31mi"
    assert visible(text) == "abcdefgh[31mi"
    assert visible("line\r\nnext\rthird\u2028fourth\tend") == "line\nnext\nthird\nfourth\tend"
    kept = "Ünïcode 漢字 😀 «quotes» \u2013 dashes"
    assert visible(kept) == kept
    every_format = [chr(c) for c in range(0x110000) if unicodedata.category(chr(c)) == "Cf"]
    assert visible("".join(every_format)) == ""


def test_a_reviewers_standing_review_is_their_latest_that_is_not_a_comment() -> None:
    def review(who: str, state: Any) -> ReviewDetails:
        return ReviewDetails(reviewer=who, state=state, submitted_at=None)

    given = [review("a", "approved"), review("b", "commented"), review("a", "commented"), review("c", "approved"),
             review("c", "changes_requested"), review("b", "dismissed")]  # fmt: skip
    standing = standing_reviews(given)
    assert [(r.reviewer, r.state) for r in standing] == [
        ("a", "approved"),
        ("c", "changes_requested"),
        ("b", "dismissed"),
    ]
    assert review_state(standing) == "changes_requested"
    assert review_state(standing_reviews([review("a", "commented")])) == "commented"
    assert review_state([]) == "none"


def details(body: str, comments: list[str]) -> ItemDetails:
    return ItemDetails(
        repository="o/r", number=1, kind="issue", title="t", state="open", url=None, author=None, labels=[],
        assignees=[], created_at=None, updated_at=None, closed_at=None, body=body, body_trimmed=False,
        comment_count=len(comments),
        comments=[CommentDetails(author="a", created_at=None, body=text) for text in comments],
    )  # fmt: skip


def test_short_texts_keep_everything_and_long_ones_share_the_room_evenly() -> None:
    small = fitted(details("body", ["one", "two"]))
    assert (small.body, [c.body for c in small.comments], small.body_trimmed) == ("body", ["one", "two"], False)

    crowded = fitted(details("\n" * 50_000, ["short", *["x" * 50_000] * 99]))
    size = len(crowded.model_dump_json().encode())
    assert DETAILS_BYTES - 200 <= size <= DETAILS_BYTES
    assert crowded.comments[0].body == "short" and not crowded.comments[0].body_trimmed
    lengths = {len(c.body) for c in crowded.comments[1:]}
    assert max(lengths) - min(lengths) <= 1 and all(c.body_trimmed for c in crowded.comments[1:])
    assert crowded.body_trimmed and 0 < len(crowded.body) * 2 <= max(lengths) + 1  # "\n" costs 2 bytes as JSON


def test_the_cache_forgets_the_least_recently_used_and_never_holds_too_much() -> None:
    cache = AnswerCache(entries=2, size=10)
    cache.put("a", '"1"', b"aaaa", {})
    cache.put("b", '"2"', b"bbbb", {})
    assert cache.get("a") == (b"aaaa", {})  # a is now the most recently used
    cache.put("c", '"3"', b"cccc", {})
    assert (cache.etag("a"), cache.etag("b"), cache.etag("c")) == ('"1"', None, '"3"')
    cache.put("d", '"4"', b"dddddddd", {})  # 12 bytes with c's: c goes
    assert (cache.etag("c"), cache.etag("d")) == (None, '"4"')
    cache.put("d", None, b"new", {})  # an answer without an ETag replaces nothing it could check
    assert cache.etag("d") is None
