"""Panels: the assistant's own curated content, in markdown, key metrics and a table of items."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints, field_validator

from issuebridge.records.base import Entry, Record, RepositoryName, WebUrl, full_match
from issuebridge.records.kind import MAX_ROWS, EntryView, Kind, RowView, entry_view

PANEL_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,63}")


class Metric(Record):
    label: Annotated[str, StringConstraints(min_length=1, max_length=80)]
    value: Annotated[str, StringConstraints(min_length=1, max_length=40)]
    trend: Literal["up", "down", "flat"] | None = None

    @field_validator("value", mode="before")
    @classmethod
    def _number_as_text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int | float) and not isinstance(value, bool) else value


class PanelItem(Record):
    title: Annotated[str, StringConstraints(min_length=1, max_length=300)]
    url: WebUrl | None = None
    note: Annotated[str, StringConstraints(max_length=1000)] | None = None
    tags: Annotated[list[Annotated[str, StringConstraints(min_length=1, max_length=50)]], Field(max_length=20)] = []


class Panel(Entry):
    """The assistant's own curated content: markdown, key metrics, and a table of items."""

    kind: Literal["panel"] = "panel"
    panel_id: Annotated[str, full_match(PANEL_ID, "1-64 lowercase letters, digits or '-', not starting with '-'")]
    title: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    summary_markdown: Annotated[str, StringConstraints(max_length=20_000)] = ""
    metrics: Annotated[list[Metric], Field(max_length=24)] = []
    items: Annotated[list[PanelItem], Field(max_length=500)] = []
    repository: RepositoryName | None = None

    @property
    def key(self) -> str:
        return panel_key(self.panel_id)

    @property
    def related_repository(self) -> str | None:
        return self.repository


def panel_key(panel_id: str) -> str:
    return f"panel:{panel_id}"


def panel_id_from_title(title: str) -> str:
    """A readable id for a new panel: ``Weekly triage!`` becomes ``weekly-triage``."""
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:64].strip("-")
    return slug or "panel"


def read_back(panel: Panel) -> EntryView:
    metrics = "; ".join(f"{m.label}: {m.value}" for m in panel.metrics)
    text = panel.summary_markdown.strip().replace("\n", " ")
    return entry_view(
        panel,
        title=panel.title,
        count=len(panel.items),
        summary=" | ".join(part for part in (metrics, text[:300]) if part),
        rows=[
            RowView(position=n, title=item.title, url=item.url, note=item.note, labels=item.tags)
            for n, item in enumerate(panel.items[:MAX_ROWS], start=1)
        ],
    )


KIND = Kind(
    name="panel",
    entry=Panel,
    label="panel",
    title="panel",
    noun="item",
    json_group="panels",
    json_event="panel_update",
    template="_panels.html",
    macro="panel_section",
    read_back=read_back,
)
