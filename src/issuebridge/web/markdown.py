"""Markdown from the assistant, rendered to HTML that is safe to put on the page.

Two layers: the CommonMark parser runs with raw HTML switched off, so tags in the source come out
as text; then a real sanitiser (ammonia, through nh3) keeps only an allow-list of tags and
attributes and only http(s) and mailto links. Either alone would stop the payloads we test.

Table alignment survives as a class (``align-left``, ``align-center``, ``align-right``, styled by
dashboard.css): markdown-it writes it as a ``style`` attribute, which the sanitiser must not let
through (a style attribute carries any CSS), so a parser rule turns exactly those three
declarations into their class first, and the sanitiser allows exactly those three classes.
"""

from __future__ import annotations

import re

import nh3
from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore

_ALIGNMENT = re.compile(r"text-align:(left|center|right)")
_ALIGNMENT_CLASSES = {f"align-{side}" for side in ("left", "center", "right")}
_ALIGNED_CELLS = ("th_open", "td_open")


def _alignment_as_class(state: StateCore) -> None:
    """Table cells' ``style="text-align:..."`` becomes ``class="align-..."``; any other style goes."""
    for token in state.tokens:
        if token.type not in _ALIGNED_CELLS or "style" not in token.attrs:
            continue
        found = _ALIGNMENT.fullmatch(str(token.attrs.pop("style")))
        if found:
            token.attrSet("class", f"align-{found[1]}")


_parser = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable(["table", "strikethrough"])
_parser.core.ruler.push("alignment_as_class", _alignment_as_class)

_TAGS = {
    "p",
    "br",
    "hr",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "strong",
    "em",
    "del",
    "code",
    "pre",
    "blockquote",
    "ul",
    "ol",
    "li",
    "a",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
}
_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}}
_CLASSES = {"th": _ALIGNMENT_CLASSES, "td": _ALIGNMENT_CLASSES}


def render_markdown(source: str) -> str:
    """Safe HTML for ``source``; links open in a new tab without access to this page."""
    html = _parser.render(source)
    return nh3.clean(
        html,
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        allowed_classes=_CLASSES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
        set_tag_attribute_values={"a": {"target": "_blank"}},
    )
