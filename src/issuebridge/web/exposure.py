"""Safe by default: refuse to serve a non-loopback address without ``ISSUEBRIDGE_TOKEN``.

The app does not choose its address, uvicorn does (``--host``), and tells the app nothing of it:
``web/uvicorn_server.py`` finds it. Outside uvicorn nothing is checked (``issuebridge serve``
checks its own ``--host`` before starting uvicorn).
"""

from __future__ import annotations

import ipaddress

from issuebridge.settings import Settings
from issuebridge.web import uvicorn_server


class ExposureError(RuntimeError):
    """The server would be reachable from other machines with nobody checking who calls it."""


def check_exposure(settings: Settings) -> None:
    if settings.api_token or settings.allow_unauthenticated:
        return
    host = uvicorn_server.listening_on()
    if host is not None and not is_loopback(host):
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
