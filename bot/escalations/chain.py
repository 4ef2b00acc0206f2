"""Who is told and how long they have: the team's chain of leaders, skipping whoever is
away, the acknowledgement deadline per severity and the cap on reminder rounds."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session

from supportbot.bot import teams
from supportbot.bot.away import away_among
from supportbot.storage import teams as team_store
from supportbot.storage.models import Team

DEFAULT_MAX_ROUNDS = 5


def present_leaders(session: Session, team: Team, at: datetime) -> list[str]:
    """The chain of leaders who are not away (all of them when everybody is away)."""
    assert team.id is not None
    chain = team_store.leaders_of(session=session, team_id=team.id)
    away = away_among(session, workspace_id=team.workspace_id, user_ids=chain, at=at)
    return [uid for uid in chain if uid not in away] or chain


def timeout_for(team: Team, severity: str) -> timedelta:
    return timedelta(seconds=int(teams.ack_timeouts(team).get(severity, 3600)))


def max_rounds(team: Team) -> int:
    try:
        return max(0, int(teams.setting(team, "max_rounds", DEFAULT_MAX_ROUNDS)))
    except (TypeError, ValueError):
        return DEFAULT_MAX_ROUNDS
