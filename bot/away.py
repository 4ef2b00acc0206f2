"""The away roster used everywhere: escalation chains skip away leaders, and scheduled
prompts skip away people. Days are the person's local days (their first team's zone)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlmodel import Session

from supportbot.bot import dates, formats, teams
from supportbot.bot.errors import InvalidInput, NotAllowed
from supportbot.bot.timeutil import zone
from supportbot.storage import away as store
from supportbot.storage import teams as team_store
from supportbot.storage.away import AwayPeriod

MAX_DAYS = 366
NOTE_MAX = 500


def local_day(session: Session, *, workspace_id: str, user_id: str, at: datetime) -> date:
    mine = team_store.teams_of_user(session=session, workspace_id=workspace_id, user_id=user_id)
    tz = mine[0].timezone if mine else "UTC"
    return at.astimezone(zone(tz)).date()


def is_away(session: Session, *, workspace_id: str, user_id: str, at: datetime) -> bool:
    return user_id in away_among(session, workspace_id=workspace_id, user_ids=[user_id], at=at)


def near_days(at: datetime) -> tuple[date, date]:
    """The days any local day at `at` falls within (a zone is within a day of UTC)."""
    utc_day = at.astimezone(UTC).date()
    return utc_day - timedelta(days=1), utc_day + timedelta(days=1)


def away_among(
    session: Session, *, workspace_id: str, user_ids: Sequence[str], at: datetime
) -> set[str]:
    """Who of these people is away at `at` (their local day). One query when nobody is
    near a period (the usual case); their zones only then."""
    first, last = near_days(at)
    periods = store.covering_any(
        session=session, workspace_id=workspace_id, user_ids=user_ids, first=first, last=last
    )
    return away_during(
        session, workspace_id=workspace_id, at=at,
        periods=[(p.user_id, p.start_on, p.end_on) for p in periods],
    )


def away_during(
    session: Session, *, workspace_id: str, periods: Iterable[tuple[str, date, date]], at: datetime
) -> set[str]:
    """Who is away at `at` by these periods (user id, first day, last day) that overlap
    `near_days(at)`: each period's person's local day decides."""
    away: set[str] = set()
    for user_id, start_on, end_on in periods:
        if user_id in away:
            continue
        day = local_day(session, workspace_id=workspace_id, user_id=user_id, at=at)
        if start_on <= day <= end_on:
            away.add(user_id)
    return away


def parse_range(text: str, *, lang: str, today: date) -> tuple[dates.Span, str]:
    """The leading day or range in words or numbers (`mañana`, `24/12..26/12`, `del 24 al
    26 de diciembre`, `2026-12-24`) and the note after it."""
    if not (text or "").strip():
        raise InvalidInput("away.usage")
    span, note = dates.split_leading_span(text, lang=lang, today=today)
    if span.end < span.start:
        raise InvalidInput(
            "away.end_before_start", start=span.start.isoformat(), end=span.end.isoformat()
        )
    if span.days > MAX_DAYS:
        raise InvalidInput("away.too_long", days=MAX_DAYS)
    return span, note


@dataclass
class Marked:
    period: AwayPeriod
    for_someone_else: bool


def mark(
    session: Session,
    *,
    workspace_id: str,
    actor_id: str,
    user_id: str,
    start: date,
    end: date,
    note: str | None,
    now: datetime,
    lang: str = "en",
) -> Marked:
    """Record an away period; a leader may mark a member of a team they lead."""
    other = user_id != actor_id
    if other and not _leads(
        session, workspace_id=workspace_id, leader_id=actor_id, user_id=user_id
    ):
        raise NotAllowed("away.not_your_member")
    today = local_day(session, workspace_id=workspace_id, user_id=user_id, at=now)
    if end < today:
        raise InvalidInput("away.in_the_past", end=formats.day(lang, end, year=end.year != today.year))
    note = (note or "").strip() or None
    if note and len(note) > NOTE_MAX:
        raise InvalidInput("away.note_too_long", limit=NOTE_MAX)
    period = AwayPeriod(
        workspace_id=workspace_id,
        user_id=user_id,
        start_on=start,
        end_on=end,
        note=note,
        created_by=actor_id,
        created_at=now,
    )
    return Marked(store.add_period(session=session, period=period), other)


def _leads(session: Session, *, workspace_id: str, leader_id: str, user_id: str) -> bool:
    for team in team_store.teams_led_by(
        session=session, workspace_id=workspace_id, user_id=leader_id
    ):
        if teams.is_in_team(session, team, user_id):
            return True
    return False


def roster(session: Session, *, workspace_id: str, user_id: str, now: datetime) -> list[AwayPeriod]:
    """Upcoming and current away periods of everyone in the caller's teams (and their own)."""
    people = {user_id}
    for team in team_store.teams_of_user(
        session=session, workspace_id=workspace_id, user_id=user_id
    ):
        people.update(
            m.user_id for m in team_store.members_of(session=session, team_id=team.id or 0)
        )
    today = local_day(session, workspace_id=workspace_id, user_id=user_id, at=now)
    return list(
        store.upcoming(
            session=session,
            workspace_id=workspace_id,
            user_ids=sorted(people),
            from_day=today,
        )
    )


def cancel(
    session: Session, *, workspace_id: str, actor_id: str, user_id: str, now: datetime
) -> int:
    """Remove the person's current and upcoming periods (a leader may for a member)."""
    if user_id != actor_id and not _leads(
        session, workspace_id=workspace_id, leader_id=actor_id, user_id=user_id
    ):
        raise NotAllowed("away.not_your_member")
    today = local_day(session, workspace_id=workspace_id, user_id=user_id, at=now)
    periods = store.upcoming(
        session=session, workspace_id=workspace_id, user_ids=[user_id], from_day=today
    )
    store.delete_periods(session=session, periods=periods)
    return len(periods)
