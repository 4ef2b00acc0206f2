"""The persistent outbox: every Slack send that matters is stored, then delivered.

Features enqueue a message of some `kind` with a small JSON `data`; a renderer registered
for that kind (in handlers/) turns it into a Slack call at delivery time, reading the
current state, and an optional `after_send` hook stores what Slack answered (a message
`ts`, say). Delivery retries with backoff until sent or clearly failed, survives restarts
(rows, not memory) and is shared safely between replicas (rows are leased).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session

from supportbot.bot.clock import Clock
from supportbot.storage import outbox as store
from supportbot.storage.db import transaction
from supportbot.storage.models import OutboxMessage

log = logging.getLogger(__name__)

CALL_KIND = "slack.call"
# Longer than the slowest send (the outbox client makes at most ~25 s of attempts), so a
# live deliverer never loses its row; a crashed one's rows come back after this.
LEASE = timedelta(seconds=60)
MAX_ATTEMPTS = 10
PERMANENT_ERRORS = frozenset(
    {
        "invalid_blocks",
        "invalid_blocks_format",
        "invalid_arguments",
        "invalid_auth",
        "not_authed",
        "account_inactive",
        "token_revoked",
        "msg_too_long",
        "no_text",
        "missing_scope",
        "cant_update_message",
        "message_not_found",
        "user_not_found",
        "is_archived",
    }
)


@dataclass(frozen=True)
class SlackCall:
    method: str
    args: dict[str, Any]


class DeliveryError(Exception):
    """A send failed; `retry_after` comes from a 429, `permanent` means stop trying."""

    def __init__(self, error: str, *, retry_after: float | None = None) -> None:
        super().__init__(error)
        self.error = error
        self.retry_after = retry_after
        self.permanent = error in PERMANENT_ERRORS


class Deferred(Exception):
    """The renderer cannot build the call yet (it waits on another message); try soon."""


Render = Callable[[Session, OutboxMessage], SlackCall | None]
AfterSend = Callable[[Session, OutboxMessage, dict[str, Any]], None]
Send = Callable[[SlackCall], dict[str, Any]]


def _render_call(_session: Session, message: OutboxMessage) -> SlackCall:
    return SlackCall(message.data["method"], message.data["args"])


@dataclass
class OutboxKinds:
    renderers: dict[str, tuple[Render, AfterSend | None]] = field(
        default_factory=lambda: {CALL_KIND: (_render_call, None)}
    )

    def register(self, kind: str, render: Render, after_send: AfterSend | None = None) -> None:
        self.renderers[kind] = (render, after_send)


def enqueue(
    session: Session,
    *,
    workspace_id: str,
    kind: str,
    data: dict[str, Any],
    clock: Clock,
    dedupe_key: str | None = None,
    delay: timedelta | None = None,
) -> OutboxMessage | None:
    now = clock.now()
    return store.add_message(
        session=session,
        workspace_id=workspace_id,
        kind=kind,
        data=data,
        now=now,
        dedupe_key=dedupe_key,
        not_before=now + delay if delay else None,
    )


def enqueue_call(
    session: Session,
    *,
    workspace_id: str,
    method: str,
    args: dict[str, Any],
    clock: Clock,
    dedupe_key: str | None = None,
) -> OutboxMessage | None:
    """Store a ready-made Slack call (a DM, a post) for delivery."""
    return enqueue(
        session,
        workspace_id=workspace_id,
        kind=CALL_KIND,
        data={"method": method, "args": args},
        clock=clock,
        dedupe_key=dedupe_key,
    )


def instance_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(5 * 2 ** max(attempts - 1, 0), 900))


@dataclass
class DrainStats:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    deferred: int = 0
    paced: int = 0


class Pacer:
    """Keeps sends to one channel about `interval` seconds apart (Slack's ~1 msg/s per
    channel). A message for a channel that is not ready yet waits its turn in the outbox
    while messages for other channels go ahead."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._last: dict[str, float] = {}
        self._lock = threading.Lock()

    def busy(self, channel: str | None) -> bool:
        """True while `channel` had a send less than `interval` ago (books nothing)."""
        if not channel or self.interval <= 0:
            return False
        with self._lock:
            last = self._last.get(channel)
            return last is not None and time.monotonic() - last < self.interval

    def wait_needed(self, channel: str | None) -> float:
        """Seconds until `channel` may be sent to; 0 means now (and books the slot)."""
        if not channel or self.interval <= 0:
            return 0.0
        with self._lock:
            now = time.monotonic()
            last = self._last.get(channel)
            if last is not None and now - last < self.interval:
                return self.interval - (now - last)
            self._last[channel] = now
            return 0.0


class Outbox:
    """Delivers due messages: `kick()` after a listener stored something, `drain()` from
    the scheduler. With `start_background()` (the running bot) deliveries happen on one
    thread of their own; without it (tests, CLI) `kick()` delivers inline."""

    def __init__(
        self,
        engine: Engine,
        clock: Clock,
        kinds: OutboxKinds,
        send: Send | None = None,
        *,
        pace_seconds: float = 1.0,
        owner: str | None = None,
    ) -> None:
        self.owner = owner or instance_id()
        self.engine = engine
        self.clock = clock
        self.kinds = kinds
        self.send = send
        self.pacer = Pacer(pace_seconds)
        self._lock = threading.Lock()
        self._again = threading.Event()
        self._stopping = threading.Event()
        self._worker: threading.Thread | None = None
        # Channel of messages that waited their channel's turn: the next rounds skip them
        # without a lease, a render and a write while that channel is still busy.
        self._waiting_on: dict[int, str] = {}

    def kick(self) -> None:
        """Deliver now, or wake the delivery thread; never blocks a caller behind another."""
        if self._worker is not None:
            self._again.set()
            return
        if not self._lock.acquire(blocking=False):
            self._again.set()
            return
        try:
            while True:
                self._again.clear()
                self._drain_locked()
                if not self._again.is_set() or self._stopping.is_set():
                    break
        finally:
            self._lock.release()

    def start_background(self) -> None:
        def loop() -> None:
            while not self._stopping.is_set():
                self._again.wait(timeout=5)
                self._again.clear()
                if self._stopping.is_set():
                    break
                try:
                    with self._lock:
                        stats = self._drain_locked()
                except Exception:  # the loop must survive a database hiccup
                    log.exception("outbox: delivery round failed")
                    continue
                if stats.paced:
                    time.sleep(min(self.pacer.interval, 1.0))
                    self._again.set()

        self._worker = threading.Thread(target=loop, name="outbox", daemon=True)
        self._worker.start()
        self._again.set()

    def stop(self, timeout: float = 30.0) -> None:
        """Finish the message being sent, then stop; the rest waits in the database."""
        self._stopping.set()
        self._again.set()
        if self._worker is not None:
            self._worker.join(timeout=timeout)

    def drain(self, limit: int = 200) -> DrainStats:
        with self._lock:
            return self._drain_locked(limit)

    def _drain_locked(self, limit: int = 200) -> DrainStats:
        stats = DrainStats()
        if self.send is None:
            return stats
        with transaction(self.engine, readonly=True) as session:
            ids = store.due_ids(session=session, now=self.clock.now(), limit=limit)
        for message_id in ids:
            if self._stopping.is_set():
                break
            if self.pacer.busy(self._waiting_on.get(message_id)):
                stats.paced += 1
                continue
            try:
                self._deliver_one(message_id, stats)
            except Exception:  # one bad row must not stop the others
                log.exception("outbox: delivering message %s failed unexpectedly", message_id)
        return stats

    def _deliver_one(self, message_id: int, stats: DrainStats) -> None:
        """Lease (a short write), render (a read: no write lock is held while a renderer
        reads or uploads a file), send, then record the outcome (a short write)."""
        assert self.send is not None
        with transaction(self.engine) as session:
            if not store.claim(
                session=session,
                message_id=message_id,
                now=self.clock.now(),
                lease=LEASE,
                owner=self.owner,
            ):
                return
        self._waiting_on.pop(message_id, None)
        try:
            with transaction(self.engine, readonly=True) as session:
                message = store.get_message(session=session, message_id=message_id)
                assert message is not None
                session.expunge(message)  # what a renderer changes is saved below, not here
                data = dict(message.data or {})
                render, after_send = self.kinds.renderers.get(message.kind, (None, None))
                call: SlackCall | None = None
                deferred = False
                if render is not None:
                    try:
                        call = render(session, message)
                    except Deferred:
                        deferred = True
        except BaseException:
            self._record(message_id, None, lambda m: store.release_row(m))
            raise
        changed = message.data if message.data != data else None

        if render is None:
            self._record(message_id, changed, lambda m: self._fail(m, f"no renderer for kind {m.kind!r}", stats))
            return
        if deferred:
            def defer(m: OutboxMessage) -> None:
                store.release_row(m)
                m.next_attempt_at = self.clock.now() + timedelta(seconds=5)
                stats.deferred += 1

            self._record(message_id, changed, defer)
            return
        if call is None:  # nothing to send any more (state moved on)
            def done(m: OutboxMessage) -> None:
                m.status = store.SENT
                m.sent_at = self.clock.now()
                store.release_row(m)

            self._record(message_id, changed, done)
            return
        channel = call.args.get("channel") or call.args.get("channel_id")
        wait = self.pacer.wait_needed(channel)
        if wait > 0:  # this channel had a message a moment ago: let others go first
            if len(self._waiting_on) < 100_000:
                self._waiting_on[message_id] = str(channel)
            def later(m: OutboxMessage) -> None:
                store.release_row(m)
                m.next_attempt_at = self.clock.now() + timedelta(seconds=wait)
                stats.paced += 1

            self._record(message_id, changed, later)
            return
        try:
            response = self.send(call)
        except DeliveryError as exc:
            failure = exc
            self._record(message_id, changed, lambda m: self._retry_or_fail(m, failure, stats))
            return

        def sent(m: OutboxMessage) -> None:
            m.status = store.SENT
            m.sent_at = self.clock.now()
            m.attempts += 1
            store.release_row(m)
            m.result = {k: response.get(k) for k in ("channel", "ts") if k in response}

        self._record(message_id, changed, sent, after_send=after_send, response=response)
        stats.sent += 1

    def _record(
        self,
        message_id: int,
        data: dict[str, Any] | None,
        change: Callable[[OutboxMessage], None],
        *,
        after_send: AfterSend | None = None,
        response: dict[str, Any] | None = None,
    ) -> None:
        with transaction(self.engine) as session:
            message = store.get_message(session=session, message_id=message_id)
            assert message is not None
            if data is not None:
                message.data = data
            change(message)
            if after_send is not None and response is not None:
                after_send(session, message, response)

    def _retry_or_fail(self, message: OutboxMessage, exc: DeliveryError, stats: DrainStats) -> None:
        message.attempts += 1
        message.last_error = exc.error[:500]
        store.release_row(message)
        if exc.permanent or message.attempts >= MAX_ATTEMPTS:
            self._fail(message, exc.error, stats)
            return
        wait = timedelta(seconds=exc.retry_after) if exc.retry_after else backoff(message.attempts)
        message.next_attempt_at = self.clock.now() + wait
        stats.retried += 1
        log.warning(
            "outbox: %s #%s failed (%s), retry %s in %ss",
            message.kind,
            message.id,
            exc.error,
            message.attempts,
            int(wait.total_seconds()),
        )

    def release_dead_leases(self) -> int:
        """Rows leased by a process of this host that no longer runs (killed mid-send) are
        handed back at once instead of after the lease; other hosts' leases just expire."""
        host = self.owner.split(":", 1)[0]
        released = 0
        with transaction(self.engine) as session:
            for message_id, owner in store.leases_held(
                session=session, owner_prefix=f"{host}:", now=self.clock.now()
            ):
                pid = owner.split(":", 1)[1] if ":" in owner else ""
                if owner != self.owner and pid.isdigit() and not _pid_alive(int(pid)):
                    store.release(session=session, message_id=message_id)
                    released += 1
        if released:
            log.warning("outbox: took back %s message(s) from a process that died", released)
        return released

    def _fail(self, message: OutboxMessage, error: str, stats: DrainStats) -> None:
        message.status = store.FAILED
        message.last_error = error[:500]
        message.locked_until = None
        message.locked_by = None
        stats.failed += 1
        log.error("outbox: giving up on %s #%s: %s", message.kind, message.id, error)
