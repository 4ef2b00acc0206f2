"""Rate limits of the Slack stand-in: the published tier floors, answered with 429 and
Retry-After (https://docs.slack.dev/apis/web-api/rate-limits)."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

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
