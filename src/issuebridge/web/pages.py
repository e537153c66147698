"""``GET /``: the dashboard, rendered on the server so it reads without JavaScript."""

from __future__ import annotations

from datetime import datetime

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from issuebridge.dashboard import Dashboard


def _iso(value: datetime | None) -> str:
    return value.isoformat().replace("+00:00", "Z") if value else ""


def _templates() -> Jinja2Templates:
    # Templates and static files ship inside the package (see pyproject.toml), so they are
    # found wherever the server is started from.
    env = Environment(loader=PackageLoader("issuebridge", "templates"), autoescape=select_autoescape())
    env.filters["iso"] = _iso
    return Jinja2Templates(env=env)


def page_routes(dashboard: Dashboard) -> list[BaseRoute]:
    templates = _templates()

    async def index(request: Request) -> Response:
        return templates.TemplateResponse(
            request,
            "dashboard.html",
            {"boards": await dashboard.store.boards(), "base_url": str(request.base_url).rstrip("/")},
        )

    return [
        Route("/", index, methods=["GET"]),
        Mount("/static", StaticFiles(packages=[("issuebridge", "static")]), name="static"),
    ]
