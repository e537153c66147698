"""The dashboard filter's language (static/dashboard/filter_query.js), run in the venv's Node.

One Node process matches every query below against the same rows (plain data, as `readRow`
reads them from the page; the browser tests in tests/e2e/test_page_filter.py read real rows).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

MODULE = Path(__file__).resolve().parents[1] / "static" / "dashboard" / "filter_query.js"
NODE = Path(sys.prefix) / "bin" / "node"
DAY = 24 * 3600 * 1000
NOW = 1_780_272_000_000  # 2026-06-01T00:00:00Z


def row(number: int, **fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "number": number,
        "title": f"Row {number}",
        "labels": [],
        "author": "",
        "assignees": [],
        "state": "open",
        "draft": False,
        "comments": 0,
        "created": NOW - 400 * DAY,
        "updated": NOW - 400 * DAY,
    }
    base.update(fields)
    base["text"] = " ".join([f"#{number}", base["title"], *base["labels"], base["author"]]).lower()
    return base


ROWS = [
    row(1, title="Compiler crash on bug input", labels=["bug"], author="ana", assignees=["bo"], updated=NOW - DAY),
    row(2, title="Docs for the compiler", labels=["docs", "good first issue"], author="bo", updated=NOW - 10 * DAY),
    row(3, title="Stale bug", labels=["bug", "stale"], author="ana", comments=7, created=NOW - 3 * DAY),
    row(4, title="No labels here", author="cy", assignees=["ana", "dee"], state="closed", comments=2),
    row(5, title="A draft", author="dee", draft=True, updated=NOW - 2 * 3600 * 1000),
    row(6, title="Merged work", labels=["bug"], state="merged", updated=float("nan"), created=float("nan")),
]

# query -> the numbers it shows (out of 1-6), with the label picker's choice where given.
CASES: list[tuple[str, dict[str, Any], list[int]]] = [
    ("", {}, [1, 2, 3, 4, 5, 6]),
    ("   ", {}, [1, 2, 3, 4, 5, 6]),
    ("compiler", {}, [1, 2]),
    ("bug compiler", {}, [1]),  # every word, anywhere in the row, not the phrase
    ('"compiler crash"', {}, [1]),
    ('"crash compiler"', {}, []),
    ("COMPILER", {}, [1, 2]),
    ("label:bug", {}, [1, 3, 6]),
    ("LABEL:BUG", {}, [1, 3, 6]),
    ("label:bug -label:stale", {}, [1, 6]),
    ('label:"good first issue"', {}, [2]),
    ('label:"good first issue', {}, [2]),  # a quote left open runs to the end
    ("label:good", {}, []),  # a whole name, not part of one
    ("label:docs,stale", {}, [2, 3]),  # either
    ("label:bug label:stale", {}, [3]),  # both
    ("no:label", {}, [4, 5]),
    ("-no:label", {}, [1, 2, 3, 6]),
    ("author:ana", {}, [1, 3]),
    ("-author:ana", {}, [2, 4, 5, 6]),
    ("author:an", {}, []),
    ("assignee:ana", {}, [4]),
    ("assignee:none", {}, [2, 3, 5, 6]),
    ("no:assignee", {}, [2, 3, 5, 6]),
    ("-assignee:none", {}, [1, 4]),
    ("is:draft", {}, [5]),
    ("-is:draft", {}, [1, 2, 3, 4, 6]),
    ("is:open", {}, [1, 2, 3, 5]),
    ("is:closed", {}, [4, 6]),  # merged is closed too
    ("is:merged", {}, [6]),
    ("state:closed", {}, [4, 6]),
    ("updated:<7d", {}, [1, 5]),
    ("updated:<1d", {}, [5]),
    ("updated:<=1d", {}, [1, 5]),
    ("updated:>7d", {}, [2, 3, 4]),  # no time: neither newer nor older
    ("-updated:>7d", {}, [1, 5, 6]),
    ("updated:<3h", {}, [5]),
    ("created:<1w", {}, [3]),
    ("created:>=1y", {}, [1, 2, 4, 5]),
    ("updated:>=2026-05-31", {}, [1, 5]),
    ("updated:<2026-05-31", {}, [2, 3, 4]),
    ("updated:2026-05-31", {}, [1, 5]),  # that UTC day
    ("updated:<=2026-05-30", {}, [2, 3, 4]),
    ("updated:>2026-05-30", {}, [1, 5]),
    ("comments:>5", {}, [3]),
    ("comments:0", {}, [1, 2, 5, 6]),
    ("comments:<=2", {}, [1, 2, 4, 5, 6]),
    ("label:bug author:ana is:open updated:<7d", {}, [1]),
    # Unknown qualifiers and values that mean nothing are free text.
    ("is:nonsense", {}, []),
    ("updated:soon", {}, []),
    ("updated:7d", {}, []),
    ("updated:<2026-13-45", {}, []),
    ("constructor:x", {}, []),
    ("__proto__:bug", {}, []),
    ("label:", {}, []),
    ("#3", {}, [3]),
    ("no:labels", {}, []),
    # The label picker: any of the names, or none with "No label"; ANDed with the text.
    ("", {"labels": ["bug"]}, [1, 3, 6]),
    ("", {"labels": ["BUG", "docs"]}, [1, 2, 3, 6]),
    ("", {"noLabel": True}, [4, 5]),
    ("", {"labels": ["docs"], "noLabel": True}, [2, 4, 5]),
    ("compiler", {"labels": ["docs"]}, [2]),
    ("", {"labels": ["nothing-has-this"]}, []),
]

SCRIPT = """
const [moduleUrl, payload] = process.argv.slice(1);
const { parseFilter, MAX_QUERY } = await import(moduleUrl);
const { rows, cases, now } = JSON.parse(payload);
const rowsIn = rows.map((r) => ({ ...r, created: r.created ?? NaN, updated: r.updated ?? NaN }));
const shown = cases.map(([text, options]) => {
  const query = parseFilter(text, { ...options, now });
  return { numbers: rowsIn.filter((r) => query.matches(r)).map((r) => r.number), active: query.active };
});
const long = parseFilter("x ".repeat(10000), { now });
const bounded = { terms: long.terms, maxQuery: MAX_QUERY };
console.log(JSON.stringify({ shown, bounded }));
"""


@pytest.fixture(scope="module")
def results() -> dict[str, Any]:
    payload = json.dumps({"rows": ROWS, "cases": [[text, options] for text, options, _ in CASES], "now": NOW})
    payload = payload.replace("NaN", "null")  # JSON has no NaN; the script puts it back
    done = subprocess.run(
        [str(NODE), "--input-type=module", "-e", SCRIPT, MODULE.as_uri(), payload],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    parsed: dict[str, Any] = json.loads(done.stdout)
    return parsed


@pytest.mark.parametrize(("index", "text", "options", "expected"), [(i, *case) for i, case in enumerate(CASES)])
def test_query_shows_the_rows_it_says(
    results: dict[str, Any], index: int, text: str, options: dict[str, Any], expected: list[int]
) -> None:
    assert results["shown"][index]["numbers"] == expected, (text, options)
    assert results["shown"][index]["active"] is bool(text.strip() or options)


def test_a_huge_query_is_bounded(results: dict[str, Any]) -> None:
    # Cut to the box's 500 characters, and at most 64 terms of them.
    assert results["bounded"] == {"terms": 64, "maxQuery": 500}
