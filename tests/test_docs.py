"""SECURITY.md stays true: every test a row names exists, where the row says it is."""

from __future__ import annotations

import inspect
import re
from dataclasses import fields
from pathlib import Path
from typing import Any

from starlette.routing import Mount, Route

import issuebridge
from issuebridge.app import create_app
from issuebridge.settings import Settings, SettingsError

# Answered by the token middleware, not by a route of their own.
AUTH_ROUTES = ("/login", "/logout")

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


# docs/configuration.md and Settings agree: every variable Settings.from_env reads is documented
# with its real default, and every documented setting is read.

CONFIGURATION = (ROOT / "docs" / "configuration.md").read_text()
SETTINGS_ROW = re.compile(r"^\| `([A-Z][A-Z0-9_]*)` \| ([^|]*) \|", re.MULTILINE)
# Values that one of the settings accepts each; the first one a variable takes shows which field it sets.
PROBES = ("7", "1", "7/minute", "http://probe.test", "redis://probe.test")


class ReadLog(dict[str, str]):
    """An environment that notes every variable looked up in it."""

    def __init__(self, values: dict[str, str] | None = None) -> None:
        super().__init__(values or {})
        self.read: set[str] = set()

    def get(self, key: str, default: Any = None) -> Any:
        self.read.add(key)
        return super().get(key, default)

    def __getitem__(self, key: str) -> str:
        self.read.add(key)
        return super().__getitem__(key)


def variables_settings_read() -> set[str]:
    env = ReadLog()
    Settings.from_env(env)
    return env.read


def documented_settings() -> dict[str, str]:
    """Each variable in the settings tables (``| variable | default | meaning |``): its default cell."""
    section = CONFIGURATION.split("\n## Settings\n", 1)[1].split("\n## ", 1)[0]
    return dict(SETTINGS_ROW.findall(section))


def field_set_by(variable: str) -> str:
    """The ``Settings`` field that ``variable`` sets."""
    defaults = Settings()
    for value in PROBES:
        try:
            probed = Settings.from_env({variable: value})
        except SettingsError:
            continue
        changed = [f.name for f in fields(Settings) if getattr(probed, f.name) != getattr(defaults, f.name)]
        if changed:
            assert len(changed) == 1, f"{variable} changed {changed}"
            return changed[0]
    raise AssertionError(f"no probe value changes a setting through {variable}")


def as_documented(value: object) -> str:
    """A default as configuration.md writes it: the literal in backticks, or "unset"."""
    if value is None or value is False or value == ():
        return "unset"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return f"`{value}`"


def test_every_variable_settings_reads_is_documented_and_nothing_else() -> None:
    read = variables_settings_read()
    assert read, "Settings.from_env read no variable"
    documented = set(documented_settings())
    undocumented, unread = sorted(read - documented), sorted(documented - read)
    assert not undocumented, f"read by Settings.from_env but not in docs/configuration.md: {undocumented}"
    assert not unread, f"in docs/configuration.md but never read by Settings.from_env: {unread}"


def test_every_documented_default_is_the_real_one() -> None:
    defaults = Settings.from_env({})
    read = variables_settings_read()  # a variable never read is the test above's failure
    real = {
        variable: as_documented(getattr(defaults, field_set_by(variable)))
        for variable in documented_settings()
        if variable in read
    }
    wrong = [
        f"{variable}: documented {cell.strip()!r}, really {real[variable]}"
        for variable, cell in documented_settings().items()
        if variable in real and not cell.strip().startswith(real[variable])
    ]
    assert not wrong, "; ".join(wrong)


def test_the_defaults_of_from_env_and_of_the_dataclass_agree() -> None:
    # The docs give one default per setting: an empty environment must mean Settings() exactly.
    assert Settings.from_env({}) == Settings()


# The README and docs/ stay small, linked and true to the tree.

README = ROOT / "README.md"
DOCS = sorted((ROOT / "docs").glob("*.md"))
PAGES = [README, ROOT / "CONTRIBUTING.md", ROOT / "CHANGELOG.md", ROOT / "SECURITY.md", *DOCS]
ARCHITECTURE = ROOT / "docs" / "architecture.md"
PACKAGE = Path(inspect.getfile(issuebridge)).parent
LINK = re.compile(r"\]\(([^)\s#]*)(#[^)\s]*)?\)")
MODULE = re.compile(r"(?<![\w/.-])((?:[a-z_]+/)*[a-z_]+\.py)\b")


def test_the_readme_stays_under_10_kb() -> None:
    assert len(README.read_bytes()) <= 10 * 1024


def test_every_relative_link_in_the_docs_leads_to_a_file() -> None:
    broken = [
        f"{page.relative_to(ROOT)}: {target}"
        for page in PAGES
        for target, _ in LINK.findall(page.read_text())
        if target and "://" not in target and not (page.parent / target).exists()
    ]
    assert broken == []


def anchors(page: Path) -> set[str]:
    """The ids GitHub gives a page's headings: lower case, punctuation dropped, spaces as hyphens."""
    headings = re.findall(r"^#+ (.+)$", re.sub(r"```.*?```", "", page.read_text(), flags=re.DOTALL), re.MULTILINE)
    return {re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-") for heading in headings}


def test_every_link_to_a_heading_finds_it() -> None:
    broken = [
        f"{page.relative_to(ROOT)}: {target}{anchor}"
        for page in PAGES
        for target, anchor in LINK.findall(page.read_text())
        if anchor
        and (target == "" or target.endswith(".md"))
        and anchor[1:] not in anchors(page.parent / target if target else page)
    ]
    assert broken == []


def test_every_test_file_the_docs_name_exists() -> None:
    named = {name for page in [README, *DOCS] for name in re.findall(r"`(tests/[\w/]+\.py)", page.read_text())}
    assert sorted(name for name in named if not (ROOT / name).is_file()) == []


def test_the_architecture_page_names_only_modules_that_exist() -> None:
    named = {name for name in MODULE.findall(ARCHITECTURE.read_text()) if not name.startswith(("tests/", "bench/"))}
    assert named, "docs/architecture.md names no module"
    assert sorted(name for name in named if not (PACKAGE / name).is_file()) == []


def test_the_modules_security_md_names_exist() -> None:
    # SECURITY.md says where each defence lives; a module that moved would send a reader nowhere.
    named = {name for name in MODULE.findall(SECURITY) if not name.startswith(("tests/", "test_"))}
    assert named, "SECURITY.md names no module"
    top = ("bench/", "testkit/")  # beside src/, not in the package
    assert (
        sorted(name for name in named if not (ROOT / name if name.startswith(top) else PACKAGE / name).is_file()) == []
    )


def test_only_the_architecture_page_names_modules() -> None:
    # Modules move; one page to update when they do (the others describe behaviour).
    named = [
        f"{page.relative_to(ROOT)}: {name}"
        for page in [README, *DOCS]
        if page != ARCHITECTURE
        for name in MODULE.findall(page.read_text())
        if (PACKAGE / name).is_file()
    ]
    assert named == []


def test_every_route_is_documented_and_every_documented_route_exists() -> None:
    served = {
        route.path + ("/" if isinstance(route, Mount) else ""): getattr(route, "methods", None) or set()
        for route in create_app(Settings(db_path=Path(":memory:"))).routes
        if isinstance(route, Route | Mount)
    }
    served.update({path: set() for path in AUTH_ROUTES})
    table = [line for line in (ROOT / "docs" / "http-api.md").read_text().splitlines() if line.startswith("| `")]
    documented: dict[str, set[str]] = {}
    for row in table:
        for span in re.findall(r"`([^`]*)`", row.split("|")[1]):
            method, _, path = span.rpartition(" ")
            for found in re.findall(r"(?<![\w])(/[\w/.-]*)", path):
                documented.setdefault(found, set()).update({method} if method else set())
    assert sorted(set(served) - set(documented)) == [], "served but not in docs/http-api.md's table"
    assert sorted(set(documented) - set(served)) == [], "in docs/http-api.md's table but not served"
    wrong = {path: methods - served[path] for path, methods in documented.items() if served[path]}
    assert {path: methods for path, methods in wrong.items() if methods} == {}, "methods the route does not take"
