"""Answering a pulse anonymously, and the results, trend and alerts a leader sees."""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlmodel import Session

from supportbot.bot import teams
from supportbot.bot.clock import Clock
from supportbot.bot.errors import Conflict, InvalidInput, NotAllowed, NotFound
from supportbot.bot.pulse.settings import (
    COMMENT_MAX,
    DEFAULT_WEEKS,
    ENPS_DROP_ALERT,
    MAX_WEEKS,
    MIN_ANSWERS,
    SCALES,
    check_key,
    min_answers,
    week_of,
)
from supportbot.storage import pulse as store
from supportbot.storage import teams as team_store
from supportbot.storage.models import Team
from supportbot.storage.pulse import Pulse, PulseAnswer

log = logging.getLogger(__name__)


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
