"""An issue's or pull request's body (its description, GitHub Markdown), as a board keeps it.

A board keeps each item's body so that the page can preview it, and the assistant read it,
without asking GitHub again. GitHub allows 65,536 characters; a board keeps the first
:data:`BODY_BYTES` bytes (UTF-8) of it, cut where a character ends, and says whether it was
cut (``body_trimmed``). Nothing else is changed: not whitespace, not HTML. The text is hostile
and stays so; whoever shows it renders it through ``web/markdown.py``.

``body`` is None where the body is not known: a board stored before bodies were kept, a board
pushed without them, a payload that did not carry one. An item without a description has ``""``.

Boards as the JSON API, the event stream and the resources show them leave bodies out
(:func:`without_bodies`): 5,000 bodies are up to 40 MB; one body is read with
``GET /api/dashboard/item``.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, StringConstraints

BODY_BYTES = 8192
# The fields a row carries its body in, and which readers of a whole board are not sent.
BODY_FIELDS = frozenset({"body", "body_trimmed"})


def trim_body(text: str, limit: int = BODY_BYTES) -> tuple[str, bool]:
    """``text`` cut to at most ``limit`` bytes of UTF-8 where a character ends, and whether it was cut.

    A character GitHub could not have sent (a lone surrogate, from a hostile server) becomes "?":
    it could be neither stored nor sent as JSON.
    """
    encoded = text.encode("utf-8", "replace")
    if len(encoded) <= limit:
        return encoded.decode("utf-8"), False
    # Cutting bytes may split a character's last sequence: "ignore" drops that partial one.
    return encoded[:limit].decode("utf-8", "ignore"), True


def body_fields(raw: Any) -> dict[str, Any]:
    """The ``body`` and ``body_trimmed`` fields of a row from GitHub's ``body`` (null: no description)."""
    if raw is None:
        return {"body": "", "body_trimmed": False}
    if not isinstance(raw, str):  # not GitHub's: the item still shows, without a body
        return {"body": None, "body_trimmed": False}
    text, trimmed = trim_body(raw)
    return {"body": text, "body_trimmed": trimmed}


def _within_limit(value: str) -> str:
    # A pushed or stored body is checked, not cut: only what came from GitHub is trimmed here.
    if len(value) > BODY_BYTES // 4 and len(value.encode("utf-8")) > BODY_BYTES:
        raise ValueError(f"must be at most {BODY_BYTES} bytes as UTF-8 (GitHub's bodies are trimmed to that)")
    value.encode("utf-8")  # a lone surrogate raises (a ValueError): it could not be stored
    return value


# Whitespace is kept: four leading spaces make a Markdown code block.
Body = Annotated[str, StringConstraints(strip_whitespace=False), AfterValidator(_within_limit)]


def without_bodies(rows_field: str) -> dict[str, Any]:
    """The ``exclude`` that leaves each row's body out of a board kept under ``rows_field``."""
    return {rows_field: {"__all__": set(BODY_FIELDS)}}
