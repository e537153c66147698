"""``GET /``: the dashboard, rendered on the server so it reads without JavaScript."""

from __future__ import annotations

from jinja2 import Environment
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from issuebridge.dashboard import Dashboard
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


def page_routes(dashboard: Dashboard, env: Environment) -> list[BaseRoute]:
    Jinja2Templates(env=env)  # gives the templates url_for()
    template = env.get_template("dashboard.html")
    rows = rendered_rows(env)

    async def index(request: Request) -> Response:
        context = {
            "request": request,
            "entries": await dashboard.store.entries(),
            # The page's script resumes the event stream from here, so nothing is sent twice.
            "revision": dashboard.store.revision,
            "base_url": str(request.base_url).rstrip("/"),
        }
        return HTMLResponse(rows.render_page(template, context), headers=PAGE_HEADERS)

    return [
        Route("/", index, methods=["GET"]),
        Mount("/static", StaticFiles(packages=[("issuebridge", "static")]), name="static"),
    ]
