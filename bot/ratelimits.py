"""Slack's rate limits, in one place, and the pacing every outbox send goes through.

Slack limits Web API calls per method per workspace, in tiers, and posting to about one
message per second per channel (https://docs.slack.dev/apis/web-api/rate-limits, which
lists Tier 1 1+/min, Tier 2 20+/min, Tier 3 50+/min, Tier 4 100+/min, and chat.postMessage
as a special tier: 1 per second per channel with short bursts, plus a workspace-wide limit
of "several hundred per minute"). A method's tier is on its reference page
(https://docs.slack.dev/reference/methods/...). We pace to the published floors, with
smaller bursts than Slack tolerates, so a fan-out to 300 people never meets a 429.

The budgets live in the database (storage.outbox.SlackRate), not in memory: every
replica reserves its call there before sending, so two replicas share one workspace's
budget instead of each spending all of it. When Slack still answers 429, its Retry-After
pauses that method for every replica (`pause`), instead of each message finding out on
its own.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Engine

from supportbot.bot.clock import Clock
from supportbot.storage import outbox as store
from supportbot.storage.db import transaction

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Limit:
    per_minute: float
    burst: int

    @property
    def interval(self) -> float:
        return 60.0 / self.per_minute


# What we pace to: the published floors, with bursts smaller than Slack allows.
TIERS = {1: Limit(1, 1), 2: Limit(20, 2), 3: Limit(50, 3), 4: Limit(100, 5)}
METHOD_TIERS = {
    "users.list": 2,
    "conversations.list": 2,
    "chat.update": 3,
    "chat.delete": 3,
    "conversations.open": 3,
    "conversations.info": 3,
    "conversations.history": 3,
    "conversations.replies": 3,
    "reactions.add": 3,
    "users.lookupByEmail": 3,
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
DEFAULT_TIER = 3  # a method missing above is paced as Tier 3
# chat.postMessage's own tier: "several hundred per minute" per workspace ...
POST_MESSAGE = Limit(300, 10)
# ... and about one message per second in any one channel (a DM is a channel too).
CHANNEL = Limit(60, 1)
POSTING = frozenset({"chat.postMessage", "chat.scheduleMessage", "files.completeUploadExternal"})

# Outbox kinds by urgency: urgent ones are delivered before anything else is due, bulk
# ones (fan-outs to many people or channels) after everything else.
URGENT_KINDS = frozenset({"escalation.post", "escalation.dm", "escalation.thread", "escalation.update"})
BULK_KINDS = frozenset(
    {
        "standup.prompt",
        "standup.reminder",
        "standup.summary",
        "standup.zones",
        "oneonone.reminder",
        "kpis.digest",
        "kpis.digest_chart",
        "kudos.month",
    }
)


# Kinds whose calls vary message by message (a ready-made call of any method): their
# messages are remembered one by one, not by kind.
GENERIC_KINDS = frozenset({"slack.call"})


def posting_minutes(messages: int) -> int | None:
    """Whole minutes `messages` posts take at Slack's workspace pace, or None when they go
    out at once (inside the burst)."""
    if messages <= POST_MESSAGE.burst:
        return None
    return max(1, math.ceil((messages - POST_MESSAGE.burst) * POST_MESSAGE.interval / 60))


def method_limit(method: str) -> Limit:
    if method == "chat.postMessage":
        return POST_MESSAGE
    return TIERS[METHOD_TIERS.get(method, DEFAULT_TIER)]


def channel_of(args: dict[str, Any]) -> str | None:
    channel = args.get("channel") or args.get("channel_id") or args.get("channels")
    return str(channel) if channel else None


def method_key(workspace_id: str, method: str) -> str:
    return f"{workspace_id}:{method}"


def budgets(
    workspace_id: str, method: str, args: dict[str, Any], *, channel_interval: float = CHANNEL.interval
) -> list[store.Budget]:
    """The budgets one call spends: its method's in the workspace, and for a post its
    channel's."""
    limit = method_limit(method)
    out = [store.Budget(method_key(workspace_id, method), limit.interval, limit.burst)]
    channel = channel_of(args)
    if method in POSTING and channel and channel_interval > 0:
        out.append(store.Budget(f"{workspace_id}:post:{channel}", channel_interval, CHANNEL.burst))
    return out


class RateLimiter:
    """Reserves each call's budgets in the database before it is sent, records 429
    pauses there, and remembers (in memory, for this process only) which budgets are
    busy and until when, so a delivery round skips their messages without touching
    their rows. Time is the clock's, so tests step it."""

    CONTENTION_TRIES = 5

    def __init__(self, engine: Engine, clock: Clock, *, channel_interval: float = CHANNEL.interval) -> None:
        self.engine = engine
        self.clock = clock
        self.channel_interval = channel_interval
        self._busy: dict[str, float] = {}  # budget key -> until (epoch seconds)
        self._kind_keys: dict[str, list[str]] = {}  # kind -> keys its last call spent
        self._message_keys: dict[int, list[str]] = {}  # message -> keys it waits on

    def now(self) -> float:
        return self.clock.now().timestamp()

    def busy_until(self, message_id: int, kind: str) -> float | None:
        """When this message could go, if a budget it needs is known busy; None = try it."""
        return self._until(self._message_keys.get(message_id) or self._kind_keys.get(kind) or [])

    def _until(self, keys: list[str]) -> float | None:
        """The latest moment one of these budgets is known busy until, if still ahead."""
        until = max((self._busy.get(k, 0.0) for k in keys), default=0.0)
        return until if until > self.now() + store.EPSILON else None

    def knows(self, message_id: int) -> bool:
        """True when this message's budgets are remembered (it was paced before)."""
        return message_id in self._message_keys

    def known_busy(self, workspace_id: str, method: str, args: dict[str, Any], *, message_id: int) -> float | None:
        """When a call could go, if a budget it spends is known busy in this process (a
        replica's own reservations only push that moment later, never earlier); the
        message is then remembered as waiting on those budgets. None = reserve as usual."""
        keys = [b.key for b in budgets(workspace_id, method, args, channel_interval=self.channel_interval)]
        until = self._until(keys)
        if until is not None:
            self._remember(message_id, keys)
        return until

    def _remember(self, message_id: int, keys: list[str]) -> None:
        self._message_keys[message_id] = keys
        if len(self._message_keys) > 100_000:
            self._message_keys.clear()

    def busy_kinds(self) -> dict[str, float]:
        """{kind: until} for kinds whose method budget is known spent: a delivery round
        leaves their rows in the database (a 300-prompt fan-out must not hide a users.list
        page queued behind it)."""
        now = self.now()
        out = {}
        for kind, keys in self._kind_keys.items():
            until = max((self._busy.get(k, 0.0) for k in keys), default=0.0)
            if until > now + store.EPSILON:
                out[kind] = until
        return out

    def reserve(self, workspace_id: str, call_method: str, args: dict[str, Any], *, message_id: int | None = None, kind: str | None = None) -> float:
        """0.0 when the call may go now (its budgets are spent), else seconds to wait."""
        wanted = budgets(workspace_id, call_method, args, channel_interval=self.channel_interval)
        keys = [b.key for b in wanted]
        if kind is not None and kind not in GENERIC_KINDS:
            self._kind_keys[kind] = keys[:1]  # the method; channels differ message by message
        reservation = None
        for _ in range(self.CONTENTION_TRIES):
            try:
                with transaction(self.engine) as session:
                    reservation = store.reserve(
                        session=session, workspace_id=workspace_id, budgets=wanted, now=self.now()
                    )
                break
            except store.Contended:
                continue
        if reservation is None:  # other replicas keep winning: they spend this budget now
            reservation = store.Reservation(min(b.interval for b in wanted), keys[0])
        if reservation.wait <= 0:
            # Known busy until then: the next messages wait without a lease or a write.
            for key, free_at in (reservation.free_at or {}).items():
                self._busy[key] = max(self._busy.get(key, 0.0), free_at)
            if message_id is not None:
                self._message_keys.pop(message_id, None)
            return 0.0
        wait = math.ceil(reservation.wait * 1000) / 1000  # whole ms: a clock stepped by it arrives
        if reservation.short is not None:
            self._busy[reservation.short] = max(self._busy.get(reservation.short, 0.0), self.now() + wait)
        if message_id is not None:
            self._remember(message_id, keys)
        return wait

    def pause(self, workspace_id: str, method: str, seconds: float) -> None:
        """Slack answered 429: no replica calls `method` in this workspace for `seconds`."""
        key = method_key(workspace_id, method)
        until = self.now() + seconds
        self._busy[key] = max(self._busy.get(key, 0.0), until)
        with transaction(self.engine) as session:
            store.pause(session=session, workspace_id=workspace_id, key=key, until=until)
        log.warning("slack: %s rate limited, paused for %.0f s (all replicas)", method, seconds)

    def forget_idle(self, older_than: float = 3600.0) -> int:
        """Drop budgets unused for an hour (there is one per DM channel posted to)."""
        cutoff = self.now() - older_than
        self._busy = {k: v for k, v in self._busy.items() if v > cutoff}
        with transaction(self.engine) as session:
            return store.forget_rates_before(session=session, before=cutoff)
