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
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session

from supportbot.bot.clock import Clock
from supportbot.bot.outbox_kinds import (
    CALL_KIND,
    AfterSend,
    Deferred,
    DeliveryError,
    OutboxKinds,
    Paced,
    Send,
    SlackCall,
)
from supportbot.bot.ratelimits import BULK_KINDS, URGENT_KINDS, RateLimiter
from supportbot.storage import outbox as store
from supportbot.storage.db import transaction
from supportbot.storage.models import OutboxMessage

log = logging.getLogger(__name__)

# Longer than the slowest send (the outbox client makes at most ~25 s of attempts), so a
# live deliverer never loses its row; a crashed one's rows come back after this.
LEASE = timedelta(seconds=60)
MAX_ATTEMPTS = 10
DEFER_WAIT = 5.0  # a renderer waiting on another message tries again after this
IDLE_WAIT = 5.0  # the delivery thread looks for work at least this often
MIN_WAIT = 0.01
# Kicks arriving while the delivery thread is busy are answered by one round at most this
# often: under a burst of commands every listener kicks, and a round per kick spent more
# of the one interpreter on asking "what is due?" than on sending. A message waits at most
# this much longer for its round.
KICK_GAP = 0.1

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


def enqueue_many(
    session: Session,
    *,
    workspace_id: str,
    kind: str,
    items: list[tuple[dict[str, Any], str]],
    clock: Clock,
) -> int:
    """A fan-out: many messages of one kind, each (data, dedupe_key), stored in a few
    statements instead of one round trip each. -> how many were new."""
    if not items:
        return 0
    return store.add_messages(session=session, workspace_id=workspace_id, kind=kind, items=items, now=clock.now())


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
    # When another round is worth running (something becomes due or a budget frees up);
    # None when nothing waits.
    next_at: datetime | None = None

    def wake(self, at: datetime) -> None:
        if self.next_at is None or at < self.next_at:
            self.next_at = at


class Outbox:
    """Delivers due messages: `kick()` after a listener stored something, `drain()` from
    the scheduler. With `start_background()` (the running bot) deliveries happen on one
    thread of their own; without it (tests, CLI) `kick()` delivers inline.

    Every send is paced to Slack's limits (bot.ratelimits) unless `pace_seconds` is 0
    (tests that do not exercise pacing): urgent kinds go first, bulk fan-outs last."""

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
        self.limiter: RateLimiter | None = (
            RateLimiter(engine, clock, channel_interval=pace_seconds) if pace_seconds > 0 else None
        )
        self._lock = threading.Lock()
        self._again = threading.Event()
        self._stopping = threading.Event()
        self._worker: threading.Thread | None = None
        self._tidied_at = 0.0

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
            delay, started = 0.0, 0.0
            while not self._stopping.is_set():
                if self._again.wait(timeout=delay) and delay > 0:
                    # A kick: let the kicks of the next moment join this round.
                    self._stopping.wait(max(0.0, KICK_GAP - (time.monotonic() - started)))
                self._again.clear()
                if self._stopping.is_set():
                    break
                started = time.monotonic()
                try:
                    with self._lock:
                        stats = self._drain_locked()
                    self._tidy()
                except Exception:  # the loop must survive a database hiccup
                    log.exception("outbox: delivery round failed")
                    delay = IDLE_WAIT
                    continue
                delay = self.wait_after(stats)

        self._worker = threading.Thread(target=loop, name="outbox", daemon=True)
        self._worker.start()
        self._again.set()

    def wait_after(self, stats: DrainStats) -> float:
        """Seconds until the next round is worth it (a budget frees up, a retry is due)."""
        if stats.next_at is None:
            return IDLE_WAIT
        seconds = (stats.next_at - self.clock.now()).total_seconds()
        return min(IDLE_WAIT, max(MIN_WAIT, seconds))

    def _tidy(self) -> None:
        if self.limiter is not None and time.monotonic() - self._tidied_at > 600:
            self._tidied_at = time.monotonic()
            self.limiter.forget_idle()

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
        now = self.clock.now()
        waiting = self.limiter.busy_kinds() if self.limiter is not None else {}
        for until in waiting.values():
            stats.wake(datetime.fromtimestamp(until, UTC))
        with transaction(self.engine, readonly=True) as session:
            rows = store.due(
                session=session, now=now, limit=limit, urgent=URGENT_KINDS, bulk=BULK_KINDS, exclude=sorted(waiting)
            )
        targets = self._targets(rows)
        progressed = False
        for message_id, kind in rows:
            if self._stopping.is_set():
                break
            if self.limiter is not None:
                until = self.limiter.busy_until(message_id, kind)
                if until is None and message_id in targets:
                    workspace_id, call = targets[message_id]
                    until = self.limiter.known_busy(workspace_id, call.method, call.args, message_id=message_id)
                if until is not None:  # its budget is spent: no lease, no render, no write
                    stats.paced += 1
                    stats.wake(datetime.fromtimestamp(until, UTC))
                    continue
            paced = stats.paced
            try:
                self._deliver_one(message_id, stats)
            except Exception:  # one bad row must not stop the others
                log.exception("outbox: delivering message %s failed unexpectedly", message_id)
            progressed = progressed or stats.paced == paced
        full = len(rows) >= limit
        if progressed and full:  # more may be due behind these
            stats.wake(now)
        # Every due row was in this round: a due one with a higher id was queued meanwhile
        # (by an after_send: a digest's chart), so it is worth a round at once.
        newest = 0 if full else max((i for i, _k in rows), default=0)
        with transaction(self.engine, readonly=True) as session:
            later = store.next_attempt(session=session, after=now, newer_than=newest)
        if later is not None:
            stats.wake(max(later, now))
        return stats

    def _targets(self, rows: list[tuple[int, str]]) -> dict[int, tuple[str, SlackCall]]:
        """{id: (workspace, call)} for the due rows whose budgets this process does not
        know yet and whose kind says from its data what it will call: one read for the
        round, instead of leasing and rendering each to find out."""
        if self.limiter is None:
            return {}
        wanted = [i for i, kind in rows if kind in self.kinds.targets and not self.limiter.knows(i)]
        if not wanted:
            return {}
        with transaction(self.engine, readonly=True) as session:
            found = store.data_of(session=session, message_ids=wanted)
        out = {}
        for message_id, (workspace_id, kind, data) in found.items():
            call = self.kinds.targets[kind](data or {})
            if call is not None:
                out[message_id] = (workspace_id, call)
        return out

    def call(self, workspace_id: str, call: SlackCall) -> dict[str, Any]:
        """One paced call for a renderer that needs Slack's answer before it can build its
        own (a file upload URL). Raises Paced when the budget is spent or Slack says 429;
        DeliveryError for other failures."""
        assert self.send is not None
        if self.limiter is not None:
            wait = self.limiter.reserve(workspace_id, call.method, call.args)
            if wait > 0:
                raise Paced(wait)
        try:
            return self.send(call)
        except DeliveryError as exc:
            if exc.retry_after is not None and self.limiter is not None:
                self.limiter.pause(workspace_id, call.method, exc.retry_after)
                raise Paced(exc.retry_after) from None
            raise

    def _deliver_one(self, message_id: int, stats: DrainStats) -> None:
        """Lease (a short write), render (a read: no write lock is held while a renderer
        reads or uploads a file), reserve the rate budget, send, then record the outcome
        (a short write)."""
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
        try:
            with transaction(self.engine, readonly=True) as session:
                message = store.get_message(session=session, message_id=message_id)
                assert message is not None
                session.expunge(message)  # what a renderer changes is saved below, not here
                data = dict(message.data or {})
                render, after_send = self.kinds.renderers.get(message.kind, (None, None))
                call: SlackCall | None = None
                deferred: Deferred | None = None
                if render is not None:
                    try:
                        call = render(session, message)
                    except Deferred as exc:
                        deferred = exc
        except BaseException:
            self._record(message_id, None, lambda m: store.release_row(m))
            raise
        changed = message.data if message.data != data else None

        if render is None:
            self._record(message_id, changed, lambda m: self._fail(m, f"no renderer for kind {m.kind!r}", stats))
            return
        if deferred is not None:
            wait = deferred.wait if deferred.wait is not None else DEFER_WAIT

            def defer(m: OutboxMessage) -> None:
                store.release_row(m)
                m.next_attempt_at = self.clock.now() + timedelta(seconds=wait)
                stats.deferred += 1

            self._record(message_id, changed, defer)
            stats.wake(self.clock.now() + timedelta(seconds=wait))
            return
        if call is None:  # nothing to send any more (state moved on)
            def done(m: OutboxMessage) -> None:
                m.status = store.SENT
                m.sent_at = self.clock.now()
                store.release_row(m)

            self._record(message_id, changed, done)
            return
        if self.limiter is not None:
            wait = self.limiter.reserve(
                message.workspace_id, call.method, call.args, message_id=message_id, kind=message.kind
            )
            if wait > 0:  # its budget is spent: hand the row back as it was, try again then
                self._record(message_id, changed, lambda m: store.release_row(m))
                stats.paced += 1
                stats.wake(self.clock.now() + timedelta(seconds=wait))
                return
        try:
            response = self.send(call)
        except DeliveryError as exc:
            failure = exc
            if exc.retry_after is not None and self.limiter is not None:
                self.limiter.pause(message.workspace_id, call.method, exc.retry_after)
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
        message.last_error = exc.error[:500]
        store.release_row(message)
        if exc.retry_after is not None:  # rate limited: wait as told; it is not a failure
            message.next_attempt_at = self.clock.now() + timedelta(seconds=exc.retry_after)
            stats.retried += 1
            stats.wake(message.next_attempt_at)
            return
        message.attempts += 1
        if exc.permanent or message.attempts >= MAX_ATTEMPTS:
            self._fail(message, exc.error, stats)
            return
        wait = backoff(message.attempts)
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
