"""Safe by default: refuse to serve a non-loopback address without ``ISSUEBRIDGE_TOKEN``.

The app does not choose its address, uvicorn does (``--host``). Once uvicorn is serving, its
SIGTERM handler is a bound method of its ``Server``, which holds the config: the same
introspection sse-starlette uses to find the server. Outside uvicorn nothing is checked.
"""

from __future__ import annotations

import ipaddress
import signal
from typing import Any

from issuebridge.settings import Settings


class ExposureError(RuntimeError):
    """The server would be reachable from other machines with nobody checking who calls it."""


def check_exposure(settings: Settings) -> None:
    config = _uvicorn_config()
    if config is None or settings.api_token or settings.allow_unauthenticated:
        return
    if getattr(config, "uds", None) or getattr(config, "fd", None) is not None:
        return  # a Unix socket or an inherited descriptor: not a network address we can judge
    host = str(getattr(config, "host", "127.0.0.1"))
    if not is_loopback(host):
        raise ExposureError(
            f"issuebridge will not listen on {host} without ISSUEBRIDGE_TOKEN: anyone who can reach "
            "it could drive the MCP tools and write the dashboard. Set ISSUEBRIDGE_TOKEN to a long "
            "random string (clients send it as Authorization: Bearer ...), listen on 127.0.0.1, or set "
            "ISSUEBRIDGE_ALLOW_UNAUTHENTICATED=1 if something in front of it already checks who calls."
        )


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: it may resolve anywhere


def _uvicorn_config() -> Any:
    handler = signal.getsignal(signal.SIGTERM)
    server = getattr(handler, "__self__", None)
    return getattr(server, "config", None) if hasattr(server, "should_exit") else None
