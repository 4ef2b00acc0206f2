"""One scheduler facade over APScheduler: explicit job ids, names and time zones.

Jobs are rebuilt from database rows at start. A cron job's firing is identified by its
scheduled time (`scheduled_for`), which job functions claim in the database
(`storage.claims.try_claim`) before sending anything: a restart, a late start inside the
grace window or a second replica never repeats a firing, and `catch_up` at start runs the
one a restart would otherwise skip.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from supportbot.bot.clock import Clock, SystemClock

log = logging.getLogger(__name__)

DEFAULT_GRACE = timedelta(minutes=30)


def fire_times(trigger: BaseTrigger, after: datetime, until: datetime) -> Iterator[datetime]:
    """The trigger's fire times t with after < t <= until."""
    previous: datetime | None = None
    current = trigger.get_next_fire_time(previous, after)
    while current is not None and current <= until:
        if current > after:
            yield current
        previous = current
        current = trigger.get_next_fire_time(previous, current + timedelta(microseconds=1))


def last_fire_time(trigger: BaseTrigger, now: datetime, grace: timedelta) -> datetime | None:
    """The latest fire time in (now - grace, now], if any."""
    last = None
    for when in fire_times(trigger, now - grace, now):
        last = when
    return last


class Scheduler:
    """Wraps a BackgroundScheduler; the clock decides what `scheduled_for` a firing has."""

    def __init__(self, clock: Clock, *, grace: timedelta = DEFAULT_GRACE) -> None:
        self.clock = clock
        self.grace = grace
        self._aps = BackgroundScheduler(
            timezone="UTC",
            job_defaults={
                "coalesce": True,
                "max_instances": 1,
                "misfire_grace_time": int(grace.total_seconds()),
            },
        )

    @property
    def running(self) -> bool:
        return bool(self._aps.running)

    def every(
        self, job_id: str, name: str, seconds: float, func: Callable[..., Any], *args: Any,
        start_now: bool = False,
    ) -> None:
        """func(*args) every `seconds`; with `start_now` the first run is right after the
        scheduler starts instead of one interval later."""
        extra: dict[str, Any] = {"next_run_time": SystemClock().now()} if start_now else {}
        self._aps.add_job(
            _safe(job_id, func),
            IntervalTrigger(seconds=seconds),
            args=args,
            id=job_id,
            name=name,
            replace_existing=True,
            **extra,
        )

    def cron(
        self,
        job_id: str,
        name: str,
        trigger: CronTrigger,
        func: Callable[..., Any],
        *args: Any,
        catch_up: bool = True,
    ) -> None:
        """Add (or replace) a cron job; func(*args, scheduled_for=...) runs at each firing."""

        def fire() -> None:
            when = last_fire_time(trigger, self.clock.now(), self.grace)
            if when is not None:
                func(*args, scheduled_for=when)

        extra: dict[str, Any] = {}
        if catch_up:  # first run right away: it sends a firing missed within the grace window
            extra["next_run_time"] = SystemClock().now()  # APScheduler runs on wall time
        self._aps.add_job(
            _safe(job_id, fire), trigger, id=job_id, name=name, replace_existing=True, **extra
        )

    def remove(self, job_id: str) -> None:
        if self._aps.get_job(job_id) is not None:
            self._aps.remove_job(job_id)

    def job_ids(self) -> list[str]:
        return [job.id for job in self._aps.get_jobs()]

    def next_run(self, job_id: str) -> datetime | None:
        job = self._aps.get_job(job_id)
        return getattr(job, "next_run_time", None) if job else None

    def start(self) -> None:
        self._aps.start()

    def shutdown(self, wait: bool = True) -> None:
        if self._aps.running:
            self._aps.shutdown(wait=wait)


def _safe(job_id: str, func: Callable[..., Any]) -> Callable[..., None]:
    def run(*args: Any) -> None:
        try:
            func(*args)
        except Exception:  # a failing job logs and waits for its next firing
            log.exception("job %s failed", job_id)

    return run
