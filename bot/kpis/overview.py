"""What `/kpis` shows: a period and the one before it, for the team and maybe an agent."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from supportbot.bot.kpis.cache import AnswerCache, one_answer
from supportbot.bot.kpis.compare import targets
from supportbot.bot.kpis.figures import compute
from supportbot.bot.kpis.periods import Period
from supportbot.bot.kpis.report import Report
from supportbot.storage.models import Team


@dataclass
class Summary:
    """What `/kpis` shows: the team (and maybe an agent) now and in the comparable period."""

    team: Team
    period: Period
    current: Report
    previous: Report
    targets: dict[str, float]
    agent_id: str | None = None
    agent: Report | None = None
    agent_previous: Report | None = None


def summary(
    session: Session,
    *,
    team: Team,
    period: Period,
    now: datetime,
    agent_id: str | None = None,
    answers: AnswerCache | None = None,
) -> Summary:
    """`answers`: the runtime's answer cache (`rt.kpi_answers`), or None to compute all."""
    with one_answer(session):
        return _summary(
            session, team=team, period=period, now=now, agent_id=agent_id, answers=answers
        )


def _summary(
    session: Session,
    *,
    team: Team,
    period: Period,
    now: datetime,
    agent_id: str | None,
    answers: AnswerCache | None,
) -> Summary:
    current = compute(session, team=team, answers=answers, start=period.start, end=period.end, now=now)
    previous = compute(
        session, team=team, answers=answers, start=period.prev_start, end=period.prev_end, now=now, detail=False,
        backlog=_backlog_before(current, period.prev_end, now),
        escalations=False,  # the answer shows the current period's escalations only
    )
    out = Summary(team, period, current, previous, targets(team), agent_id)
    if agent_id:
        out.agent = compute(
            session, team=team, answers=answers, start=period.start, end=period.end, agent_id=agent_id, now=now,
            detail=False,
        )
        out.agent_previous = compute(
            session, team=team, answers=answers, start=period.prev_start, end=period.prev_end,
            agent_id=agent_id, now=now, detail=False,
        )
    return out


def _backlog_before(current: Report, at: datetime, now: datetime) -> int | None:
    """The backlog at the start of `current` is its end backlog minus what was created in
    it plus what was solved in it; when the comparison period ends right there, that is
    its backlog with no further query."""
    if at != current.start or current.end > now:
        return None
    return current.backlog - current.volume + current.solved
