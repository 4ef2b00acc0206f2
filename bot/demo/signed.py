"""Requests shaped and signed as Slack sends them, posted to the bot's `POST /slack/events`.

Shapes follow Slack's docs: slash commands are form-encoded
(https://api.slack.com/interactivity/slash-commands#app_command_handling), interactions
are a form field `payload` holding JSON
(https://api.slack.com/reference/interaction-payloads/block-actions,
https://api.slack.com/reference/interaction-payloads/views), events a JSON envelope
(https://api.slack.com/apis/events-api#callback-field); the signature is
`v0=` + HMAC-SHA256(secret, `v0:{timestamp}:{body}`)
(https://api.slack.com/authentication/verifying-requests-from-slack).
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.error import HTTPError
from urllib.parse import urlencode
from urllib.request import Request, urlopen

APP_ID = "A0DEMO0001"


def sign(secret: str, timestamp: int, body: bytes) -> str:
    base = b"v0:" + str(timestamp).encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


@dataclass
class Answer:
    """The bot's HTTP answer to one request (the ack)."""

    status: int
    body: dict[str, Any]


class SlackRequests:
    """Builds and sends what Slack would send for a person's command, click or submit.

    Every trigger_id and response_url it hands out is remembered with who it was for, so the
    page can show the modal or private answer that comes back to the right person."""

    def __init__(self, *, events_url: str, signing_secret: str, workspace_id: str, response_url_base: str) -> None:
        self.events_url = events_url
        self.secret = signing_secret
        self.workspace_id = workspace_id
        self.response_url_base = response_url_base
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self.triggers: dict[str, str] = {}  # trigger_id -> user id
        self.response_urls: dict[str, dict[str, Any]] = {}  # key -> {user, channel, source}

    # ----- ids --------------------------------------------------------------------
    def _next(self) -> int:
        with self._lock:
            return next(self._ids)

    def trigger_for(self, user: str) -> str:
        trigger = f"{self._next()}.{int(time.time())}.demo"
        with self._lock:
            self.triggers[trigger] = user
        return trigger

    def response_url_for(self, user: str, channel: str, source: str | None) -> str:
        key = f"demo{self._next()}"
        with self._lock:
            self.response_urls[key] = {"user": user, "channel": channel, "source": source}
        return self.response_url_base + key

    # ----- sending ----------------------------------------------------------------
    def post(self, body: bytes, content_type: str, *, secret: str | None = None) -> Answer:
        timestamp = int(time.time())
        headers = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": str(timestamp),
            "X-Slack-Signature": sign(secret or self.secret, timestamp, body),
        }
        request = Request(self.events_url, data=body, headers=headers, method="POST")  # noqa: S310 - our own 127.0.0.1 URL
        try:
            with urlopen(request, timeout=30) as response:  # noqa: S310 - our own 127.0.0.1 URL
                status, raw = response.status, response.read()
        except HTTPError as exc:
            status, raw = exc.code, exc.read()
        try:
            parsed = json.loads(raw) if raw else {}
        except ValueError:
            parsed = {"text": raw.decode("utf-8", "replace")}
        return Answer(status, parsed if isinstance(parsed, dict) else {})

    def _user(self, user: str, name: str) -> dict[str, Any]:
        return {"id": user, "username": name, "name": name, "team_id": self.workspace_id}

    def command(self, *, user: str, user_name: str, channel: str, channel_name: str, command: str, text: str) -> Answer:
        form = {
            "token": "demo-verification-token",
            "team_id": self.workspace_id,
            "team_domain": "demo",
            "channel_id": channel,
            "channel_name": channel_name,
            "user_id": user,
            "user_name": user_name,
            "command": command,
            "text": text,
            "api_app_id": APP_ID,
            "is_enterprise_install": "false",
            "response_url": self.response_url_for(user, channel, None),
            "trigger_id": self.trigger_for(user),
        }
        return self.post(urlencode(form).encode(), "application/x-www-form-urlencoded")

    def interaction(self, payload: dict[str, Any]) -> Answer:
        body = urlencode({"payload": json.dumps(payload)}).encode()
        return self.post(body, "application/x-www-form-urlencoded")

    def block_action(
        self,
        *,
        user: str,
        user_name: str,
        action: dict[str, Any],
        channel: str | None = None,
        message: dict[str, Any] | None = None,
        ephemeral: bool = False,
        view: dict[str, Any] | None = None,
        source: str | None = None,
    ) -> Answer:
        payload: dict[str, Any] = {
            "type": "block_actions",
            "team": {"id": self.workspace_id, "domain": "demo"},
            "user": self._user(user, user_name),
            "api_app_id": APP_ID,
            "token": "demo-verification-token",
            "trigger_id": self.trigger_for(user),
            "actions": [{**action, "action_ts": f"{time.time():.6f}"}],
        }
        if view is not None:
            payload["container"] = {"type": "view", "view_id": view.get("id")}
            payload["view"] = view
        elif channel and message is not None:
            payload["container"] = {
                "type": "message",
                "message_ts": message.get("ts"),
                "channel_id": channel,
                "is_ephemeral": ephemeral,
            }
            payload["channel"] = {"id": channel, "name": channel}
            payload["message"] = message
            payload["response_url"] = self.response_url_for(user, channel, source)
        return self.interaction(payload)

    def view_submission(self, *, user: str, user_name: str, view: dict[str, Any]) -> Answer:
        payload = {
            "type": "view_submission",
            "team": {"id": self.workspace_id, "domain": "demo"},
            "user": self._user(user, user_name),
            "api_app_id": APP_ID,
            "token": "demo-verification-token",
            "trigger_id": self.trigger_for(user),
            "view": view,
            "response_urls": [],
        }
        return self.interaction(payload)

    def message_shortcut(self, *, user: str, user_name: str, callback_id: str, channel: str, message: dict[str, Any]) -> Answer:
        payload = {
            "type": "message_action",
            "callback_id": callback_id,
            "team": {"id": self.workspace_id, "domain": "demo"},
            "user": self._user(user, user_name),
            "channel": {"id": channel, "name": channel},
            "message": message,
            "message_ts": message.get("ts"),
            "response_url": self.response_url_for(user, channel, None),
            "trigger_id": self.trigger_for(user),
            "token": "demo-verification-token",
        }
        return self.interaction(payload)

    def event(self, event: dict[str, Any]) -> Answer:
        envelope = {
            "token": "demo-verification-token",
            "team_id": self.workspace_id,
            "api_app_id": APP_ID,
            "event": event,
            "type": "event_callback",
            "event_id": f"Ev{self._next():010d}DEMO",
            "event_time": int(time.time()),
        }
        return self.post(json.dumps(envelope).encode(), "application/json")
