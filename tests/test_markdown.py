"""Panel Markdown through the parser and the sanitiser: what survives, and exactly how."""

from __future__ import annotations

import re

import pytest

from issuebridge.web.markdown import render_markdown

ATTRIBUTE_ON_A_TAG = re.compile(r"<[a-z][^>]*\s(?:class|style)=")
ALIGNED_TABLE = "| left | centre | right | none |\n| :--- | :---: | ---: | --- |\n| 1 | 2 | 3 | 4 |\n"


def cell_classes(html: str, tag: str) -> list[str | None]:
    cells = re.findall(rf"<{tag}(?: class=\"([^\"]*)\")?>", html)
    return [found or None for found in cells]


def test_table_alignment_is_kept_as_a_class() -> None:
    html = render_markdown(ALIGNED_TABLE)
    expected = ["align-left", "align-center", "align-right", None]
    assert cell_classes(html, "th") == expected
    assert cell_classes(html, "td") == expected
    assert "style" not in html  # no style attribute reaches the page, whatever it holds


@pytest.mark.parametrize(
    "source",
    [
        '<td style="text-align:right" class="align-right">x</td>',  # raw HTML stays text
        "```align-right\ncode\n```",  # a fence's info string gives <code> no class
        '```" class="align-right\ncode\n```',
        "[x](https://example.com/ 'align-right')",
    ],
)
def test_no_other_class_or_style_gets_through(source: str) -> None:
    html = render_markdown(source)
    assert not ATTRIBUTE_ON_A_TAG.search(html), html  # (raw HTML arrives as text: "&lt;td ...")


def test_links_open_in_a_new_tab_without_the_opener() -> None:
    html = render_markdown('[tracker](https://github.com/facebook/react/milestone/1 "Milestone")')
    assert html == (
        '<p><a href="https://github.com/facebook/react/milestone/1" title="Milestone" target="_blank"'
        ' rel="noopener noreferrer nofollow">tracker</a></p>\n'
    )


def test_block_quotes_are_kept() -> None:
    assert render_markdown("> quoted **text**") == "<blockquote>\n<p>quoted <strong>text</strong></p>\n</blockquote>\n"
