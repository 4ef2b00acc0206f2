"""`POST /api/tickets`: helpdesk webhooks push tickets (JSON, one or a list).

`Authorization: Bearer <INGEST_TOKEN>` (compared in constant time); 401 without it,
400 for a body that is not JSON, 413 past the size limit, 422 with per-field errors
(nothing is stored then), 200 with counts otherwise. Upserts by ticket id: a retried
webhook changes nothing.
"""

from __future__ import annotations

import hmac
import json
import logging
from typing import Any

from flask import Flask, Response, request
from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.exc import DBAPIError, OperationalError

from supportbot.bot import ingest
from supportbot.bot.runtime import Runtime
from supportbot.storage import teams as team_store

log = logging.getLogger(__name__)

MAX_BODY = 1024 * 1024
MAX_TICKETS = 1000


def _json(status: int, body: dict[str, Any]) -> Response:
    return Response(json.dumps(body), status, mimetype="application/json")


def authorized(header: str, token: str | None) -> bool:
    if not token:
        return False
    scheme, _, given = (header or "").partition(" ")
    if scheme.lower() != "bearer" or not given:
        return False
    return hmac.compare_digest(given.strip().encode(), token.encode())


def email_resolver(client: WebClient) -> Any:
    """email -> Slack user id via users.lookupByEmail, remembered per request."""
    cache: dict[str, str | None] = {}

    def resolve(email: str) -> str | None:
        if email not in cache:
            try:
                cache[email] = str(client.users_lookupByEmail(email=email)["user"]["id"])
            except (SlackApiError, OSError, KeyError):
                cache[email] = None
        return cache[email]

    return resolve


def register_web(web: Flask, rt: Runtime) -> None:
    client = WebClient(token=rt.settings.slack_bot_token, base_url=rt.settings.slack_api_url, timeout=10)

    @web.post("/api/tickets")
    def api_tickets() -> Response:
        if not authorized(request.headers.get("Authorization", ""), rt.settings.ingest_token):
            return _json(401, {"ok": False, "error": "unauthorized"})
        if (request.content_length or 0) > MAX_BODY:
            return _json(413, {"ok": False, "error": f"body larger than {MAX_BODY} bytes"})
        raw = request.get_data(cache=False)
        if len(raw) > MAX_BODY:
            return _json(413, {"ok": False, "error": f"body larger than {MAX_BODY} bytes"})
        try:
            payload = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return _json(400, {"ok": False, "error": "body must be JSON: a ticket object or a list"})
        if not isinstance(payload, (dict, list)):
            return _json(400, {"ok": False, "error": "body must be a ticket object or a list"})
        workspace = request.args.get("workspace")
        try:
            with rt.transaction() as session:
                if not workspace:
                    known = team_store.list_workspaces(session=session)
                    if len(known) != 1:
                        return _json(400, {"ok": False, "error": "pass ?workspace=T… (several or no workspaces have teams)"})
                    workspace = known[0]
                result, problems = ingest.import_json(
                    session,
                    workspace_id=workspace,
                    payload=payload,
                    now=rt.clock.now(),
                    resolve_email=email_resolver(client),
                    max_items=MAX_TICKETS,
                )
        except (OperationalError, DBAPIError):
            log.error("ticket ingest: database unavailable")
            return _json(503, {"ok": False, "error": "database unavailable, retry later"})
        if problems:
            return _json(422, {"ok": False, "error": "invalid tickets", "problems": problems})
        return _json(
            200,
            {"ok": True, "inserted": result.inserted, "updated": result.updated, "unchanged": result.unchanged},
        )


def register(app: App, rt: Runtime) -> None:
    """No Slack listeners: tickets arrive over plain HTTP (register_web)."""
