"""Building Bolt's request from Flask's, with the body parsed the way Slack sends it.

slack_bolt (1.30, `slack_bolt/request/internals.py` `parse_body`) treats a form body as
interactivity as soon as the *substring* "payload" occurs anywhere in it; when the form has
no `payload=` field it returns {} and Bolt answers 404 (Slack shows `dispatch_failed`). So
`/escalate urgent API payload rejected` - or a user named "payload" - never reached a
listener. Slack's contract (https://api.slack.com/interactivity/handling#payloads,
https://api.slack.com/interactivity/slash-commands#app_command_handling): interactivity is a
form with one `payload` field holding JSON; a slash command is a flat form; the Events API
is JSON. We parse by that contract and fix Bolt's body and context when its guess differs.

Signature verification is untouched: Bolt still checks the HMAC over `raw_body`, the exact
bytes Slack signed. Socket Mode hands Bolt a dict, never a string, so it never had this bug.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

from flask import Request, Response, make_response
from slack_bolt import App, BoltContext
from slack_bolt.adapter.flask.handler import to_flask_response
from slack_bolt.request import BoltRequest
from slack_bolt.request.internals import build_context


def parse_slack_body(raw_body: str, content_type: str | None) -> dict[str, Any]:
    """The body of an HTTP request from Slack: JSON (Events API), a form with a `payload`
    field (interactivity: actions, views, shortcuts) or a flat form (slash commands)."""
    if not raw_body:
        return {}
    if content_type == "application/json" or raw_body.startswith("{"):
        return json.loads(raw_body)
    form = dict(parse_qsl(raw_body, keep_blank_values=True))
    payload = form.get("payload")
    if payload is not None:
        return json.loads(payload)
    return form


class SlackRequest(BoltRequest):
    """A BoltRequest whose body (and the context Bolt derives from it: team, user, channel,
    response_url) comes from `parse_slack_body`. Copies (lazy listeners) stay corrected."""

    def __init__(self, *, body: str | dict[str, Any], query: Any = None, headers: Any = None, context: dict[str, Any] | None = None, mode: str = "http") -> None:
        super().__init__(body=body, query=query, headers=headers, context=context, mode=mode)
        if mode != "http" or not isinstance(body, str) or "payload" not in self.raw_body:
            return  # Bolt's guess goes wrong only where the body mentions "payload"
        parsed = parse_slack_body(self.raw_body, self.content_type)
        if parsed != self.body:
            self.body = parsed
            self.context = build_context(BoltContext(dict(context) if context else {}), parsed)

    def to_copyable(self) -> SlackRequest:
        return SlackRequest(
            body=self.raw_body if self.mode == "http" else self.body,
            query=self.query,
            headers=self.headers,
            context=self.context.to_copyable(),
            mode=self.mode,
        )


class SlackRequestHandler:
    """slack_bolt.adapter.flask.SlackRequestHandler for `POST /slack/events`, building
    a SlackRequest instead of Bolt's own."""

    def __init__(self, app: App) -> None:
        self.app = app

    def handle(self, req: Request) -> Response:
        if req.method != "POST":
            return make_response("Not Found", 404)
        bolt_request = SlackRequest(
            body=req.get_data(as_text=True),
            query=req.query_string.decode("utf-8"),
            headers=req.headers,  # type: ignore[arg-type]
        )
        return to_flask_response(self.app.dispatch(bolt_request))
