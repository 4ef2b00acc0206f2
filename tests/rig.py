"""The integration rig: the real Bolt app on a real HTTP server (waitress, a free port),
requests signed exactly as Slack signs them, a real SQLite file (or PostgreSQL when
SUPPORTBOT_TEST_DATABASE_URL is set), and the Slack stand-in as the Web API."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

import requests

from supportbot.bot import teams
from supportbot.bot.app import HttpServer, build_app, build_web
from supportbot.bot.clock import FixedClock
from supportbot.bot.config import Settings
from supportbot.bot.runtime import Runtime, build_runtime
from supportbot.bot.standin.slack import BOT_TOKEN, WORKSPACE, SlackStandIn
from supportbot.storage.models import Team

SIGNING_SECRET = "0123456789abcdef0123456789abcdef"  # a real one is 32 letters and digits


class TrackingExecutor(ThreadPoolExecutor):
    """Bolt's listener pool, remembering what it ran so tests can wait for it."""

    def __init__(self) -> None:
        super().__init__(max_workers=16)
        self._futures: list[Future[Any]] = []
        self._lock = threading.Lock()

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future[Any]:
        future = super().submit(fn, *args, **kwargs)
        with self._lock:
            self._futures.append(future)
        return future

    def settle(self, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                pending = [f for f in self._futures if not f.done()]
                self._futures = pending
            if not pending:
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"{len(pending)} listeners still running")
            time.sleep(0.01)


def sign(body: bytes, timestamp: int, secret: str = SIGNING_SECRET) -> str:
    base = b"v0:" + str(timestamp).encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


class BotRig:
    def __init__(self, standin: SlackStandIn, database_url: str, clock: FixedClock, **overrides: Any) -> None:
        self.standin = standin
        self.clock = clock
        self.settings = Settings(
            slack_bot_token=BOT_TOKEN,
            slack_signing_secret=SIGNING_SECRET,
            database_url=database_url,
            slack_api_url=standin.url,
            **overrides,
        )
        self.rt: Runtime = build_runtime(self.settings, clock=clock, pace_seconds=0)
        self.executor = TrackingExecutor()
        self.app = build_app(self.rt, listener_executor=self.executor)
        self.web = build_web(self.rt, self.app)
        self.server = HttpServer(self.web, host="127.0.0.1", port=0).start()  # HTTP_THREADS, as served
        self.url = f"http://127.0.0.1:{self.server.port}"
        self.http = requests.Session()
        self._ids = itertools.count(1)

    def close(self) -> None:
        self.executor.settle()
        self.server.stop()
        self.executor.shutdown(wait=True)
        self.rt.engine.dispose()

    # ----- sending what Slack sends -------------------------------------------------
    def post(self, body: bytes, content_type: str, *, headers: dict[str, str] | None = None, timestamp: int | None = None, secret: str = SIGNING_SECRET) -> requests.Response:
        ts = int(time.time()) if timestamp is None else timestamp
        all_headers = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": str(ts),
            "X-Slack-Signature": sign(body, ts, secret),
            **(headers or {}),
        }
        return self.http.post(f"{self.url}/slack/events", data=body, headers=all_headers, timeout=30)

    def command(self, command: str, text: str = "", *, user: str = "U0AGENT01", channel: str = "C0GENERAL", settle: bool = True) -> requests.Response:
        n = next(self._ids)
        form = {
            "token": "legacy-verification-token",
            "team_id": WORKSPACE,
            "team_domain": "test",
            "channel_id": channel,
            "channel_name": "general",
            "user_id": user,
            "user_name": user.lower(),
            "command": command,
            "text": text,
            "api_app_id": "A0APP0001",
            "is_enterprise_install": "false",
            "response_url": f"{self.standin.response_url_base}cmd{n}",
            "trigger_id": f"trigger-{n}",
        }
        response = self.post(urlencode(form).encode(), "application/x-www-form-urlencoded")
        if settle:
            self.settle()
        return response

    def interactive(self, payload: dict[str, Any], *, settle: bool = True) -> requests.Response:
        body = urlencode({"payload": json.dumps(payload)}).encode()
        response = self.post(body, "application/x-www-form-urlencoded")
        if settle:
            self.settle()
        return response

    def click(self, action_id: str, value: str | dict[str, Any] = "", *, user: str = "U0LEAD01", channel: str | None = "C0ESCAL01", message: dict[str, Any] | None = None, container: dict[str, Any] | None = None, settle: bool = True) -> requests.Response:
        n = next(self._ids)
        if isinstance(value, dict):
            value = json.dumps(value)
        payload: dict[str, Any] = {
            "type": "block_actions",
            "team": {"id": WORKSPACE, "domain": "test"},
            "user": {"id": user, "username": user.lower(), "team_id": WORKSPACE},
            "api_app_id": "A0APP0001",
            "trigger_id": f"trigger-a{n}",
            "actions": [{"type": "button", "action_id": action_id, "block_id": "b", "value": value, "action_ts": f"{time.time():.6f}"}],
        }
        if channel:
            payload["channel"] = {"id": channel, "name": "channel"}
            payload["response_url"] = f"{self.standin.response_url_base}act{n}"
            payload["container"] = container or {"type": "message", "channel_id": channel, "message_ts": (message or {}).get("ts", "1.1"), "is_ephemeral": False}
            payload["message"] = message or {"ts": "1.1", "text": ""}
        elif container:
            payload["container"] = container
        return self.interactive(payload, settle=settle)

    def submit(self, callback_id: str, values: dict[str, Any], *, user: str = "U0AGENT01", private_metadata: str | dict[str, Any] = "", settle: bool = True) -> requests.Response:
        """A view_submission; `values` is {block_id: value}: str for text inputs, or a full
        state dict ({"type": "static_select", "selected_option": {...}}) for others."""
        state = {}
        for block_id, value in values.items():
            if isinstance(value, dict) and "type" in value:
                state[block_id] = {"value": value}
            else:
                state[block_id] = {"value": {"type": "plain_text_input", "value": value}}
        if isinstance(private_metadata, dict):
            private_metadata = json.dumps(private_metadata)
        payload = {
            "type": "view_submission",
            "team": {"id": WORKSPACE, "domain": "test"},
            "user": {"id": user, "username": user.lower(), "team_id": WORKSPACE},
            "api_app_id": "A0APP0001",
            "trigger_id": f"trigger-v{next(self._ids)}",
            "view": {
                "id": "V0VIEW001",
                "type": "modal",
                "callback_id": callback_id,
                "private_metadata": private_metadata,
                "state": {"values": state},
                "hash": "h",
            },
        }
        return self.interactive(payload, settle=settle)

    def event(self, event: dict[str, Any], *, event_id: str | None = None, retry_num: int | None = None, settle: bool = True) -> requests.Response:
        envelope = {
            "token": "legacy",
            "team_id": WORKSPACE,
            "api_app_id": "A0APP0001",
            "event": event,
            "type": "event_callback",
            "event_id": event_id or f"Ev{next(self._ids):08d}",
            "event_time": int(time.time()),
        }
        headers = {}
        if retry_num is not None:
            headers = {"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": "http_timeout"}
        response = self.post(json.dumps(envelope).encode(), "application/json", headers=headers)
        if settle:
            self.settle()
        return response

    # ----- waiting and state -----------------------------------------------------
    def settle(self) -> None:
        """Wait until every listener (including the work after its ack) has finished."""
        self.executor.settle()

    def deliver(self) -> None:
        """Run the outbox now (what the scheduler's drain job does every few seconds)."""
        self.rt.outbox.drain()

    def ephemeral_texts(self) -> list[str]:
        """Texts of private answers sent through response_url."""
        return [r.get("text", "") for r in self.standin.responses]

    def make_team(self, name: str = "Tier1", *, leaders: tuple[str, ...] = ("U0LEAD01", "U0LEAD02"), members: tuple[str, ...] = ("U0AGENT01", "U0AGENT02"), escalation_channel: str = "C0ESCAL01", digest_channel: str | None = "C0DIGEST1", timezone: str = "UTC", language: str = "en", settings: dict[str, Any] | None = None, now: datetime | None = None) -> Team:
        with self.rt.transaction() as session:
            team = teams.create_team(
                session,
                workspace_id=WORKSPACE,
                name=name,
                leaders=list(leaders),
                members=list(members),
                escalation_channel=escalation_channel,
                digest_channel=digest_channel,
                timezone=timezone,
                language=language,
                now=now or self.clock.now(),
            )
            if settings:
                team.settings = dict(settings)
                session.add(team)
        # Made outside a listener, as `supportbot team add` does from another process: this
        # runtime would see the new language within its cache's TTL; tests need it at once.
        self.rt.languages.clear()
        return team
