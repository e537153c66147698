"""``issuebridge serve``: uvicorn on ``issuebridge.app:app``, with bounded connections (``make run``)."""

from __future__ import annotations

from importlib.util import find_spec
from typing import Any

import uvicorn

from issuebridge.cli import print_error
from issuebridge.cli.connection_bounds import connection_limit, http_protocol
from issuebridge.settings import Settings, SettingsError
from issuebridge.web.exposure import is_loopback


def serve(host: str, port: int, workers: int, reload: bool) -> int:
    """Validate the settings here, where a mistake is one clean line, rather than in each worker's traceback."""
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        print_error(str(exc))
        return 2
    if workers > 1 and not settings.redis_url:
        print_error(
            f"--workers {workers} needs ISSUEBRIDGE_REDIS_URL: with SQLite every worker keeps its own copy "
            "of the boards, so pages would show different dashboards. Set ISSUEBRIDGE_REDIS_URL "
            "(docs/workers.md) or run one worker."
        )
        return 2
    if not is_loopback(host) and not settings.api_token and not settings.allow_unauthenticated:
        print_error(
            f"will not listen on {host} without ISSUEBRIDGE_TOKEN: anyone who can reach it could drive the "
            "MCP tools and write the dashboard. Set ISSUEBRIDGE_TOKEN, listen on 127.0.0.1, or set "
            "ISSUEBRIDGE_ALLOW_UNAUTHENTICATED=1 if something in front already checks who calls."
        )
        return 2
    uvicorn.run(
        "issuebridge.app:app",
        host=host,
        port=port,
        workers=workers if workers > 1 else None,
        reload=reload,
        **server_options(settings),
    )
    return 0


def server_options(settings: Settings) -> dict[str, Any]:
    """uvicorn's options for any issuebridge server: fast loop and parser, and bounded connections."""
    httptools = find_spec("httptools") is not None
    return {
        "loop": "uvloop" if find_spec("uvloop") else "auto",
        "http": http_protocol(settings.header_timeout, httptools=httptools),
        "limit_concurrency": settings.max_connections or connection_limit(),
        "timeout_graceful_shutdown": 5,  # a stream that never reads must not hold up Ctrl+C
    }
