"""Fire times in team time zones (DST included) and catch-up of a firing missed while down,
with the real APScheduler and a controlled clock."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from apscheduler.triggers.cron import CronTrigger

from supportbot.bot.clock import FixedClock
from supportbot.bot.scheduler import Scheduler, fire_times, last_fire_time


def test_fire_times_follow_local_time_across_dst() -> None:
    trigger = CronTrigger(day_of_week="mon-fri", hour=9, minute=30, timezone="Europe/Madrid")
    start = datetime(2026, 10, 22, 0, 0, tzinfo=UTC)
    times = list(fire_times(trigger, start, start + timedelta(days=7)))
    # Thu 22, Fri 23 (CEST, UTC+2), Mon 26, Tue 27, Wed 28 (CET, UTC+1); no weekend
    assert [t.astimezone(UTC).strftime("%a %d %H:%M") for t in times] == [
        "Thu 22 07:30", "Fri 23 07:30", "Mon 26 08:30", "Tue 27 08:30", "Wed 28 08:30",
    ]


def test_last_fire_time_inside_grace_only() -> None:
    trigger = CronTrigger(hour=9, minute=0, timezone="UTC")
    now = datetime(2026, 11, 23, 9, 20, tzinfo=UTC)
    assert last_fire_time(trigger, now, timedelta(minutes=30)) == datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    assert last_fire_time(trigger, now, timedelta(minutes=10)) is None


def test_started_scheduler_catches_up_a_missed_firing() -> None:
    clock = FixedClock(datetime(2026, 11, 23, 9, 20, tzinfo=UTC))
    scheduler = Scheduler(clock, grace=timedelta(minutes=30))
    fired: list[tuple[str, datetime]] = []
    done = threading.Event()

    def job(name: str, *, scheduled_for: datetime) -> None:
        fired.append((name, scheduled_for))
        done.set()

    scheduler.cron("digest:1", "Digest", CronTrigger(hour=9, minute=0, timezone="UTC"), job, "team-1")
    scheduler.start()
    try:
        assert done.wait(10)
    finally:
        scheduler.shutdown()
    assert fired == [("team-1", datetime(2026, 11, 23, 9, 0, tzinfo=UTC))]
    assert "digest:1" in scheduler.job_ids() or not scheduler.running
