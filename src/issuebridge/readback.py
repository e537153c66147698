"""What the dashboard shows, compactly, for the assistant to read back (tool and resources)."""

from __future__ import annotations

from issuebridge.records.kind import DashboardView
from issuebridge.records.registry import AnyEntry, kind_of


def view_of(entries: list[AnyEntry], repository: str | None = None) -> DashboardView:
    """The entries (all, or those about ``repository``) as the page orders them."""
    wanted = repository.lower() if repository else None
    chosen = [e for e in entries if wanted is None or (e.related_repository or "").lower() == wanted]
    return DashboardView(entries=[kind_of(entry).read_back(entry) for entry in chosen])
