"""Stand-up schedules: days, questions, channels, members' time zones and cron triggers."""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from typing import Any

from apscheduler.triggers.cron import CronTrigger
from sqlmodel import Session

from supportbot.bot import formats, keywords, teams
from supportbot.bot.errors import InvalidInput, NotFound
from supportbot.bot.i18n import t
from supportbot.bot.outbox import enqueue
from supportbot.bot.timeutil import is_timezone, parse_duration, parse_hhmm, zone
from supportbot.storage import standups as store
from supportbot.storage import teams as team_store
from supportbot.storage.models import Team
from supportbot.storage.standups import StandupSchedule

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
ZONES_KIND = "standup.zones"  # one page of users.list: members' time zones from Slack


# ----- parsing ------------------------------------------------------------------------
def parse_days(text: str) -> list[int]:
    """`mon-fri`, `mon,wed,fri`, `daily`, `weekdays` (or in Spanish: `lun-vie`,
    `lun,mié,vie`, `diario`, `laborables`) -> sorted weekday numbers (0 = Monday)."""
    text = (text or "").strip().lower()
    whole = keywords.canonical("standups", text)
    if whole == "daily":
        return list(range(7))
    if whole == "weekdays":
        return list(range(5))
    out: set[int] = set()
    for part in text.split(","):
        first, sep, last = part.strip().partition("-")
        first = keywords.canonical("standups", first) or first
        last = keywords.canonical("standups", last) or last
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
    session: Session, *, team: Team, leader_id: str, day: date, now: datetime, lang: str = "en"
) -> StandupSchedule:
    row = leader_schedule(session, team=team, leader_id=leader_id)
    today = now.astimezone(zone(team.timezone)).date()
    if day < today:
        raise InvalidInput("standups.skip_past", day=formats.day(lang, day, year=day.year != today.year))
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


def members_without_zone(session: Session, team: Team) -> list[str]:
    """Members who never typed a zone: the ones whose zone Slack may tell us."""
    assert team.id is not None
    members = team_store.agents_of(session=session, team_id=team.id)
    known = store.timezones_of(session=session, workspace_id=team.workspace_id, user_ids=members)
    return [m for m in members if m not in known or known[m].source != "user"]


def queue_zone_sync(session: Session, *, team: Team, clock: Any) -> bool:
    """Read the zones of the team's members from Slack's users.list, a page (200 people)
    at a time through the outbox (paced at Tier 2), instead of a users.info per member
    while the leader waits. One sync per team per minute at most."""
    missing = members_without_zone(session, team)
    if not missing:
        return False
    stamp = clock.now().strftime("%Y%m%dT%H%M")
    return enqueue(
        session, workspace_id=team.workspace_id, kind=ZONES_KIND,
        data={"team_id": team.id, "cursor": "", "page": 1, "missing": missing}, clock=clock,
        dedupe_key=f"standup:zones:{team.id}:{stamp}:1",
    ) is not None


def apply_zone_page(
    session: Session, *, workspace_id: str, missing: list[str], members: list[dict[str, Any]], now: datetime
) -> list[str]:
    """Store the zones a users.list page has for the members still missing one; -> the
    members still missing after this page."""
    wanted = set(missing)
    for user in members:
        uid = str(user.get("id") or "")
        tz = user.get("tz")
        if uid in wanted and not user.get("deleted"):
            wanted.discard(uid)
            if tz and is_timezone(str(tz)):
                set_member_timezone(session, workspace_id=workspace_id, user_id=uid, tz=str(tz), source="slack", now=now)
    return [m for m in missing if m in wanted]


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


