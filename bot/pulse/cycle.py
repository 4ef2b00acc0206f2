"""A pulse's life: opening on schedule, the reminder, closing and sealing, and the scheduler jobs."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from apscheduler.triggers.cron import CronTrigger
from sqlmodel import Session

from supportbot.bot import teams
from supportbot.bot.clock import Clock
from supportbot.bot.errors import Conflict, InvalidInput
from supportbot.bot.outbox import enqueue
from supportbot.bot.pulse.results import alerts
from supportbot.bot.pulse.settings import (
    ALERT_KIND,
    CLOSED_DM_KIND,
    DEFAULT_OPEN_HOURS,
    INVITE_KIND,
    REMINDER_KIND,
    RESULTS_KIND,
    min_answers,
    settings_of,
    week_of,
)
from supportbot.bot.scheduler import DEFAULT_GRACE, last_fire_time
from supportbot.bot.timeutil import zone
from supportbot.storage import pulse as store
from supportbot.storage import teams as team_store
from supportbot.storage.claims import try_claim
from supportbot.storage.models import Team
from supportbot.storage.pulse import Pulse, PulseSchedule

log = logging.getLogger(__name__)


# ----- opening ------------------------------------------------------------------------

def open_pulse(
    session: Session, *, team: Team, opened_by: str | None, at: datetime, clock: Clock
) -> Pulse:
    """Open a pulse now and queue one invitation DM per member (paced by the outbox)."""
    assert team.id is not None
    if store.open_pulse_of_team(session=session, team_id=team.id) is not None:
        raise Conflict("pulse.already_open", team=team.name)
    members = team_store.agents_of(session=session, team_id=team.id)
    if not members:
        raise InvalidInput("pulse.no_members", team=team.name)
    row = settings_of(session, team=team, user_id=opened_by or "scheduler", now=at)
    hours = row.open_hours or DEFAULT_OPEN_HOURS
    pulse = store.save(
        session=session,
        row=Pulse(
            workspace_id=team.workspace_id,
            team_id=team.id,
            week=week_of(at, team.timezone),
            questions=dict(row.questions),
            min_answers=min_answers(team),
            opened_at=at,
            remind_at=at + timedelta(hours=hours / 2),
            closes_at=at + timedelta(hours=hours),
            opened_by=opened_by,
        ),
    )
    for respondent in store.add_respondents(session=session, pulse=pulse, user_ids=members):
        enqueue(
            session, workspace_id=team.workspace_id, kind=INVITE_KIND,
            data={"respondent_id": respondent.id}, clock=clock,
            dedupe_key=f"pulse:{pulse.id}:invite:{respondent.id}",
        )
    return pulse


def start_now(session: Session, *, team: Team, leader_id: str, clock: Clock) -> tuple[Pulse, int]:
    teams.require_leader(session, team, leader_id)
    pulse = open_pulse(session, team=team, opened_by=leader_id, at=clock.now(), clock=clock)
    _answered, asked = store.count_answered(session=session, pulse_id=pulse.id or 0)
    return pulse, asked


def trigger(row: PulseSchedule, team: Team) -> CronTrigger:
    assert row.days and row.time
    hour, minute = (int(x) for x in row.time.split(":"))
    return CronTrigger(day_of_week=row.days, hour=hour, minute=minute, timezone=zone(team.timezone))


def open_due(session: Session, *, clock: Clock, grace: timedelta = DEFAULT_GRACE) -> int:
    """Open every scheduled pulse whose time passed within the grace window, once per
    firing whichever replica or restart gets here first (a claim keyed by the time)."""
    now = clock.now()
    count = 0
    for row in store.all_schedules(session=session):
        team = team_store.get_team(session=session, team_id=row.team_id)
        if team is None:
            continue
        when = last_fire_time(trigger(row, team), now, grace)
        if when is None or not try_claim(session=session, key=f"pulse:{row.id}:{when.isoformat()}", now=now):
            continue
        if store.open_pulse_of_team(session=session, team_id=row.team_id) is not None:
            continue  # last week's is still open (a window longer than a week)
        if not team_store.agents_of(session=session, team_id=row.team_id):
            continue
        open_pulse(session, team=team, opened_by=None, at=when, clock=clock)
        count += 1
    return count


def queue_reminders(session: Session, *, clock: Clock) -> int:
    """One reminder per pulse to those who have not answered (a fresh DM)."""
    count = 0
    for pulse in store.reminders_due(session=session, now=clock.now()):
        assert pulse.id is not None
        if not store.mark_reminded(session=session, pulse_id=pulse.id):
            continue
        for r in store.respondents_of(session=session, pulse_id=pulse.id):
            if not r.answered:
                enqueue(
                    session, workspace_id=pulse.workspace_id, kind=REMINDER_KIND,
                    data={"respondent_id": r.id}, clock=clock,
                    dedupe_key=f"pulse:{pulse.id}:remind:{r.id}",
                )
                count += 1
    return count


def close(session: Session, pulse: Pulse, *, clock: Clock) -> bool:
    """Close, seal, post the week's result, tell leaders what moved, and take the answer
    buttons out of the members' DMs. False when someone else closed it first."""
    assert pulse.id is not None
    if not store.mark_closed(session=session, pulse_id=pulse.id):
        return False
    pulse.closed = True
    store.seal(session=session, pulse_id=pulse.id)
    ws = pulse.workspace_id
    enqueue(
        session, workspace_id=ws, kind=RESULTS_KIND, data={"pulse_id": pulse.id}, clock=clock,
        dedupe_key=f"pulse:{pulse.id}:results",
    )
    for r in store.respondents_of(session=session, pulse_id=pulse.id):
        for which, ts in (("invite", r.dm_ts), ("reminder", r.reminder_ts)):
            if ts:
                enqueue(
                    session, workspace_id=ws, kind=CLOSED_DM_KIND,
                    data={"respondent_id": r.id, "which": which}, clock=clock,
                    dedupe_key=f"pulse:{pulse.id}:closed:{r.id}:{which}",
                )
    team = team_store.get_team(session=session, team_id=pulse.team_id)
    if team is not None:
        reasons = alerts(session, team=team)
        if reasons:
            for leader in team_store.leaders_of(session=session, team_id=pulse.team_id):
                enqueue(
                    session, workspace_id=ws, kind=ALERT_KIND,
                    data={"pulse_id": pulse.id, "leader_id": leader, "reasons": reasons},
                    clock=clock, dedupe_key=f"pulse:{pulse.id}:alert:{leader}",
                )
    return True


def close_due(session: Session, *, clock: Clock) -> int:
    return sum(close(session, p, clock=clock) for p in store.pulses_to_close(session=session, now=clock.now()))


def check(rt: Any) -> None:
    """Job (every minute): scheduled pulses to open, the reminder, pulses to close."""

    def queue(session: Session, *, clock: Clock) -> int:
        return (
            open_due(session, clock=clock)
            + queue_reminders(session, clock=clock)
            + close_due(session, clock=clock)
        )

    rt.queue_and_deliver(queue, "pulse messages")


def install_jobs(scheduler: Any, rt: Any) -> None:
    scheduler.every("pulse.check", "Pulse openings, reminders and closing", 60, check, rt)


