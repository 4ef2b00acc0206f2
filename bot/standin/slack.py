"""A local stand-in for Slack's Web API: records every call and rejects what Slack rejects
(wrong token, missing channel/text, blocks over Block Kit limits, modals without a fresh
trigger_id, unknown messages). Faults (429, 5xx, errors) can be injected per method."""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Callable
from typing import Any

from flask import Flask, Response, request
from werkzeug.serving import make_server

from supportbot.bot.manifest import BOT_SCOPES
from supportbot.bot.standin.slack_blocks import block_problems, view_problems
from supportbot.bot.standin.slack_methods import SlackMethods
from supportbot.bot.standin.slack_rates import RateLimits
from supportbot.bot.standin.slack_state import (
    BOT_TOKEN,
    BOT_USER,
    PING,
    WORKSPACE,
    Call,
    Fault,
    Message,
)

__all__ = [
    "BOT_TOKEN", "BOT_USER", "PING", "WORKSPACE", "Call", "Fault", "Message", "RateLimits",
    "SlackStandIn", "block_problems", "view_problems",
]

class SlackStandIn(SlackMethods):
    """Start with `.start()`; `.url` is the base URL to give the bot as SLACK_API_URL."""

    def __init__(self, token: str = BOT_TOKEN) -> None:
        self.token = token
        self.lock = threading.RLock()
        self.calls: list[Call] = []
        self.responses: list[dict[str, Any]] = []
        self.messages: dict[tuple[str, str], Message] = {}
        self.faults: dict[str, list[Fault]] = {}
        self.users: dict[str, dict[str, Any]] = {}
        self.uploads: dict[str, bytes] = {}
        self.files: dict[str, dict[str, Any]] = {}
        self.triggers_used: set[str] = set()
        self.views: dict[str, dict[str, Any]] = {}
        self.home: dict[str, dict[str, Any]] = {}
        # What `supportbot doctor` reads: the scopes granted to the token (sent back in the
        # x-oauth-scopes header), the workspace's channels, and a revoked token.
        self.scopes: list[str] = list(BOT_SCOPES)
        self.channels: dict[str, dict[str, Any]] = {}
        self.auth_error: str | None = None
        # Called as observer(method, args, response) after each call and each response_url
        # post (method "response_url", args holding "key"); `supportbot demo` draws from them.
        self.observers: list[Callable[[str, dict[str, Any], dict[str, Any]], None]] = []
        self.rate_limits: RateLimits | None = None  # off unless a test turns it on
        self._ts = itertools.count(1)
        self.app = self._build()
        self._server: Any = None
        self.url = ""

    # ----- lifecycle -------------------------------------------------------------
    def start(self, port: int = 0) -> SlackStandIn:
        self._server = make_server("127.0.0.1", port, self.app, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}/api/"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()

    def reset(self) -> None:
        with self.lock:
            self.calls.clear()
            self.responses.clear()
            self.messages.clear()
            self.faults.clear()
            self.users.clear()
            self.uploads.clear()
            self.files.clear()
            self.triggers_used.clear()
            self.views.clear()
            self.home.clear()
            self.scopes = list(BOT_SCOPES)
            self.channels.clear()
            self.auth_error = None
            self.rate_limits = None

    @property
    def response_url_base(self) -> str:
        return self.url.replace("/api/", "/response/")

    # ----- test helpers ----------------------------------------------------------
    def fail(
        self,
        method: str,
        error: str | None = "internal_error",
        *,
        status: int = 200,
        retry_after: int | None = None,
        times: int = 1,
        delay: float = 0.0,
    ) -> None:
        """Make the next `times` calls of `method` fail (status 429/5xx or ok:false)."""
        with self.lock:
            self.faults.setdefault(method, []).append(
                Fault(error, status, retry_after, times, delay)
            )

    def slow(self, method: str, seconds: float, *, times: int = 1) -> None:
        """Make the next `times` calls of `method` take `seconds`, then work as usual."""
        with self.lock:
            self.faults.setdefault(method, []).append(Fault(None, 200, None, times, seconds, True))

    def limit_rates(self, clock: Any = None, *, scale: float = 1.0) -> RateLimits:
        """Enforce Slack's published rate limits from now on (until `reset`)."""
        with self.lock:
            self.rate_limits = RateLimits(clock, scale=scale)
            return self.rate_limits

    def add_user(self, user_id: str, *, tz: str = "UTC", email: str | None = None, locale: str = "en-US", name: str | None = None, deleted: bool = False) -> None:
        with self.lock:
            self.users[user_id] = {
                "id": user_id,
                "team_id": WORKSPACE,
                "deleted": deleted,
                "name": name or user_id.lower(),
                "tz": tz,
                "locale": locale,
                "profile": {"email": email or f"{user_id.lower()}@example.com", "real_name": name or user_id},
            }

    def add_channel(
        self, channel_id: str, name: str, *, private: bool = False, member: bool = True, archived: bool = False
    ) -> None:
        with self.lock:
            self.channels[channel_id] = {
                "id": channel_id, "name": name, "is_channel": True, "is_private": private,
                "is_member": member, "is_archived": archived,
            }

    def revoke(self, error: str = "token_revoked") -> None:
        """From now on every call with the bot token answers `error` (token_revoked,
        invalid_auth, account_inactive), as Slack does once an app is uninstalled."""
        with self.lock:
            self.auth_error = error

    def ok_calls(self, method: str | None = None) -> list[Call]:
        with self.lock:
            return [c for c in self.calls if c.ok and (method is None or c.method == method)]

    def rejected(self) -> list[Call]:
        with self.lock:
            return [c for c in self.calls if not c.ok]

    def posts(self, channel: str | None = None) -> list[Call]:
        """Delivered chat.postMessage calls (to a channel id, or a user id for DMs)."""
        return [
            c
            for c in self.ok_calls("chat.postMessage")
            if channel is None or c.args.get("channel") == channel
        ]

    def dms(self, user_id: str) -> list[Call]:
        return [c for c in self.posts() if c.args.get("channel") in (user_id, "D" + user_id[1:])]

    def wait_for(self, predicate: Any, timeout: float = 5.0) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            result = predicate()
            if result:
                return result
            time.sleep(0.02)
        return predicate()

    def pings(self) -> list[str]:
        """Every broadcast mention in anything sent to Slack (should be none)."""
        found = []
        with self.lock:
            for call in self.calls:
                found += [m.group(0) for m in PING.finditer(call.text_everywhere())]
            for resp in self.responses:
                found += [m.group(0) for m in PING.finditer(json.dumps(resp))]
        return found

    # ----- the fake API ----------------------------------------------------------
    def _build(self) -> Flask:
        app = Flask("slack-standin")

        @app.post("/api/<method>")
        def api(method: str) -> Response:
            args = self._args()
            limits = self.rate_limits
            if limits is not None:
                with self.lock:
                    retry_after = limits.admit(method, args)
                if retry_after is not None:
                    body = {"ok": False, "error": "ratelimited"}
                    self._record(method, args, body)
                    return Response(json.dumps(body), 429, headers={"Retry-After": str(retry_after)}, mimetype="application/json")
            fault = self._take_fault(method)
            if fault is not None and fault.delay:
                time.sleep(fault.delay)
            if fault is not None and not fault.succeed:
                body = {"ok": False, "error": fault.error or "internal_error"}
                headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after else {}
                if limits is not None and fault.status == 429 and fault.retry_after:
                    with self.lock:
                        limits.announce(method, fault.retry_after)
                self._record(method, args, body)
                return Response(json.dumps(body), fault.status, headers=headers, mimetype="application/json")
            auth = request.headers.get("Authorization", "")
            headers = {}
            if auth != f"Bearer {self.token}" and args.get("token") != self.token:
                body = {"ok": False, "error": "invalid_auth" if auth else "not_authed"}
            elif self.auth_error:
                body = {"ok": False, "error": self.auth_error}
            else:
                # Slack names the token's scopes in this header on every call it accepts.
                headers["x-oauth-scopes"] = ",".join(self.scopes)
                handler = getattr(self, "m_" + method.replace(".", "_"), None)
                body = handler(args) if handler else {"ok": False, "error": "unknown_method"}
            self._record(method, args, body)
            return Response(json.dumps(body), 200, headers=headers, mimetype="application/json")

        @app.post("/response/<key>")
        def response_url(key: str) -> Response:
            payload = request.get_json(force=True, silent=True) or {}
            problems = block_problems(payload.get("blocks") or [], max_blocks=50)
            with self.lock:
                self.responses.append({"key": key, **payload, "_problems": problems})
            if not problems:
                self._notify("response_url", {"key": key, **payload}, {"ok": True})
            if problems:
                return Response("invalid_blocks", 400)
            return Response("ok", 200)

        @app.post("/upload/<file_id>")
        def upload(file_id: str) -> Response:
            with self.lock:
                self.uploads[file_id] = request.get_data()
            return Response("OK - " + str(len(self.uploads[file_id])), 200)

        return app

    def _args(self) -> dict[str, Any]:
        if request.is_json:
            return dict(request.get_json(silent=True) or {})
        args: dict[str, Any] = dict(request.form)
        for key in ("blocks", "view", "files", "attachments"):
            if isinstance(args.get(key), str):
                try:
                    args[key] = json.loads(args[key])
                except ValueError:
                    args[key] = "__unparseable__"
        return args

    def _take_fault(self, method: str) -> Fault | None:
        with self.lock:
            queue = self.faults.get(method) or []
            if not queue:
                return None
            fault = queue[0]
            fault.times -= 1
            if fault.times <= 0:
                queue.pop(0)
            return fault

    def _record(self, method: str, args: dict[str, Any], body: dict[str, Any]) -> None:
        with self.lock:
            self.calls.append(Call(method, args, body))
        self._notify(method, args, body)

    def _notify(self, method: str, args: dict[str, Any], body: dict[str, Any]) -> None:
        for observer in list(self.observers):
            observer(method, args, body)

    def _next_ts(self) -> str:
        return f"{1700000000 + next(self._ts)}.{next(self._ts):06d}"

    @staticmethod
    def _dm_channel(channel: str) -> str:
        return "D" + channel[1:] if channel[:1] in ("U", "W") else channel


def main() -> None:
    """`python -m supportbot.bot.standin.slack PORT`: serve the stand-in on its own (for benchmarks)."""
    import logging
    import sys

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    standin = SlackStandIn()
    server = make_server("127.0.0.1", int(sys.argv[1]), standin.app, threaded=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
