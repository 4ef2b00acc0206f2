"""The anonymous weekly pulse: mood (1-5), workload (1-5, too little to too much), eNPS
(0-10) and an optional comment, asked by DM; results per week, only from the team's
threshold of answers (at least 5), with the change since last time and alerts to leaders.

Anonymity by design. The question is "could anyone with the database, the logs or any
command tell what a given person answered?"; the design answers no, and a test checks
the database after a pulse:

- Who was asked and who answered (`pulse_respondent`: pulse, user, answered) is written
  for every member at once when the pulse opens, in member order; answering flips a
  boolean and records no time.
- An answer (`pulse_answer`) holds the values and the pulse id, and nothing else: no user
  id, no timestamp, no autoincrement id (whose order would be the answering order). Its
  primary key is the SHA-256 of an *answer key* and the member's user id; the key is 128
  random bits the outbox renderer draws when it builds the invitation DM and puts only in
  that DM's button. Without the key the hash cannot be recomputed for anyone; with the user
  id in it, a key passed on to someone else finds nothing. The key is not
  in the outbox row (renderers run at delivery; only `{respondent_id}` is stored), not in
  any log, not in the database. We chose this over an HMAC of (pulse, user) with a server
  secret: whoever holds the secret and the database could recompute every member's hash.
- Changing an answer: the member clicks the same button again; their key (from the button
  value, then the modal's private_metadata) finds the row by its hash and the modal opens
  with their answer filled in. Nobody without the key can find it. A reminder is a new DM
  with a new key; answering from either works once (the conditional update of `answered`
  decides), and a second key cannot add a second answer.
- When the pulse closes it is *sealed*: the answers are re-inserted in random order under
  new random keys (the members' keys stop working, nothing can be changed any more) and
  every respondent row is rewritten in one statement. Storage order (SQLite rowids,
  PostgreSQL ctid/xmin) then no longer follows the order people answered in.
- Results (averages, eNPS, distributions, comments in random order) exist only for closed
  pulses with at least `min_answers` answers: a leader cannot watch the figures move as
  one more person answers, and never learns who answered (only how many).
- No listener, job, log line or command shows a single answer: the only readers are
  `result` (aggregates), `seal` (copies them) and the change-answer modal, which opens
  only for the key holder.

What this cannot hide: Slack sees every submission; while a pulse is open, someone with
raw access to PostgreSQL's row versions or a statement log could line up an answer's
insert with a respondent's update (sealing removes that from the tables when the pulse
closes; dead row versions go at the next vacuum).

Stand-up moods (already asked in stand-ups, not anonymous there) join the same weekly
trend as an average, under the same threshold of distinct people.
"""

from __future__ import annotations

import logging
import random
import re
import secrets
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from apscheduler.triggers.cron import CronTrigger
from sqlmodel import Session

from supportbot.bot import standups, teams
from supportbot.bot.clock import Clock
from supportbot.bot.errors import Conflict, InvalidInput, NotAllowed, NotFound
from supportbot.bot.i18n import t
from supportbot.bot.outbox import enqueue
from supportbot.bot.scheduler import DEFAULT_GRACE, last_fire_time
from supportbot.bot.timeutil import parse_hhmm, zone
from supportbot.storage import pulse as store
from supportbot.storage import teams as team_store
from supportbot.storage.claims import try_claim
from supportbot.storage.models import Team
from supportbot.storage.pulse import Pulse, PulseAnswer, PulseSchedule

log = logging.getLogger(__name__)

MIN_ANSWERS = 5  # a team may raise it (`/pulse threshold 7`), never lower it
THRESHOLD_SETTING = "pulse_min_answers"
DEFAULT_OPEN_HOURS = 48
DEFAULT_WEEKS = 4
MAX_WEEKS = 12
QUESTION_KEYS = ("mood", "workload", "enps", "comment")
QUESTION_MAX = 150  # a modal label is at most 2000, an option 75; keep it readable
COMMENT_MAX = 2000
ENPS_DROP_ALERT = 20.0
SCALES = {"mood": range(1, 6), "workload": range(1, 6), "enps": range(0, 11)}
_KEY = re.compile(r"^[A-Za-z0-9_-]{22,64}$")

INVITE_KIND = "pulse.invite"
REMINDER_KIND = "pulse.reminder"
CLOSED_DM_KIND = "pulse.closed_dm"
RESULTS_KIND = "pulse.results"
ALERT_KIND = "pulse.alert"


# ----- words --------------------------------------------------------------------------
def fold(word: str) -> str:
    """Lower case without accents: `Miércoles` -> `miercoles`."""
    decomposed = unicodedata.normalize("NFKD", word or "")
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower().strip()


VERBS = {
    "schedule": "schedule", "programar": "schedule", "horario": "schedule",
    "questions": "questions", "preguntas": "questions",
    "now": "now", "ahora": "now",
    "pause": "pause", "pausa": "pause", "pausar": "pause",
    "resume": "resume", "reanudar": "resume",
    "results": "results", "resultados": "results",
    "status": "status", "estado": "status",
    "threshold": "threshold", "umbral": "threshold",
    "help": "help", "ayuda": "help",
}
DAY_WORDS = {
    "mon": "mon", "monday": "mon", "lun": "mon", "lunes": "mon",
    "tue": "tue", "tuesday": "tue", "mar": "tue", "martes": "tue",
    "wed": "wed", "wednesday": "wed", "mie": "wed", "miercoles": "wed",
    "thu": "thu", "thursday": "thu", "jue": "thu", "jueves": "thu",
    "fri": "fri", "friday": "fri", "vie": "fri", "viernes": "fri",
    "sat": "sat", "saturday": "sat", "sab": "sat", "sabado": "sat",
    "sun": "sun", "sunday": "sun", "dom": "sun", "domingo": "sun",
}


def verb_of(word: str) -> str | None:
    return VERBS.get(fold(word))


def parse_days(text: str) -> list[int]:
    """`fri`, `viernes`, `mon,thu`, `lun-vie` -> weekday numbers (0 = Monday), through
    the stand-up parser once the words are English."""
    parts = []
    for part in fold(text).split(","):
        ends = part.strip().split("-")
        if len(ends) > 2 or any(e not in DAY_WORDS for e in ends):
            raise InvalidInput("pulse.bad_days", value=text[:40])
        parts.append("-".join(DAY_WORDS[e] for e in ends))
    try:
        return standups.parse_days(",".join(parts))
    except InvalidInput:
        raise InvalidInput("pulse.bad_days", value=text[:40]) from None


def new_key() -> str:
    """A member's answer key: 128 random bits, held only by Slack in their DM."""
    return secrets.token_urlsafe(16)


def check_key(key: object) -> str:
    if not isinstance(key, str) or not _KEY.match(key):
        raise NotFound("pulse.link_gone")
    return key


# ----- settings -----------------------------------------------------------------------
def min_answers(team: Team) -> int:
    raw = teams.setting(team, THRESHOLD_SETTING, MIN_ANSWERS)
    return max(MIN_ANSWERS, raw if isinstance(raw, int) else MIN_ANSWERS)


def set_threshold(session: Session, *, team: Team, leader_id: str, text: str) -> int:
    teams.require_leader(session, team, leader_id)
    if not text.isdigit() or not MIN_ANSWERS <= int(text) <= 1000:
        raise InvalidInput("pulse.bad_threshold", min=MIN_ANSWERS)
    team.settings = {**(team.settings or {}), THRESHOLD_SETTING: int(text)}
    session.add(team)
    return int(text)


def settings_of(session: Session, *, team: Team, user_id: str, now: datetime) -> PulseSchedule:
    """The team's pulse row, created on first use (a leader asks for it)."""
    assert team.id is not None
    row = store.schedule_of_team(session=session, team_id=team.id)
    if row is None:
        row = store.save(
            session=session,
            row=PulseSchedule(
                workspace_id=team.workspace_id, team_id=team.id, updated_by=user_id, updated_at=now
            ),
        )
    return row


def set_schedule(
    session: Session, *, team: Team, leader_id: str, days: str, at: str, now: datetime
) -> PulseSchedule:
    teams.require_leader(session, team, leader_id)
    day_list = parse_days(days)
    hhmm = parse_hhmm(at)
    row = settings_of(session, team=team, user_id=leader_id, now=now)
    row.days, row.time, row.paused = standups.days_text(day_list), hhmm, False
    row.updated_by, row.updated_at = leader_id, now
    return store.save(session=session, row=row)


def leader_settings(session: Session, *, team: Team, leader_id: str, now: datetime) -> PulseSchedule:
    teams.require_leader(session, team, leader_id)
    return settings_of(session, team=team, user_id=leader_id, now=now)


def set_paused(session: Session, *, team: Team, leader_id: str, paused: bool, now: datetime) -> PulseSchedule:
    teams.require_leader(session, team, leader_id)
    assert team.id is not None
    row = store.schedule_of_team(session=session, team_id=team.id)
    if row is None or row.days is None:
        raise NotFound("pulse.no_schedule", team=team.name)
    row.paused, row.updated_by, row.updated_at = paused, leader_id, now
    return store.save(session=session, row=row)


def _plain(text: str | None) -> str:
    """Questions become plain-text labels: no markup characters, no control characters."""
    return "".join(c for c in (text or "") if c.isprintable() and c not in "<>").strip()


def set_questions(
    session: Session, *, team: Team, leader_id: str, questions: dict[str, str | None], now: datetime
) -> PulseSchedule:
    """Leaders word the four questions their way; an empty one goes back to the default.
    The scales stay: they are what makes weeks comparable."""
    row = leader_settings(session, team=team, leader_id=leader_id, now=now)
    clean: dict[str, str] = {}
    for key in QUESTION_KEYS:
        text = _plain(questions.get(key))
        if len(text) > QUESTION_MAX:
            raise InvalidInput("pulse.question_long", max=QUESTION_MAX, field=f"pulse.q_{key}")
        if text:
            clean[key] = text
    row.questions, row.updated_by, row.updated_at = clean, leader_id, now
    return store.save(session=session, row=row)


def question(questions: dict[str, str], key: str, lang: str) -> str:
    return questions.get(key) or t(lang, f"pulse.q_{key}")


# ----- opening ------------------------------------------------------------------------
def week_of(when: datetime, tz: str) -> date:
    day = when.astimezone(zone(tz)).date()
    return day - timedelta(days=day.weekday())


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


# ----- answering ----------------------------------------------------------------------
@dataclass
class Answerable:
    pulse: Pulse
    team: Team
    previous: PulseAnswer | None  # the key holder's own answer, to change


def answerable(session: Session, *, pulse_id: int, user_id: str, key: object, now: datetime) -> Answerable:
    key = check_key(key)
    pulse = store.get_pulse(session=session, pulse_id=pulse_id)
    team = team_store.get_team(session=session, team_id=pulse.team_id) if pulse else None
    if pulse is None or team is None:
        raise NotFound("pulse.link_gone")
    if pulse.closed or now >= pulse.closes_at:
        raise NotAllowed("pulse.closed")
    who = store.respondent(session=session, pulse_id=pulse_id, user_id=user_id)
    if who is None:
        raise NotAllowed("pulse.not_asked")
    previous = store.answer_by_key(session=session, pulse_id=pulse_id, key_hash=store.hash_key(key, user_id))
    if previous is None and who.answered:
        raise Conflict("pulse.answered_elsewhere")
    return Answerable(pulse, team, previous)


def _score(values: dict[str, Any], key: str) -> int:
    raw = values.get(key)
    if isinstance(raw, str) and raw.isdigit() and int(raw) in SCALES[key]:
        return int(raw)
    raise InvalidInput("pulse.pick_one", field=f"pulse.{key}")


def answer(
    session: Session, *, pulse_id: int, user_id: str, key: object, values: dict[str, Any], clock: Clock
) -> tuple[bool, Answerable]:
    """Store (first time) or change (same key) the member's answer; True when first."""
    found = answerable(session, pulse_id=pulse_id, user_id=user_id, key=key, now=clock.now())
    scores = {k: _score(values, k) for k in SCALES}
    comment = (values.get("comment") or "").replace("\x00", "").strip()[:COMMENT_MAX] or None
    if found.previous is not None:
        row = found.previous
        row.mood, row.workload, row.enps, row.comment = scores["mood"], scores["workload"], scores["enps"], comment
        store.save(session=session, row=row)
        return False, found
    who = store.respondent(session=session, pulse_id=pulse_id, user_id=user_id)
    assert who is not None and who.id is not None
    if not store.mark_answered(session=session, respondent_id=who.id):
        raise Conflict("pulse.answered_elsewhere")  # a second key raced the first
    store.add_answer(
        session=session,
        answer=PulseAnswer(key_hash=store.hash_key(str(key), user_id), pulse_id=pulse_id, comment=comment, **scores),
    )
    return True, found


# ----- results ------------------------------------------------------------------------
def enps_of(scores: list[int]) -> float | None:
    """Percentage of promoters (9-10) minus percentage of detractors (0-6)."""
    if not scores:
        return None
    promoters = sum(1 for s in scores if s >= 9)
    detractors = sum(1 for s in scores if s <= 6)
    return 100.0 * (promoters - detractors) / len(scores)


def _mean(values: list[int]) -> float | None:
    return sum(values) / len(values) if values else None


@dataclass
class Result:
    """One closed pulse, as the team may see it: figures only when `shown`."""

    pulse: Pulse
    answered: int
    asked: int
    threshold: int
    shown: bool
    mood: float | None = None
    workload: float | None = None
    enps: float | None = None
    distribution: dict[str, list[int]] = field(default_factory=dict)  # key -> count per value
    comments: list[str] = field(default_factory=list)


def result(session: Session, pulse: Pulse) -> Result:
    assert pulse.id is not None
    answered, asked = store.count_answered(session=session, pulse_id=pulse.id)
    threshold = max(pulse.min_answers, MIN_ANSWERS)
    out = Result(pulse, answered, asked, threshold, shown=pulse.closed and answered >= threshold)
    if not out.shown:
        return out
    rows = store.answers_of(session=session, pulse_id=pulse.id)
    out.answered = len(rows)
    out.mood = _mean([r.mood for r in rows])
    out.workload = _mean([r.workload for r in rows])
    out.enps = enps_of([r.enps for r in rows])
    for key, scale in SCALES.items():
        counts = [0] * len(scale)
        for r in rows:
            counts[getattr(r, key) - scale.start] += 1
        out.distribution[key] = counts
    comments = [r.comment for r in rows if r.comment]
    random.SystemRandom().shuffle(comments)
    out.comments = comments
    return out


@dataclass
class Week:
    """One week of the team's trend: the pulse (if any) and the stand-up mood."""

    week: date
    pulse: Result | None
    standup_mood: float | None  # None below the threshold of distinct people
    standup_people: int
    change: dict[str, float | None] = field(default_factory=dict)  # since the previous week shown


def trend(session: Session, *, team: Team, weeks: int, now: datetime) -> list[Week]:
    """The last `weeks` weeks up to this one, oldest first, with the change of each figure
    since the last week that showed it."""
    assert team.id is not None
    this_week = week_of(now, team.timezone)
    first = this_week - timedelta(weeks=weeks - 1)
    threshold = min_answers(team)
    by_week: dict[date, Result] = {}
    for pulse in store.closed_pulses(session=session, team_id=team.id, limit=weeks * 3):
        if pulse.week >= first:
            by_week[pulse.week] = result(session, pulse)  # the week's latest pulse wins
    moods: dict[date, dict[str, list[int]]] = {}
    for day, user, mood in store.standup_moods(
        session=session, team_id=team.id, first=first, last=this_week + timedelta(days=6)
    ):
        moods.setdefault(day - timedelta(days=day.weekday()), {}).setdefault(user, []).append(mood)
    out: list[Week] = []
    last: dict[str, float] = {}
    for i in range(weeks):
        week = first + timedelta(weeks=i)
        people = moods.get(week, {})
        all_moods = [m for ms in people.values() for m in ms]
        standup = _mean(all_moods) if len(people) >= threshold else None
        row = Week(week, by_week.get(week), standup, len(people))
        figures = {"standup_mood": standup}
        if row.pulse is not None and row.pulse.shown:
            figures |= {"mood": row.pulse.mood, "workload": row.pulse.workload, "enps": row.pulse.enps}
        for name, value in figures.items():
            if value is None:
                continue
            row.change[name] = value - last[name] if name in last else None
            last[name] = value
        if row.pulse is not None or row.standup_people:
            out.append(row)
    return out


def latest(session: Session, *, team: Team) -> tuple[Result | None, Result | None]:
    """(the open pulse's progress, the last closed pulse's result) for the App Home."""
    assert team.id is not None
    current = store.open_pulse_of_team(session=session, team_id=team.id)
    [last] = store.closed_pulses(session=session, team_id=team.id, limit=1) or [None]
    return (
        result(session, current) if current is not None else None,
        result(session, last) if last is not None else None,
    )


def previous_shown(session: Session, *, team: Team, before: Pulse) -> Result | None:
    assert team.id is not None
    for pulse in reversed(store.closed_pulses(session=session, team_id=team.id, limit=12)):
        if pulse.opened_at < before.opened_at:
            r = result(session, pulse)
            if r.shown:
                return r
    return None


def shown_history(session: Session, *, team: Team, limit: int = MAX_WEEKS) -> list[Result]:
    """The team's latest closed pulses that have results, oldest first."""
    assert team.id is not None
    rows = store.closed_pulses(session=session, team_id=team.id, limit=limit)
    return [r for r in (result(session, p) for p in rows) if r.shown]


def alerts(session: Session, *, team: Team) -> list[str]:
    """What a leader should hear after a pulse closes: workload up two pulses in a row,
    eNPS down 20 points or more since the last pulse (both among pulses with results)."""
    shown = shown_history(session, team=team)
    reasons: list[str] = []
    if len(shown) >= 3:
        w = [r.workload or 0.0 for r in shown[-3:]]
        if w[2] > w[1] > w[0]:
            reasons.append("workload")
    if len(shown) >= 2 and shown[-1].enps is not None and shown[-2].enps is not None:
        if shown[-2].enps - shown[-1].enps >= ENPS_DROP_ALERT:
            reasons.append("enps")
    return reasons


def parse_weeks(text: str | None) -> int:
    if not text:
        return DEFAULT_WEEKS
    if not text.isdigit() or not 1 <= int(text) <= MAX_WEEKS:
        raise InvalidInput("pulse.bad_weeks", max=MAX_WEEKS)
    return int(text)


def leader_trend(session: Session, *, team: Team, leader_id: str, weeks: int, now: datetime) -> list[Week]:
    teams.require_leader(session, team, leader_id)
    return trend(session, team=team, weeks=weeks, now=now)
