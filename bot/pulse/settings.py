"""Pulse settings: words, schedule, questions and the team's answer threshold."""

from __future__ import annotations

import logging
import re
import secrets
from datetime import date, datetime, timedelta

from sqlmodel import Session

from supportbot.bot import keywords, standups, teams
from supportbot.bot.errors import InvalidInput, NotFound
from supportbot.bot.i18n import t
from supportbot.bot.timeutil import parse_hhmm, zone
from supportbot.storage import pulse as store
from supportbot.storage.models import Team
from supportbot.storage.pulse import PulseSchedule

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
# The words /pulse understands are the [keywords] table of bot/messages/pulse.toml (both
# languages, case and accents ignored, via bot/keywords.py); days of the week are common's
# and are read by the stand-up parser.
FEATURE = "pulse"
VERB_KEYS = ("schedule", "questions", "now", "pause", "resume", "results", "status", "threshold", "help")


def verb_of(word: str) -> str | None:
    """`programar` / `Schedule` -> `schedule`; None for a word that is not a /pulse verb."""
    key = keywords.canonical(FEATURE, word)
    return key if key in VERB_KEYS else None


def parse_days(text: str) -> list[int]:
    """`fri`, `viernes`, `mon,thu`, `lun-vie` (either language, any case or accents) ->
    weekday numbers (0 = Monday), read by the stand-up parser (bot/standups)."""
    try:
        return standups.parse_days(text)
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


def week_of(when: datetime, tz: str) -> date:
    day = when.astimezone(zone(tz)).date()
    return day - timedelta(days=day.weekday())
