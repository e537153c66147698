"""Which ``Host`` and ``Origin`` headers the server answers: DNS-rebinding and cross-site protection.

A web page can make a browser send requests to issuebridge on localhost in two ways: from its
own origin through a name it rebinds to 127.0.0.1 (the request then carries the attacker's
``Host``), or cross-site (the request then carries the attacker's ``Origin``). Both are refused,
on every route that serves or changes dashboard data: the page, the JSON API, the event stream,
the MCP transports, sign-in and sign-out. ``/healthz`` and ``/static/`` hold nothing private,
and ``/webhooks/github`` proves itself with its signature and arrives under whatever name GitHub
was given.

Hosts and origins are compared exactly, as parsed values: a host is a DNS name, an IPv4 literal
or a bracketed IPv6 literal, with an optional port of digits, and nothing else. A pattern
``name`` allows that name without a port, ``name:8000`` that port, and ``name:*`` any port.
(The MCP SDK's own check compares ``localhost:*`` as a string prefix, so ``localhost:evil.com``
and ``http://localhost:8302.evil.com`` passed it; it is switched off in favour of this one.)
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from issuebridge.web.errors import error

# Paths served whatever the Host and Origin: nothing private there.
UNCHECKED_PATHS = ("/healthz", "/static/")
UNCHECKED_EXACT = ("/webhooks/github",)

_LABEL = r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?"
_NAME = rf"{_LABEL}(?:\.{_LABEL})*"
_IPV6 = r"\[[0-9a-f:.]+\]"
_HOST = re.compile(rf"(?P<name>{_NAME}|{_IPV6})(?::(?P<port>[0-9]{{1,5}}))?")
_PATTERN = re.compile(rf"(?P<name>{_NAME}|{_IPV6})(?::(?P<port>[0-9]{{1,5}}|\*))?")
_ORIGIN = re.compile(r"(?P<scheme>https?)://(?P<host>[^/?#]+)")
ANY_PORT = "*"


class InvalidHostPattern(ValueError):
    """An allowed-hosts entry that is not ``name``, ``name:port`` or ``name:*``."""


@dataclass(frozen=True, slots=True)
class HostPattern:
    name: str  # lower case; IPv6 in brackets and compressed form
    port: str | None  # digits without leading zeros, ANY_PORT, or None for "no port"

    def allows(self, name: str, port: str | None) -> bool:
        if name != self.name:
            return False
        return self.port == port or (self.port == ANY_PORT and port is not None)


def parse_host_pattern(text: str) -> HostPattern:
    """``name``, ``name:port`` or ``name:*``; raises :class:`InvalidHostPattern`."""
    found = _PATTERN.fullmatch(text.strip().lower())
    name = _normalised_name(found["name"]) if found else None
    if found is None or name is None or not _valid_port(found["port"]):
        raise InvalidHostPattern(f"{text!r} is not a host name or address, with an optional :port or :*")
    port = found["port"]
    return HostPattern(name, port if port in (None, ANY_PORT) else str(int(port)))


class AllowedHosts:
    """The hosts (and so the origins) this server answers to."""

    def __init__(self, patterns: list[str]) -> None:
        self._patterns = [parse_host_pattern(pattern) for pattern in patterns]

    def allows_host(self, host: str) -> bool:
        parsed = _parse_host(host)
        return parsed is not None and any(pattern.allows(*parsed) for pattern in self._patterns)

    def allows_origin(self, origin: str) -> bool:
        """An ``Origin`` is ``http(s)://`` and an allowed host; ``null`` and anything else is not."""
        found = _ORIGIN.fullmatch(origin.strip().lower())
        return found is not None and self.allows_host(found["host"])


class HostCheck:
    """ASGI middleware: 421 for a ``Host`` this server does not answer to, 403 for a foreign ``Origin``.

    A request without ``Origin`` (a navigation, ``curl``, an MCP client) is judged by its Host
    alone; browsers send ``Origin`` with every cross-site request that could change anything.
    """

    def __init__(self, app: ASGIApp, allowed: AllowedHosts) -> None:
        self.app = app
        self._allowed = allowed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or path.startswith(UNCHECKED_PATHS) or path in UNCHECKED_EXACT:
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        host = headers.get("host", "")
        origin = headers.get("origin")
        if not self._allowed.allows_host(host):
            response = _refusal(421, f"this server does not answer to the host {_shown(host)}")
        elif origin is not None and not self._allowed.allows_origin(origin):
            response = _refusal(403, f"requests from the origin {_shown(origin)} are not accepted")
        else:
            await self.app(scope, receive, send)
            return
        await response(scope, receive, send)


def _refusal(status: int, reason: str) -> JSONResponse:
    return error(status, f"{reason}: add its host to ISSUEBRIDGE_ALLOWED_HOSTS to allow it")


def _shown(value: str) -> str:
    return repr(value[:100]) if value else "(none)"


def _parse_host(text: str) -> tuple[str, str | None] | None:
    found = _HOST.fullmatch(text.lower())
    if found is None or not _valid_port(found["port"]):
        return None
    name = _normalised_name(found["name"])
    port = found["port"]
    return None if name is None else (name, None if port is None else str(int(port)))


def _normalised_name(name: str) -> str | None:
    """The name, with an IPv6 literal in compressed form; None for brackets around a non-address."""
    if not name.startswith("["):
        return name
    try:
        return f"[{ipaddress.IPv6Address(name[1:-1]).compressed}]"
    except ValueError:
        return None


def _valid_port(port: str | None) -> bool:
    return port is None or port == ANY_PORT or 0 < int(port) <= 65535
