"""``POST /webhooks/github``: GitHub tells the dashboard about issues and pull requests as they change.

The signature (``X-Hub-Signature-256``, an HMAC-SHA256 of the raw body with
``ISSUEBRIDGE_WEBHOOK_SECRET``) is this route's authentication, so the bearer token is not asked
for (``web/auth.py``). Nothing is parsed before the signature checks out, and without a secret
configured every delivery is refused: an unsigned webhook is never accepted. Only the body is
signed, not the headers, so ``github/webhook_events.py`` reads a body as the event
``X-GitHub-Event`` names only if its shape agrees, and it is applied only if it is not older than
what the board knows.

Each delivery (``X-GitHub-Delivery``) is applied once (``dashboard/webhook_deliveries.py``), and a
redelivery of one already applied is answered as a duplicate.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from issuebridge.dashboard.webhook_deliveries import WebhookDeliveries
from issuebridge.github.webhook_events import APPLIED_EVENTS, BadPayload, NotShown, read_event
from issuebridge.records.base import Entry
from issuebridge.records.registry import kind_named
from issuebridge.store import StoreError
from issuebridge.web.bodies import BodyTooLarge, InvalidJson, parse_json, read_body
from issuebridge.web.errors import answer, error

logger = logging.getLogger(__name__)

WEBHOOK_PATH = "/webhooks/github"
_DELIVERY_ID = re.compile(r"[A-Za-z0-9-]{1,100}")
_SIGNATURE = re.compile(r"sha256=([0-9a-f]{64})")


def signature_matches(secret: str, body: bytes, header: str) -> bool:
    """Whether ``header`` is ``sha256=`` and the HMAC-SHA256 of ``body`` under ``secret``, in hex.

    Compared in constant time; anything malformed simply does not match.
    """
    found = _SIGNATURE.fullmatch(header.strip().lower())
    if found is None:
        return False
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(found[1], expected)


def webhook_routes(deliveries: WebhookDeliveries, secret: str | None, max_body_bytes: int) -> list[Route]:
    async def receive(request: Request) -> Response:
        if secret is None:
            return error(404, "webhooks are off: set ISSUEBRIDGE_WEBHOOK_SECRET and use it as the webhook's secret")
        try:
            body = await read_body(request, max_body_bytes)
        except BodyTooLarge as exc:
            return answer(exc)
        if not signature_matches(secret, body, request.headers.get("x-hub-signature-256", "")):
            logger.warning("Refused a webhook delivery: its X-Hub-Signature-256 is missing or wrong")
            return error(
                401,
                "the X-Hub-Signature-256 signature is missing or does not match: "
                "set the webhook's secret to ISSUEBRIDGE_WEBHOOK_SECRET",
            )
        event = request.headers.get("x-github-event", "")
        if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
            return error(415, "set the webhook's content type to application/json")
        try:
            payload = parse_json(body)
        except InvalidJson as exc:
            return answer(exc)
        if event == "ping":
            return JSONResponse(
                {"pong": True, "hook_id": payload.get("hook_id") if isinstance(payload, dict) else None}
            )
        if event not in APPLIED_EVENTS:
            return JSONResponse(
                {"ignored": True, "event": event, "message": f"issuebridge applies {', '.join(APPLIED_EVENTS)} events"},
                status_code=202,
            )
        try:
            change = read_event(event, payload)
        except BadPayload as exc:
            return error(exc.status, f"the {event} payload does not have the expected shape: {exc}")
        if isinstance(change, NotShown):
            return _answer(202, event, change.action, change.repository, None, False, f"ignored: {change.reason}")
        delivery = request.headers.get("x-github-delivery", "").strip()
        if not _DELIVERY_ID.fullmatch(delivery):
            return error(400, "the X-GitHub-Delivery header is missing or malformed")

        try:
            if await deliveries.applied_before(delivery):
                logger.info("Webhook delivery %s was applied before; ignoring the redelivery", delivery)
                return JSONResponse({"duplicate": True, "delivery": delivery, "message": "already applied"})
        except StoreError as exc:
            return answer(exc, "the event", then="GitHub may redeliver it later")
        try:
            applied = await deliveries.apply(delivery, change)
        except StoreError as exc:
            return answer(exc, "the event", then="redeliver it from GitHub to try again")
        except Exception:
            logger.exception("Webhook delivery %s could not be applied", delivery)
            return error(500, "the event could not be applied; redeliver it from GitHub to try again")
        views = list(applied.views)
        if applied.after is None and views:  # no board of that kind, but search views show the item
            message = f"the row of #{change.number} was updated on {len(views)} search view(s)"
            return _answer(200, event, change.action, change.repository, None, True, message, views=views)
        if applied.after is None:  # no board of that kind to change
            message = f"no {kind_named(change.kind).title} on the dashboard shows {change.repository}; nothing changed"
            return _answer(202, event, change.action, change.repository, None, False, message)
        done = applied.after
        logger.info("Webhook %s %s.%s on %s: %s", delivery, event, change.action, change.key, done.message)
        return _answer(
            200, event, change.action, change.repository, change.key, done.shown, done.message, applied.stored, views
        )

    return [Route(WEBHOOK_PATH, receive, methods=["POST"])]


def _answer(
    status: int,
    event: str,
    action: str,
    repository: str,
    board_id: str | None,
    changed: bool,
    message: str,
    stored: Entry | None = None,
    views: list[str] | None = None,
) -> JSONResponse:
    body: dict[str, object] = {
        "event": event,
        "action": action,
        "repository": repository,
        "board_id": board_id,
        "changed": changed,
        "message": message,
    }
    if stored is not None:
        body["revision"] = stored.revision
    if views:
        body["views"] = views  # search views whose row of the item changed
    return JSONResponse(body, status_code=status)
