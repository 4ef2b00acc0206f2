"""Caches that live for one answer (`one_answer`) or for one runtime (`AnswerCache`)."""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session

from supportbot.bot.kpis.report import Report
from supportbot.storage import kpis as store


class AnswerCache:
    """Ticket figures already computed, per database, keyed by what they were computed
    from (scope, SLA, period, detail) and valid for the data version they saw and for
    ANSWER_TTL of `now` (unanswered tickets become breached as time passes). Each runtime
    owns one (`rt.kpi_answers`, made by `new_answer_cache`); replicas each keep their own,
    and an import in any process bumps the version for all of them.

    Periods that end "now" (today so far, the same hours last week) move on every call;
    their end is put on the TTL's grid in the key, so an answer is reused for at most
    ANSWER_TTL (new tickets come with a new version anyway)."""

    def __init__(self, ttl: timedelta, size: int) -> None:
        self.ttl = ttl
        self.size = size
        self._by_db: weakref.WeakKeyDictionary[Any, OrderedDict[Any, tuple[int, datetime, Report]]] = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def grid(self, when: datetime) -> datetime:
        step = int(self.ttl.total_seconds())
        return when - timedelta(seconds=when.second % step, microseconds=when.microsecond)

    def get(self, session: Session, key: Any, version: int, now: datetime) -> Report | None:
        with self._lock:
            entries = self._by_db.get(session.get_bind().pool)
            found = entries.get(key) if entries is not None else None
            if found is not None and found[0] == version and timedelta(0) <= now - found[1] < self.ttl:
                entries.move_to_end(key)  # type: ignore[union-attr]
                self.hits += 1
                return found[2]
            self.misses += 1
            return None

    def clear(self) -> None:
        with self._lock:
            self._by_db.clear()

    def put(self, session: Session, key: Any, version: int, now: datetime, report: Report) -> None:
        with self._lock:
            entries = self._by_db.setdefault(session.get_bind().pool, OrderedDict())
            entries[key] = (version, now, report)
            entries.move_to_end(key)
            while len(entries) > self.size:
                entries.popitem(last=False)


ANSWER_TTL = timedelta(seconds=30)
ANSWER_CACHE_SIZE = 512
SCOPE_CACHE = "kpis.scope"


def new_answer_cache() -> AnswerCache:
    """The cache a runtime keeps (bot.runtime.build_runtime)."""
    return AnswerCache(ANSWER_TTL, size=ANSWER_CACHE_SIZE)


def once_per_answer(session: Session, key: Any, load: Callable[[], Any]) -> Any:
    """`load()`, kept for the rest of the answer when inside `one_answer`."""
    shared = session.info.get(SCOPE_CACHE)
    if shared is None:
        return load()
    if key not in shared:
        shared[key] = load()
    return shared[key]


@contextmanager
def one_answer(session: Session) -> Iterator[None]:
    """Figures computed together share "open now" (the backlog's starting point), the
    team's member list (SCOPE_CACHE by team id) and the data version (by workspace id)."""
    session.info[store.OPEN_CACHE] = {}
    session.info[SCOPE_CACHE] = {}
    try:
        yield
    finally:
        session.info.pop(store.OPEN_CACHE, None)
        session.info.pop(SCOPE_CACHE, None)
