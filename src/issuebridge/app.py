"""The app: routes, MCP transports, middleware and lifespan, over the parts ``services.py`` builds.

``uvicorn issuebridge.app:app`` serves :data:`app`, which builds the server from the environment
when the lifespan starts (importing this module builds nothing);
``uvicorn --factory issuebridge.app:create_app`` does the same through the factory.
"""

from __future__ import annotations

import contextlib
import gc
import logging
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

from limits import parse as parse_rate_limit  # "120/minute", "10 per second": limits' notation
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.types import Message, Receive, Scope, Send

from issuebridge.dashboard.refresh import background_refresh
from issuebridge.dashboard.webhook_deliveries import WebhookDeliveries
from issuebridge.errors import IssuebridgeError
from issuebridge.live.stream import live_streams, stream_routes
from issuebridge.mcp.transports import mcp_routes
from issuebridge.services import Services
from issuebridge.settings import Settings
from issuebridge.web import errors
from issuebridge.web.access_log import redact_access_log
from issuebridge.web.api import api_routes
from issuebridge.web.auth import TokenAuth
from issuebridge.web.compression import Compression
from issuebridge.web.deadlines import BodyDeadline
from issuebridge.web.exposure import check_exposure
from issuebridge.web.github_webhook import webhook_routes
from issuebridge.web.hosts import AllowedHosts, HostCheck
from issuebridge.web.pages import page_routes
from issuebridge.web.ratelimit import AuthFailures, RateLimit
from issuebridge.web.selection import selection_routes
from issuebridge.web.sessions import Sessions
from issuebridge.web.templating import rendered_rows

logger = logging.getLogger("issuebridge")


def create_app(settings: Settings | None = None) -> Starlette:
    """A complete issuebridge server (from the environment unless ``settings`` are given). Each
    call builds fresh state, so tests can start many."""
    return compose(Services.build(settings or Settings.from_env()))


def compose(services: Services) -> Starlette:
    """The Starlette app over ``services``: its routes, middleware and lifespan."""
    settings, store, hub = services.settings, services.store, services.hub
    redact_access_log(settings.api_token)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        check_exposure(settings)
        # Everything imported and built so far lives as long as the process: keep it out of the
        # garbage collector's full passes. About 100,000 objects, which otherwise add some 100 ms
        # to every full collection: a pause for any event being fanned out at that moment.
        gc.freeze()
        await store.open()
        rendered_rows(services.env).warm(await store.entries())  # the first page after a restart is as quick as any
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
                services.mcp.session_manager.run(),
                live_streams(hub, settings.heartbeat_seconds),
                background_refresh(services.refresher),
            ):
                yield
        finally:
            hub.close()
            await store.close()

    routes = [
        *page_routes(services.dashboard, services.env),
        *api_routes(services.dashboard, services.announcer, settings.max_body_bytes, services.env),
        *selection_routes(services.dashboard),
        *webhook_routes(WebhookDeliveries(services.dashboard, store), settings.webhook_secret, settings.max_body_bytes),
        *stream_routes(
            services.announcer,
            open_rate=parse_rate_limit(settings.stream_rate_limit),
            send_timeout=settings.stream_send_timeout,
        ),
        *mcp_routes(services.mcp, settings, services.sessions),
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
            page_origin=page_origin(settings.public_url),
        ),
        # After authentication, so that the limit counts per address and nothing unverified
        # (a made-up bearer value) can give a client a fresh allowance.
        Middleware(RateLimit, rate=parse_rate_limit(settings.rate_limit)),
        Middleware(Compression),
    ]
    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        middleware=middleware,
        exception_handlers={IssuebridgeError: errors.handle},
    )
    # The parts a test or a benchmark in the same process looks at: how many streams, sessions, ...
    app.state.services = services
    return app


def page_origin(public_url: str | None) -> str | None:
    """``scheme://host[:port]`` of ``ISSUEBRIDGE_PUBLIC_URL``: where the page's own requests come from."""
    if not public_url:
        return None
    parts = urlsplit(public_url)
    return f"{parts.scheme}://{parts.netloc}"


class _BuiltOnStartup:
    """``issuebridge.app:app``: the server from the environment, built when the lifespan starts.

    Building reads the environment and may fail (a bad setting); failing there is reported as a
    failed start-up, as Starlette reports its own. A server that runs no lifespan builds it on
    the first request.
    """

    def __init__(self) -> None:
        self._app: Starlette | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self._app is not None:
            await self._app(scope, receive, send)
            return
        if scope["type"] != "lifespan":
            self._app = create_app()
            await self._app(scope, receive, send)
            return
        startup = await receive()
        try:
            self._app = create_app()
        except BaseException as exc:
            await send({"type": "lifespan.startup.failed", "message": f"{type(exc).__name__}: {exc}"})
            raise
        replayed = False

        async def receive_startup_first() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return startup
            return await receive()

        await self._app(scope, receive_startup_first, send)


app = _BuiltOnStartup()
