"""The page: kept rows render exactly as the macros do, never go stale, and cost only what changed;
compression, static-file caching and Server-Timing headers (in-process, Starlette's TestClient)."""

from __future__ import annotations

import gzip
import hashlib
import json
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from typing import Any

import pytest
from jinja2 import Environment
from starlette.testclient import TestClient

from issuebridge.app import create_app
from issuebridge.assets import STATIC
from issuebridge.github.mapping import issue_from_github, pull_from_github
from issuebridge.live.changes import Change
from issuebridge.live.html_format import PageFormat
from issuebridge.mcp.views import Views
from issuebridge.records.issues import Issue, IssuesBoard, diff_issues
from issuebridge.records.pulls import PullRequest, PullsBoard
from issuebridge.records.registry import AnyEntry
from issuebridge.records.tracked import diff_rows
from issuebridge.settings import Settings
from issuebridge.web import rows, templating
from issuebridge.web.templating import Fragments, environment, rendered_rows
from testkit.every_row import baseline_environment
from testkit.fake_github import make_issue, make_pull
from tests.unvalidated import board_with_colours, hostile_colours, unvalidated_label

AT = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
HOSTILE = '<img src=x onerror="alert(1)">'


class Clock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fixed = Clock(AT)
    monkeypatch.setattr(templating, "now", fixed)
    return fixed


@pytest.fixture
def renders(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The numbers of the rows rendered (not taken from the kept rows): issue rows by
    ``issue_row``, pull-request rows through their macro."""
    rendered: list[int] = []
    original_macro, original_issue_row = templating._render, rows.issue_row

    def counting_macro(macro: Callable[[Any], Any], row: Any) -> Any:
        rendered.append(row.number)
        return original_macro(macro, row)

    def counting_issue_row(row: Any) -> Any:
        rendered.append(row.number)
        return original_issue_row(row)

    monkeypatch.setattr(templating, "_render", counting_macro)
    monkeypatch.setitem(rows.PYTHON_ROWS, "issue_row", counting_issue_row)
    return rendered


def issues(count: int, changes: dict[int, dict[str, Any]] | None = None) -> list[Issue]:
    made = []
    for n in range(1, count + 1):
        item = make_issue(
            "octo/app",
            n,
            title=HOSTILE if n % 7 == 0 else f"Issue {n}",
            labels=[("bug", "d73a4a")] if n % 2 else [],
            assignees=["alice"] if n % 3 == 0 else None,
            updated_at=f"2026-11-{1 + n % 24:02d}T{n % 24:02d}:00:00Z",
        )
        item.update((changes or {}).get(n, {}))
        made.append(issue_from_github(item))
    made.append(Issue(number=count + 1, title="Never updated", state="open"))  # no times at all
    return made


def board(rows: list[Issue], revision: int = 1) -> IssuesBoard:
    return IssuesBoard(
        repository="octo/app", state="all", source="api", issues=rows, last_updated=AT, revision=revision
    )


def pulls_board() -> PullsBoard:
    pulls = [
        pull_from_github(make_pull("octo/app", n, title=HOSTILE if n == 3 else None, draft=n == 2)) for n in range(1, 9)
    ]
    return PullsBoard(repository="octo/app", state="all", source="mcp", pulls=pulls, last_updated=AT, revision=2)


def page(env: Environment, entries: list[AnyEntry]) -> str:
    context = {
        "entries": entries,
        "revision": 9,
        "base_url": "http://127.0.0.1:8000",
        "events_url": "/api/dashboard/events",
        "static_url": lambda path: f"/static/{path}",
    }
    return rendered_rows(env).render_page(env.get_template("dashboard.html"), context)


def test_kept_rows_render_exactly_what_a_fresh_render_gives(clock: Clock) -> None:
    entries: list[AnyEntry] = [board(issues(60)), pulls_board()]
    kept, baseline = environment(), baseline_environment()
    expected = page(baseline, entries)
    assert 'data-number="61"' in expected and "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in expected
    assert page(kept, entries) == expected  # rows rendered now
    assert page(kept, entries) == expected  # rows as kept
    for entry in entries:  # a board sent whole over the event stream
        assert Fragments(kept).entry(entry) == Fragments(baseline).entry(entry)


def test_kept_rows_show_relative_times_as_of_each_page_load(clock: Clock, renders: list[int]) -> None:
    env = environment()
    rows = [Issue(number=1, title="One", state="open", updated_at=AT - timedelta(minutes=5))]
    entries: list[AnyEntry] = [board(rows)]
    assert '<time datetime="2026-11-25T11:55:00Z">5 minutes ago</time>' in page(env, entries)
    clock.at += timedelta(days=3)
    later = page(env, entries)
    assert '<time datetime="2026-11-25T11:55:00Z">3 days ago</time>' in later
    assert renders == [1]  # the row was rendered once; only its time was filled in again
    assert later == page(baseline_environment(), entries)


def test_a_resync_renders_only_the_rows_that_changed(clock: Clock, renders: list[int]) -> None:
    env = environment()
    page(env, [board(issues(100))])
    assert len(renders) == 101
    renders.clear()
    # A re-sync: every record is new (parsed again), two changed, one added, one removed.
    resynced = [i for i in issues(100, {5: {"title": "Changed 5"}, 9: {"comments": 3}}) if i.number != 42]
    resynced.append(Issue(number=500, title="Brand new", state="open", updated_at=AT))
    html = page(env, [board(resynced, revision=2)])
    assert sorted(renders) == [5, 9, 500]
    assert "Changed 5" in html and 'data-number="42"' not in html
    assert html == page(baseline_environment(), [board(resynced, revision=2)])


def test_text_cannot_pose_as_a_time_or_rows_slot(clock: Clock) -> None:
    token = templating._SLOT_TOKEN
    forged = [f"<\x00{token}t0>", f"<\x00{token}r0>", f"\x00{token}t0", "<\x00t0>"]
    # Even with this process's token (which GitHub cannot know), text cannot make a slot: it
    # reaches the HTML autoescaped, and a slot starts with "<".
    rows = [
        Issue(number=n, title=text, state="open", author=f"a{n}", updated_at=AT - timedelta(hours=n))
        for n, text in enumerate(forged, start=1)
    ]
    env = environment()
    html = page(env, [board(rows)])
    assert html == page(baseline_environment(), [board(rows)])
    for text in forged:
        assert text.replace("<", "&lt;").replace(">", "&gt;") in html


def test_removed_and_cleared_boards_are_forgotten(clock: Clock, renders: list[int]) -> None:
    env = environment()
    wire = PageFormat(Fragments(env))
    kept = board(issues(5))
    wire.change(Change(kept, None, None))  # a new board: rendered whole for the event stream
    assert len(renders) == 6
    page(env, [kept])
    assert len(renders) == 6  # the page used the rows the event rendered
    wire.removed(kept.key, 2)
    page(env, [kept])
    assert len(renders) == 12
    wire.cleared(3)
    page(env, [kept])
    assert len(renders) == 18


class Markup(HTMLParser):
    """The elements and attributes a piece of HTML makes, as a browser's parser sees them."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tags: set[str] = set()
        self.attributes: list[tuple[str, str | None]] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self.attributes += attrs


def unvalidated_rows() -> tuple[IssuesBoard, PullsBoard]:
    """Boards whose every field holds what no validation would let through."""
    colours = hostile_colours("https://evil.example/")
    issues = board_with_colours("octo/app", colours).issues
    raw = object.__new__(Issue)  # not one field validated
    for name, value in {
        "number": '1"><img src=x onerror=alert(1)>',
        "title": HOSTILE,
        "state": 'open"><meta http-equiv="refresh" content="0;url=https://evil.example/">',
        "labels": [unvalidated_label(HOSTILE, colours[0])],
        "author": HOSTILE,
        "assignees": [HOSTILE],
        "comments": "<script>alert(1)</script>",
        "created_at": None,
        "updated_at": AT,
        "html_url": 'https://x/"><img src=x onerror=alert(1)>',
    }.items():
        object.__setattr__(raw, name, value)
    issues = [*issues, raw]
    pull = PullRequest.model_construct(
        number=9, title=HOSTILE, state="open", labels=[unvalidated_label("x", c) for c in colours], author=HOSTILE
    )
    return (
        IssuesBoard.model_construct(
            repository="octo/app", state="open", source="api", issues=issues, last_updated=AT, revision=1
        ),
        PullsBoard.model_construct(
            repository="octo/app", state="open", source="mcp", pulls=[pull], last_updated=AT, revision=2
        ),
    )


def delta_html(frame: bytes) -> str:
    """The HTML a ``board_delta`` event carries (header, summary and rows)."""
    data = json.loads(frame.decode().split("data: ", 1)[1])["data"]
    rows = [row["html"] for row in data["added"] + data["changed"]]
    return "".join([data["header_html"], data["summary_html"], *rows])


def test_records_built_without_validation_still_render_inert(clock: Clock) -> None:
    issues_board, pulls = unvalidated_rows()
    diff = diff_issues([], issues_board.issues)  # every row added, as the page receives a re-synced board
    env = environment()
    rendered = {
        "page": page(env, [issues_board, pulls]),
        "fragments": Fragments(env).entry(issues_board) + Fragments(env).entry(pulls),
        "delta": delta_html(PageFormat(Fragments(env)).change(Change(issues_board, board([]), diff))),
        "pulls delta": delta_html(
            PageFormat(Fragments(env)).change(
                Change(pulls, pulls.model_copy(update={"pulls": []}), diff_rows(None, pulls))
            )
        ),
        "issues view": Views(env).board(issues_board),
        "pulls view": Views(env).board(pulls),
    }
    for where, html in rendered.items():
        parsed = Markup(html[max(html.find("<main"), 0) :])  # the entries, not the document's head
        assert parsed.tags.isdisjoint({"img", "script", "meta", "iframe", "object"}), where
        assert not [name for name, _ in parsed.attributes if name.startswith("on") or name == "http-equiv"], where
        styles = [value for name, value in parsed.attributes if name == "style"]
        assert styles and set(styles) == {"background-color:#ededed;color:#000000"}, where
        fills = {value for name, value in parsed.attributes if name == "fill"}
        assert fills <= {"#ededed"}, where


# ---- over HTTP ----------------------------------------------------------------------------------


@pytest.fixture
def client(store_settings: dict[str, Any]) -> Iterator[TestClient]:
    settings = Settings(**store_settings, github_api_url="http://127.0.0.1:9")
    with TestClient(create_app(settings), base_url="http://127.0.0.1:8000") as test_client:
        rows = [{"number": n, "title": f"Issue {n}", "state": "open"} for n in range(1, 200)]
        response = test_client.post("/api/dashboard/sync-issues", json={"repository": "octo/app", "issues": rows})
        assert response.status_code == 200
        yield test_client


def test_the_page_is_gzipped_for_clients_that_accept_it(client: TestClient) -> None:
    compressed = client.get("/", headers={"Accept-Encoding": "gzip, deflate, br"})
    assert compressed.headers["content-encoding"] == "gzip"
    assert "accept-encoding" in compressed.headers["vary"].lower()
    plain = client.get("/", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    assert plain.headers["content-type"] == "text/html; charset=utf-8"
    assert int(plain.headers["content-length"]) == len(plain.content)
    assert int(compressed.headers["content-length"]) * 5 < len(plain.content)
    # Both carry the same page (httpx decoded the gzip); only the times may differ.
    assert compressed.text.count('class="issue"') == plain.text.count('class="issue"') == 199
    assert compressed.headers["content-security-policy"] == plain.headers["content-security-policy"]


def test_the_page_reports_its_server_time(client: TestClient) -> None:
    timing = client.get("/").headers["server-timing"]
    render = re.search(r"render;dur=([\d.]+)", timing)
    total = re.search(r"total;dur=([\d.]+)", timing)
    assert render and total and float(render[1]) <= float(total[1])


def test_the_json_reads_are_gzipped_and_writes_are_not(client: TestClient) -> None:
    assert client.get("/api/dashboard/issues").headers["content-encoding"] == "gzip"
    body = {"repository": "octo/app", "issues": [{"number": 1, "title": "x" * 2000, "state": "open"}]}
    assert "content-encoding" not in client.post("/api/dashboard/sync-issues", json=body).headers


def static_links(html: str) -> dict[str, str]:
    return dict(re.findall(r'(?:href|src)="/static/([\w.]+)\?v=([0-9a-f]+)"', html))


def test_static_files_are_linked_by_content_hash_and_cached_for_a_year(client: TestClient) -> None:
    links = static_links(client.get("/").text)
    assert set(links) == {"dashboard.css", "dashboard.js", "early.js", "favicon.svg"}
    for name, version in links.items():
        assert version == hashlib.sha256((STATIC / name).read_bytes()).hexdigest()[:16]
        response = client.get(f"/static/{name}?v={version}")
        assert response.status_code == 200
        assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert response.content == (STATIC / name).read_bytes()
        # The icon is under gzip's 500-byte minimum; the script and the stylesheet are not.
        assert response.headers.get("content-encoding") == (None if name == "favicon.svg" else "gzip")


def test_the_favicon_is_served_where_browsers_look_for_it(client: TestClient) -> None:
    page = client.get("/").text
    assert re.search(r'<link rel="icon" href="/static/favicon\.svg\?v=[0-9a-f]{16}" type="image/svg\+xml">', page)
    for url in ("/favicon.ico", "/static/favicon.svg"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert response.headers["content-type"] == "image/svg+xml"
        assert response.content == (STATIC / "favicon.svg").read_bytes()
        assert response.headers["cache-control"] == "no-cache"  # not named by its hash: revalidated
    assert client.head("/favicon.ico").status_code == 200
    # Only GET and HEAD, and only from hosts this server answers to, as for the page.
    assert client.post("/favicon.ico").status_code == 405
    assert client.get("/favicon.ico", headers={"Host": "evil.example"}).status_code == 421


def test_static_files_without_the_current_hash_revalidate(client: TestClient) -> None:
    for url in ("/static/dashboard.js", "/static/dashboard.js?v=0123456789abcdef"):
        response = client.get(url)
        assert response.headers["cache-control"] == "no-cache"
        etag = response.headers["etag"]
        assert response.headers["last-modified"]
        again = client.get(url, headers={"If-None-Match": etag})
        assert again.status_code == 304 and again.content == b""
        assert again.headers["cache-control"] == "no-cache" and again.headers["etag"] == etag


def test_a_gzip_body_is_a_valid_gzip_stream(client: TestClient) -> None:
    # httpx decodes for us above; check the bytes on the wire too.
    with client.stream("GET", "/", headers={"Accept-Encoding": "gzip"}) as response:
        raw = b"".join(response.iter_raw())
    assert gzip.decompress(raw).decode().startswith("<!doctype html>")


def test_the_api_refuses_a_colour_with_anything_around_six_hex_digits(client: TestClient) -> None:
    before = client.get("/api/dashboard/issues", params={"repository": "octo/app"}).json()
    for colour in hostile_colours("https://evil.example/"):
        issues = [{"number": 1, "title": "t", "state": "open", "labels": [{"name": "bug", "color": colour}]}]
        refused = client.post("/api/dashboard/sync-issues", json={"repository": "octo/app", "issues": issues})
        assert refused.status_code == 422, colour
        assert [field["field"] for field in refused.json()["fields"]] == ["issues.0.labels.0.color"], colour
    assert client.get("/api/dashboard/issues", params={"repository": "octo/app"}).json() == before
