"""What a running bot shares between listeners and jobs: settings, database, clock, outbox."""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Executor
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy.engine import Engine
from sqlmodel import Session

from supportbot.bot.clock import Clock, SystemClock
from supportbot.bot.config import Settings
from supportbot.bot.kpis.cache import AnswerCache, new_answer_cache
from supportbot.bot.outbox import Outbox, OutboxKinds, instance_id
from supportbot.bot.teams import LanguageCache
from supportbot.storage.db import make_engine, transaction

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")

# Listeners computing at once per process: one interpreter runs one thread at a time, so
# more only interleave in random order (benchmarks/README.md has the measurements).
HANDLER_SLOTS = 6


class Slots:
    """A counting semaphore that is fair: a freed slot is handed to the longest-waiting
    thread, and threads coming back from a wait (`returning=True`: they already queued once
    and have started their work) go before threads that have not started. With
    threading.Semaphore a thread that gave its slot back to wait on the database or Slack
    queued again behind newcomers, so the commands that wait (`/escalate`) paid the whole
    queue two or three times and made the tail."""

    def __init__(self, count: int) -> None:
        self._free = count
        self._lock = threading.Lock()
        self._returning: deque[threading.Event] = deque()
        self._new: deque[threading.Event] = deque()

    def acquire(self, blocking: bool = True, timeout: float | None = None, *, returning: bool = False) -> bool:
        with self._lock:
            if self._free > 0 and not self._returning and (returning or not self._new):
                self._free -= 1
                return True
            if not blocking:
                return False
            line = self._returning if returning else self._new
            turn = threading.Event()
            line.append(turn)
        if turn.wait(timeout):
            return True
        with self._lock:
            if turn.is_set():  # handed over just as the wait ran out
                return True
            line.remove(turn)
            return False

    def release(self) -> None:
        with self._lock:
            queue = self._returning or self._new
            if queue:
                queue.popleft().set()  # the slot goes straight to the next in line
            else:
                self._free += 1


@dataclass
class _Waiting:
    item: Any
    write: Callable[[Runtime, Session, list[Any]], list[Any]]
    done: bool = False
    result: Any = None
    error: BaseException | None = None


class GroupCommit:
    """Writes that arrive together go in one transaction: a writer queues its item, and
    whoever finds no batch being written writes everything queued so far (grouped by the
    batch function, one BEGIN/COMMIT) while later arrivals wait for the next batch. On
    SQLite that is one writer-lock turn for many requests instead of one each. A batch
    that fails is retried one by one, so a bad item fails alone."""

    def __init__(self) -> None:
        self._queue: list[_Waiting] = []
        self._changed = threading.Condition()
        self._writing = False

    def write(self, rt: Runtime, item: T, write: Callable[[Runtime, Session, list[T]], list[R]]) -> R:
        """`write(rt, session, items)` stores the items and returns one result per item, in
        order; items queued with the same `write` are stored by one call."""
        mine = _Waiting(item, write)
        batch: list[_Waiting] = []
        with rt.lending_slot() as give_back:
            with self._changed:
                self._queue.append(mine)
                if self._writing:
                    with give_back():  # no CPU used while others' batches are written
                        while self._writing and not mine.done:
                            self._changed.wait()
                if not mine.done:
                    self._writing = True
                    batch, self._queue = self._queue, []
            if batch:
                try:
                    self._write(rt, batch)
                finally:
                    with self._changed:
                        self._writing = False
                        self._changed.notify_all()
        if mine.error is not None:
            raise mine.error
        return mine.result  # type: ignore[no-any-return]

    def _write(self, rt: Runtime, batch: list[_Waiting]) -> None:
        try:
            with rt.transaction() as session:
                results: list[tuple[_Waiting, Any]] = []
                for write in dict.fromkeys(w.write for w in batch):
                    mine = [w for w in batch if w.write is write]
                    results += zip(mine, write(rt, session, [w.item for w in mine]), strict=True)
            for waiting, result in results:
                waiting.result = result
        except Exception as exc:
            if len(batch) == 1:
                batch[0].error = exc
            else:
                for waiting in batch:
                    self._write(rt, [waiting])
        finally:
            for waiting in batch:
                waiting.done = True


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    clock: Clock
    outbox: Outbox
    # KPI ticket figures already computed (bot.kpis.cache); one per runtime, never shared
    kpi_answers: AnswerCache
    instance_id: str = field(default_factory=instance_id)
    # The caller's language per request, cached for this runtime only.
    languages: LanguageCache = field(default_factory=LanguageCache)
    # This process's scheduler, once `bot.jobs.install_all` ran for this runtime (feature
    # modules add and remove their per-schedule jobs on it).
    scheduler: Any = None
    # Where listeners run (set by bot.app.build_app); None runs them in the caller's thread.
    handler_pool: Executor | None = None
    # How many listeners may compute at once. Waiting does not count: a listener gives
    # its slot back while it waits on Slack (handlers.common.Reply) or queues for SQLite's
    # writer lock or a group commit (`lending_slot`). More would only queue on the
    # interpreter lock in random order instead of first come, first served.
    handler_slots: Slots = field(default_factory=lambda: Slots(HANDLER_SLOTS))
    # Writes arriving together stored in one transaction (new escalations use it).
    group_commit: GroupCommit = field(default_factory=GroupCommit)
    # Digests are built and queued one at a time (bot.kpis.digest.queue_team_digest):
    # fifty teams' 09:00 jobs start together, and in turn the first is queued at once.
    digest_builds: threading.Lock = field(default_factory=threading.Lock)
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
        """Around a wait that uses no CPU (the network): the slot goes back meanwhile."""
        with self.lending_slot() as give_back, give_back():
            yield

    @contextmanager
    def lending_slot(self) -> Iterator[Callable[[], AbstractContextManager[None]]]:
        """Around a section that may queue for a lock and then hold it. Inside,
        `with give_back():` wraps the queueing: the slot goes back, and is taken again only
        when the outermost such section ends. A thread holding a lock that others queue on
        must not queue for a slot meanwhile (that convoy made every writer wait for the
        slowest listener), so it runs over the limit until it lets go of the lock."""
        depth = getattr(self._slot, "depth", 0)
        self._slot.depth = depth + 1
        try:
            yield self._give_back
        finally:
            self._slot.depth = depth
            if depth == 0 and getattr(self._slot, "lent", False):
                self._slot.lent = False
                self.handler_slots.acquire(returning=True)
                self._slot.held = True

    @contextmanager
    def _give_back(self) -> Iterator[None]:
        if getattr(self._slot, "held", False):
            self._slot.held = False
            self._slot.lent = True
            self.handler_slots.release()
        yield

    @contextmanager
    def transaction(self, *, readonly: bool = False) -> Iterator[Session]:
        with (
            self.lending_slot() as give_back,
            transaction(self.engine, readonly=readonly, waiting=give_back) as session,
        ):
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
    return Runtime(
        settings=settings, engine=engine, clock=clock, outbox=outbox,
        kpi_answers=new_answer_cache(),
    )
