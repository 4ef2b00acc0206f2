"""Stand-up scheduling that can be trusted: a restart in the middle neither repeats nor
skips a prompt, two runtimes (and two real processes) sharing one database send each
message once, the scheduler's jobs follow the schedule rows, Retry-After is honoured."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from supportbot.bot import standups
from supportbot.bot.app import build_app
from supportbot.bot.runtime import Runtime, build_runtime
from supportbot.bot.scheduler import Scheduler
from supportbot.bot.standin.slack import WORKSPACE
from supportbot.storage import standups as store
from tests.rig import BotRig
from tests.test_replicas import run_replicas

TUE_0930 = datetime(2026, 11, 24, 9, 30, tzinfo=UTC)


def setup(rig: BotRig, standin) -> int:  # type: ignore[no-untyped-def]
    standin.add_user("U0AGENT01", tz="UTC")
    standin.add_user("U0AGENT02", tz="UTC")
    rig.make_team()
    rig.command("/standup", "schedule mon-fri 09:30", user="U0LEAD01", channel="C0ESCAL01")
    with rig.rt.transaction(readonly=True) as session:
        return store.all_schedules(session=session)[0].id or 0


def top_posts(standin) -> list:  # type: ignore[no-untyped-def]
    return [c for c in standin.posts("C0DIGEST1") if not c.args.get("thread_ts")]


def test_restart_in_the_middle_neither_repeats_nor_skips(standin, database_url: str, clock) -> None:  # type: ignore[no-untyped-def]
    first = BotRig(standin, database_url, clock)
    sid = setup(first, standin)
    clock.set(TUE_0930)
    with first.rt.transaction() as session:
        standups.fire(session, schedule_id=sid, tz="UTC", scheduled_for=TUE_0930, clock=clock)
    first.rt.outbox.drain(limit=2)  # the day's message and one prompt go out, then the bot dies
    first.close()
    assert len(top_posts(standin)) == 1
    sent_before = len(standin.dms("U0AGENT01")) + len(standin.dms("U0AGENT02"))
    assert sent_before == 1

    second = BotRig(standin, database_url, clock)  # restart 10 minutes later, inside the grace
    try:
        clock.set(TUE_0930 + timedelta(minutes=10))
        standups.run_standup(second.rt, sid, "UTC", scheduled_for=TUE_0930)  # the catch-up run
        standups.check(second.rt)
        second.deliver()
        assert len(standin.dms("U0AGENT01")) == 1 and len(standin.dms("U0AGENT02")) == 1
        assert len(top_posts(standin)) == 1
    finally:
        second.close()


def test_bot_down_at_the_time_prompts_after_restart_within_grace(standin, database_url: str, clock) -> None:  # type: ignore[no-untyped-def]
    rig = BotRig(standin, database_url, clock)
    try:
        setup(rig, standin)
        clock.set(TUE_0930 + timedelta(minutes=20))  # started late: the 09:30 firing was missed
        standups.check(rig.rt)
        rig.deliver()
        assert len(standin.dms("U0AGENT01")) == 1 and len(standin.dms("U0AGENT02")) == 1
        clock.set(TUE_0930 + timedelta(days=1, minutes=45))  # outside the 30 min grace: skipped
        standups.check(rig.rt)
        rig.deliver()
        assert len(standin.dms("U0AGENT01")) == 1
    finally:
        rig.close()


def in_two_runtimes(rig: BotRig, job: Callable[[Runtime], None]) -> None:
    """Run `job` and then the outbox at the same moment in the rig's runtime and in a
    second one on the same database (two replicas); neither may fail."""
    other = build_runtime(rig.settings, clock=rig.clock, pace_seconds=0)
    build_app(other, token_verification=False)
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def replica(rt: Runtime) -> None:
        try:
            barrier.wait()
            job(rt)
            rt.outbox.drain()
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=replica, args=(rt,)) for rt in (rig.rt, other)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(60)
    other.engine.dispose()
    assert errors == []


def test_two_runtimes_sharing_one_database_send_each_message_once(rig: BotRig, standin) -> None:  # type: ignore[no-untyped-def]
    sid = setup(rig, standin)
    rig.clock.set(TUE_0930)

    def job(rt: Runtime) -> None:
        standups.run_standup(rt, sid, "UTC", scheduled_for=TUE_0930)
        standups.check(rt)

    in_two_runtimes(rig, job)
    rig.deliver()
    assert len(standin.dms("U0AGENT01")) == 1 and len(standin.dms("U0AGENT02")) == 1
    assert len(top_posts(standin)) == 1


def test_two_processes_send_each_prompt_once(tmp_path: Path, rig: BotRig, standin, database_url: str) -> None:  # type: ignore[no-untyped-def]
    sid = setup(rig, standin)
    run_replicas(tmp_path, standin, database_url, "2026-11-24T09:30:05+00:00", "supportbot.bot.standups:run_standup", "--scheduled-for", TUE_0930.isoformat(), str(sid), "UTC")
    assert len(standin.dms("U0AGENT01")) == 1 and len(standin.dms("U0AGENT02")) == 1
    assert len(top_posts(standin)) == 1


def test_rate_limited_fan_out_honours_retry_after(rig: BotRig, standin) -> None:  # type: ignore[no-untyped-def]
    sid = setup(rig, standin)
    standin.fail("chat.postMessage", "ratelimited", status=429, retry_after=30)
    rig.clock.set(TUE_0930)
    standups.run_standup(rig.rt, sid, "UTC", scheduled_for=TUE_0930)
    rig.deliver()
    assert len(standin.dms("U0AGENT01")) + len(standin.dms("U0AGENT02")) + len(top_posts(standin)) == 2
    rig.clock.advance(seconds=10)
    rig.deliver()  # still inside Retry-After: the limited message waits
    assert len(standin.dms("U0AGENT01")) + len(standin.dms("U0AGENT02")) + len(top_posts(standin)) == 2
    rig.clock.advance(seconds=25)
    rig.deliver()
    assert len(standin.dms("U0AGENT01")) == 1 and len(standin.dms("U0AGENT02")) == 1
    assert len(top_posts(standin)) == 1


def test_jobs_built_from_rows_and_rebuilt_on_change(rig: BotRig, standin) -> None:  # type: ignore[no-untyped-def]
    sid = setup(rig, standin)
    scheduler = Scheduler(rig.clock)
    rig.rt.scheduler = scheduler  # as bot.jobs.install_all does
    standups.install_jobs(scheduler, rig.rt)
    assert sorted(j for j in scheduler.job_ids() if j.startswith("standup:")) == [f"standup:{sid}:UTC"]
    rig.command("/standup", "timezone America/Chicago", user="U0AGENT01")
    assert sorted(j for j in scheduler.job_ids() if j.startswith("standup:")) == [
        f"standup:{sid}:America/Chicago", f"standup:{sid}:UTC",
    ]
    rig.command("/standup", "pause", user="U0LEAD01", channel="C0ESCAL01")
    assert [j for j in scheduler.job_ids() if j.startswith("standup:")] == []
    rig.command("/standup", "resume", user="U0LEAD01", channel="C0ESCAL01")
    assert len([j for j in scheduler.job_ids() if j.startswith("standup:")]) == 2
    assert "standups.check" in scheduler.job_ids()


def test_zones_learnt_elsewhere_rebuild_the_jobs_at_the_next_check(rig: BotRig, standin) -> None:  # type: ignore[no-untyped-def]
    sid = setup(rig, standin)
    scheduler = Scheduler(rig.clock)
    rig.rt.scheduler = scheduler
    standups.install_jobs(scheduler, rig.rt)
    assert standups.sync_jobs(rig.rt) == 0  # nothing changed
    # A users.list page read by another replica (or after this one built its jobs).
    with rig.rt.transaction() as session:
        standups.set_member_timezone(session, workspace_id=WORKSPACE, user_id="U0AGENT02", tz="Asia/Tokyo", source="slack", now=rig.clock.now())
    assert f"standup:{sid}:Asia/Tokyo" not in scheduler.job_ids()
    assert standups.sync_jobs(rig.rt) == 1
    assert f"standup:{sid}:Asia/Tokyo" in scheduler.job_ids()
    assert standups.sync_jobs(rig.rt) == 0
