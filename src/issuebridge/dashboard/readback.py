"""The dashboard as the assistant reads it back (``get_dashboard``, ``dashboard://boards``): what the
user selected, then what the page shows, in its order, compactly."""

from __future__ import annotations

from issuebridge.dashboard.entries import Dashboard
from issuebridge.dashboard.selection import selected_views
from issuebridge.records.kind import DashboardView
from issuebridge.records.registry import kind_of


async def read_back(dashboard: Dashboard, repository: str | None = None) -> DashboardView:
    """The selection (all of it: the user's pointing is never filtered away), then every entry (or
    those about ``repository``), newest activity first, rows in page order."""
    entries = [kind_of(entry).read_back(entry) for entry in await dashboard.entries(repository)]
    return DashboardView(selected=await selected_views(dashboard), entries=entries)
