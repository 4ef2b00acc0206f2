"""Every figure of a team (or one agent) for a period, from the KPI store."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from sqlmodel import Session

from supportbot.bot import teams
from supportbot.bot.errors import InvalidInput
from supportbot.bot.kpis.cache import AnswerCache, once_per_answer
from supportbot.bot.kpis.report import DEFAULT_SLA_MINUTES, METRICS, EscalationFigures, Report
from supportbot.storage import kpis as store
from supportbot.storage import kudos as kudos_store
from supportbot.storage import teams as team_store
from supportbot.storage.models import Team


def scope_for(session: Session, team: Team, agent_id: str | None = None) -> store.Scope:
    """The team's members are read once per answer (see `one_answer`)."""
    assert team.id is not None
    team_id = team.id
    members = once_per_answer(
        session, team_id, lambda: team_store.member_ids(session=session, team_id=team_id)
    )
    return store.Scope(
        workspace_id=team.workspace_id,
        team_key=team_key(team.name),
        members=tuple(members),
        agent_id=agent_id,
    )


def team_key(name: str | None) -> str | None:
    name = (name or "").strip().lower()
    return name or None


def sla_minutes(team: Team) -> int:
    return int(teams.setting(team, "sla_minutes", DEFAULT_SLA_MINUTES))


def compute(
    session: Session,
    *,
    team: Team,
    start: datetime,
    end: datetime,
    agent_id: str | None = None,
    now: datetime,
    detail: bool = True,
    backlog: int | None = None,
    escalations: bool = True,
    answers: AnswerCache | None = None,
) -> Report:
    """Every figure for [start, end); `now` decides which unanswered tickets are breached.
    `backlog` may be passed in when the caller already knows it (see `overview._summary`).

    With `answers` (the runtime's `rt.kpi_answers`), the ticket figures come from it while
    no import changed the tickets (`store.data_version`) and they are under its TTL old;
    without, they are computed. Escalations are always live.
    """
    scope = scope_for(session, team, agent_id)
    default_sla = sla_minutes(team)
    report = None
    if answers is not None:
        key = (scope, default_sla, start, answers.grid(end), detail, backlog)
        version = once_per_answer(
            session,
            team.workspace_id,
            lambda: store.data_version(session=session, workspace_id=team.workspace_id),
        )
        report = answers.get(session, key, version, now)
        if report is not None:
            report = replace(report, start=start, end=end)
    if report is None:
        report = _ticket_report(
            session, scope=scope, default_sla=default_sla, start=start, end=end, now=now,
            detail=detail, backlog=backlog,
        )
        if answers is not None:
            answers.put(session, key, version, now, report)
    return replace(
        report,
        escalations=(
            escalation_figures(session, team, start, end, now)
            if escalations and agent_id is None
            else None
        ),
    )


def _ticket_report(
    session: Session,
    *,
    scope: store.Scope,
    default_sla: int,
    start: datetime,
    end: datetime,
    now: datetime,
    detail: bool,
    backlog: int | None,
) -> Report:
    created = store.created_stats(
        session=session, scope=scope, start=start, end=end, default_sla_minutes=default_sla,
        detail=detail,
    )
    breached = 0
    if created.volume > created.responded:
        breached = store.count_unanswered_breached(
            session=session, scope=scope, start=start, end=end, now=now,
            default_sla_minutes=default_sla, unanswered=created.volume - created.responded,
        )
    frt_n, quantiles = store.frt_quantiles(
        session=session, scope=scope, start=start, end=end, histogram=created.histogram,
        quantiles=(0.5, 0.9) if detail else (0.5,),
    )
    median, p90 = quantiles[0], quantiles[1] if detail else None
    solved = store.solved_stats(session=session, scope=scope, start=start, end=end)
    return Report(
        start=start,
        end=end,
        volume=created.volume,
        by_channel=created.by_channel,
        by_category=created.by_category,
        frt_n=frt_n,
        frt_median=None if median is None else median / 60.0,
        frt_p90=None if p90 is None else p90 / 60.0,
        sla_n=created.sla_met + created.sla_late + breached,
        sla_met=created.sla_met,
        solved=solved.solved,
        aht_n=solved.handle_n,
        aht=solved.handle_sum / solved.handle_n / 60.0 if solved.handle_n else None,
        fcr_n=solved.fcr_n,
        fcr_yes=solved.fcr_yes,
        csat_n=solved.csat_n,
        csat_good=solved.csat_good,
        nps_n=solved.nps_n,
        nps_promoters=solved.promoters,
        nps_detractors=solved.detractors,
        backlog=backlog if backlog is not None else store.backlog_at(
            session=session, scope=scope, at=min(end, now), now=now
        ),
    )


def metric_value(
    session: Session,
    *,
    team: Team,
    metric: str,
    start: datetime,
    end: datetime,
    agent_id: str | None = None,
    now: datetime | None = None,
    answers: AnswerCache | None = None,
) -> float | None:
    """One figure (see METRICS) for [start, end); None when there is no data."""
    if metric not in METRICS:
        raise InvalidInput("kpis.bad_metric", value=metric, metrics=", ".join(METRICS))
    report = compute(
        session, team=team, start=start, end=end, agent_id=agent_id,
        now=now or end, detail=False, answers=answers,
    )
    return report.value(metric)


def _median(values: list[float]) -> float | None:
    if not values:
        return None
    values = sorted(values)
    mid = len(values) // 2
    return values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2


def escalation_figures(
    session: Session, team: Team, start: datetime, end: datetime, now: datetime
) -> EscalationFigures:
    """Escalations of the team in the period: the four counts, and the medians of the
    acknowledge/resolve spans."""
    counts = store.escalation_counts(
        session=session, team_id=team.id, start=start, end=end, at=min(end, now)
    )
    minutes: dict[str, list[float]] = {"ack": [], "resolve": []}
    for kind, a, b in store.escalation_spans(session=session, team_id=team.id, start=start, end=end):
        if a is not None and b is not None:
            minutes[kind].append((b - a).total_seconds() / 60.0)
    return EscalationFigures(
        opened=counts.get("opened", 0),
        acknowledged=counts.get("acknowledged", 0),
        resolved=counts.get("resolved", 0),
        median_ack_minutes=_median(minutes["ack"]),
        median_resolve_minutes=_median(minutes["resolve"]),
        overdue_open=counts.get("overdue", 0),
    )


def kudos_count(session: Session, team: Team, start: datetime, end: datetime) -> int | None:
    """Kudos given in the team in [start, end), or None before kudos exist."""
    return int(kudos_store.count_kudos(session=session, team_id=team.id, since=start, until=end))
