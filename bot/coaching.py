"""Coaching: private notes about agents (tags, follow-up reminders) and goals with progress.

Only the leaders of the agent's team may write or read any of it; a leader removed from
the team loses access at once, because every call checks the membership as it is now.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlmodel import Session

from supportbot.bot import dates, keywords, kpis, teams
from supportbot.bot.clock import Clock
from supportbot.bot.errors import InvalidInput, NotAllowed, NotFound
from supportbot.bot.outbox import enqueue
from supportbot.bot.timeutil import local, zone
from supportbot.storage import coaching as store
from supportbot.storage import teams as team_store
from supportbot.storage.coaching import GOAL_OPEN, CoachingNote, Goal
from supportbot.storage.models import Team

log = logging.getLogger(__name__)

TAGS = ("praise", "improvement", "goal")
OPS = (">=", "<=")
NOTE_MAX = 3000
GOAL_TEXT_MAX = 500
PAGE = 5
PROGRESS_DAYS = 30
FOLLOW_UP_KIND = "coaching.follow_up"
DEFAULT_REMINDER_TIME = time(9, 0)

_TAG = re.compile(r"(?<![\w#])#([^\W_][\w-]*)")
_KPI_GOAL = re.compile(
    r"^(?P<metric>[A-Za-z]+)\s*(?P<op>>=|<=|&gt;=|&lt;=|≥|≤)\s*(?P<target>-?\d+(?:[.,]\d+)?)\s*%?$",
    re.IGNORECASE,
)
_LINK = re.compile(r"^https://[^\s<>|]{3,990}$")
_QUOTES = "\"'“”‘’«»"


def metrics() -> tuple[str, ...]:
    return kpis.METRICS


def inert(text: str, limit: int = 60) -> str:
    """User text quoted back in an error message: short, and unable to ping anyone."""
    text = text[:limit]
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def parse_day(text: str, *, lang: str, today: date) -> date:
    """A day in words or numbers (`viernes`, `24/12`, `next friday`, ISO), bot.dates."""
    if not (text or "").strip():
        raise InvalidInput("common.bad_date", value="")
    return dates.parse_day(text, lang=lang, today=today)


def local_today(team: Team, now: datetime) -> date:
    return local(now, team.timezone).date()


# ----- who may see what -------------------------------------------------------------
def coaching_team(session: Session, *, workspace_id: str, leader_id: str, agent_id: str) -> Team:
    """The team the caller leads that the agent belongs to, or a refusal."""
    led = team_store.teams_led_by(session=session, workspace_id=workspace_id, user_id=leader_id)
    if not led:
        raise NotAllowed("coaching.leaders_only")
    if agent_id == leader_id:
        raise InvalidInput("coaching.not_self")
    for team in led:
        if is_agent_of(session, team, agent_id):
            return team
    raise NotAllowed("coaching.not_your_agent")


def is_agent_of(session: Session, team: Team, user_id: str) -> bool:
    """A member who is not a leader: co-leaders never read notes about each other."""
    return teams.is_in_team(session, team, user_id) and not teams.is_leader(session, team, user_id)


def require_coach(session: Session, team: Team, leader_id: str, agent_id: str) -> None:
    if not teams.is_leader(session, team, leader_id) or not is_agent_of(session, team, agent_id):
        raise NotAllowed("coaching.not_your_agent")


# ----- notes --------------------------------------------------------------------------
@dataclass
class ParsedNote:
    text: str
    tags: list[str]
    follow_up_on: date | None


def tag_of(word: str) -> str | None:
    """`#praise` / `#elogio` -> "praise" (the tags of `[keywords]`, either language)."""
    key = keywords.canonical("coaching", word)
    return key[len("tag_") :] if key and key.startswith("tag_") else None


def parse_note(text: str, *, today: date, lang: str = "en") -> ParsedNote:
    """Tags and a follow-up date are read from the text; the text itself is kept as typed."""
    text = (text or "").replace("\x00", "").strip()
    if not text:
        raise InvalidInput("coaching.note_empty")
    if len(text) > NOTE_MAX:
        raise InvalidInput("coaching.note_too_long", max=NOTE_MAX)
    tags = list(dict.fromkeys(tag for m in _TAG.finditer(text) if (tag := tag_of(m.group(0)))))
    follow_up = None
    _rest, when = keywords.take_option("coaching", "follow_up_option", text)
    if when is not None:
        follow_up = check_follow_up(parse_day(when, lang=lang, today=today), today, lang)
    return ParsedNote(text, tags, follow_up)


def _said(day: date, today: date, lang: str) -> str:
    """The day as the answer repeats it: `jue 24 dic` (with the year if not this one)."""
    return dates.span_in_words(dates.Span(day, day), lang, today=today)


def check_follow_up(day: date | None, today: date, lang: str = "en") -> date | None:
    if day is not None and day < today:
        raise InvalidInput(
            "coaching.follow_up_past", day=_said(day, today, lang), field="coaching.follow_up"
        )
    return day


def add_note(
    session: Session,
    *,
    team: Team,
    author_id: str,
    agent_id: str,
    text: str,
    tags: Iterable[str] = (),
    now: datetime,
    follow_up_on: date | None = None,
    source_link: str | None = None,
) -> CoachingNote:
    """Save a note (the text exactly as given); the author must lead the agent's team."""
    assert team.id is not None
    require_coach(session, team, author_id, agent_id)
    text = (text or "").replace("\x00", "")
    if not text.strip():
        raise InvalidInput("coaching.note_empty", field="coaching.note")
    if len(text) > NOTE_MAX:
        raise InvalidInput("coaching.note_too_long", max=NOTE_MAX, field="coaching.note")
    clean_tags = [t for t in dict.fromkeys(t.lower().lstrip("#") for t in tags) if t in TAGS]
    link = (source_link or "").strip() or None
    if link is not None and not _LINK.match(link):
        raise InvalidInput("coaching.bad_link", field="coaching.link")
    note = CoachingNote(
        workspace_id=team.workspace_id,
        team_id=team.id,
        agent_id=agent_id,
        author_id=author_id,
        text=text,
        tags=clean_tags,
        follow_up_on=follow_up_on,
        follow_up_sent=False,
        source_link=link,
        created_at=now,
    )
    session.add(note)
    session.flush()
    return note


@dataclass
class NotePage:
    notes: list[CoachingNote]
    more: bool


def list_notes(
    session: Session,
    *,
    team: Team,
    leader_id: str,
    agent_id: str,
    before_id: int | None = None,
    limit: int = PAGE,
) -> NotePage:
    assert team.id is not None
    require_coach(session, team, leader_id, agent_id)
    rows = list(
        store.notes_about(
            session=session,
            team_id=team.id,
            agent_id=agent_id,
            before_id=before_id,
            limit=limit + 1,
        )
    )
    return NotePage(rows[:limit], len(rows) > limit)


def open_follow_ups(session: Session, *, team_id: int, leader_id: str) -> list[CoachingNote]:
    """The leader's follow-ups in the team not reminded yet (for the 1:1 agenda).

    Empty when the leader no longer leads the team."""
    team = team_store.get_team(session=session, team_id=team_id)
    if team is None or not teams.is_leader(session, team, leader_id):
        return []
    return list(store.follow_ups_by(session=session, team_id=team_id, author_id=leader_id))


# ----- follow-up reminders ------------------------------------------------------------
def reminder_time(team: Team) -> time:
    raw = teams.setting(team, "coaching_reminder_time", None)
    try:
        return time.fromisoformat(raw) if raw else DEFAULT_REMINDER_TIME
    except ValueError:
        return DEFAULT_REMINDER_TIME


def queue_due_follow_ups(session: Session, *, clock: Clock) -> int:
    """Queue a DM for every follow-up whose morning (team time) has come; each once."""
    now = clock.now()
    queued = 0
    teams_by_id: dict[int, Team | None] = {}
    # The earliest zones are a day ahead of UTC: look one day further, filter per team.
    for note in store.pending_follow_ups(session=session, due_by=now.date() + timedelta(days=1)):
        assert note.id is not None and note.follow_up_on is not None
        if note.team_id not in teams_by_id:
            teams_by_id[note.team_id] = team_store.get_team(session=session, team_id=note.team_id)
        team = teams_by_id[note.team_id]
        if team is None:
            continue
        due_at = datetime.combine(
            note.follow_up_on, reminder_time(team), tzinfo=zone(team.timezone)
        )
        if now < due_at:
            continue
        if not store.mark_follow_up_sent(session=session, note_id=note.id):
            continue  # another replica got it
        if not teams.is_leader(session, team, note.author_id):
            continue  # the author left the team: the note is no longer theirs to see
        enqueue(
            session,
            workspace_id=note.workspace_id,
            kind=FOLLOW_UP_KIND,
            data={"note_id": note.id},
            clock=clock,
            dedupe_key=f"coaching:follow-up:{note.id}",
        )
        queued += 1
    return queued


def send_follow_ups(rt: Any) -> None:
    """Job: scan for due follow-ups (every few minutes)."""
    rt.queue_and_deliver(queue_due_follow_ups, "coaching follow-up reminders")


def install_jobs(scheduler: Any, rt: Any) -> None:
    scheduler.every("coaching.follow_ups", "Coaching follow-up reminders", 300, send_follow_ups, rt)


# ----- goals --------------------------------------------------------------------------
@dataclass
class GoalSpec:
    kind: str
    due_on: date
    metric: str | None = None
    op: str | None = None
    target: float | None = None
    text: str | None = None


def split_due(text: str, *, lang: str, today: date) -> tuple[str, date]:
    """`<goal> by <day>` / `<goal> para <day>`: the goal and the day, the last `by` whose
    tail reads as a day (so `Stand by the customer by friday` keeps its first `by`)."""
    words = list(re.finditer(r"\S+", text))
    tried = None
    for match in reversed(words):
        if keywords.canonical("coaching", match.group()) != "by":
            continue
        tail = text[match.end() :].strip()
        if not tail:
            continue
        try:
            return text[: match.start()].strip(), parse_day(tail, lang=lang, today=today)
        except InvalidInput as exc:
            tried = tried or exc
    if tried is not None:
        raise tried
    raise InvalidInput("coaching.goal_usage")


def parse_goal(text: str, *, today: date, lang: str = "en") -> GoalSpec:
    """`csat >= 92 by 2027-01-31`, `"Shadow a senior on 5 calls" by jan 15`,
    `csat >= 92 para el 31 de enero`."""
    text = (text or "").replace("\x00", "").strip()
    head, due = split_due(text, lang=lang, today=today)
    match = _KPI_GOAL.match(head)
    if match and match.group("metric").lower() in metrics():
        op = {"&gt;=": ">=", "&lt;=": "<=", "≥": ">=", "≤": "<="}.get(
            match.group("op"), match.group("op")
        )
        return GoalSpec(
            kind="kpi",
            metric=match.group("metric").lower(),
            op=op,
            target=float(match.group("target").replace(",", ".")),
            due_on=check_due(due, today, lang),
        )
    if match:
        raise InvalidInput(
            "coaching.bad_metric", value=inert(match.group("metric")), metrics=", ".join(metrics())
        )
    goal_text = head.strip().strip(_QUOTES).strip()
    if not goal_text:
        raise InvalidInput("coaching.goal_usage")
    if len(goal_text) > GOAL_TEXT_MAX:
        raise InvalidInput("coaching.goal_too_long", max=GOAL_TEXT_MAX)
    return GoalSpec(kind="text", text=goal_text, due_on=check_due(due, today, lang))


def check_due(day: date, today: date, lang: str = "en") -> date:
    if day < today:
        raise InvalidInput("coaching.due_past", day=_said(day, today, lang))
    return day


def add_goal(
    session: Session,
    *,
    team: Team,
    author_id: str,
    agent_id: str,
    spec: GoalSpec,
    now: datetime,
) -> Goal:
    assert team.id is not None
    require_coach(session, team, author_id, agent_id)
    goal = Goal(
        workspace_id=team.workspace_id,
        team_id=team.id,
        agent_id=agent_id,
        author_id=author_id,
        kind=spec.kind,
        metric=spec.metric,
        op=spec.op,
        target=spec.target,
        text=spec.text,
        due_on=spec.due_on,
        status=GOAL_OPEN,
        created_at=now,
    )
    session.add(goal)
    session.flush()
    return goal


@dataclass
class GoalProgress:
    goal: Goal
    available: bool  # False: not a KPI goal, or the KPI store is not there yet
    value: float | None = None
    met: bool | None = None
    start: datetime | None = None
    end: datetime | None = None
    overdue: bool = False
    done_on: date | None = None  # the team's local day the goal was done


def measure(session: Session, team: Team, goal: Goal, now: datetime) -> GoalProgress:
    """A KPI goal is measured over the last PROGRESS_DAYS days up to now."""
    today = local_today(team, now)
    overdue = goal.status == GOAL_OPEN and goal.due_on < today
    done_on = local(goal.done_at, team.timezone).date() if goal.done_at else None
    if goal.kind != "kpi" or not goal.metric:
        return GoalProgress(goal, available=False, overdue=overdue, done_on=done_on)
    start = now - timedelta(days=PROGRESS_DAYS)
    value = kpis.metric_value(
        session, team=team, metric=goal.metric, start=start, end=now, agent_id=goal.agent_id
    )
    met = None
    if value is not None and goal.target is not None:
        met = value >= goal.target if goal.op == ">=" else value <= goal.target
    return GoalProgress(goal, True, value, met, start, now, overdue, done_on)


def goals_with_progress(
    session: Session, *, team: Team, agent_id: str, now: datetime, include_done: bool = False
) -> list[GoalProgress]:
    """The agent's goals (open ones, or all) with KPI progress (used by the 1:1 agenda)."""
    assert team.id is not None
    rows = store.goals_of(
        session=session, team_id=team.id, agent_id=agent_id, include_done=include_done
    )
    return [measure(session, team, g, now) for g in rows]


def list_goals(
    session: Session, *, team: Team, leader_id: str, agent_id: str, now: datetime
) -> list[GoalProgress]:
    require_coach(session, team, leader_id, agent_id)
    return goals_with_progress(session, team=team, agent_id=agent_id, now=now, include_done=True)


def parse_goal_id(text: str) -> int:
    raw = (text or "").strip().lstrip("#")
    if raw[:2].lower() == "g-":
        raw = raw[2:]
    elif raw[:1].lower() == "g":
        raw = raw[1:]
    if not raw.isdigit() or len(raw) > 9:
        raise InvalidInput("coaching.done_usage")
    return int(raw)


def close_goal(
    session: Session, *, workspace_id: str, leader_id: str, goal_id: int, now: datetime
) -> Goal:
    goal = store.get_goal(session=session, goal_id=goal_id)
    if goal is None or goal.workspace_id != workspace_id:
        raise NotFound("coaching.goal_not_found", id=goal_id)
    team = team_store.get_team(session=session, team_id=goal.team_id)
    if team is None or not teams.is_leader(session, team, leader_id):
        # Same answer as a missing goal: another team's goals are not even confirmed to exist.
        raise NotFound("coaching.goal_not_found", id=goal_id)
    if not store.close_goal(session=session, goal_id=goal_id, now=now):
        raise InvalidInput("coaching.goal_already_done", id=goal_id)
    session.refresh(goal)
    return goal
