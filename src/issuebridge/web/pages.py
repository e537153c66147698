"""``GET /``: the dashboard, rendered on the server so it reads without JavaScript; and its static files."""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path
from urllib.parse import parse_qs

from jinja2 import Environment
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import NotModifiedResponse, StaticFiles
from starlette.types import Scope

from issuebridge.assets import STATIC
from issuebridge.dashboard.entries import Dashboard
from issuebridge.records.selection import SELECTION_KEY
from issuebridge.web.sessions import session_of
from issuebridge.web.templating import rendered_rows

# Only our own scripts, stylesheets and connections. Style *attributes* stay allowed
# (style-src-attr): label chips carry their GitHub colour that way, from validated hex only.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; style-src-attr 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
PAGE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}
# A static file asked for by its content's hash (``?v=``, as the page links it) never changes:
# browsers keep it for a year without asking again. Any other request for it revalidates
# (ETag / Last-Modified, answered with 304 when nothing changed).
FAVICON = "favicon.svg"
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"


class VersionedStaticFiles(StaticFiles):
    """Static files with cache headers that depend on whether the URL names the current content."""

    def __init__(self, *, directory: Path) -> None:
        super().__init__(directory=directory)
        self._digests: dict[str, tuple[tuple[int, int], str]] = {}

    def version(self, path: str) -> str:
        """A short hash of the file's content, for its URL; recomputed when the file changes."""
        full_path, stat_result = self.lookup_path(path)
        if stat_result is None:
            raise LookupError(f"no static file {path!r}")
        return self._digest(full_path, stat_result)

    def file_response(
        self, full_path: str | os.PathLike[str], stat_result: os.stat_result, scope: Scope, status_code: int = 200
    ) -> Response:
        response = FileResponse(full_path, status_code=status_code, stat_result=stat_result)
        asked = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("v", [""])[0]
        current = asked == self._digest(os.fspath(full_path), stat_result)
        response.headers["Cache-Control"] = IMMUTABLE if current else REVALIDATE
        if self.is_not_modified(response.headers, Headers(scope=scope)):
            return NotModifiedResponse(response.headers)
        return response

    def _digest(self, full_path: str, stat_result: os.stat_result) -> str:
        stamp = (stat_result.st_mtime_ns, stat_result.st_size)
        known = self._digests.get(full_path)
        if known is None or known[0] != stamp:
            known = self._digests[full_path] = (stamp, hashlib.sha256(Path(full_path).read_bytes()).hexdigest()[:16])
        return known[1]


def page_routes(dashboard: Dashboard, env: Environment) -> list[BaseRoute]:
    template = env.get_template("dashboard.html")
    rows = rendered_rows(env)
    static = VersionedStaticFiles(directory=STATIC)

    async def index(request: Request) -> Response:
        started = time.perf_counter()

        def static_url(path: str) -> str:
            return f"{request.url_for('static', path=path).path}?v={static.version(path)}"

        context = {
            "entries": await dashboard.entries(),
            "selection": await dashboard.get(SELECTION_KEY),  # the script ticks its rows' boxes
            # The page's script resumes the event stream from here, so nothing is sent twice.
            "revision": dashboard.revision,
            "base_url": str(request.base_url).rstrip("/"),
            "events_url": request.url_for("events").path,
            "static_url": static_url,
            "signed_in": session_of(request.scope) is not None,  # a person, who can sign out
        }
        html = rows.render_page(template, context)
        # How long the page took to render, for the browser's developer tools and the benchmark.
        timing = f"render;dur={(time.perf_counter() - started) * 1000:.1f}"
        return HTMLResponse(html, headers={**PAGE_HEADERS, "Server-Timing": timing})

    async def favicon(request: Request) -> Response:
        # Browsers ask for /favicon.ico wherever the page does not name its icon (the sign-in
        # form, a bookmark, an old tab): the same SVG the page links, revalidated like any file.
        return await static.get_response(FAVICON, request.scope)

    return [
        Route("/", index, methods=["GET"]),
        Route("/favicon.ico", favicon, methods=["GET"]),
        Mount("/static", static, name="static"),
    ]
