"""Stand-ups: leaders schedule them per team; at the scheduled local time of each member
(their own zone, else the team's) the member is prompted by DM; answers go in a thread
under the day's stand-up message; one reminder after an hour; at the cutoff the message
shows who answered and who did not.

Trust comes from rows, not timers: the day's run and each member's prompt are unique
rows (whoever inserts first sends), every send goes through the outbox with a dedupe key,
and a scan every minute re-derives what is due from the schedules, so a restart, a late
start inside the grace window or a second replica never repeats or skips a prompt.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from apscheduler.triggers.cron import CronTrigger
from sqlmodel import Session

from supportbot.bot import away, teams
from supportbot.bot.clock import Clock
from supportbot.bot.errors import InvalidInput, NotAllowed, NotFound
from supportbot.bot.i18n import t
from supportbot.bot.outbox import enqueue
from supportbot.bot.scheduler import DEFAULT_GRACE, last_fire_time
from supportbot.bot.timeutil import is_timezone, parse_duration, parse_hhmm, zone
from supportbot.storage import standups as store
from supportbot.storage import teams as team_store
from supportbot.storage.claims import try_claim
from supportbot.storage.models import Team
from supportbot.storage.standups import AWAY, PROMPTED, StandupPrompt, StandupRun, StandupSchedule

log = logging.getLogger(__name__)

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MAX_QUESTIONS = 6
QUESTION_MAX = 300
ANSWER_MAX = 2000
NO_BLOCKER = frozenset(
    {"", "-", "no", "none", "nope", "nothing", "n/a", "na", "nada", "ninguno", "ninguna", "nop"}
)

POST_KIND = "standup.post"
PROMPT_KIND = "standup.prompt"
REMINDER_KIND = "standup.reminder"
ANSWER_KIND = "standup.answer"
ANSWER_UPDATE_KIND = "standup.answer_update"
SUMMARY_KIND = "standup.summary"
BLOCKER_KIND = "standup.blocker"


# ----- parsing ------------------------------------------------------------------------
def parse_days(text: str) -> list[int]:
    """`mon-fri`, `mon,wed,fri`, `daily`, `weekdays` -> sorted weekday numbers (0 = Monday)."""
    text = (text or "").strip().lower()
    if text in ("daily", "everyday"):
        return list(range(7))
    if text == "weekdays":
        return list(range(5))
    out: set[int] = set()
    for part in text.split(","):
        first, sep, last = part.strip().partition("-")
        if first not in DAYS or (sep and last not in DAYS):
            raise InvalidInput("standups.bad_days")
        a, b = DAYS.index(first), DAYS.index(last) if sep else DAYS.index(first)
        if b < a:
            raise InvalidInput("standups.bad_days")
        out.update(range(a, b + 1))
    return sorted(out)


def days_text(days: list[int]) -> str:
    return ",".join(DAYS[d] for d in days)


def schedule_days(schedule: StandupSchedule) -> list[int]:
    return [DAYS.index(d) for d in schedule.days.split(",") if d in DAYS]


def default_questions(lang: str) -> tuple[list[str], str]:
    return (
        [t(lang, "standups.q_yesterday"), t(lang, "standups.q_today")],
        t(lang, "standups.q_blocker"),
    )


def is_blocker(text: str | None) -> bool:
    return (text or "").strip().lower().rstrip(".!") not in NO_BLOCKER


# ----- schedules ----------------------------------------------------------------------
def channel_of(schedule: StandupSchedule, team: Team) -> str:
    return schedule.channel_id or team.digest_channel or team.escalation_channel


def set_schedule(
    session: Session,
    *,
    team: Team,
    leader_id: str,
    days: str,
    at: str,
    channel_id: str | None,
    cutoff: str | None = None,
    now: datetime,
) -> StandupSchedule:
    teams.require_leader(session, team, leader_id)
    day_list = parse_days(days)
    hhmm = parse_hhmm(at)
    if channel_id:
        teams.check_channel_id(channel_id)
    assert team.id is not None
    row = store.schedule_of_team(session=session, team_id=team.id)
    if row is None:
        questions, blocker = default_questions(team.language)
        row = StandupSchedule(
            workspace_id=team.workspace_id,
            team_id=team.id,
            days=days_text(day_list),
            time=hhmm,
            channel_id=channel_id,
            questions=questions,
            blocker_question=blocker,
            created_by=leader_id,
            created_at=now,
            updated_at=now,
        )
    else:
        row.days, row.time, row.updated_at = days_text(day_list), hhmm, now
        if channel_id:
            row.channel_id = channel_id
        row.paused = False
    if cutoff:
        minutes = int(parse_duration(cutoff).total_seconds() // 60)
        if not 15 <= minutes <= 24 * 60:
            raise InvalidInput("standups.bad_cutoff")
        row.cutoff_minutes = minutes
    return store.save(session=session, row=row)


def leader_schedule(session: Session, *, team: Team, leader_id: str) -> StandupSchedule:
    teams.require_leader(session, team, leader_id)
    assert team.id is not None
    row = store.schedule_of_team(session=session, team_id=team.id)
    if row is None:
        raise NotFound("standups.no_schedule", team=team.name)
    return row


def set_paused(
    session: Session, *, team: Team, leader_id: str, paused: bool, now: datetime
) -> StandupSchedule:
    row = leader_schedule(session, team=team, leader_id=leader_id)
    row.paused, row.updated_at = paused, now
    return store.save(session=session, row=row)


def skip_day(
    session: Session, *, team: Team, leader_id: str, day: date, now: datetime
) -> StandupSchedule:
    row = leader_schedule(session, team=team, leader_id=leader_id)
    today = now.astimezone(zone(team.timezone)).date()
    if day < today:
        raise InvalidInput("standups.skip_past", day=day.isoformat())
    kept = [d for d in row.skip_days if d >= (today - timedelta(days=2)).isoformat()]
    row.skip_days = sorted({*kept, day.isoformat()})
    row.updated_at = now
    return store.save(session=session, row=row)


def set_questions(
    session: Session,
    *,
    team: Team,
    leader_id: str,
    questions: list[str],
    blocker_question: str | None,
    now: datetime,
) -> StandupSchedule:
    row = leader_schedule(session, team=team, leader_id=leader_id)
    clean = [_plain(q) for q in questions if q and _plain(q)]
    if not clean and not (blocker_question or "").strip():
        raise InvalidInput("standups.questions_empty", field="standups.questions")
    if len(clean) > MAX_QUESTIONS:
        raise InvalidInput("standups.questions_many", max=MAX_QUESTIONS, field="standups.questions")
    if any(len(q) > QUESTION_MAX for q in clean):
        raise InvalidInput("standups.question_long", max=QUESTION_MAX, field="standups.questions")
    row.questions = clean
    row.blocker_question = _plain(blocker_question or "")[:QUESTION_MAX] or None
    row.updated_at = now
    return store.save(session=session, row=row)


def _plain(text: str) -> str:
    """Questions are shown as modal labels (plain text): no markup, no control characters."""
    return "".join(c for c in text if c.isprintable() and c not in "<>").strip()


# ----- member time zones ----------------------------------------------------------------
def set_member_timezone(
    session: Session, *, workspace_id: str, user_id: str, tz: str, source: str, now: datetime
) -> bool:
    """A zone the member typed wins over the one Slack reports; False when nothing changed."""
    if not is_timezone(tz):
        raise InvalidInput("common.bad_timezone", value=tz)
    row = store.timezone_of(session=session, workspace_id=workspace_id, user_id=user_id)
    if row is not None and source == "slack" and row.source == "user":
        return False
    if row is not None and row.timezone == tz and row.source == source:
        return False
    store.set_timezone(
        session=session, workspace_id=workspace_id, user_id=user_id, timezone=tz,
        source=source, now=now,
    )
    return True


def member_zones(session: Session, team: Team) -> dict[str, str]:
    """{member: zone} for the team's members (not its leaders)."""
    assert team.id is not None
    members = team_store.agents_of(session=session, team_id=team.id)
    known = store.timezones_of(session=session, workspace_id=team.workspace_id, user_ids=members)
    return {m: known[m].timezone if m in known else team.timezone for m in members}


def schedules_of_user(session: Session, *, workspace_id: str, user_id: str) -> list[int]:
    out = []
    for team in team_store.teams_of_user(session=session, workspace_id=workspace_id, user_id=user_id):
        row = store.schedule_of_team(session=session, team_id=team.id or 0)
        if row is not None and row.id is not None:
            out.append(row.id)
    return out


def trigger(schedule: StandupSchedule, tz: str) -> CronTrigger:
    hour, minute = (int(x) for x in schedule.time.split(":"))
    return CronTrigger(day_of_week=schedule.days, hour=hour, minute=minute, timezone=zone(tz))


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
    sent = 0
    for user_id in people:
        is_away = away.is_away(session, workspace_id=team.workspace_id, user_id=user_id, at=at)
        prompt = StandupPrompt(
            workspace_id=team.workspace_id,
            run_id=run.id,
            user_id=user_id,
            status=AWAY if is_away else PROMPTED,
            prompted_at=at,
            remind_at=at + timedelta(minutes=schedule.reminder_minutes),
            cutoff_at=cutoff,
        )
        if not store.add_prompt(session=session, prompt=prompt) or is_away:
            continue
        enqueue(
            session, workspace_id=team.workspace_id, kind=PROMPT_KIND,
            data={"prompt_id": prompt.id}, clock=clock, dedupe_key=f"standup:prompt:{prompt.id}",
        )
        sent += 1
    return sent


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


# ----- answers ------------------------------------------------------------------------
@dataclass
class Answered:
    prompt: StandupPrompt
    run: StandupRun
    first: bool


def answerable(session: Session, *, prompt_id: int, user_id: str, now: datetime) -> tuple[StandupPrompt, StandupRun]:
    prompt = store.get_prompt(session=session, prompt_id=prompt_id)
    run = store.get_run(session=session, run_id=prompt.run_id) if prompt else None
    if prompt is None or run is None:
        raise NotFound("standups.prompt_gone")
    if prompt.user_id != user_id:
        raise NotAllowed("standups.not_your_prompt")
    if run.closed or now >= prompt.cutoff_at:
        raise NotAllowed("standups.closed")
    return prompt, run


def answer(
    session: Session,
    *,
    prompt_id: int,
    user_id: str,
    answers: list[str],
    blocker: str | None,
    mood: int | None,
    clock: Clock,
) -> Answered:
    now = clock.now()
    prompt, run = answerable(session, prompt_id=prompt_id, user_id=user_id, now=now)
    answers = [(a or "").replace("\x00", "").strip()[:ANSWER_MAX] for a in answers]
    blocker = (blocker or "").replace("\x00", "").strip()[:ANSWER_MAX] or None
    if not any(answers) and not blocker:
        first_block = "standups.q0" if run.questions else "standups.blocker"
        raise InvalidInput("standups.answer_empty", field=first_block)
    if mood is not None and not 1 <= mood <= 5:
        mood = None
    first = prompt.answered_at is None
    had_blocker = is_blocker(prompt.blocker) if not first else False
    prompt.answers, prompt.blocker, prompt.mood = answers, blocker, mood
    prompt.answered_at = prompt.answered_at or now
    prompt.status = PROMPTED
    prompt.version += 1
    store.save(session=session, row=prompt)
    ws = prompt.workspace_id
    if first:
        enqueue(
            session, workspace_id=ws, kind=ANSWER_KIND, data={"prompt_id": prompt.id},
            clock=clock, dedupe_key=f"standup:answer:{prompt.id}",
        )
    else:
        enqueue(
            session, workspace_id=ws, kind=ANSWER_UPDATE_KIND,
            data={"prompt_id": prompt.id, "version": prompt.version}, clock=clock,
            dedupe_key=f"standup:answer:{prompt.id}:v{prompt.version}",
        )
    if is_blocker(blocker) and not had_blocker:
        for leader in team_store.leaders_of(session=session, team_id=run.team_id):
            enqueue(
                session, workspace_id=ws, kind=BLOCKER_KIND,
                data={"prompt_id": prompt.id, "leader_id": leader}, clock=clock,
                dedupe_key=f"standup:blocker:{prompt.id}:v{prompt.version}:{leader}",
            )
    return Answered(prompt, run, first)


@dataclass
class Summary:
    run: StandupRun
    answered: list[StandupPrompt]
    missing: list[str]
    away: list[str]
    blockers: list[StandupPrompt]


def summary(session: Session, run: StandupRun) -> Summary:
    assert run.id is not None
    prompts = list(store.prompts_of(session=session, run_id=run.id))
    answered = [p for p in prompts if p.answered_at is not None]
    return Summary(
        run=run,
        answered=answered,
        missing=[p.user_id for p in prompts if p.answered_at is None and p.status != AWAY],
        away=[p.user_id for p in prompts if p.status == AWAY and p.answered_at is None],
        blockers=[p for p in answered if is_blocker(p.blocker)],
    )


def is_team_holiday(session: Session, *, team_id: int, day: date) -> bool:
    """A day the team's leaders skipped with `/standup skip` (1:1 reminders respect it too)."""
    row = store.schedule_of_team(session=session, team_id=team_id)
    return row is not None and day.isoformat() in row.skip_days


# ----- the scheduler ----------------------------------------------------------------------
_running: dict[int, tuple[Any, Any]] = {}  # id(rt) -> (rt, Scheduler) of this process
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


def install_jobs(scheduler: Any, rt: Any) -> None:
    _running[id(rt)] = (rt, scheduler)
    scheduler.every("standups.check", "Stand-up catch-up, reminders and cutoffs", 60, check, rt)
    with rt.transaction(readonly=True) as session:
        for schedule in store.all_schedules(session=session):
            _install_schedule(scheduler, rt, session, schedule)


def reschedule(rt: Any, schedule_ids: list[int]) -> None:
    """Rebuild the jobs of these schedules in this process's scheduler (if it runs one)."""
    entry = _running.get(id(rt))
    if entry is None or entry[0] is not rt:
        return
    scheduler = entry[1]
    with rt.transaction(readonly=True) as session:
        for schedule_id in schedule_ids:
            schedule = store.get_schedule(session=session, schedule_id=schedule_id)
            if schedule is not None:
                _install_schedule(scheduler, rt, session, schedule)

