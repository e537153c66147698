"""``/api/dashboard/selection``: the page's checkboxes, read and written.

``GET`` the selection with titles; ``POST {"add": ["owner/repo#N", ...], "remove": [...]}``
changes it; ``DELETE`` clears it. With ``ISSUEBRIDGE_TOKEN`` set, a page's session cookie may
make these writes and no other (``web/auth.py`` checks that the request comes from the page's own
origin); without it, they are open as every write is (``web/hosts.py`` still checks Host and Origin).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from issuebridge.dashboard.entries import Dashboard
from issuebridge.dashboard.selection import change_selection, clear_selection, selected_views
from issuebridge.records.selection import MAX_SELECTED, InvalidItem, ItemId, Selection
from issuebridge.store import StoreError
from issuebridge.web.bodies import BodyTooLarge, InvalidJson, parse_json, read_body
from issuebridge.web.errors import answer, error

MAX_BODY_BYTES = 64 * 1024  # 1,000 item ids of the longest form fit in about 150 KB; the page sends a few


class SelectionChange(BaseModel):
    """What a POST asks: items to select and to deselect (deselecting wins for one in both)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    add: Annotated[list[ItemId], Field(max_length=MAX_SELECTED)] = []
    remove: Annotated[list[ItemId], Field(max_length=MAX_SELECTED)] = []


def _written(selection: Selection) -> JSONResponse:
    return JSONResponse({"selected": selection.items, "count": len(selection.items), "revision": selection.revision})


def selection_routes(dashboard: Dashboard) -> list[Route]:
    async def read(request: Request) -> Response:
        views = await selected_views(dashboard)
        return JSONResponse({"selected": [view.model_dump() for view in views]})

    async def change(request: Request) -> Response:
        if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
            return error(415, "send the body as JSON with Content-Type: application/json")
        try:
            data = parse_json(await read_body(request, MAX_BODY_BYTES))
        except (BodyTooLarge, InvalidJson) as exc:
            return answer(exc)
        try:
            asked = SelectionChange.model_validate(data)
        except ValidationError as exc:
            fields = [
                {"field": ".".join(str(part) for part in e["loc"]) or "(body)", "message": e["msg"]}
                for e in exc.errors(include_url=False, include_input=False)
            ]
            return error(400, 'the body must be {"add": ["owner/repo#N", ...], "remove": [...]}', fields=fields)
        try:
            return _written(await change_selection(dashboard, asked.add, asked.remove))
        except InvalidItem as exc:  # past the bound: nothing changed
            return answer(exc)
        except StoreError as exc:
            return answer(exc, "the selection")

    async def clear(request: Request) -> Response:
        try:
            return _written(await clear_selection(dashboard))
        except StoreError as exc:
            return answer(exc, "the selection")

    return [
        Route("/api/dashboard/selection", read, methods=["GET"]),
        Route("/api/dashboard/selection", change, methods=["POST"]),
        Route("/api/dashboard/selection", clear, methods=["DELETE"]),
    ]
