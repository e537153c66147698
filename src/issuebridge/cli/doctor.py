"""``issuebridge doctor``: is this set-up able to work, and what do I paste into my MCP client?

Each check is one line (ok, warn or fail) saying what was found and, when not ok, what to do.
Every network call has a short timeout, so a dead address costs seconds, not minutes.
"""

from __future__ import annotations

import asyncio
import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal, NamedTuple

import httpx
from rich.table import Table

from issuebridge.cli.output import console
from issuebridge.settings import Settings, SettingsError
from issuebridge.store import StoreError, store_for

TIMEOUT = 5.0
Status = Literal["ok", "warn", "fail"]
STYLES: dict[Status, str] = {"ok": "green", "warn": "yellow", "fail": "bold red"}
DEFAULT_SERVER = "http://localhost:8000"  # the README's snippets; `issuebridge serve` listens there


class Check(NamedTuple):
    name: str
    status: Status
    detail: str


def doctor(server: str | None) -> int:
    checks = asyncio.run(run_checks(server.rstrip("/") if server else None))
    out = console()
    table = Table(title="issuebridge doctor", title_justify="left")
    table.add_column("check")
    table.add_column("result")
    table.add_column("detail", overflow="fold")
    for check in checks:
        table.add_row(check.name, f"[{STYLES[check.status]}]{check.status}[/]", check.detail.replace("[", r"\["))
    out.print(table)
    out.print()
    has_token = bool(os.environ.get("ISSUEBRIDGE_TOKEN", "").strip())
    out.print(client_configs(server.rstrip("/") if server else DEFAULT_SERVER, has_token), markup=False, soft_wrap=True)
    return 1 if any(check.status == "fail" for check in checks) else 0


async def run_checks(server: str | None) -> list[Check]:
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        return [Check("settings", "fail", str(exc)), *([await _server(server)] if server else [])]
    checks = [Check("settings", "ok", "every ISSUEBRIDGE_* and GITHUB_* variable is usable")]
    checks += await _github(settings)
    checks.append(await _store(settings))
    if server:
        checks.append(await _server(server))
    return checks


async def _github(settings: Settings) -> list[Check]:
    api = settings.github_api_url
    headers = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}
    headers["User-Agent"] = "issuebridge"
    if settings.github_token:
        headers["Authorization"] = f"Bearer {settings.github_token}"
    checks: list[Check] = []
    async with httpx.AsyncClient(timeout=TIMEOUT, headers=headers) as http:
        try:
            limits = await http.get(f"{api}/rate_limit")
            user = await http.get(f"{api}/user") if settings.github_token else None
        except httpx.HTTPError as exc:
            return [Check("GitHub API", "fail", f"cannot reach {api} ({type(exc).__name__}): check GITHUB_API_URL")]
    if limits.status_code not in (200, 401):  # 401: a refused token, told below
        return [Check("GitHub API", "fail", f"{api}/rate_limit answered {limits.status_code}: {_message(limits)}")]
    checks.append(Check("GitHub API", "ok", f"{api} answers"))
    if user is None:
        unset = "GITHUB_TOKEN is not set: public repositories only, 60 requests/hour"
        checks.append(Check("GitHub token", "warn", unset))
    elif user.status_code == 401:
        checks.append(Check("GitHub token", "fail", f"GITHUB_TOKEN was refused ({_message(user)}): make a new one"))
        return checks
    elif user.status_code != 200:
        checks.append(Check("GitHub token", "fail", f"GET /user answered {user.status_code}: {_message(user)}"))
    else:
        checks.append(Check("GitHub token", "ok", f"valid, for {user.json().get('login', '?')}"))
        scopes = user.headers.get("X-OAuth-Scopes")
        if scopes is None:
            detail = "none reported: a fine-grained token (its repository access and permissions are set on GitHub)"
            checks.append(Check("token scopes", "ok", detail))
        elif scopes.strip():
            checks.append(Check("token scopes", "ok", scopes.strip()))
        else:
            checks.append(Check("token scopes", "warn", "none: the token reads public repositories only"))
    checks.append(_rate_limit(limits))
    return checks


def _rate_limit(answer: httpx.Response) -> Check:
    try:
        core = answer.json()["resources"]["core"]
        remaining, limit, reset = int(core["remaining"]), int(core["limit"]), int(core["reset"])
    except (ValueError, KeyError, TypeError):
        return Check("rate limit", "warn", f"GET /rate_limit answered {answer.status_code} without the numbers")
    at = datetime.fromtimestamp(reset, UTC).strftime("%Y-%m-%d %H:%M UTC")
    detail = f"{remaining} of {limit} requests left this hour; resets at {at}"
    return Check("rate limit", "ok" if remaining > limit // 10 else "warn", detail)


async def _store(settings: Settings) -> Check:
    if not settings.redis_url:
        path = settings.db_path
        if str(path) == ":memory:":
            return Check("database", "warn", "ISSUEBRIDGE_DB=:memory: keeps nothing across restarts")
        if not path.exists():
            folder = path.parent if str(path.parent) else Path(".")
            if folder.is_dir() and os.access(folder, os.W_OK):
                return Check("database", "ok", f"SQLite {path}: not created yet; the server will create it")
            return Check("database", "fail", f"SQLite {path}: cannot create it in {folder} (check ISSUEBRIDGE_DB)")
        if not os.access(path, os.W_OK):
            return Check("database", "fail", f"SQLite {path} is not writable (check ISSUEBRIDGE_DB)")
    store = store_for(settings)
    try:
        await asyncio.wait_for(store.open(), TIMEOUT)
        entries, revision = len(await store.entries()), store.revision
    except (StoreError, TimeoutError, OSError) as exc:
        return Check("database", "fail", f"{store.name} at {store.location}: {exc or type(exc).__name__}")
    finally:
        await store.close()
    return Check("database", "ok", f"{store.name} at {store.location}: {entries} entries, revision {revision}")


async def _server(server: str) -> Check:
    try:
        async with httpx.AsyncClient(timeout=TIMEOUT) as http:
            answer = await http.get(f"{server}/healthz")
        health = answer.json()
    except httpx.HTTPError as exc:
        return Check("server", "fail", f"cannot reach {server} ({type(exc).__name__}): is it running?")
    except ValueError:
        return Check("server", "fail", f"{server}/healthz answered {answer.status_code}, not issuebridge's JSON")
    if answer.status_code != 200:
        return Check("server", "fail", f"{server}: {health.get('status')}: {health.get('problem', answer.status_code)}")
    detail = f"{server}: {health.get('status')}, {health.get('store')} store, {health.get('entries')} entries"
    return Check("server", "ok", detail)


def client_configs(base: str, has_token: bool) -> str:
    """The README's "Connect your assistant" snippets for ``base``; a placeholder where the token goes."""
    auth = "Bearer <ISSUEBRIDGE_TOKEN>"
    entry: dict[str, object] = {"url": f"{base}/mcp"}
    if has_token:
        entry["headers"] = {"Authorization": auth}
    cursor = '{\n  "mcpServers": {\n    "issuebridge": ' + json.dumps(entry) + "\n  }\n}"
    claude = f"claude mcp add --transport http issuebridge {base}/mcp"
    if has_token:
        claude += f' --header "Authorization: {auth}"'
    lines = [
        "Cursor (~/.cursor/mcp.json, or .cursor/mcp.json in a project):",
        cursor,
        "",
        "Claude Code:",
        claude,
        "",
        f"Any other MCP client: Streamable HTTP at {base}/mcp (SSE at {base}/sse)",
    ]
    if has_token:
        lines.append("Replace <ISSUEBRIDGE_TOKEN> with the server's ISSUEBRIDGE_TOKEN.")
    return "\n".join(lines)


def _message(answer: httpx.Response) -> str:
    try:
        return str(answer.json().get("message", answer.reason_phrase))
    except ValueError:
        return answer.reason_phrase
