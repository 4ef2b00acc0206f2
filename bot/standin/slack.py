"""A local stand-in for Slack's Web API: records every call and rejects what Slack rejects
(wrong token, missing channel/text, blocks over Block Kit limits, modals without a fresh
trigger_id, unknown messages). Faults (429, 5xx, errors) can be injected per method."""

from __future__ import annotations

import base64
import itertools
import json
import math
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, Response, request
from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View
from werkzeug.serving import make_server

from supportbot.bot.manifest import BOT_SCOPES

BOT_TOKEN = "xoxb-test-token"  # noqa: S105 (the stand-in's own made-up token)
WORKSPACE = "T0TEST01"
BOT_USER = "U0BOT0001"
PING = re.compile(r"<!(channel|here|everyone)(\|[^>]*)?>|<!subteam\^[^>]*>")


@dataclass
class Call:
    method: str
    args: dict[str, Any]
    response: dict[str, Any]

    @property
    def ok(self) -> bool:
        return bool(self.response.get("ok"))

    def text_everywhere(self) -> str:
        """All text this call would show, for assertions about pings and wording."""
        return json.dumps(self.args, ensure_ascii=False)


@dataclass
class Fault:
    error: str | None = None
    status: int = 200
    retry_after: int | None = None
    times: int = 1
    delay: float = 0.0
    succeed: bool = False  # a slow call that then works (see `slow`)


def _walk(node: Any, path: str = "") -> Any:
    if isinstance(node, dict):
        yield path, node
        for key, value in node.items():
            yield from _walk(value, f"{path}.{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _walk(value, f"{path}[{i}]")


def _text_of(obj: Any) -> str:
    return obj.get("text", "") if isinstance(obj, dict) else str(obj or "")


def block_problems(blocks: Any, *, max_blocks: int) -> list[str]:
    """What Slack would call `invalid_blocks` in this list (empty when fine)."""
    if not isinstance(blocks, list):
        return ["blocks must be a list"]
    problems: list[str] = []
    if len(blocks) > max_blocks:
        problems.append(f"{len(blocks)} blocks > {max_blocks}")
    for i, raw in enumerate(blocks):
        parsed = Block.parse(raw) if isinstance(raw, dict) else None
        if parsed is None:
            problems.append(f"blocks[{i}] has an unknown type")
            continue
        try:
            parsed.validate_json()
        except SlackObjectFormationError as exc:
            problems.append(f"blocks[{i}]: {exc}")
    for path, node in _walk(blocks):
        for key in ("action_id", "block_id", "callback_id"):
            if key in node and len(str(node[key])) > 255:
                problems.append(f"{path}.{key} longer than 255")
        kind = node.get("type")
        if kind == "button":
            if len(_text_of(node.get("text"))) > 75:
                problems.append(f"{path}: button text over 75")
            if len(str(node.get("value", ""))) > 2000:
                problems.append(f"{path}: button value over 2000")
        if kind == "header" and len(_text_of(node.get("text"))) > 150:
            problems.append(f"{path}: header over 150")
        if kind == "section":
            if "text" not in node and "fields" not in node:
                problems.append(f"{path}: section without text or fields")
            if len(_text_of(node.get("text"))) > 3000:
                problems.append(f"{path}: section text over 3000")
            if len(node.get("fields") or []) > 10:
                problems.append(f"{path}: more than 10 fields")
            for f in node.get("fields") or []:
                if len(_text_of(f)) > 2000:
                    problems.append(f"{path}: field over 2000")
        if kind == "context" and len(node.get("elements") or []) > 10:
            problems.append(f"{path}: context over 10 elements")
        if kind == "actions" and len(node.get("elements") or []) > 25:
            problems.append(f"{path}: actions over 25 elements")
        if kind in ("mrkdwn", "plain_text") and not _text_of(node):
            problems.append(f"{path}: empty text object")
        if "options" in node and isinstance(node["options"], list):
            if len(node["options"]) > 100:
                problems.append(f"{path}: over 100 options")
            for opt in node["options"]:
                if len(_text_of(opt.get("text"))) > 75 or len(str(opt.get("value", ""))) > 150:
                    problems.append(f"{path}: option text/value too long")
    return problems


def view_problems(view: Any) -> list[str]:
    if not isinstance(view, dict):
        return ["view must be an object"]
    problems: list[str] = []
    kind = view.get("type")
    if kind not in ("modal", "home"):
        problems.append("view.type must be modal or home")
    if kind == "modal":
        for key in ("title", "submit", "close"):
            if key in view and len(_text_of(view[key])) > 24:
                problems.append(f"view.{key} over 24")
        if not _text_of(view.get("title")):
            problems.append("modal without title")
        has_input = any(b.get("type") == "input" for b in view.get("blocks") or [])
        if has_input and "submit" not in view:
            problems.append("modal with inputs needs submit")
    if len(str(view.get("private_metadata", ""))) > 3000:
        problems.append("private_metadata over 3000")
    problems += block_problems(view.get("blocks") or [], max_blocks=100)
    try:
        View(**view).validate_json()
    except (SlackObjectFormationError, TypeError) as exc:
        problems.append(f"view: {exc}")
    return problems


@dataclass
class Message:
    channel: str
    ts: str
    args: dict[str, Any]
    updates: list[dict[str, Any]] = field(default_factory=list)
    replies: list[str] = field(default_factory=list)


# ----- rate-limited mode ------------------------------------------------------------------
# Slack's published floors (https://docs.slack.dev/apis/web-api/rate-limits), kept here
# apart from supportbot.bot.ratelimits on purpose: the stand-in is the oracle the bot's
# own table is tested against. (per minute, burst): Slack says tiers allow bursts.
STANDIN_TIERS: dict[int, tuple[float, int]] = {2: (20, 3), 3: (50, 5), 4: (100, 10)}
STANDIN_METHOD_TIERS = {
    "users.list": 2,
    "chat.update": 3,
    "conversations.open": 3,
    "reactions.add": 3,
    "chat.postEphemeral": 4,
    "views.open": 4,
    "views.update": 4,
    "views.push": 4,
    "views.publish": 4,
    "users.info": 4,
    "conversations.members": 4,
    "files.getUploadURLExternal": 4,
    "files.completeUploadExternal": 4,
}
# chat.postMessage: one per second per channel with short bursts, and "several hundred
# per minute" per workspace (the low end, 300, is what a stand-in can promise).
STANDIN_POST_CHANNEL = (60.0, 3)
STANDIN_POST_WORKSPACE = (300.0, 20)


class Bucket:
    """A token bucket: `per_minute` calls a minute, up to `burst` at once."""

    def __init__(self, per_minute: float, burst: int, now: float) -> None:
        self.rate = per_minute / 60.0
        self.burst = burst
        self.tokens = float(burst)
        self.at = now

    def wait(self, now: float) -> float:
        """Seconds until a call is allowed (0 = allowed now; takes nothing)."""
        self.tokens = min(float(self.burst), self.tokens + (now - self.at) * self.rate)
        self.at = max(self.at, now)
        return 0.0 if self.tokens >= 1 - 1e-9 else (1 - self.tokens) / self.rate

    def take(self) -> None:
        self.tokens -= 1


@dataclass
class RateLimitedCall:
    method: str
    at: float
    window_until: float


class RateLimits:
    """What Slack does when calls come too fast: a 429 with Retry-After (whole seconds).
    Also records calls that arrived while a Retry-After it announced was still running
    (`in_window`: a well-behaved client makes none). `clock` gives seconds (a test's
    FixedClock can drive it); `scale` multiplies every limit."""

    def __init__(self, clock: Any = None, *, scale: float = 1.0) -> None:
        self.clock = clock or time.monotonic
        self.scale = scale
        self.buckets: dict[str, Bucket] = {}
        self.windows: dict[str, float] = {}  # method -> end of the Retry-After it announced
        self.in_window: list[RateLimitedCall] = []
        self.limited: list[RateLimitedCall] = []  # every 429 it answered
        self.admitted: dict[str, list[float]] = {}  # method -> times of calls let through

    def limits_of(self, method: str, args: dict[str, Any]) -> list[tuple[str, tuple[float, int]]]:
        if method == "chat.postMessage":
            channel = str(args.get("channel") or "")
            return [(method, STANDIN_POST_WORKSPACE), (f"{method}:{channel}", STANDIN_POST_CHANNEL)]
        tier = STANDIN_METHOD_TIERS.get(method)
        return [(method, STANDIN_TIERS[tier])] if tier else []

    def bucket(self, key: str, limit: tuple[float, int], now: float) -> Bucket:
        if key not in self.buckets:
            self.buckets[key] = Bucket(limit[0] * self.scale, limit[1], now)
        return self.buckets[key]

    def admit(self, method: str, args: dict[str, Any]) -> int | None:
        """None when the call may go, else the Retry-After (seconds) to answer with."""
        now = float(self.clock())
        until = self.windows.get(method, 0.0)
        if now < until:
            self.in_window.append(RateLimitedCall(method, now, until))
            return max(1, math.ceil(until - now))
        buckets = [self.bucket(k, limit, now) for k, limit in self.limits_of(method, args)]
        wait = max((b.wait(now) for b in buckets), default=0.0)
        if wait > 0:
            retry = max(1, math.ceil(wait))
            self.announce(method, retry, now)
            return retry
        for b in buckets:
            b.take()
        self.admitted.setdefault(method, []).append(now)
        return None

    def announce(self, method: str, retry_after: int, now: float | None = None) -> None:
        now = float(self.clock()) if now is None else now
        self.windows[method] = max(self.windows.get(method, 0.0), now + retry_after)
        self.limited.append(RateLimitedCall(method, now, now + retry_after))


class SlackStandIn:
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

    def _check_message(self, args: dict[str, Any]) -> str | None:
        if not args.get("channel"):
            return "channel_not_found"
        if not args.get("text") and not args.get("blocks") and not args.get("attachments"):
            return "no_text"
        if len(str(args.get("text") or "")) > 40000:
            return "msg_too_long"
        if "blocks" in args and block_problems(args["blocks"], max_blocks=50):
            return "invalid_blocks"
        if str(args.get("parse", "")) == "full" or str(args.get("link_names", "")).lower() in ("1", "true"):
            return "invalid_arguments"  # supportbot must never ask Slack to linkify user text
        return None

    # chat.*
    def m_api_test(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True}

    def m_auth_test(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "team_id": WORKSPACE, "user_id": BOT_USER, "bot_id": "B0BOT0001", "team": "Test", "user": "supportbot"}

    def m_chat_postMessage(self, args: dict[str, Any]) -> dict[str, Any]:
        error = self._check_message(args)
        if error:
            return {"ok": False, "error": error}
        channel = self._dm_channel(str(args["channel"]))
        thread = args.get("thread_ts")
        if thread and (channel, thread) not in self.messages:
            return {"ok": False, "error": "thread_not_found"}
        ts = self._next_ts()
        with self.lock:
            self.messages[(channel, ts)] = Message(channel, ts, dict(args))
            if thread:
                self.messages[(channel, thread)].replies.append(ts)
        return {"ok": True, "channel": channel, "ts": ts, "message": {"text": args.get("text"), "ts": ts}}

    def m_chat_update(self, args: dict[str, Any]) -> dict[str, Any]:
        error = self._check_message(args)
        if error:
            return {"ok": False, "error": error}
        key = (self._dm_channel(str(args["channel"])), str(args.get("ts")))
        with self.lock:
            message = self.messages.get(key)
            if message is None:
                return {"ok": False, "error": "message_not_found"}
            message.updates.append(dict(args))
        return {"ok": True, "channel": key[0], "ts": key[1]}

    def m_chat_postEphemeral(self, args: dict[str, Any]) -> dict[str, Any]:
        if not args.get("user"):
            return {"ok": False, "error": "user_not_found"}
        error = self._check_message(args)
        if error:
            return {"ok": False, "error": error}
        return {"ok": True, "message_ts": self._next_ts()}

    def m_chat_getPermalink(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "permalink": f"https://test.slack.com/archives/{args.get('channel')}/p{str(args.get('message_ts')).replace('.', '')}"}

    def m_reactions_add(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True}

    def m_conversations_open(self, args: dict[str, Any]) -> dict[str, Any]:
        users = str(args.get("users") or "")
        if not users:
            return {"ok": False, "error": "users_list_not_supplied"}
        return {"ok": True, "channel": {"id": self._dm_channel(users.split(",")[0])}}

    # views.*
    def _open_view(self, args: dict[str, Any]) -> dict[str, Any]:
        trigger = args.get("trigger_id")
        if not trigger:
            return {"ok": False, "error": "invalid_trigger_id"}
        with self.lock:
            if trigger in self.triggers_used:
                return {"ok": False, "error": "expired_trigger_id"}
            self.triggers_used.add(trigger)
        view = args.get("view")
        if view_problems(view):
            return {"ok": False, "error": "invalid_arguments", "response_metadata": {"messages": view_problems(view)}}
        view_id = f"V{next(self._ts):08d}"
        with self.lock:
            self.views[view_id] = view
        return {"ok": True, "view": {**view, "id": view_id}}

    def m_views_open(self, args: dict[str, Any]) -> dict[str, Any]:
        return self._open_view(args)

    def m_views_push(self, args: dict[str, Any]) -> dict[str, Any]:
        return self._open_view(args)

    def m_views_update(self, args: dict[str, Any]) -> dict[str, Any]:
        view_id = args.get("view_id")
        if not view_id or view_id not in self.views:
            return {"ok": False, "error": "not_found"}
        if view_problems(args.get("view")):
            return {"ok": False, "error": "invalid_arguments"}
        self.views[view_id] = args["view"]
        return {"ok": True, "view": {**args["view"], "id": view_id}}

    def m_views_publish(self, args: dict[str, Any]) -> dict[str, Any]:
        if not args.get("user_id"):
            return {"ok": False, "error": "invalid_arguments"}
        view = args.get("view") or {}
        if view.get("type") != "home" or view_problems(view):
            return {"ok": False, "error": "invalid_arguments"}
        self.home[str(args["user_id"])] = view
        return {"ok": True, "view": view}

    # users.*
    def m_users_info(self, args: dict[str, Any]) -> dict[str, Any]:
        user = self.users.get(str(args.get("user")))
        if user is None:
            return {"ok": False, "error": "user_not_found"}
        return {"ok": True, "user": user}

    def m_users_list(self, args: dict[str, Any]) -> dict[str, Any]:
        """Cursor pagination as Slack does it: `limit` per page, `next_cursor` ("" at the end)."""
        try:
            limit = int(args.get("limit") or 100)
            cursor = str(args.get("cursor") or "")
            start = int(base64.b64decode(cursor).decode().split(":", 1)[1]) if cursor else 0
        except (ValueError, IndexError):
            return {"ok": False, "error": "invalid_cursor"}
        if not 1 <= limit <= 1000:
            return {"ok": False, "error": "invalid_limit"}
        with self.lock:
            ids = sorted(self.users)
            page = [{"deleted": False, "is_bot": False, **self.users[u]} for u in ids[start : start + limit]]
        more = start + limit < len(ids)
        next_cursor = base64.b64encode(f"user:{start + limit}".encode()).decode() if more else ""
        return {"ok": True, "members": page, "response_metadata": {"next_cursor": next_cursor}}

    def m_users_lookupByEmail(self, args: dict[str, Any]) -> dict[str, Any]:
        for user in self.users.values():
            if user["profile"]["email"].lower() == str(args.get("email", "")).lower():
                return {"ok": True, "user": user}
        return {"ok": False, "error": "users_not_found"}

    def m_conversations_info(self, args: dict[str, Any]) -> dict[str, Any]:
        """Needs channels:read (public) or groups:read (private); a private channel the bot
        is not in does not exist for the bot's token."""
        channel = self.channels.get(str(args.get("channel")))
        if channel is None or (channel["is_private"] and not channel["is_member"]):
            return {"ok": False, "error": "channel_not_found"}
        needed = "groups:read" if channel["is_private"] else "channels:read"
        if needed not in self.scopes:
            return {"ok": False, "error": "missing_scope", "needed": needed, "provided": ",".join(self.scopes)}
        return {"ok": True, "channel": dict(channel)}

    def m_conversations_members(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "members": sorted(self.users), "response_metadata": {"next_cursor": ""}}

    # files.* (upload v2)
    def m_files_getUploadURLExternal(self, args: dict[str, Any]) -> dict[str, Any]:
        if not args.get("filename") or not str(args.get("length", "")).isdigit():
            return {"ok": False, "error": "invalid_arguments"}
        file_id = f"F{next(self._ts):08d}"
        with self.lock:
            self.files[file_id] = {"filename": args["filename"], "length": int(args["length"])}
        return {"ok": True, "upload_url": self.url.replace("/api/", f"/upload/{file_id}"), "file_id": file_id}

    def m_files_completeUploadExternal(self, args: dict[str, Any]) -> dict[str, Any]:
        files = args.get("files")
        if not isinstance(files, list) or not files:
            return {"ok": False, "error": "invalid_arguments"}
        for f in files:
            if f.get("id") not in self.uploads:
                return {"ok": False, "error": "file_not_found"}
        channel = args.get("channel_id") or args.get("channels")
        known = self.channels.get(str(channel))
        if known is not None and not known["is_member"]:
            return {"ok": False, "error": "not_in_channel"}  # chat:write.public covers messages only
        thread = args.get("thread_ts")
        if thread and (str(channel), str(thread)) not in self.messages:
            return {"ok": False, "error": "thread_not_found"}
        return {"ok": True, "files": [{"id": f["id"], "title": f.get("title")} for f in files]}


def main() -> None:
    """`python -m tests.slack_standin PORT`: serve the stand-in on its own (for benchmarks)."""
    import logging
    import sys

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    standin = SlackStandIn()
    server = make_server("127.0.0.1", int(sys.argv[1]), standin.app, threaded=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
