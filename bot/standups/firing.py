"""Firing a stand-up: the day's run, each member's prompt, catch-up, reminders, cutoffs, and the scheduler jobs."""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from typing import Any

from sqlmodel import Session

from supportbot.bot import away
from supportbot.bot.clock import Clock
from supportbot.bot.outbox import enqueue, enqueue_many
from supportbot.bot.scheduler import DEFAULT_GRACE, last_fire_time
from supportbot.bot.standups.schedules import (
    POST_KIND,
    PROMPT_KIND,
    REMINDER_KIND,
    SUMMARY_KIND,
    channel_of,
    leader_schedule,
    member_zones,
    schedule_days,
    trigger,
)
from supportbot.bot.timeutil import zone
from supportbot.storage import standups as store
from supportbot.storage import teams as team_store
from supportbot.storage.claims import try_claim
from supportbot.storage.models import Team
from supportbot.storage.standups import AWAY, PROMPTED, StandupPrompt, StandupRun, StandupSchedule

log = logging.getLogger(__name__)


# ----- firing -------------------------------------------------------------------------
def _run_of(
    session: Session, *, schedule: StandupSchedule, team: Team, day: date, closes_at: datetime,
    clock: Clock,
) -> StandupRun:
    assert schedule.id is not None
    run, created = store.get_or_create_run(
        session=session,
        run=StandupRun(
            workspace_id=team.workspace_id,
            schedule_id=schedule.id,
            team_id=schedule.team_id,
            day=day,
            channel_id=channel_of(schedule, team),
            questions=list(schedule.questions),
            blocker_question=schedule.blocker_question,
            closes_at=closes_at,
            created_at=clock.now(),
        ),
    )
    if created:
        enqueue(
            session, workspace_id=team.workspace_id, kind=POST_KIND, data={"run_id": run.id},
            clock=clock, dedupe_key=f"standup:run:{run.id}:post",
        )
    elif closes_at > run.closes_at and not run.closed:
        run.closes_at = closes_at
        store.save(session=session, row=run)
    return run


def prompt_members(
    session: Session,
    *,
    schedule: StandupSchedule,
    team: Team,
    people: list[str],
    at: datetime,
    day: date,
    clock: Clock,
) -> int:
    """Prompt these members for the stand-up of `day` scheduled at `at`; each member once
    per day whoever (replica, restart, `/standup now`) gets here first."""
    cutoff = at + timedelta(minutes=schedule.cutoff_minutes)
    run = _run_of(session, schedule=schedule, team=team, day=day, closes_at=cutoff, clock=clock)
    if run.closed:
        return 0
    assert run.id is not None
    away_now = away.away_among(session, workspace_id=team.workspace_id, user_ids=people, at=at)
    added = store.add_prompts(
        session=session,
        template=StandupPrompt(
            workspace_id=team.workspace_id,
            run_id=run.id,
            user_id="",
            prompted_at=at,
            remind_at=at + timedelta(minutes=schedule.reminder_minutes),
            cutoff_at=cutoff,
        ),
        people=[(user_id, AWAY if user_id in away_now else PROMPTED) for user_id in people],
    )
    return enqueue_many(
        session, workspace_id=team.workspace_id, kind=PROMPT_KIND, clock=clock,
        items=[({"prompt_id": pid}, f"standup:prompt:{pid}") for pid, _user, status in added if status == PROMPTED],
    )


def _due_day(schedule: StandupSchedule, when: datetime, tz: str) -> date | None:
    """The local day of a firing, or None when the schedule should not fire then."""
    if schedule.paused:
        return None
    local = when.astimezone(zone(tz))
    if local.weekday() not in schedule_days(schedule) or local.date().isoformat() in schedule.skip_days:
        return None
    return local.date()


def fire(session: Session, *, schedule_id: int, tz: str, scheduled_for: datetime, clock: Clock) -> int:
    """The firing of one schedule in one zone: prompt the members living in that zone."""
    schedule = store.get_schedule(session=session, schedule_id=schedule_id)
    if schedule is None:
        return 0
    team = team_store.get_team(session=session, team_id=schedule.team_id)
    day = _due_day(schedule, scheduled_for, tz) if schedule else None
    if team is None or day is None:
        return 0
    if not try_claim(
        session=session, key=f"standup:{schedule_id}:{tz}:{scheduled_for.isoformat()}",
        now=clock.now(),
    ):
        return 0
    people = [m for m, z in member_zones(session, team).items() if z == tz]
    if not people:
        return 0
    return prompt_members(
        session, schedule=schedule, team=team, people=people, at=scheduled_for, day=day,
        clock=clock,
    )


def run_standup(rt: Any, schedule_id: int, tz: str, *, scheduled_for: datetime) -> None:
    """Job: one schedule's firing in one zone."""
    with rt.transaction() as session:
        count = fire(session, schedule_id=schedule_id, tz=tz, scheduled_for=scheduled_for, clock=rt.clock)
    if count:
        log.info("stand-up %s (%s): prompted %d", schedule_id, tz, count)
        rt.outbox.kick()


def start_now(session: Session, *, team: Team, leader_id: str, clock: Clock) -> int:
    """`/standup now`: today's stand-up for every member, at once."""
    schedule = leader_schedule(session, team=team, leader_id=leader_id)
    now = clock.now()
    day = now.astimezone(zone(team.timezone)).date()
    return prompt_members(
        session, schedule=schedule, team=team, people=list(member_zones(session, team)),
        at=now, day=day, clock=clock,
    )


def catch_up(session: Session, *, clock: Clock, grace: timedelta = DEFAULT_GRACE) -> int:
    """Prompt every member whose stand-up time passed within the grace window and who has
    no prompt yet (a zone whose job this replica does not have yet, a missed firing)."""
    now = clock.now()
    count = 0
    for schedule in store.all_schedules(session=session):
        if schedule.paused:
            continue
        team = team_store.get_team(session=session, team_id=schedule.team_id)
        if team is None:
            continue
        by_zone: dict[str, list[str]] = {}
        for member, tz in member_zones(session, team).items():
            by_zone.setdefault(tz, []).append(member)
        for tz, people in by_zone.items():
            when = last_fire_time(trigger(schedule, tz), now, grace)
            day = _due_day(schedule, when, tz) if when else None
            if when is None or day is None:
                continue
            count += prompt_members(
                session, schedule=schedule, team=team, people=people, at=when, day=day,
                clock=clock,
            )
    return count


def queue_reminders(session: Session, *, clock: Clock) -> int:
    count = 0
    for prompt in store.reminders_due(session=session, now=clock.now()):
        assert prompt.id is not None
        if store.mark_reminded(session=session, prompt_id=prompt.id):
            enqueue(
                session, workspace_id=prompt.workspace_id, kind=REMINDER_KIND,
                data={"prompt_id": prompt.id}, clock=clock,
                dedupe_key=f"standup:remind:{prompt.id}",
            )
            count += 1
    return count


def queue_cutoffs(session: Session, *, clock: Clock) -> int:
    count = 0
    for run in store.runs_to_close(session=session, now=clock.now()):
        assert run.id is not None
        if store.mark_closed(session=session, run_id=run.id):
            enqueue(
                session, workspace_id=run.workspace_id, kind=SUMMARY_KIND,
                data={"run_id": run.id}, clock=clock, dedupe_key=f"standup:run:{run.id}:summary",
            )
            count += 1
    return count


def check(rt: Any) -> None:
    """Job (every minute): missed prompts inside the grace window, reminders, cutoffs."""

    def queue(session: Session, *, clock: Clock) -> int:
        return (
            catch_up(session, clock=clock)
            + queue_reminders(session, clock=clock)
            + queue_cutoffs(session, clock=clock)
        )

    rt.queue_and_deliver(queue, "stand-up messages")
    sync_jobs(rt)


# ----- the scheduler ----------------------------------------------------------------------
JOB_PREFIX = "standup:"


def _install_schedule(scheduler: Any, rt: Any, session: Session, schedule: StandupSchedule) -> None:
    assert schedule.id is not None
    prefix = f"{JOB_PREFIX}{schedule.id}:"
    for job_id in scheduler.job_ids():
        if job_id.startswith(prefix):
            scheduler.remove(job_id)
    team = team_store.get_team(session=session, team_id=schedule.team_id)
    if team is None or schedule.paused:
        return
    for tz in sorted(set(member_zones(session, team).values()) | {team.timezone}):
        scheduler.cron(
            f"{prefix}{tz}", f"Stand-up {team.name} ({tz})", trigger(schedule, tz),
            run_standup, rt, schedule.id, tz,
        )


def _wanted_jobs(session: Session, schedule: StandupSchedule) -> set[str]:
    team = team_store.get_team(session=session, team_id=schedule.team_id)
    if team is None or schedule.paused:
        return set()
    zones = set(member_zones(session, team).values()) | {team.timezone}
    return {f"{JOB_PREFIX}{schedule.id}:{tz}" for tz in zones}


def sync_jobs(rt: Any) -> int:
    """Rebuild the jobs of schedules whose members' zones changed since they were built
    (zones read from Slack after `/standup schedule`, a schedule made on another replica);
    -> how many schedules were rebuilt."""
    scheduler = rt.scheduler
    if scheduler is None:
        return 0
    have = set(scheduler.job_ids())
    stale = []
    with rt.transaction(readonly=True) as session:
        for schedule in store.all_schedules(session=session):
            prefix = f"{JOB_PREFIX}{schedule.id}:"
            if {j for j in have if j.startswith(prefix)} != _wanted_jobs(session, schedule):
                stale.append(schedule.id or 0)
    if stale:
        reschedule(rt, stale)
    return len(stale)


def install_jobs(scheduler: Any, rt: Any) -> None:
    scheduler.every("standups.check", "Stand-up catch-up, reminders and cutoffs", 60, check, rt)
    with rt.transaction(readonly=True) as session:
        for schedule in store.all_schedules(session=session):
            _install_schedule(scheduler, rt, session, schedule)


def reschedule(rt: Any, schedule_ids: list[int]) -> None:
    """Rebuild the jobs of these schedules in this process's scheduler (if it runs one)."""
    scheduler = rt.scheduler
    if scheduler is None:
        return
    with rt.transaction(readonly=True) as session:
        for schedule_id in schedule_ids:
            schedule = store.get_schedule(session=session, schedule_id=schedule_id)
            if schedule is not None:
                _install_schedule(scheduler, rt, session, schedule)


