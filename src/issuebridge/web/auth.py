"""Who may do what, when ``ISSUEBRIDGE_TOKEN`` is set.

- The MCP endpoints and every write need ``Authorization: Bearer <token>``.
- The dashboard (the page, its event stream and the JSON reads) also accepts a session cookie,
  and so does the one write a viewer may make, the selection (``web/selection.py``), when it
  comes from the page's own origin (exact ``Origin``, not cross-site by ``Sec-Fetch-Site``);
  which a person gets from the sign-in form or a ``/?token=...`` link (``web/sessions.py``): a
  session of its own that expires (``ISSUEBRIDGE_SESSION_SECONDS``) and ends with "Sign out"
  (``POST /logout``). The cookie never holds the token; it is HttpOnly, SameSite=Strict, and
  Secure when the public URL is https.
- ``/healthz``, ``/static/`` and ``/login`` stay open (the sign-in form links its icon under
  ``/static/``, so a browser need not ask for ``/favicon.ico`` before signing in).
- ``/webhooks/github`` needs no bearer token: GitHub cannot send one, and the route checks its
  own signature (``web/github_webhook.py``) before anything else.
- Each address may fail to authenticate only so often (``web/ratelimit.py``); past that, no
  token it sends is even compared until the window has passed, so guessing gains nothing.

Tokens are compared in constant time. Without a token configured, everything is open (the
server binds to loopback by default, and ``web/hosts.py`` still checks Host and Origin).
"""

from __future__ import annotations

import hmac
from urllib.parse import parse_qs

from starlette.datastructures import URL
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from issuebridge.store import StoreError
from issuebridge.web.bodies import BodyTooLarge, read_body
from issuebridge.web.errors import error
from issuebridge.web.pages import PAGE_HEADERS
from issuebridge.web.ratelimit import AuthFailures
from issuebridge.web.sessions import COOKIE, SCOPE_KEY, Sessions, session_of

OPEN_PATHS = ("/static/",)
OPEN_EXACT = ("/healthz",)
SIGNED_PATHS = ("/webhooks/github",)  # exact paths that authenticate themselves
# What a cookie may read: the dashboard, never MCP.
COOKIE_PATHS = (
    "/",
    "/api/dashboard/events",
    "/api/dashboard/issues",
    "/api/dashboard/item",
    "/api/dashboard/selection",
)
# The one write a cookie may make: ticking rows (web/selection.py), from the page's own origin only.
COOKIE_WRITES = ("/api/dashboard/selection",)
MAX_FORM_BYTES = 4096

LOGIN_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark"><title>issuebridge: sign in</title>
<link rel="stylesheet" href="/static/dashboard.css">
<link rel="icon" href="/static/favicon.svg" type="image/svg+xml"></head>
<body><main class="login"><h1>issuebridge</h1>
<form method="post" action="/login"><p>{message}</p>
<label for="token">Access token (<code>ISSUEBRIDGE_TOKEN</code>)</label>
<input id="token" name="token" type="password" autocomplete="current-password" required autofocus>
<button type="submit">Open the dashboard</button></form></main></body></html>"""
SIGN_IN = "Sign in to see the dashboard."
WRONG = "That token is not right. Try again."
ENDED = "Your session has ended. Sign in again."


class TokenAuth:
    """ASGI middleware in front of every route, the MCP transports included."""

    def __init__(
        self,
        app: ASGIApp,
        token: str | None,
        sessions: Sessions | None,
        failures: AuthFailures,
        secure_cookie: bool,
        page_origin: str | None = None,
    ) -> None:
        self.app = app
        self._token = token.encode() if token else None
        self._sessions = sessions
        self._failures = failures
        self._secure_cookie = secure_cookie  # the public URL is https (behind a TLS proxy)
        self._origin = page_origin  # the public URL's origin, if it is set

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self._token is None or self._sessions is None:
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        path = request.url.path
        if path.startswith(OPEN_PATHS) or path in OPEN_EXACT or path in SIGNED_PATHS:
            await self.app(scope, receive, send)
            return
        if path == "/login":
            response: Response | None = await self._login(request)
        elif path == "/logout":
            response = await self._logout(request)
        else:
            response = await self._check(request)
        if response is not None:
            await response(scope, receive, send)
            return
        session = session_of(scope)
        if session is None:
            await self.app(scope, receive, send)
            return
        # Let in by a session: what it has open ends when the session does.
        async with self._sessions.held(session, receive) as receive_until_ended:
            await self.app(scope, receive_until_ended, send)

    async def _check(self, request: Request) -> Response | None:
        """None to let the request through (with ``scope[SCOPE_KEY]`` set if a session let it in)."""
        assert self._sessions is not None
        bearer = _bearer(request)
        if bearer is not None:
            refused = self._failures.refusal(request.scope)  # before comparing: no answer tells a right guess
            if refused is not None or self._matches(bearer):
                return refused
            self._failures.failed(request.scope)
            return _unauthorized()
        ended = drop_cookie = False
        cookie = request.cookies.get(COOKIE)
        if cookie is not None and request.url.path in COOKIE_WRITES and request.method in ("POST", "DELETE"):
            if not self._same_origin(request):
                return error(403, "change the selection from the dashboard page (the request is not from its origin)")
        elif cookie is not None and not (request.method in ("GET", "HEAD") and request.url.path in COOKIE_PATHS):
            cookie = None  # anything else a cookie cannot do: it needs the bearer token
        if cookie is not None:
            session = self._sessions.read(cookie)
            if session is None:
                self._failures.failed(request.scope)  # not a session this server signed
            else:
                try:
                    live = await self._sessions.is_live(session)
                except StoreError as exc:
                    return error(503, f"the session cannot be checked now: {exc}")
                if live:
                    request.scope[SCOPE_KEY] = session
                    return None
                ended = True
            drop_cookie = True  # the browser should stop sending it
        response: Response
        if request.url.path == "/" and request.method == "GET" and "token" in request.query_params:
            refused = self._failures.refusal(request.scope)
            if refused is not None:
                return refused
            if self._matches(request.query_params["token"]):
                return self._signed_in(request.url.remove_query_params("token"))
            self._failures.failed(request.scope)
            response = _login_page(WRONG, 401)
        elif request.url.path == "/" and request.method == "GET":
            response = _login_page(ENDED if ended else SIGN_IN, 401)
        else:
            response = _unauthorized()
        if drop_cookie:
            response.delete_cookie(COOKIE, path="/", secure=self._secure_cookie, httponly=True, samesite="strict")
        return response

    def _same_origin(self, request: Request) -> bool:
        """Whether a cookie's write comes from the page itself: its ``Origin`` is exactly the page's
        origin (``ISSUEBRIDGE_PUBLIC_URL``'s, or the scheme and Host the request came to), and the
        browser does not say it is cross-site (``Sec-Fetch-Site``). The cookie is SameSite=Strict
        as well; ``web/hosts.py`` refused foreign origins before this."""
        origin = request.headers.get("origin")
        if origin is None or request.headers.get("sec-fetch-site", "same-origin") != "same-origin":
            return False
        own = self._origin or f"{request.url.scheme}://{request.headers.get('host', '')}"
        return origin.lower() == own.lower()

    def _matches(self, candidate: str) -> bool:
        assert self._token is not None
        return bool(candidate) and hmac.compare_digest(candidate.encode(), self._token)

    async def _login(self, request: Request) -> Response:
        if request.method == "GET":
            return _login_page(SIGN_IN, 200)
        if request.method != "POST":
            return error(405, "sign in with GET or POST /login")
        refused = self._failures.refusal(request.scope)
        if refused is not None:
            return refused
        try:
            body = await read_body(request, MAX_FORM_BYTES)
        except BodyTooLarge:
            return error(413, "the form is too large")
        token = parse_qs(body.decode("utf-8", "replace")).get("token", [""])[0]
        if not self._matches(token):
            self._failures.failed(request.scope)
            return _login_page(WRONG, 401)
        return self._signed_in(request.url.replace(path="/", query=""))

    async def _logout(self, request: Request) -> Response:
        """``POST /logout`` from the page: revoke its session for every worker, and drop the cookie.

        The request must carry an ``Origin`` (browsers send one with every form POST), which
        ``web/hosts.py`` has already found to be this server's own: no other site can sign a
        person out.
        """
        assert self._sessions is not None
        if request.method != "POST":
            return error(405, "sign out with POST /logout")
        if "origin" not in request.headers:
            return error(403, "sign out from the dashboard page (the request has no Origin)")
        session = self._sessions.read(request.cookies.get(COOKIE, ""))
        response: Response = RedirectResponse("/login", status_code=303)
        if session is not None:
            try:
                await self._sessions.revoke(session)
            except StoreError as exc:
                message = f"signed out of this browser, but the session could not be revoked everywhere: {exc}"
                response = error(503, message)
        response.delete_cookie(COOKIE, path="/", secure=self._secure_cookie, httponly=True, samesite="strict")
        return response

    def _signed_in(self, target: URL) -> Response:
        assert self._sessions is not None
        response = RedirectResponse(target.path + (f"?{target.query}" if target.query else ""), status_code=303)
        response.set_cookie(
            COOKIE,
            self._sessions.issue(),
            max_age=self._sessions.lifetime,
            httponly=True,
            samesite="strict",
            secure=self._secure_cookie or target.scheme == "https",
            path="/",
        )
        return response


def _bearer(request: Request) -> str | None:
    """The value of ``Authorization: Bearer ...``, if the request presents one."""
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" else None


def _login_page(message: str, status: int) -> HTMLResponse:
    return HTMLResponse(LOGIN_PAGE.format(message=message), status_code=status, headers=PAGE_HEADERS)


def _unauthorized() -> JSONResponse:
    return error(
        401,
        "this server needs Authorization: Bearer <ISSUEBRIDGE_TOKEN>",
        headers={"WWW-Authenticate": 'Bearer realm="issuebridge"'},
    )
