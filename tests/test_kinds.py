"""A new kind of entry is a records module, a template macro and a registry line, and nothing else.

Two proofs. A kind the code has never seen (``notes``, defined here) is added to the registry
alone, and it is written, announced in both wire formats, snapshotted, read back, drawn on the
page and in the MCP Apps view. And no module outside ``records/`` and the one-kind adapters
(each serving a single kind: its tool, its API route, its row renderer) names a kind or tests
which kind an entry is: every per-kind decision is the entry's ``Kind``.
"""

from __future__ import annotations

import ast
import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any, Literal, cast

import pytest
from jinja2 import ChoiceLoader, DictLoader, Environment

from issuebridge.dashboard.readback import read_back
from issuebridge.live.html_format import PageFormat
from issuebridge.live.json_format import JsonFormat, entry_payload
from issuebridge.mcp.views import Views
from issuebridge.records import registry
from issuebridge.records.base import RepositoryBoard, now
from issuebridge.records.kind import EntryView, Kind, RowView, entry_view
from issuebridge.records.registry import AnyEntry
from issuebridge.services import Core, core
from issuebridge.store import SQLiteStore
from issuebridge.web.templating import Fragments, environment, rendered_rows

SRC = Path(__file__).resolve().parents[1] / "src" / "issuebridge"
TEMPLATES = Path(__file__).resolve().parents[1] / "templates"


class NotesBoard(RepositoryBoard):
    """A kind no module knows: a repository's notes."""

    kind: Literal["notes"] = "notes"
    notes: list[str]


def notes_read_back(board: NotesBoard) -> EntryView:
    return entry_view(
        board,
        title=f"{board.repository} notes",
        count=len(board.notes),
        summary=f"{len(board.notes)} notes",
        rows=[RowView(position=n, title=note) for n, note in enumerate(board.notes, start=1)],
    )


NOTES = Kind(
    name="notes",
    entry=NotesBoard,
    label="notes",
    title="notes board",
    noun="note",
    json_group="note_boards",
    json_event="notes_update",
    template="_notes.html",
    macro="notes_section",
    read_back=notes_read_back,
    derived=lambda board: {"longest": max((len(note) for note in board.notes), default=0)},
)
NOTES_TEMPLATE = """\
{%- from "_parts.html" import entry_open, repository_title, provenance -%}
{%- macro notes_section(board) -%}
{{ entry_open(board, "notes") }}
  <header class="board-header">{{ repository_title(board, "notes") }}
    <p class="board-meta">{{ provenance(board) }}</p></header>
  <ul class="notes">{% for note in board.notes %}<li>{{ note }}</li>{% endfor %}</ul>
</section>
{%- endmacro -%}
"""


@pytest.fixture
def notes_kind(monkeypatch: pytest.MonkeyPatch) -> Iterator[Kind[Any]]:
    """The registry line a new kind adds (what ``AnyEntry`` would also list, for reading back)."""
    monkeypatch.setattr(registry, "KINDS", (*registry.KINDS, NOTES))
    monkeypatch.setitem(registry._BY_NAME, "notes", NOTES)
    yield NOTES


@pytest.fixture
def env() -> Environment:
    """The page's templates, and the new kind's template file beside them."""
    env = environment()
    assert env.loader is not None
    env.loader = ChoiceLoader([DictLoader({"_notes.html": NOTES_TEMPLATE}), env.loader])
    return env


@pytest.fixture
async def parts(notes_kind: Kind[Any], env: Environment) -> AsyncIterator[Core]:
    store = SQLiteStore(":memory:")
    await store.open()
    yield core(store, {"json": JsonFormat(), "html": PageFormat(Fragments(env))})
    await store.close()


def notes_board() -> NotesBoard:
    return NotesBoard(repository="octo/app", source="api", notes=["ship <it>", "then rest"], last_updated=now())


async def test_a_kind_only_the_registry_knows_goes_everywhere(parts: Core, env: Environment) -> None:
    async with parts.hub.subscribe() as page:
        stored = await parts.dashboard.put(notes_board())
        event = page.pop()
    entry = cast(AnyEntry, stored)  # a kind in the registry's union too, once it has its line there
    assert stored.key == "notes:octo/app" and stored.revision == 1
    assert event is not None and event.id == 1
    json_frame, html_frame = event.frames["json"].decode(), event.frames["html"].decode()
    assert "event: notes_update" in json_frame and '"longest":9' in json_frame
    assert "event: board" in html_frame and "ship &amp;lt;it&amp;gt;" not in html_frame
    assert "<li>ship &lt;it&gt;</li>" in json.loads(html_frame.split("data: ", 1)[1])["data"]["html"]

    [snapshot] = (await parts.announcer.resume("json", None))[1]
    groups = json.loads(snapshot.decode().split("data: ", 1)[1])["data"]
    assert groups["note_boards"] == [entry_payload(entry)] and groups["boards"] == []

    [view] = (await read_back(parts.dashboard)).entries
    assert (view.id, view.kind, view.count, [row.title for row in view.rows]) == (
        "notes:octo/app",
        "notes",
        2,
        ["ship <it>", "then rest"],
    )

    context = {"entries": [stored], "revision": 1, "base_url": "", "events_url": "", "static_url": lambda p: p}
    html = rendered_rows(env).render_page(env.get_template("dashboard.html"), context)
    assert 'data-id="notes:octo/app"' in html and "<li>then rest</li>" in html
    assert "<li>ship &lt;it&gt;</li>" in Views(env).board(entry)


# Modules that serve one kind each: their names are theirs to use.
ONE_KIND_ADAPTERS = {
    "cli/push.py",  # its flags: issues, --prs, --commits
    "dashboard/panels.py",  # publishing a panel
    "dashboard/push.py",  # the JSON API's issues push
    "mcp/resources.py",  # dashboard://panels/{panel_id}
    "mcp/results.py",  # each tool's result
    "mcp/tools.py",  # one tool per kind
    "web/api.py",  # /api/dashboard/issues
    "web/rows.py",  # the issue_row macro, written in Python
}
KIND_MODULES = {"issuebridge.records.issues", "issuebridge.records.pulls", "issuebridge.records.commits"}
KIND_MODULES |= {"issuebridge.records.panels", "issuebridge.records.views"}
KIND_NAMES = {"issues", "pulls", "commits", "panel", "view"}


def generic_modules() -> Iterator[tuple[str, ast.Module]]:
    """Every module but the records, the GitHub side (one mapping and endpoint per list GitHub
    has) and the one-kind adapters."""
    for path in sorted(SRC.rglob("*.py")):
        name = path.relative_to(SRC).as_posix()
        if name.startswith(("records/", "github/")) or name in ONE_KIND_ADAPTERS:
            continue
        yield name, ast.parse(path.read_text())


def test_no_module_outside_the_records_decides_by_kind() -> None:
    found = []
    for name, tree in generic_modules():
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module in KIND_MODULES:
                found.append(f"{name}:{node.lineno}: imports {node.module}")
            if isinstance(node, ast.Compare) and any(
                isinstance(side, ast.Constant) and side.value in KIND_NAMES for side in [node.left, *node.comparators]
            ):
                found.append(f"{name}:{node.lineno}: compares with a kind's name")
            if isinstance(node, ast.Dict) and {
                key.value for key in node.keys if isinstance(key, ast.Constant)
            } & KIND_NAMES >= {"issues", "pulls"}:
                found.append(f"{name}:{node.lineno}: a table keyed by kind")
    assert found == []


def test_no_template_but_a_kinds_own_decides_by_kind() -> None:
    shared = ["_entries.html", "_parts.html", "dashboard.html", "app_view.html"]
    assert [name for name in shared if ".kind" in (TEMPLATES / name).read_text()] == []
