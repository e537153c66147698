"""Composes the server: settings -> GitHub source, store, hub -> routes and MCP transports -> one app.

Run it with ``uvicorn issuebridge.app:app``.
"""

from __future__ import annotations

import contextlib
import gc
import logging
from collections.abc import AsyncIterator

from limits import parse as parse_rate_limit  # "120/minute", "10 per second": limits' notation
from starlette.applications import Starlette
from starlette.middleware import Middleware

from issuebridge.dashboard import Dashboard, JsonFormat, WireFormat
from issuebridge.events import EventHub
from issuebridge.exposure import check_exposure
from issuebridge.github.client import GitHubSource
from issuebridge.refresh import Refresher, background_refresh
from issuebridge.settings import Settings
from issuebridge.store import store_for
from issuebridge.sync import BoardSync
from issuebridge.tools import build_mcp_server
from issuebridge.web.access_log import redact_access_log
from issuebridge.web.api import api_routes
from issuebridge.web.auth import TokenAuth
from issuebridge.web.compression import Compression
from issuebridge.web.deadlines import BodyDeadline
from issuebridge.web.hosts import AllowedHosts, HostCheck
from issuebridge.web.mcp import mcp_routes
from issuebridge.web.mcp_sessions import McpSessions
from issuebridge.web.page_events import PageFormat
from issuebridge.web.pages import page_routes
from issuebridge.web.ratelimit import AuthFailures, RateLimit
from issuebridge.web.sessions import Sessions
from issuebridge.web.stream import live_streams, stream_routes
from issuebridge.web.templating import Fragments, environment, rendered_rows
from issuebridge.web.webhooks import webhook_routes

logger = logging.getLogger("issuebridge")


def create_app(settings: Settings | None = None, *, keep_rows: bool = True) -> Starlette:
    """A complete issuebridge server. Each call builds fresh state, so tests can start many.

    ``keep_rows=False`` renders every board row on every page load, as before rows were kept:
    the page benchmark's baseline (``bench/page.py``).
    """
    settings = settings or Settings.from_env()
    store = store_for(settings)
    hub = EventHub(history_events=settings.event_history)
    env = environment(keep_rows=keep_rows)
    formats: dict[str, WireFormat] = {"json": JsonFormat(), "html": PageFormat(Fragments(env))}
    dashboard = Dashboard(store, hub, formats)
    github = GitHubSource.from_settings(settings)
    boards = BoardSync(dashboard, github)
    plain_log_lines()
    sessions = McpSessions.from_settings(settings)
    mcp = build_mcp_server(dashboard, boards, settings, env, sessions=sessions)
    refresher = Refresher(store, boards, settings.refresh_seconds) if settings.refresh_seconds else None
    redact_access_log(settings.api_token)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        check_exposure(settings)
        # Everything imported and built so far lives as long as the process: keep it out of the
        # garbage collector's full passes. About 100,000 objects, which otherwise add some 100 ms
        # to every full collection: a pause for any event being fanned out at that moment.
        gc.freeze()
        await store.open()
        rendered_rows(env).warm(await store.entries())  # the first page after a restart is as quick as any
        logger.info(
            "issuebridge: %d entries loaded from %s; GitHub API at %s (%s)",
            len(await store.entries()),
            store.location,
            settings.github_api_url,
            "with a token" if settings.github_token else "without a token",
        )
        logger.info(
            "issuebridge: MCP and writes %s",
            "need ISSUEBRIDGE_TOKEN" if settings.api_token else "are open to anyone who can reach this port",
        )
        try:
            async with (
                mcp.session_manager.run(),
                live_streams(hub, settings.heartbeat_seconds),
                background_refresh(refresher),
            ):
                yield
        finally:
            hub.close()
            await store.close()

    routes = [
        *page_routes(dashboard, env),
        *api_routes(dashboard, settings.max_body_bytes),
        *webhook_routes(dashboard, settings.webhook_secret, settings.max_body_bytes),
        *stream_routes(
            dashboard,
            open_rate=parse_rate_limit(settings.stream_rate_limit),
            send_timeout=settings.stream_send_timeout,
        ),
        *mcp_routes(mcp, settings, sessions),
    ]
    middleware = [
        # Outermost first. A request to a host this server does not answer to (DNS rebinding)
        # is refused before anything else looks at it.
        Middleware(HostCheck, allowed=AllowedHosts(settings.allowed_hosts)),
        Middleware(BodyDeadline, seconds=settings.body_timeout),
        Middleware(
            TokenAuth,
            token=settings.api_token,
            sessions=Sessions(settings.api_token, settings.session_seconds, store) if settings.api_token else None,
            failures=AuthFailures(parse_rate_limit(settings.auth_failure_limit)),
            secure_cookie=(settings.public_url or "").startswith("https://"),
        ),
        # After authentication, so that the limit counts per address and nothing unverified
        # (a made-up bearer value) can give a client a fresh allowance.
        Middleware(RateLimit, rate=parse_rate_limit(settings.rate_limit)),
        Middleware(Compression),
    ]
    app = Starlette(routes=routes, lifespan=lifespan, middleware=middleware)
    # The parts a test or a benchmark in the same process looks at: how many streams, sessions, ...
    app.state.dashboard = dashboard
    app.state.mcp_sessions = sessions
    return app


def plain_log_lines() -> None:
    """One plain line per log record, on stderr, as before the CLI brought ``rich`` in.

    Building the MCP server calls ``logging.basicConfig`` with rich's handler whenever ``rich``
    is installed, and that handler wraps and cuts lines at 80 columns when stderr is not a
    terminal (a service's log). Configured first, ours stays: ``basicConfig`` only acts on a root
    logger without handlers.
    """
    logging.basicConfig(level=logging.INFO, format="%(message)s")


app = create_app()
