"""Every environment variable the server reads, in one typed place."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit

from limits import parse as parse_rate

from issuebridge.web.hosts import InvalidHostPattern, parse_host_pattern

Number = TypeVar("Number", int, float)

DEFAULT_API_URL = "https://api.github.com"
# MCP clients built on the TypeScript SDK (Cursor, Claude Code, the Inspector, mcp-remote) give
# up on a request after 60 s: a tool call must end, with our own message, before that.
CLIENT_REQUEST_TIMEOUT = 60.0
# Loopback under any port or none (a proxy on port 80 or 443 sends no port).
LOCAL_HOSTS = ("127.0.0.1", "127.0.0.1:*", "localhost", "localhost:*", "[::1]", "[::1]:*")


class SettingsError(ValueError):
    """A setting has a value the server cannot use; the message names the variable."""


@dataclass(frozen=True, slots=True)
class Settings:
    """Configuration for one server instance.

    The tokens and the webhook secret are kept out of ``repr`` so that a logged or printed
    settings object never leaks them.
    """

    github_token: str | None = field(default=None, repr=False)
    api_token: str | None = field(default=None, repr=False)
    webhook_secret: str | None = field(default=None, repr=False)
    allow_unauthenticated: bool = False
    github_api_url: str = DEFAULT_API_URL
    db_path: Path = Path("issuebridge.db")
    redis_url: str | None = field(default=None, repr=False)  # may hold a password
    public_url: str | None = None
    github_timeout: float = 20.0
    max_items: int = 10_000
    heartbeat_seconds: float = 15.0
    max_body_bytes: int = 10 * 1024 * 1024
    event_history: int = 512
    rate_limit: str = "120/minute"
    github_concurrency: int = 8
    extra_allowed_hosts: tuple[str, ...] = ()
    refresh_seconds: float | None = None  # None: no background refresh
    call_timeout: float = 45.0  # one deadline for a whole fetch from GitHub, retries included
    max_response_bytes: int = 16 * 2**20  # the largest answer from GitHub that is read
    session_seconds: float = 7 * 24 * 3600.0  # how long a dashboard sign-in lasts
    auth_failure_limit: str = "10/minute"  # failed authentications per address
    header_timeout: float = 10.0  # seconds to send a request's headers (issuebridge serve)
    body_timeout: float = 30.0  # seconds to send a request's body
    max_connections: int | None = None  # None: from the file-descriptor limit (issuebridge serve)
    stream_rate_limit: str = "60/minute"  # event streams one client address may open
    stream_send_timeout: float = 10.0  # seconds a stream's client may take to accept a piece
    mcp_max_sessions: int = 1000
    mcp_sessions_per_client: int = 32
    mcp_session_idle_seconds: float = 600.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read settings from the environment (``os.environ`` unless given)."""
        env = os.environ if environ is None else environ
        api_url = env.get("GITHUB_API_URL", "").strip() or DEFAULT_API_URL
        if not api_url.startswith(("http://", "https://")):
            raise SettingsError(f"GITHUB_API_URL must be an http(s) URL, got {api_url!r}")
        public_url = env.get("ISSUEBRIDGE_PUBLIC_URL", "").strip() or None
        if public_url is not None and not public_url.startswith(("http://", "https://")):
            raise SettingsError(f"ISSUEBRIDGE_PUBLIC_URL must be an http(s) URL, got {public_url!r}")
        if public_url is not None:
            try:
                parse_host_pattern(urlsplit(public_url).netloc)  # its host is allowed too
            except InvalidHostPattern as exc:
                raise SettingsError(f"ISSUEBRIDGE_PUBLIC_URL: {exc}") from None
        redis_url = env.get("ISSUEBRIDGE_REDIS_URL", "").strip() or None
        if redis_url is not None and not redis_url.startswith(("redis://", "rediss://", "unix://")):
            raise SettingsError("ISSUEBRIDGE_REDIS_URL must start with redis://, rediss:// or unix://")
        hosts = tuple(h.strip() for h in env.get("ISSUEBRIDGE_ALLOWED_HOSTS", "").split(",") if h.strip())
        for host in hosts:
            try:
                parse_host_pattern(host)
            except InvalidHostPattern as exc:
                raise SettingsError(f"ISSUEBRIDGE_ALLOWED_HOSTS: {exc}") from None
        return cls(
            github_token=env.get("GITHUB_TOKEN", "").strip() or None,
            api_token=env.get("ISSUEBRIDGE_TOKEN", "").strip() or None,
            allow_unauthenticated=env.get("ISSUEBRIDGE_ALLOW_UNAUTHENTICATED", "").strip().lower()
            in ("1", "true", "yes"),
            github_api_url=api_url.rstrip("/"),
            db_path=Path(env.get("ISSUEBRIDGE_DB", "").strip() or "issuebridge.db"),
            redis_url=redis_url,
            public_url=public_url.rstrip("/") if public_url else None,
            github_timeout=_positive(env, "ISSUEBRIDGE_GITHUB_TIMEOUT", float, 20.0),
            max_items=_positive(env, "ISSUEBRIDGE_MAX_ITEMS", int, 10_000),
            heartbeat_seconds=_positive(env, "ISSUEBRIDGE_HEARTBEAT_SECONDS", float, 15.0),
            max_body_bytes=_positive(env, "ISSUEBRIDGE_MAX_BODY_BYTES", int, 10 * 1024 * 1024),
            event_history=_positive(env, "ISSUEBRIDGE_EVENT_HISTORY", int, 512),
            rate_limit=_rate(env, "ISSUEBRIDGE_RATE_LIMIT", "120/minute"),
            github_concurrency=_positive(env, "ISSUEBRIDGE_GITHUB_CONCURRENCY", int, 8),
            extra_allowed_hosts=hosts,
            webhook_secret=env.get("ISSUEBRIDGE_WEBHOOK_SECRET", "").strip() or None,
            refresh_seconds=_optional_interval(env, "ISSUEBRIDGE_REFRESH_SECONDS"),
            call_timeout=_call_timeout(env),
            max_response_bytes=_positive(env, "ISSUEBRIDGE_MAX_RESPONSE_BYTES", int, 16 * 2**20),
            session_seconds=_seconds(env, "ISSUEBRIDGE_SESSION_SECONDS", 7 * 24 * 3600.0),
            auth_failure_limit=_rate(env, "ISSUEBRIDGE_AUTH_FAILURE_LIMIT", "10/minute"),
            header_timeout=_seconds(env, "ISSUEBRIDGE_HEADER_TIMEOUT", 10.0),
            body_timeout=_seconds(env, "ISSUEBRIDGE_BODY_TIMEOUT", 30.0),
            max_connections=_positive(env, "ISSUEBRIDGE_MAX_CONNECTIONS", int, 0) or None,
            stream_rate_limit=_rate(env, "ISSUEBRIDGE_STREAM_RATE_LIMIT", "60/minute"),
            stream_send_timeout=_seconds(env, "ISSUEBRIDGE_STREAM_SEND_TIMEOUT", 10.0),
            mcp_max_sessions=_positive(env, "ISSUEBRIDGE_MCP_MAX_SESSIONS", int, 1000),
            mcp_sessions_per_client=_positive(env, "ISSUEBRIDGE_MCP_SESSIONS_PER_CLIENT", int, 32),
            mcp_session_idle_seconds=_seconds(env, "ISSUEBRIDGE_MCP_SESSION_IDLE_SECONDS", 600.0),
        )

    @property
    def allowed_hosts(self) -> list[str]:
        """The ``Host`` patterns every dashboard route answers (``web/hosts.py``): loopback, the
        extra ones, and the host of the public URL; browser origins are these over http(s)."""
        public = [urlsplit(self.public_url).netloc.lower()] if self.public_url else []
        return list(dict.fromkeys([*LOCAL_HOSTS, *self.extra_allowed_hosts, *public]))


def _positive(env: Mapping[str, str], name: str, kind: type[Number], default: Number) -> Number:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = kind(raw)
    except ValueError:
        noun = "whole number" if kind is int else "number"
        raise SettingsError(f"{name} must be a {noun}, got {raw!r}") from None
    if value <= 0:
        raise SettingsError(f"{name} must be greater than zero, got {raw!r}")
    return value


def _seconds(env: Mapping[str, str], name: str, default: float) -> float:
    """A positive, finite number of seconds (a deadline or a lifetime)."""
    value = _positive(env, name, float, default)
    if not value < float("inf"):  # also refuses nan
        raise SettingsError(f"{name} must be a finite number of seconds, got {env.get(name, '').strip()!r}")
    return value


def _optional_interval(env: Mapping[str, str], name: str) -> float | None:
    """Seconds, or None for "off": unset, empty, ``0`` and ``off`` all mean off."""
    raw = env.get(name, "").strip()
    if raw.lower() in ("", "0", "off"):
        return None
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number of seconds, or 0 for off, got {raw!r}") from None
    if not value >= 0 or value == float("inf"):  # also refuses nan
        raise SettingsError(f"{name} must be a number of seconds, or 0 for off, got {raw!r}")
    return value or None


def _call_timeout(env: Mapping[str, str]) -> float:
    name = "ISSUEBRIDGE_CALL_TIMEOUT"
    value = _positive(env, name, float, 45.0)
    if not value < CLIENT_REQUEST_TIMEOUT:  # also refuses nan and inf
        raise SettingsError(
            f"{name} must be under {CLIENT_REQUEST_TIMEOUT:g} seconds (MCP clients built on the TypeScript SDK "
            f"give up after {CLIENT_REQUEST_TIMEOUT:g} s and would not see the error), got {value:g}"
        )
    return value


def _rate(env: Mapping[str, str], name: str, default: str) -> str:
    raw = env.get(name, "").strip() or default
    try:
        parse_rate(raw)
    except ValueError:
        raise SettingsError(f"{name} must look like 120/minute or 10 per second, got {raw!r}") from None
    return raw
