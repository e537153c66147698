"""GitHub text as a model may read it: without the characters nobody sees.

Anyone can write an issue, and text a person cannot see can still steer a model that reads it:
Unicode tag characters spell out ASCII invisibly, zero-width and bidirectional controls hide or
reorder words, variation selectors can carry bytes. What the assistant is given from GitHub
(titles, bodies, comments, label and branch names) goes through :func:`visible` first. The page
shows GitHub's text as it is (escaped, and sanitised where it is Markdown): a person sees what
is there.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# Blank letters (Hangul fillers, the Braille blank) that render as nothing but are not "format"
# characters, and the variation selectors (emoji presentation aside, they only carry data).
_BLANK_LETTERS = "\u115f\u1160\u3164\uffa0\u2800"
_VARIATION_SELECTORS = "\ufe00-\ufe0f\U000e0100-\U000e01ef"
_KEPT_CONTROLS = "\t\n"


# Unicode puts format and control characters in the first two planes and plane 14 (tags) only.
_PLANES_WITH_FORMAT_CHARACTERS = (range(0x20000), range(0xE0000, 0xE1000))


@lru_cache(maxsize=1)
def _invisible() -> re.Pattern[str]:
    """Every format (Cf) and control (Cc) character but tab and newline, the line and paragraph
    separators, and the characters above: built once (about 30 ms) from this Python's Unicode
    database, so a new Unicode version's format characters are covered too."""
    hidden = [
        chr(code)
        for plane in _PLANES_WITH_FORMAT_CHARACTERS
        for code in plane
        if unicodedata.category(chr(code)) in {"Cf", "Cc", "Zl", "Zp"} and chr(code) not in _KEPT_CONTROLS
    ]
    escaped = "".join(re.escape(char) for char in hidden)
    return re.compile(f"[{escaped}{_BLANK_LETTERS}{_VARIATION_SELECTORS}]+")


def visible(text: str) -> str:
    """``text`` without invisible characters; a carriage return and a line or paragraph separator
    become a line break, so lines stay apart."""
    if text.isascii() and text.isprintable():
        return text
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u2028", "\n").replace("\u2029", "\n")
    return _invisible().sub("", text)
