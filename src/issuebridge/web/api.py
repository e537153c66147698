"""The JSON API, for producers and readers that are not MCP clients."""

from __future__ import annotations

from jinja2 import Environment
from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from issuebridge.dashboard.entries import Dashboard
from issuebridge.dashboard.push import push_issues
from issuebridge.live.announcer import Announcer
from issuebridge.live.json_format import entry_json, entry_payload
from issuebridge.records.base import InvalidRepository, parse_repository
from issuebridge.records.issues import IssuesBoard, SyncIssuesRequest, issues_key
from issuebridge.store import StoreError
from issuebridge.web.bodies import BodyTooLarge, InvalidJson, parse_json, read_body
from issuebridge.web.errors import answer, error
from issuebridge.web.preview import InvalidNumber, find_item, parse_number, preview_json


def _field_errors(exc: ValidationError) -> list[dict[str, str]]:
    return [
        {"field": ".".join(str(part) for part in err["loc"]) or "(body)", "message": err["msg"]}
        for err in exc.errors(include_url=False, include_input=False)
    ]


def api_routes(dashboard: Dashboard, announcer: Announcer, max_body_bytes: int, env: Environment) -> list[Route]:
    """The JSON reads and the push. Host and Origin are checked before any route (``web/hosts.py``)."""

    async def get_issues(request: Request) -> Response:
        """One board by ``?repository=owner/repo``, or the most recently synced one."""
        requested = request.query_params.get("repository")
        if requested is None:
            boards = [entry for entry in await dashboard.entries() if isinstance(entry, IssuesBoard)]
            if not boards:
                return JSONResponse({"repository": None, "issues": [], "last_updated": None})
            return Response(entry_json(boards[0]), media_type="application/json")
        try:
            repository = parse_repository(requested)
        except InvalidRepository as exc:
            return answer(exc)
        board = await dashboard.get(issues_key(repository))
        if board is None:
            return error(404, f"{repository} has no issues board on the dashboard; sync it first")
        return Response(entry_json(board), media_type="application/json")

    async def get_item(request: Request) -> Response:
        """One issue or pull request by ``?repository=owner/repo&number=N``, its body rendered
        for the page's preview (``web/preview.py``)."""
        requested, number_text = request.query_params.get("repository"), request.query_params.get("number")
        if requested is None or number_text is None:
            return error(400, "give the item as ?repository=owner/repo&number=N")
        try:
            repository = parse_repository(requested)
            number = parse_number(number_text)
        except InvalidRepository as exc:
            return answer(exc)
        except InvalidNumber as exc:
            return error(400, str(exc))
        found = await find_item(dashboard, repository, number)
        if found is None:
            return error(404, f"{repository}#{number} is on no board of the dashboard")
        return JSONResponse(await preview_json(env, found))

    async def sync_issues(request: Request) -> Response:
        """Validate a pushed board whole, then store and broadcast it; nothing changes on any error."""
        if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
            return error(415, "send the body as JSON with Content-Type: application/json")
        try:
            body = await read_body(request, max_body_bytes)
        except BodyTooLarge as exc:
            return answer(exc)
        try:
            data = parse_json(body)
        except InvalidJson as exc:
            return answer(exc)
        try:
            payload = SyncIssuesRequest.model_validate(data)
        except ValidationError as exc:
            return error(422, "the body does not have the expected shape", fields=_field_errors(exc))
        try:
            board = await push_issues(dashboard, payload.repository, payload.issues, state=payload.state, source="api")
        except StoreError as exc:
            return answer(exc, "the board")
        return JSONResponse(
            {
                "repository": board.repository,
                "issue_count": len(board.issues),
                "last_updated": entry_payload(board)["last_updated"],
                "revision": board.revision,
            }
        )

    async def healthz(request: Request) -> Response:
        """200 while everything works; 503 with the problem while the store does not (pages still load)."""
        problem = dashboard.health()
        body = {
            "status": "ok" if problem is None else "degraded",
            "store": dashboard.store_name,
            "entries": len(await dashboard.entries()),
            "revision": dashboard.revision,
            "subscribers": announcer.subscribers,
        }
        if problem is not None:
            body["problem"] = problem
        return JSONResponse(body, status_code=200 if problem is None else 503)

    return [
        Route("/api/dashboard/issues", get_issues, methods=["GET"]),
        Route("/api/dashboard/item", get_item, methods=["GET"]),
        Route("/api/dashboard/sync-issues", sync_issues, methods=["POST"]),
        Route("/healthz", healthz, methods=["GET"]),
    ]
