"""What the dashboard shows, compactly, for the assistant to read back (tool and resources)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from issuebridge.boards import IssuesBoard, iso_utc, sorted_for_display
from issuebridge.curated import CommitsBoard, Panel, PullsBoard
from issuebridge.entries import AnyEntry

MAX_ROWS = 100


class RowView(BaseModel):
    position: int = Field(description="1 for the first row the page shows.")
    number: int | None = None
    sha: str | None = None
    title: str
    state: str | None = None
    labels: list[str] = []
    url: str | None = None
    note: str | None = None


class EntryView(BaseModel):
    id: str = Field(description="Pass to remove_from_dashboard.")
    kind: str = Field(description="issues, pulls, commits or panel.")
    repository: str | None
    title: str
    count: int = Field(description="How many rows the entry has in all.")
    summary: str
    last_updated: str
    rows: list[RowView] = Field(description=f"The first {MAX_ROWS} rows, in the page's order.")


class DashboardView(BaseModel):
    entries: list[EntryView] = Field(description="Newest activity first, as on the page.")


def view_of(entries: list[AnyEntry], repository: str | None = None) -> DashboardView:
    """The entries (all, or those about ``repository``) as the page orders them."""
    wanted = repository.lower() if repository else None
    chosen = [e for e in entries if wanted is None or (e.related_repository or "").lower() == wanted]
    return DashboardView(entries=[_entry_view(entry) for entry in chosen])


def _view(entry: AnyEntry, *, title: str, count: int, summary: str, rows: list[RowView]) -> EntryView:
    return EntryView(
        id=entry.key,
        kind=entry.kind,
        repository=entry.related_repository,
        last_updated=iso_utc(entry.last_updated),
        title=title,
        count=count,
        summary=summary,
        rows=rows,
    )


def _entry_view(entry: AnyEntry) -> EntryView:
    if isinstance(entry, IssuesBoard):
        issues = sorted_for_display(entry.issues)
        return _view(
            entry,
            title=f"{entry.repository} issues ({entry.state})",
            count=len(issues),
            summary=f"{len(issues)} {'' if entry.state == 'all' else entry.state + ' '}issues",
            rows=[
                RowView(
                    position=n,
                    number=i.number,
                    title=i.title,
                    state=i.state,
                    labels=[lb.name for lb in i.labels],
                    url=i.html_url,
                )
                for n, i in enumerate(issues[:MAX_ROWS], start=1)
            ],
        )
    if isinstance(entry, PullsBoard):
        pulls = sorted_for_display(entry.pulls)
        return _view(
            entry,
            title=f"{entry.repository} pull requests ({entry.state})",
            count=len(pulls),
            summary=(
                f"{len(pulls)} pull requests; {len(entry.drafts)} drafts; "
                f"{len(entry.without_reviewers)} waiting for a reviewer"
            ),
            rows=[
                RowView(
                    position=n,
                    number=p.number,
                    title=p.title,
                    state="draft" if p.draft else ("merged" if p.merged else p.state),
                    labels=[lb.name for lb in p.labels],
                    url=p.html_url,
                )
                for n, p in enumerate(pulls[:MAX_ROWS], start=1)
            ],
        )
    if isinstance(entry, CommitsBoard):
        authors = ", ".join(f"{a} ({n})" for a, n in entry.top_authors[:3])
        return _view(
            entry,
            title=f"{entry.repository} commits" + (f" on {entry.branch}" if entry.branch else ""),
            count=len(entry.commits),
            summary=f"{len(entry.commits)} commits; top authors: {authors or 'none'}",
            rows=[
                RowView(position=n, sha=c.sha[:12], title=c.message, url=c.html_url, note=c.author)
                for n, c in enumerate(entry.commits[:MAX_ROWS], start=1)
            ],
        )
    assert isinstance(entry, Panel)
    metrics = "; ".join(f"{m.label}: {m.value}" for m in entry.metrics)
    text = entry.summary_markdown.strip().replace("\n", " ")
    return _view(
        entry,
        title=entry.title,
        count=len(entry.items),
        summary=" | ".join(part for part in (metrics, text[:300]) if part),
        rows=[
            RowView(position=n, title=item.title, url=item.url, note=item.note, labels=item.tags)
            for n, item in enumerate(entry.items[:MAX_ROWS], start=1)
        ],
    )
