"""Publishing a panel: choosing its id, keeping what an update leaves out, validating it whole.

The MCP tool ``publish_to_dashboard`` calls this; an HTTP route for panels would call it too.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import ValidationError

from issuebridge.dashboard.entries import Dashboard
from issuebridge.errors import InvalidInput
from issuebridge.records.base import Source, now, parse_repository
from issuebridge.records.panels import PANEL_ID, Metric, Panel, PanelItem, panel_id_from_title


class InvalidPanel(InvalidInput):
    """A panel that cannot be published as given; the message says which fields are wrong."""

    status = 422


@dataclass(frozen=True, slots=True)
class Published:
    panel: Panel  # as stored
    created: bool  # a new panel, not an update


async def publish_panel(
    dashboard: Dashboard,
    *,
    title: str,
    summary_markdown: str,
    metrics: list[Metric] | None = None,
    items: list[PanelItem] | None = None,
    panel_id: str | None = None,
    repository: str | None = None,
    source: Source = "mcp",
) -> Published:
    """Create a panel (its id from its title, unused), or update the one ``panel_id`` names.

    An update replaces the title and text; metrics, items and repository left out (None) stay as
    they were. Raises ``InvalidRepository`` or :class:`InvalidPanel`, having written nothing.
    """
    related = parse_repository(repository) if repository else None
    existing = {entry.panel_id: entry for entry in await dashboard.entries() if isinstance(entry, Panel)}
    if panel_id is not None:
        chosen = panel_id.strip()
        if not PANEL_ID.fullmatch(chosen):
            raise InvalidPanel(
                f"{panel_id!r} is not a panel id: use the panel_id a publish returned "
                "(lower-case letters, digits and hyphens)"
            )
    else:
        chosen = unused_id(panel_id_from_title(title), set(existing))
    previous = existing.get(chosen)
    try:
        panel = Panel(
            panel_id=chosen,
            title=title,
            summary_markdown=summary_markdown,
            metrics=metrics if metrics is not None else (previous.metrics if previous else []),
            items=items if items is not None else (previous.items if previous else []),
            repository=related or (previous.repository if previous else None),
            source=source,
            last_updated=now(),
        )
    except ValidationError as exc:
        raise InvalidPanel(f"The panel was not published: {_problems(exc)}") from None
    return Published(await dashboard.put(panel), created=previous is None)


def unused_id(base: str, taken: set[str]) -> str:
    """``base``, or ``base-2``, ``base-3``, ... whichever is not taken (64 characters at most)."""
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}"[:64] in taken:
        n += 1
    return f"{base[: 63 - len(str(n))]}-{n}"


def _problems(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors(include_url=False))
