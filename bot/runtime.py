"""What a running bot shares between listeners and jobs: settings, database, clock, outbox."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Executor
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.clock import Clock, SystemClock
from bot.config import Settings
from bot.outbox import Outbox, OutboxKinds, instance_id
from storage.db import make_engine, transaction

log = logging.getLogger(__name__)

# Measured with benchmarks/bench_load.py (2 CPUs): 4-6 keep p99 near 300 ms where 16
# gave ~460 ms at the same throughput.
HANDLER_SLOTS = 6


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    clock: Clock
    outbox: Outbox
    instance_id: str = field(default_factory=instance_id)
    # Where listeners run (set by bot.app.build_app); None runs them in the caller's thread.
    handler_pool: Executor | None = None
    # How many listeners may compute at once. Waiting does not count: a listener gives
    # its slot back while it waits on Slack (handlers.common.Reply) or for the database's
    # writer lock (`waiting`). More would only queue on the interpreter lock in random
    # order instead of first come, first served.
    handler_slots: threading.Semaphore = field(
        default_factory=lambda: threading.Semaphore(HANDLER_SLOTS)
    )
    _slot: threading.local = field(default_factory=threading.local)

    @contextmanager
    def handler_slot(self) -> Iterator[None]:
        """Held by a listener while it runs (handlers.common)."""
        self.handler_slots.acquire()
        self._slot.held = True
        try:
            yield
        finally:
            self._slot.held = False
            self.handler_slots.release()

    @contextmanager
    def waiting(self) -> Iterator[None]:
        """Around a wait that uses no CPU (a lock, the network): the slot goes back."""
        held = getattr(self._slot, "held", False)
        if held:
            self._slot.held = False
            self.handler_slots.release()
        try:
            yield
        finally:
            if held:
                self.handler_slots.acquire()
                self._slot.held = True

    @contextmanager
    def transaction(self, *, readonly: bool = False) -> Iterator[Session]:
        with transaction(self.engine, readonly=readonly, waiting=self.waiting) as session:
            yield session

    def queue_and_deliver(self, queue: Callable[..., int], what: str) -> int:
        """A scanning job's body: queue what is due in one transaction, then deliver."""
        with self.transaction() as session:
            count = queue(session, clock=self.clock)
        if count:
            log.info("queued %d %s", count, what)
            self.outbox.kick()
        return count


def build_runtime(
    settings: Settings,
    *,
    clock: Clock | None = None,
    engine: Engine | None = None,
    pace_seconds: float = 1.0,
) -> Runtime:
    clock = clock or SystemClock()
    engine = engine or make_engine(settings.database_url)
    outbox = Outbox(engine, clock, OutboxKinds(), pace_seconds=pace_seconds)
    return Runtime(settings=settings, engine=engine, clock=clock, outbox=outbox)
