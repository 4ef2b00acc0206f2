"""The daily digest: its figures, trend and chart, and the job that queues it per team.

The figures are built once, by the team's job, and travel in the outbox row
(`digest_to_data`): the post's renderer and then the chart's renderer read them from
there instead of building the digest again on the outbox's one delivery thread, where
fifty teams' digests at 09:00 would queue behind each other. A row without them (queued
by an older version, or by `supportbot digest`) is built at delivery as before.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field, replace
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlmodel import Session

from supportbot.bot import teams
from supportbot.bot.kpis import chart
from supportbot.bot.kpis.cache import AnswerCache, one_answer
from supportbot.bot.kpis.compare import targets
from supportbot.bot.kpis.figures import compute, kudos_count, scope_for
from supportbot.bot.kpis.periods import day_bounds
from supportbot.bot.kpis.report import METRICS, EscalationFigures, Report
from supportbot.bot.outbox import enqueue
from supportbot.bot.timeutil import zone
from supportbot.storage import alerts as alert_store
from supportbot.storage import kpis as store
from supportbot.storage import teams as team_store
from supportbot.storage.claims import try_claim
from supportbot.storage.models import Team

log = logging.getLogger(__name__)

DEFAULT_DIGEST_TIME = "09:00"
DIGEST_KIND = "kpis.digest"
TREND_DAYS = 7
CHART_DAYS = 14
WARM_AHEAD = timedelta(minutes=15)  # matplotlib is imported this long before a digest


@dataclass
class Digest:
    team: Team
    day: date
    report: Report
    previous: Report
    targets: dict[str, float]
    trend: dict[str, list[float | None]]  # metric -> last TREND_DAYS values, oldest first
    chart_days: list[date]
    chart: dict[str, list[float | None]]  # metric -> CHART_DAYS values
    fcr_by_category: list[tuple[str | None, int, int]]
    kudos: int | None = None
    alerts: alert_store.AlertCounts | None = None  # SLA-risk and spike alerts of the day
    extra: dict[str, Any] = field(default_factory=dict)


def build_digest(
    session: Session, *, team: Team, day: date, now: datetime, answers: AnswerCache | None = None
) -> Digest:
    """`answers`: the runtime's answer cache (`rt.kpi_answers`), or None to compute all."""
    with one_answer(session):
        return _build_digest(session, team=team, day=day, now=now, answers=answers)


def _build_digest(
    session: Session, *, team: Team, day: date, now: datetime, answers: AnswerCache | None
) -> Digest:
    tz = team.timezone
    days = [day - timedelta(days=i) for i in range(CHART_DAYS - 1, -1, -1)]
    bounds = [day_bounds(d, tz) for d in days]
    # The backlog at the end of each day is one series (`store.open_series`): one count of
    # open tickets since ever plus each day's own created and solved figures; a count
    # since ever per day would be most of a digest's work. It covers the days that are
    # over (and follow each other: local midnights); a later one counts its own.
    series_days = 0
    while (
        series_days < len(days)
        and bounds[series_days][1] <= now
        and (series_days == 0 or bounds[series_days][0] == bounds[series_days - 1][1])
    ):
        series_days += 1
    reports: list[Report] = []
    for i, (d, (s, e)) in enumerate(zip(days, bounds, strict=True)):
        # Only the day's own report shows escalations and the breakdowns.
        reports.append(compute(
            session, team=team, answers=answers, start=s, end=e, now=now, detail=d == day,
            escalations=d == day, backlog=0 if i < series_days else None,  # 0: filled in below
        ))
    scope = scope_for(session, team)
    if series_days:
        backlogs = store.open_series(
            session=session, scope=scope, first=bounds[0][1],
            steps=[(bounds[i][1], reports[i].volume, reports[i].solved) for i in range(1, series_days)],
        )
        for i, backlog in enumerate(backlogs):
            reports[i] = replace(reports[i], backlog=backlog)
    series: dict[str, list[float | None]] = {m: [r.value(m) for r in reports] for m in METRICS}
    start, end = bounds[-1]
    assert team.id is not None
    return Digest(
        team=team,
        day=day,
        report=reports[-1],
        previous=reports[-2],
        targets=targets(team),
        trend={m: v[-TREND_DAYS:] for m, v in series.items()},
        chart_days=days,
        chart=series,
        fcr_by_category=store.fcr_by_category(session=session, scope=scope, start=start, end=end),
        kudos=kudos_count(session, team, start, end),
        alerts=alert_store.alert_counts(session=session, team_id=team.id, start=start, end=end),
    )


FIGURES_VERSION = 1


def digest_to_data(d: Digest) -> dict[str, Any]:
    """The digest's figures as JSON (for an outbox row); the team is not in it."""
    return {
        "v": FIGURES_VERSION,
        "day": d.day.isoformat(),
        "report": _report_data(d.report),
        "previous": _report_data(d.previous),
        "targets": dict(d.targets),
        "chart_days": [day.isoformat() for day in d.chart_days],
        "chart": {m: list(v) for m, v in d.chart.items()},
        "fcr_by_category": [list(row) for row in d.fcr_by_category],
        "kudos": d.kudos,
        "alerts": asdict(d.alerts) if d.alerts is not None else None,
    }


def digest_from_data(team: Team, data: dict[str, Any]) -> Digest | None:
    """The digest `digest_to_data` stored, for `team` as it is now; None when the data
    is of another version (the caller builds the digest instead)."""
    if not isinstance(data, dict) or data.get("v") != FIGURES_VERSION:
        return None
    chart = {m: list(v) for m, v in data["chart"].items()}
    return Digest(
        team=team,
        day=date.fromisoformat(data["day"]),
        report=_report_from(data["report"]),
        previous=_report_from(data["previous"]),
        targets={k: float(v) for k, v in data["targets"].items()},
        trend={m: v[-TREND_DAYS:] for m, v in chart.items()},
        chart_days=[date.fromisoformat(day) for day in data["chart_days"]],
        chart=chart,
        fcr_by_category=[(cat, int(n), int(yes)) for cat, n, yes in data["fcr_by_category"]],
        kudos=data["kudos"],
        alerts=alert_store.AlertCounts(**data["alerts"]) if data["alerts"] is not None else None,
    )


def _report_data(r: Report) -> dict[str, Any]:
    out = asdict(r)
    out["start"] = r.start.isoformat()
    out["end"] = r.end.isoformat()
    return out


def _report_from(data: dict[str, Any]) -> Report:
    fields = dict(data)
    fields["start"] = datetime.fromisoformat(fields["start"])
    fields["end"] = datetime.fromisoformat(fields["end"])
    fields["by_channel"] = [(key, int(n)) for key, n in fields["by_channel"]]
    fields["by_category"] = [(key, int(n)) for key, n in fields["by_category"]]
    if fields.get("escalations") is not None:
        fields["escalations"] = EscalationFigures(**fields["escalations"])
    return Report(**fields)


SPARKS = "▁▂▃▄▅▆▇█"


def sparkline(values: list[float | None]) -> str:
    """A text sparkline; a day with no data is a middle dot."""
    known = [v for v in values if v is not None]
    if not known:
        return "·" * len(values)
    low, high = min(known), max(known)
    out = []
    for v in values:
        if v is None:
            out.append("·")
        elif high == low:
            out.append(SPARKS[3])
        else:
            out.append(SPARKS[round((v - low) / (high - low) * (len(SPARKS) - 1))])
    return "".join(out)


def digest_time(team: Team) -> time:
    text = str(teams.setting(team, "digest_time", DEFAULT_DIGEST_TIME) or DEFAULT_DIGEST_TIME)
    hh, mm = text.split(":")
    return time(int(hh), int(mm))


def digest_day(team: Team, scheduled_for: datetime) -> date:
    """The day a digest fired at `scheduled_for` reports on: the previous local day."""
    return scheduled_for.astimezone(zone(team.timezone)).date() - timedelta(days=1)


def digest_claim_key(team_id: int, day: date) -> str:
    return f"digest:{team_id}:{day.isoformat()}"


def queue_digest(
    session: Session, *, team: Team, day: date, clock: Any, claim: bool = True,
    figures: dict[str, Any] | None = None,
) -> bool:
    """Claim the team's digest for `day` and enqueue it; False when already done/no channel.
    `figures` (from `digest_to_data`) go with the row so delivery does not build them."""
    assert team.id is not None
    if not team.digest_channel:
        return False
    if claim and not try_claim(
        session=session, key=digest_claim_key(team.id, day), now=clock.now()
    ):
        return False
    enqueue(
        session,
        workspace_id=team.workspace_id,
        kind=DIGEST_KIND,
        data={"team_id": team.id, "day": day.isoformat(), **({"figures": figures} if figures else {})},
        clock=clock,
        dedupe_key=f"kpis:digest:{team.id}:{day.isoformat()}" if claim else None,
    )
    return True


def run_digest(rt: Any, team_id: int, *, scheduled_for: datetime) -> None:
    """Job: the digest of one team for the day before `scheduled_for` (never twice)."""
    with rt.transaction(readonly=True) as session:
        team = team_store.get_team(session=session, team_id=team_id)
        if team is None or not team.digest_channel:
            return
        local = scheduled_for.astimezone(zone(team.timezone))
        if local.weekday() >= 5 or local.time().replace(second=0, microsecond=0) != digest_time(team):
            return  # the team's schedule changed since this job was installed
        day = digest_day(team, scheduled_for)
    queue_team_digest(rt, team_id, day)


def queue_team_digest(rt: Any, team_id: int, day: date) -> bool:
    """Build the team's digest for `day` (a read: no write lock is held meanwhile), then
    claim and queue it with its figures, and wake the outbox. False when it was already
    queued (another replica, a restart) or the team has no digest channel any more."""
    # One digest built and queued at a time (`rt.digest_builds`): the scheduler starts
    # every team's job at once on its threads, and built side by side on one interpreter
    # the first digest would be ready only when they all were, with the outbox's thread
    # queueing for the interpreter behind them. In turn, delivery starts with the first.
    with rt.digest_builds:
        with rt.transaction(readonly=True) as session:
            team = team_store.get_team(session=session, team_id=team_id)
            if team is None or not team.digest_channel:
                return False
            digest = build_digest(session, team=team, day=day, now=rt.clock.now(), answers=rt.kpi_answers)
            figures = digest_to_data(digest)
        with rt.transaction() as session:
            team = team_store.get_team(session=session, team_id=team_id)
            if team is None:
                return False
            queued = queue_digest(session, team=team, day=day, clock=rt.clock, figures=figures)
    if queued:
        log.info("digest queued for team %s, %s", team_id, day)
    rt.outbox.kick()  # also when another replica queued it: help deliver it (and its chart)
    return queued


def digest_trigger(team: Team) -> Any:
    from apscheduler.triggers.cron import CronTrigger

    at = digest_time(team)
    return CronTrigger(day_of_week="mon-fri", hour=at.hour, minute=at.minute, timezone=team.timezone)


def _job_id(team_id: int) -> str:
    return f"kpis.digest:{team_id}"


def sync_jobs(scheduler: Any, rt: Any, installed: dict[int, tuple[str, str]]) -> None:
    """(Re)install a digest job per team with a digest channel; drop removed ones. Import
    matplotlib when a digest is due within WARM_AHEAD (its charts are drawn here)."""
    with rt.transaction(readonly=True) as session:
        wanted = {
            t.id: (t.timezone, f"{digest_time(t):%H:%M}", t)
            for t in team_store.list_teams(session=session)
            if t.digest_channel and t.id is not None
        }
    now = rt.clock.now()
    soon = [
        at for _tz, _hhmm, t in wanted.values()
        if (at := digest_trigger(t).get_next_fire_time(None, now)) is not None and at - now <= WARM_AHEAD
    ]
    if soon:
        chart.warm()
    for team_id in list(installed):
        if team_id not in wanted:
            scheduler.remove(_job_id(team_id))
            del installed[team_id]
    for team_id, (tz, hhmm, team) in wanted.items():
        if installed.get(team_id) == (tz, hhmm):
            continue
        scheduler.cron(
            _job_id(team_id), f"KPI digest for team {team_id}", digest_trigger(team),
            run_digest, rt, team_id,
        )
        installed[team_id] = (tz, hhmm)


def install_jobs(scheduler: Any, rt: Any) -> None:
    installed: dict[int, tuple[str, str]] = {}
    sync_jobs(scheduler, rt, installed)
    scheduler.every(
        "kpis.digest.sync", "Pick up new or changed digest schedules", 300,
        sync_jobs, scheduler, rt, installed,
    )
