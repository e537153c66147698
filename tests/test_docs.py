"""SECURITY.md stays true: every test a row names exists, where the row says it is."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).parent.parent
SECURITY = (ROOT / "SECURITY.md").read_text()


def defined_tests() -> dict[str, set[str]]:
    """Each test function's name, and the files that define one of that name."""
    found: dict[str, set[str]] = {}
    for path in (ROOT / "tests").rglob("test_*.py"):
        for name in re.findall(r"^(?:async )?def (test_\w+)", path.read_text(), re.MULTILINE):
            found.setdefault(name, set()).add(path.relative_to(ROOT).as_posix())
    return found


def test_every_file_security_md_names_exists() -> None:
    named = set(re.findall(r"`(tests/[\w/]+\.py)", SECURITY))
    assert named, "SECURITY.md names no test file"
    assert sorted(name for name in named if not (ROOT / name).is_file()) == []


def test_every_test_security_md_names_exists_where_it_says() -> None:
    tests = defined_tests()
    modules = {path.stem for path in (ROOT / "tests").rglob("test_*.py")}  # "test_auth_clients.py"
    named = set(re.findall(r"\b(test_\w+)", SECURITY)) - modules
    assert sorted(name for name in named if name not in tests) == []
    misplaced = [
        f"{path}::{name}"
        for path, name in re.findall(r"`(tests/[\w/]+\.py)::(test_\w+)", SECURITY)
        if path not in tests[name]
    ]
    assert misplaced == []


def test_every_row_names_a_test() -> None:
    rows = [line for line in SECURITY.splitlines() if line.startswith("| ") and not line.startswith("| threat")]
    rows = [row for row in rows if not row.startswith("| ---")]
    assert rows and [row[:80] for row in rows if "test_" not in row.rsplit("|", 2)[-2]] == []
