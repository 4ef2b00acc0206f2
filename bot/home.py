"""What the App Home shows, gathered from each feature's public functions: for a leader,
per team they lead, the day's work (open escalations, KPIs against targets with a 7-day
trend, the stand-up, 1:1s today and tomorrow, coaching follow-ups, the pulse, who is away
this week); for an agent, their own (escalations, goals, kudos this month, next 1:1,
today's stand-up). No Slack here; `handlers/home.py` renders it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlmodel import Session

from supportbot.bot import coaching, escalations, kpis, kudos, oneonones, pulse, standups
from supportbot.bot.timeutil import local_midnight, zone
from supportbot.storage import away as away_store
from supportbot.storage import escalations as esc_store
from supportbot.storage import kudos as kudos_store
from supportbot.storage import oneonones as oneonone_store
from supportbot.storage import standups as standup_store
from supportbot.storage import teams as team_store
from supportbot.storage.away import AwayPeriod
from supportbot.storage.escalations import Escalation
from supportbot.storage.kudos import Kudos
from supportbot.storage.models import Team
from supportbot.storage.oneonones import OneOnOne, OneOnOneTopic
from supportbot.storage.standups import StandupPrompt, StandupRun

DEFAULT_METRICS = ("volume", "frt", "sla", "csat")
TREND_DAYS = 7
ESCALATIONS_MAX = 40  # more are counted, not loaded


@dataclass
class Meeting:
    row: OneOnOne
    at: datetime
    topics: list[OneOnOneTopic] = field(default_factory=list)


@dataclass
class KpiLine:
    metric: str
    value: float | None
    target: float | None
    trend: list[float | None]


@dataclass
class LeaderTeam:
    team: Team
    escalations: list[Escalation]
    escalations_total: int
    kpis: list[KpiLine]
    standup_run: StandupRun | None
    standup: standups.Summary | None
    meetings: list[Meeting]
    follow_ups: list[Any]
    pulse_open: pulse.Result | None
    pulse_last: pulse.Result | None
    pulse_change: dict[str, float | None]
    this_week: pulse.Week | None  # the stand-up mood of the week so far
    away: list[AwayPeriod]


@dataclass
class AgentTeam:
    team: Team
    goals: list[coaching.GoalProgress]
    standup_run: StandupRun | None
    standup_prompt: StandupPrompt | None


@dataclass
class AgentHome:
    escalations: list[Escalation]
    teams: list[AgentTeam]
    kudos: list[Kudos]
    next_meeting: Meeting | None


@dataclass
class Home:
    now: datetime
    led: list[LeaderTeam]
    agent: AgentHome | None


def today_of(team: Team, now: datetime) -> date:
    return now.astimezone(zone(team.timezone)).date()


def kpi_lines(session: Session, team: Team, now: datetime, answers: Any = None) -> list[KpiLine]:
    """Today's figures for the metrics with a target (else a default few), with the last
    seven days' values for the sparkline."""
    targets = kpis.targets(team)
    metrics = [m for m in kpis.METRICS if m in targets] or list(DEFAULT_METRICS)
    today = today_of(team, now)
    reports = []
    for back in range(TREND_DAYS - 1, -1, -1):
        start, end = kpis.day_bounds(today - timedelta(days=back), team.timezone)
        reports.append(kpis.compute(session, team=team, start=start, end=end, now=now, detail=False,
                                    escalations=False, answers=answers))
    return [
        KpiLine(m, reports[-1].value(m), targets.get(m), [r.value(m) for r in reports])
        for m in metrics
    ]


def todays_standup(session: Session, team: Team, now: datetime) -> tuple[StandupRun | None, standups.Summary | None]:
    assert team.id is not None
    schedule = standup_store.schedule_of_team(session=session, team_id=team.id)
    if schedule is None or schedule.id is None:
        return None, None
    run = standup_store.run_for_day(session=session, schedule_id=schedule.id, day=today_of(team, now))
    if run is None:
        return None, None
    return run, standups.summary(session, run)


def meetings_between(session: Session, rows: list[OneOnOne], team: Team, start: datetime, end: datetime) -> list[Meeting]:
    out = []
    for row in rows:
        # next_meeting counts from the reminder, which fires `lead_minutes` before
        at = oneonones.next_meeting(row, team, start - timedelta(minutes=row.lead_minutes))
        if at is not None and start <= at < end:
            out.append(Meeting(row, at, list(oneonone_store.open_topics(session=session, oneonone_id=row.id or 0))))
    return sorted(out, key=lambda m: m.at)


def leader_team(session: Session, team: Team, leader_id: str, now: datetime, answers: Any = None) -> LeaderTeam:
    assert team.id is not None
    with kpis.one_answer(session):
        lines = kpi_lines(session, team, now, answers)
    open_escalations, total = escalations.open_for_team(session, team, limit=ESCALATIONS_MAX)
    run, summary = todays_standup(session, team, now)
    today = today_of(team, now)
    day_start = local_midnight(today, team.timezone)
    rows = [r for r in oneonone_store.of_user(session=session, workspace_id=team.workspace_id, user_id=leader_id)
            if r.team_id == team.id and r.leader_id == leader_id]
    meetings = meetings_between(session, rows, team, day_start, local_midnight(today + timedelta(days=2), team.timezone))
    follow_ups = sorted(
        coaching.open_follow_ups(session, team_id=team.id, leader_id=leader_id),
        key=lambda n: (n.follow_up_on or today, n.id or 0),
    )
    current, last = pulse.latest(session, team=team)
    change: dict[str, float | None] = {}
    if last is not None and last.shown:
        before = pulse.previous_shown(session, team=team, before=last.pulse)
        for name in ("mood", "workload", "enps"):
            a, b = getattr(last, name), getattr(before, name) if before else None
            change[name] = a - b if a is not None and b is not None else None
    this_week = next(iter(pulse.trend(session, team=team, weeks=1, now=now)), None)
    monday = today - timedelta(days=today.weekday())
    members = team_store.member_ids(session=session, team_id=team.id)
    away = sorted(
        away_store.covering_any(session=session, workspace_id=team.workspace_id, user_ids=members,
                                first=monday, last=monday + timedelta(days=6)),
        key=lambda p: (p.start_on, p.user_id),
    )
    return LeaderTeam(team, list(open_escalations), total, lines, run, summary, meetings, follow_ups,
                      current, last, change, this_week, list(away))


def agent_home(session: Session, workspace_id: str, user_id: str, mine: list[Team], now: datetime) -> AgentHome:
    involving = esc_store.escalations_involving(
        session=session, workspace_id=workspace_id, user_id=user_id,
        since=now - timedelta(days=3650), until=now + timedelta(seconds=1),
    )
    open_mine = [
        e for e in involving
        if e.status in esc_store.UNRESOLVED and user_id in (e.reporter_id, e.owner_id)
    ]
    teams_out = []
    for team in mine:
        run, _summary = todays_standup(session, team, now)
        prompt = None
        if run is not None and run.id is not None:
            prompt = next((p for p in standup_store.prompts_of(session=session, run_id=run.id) if p.user_id == user_id), None)
        goals = coaching.goals_with_progress(session, team=team, agent_id=user_id, now=now)
        teams_out.append(AgentTeam(team, goals, run, prompt))
    first = mine[0]
    month_start, _end = kudos.period_bounds(first, "month", now)
    received = list(kudos_store.kudos_received(session=session, workspace_id=workspace_id, user_id=user_id,
                                               since=month_start, until=now + timedelta(seconds=1)))
    next_one: Meeting | None = None
    by_team = {t.id: t for t in mine}
    for row in oneonone_store.of_user(session=session, workspace_id=workspace_id, user_id=user_id):
        team = by_team.get(row.team_id)
        if row.agent_id != user_id or team is None:
            continue
        at = oneonones.next_meeting(row, team, now)
        if at is not None and (next_one is None or at < next_one.at):
            next_one = Meeting(row, at, list(oneonone_store.open_topics(session=session, oneonone_id=row.id or 0)))
    return AgentHome(open_mine, teams_out, received, next_one)


def gather(session: Session, *, workspace_id: str, user_id: str, now: datetime, answers: Any = None) -> Home:
    """The leader view for each team the user leads, the agent view for the teams they are
    a member of (someone can be both). `answers`: the runtime's KPI answer cache."""
    led = list(team_store.teams_led_by(session=session, workspace_id=workspace_id, user_id=user_id))
    led_ids = {t.id for t in led}
    member_of = [t for t in team_store.teams_of_user(session=session, workspace_id=workspace_id, user_id=user_id)
                 if t.id not in led_ids]
    return Home(
        now=now,
        led=[leader_team(session, t, user_id, now, answers) for t in led],
        agent=agent_home(session, workspace_id, user_id, member_of, now) if member_of else None,
    )
