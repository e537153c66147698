"""Who may do what, when ``ISSUEBRIDGE_TOKEN`` is set.

- The MCP endpoints and every write need ``Authorization: Bearer <token>``.
- The dashboard (the page, its event stream and the JSON reads) also accepts a session cookie,
  which a person gets once, from the login form or a ``/?token=...`` link. The cookie holds a
  value derived from the token, never the token itself, and is HttpOnly and SameSite=Strict, so
  other sites can neither read it nor make the browser send it.
- ``/healthz``, ``/static/`` and ``/login`` stay open.
- ``/webhooks/github`` needs no bearer token: GitHub cannot send one, and the route checks its
  own signature (``web/webhooks.py``) before anything else.

Tokens are compared in constant time. Without a token configured, everything is open (the
server binds to loopback by default).
"""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import parse_qs

from starlette.datastructures import URL
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from issuebridge.web.bodies import BodyTooLarge, read_body
from issuebridge.web.pages import PAGE_HEADERS

COOKIE = "issuebridge_session"
OPEN_PATHS = ("/healthz", "/static/", "/login")
SIGNED_PATHS = ("/webhooks/github",)  # exact paths that authenticate themselves
# What a cookie may reach: reading the dashboard, never writing or MCP.
COOKIE_PATHS = ("/", "/api/dashboard/events", "/api/dashboard/issues")
MAX_FORM_BYTES = 4096

LOGIN_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark"><title>issuebridge: sign in</title>
<link rel="stylesheet" href="/static/dashboard.css"></head>
<body><main class="login"><h1>issuebridge</h1>
<form method="post" action="/login"><p>{message}</p>
<label for="token">Access token (<code>ISSUEBRIDGE_TOKEN</code>)</label>
<input id="token" name="token" type="password" autocomplete="current-password" required autofocus>
<button type="submit">Open the dashboard</button></form></main></body></html>"""


class TokenAuth:
    """ASGI middleware in front of every route, the MCP transports included."""

    def __init__(self, app: ASGIApp, token: str | None) -> None:
        self.app = app
        self._token = token.encode() if token else None
        # The cookie's value: derived from the token, so the cookie never carries the token itself.
        self._session = hmac.new(self._token or b"", b"issuebridge dashboard session", hashlib.sha256).hexdigest()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self._token is None:
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        path = request.url.path
        if path == "/login":
            response = await self._login(request)
        elif (
            path.startswith(OPEN_PATHS) or path in SIGNED_PATHS or self._bearer_ok(request) or self._cookie_ok(request)
        ):
            await self.app(scope, receive, send)
            return
        elif path == "/" and request.method == "GET" and self._matches(request.query_params.get("token", "")):
            response = self._signed_in(request.url.remove_query_params("token"))
        elif path == "/" and request.method == "GET":
            response = HTMLResponse(
                LOGIN_PAGE.format(message="Sign in to see the dashboard."), status_code=401, headers=PAGE_HEADERS
            )
        else:
            response = JSONResponse(
                {"error": "this server needs Authorization: Bearer <ISSUEBRIDGE_TOKEN>"},
                status_code=401,
                headers={"WWW-Authenticate": 'Bearer realm="issuebridge"'},
            )
        await response(scope, receive, send)

    def _matches(self, candidate: str) -> bool:
        assert self._token is not None
        return bool(candidate) and hmac.compare_digest(candidate.encode(), self._token)

    def _bearer_ok(self, request: Request) -> bool:
        scheme, _, value = request.headers.get("authorization", "").partition(" ")
        return scheme.lower() == "bearer" and self._matches(value.strip())

    def _cookie_ok(self, request: Request) -> bool:
        if request.method not in ("GET", "HEAD") or request.url.path not in COOKIE_PATHS:
            return False
        return hmac.compare_digest(request.cookies.get(COOKIE, "").encode(), self._session.encode())

    async def _login(self, request: Request) -> Response:
        if request.method != "POST":
            return HTMLResponse(LOGIN_PAGE.format(message="Sign in to see the dashboard."), headers=PAGE_HEADERS)
        try:
            body = await read_body(request, MAX_FORM_BYTES)
        except BodyTooLarge:
            return JSONResponse({"error": "the form is too large"}, status_code=413)
        token = parse_qs(body.decode("utf-8", "replace")).get("token", [""])[0]
        if not self._matches(token):
            message = "That token is not right. Try again."
            return HTMLResponse(LOGIN_PAGE.format(message=message), status_code=401, headers=PAGE_HEADERS)
        return self._signed_in(request.url.replace(path="/", query=""))

    def _signed_in(self, target: URL) -> Response:
        response = RedirectResponse(target.path + (f"?{target.query}" if target.query else ""), status_code=303)
        response.set_cookie(
            COOKIE, self._session, httponly=True, samesite="strict", secure=target.scheme == "https", path="/"
        )
        return response
