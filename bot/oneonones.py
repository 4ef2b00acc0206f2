"""1:1s: a leader meets an agent of their team weekly or every other week; both get a DM
with the agenda some minutes before (talking points that carry forward until discussed,
open action items, KPIs since the last 1:1 against the team, kudos, escalations; the
leader's copy adds their coaching follow-ups and the agent's goals). "Done" stores the
notes as a coaching note; "Move to tomorrow" moves one meeting.

Like stand-ups, a reminder is claimed in the database per (1:1, scheduled time) and each
DM has an outbox dedupe key, so restarts and replicas neither repeat nor skip it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from apscheduler.triggers.cron import CronTrigger
from sqlmodel import Session

from supportbot.bot import away, keywords, standups, teams
from supportbot.bot.clock import Clock
from supportbot.bot.errors import Conflict, InvalidInput, NotAllowed, NotFound
from supportbot.bot.keywords import fold
from supportbot.bot.outbox import enqueue
from supportbot.bot.scheduler import DEFAULT_GRACE, last_fire_time
from supportbot.bot.timeutil import parse_duration, parse_hhmm, zone
from supportbot.storage import oneonones as store
from supportbot.storage import teams as team_store
from supportbot.storage.claims import try_claim
from supportbot.storage.models import Team
from supportbot.storage.oneonones import OneOnOne, OneOnOneAction, OneOnOneMeeting, OneOnOneTopic

try:
    from supportbot.bot import coaching as _coaching
except ImportError:  # pragma: no cover - the feature lands separately
    _coaching = None  # type: ignore[assignment]
try:
    from supportbot.bot import kpis as _kpis
except ImportError:  # pragma: no cover
    _kpis = None  # type: ignore[assignment]
try:
    from supportbot.storage import kudos as _kudos
except ImportError:  # pragma: no cover
    _kudos = None  # type: ignore[assignment]
try:
    from supportbot.storage import escalations as _escalations
except ImportError:  # pragma: no cover
    _escalations = None  # type: ignore[assignment]

log = logging.getLogger(__name__)

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
CADENCES = ("weekly", "biweekly")
DEFAULT_LEAD = 30
TOPIC_MAX = 1000
ACTION_MAX = 500
REMINDER_KIND = "oneonone.reminder"
MOVED_KIND = "oneonone.moved"


def local_today(team: Team, now: datetime) -> date:
    return now.astimezone(zone(team.timezone)).date()


def parse_weekday(text: str) -> int:
    key = keywords.canonical("oneonones", text) or fold(text)[:3]
    if key not in DAYS:
        raise InvalidInput("oneonones.bad_day")
    return DAYS.index(key)


def agent_team(session: Session, *, workspace_id: str, leader_id: str, agent_id: str) -> Team:
    """The team the leader leads and the agent is a member of."""
    for team in team_store.teams_led_by(session=session, workspace_id=workspace_id, user_id=leader_id):
        row = team_store.get_membership(session=session, team_id=team.id or 0, user_id=agent_id)
        if row is not None and not teams.is_leader(session, team, agent_id):
            return team
    raise NotAllowed("oneonones.not_your_agent")


def still_leads(session: Session, row: OneOnOne) -> bool:
    """Whether the 1:1's leader still leads its agent: once not (the leader stepped down or
    moved team, the agent left), it sends no agenda and nobody can close it as its leader."""
    try:
        agent_team(session, workspace_id=row.workspace_id, leader_id=row.leader_id, agent_id=row.agent_id)
    except NotAllowed:
        return False
    return True


def first_meeting_day(team: Team, weekday: int, hhmm: str, now: datetime) -> date:
    today = local_today(team, now)
    day = today + timedelta(days=(weekday - today.weekday()) % 7)
    if meeting_at(team, day, hhmm) <= now:
        day += timedelta(days=7)
    return day


def meeting_at(team: Team, day: date, hhmm: str) -> datetime:
    hour, minute = (int(x) for x in hhmm.split(":"))
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone(team.timezone))


def schedule(
    session: Session,
    *,
    workspace_id: str,
    leader_id: str,
    agent_id: str,
    cadence: str,
    weekday: int,
    at: str,
    lead: str | None = None,
    now: datetime,
) -> OneOnOne:
    cadence = cadence.lower()
    if cadence not in CADENCES:
        raise InvalidInput("oneonones.usage")
    hhmm = parse_hhmm(at)
    if leader_id == agent_id:
        raise InvalidInput("oneonones.not_yourself")
    team = agent_team(session, workspace_id=workspace_id, leader_id=leader_id, agent_id=agent_id)
    lead_minutes = DEFAULT_LEAD
    if lead:
        lead_minutes = int(parse_duration(lead).total_seconds() // 60)
        if not 5 <= lead_minutes <= 24 * 60:
            raise InvalidInput("oneonones.bad_lead")
    row = store.pair(session=session, workspace_id=workspace_id, leader_id=leader_id, agent_id=agent_id)
    if row is None:
        row = OneOnOne(
            workspace_id=workspace_id, team_id=team.id or 0, leader_id=leader_id, agent_id=agent_id,
            cadence=cadence, weekday=weekday, time=hhmm, lead_minutes=lead_minutes,
            anchor_on=first_meeting_day(team, weekday, hhmm, now), created_at=now,
        )
    else:
        row.team_id, row.cadence, row.weekday, row.time = team.id or 0, cadence, weekday, hhmm
        row.lead_minutes = lead_minutes if lead else row.lead_minutes
        row.anchor_on = first_meeting_day(team, weekday, hhmm, now)
        row.active = True
    store.save(session=session, row=row)
    return row


def cancel(session: Session, *, workspace_id: str, leader_id: str, agent_id: str) -> OneOnOne:
    row = store.pair(session=session, workspace_id=workspace_id, leader_id=leader_id, agent_id=agent_id)
    if row is None or not row.active:
        raise NotFound("oneonones.no_such")
    row.active = False
    store.save(session=session, row=row)
    return row


def add_topic(
    session: Session, *, workspace_id: str, user_id: str, text: str, with_user: str | None, now: datetime
) -> OneOnOne:
    """An agent adds a talking point to their 1:1 (with `with_user` when they have several);
    a leader may add one to a 1:1 they lead by naming the agent."""
    text = (text or "").replace("\x00", "").strip()
    if not text:
        raise InvalidInput("oneonones.topic_empty")
    if len(text) > TOPIC_MAX:
        raise InvalidInput("oneonones.topic_long", max=TOPIC_MAX)
    mine = [o for o in store.of_user(session=session, workspace_id=workspace_id, user_id=user_id)]
    if with_user:
        mine = [o for o in mine if with_user in (o.leader_id, o.agent_id)]
    if not mine:
        raise NotFound("oneonones.none_for_topic")
    if len(mine) > 1:
        raise InvalidInput("oneonones.topic_which")
    row = mine[0]
    store.save(
        session=session,
        row=OneOnOneTopic(workspace_id=workspace_id, oneonone_id=row.id or 0, author_id=user_id, text=text, created_at=now),
    )
    return row


# ----- when -------------------------------------------------------------------------
def reminder_trigger(row: OneOnOne, team: Team) -> CronTrigger:
    """Fires `lead_minutes` before each weekly occurrence (in the team's zone)."""
    hour, minute = (int(x) for x in row.time.split(":"))
    reference = datetime(2026, 1, 5, hour, minute) + timedelta(days=row.weekday)  # a Monday
    fire = reference - timedelta(minutes=row.lead_minutes)
    return CronTrigger(
        day_of_week=DAYS[fire.weekday()], hour=fire.hour, minute=fire.minute, timezone=zone(team.timezone)
    )


def occurs_on(row: OneOnOne, day: date) -> bool:
    if day < row.anchor_on or day.weekday() != row.weekday:
        return False
    return row.cadence == "weekly" or ((day - row.anchor_on).days // 7) % 2 == 0


def fire(session: Session, *, oneonone_id: int, scheduled_for: datetime, clock: Clock) -> int:
    """The reminder firing of one 1:1: create the meeting and DM both (each once)."""
    row = store.get(session=session, oneonone_id=oneonone_id)
    if row is None or not row.active:
        return 0
    team = team_store.get_team(session=session, team_id=row.team_id)
    if team is None:
        return 0
    at = scheduled_for + timedelta(minutes=row.lead_minutes)
    day = at.astimezone(zone(team.timezone)).date()
    hour, minute = (int(x) for x in row.time.split(":"))
    local = at.astimezone(zone(team.timezone))
    if not occurs_on(row, day) or (local.hour, local.minute) != (hour, minute):
        return 0
    if not try_claim(session=session, key=f"oneonone:{oneonone_id}:{scheduled_for.isoformat()}", now=clock.now()):
        return 0
    if standups.is_team_holiday(session, team_id=team.id or 0, day=day):
        return 0
    for person in (row.leader_id, row.agent_id):
        if away.is_away(session, workspace_id=row.workspace_id, user_id=person, at=at):
            return 0
    meeting, _created = store.meeting_for(
        session=session,
        meeting=OneOnOneMeeting(workspace_id=row.workspace_id, oneonone_id=oneonone_id, scheduled_at=at, at=at, created_at=clock.now()),
    )
    return remind(session, row=row, meeting=meeting, clock=clock)


def remind(session: Session, *, row: OneOnOne, meeting: OneOnOneMeeting, clock: Clock) -> int:
    if meeting.done_at is not None or not still_leads(session, row):
        return 0
    if not store.mark_reminded(session=session, meeting_id=meeting.id or 0, at=meeting.at):
        return 0
    for person in (row.leader_id, row.agent_id):
        enqueue(
            session, workspace_id=row.workspace_id, kind=REMINDER_KIND,
            data={"meeting_id": meeting.id, "user_id": person}, clock=clock,
            dedupe_key=f"oneonone:{meeting.id}:{meeting.at.isoformat()}:{person}",
        )
    return 2


def run_reminder(rt: Any, oneonone_id: int, *, scheduled_for: datetime) -> None:
    """Job: one 1:1's reminder firing."""
    with rt.transaction() as session:
        count = fire(session, oneonone_id=oneonone_id, scheduled_for=scheduled_for, clock=rt.clock)
    if count:
        rt.outbox.kick()


def queue_due(session: Session, *, clock: Clock, grace: timedelta = DEFAULT_GRACE) -> int:
    """Reminders a missed firing still owes (inside the grace window) and moved meetings."""
    now = clock.now()
    count = 0
    for row in store.active(session=session):
        team = team_store.get_team(session=session, team_id=row.team_id)
        if team is None:
            continue
        when = last_fire_time(reminder_trigger(row, team), now, grace)
        if when is not None:
            count += fire(session, oneonone_id=row.id or 0, scheduled_for=when, clock=clock)
    for meeting in store.moved_due(session=session, until=now + timedelta(days=1), since=now - grace):
        row = store.get(session=session, oneonone_id=meeting.oneonone_id)
        if row is None or not row.active or now < meeting.at - timedelta(minutes=row.lead_minutes):
            continue
        count += remind(session, row=row, meeting=meeting, clock=clock)
    return count


def check(rt: Any) -> None:
    rt.queue_and_deliver(queue_due, "1:1 reminders")


# ----- during and after -----------------------------------------------------------------
def _meeting_and_row(session: Session, meeting_id: int) -> tuple[OneOnOneMeeting, OneOnOne]:
    meeting = store.get_meeting(session=session, meeting_id=meeting_id)
    row = store.get(session=session, oneonone_id=meeting.oneonone_id) if meeting else None
    if meeting is None or row is None:
        raise NotFound("oneonones.no_such")
    return meeting, row


def move_to_tomorrow(
    session: Session, *, meeting_id: int, user_id: str, clock: Clock, seen_at: datetime | None = None
) -> tuple[OneOnOneMeeting, OneOnOne]:
    """Move one meeting a day later. `seen_at` is the time the clicked reminder showed: a
    second click (or the other person's click on their copy) finds the meeting already
    moved and changes nothing."""
    meeting, row = _meeting_and_row(session, meeting_id)
    if user_id not in (row.leader_id, row.agent_id):
        raise NotAllowed("oneonones.not_yours")
    if meeting.done_at is not None:
        raise Conflict("oneonones.already_done")
    before = seen_at or meeting.at
    if not store.move_meeting(session=session, meeting_id=meeting.id or 0, from_at=before, to_at=before + timedelta(days=1)):
        raise Conflict("oneonones.already_moved")
    session.refresh(meeting)
    other = row.agent_id if user_id == row.leader_id else row.leader_id
    enqueue(
        session, workspace_id=row.workspace_id, kind=MOVED_KIND,
        data={"meeting_id": meeting.id, "user_id": other, "by": user_id}, clock=clock,
        dedupe_key=f"oneonone:{meeting.id}:moved:{meeting.at.isoformat()}",
    )
    return meeting, row


@dataclass
class NewAction:
    text: str
    owner_id: str
    due_on: date


def leader_meeting(session: Session, *, meeting_id: int, leader_id: str) -> tuple[OneOnOneMeeting, OneOnOne, Team]:
    meeting, row = _meeting_and_row(session, meeting_id)
    team = team_store.get_team(session=session, team_id=row.team_id)
    if row.leader_id != leader_id or team is None or not still_leads(session, row):
        raise NotAllowed("oneonones.leader_only")
    return meeting, row, team


def done(
    session: Session,
    *,
    meeting_id: int,
    leader_id: str,
    notes: str | None,
    discussed: list[int],
    actions_done: list[int],
    new_action: NewAction | None,
    now: datetime,
) -> OneOnOneMeeting:
    meeting, row, team = leader_meeting(session, meeting_id=meeting_id, leader_id=leader_id)
    notes = (notes or "").strip()
    if notes and _coaching is not None:
        try:
            _coaching.add_note(session, team=team, author_id=leader_id, agent_id=row.agent_id, text=notes, now=now)
        except InvalidInput as exc:  # shown under this modal's notes field
            raise InvalidInput(exc.key, field="oneonones.notes", **exc.params) from None
    for topic in store.open_topics(session=session, oneonone_id=row.id or 0):
        if topic.id in discussed:
            topic.discussed_at = now
            session.add(topic)
    for item in store.open_actions(session=session, oneonone_id=row.id or 0):
        if item.id in actions_done:
            item.done_at = now
            session.add(item)
    if new_action is not None:
        text = new_action.text.replace("\x00", "").strip()
        if len(text) > ACTION_MAX:
            raise InvalidInput("oneonones.action_long", max=ACTION_MAX, field="oneonones.action_text")
        if new_action.owner_id not in (row.leader_id, row.agent_id):
            raise InvalidInput("oneonones.action_owner", field="oneonones.action_owner")
        if new_action.due_on < local_today(team, now):
            raise InvalidInput("oneonones.action_past", field="oneonones.action_due")
        session.add(
            OneOnOneAction(
                workspace_id=row.workspace_id, oneonone_id=row.id or 0, meeting_id=meeting.id,
                owner_id=new_action.owner_id, text=text, due_on=new_action.due_on, created_at=now,
            )
        )
    meeting.done_at = meeting.done_at or now
    store.save(session=session, row=meeting)
    return meeting


# ----- the agenda -----------------------------------------------------------------------
@dataclass
class Agenda:
    row: OneOnOne
    team: Team
    meeting: OneOnOneMeeting
    for_leader: bool
    since: datetime
    topics: list[tuple[OneOnOneTopic, bool]]  # (topic, carried over from an earlier 1:1)
    actions: list[OneOnOneAction]
    follow_ups: list[Any] = field(default_factory=list)
    goals: list[Any] = field(default_factory=list)
    kpis: tuple[Any, Any] | None = None  # (agent's report, team's report)
    kudos: list[Any] = field(default_factory=list)
    escalations: list[Any] = field(default_factory=list)


def agenda(session: Session, *, meeting_id: int, user_id: str, now: datetime) -> Agenda | None:
    meeting = store.get_meeting(session=session, meeting_id=meeting_id)
    row = store.get(session=session, oneonone_id=meeting.oneonone_id) if meeting else None
    team = team_store.get_team(session=session, team_id=row.team_id) if row else None
    if meeting is None or row is None or team is None or user_id not in (row.leader_id, row.agent_id):
        return None
    if not still_leads(session, row):  # the leader's copy would show coaching they no longer own
        return None
    last = store.last_done(session=session, oneonone_id=row.id or 0, before=meeting.at)
    since = last.at if last else meeting.at - timedelta(days=14 if row.cadence == "biweekly" else 7)
    until = min(now, meeting.at)
    out = Agenda(
        row=row, team=team, meeting=meeting, for_leader=user_id == row.leader_id, since=since,
        topics=[(t, t.created_at < since) for t in store.open_topics(session=session, oneonone_id=row.id or 0)],
        actions=list(store.open_actions(session=session, oneonone_id=row.id or 0)),
    )
    if out.for_leader and _coaching is not None:
        out.follow_ups = [
            n for n in _coaching.open_follow_ups(session, team_id=team.id or 0, leader_id=row.leader_id)
            if n.agent_id == row.agent_id
        ]
        out.goals = list(_coaching.goals_with_progress(session, team=team, agent_id=row.agent_id, now=now))
    if _kpis is not None and since < until:
        out.kpis = (
            _kpis.compute(session, team=team, start=since, end=until, agent_id=row.agent_id, now=now, detail=False),
            _kpis.compute(session, team=team, start=since, end=until, now=now, detail=False),
        )
    if _kudos is not None:
        out.kudos = list(_kudos.kudos_received(session=session, workspace_id=row.workspace_id, user_id=row.agent_id, since=since, until=until))
    if _escalations is not None:
        out.escalations = list(
            _escalations.escalations_involving(session=session, workspace_id=row.workspace_id, user_id=row.agent_id, since=since, until=until)
        )
    return out


def next_meeting(row: OneOnOne, team: Team, now: datetime) -> datetime | None:
    trig = reminder_trigger(row, team)
    when = now
    for _ in range(3):
        fire_at = trig.get_next_fire_time(None, when)
        if fire_at is None:
            return None
        at = fire_at + timedelta(minutes=row.lead_minutes)
        if occurs_on(row, at.astimezone(zone(team.timezone)).date()):
            return at
        when = fire_at + timedelta(minutes=1)
    return None


# ----- the scheduler ----------------------------------------------------------------------
JOB_PREFIX = "oneonone:"


def _install(scheduler: Any, rt: Any, session: Session, row: OneOnOne) -> None:
    job_id = f"{JOB_PREFIX}{row.id}"
    scheduler.remove(job_id)
    team = team_store.get_team(session=session, team_id=row.team_id)
    if not row.active or team is None:
        return
    scheduler.cron(job_id, f"1:1 reminder {row.id}", reminder_trigger(row, team), run_reminder, rt, row.id)


def install_jobs(scheduler: Any, rt: Any) -> None:
    scheduler.every("oneonones.check", "1:1 catch-up and moved meetings", 60, check, rt)
    with rt.transaction(readonly=True) as session:
        for row in store.active(session=session):
            _install(scheduler, rt, session, row)


def reschedule(rt: Any, oneonone_id: int) -> None:
    """Rebuild one 1:1's job in this process's scheduler (if it runs one)."""
    if rt.scheduler is None:
        return
    with rt.transaction(readonly=True) as session:
        row = store.get(session=session, oneonone_id=oneonone_id)
        if row is not None:
            _install(rt.scheduler, rt, session, row)
