"""Every part of issuebridge, built once from :class:`Settings`: for the app, the CLI and the tests.

``Services.build(settings)`` makes the store, the hub and the announcer with the page's and the
JSON API's wire formats, the dashboard (the one write path), the GitHub source and the board
sync over it, the background refresher, the MCP session caps and the MCP server. ``app.py``
composes them into routes; ``issuebridge push --direct`` uses :func:`core` and a sync, without
pages or MCP. Building opens nothing: ``store.open()`` is the lifespan's (or the caller's).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from jinja2 import Environment
from mcp.server.mcpserver import MCPServer

from issuebridge.dashboard.entries import Dashboard
from issuebridge.dashboard.refresh import Refresher
from issuebridge.dashboard.sync import BoardSync
from issuebridge.github.client import GitHubSource
from issuebridge.github.conditional import Freshness
from issuebridge.live.announcer import Announcer
from issuebridge.live.changes import WireFormat
from issuebridge.live.html_format import PageFormat
from issuebridge.live.hub import EventHub
from issuebridge.live.json_format import JsonFormat
from issuebridge.mcp.progress import PROGRESS_EVERY
from issuebridge.mcp.server import build_mcp_server
from issuebridge.mcp.sessions import McpSessions
from issuebridge.settings import Settings
from issuebridge.store import DashboardStore, store_for
from issuebridge.web.templating import Fragments, environment


def plain_log_lines() -> None:
    """One plain line per log record, on stderr.

    Building the MCP server calls ``logging.basicConfig`` with rich's handler whenever ``rich``
    is installed (the CLI needs it), and that handler wraps and cuts lines at 80 columns when
    stderr is not a terminal (a service's log). Configured first, ours stays: ``basicConfig``
    only acts on a root logger without handlers.
    """
    logging.basicConfig(level=logging.INFO, format="%(message)s")


@dataclass(frozen=True, slots=True)
class Core:
    """The store, and what reads, writes and announces through it: what any use of the dashboard needs."""

    store: DashboardStore
    hub: EventHub
    announcer: Announcer
    dashboard: Dashboard

    def board_sync(self, github: GitHubSource) -> BoardSync:
        """Fetching boards from ``github`` into this dashboard (validators kept in its store)."""
        return BoardSync(self.dashboard, self.announcer, github, Freshness(self.store))


def core(
    store: DashboardStore,
    formats: Mapping[str, WireFormat] | None = None,
    *,
    event_history: int = 512,
    clock: Callable[[], float] = time.monotonic,
) -> Core:
    """The dashboard over ``store``, announcing to ``formats`` (the JSON events alone if not given)."""
    hub = EventHub(history_events=event_history)
    announcer = Announcer(store, hub, formats if formats is not None else {"json": JsonFormat()}, clock=clock)
    return Core(store, hub, announcer, Dashboard(store, announcer))


@dataclass(frozen=True, slots=True)
class Services:
    """One server's parts. Each build is fresh state, so tests can build many."""

    settings: Settings
    store: DashboardStore
    hub: EventHub
    announcer: Announcer
    dashboard: Dashboard
    env: Environment
    github: GitHubSource
    sync: BoardSync
    refresher: Refresher | None
    sessions: McpSessions
    mcp: MCPServer

    @classmethod
    def build(
        cls,
        settings: Settings,
        *,
        store: DashboardStore | None = None,
        env: Environment | None = None,
        progress_every: float = PROGRESS_EVERY,
    ) -> Services:
        """Everything ``settings`` asks for; ``store`` and ``env`` (the templates' environment) may
        be given instead of built, and ``progress_every`` is how often a tool call waiting for
        GitHub says it still is."""
        store = store or store_for(settings)
        env = env or environment()
        parts = core(
            store,
            {"json": JsonFormat(), "html": PageFormat(Fragments(env))},
            event_history=settings.event_history,
        )
        github = GitHubSource.from_settings(settings)
        sync = parts.board_sync(github)
        refresher = Refresher(store, sync, settings.refresh_seconds) if settings.refresh_seconds else None
        sessions = McpSessions.from_settings(settings)
        plain_log_lines()
        mcp = build_mcp_server(
            parts.dashboard,
            parts.announcer,
            sync,
            settings,
            env,
            progress_every=progress_every,
            sessions=sessions,
        )
        return cls(
            settings,
            store,
            parts.hub,
            parts.announcer,
            parts.dashboard,
            env,
            github,
            sync,
            refresher,
            sessions,
            mcp,
        )
