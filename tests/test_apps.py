"""The MCP Apps views (issuebridge.apps) rendered directly: same macros as the page, nothing remote."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from issuebridge.github.mapping import issue_from_github
from issuebridge.mcp.views import BOARD_URI, CSP, UI_META, VIEW_URI, Views, board_apps, board_uri
from issuebridge.records.issues import IssuesBoard
from issuebridge.records.panels import Metric, Panel, PanelItem
from issuebridge.web.templating import Fragments, environment
from testkit.fake_github import make_issue

AT = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
HOSTILE = '<img src=x onerror="alert(1)"><script>alert(2)</script>'


def untimed(html: str) -> str:
    return re.sub(r"(<time [^>]*>)[^<]*</time>", r"\1</time>", html)


def issues_board() -> IssuesBoard:
    rows = [
        issue_from_github(
            make_issue("octo/app", n, title=HOSTILE if n == 3 else f"Issue {n}", labels=[("bug", "d73a4a")])
        )
        for n in range(1, 6)
    ]
    return IssuesBoard(repository="octo/app", state="open", source="mcp", issues=rows, last_updated=AT, revision=1)


def test_a_board_view_is_the_pages_section_in_a_document_of_its_own() -> None:
    env = environment()
    board = issues_board()
    html = Views(env).board(board)
    section = Fragments(env).entry(board)
    # The very markup the page shows, not a second renderer (relative times aside: "3 days ago").
    assert untimed(section) in untimed(html)
    assert html.startswith("<!doctype html>") and html.rstrip().endswith("</html>")
    assert re.findall(r'data-number="(\d+)"', html) == re.findall(r'data-number="(\d+)"', section)
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;&lt;script&gt;alert(2)&lt;/script&gt;" in html
    assert "<script" not in html and "<img" not in html and "<link" not in html
    assert 'style="background-color:#d73a4a;' in html  # label chips keep their validated colours


def test_a_panel_view_is_sanitised_markdown() -> None:
    panel = Panel(
        panel_id="triage",
        title="Triage <b>now</b>",
        summary_markdown="**bold** <script>alert(1)</script> [x](javascript:alert(1))",
        metrics=[Metric(label="<i>Bugs</i>", value="3")],
        items=[PanelItem(title="<script>x()</script>", url="https://github.com/octo/app/issues/1")],
        source="mcp",
        last_updated=AT,
    )
    html = Views(environment()).board(panel)
    assert "<strong>bold</strong>" in html
    assert "Triage &lt;b&gt;now&lt;/b&gt;" in html and "&lt;i&gt;Bugs&lt;/i&gt;" in html
    assert "<script" not in html and 'href="javascript' not in html


def test_the_tools_view_carries_only_its_inline_bridge() -> None:
    html = Views(environment()).shell()
    scripts = re.findall(r"<script\b[^>]*>", html)
    assert scripts == ["<script>"]
    assert not re.search(r"\bsrc\s*=|<link\b|@import|https?://", html)
    assert 'id="app-board"' in html and 'id="app-status"' in html
    assert "<style>" in html and "color-scheme" in html


def test_the_extension_binds_the_view_with_an_empty_csp() -> None:
    apps = board_apps(environment())
    [view] = [binding.resource for binding in apps.resources()]
    assert view.uri == VIEW_URI and view.mime_type == "text/html;profile=mcp-app"
    assert view.meta == {"ui": {"csp": CSP.model_dump(by_alias=True), "prefersBorder": True}}
    assert view.meta == UI_META
    assert all(domains == [] for domains in CSP.model_dump().values())


def test_board_uris_follow_the_store_keys() -> None:
    assert BOARD_URI == "ui://issuebridge/board/{+key}"
    assert board_uri("issues:octo/app") == "ui://issuebridge/board/issues:octo/app"
    assert board_uri("panel:weekly-triage") == "ui://issuebridge/board/panel:weekly-triage"
