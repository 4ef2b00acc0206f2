"""KPI math: periods in the team's time zone, every figure, targets, comparisons, the digest.

Definitions (exact; the README says the same in words):
- volume: tickets created in the period (also by channel and by category);
- frt: median / p90 of first_response_at - created_at over tickets created in the period
  that have a first response (minutes);
- sla: of tickets created in the period, the share answered within their target
  (`sla_target_minutes`, else the team's `sla_minutes`, default 60); an unanswered ticket
  counts as breached once its target has passed and is left out before that;
- over tickets solved in the period: resolutions, aht (mean handle_time_seconds of those
  with it, minutes), fcr (share with agent_replies <= 1 of those with it), csat (share of
  ratings 4-5 or `good`), nps (% of 9-10 minus % of 0-6, rounded to an integer);
- backlog: tickets created before the end of the period and not solved by then.
A figure with no data is None ("no data"), never 0.
"""

from __future__ import annotations

import logging
import re
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from typing import Any

from sqlmodel import Session

from supportbot.bot import teams
from supportbot.bot.errors import InvalidInput
from supportbot.bot.outbox import enqueue
from supportbot.bot.timeutil import local_midnight, zone
from supportbot.storage import escalations as esc_store
from supportbot.storage import kpis as store
from supportbot.storage import kudos as kudos_store
from supportbot.storage import teams as team_store
from supportbot.storage.claims import try_claim
from supportbot.storage.models import Team

log = logging.getLogger(__name__)

METRICS = ("csat", "nps", "frt", "sla", "fcr", "aht", "volume", "backlog")
DEFAULT_TARGETS: dict[str, float] = {
    "csat": 90,
    "frt": 60,
    "sla": 95,
    "fcr": 70,
    "nps": 30,
    "aht": 10,
}
LOWER_IS_BETTER = frozenset({"frt", "aht", "backlog"})
TARGET_RANGES: dict[str, tuple[float, float]] = {
    "csat": (0, 100),
    "sla": (0, 100),
    "fcr": (0, 100),
    "nps": (-100, 100),
    "frt": (0, 100000),
    "aht": (0, 100000),
    "backlog": (0, 10_000_000),
    "volume": (0, 10_000_000),
}
LOW_SAMPLE = 10
DEFAULT_SLA_MINUTES = 60
DEFAULT_DIGEST_TIME = "09:00"
DIGEST_KIND = "kpis.digest"
TREND_DAYS = 7
CHART_DAYS = 14


# ----- periods ------------------------------------------------------------------------
@dataclass(frozen=True)
class Period:
    """[start, end) in UTC, with the comparable period before it and a label."""

    key: str
    label: str
    start: datetime
    end: datetime
    prev_start: datetime
    prev_end: datetime


_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_RANGE = re.compile(r"^(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})$")
PERIOD_WORDS = ("today", "yesterday", "week", "last-week", "month", "last-month")


def is_period(text: str) -> bool:
    text = text.lower()
    return text in PERIOD_WORDS or bool(_DAY.match(text) or _RANGE.match(text))


def _month_start(d: date) -> date:
    return d.replace(day=1)


def _add_months(d: date, months: int) -> date:
    y, m = divmod(d.month - 1 + months, 12)
    return date(d.year + y, m + 1, 1)


def _local_at(day: date, wall: time, tz: str) -> datetime:
    return datetime.combine(day, wall, tzinfo=zone(tz))


def _parse_day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput("kpis.bad_date", value=text) from None


def parse_period(text: str, *, now: datetime, tz: str) -> Period:
    """`today`, `yesterday`, `week`, `last-week`, `month`, `last-month`, a day or a range.

    Days are calendar days in the team's zone (23 or 25 hours on DST days). Partial
    periods (today, week, month) compare with the same elapsed part of the one before;
    `today` with the same hours of the same weekday a week earlier.
    """
    word = (text or "today").strip().lower()
    local_now = now.astimezone(zone(tz))
    today = local_now.date()
    wall = local_now.timetz().replace(tzinfo=None)

    def day_start(d: date) -> datetime:
        return local_midnight(d, tz)

    if word == "today":
        week_ago = today - timedelta(days=7)
        return _mk(
            word, today.isoformat(), day_start(today), now,
            day_start(week_ago), _local_at(week_ago, wall, tz),
        )
    if word == "yesterday":
        d = today - timedelta(days=1)
        return _days(word, d.isoformat(), d, d, tz)
    if word in ("week", "last-week"):
        monday = today - timedelta(days=today.weekday())
        if word == "week":
            prev = monday - timedelta(days=7)
            label = f"{monday.isoformat()}..{today.isoformat()}"
            return Period(
                word, label, day_start(monday), now,
                day_start(prev), _local_at(prev + (today - monday), wall, tz),
            )
        start = monday - timedelta(days=7)
        return _days(word, f"{start.isoformat()}..{(monday - timedelta(days=1)).isoformat()}", start, monday - timedelta(days=1), tz)
    if word in ("month", "last-month"):
        first = _month_start(today)
        if word == "month":
            prev = _add_months(first, -1)
            elapsed = today - first
            prev_day = min(prev + elapsed, first - timedelta(days=1))
            prev_end = (
                _local_at(prev_day, wall, tz) if prev + elapsed < first else day_start(first)
            )
            return _mk(word, f"{first:%Y-%m}", day_start(first), now, day_start(prev), prev_end)
        start = _add_months(first, -1)
        return _mk(
            word, f"{start:%Y-%m}", day_start(start), day_start(first),
            day_start(_add_months(first, -2)), day_start(start),
        )
    if _DAY.match(word):
        d = _parse_day(word)
        return _days(word, d.isoformat(), d, d, tz)
    match = _RANGE.match(word)
    if match:
        a, b = _parse_day(match.group(1)), _parse_day(match.group(2))
        if b < a:
            raise InvalidInput("kpis.bad_range", value=text)
        if (b - a).days > 731:
            raise InvalidInput("kpis.range_too_long", value=text)
        return _days(word, f"{a.isoformat()}..{b.isoformat()}", a, b, tz)
    raise InvalidInput("kpis.bad_period", value=text)


def _mk(key: str, label: str, *bounds: datetime) -> Period:
    start, end, prev_start, prev_end = (b.astimezone(UTC) for b in bounds)
    return Period(key, label, start, end, prev_start, prev_end)


def _days(key: str, label: str, first: date, last: date, tz: str) -> Period:
    """Whole calendar days first..last, compared with as many days just before."""
    n = (last - first).days + 1
    return _mk(
        key,
        label,
        local_midnight(first, tz),
        local_midnight(last + timedelta(days=1), tz),
        local_midnight(first - timedelta(days=n), tz),
        local_midnight(first, tz),
    )


def day_bounds(day: date, tz: str) -> tuple[datetime, datetime]:
    return local_midnight(day, tz), local_midnight(day + timedelta(days=1), tz)


# ----- figures ------------------------------------------------------------------------
@dataclass
class EscalationFigures:
    opened: int
    acknowledged: int
    resolved: int
    median_ack_minutes: float | None
    median_resolve_minutes: float | None
    overdue_open: int


@dataclass
class Report:
    start: datetime
    end: datetime
    volume: int
    by_channel: list[tuple[str | None, int]]
    by_category: list[tuple[str | None, int]]
    frt_n: int
    frt_median: float | None  # minutes
    frt_p90: float | None
    sla_n: int
    sla_met: int
    solved: int
    aht_n: int
    aht: float | None  # minutes
    fcr_n: int
    fcr_yes: int
    csat_n: int
    csat_good: int
    nps_n: int
    nps_promoters: int
    nps_detractors: int
    backlog: int
    escalations: EscalationFigures | None = None

    @property
    def sla(self) -> float | None:
        return 100.0 * self.sla_met / self.sla_n if self.sla_n else None

    @property
    def fcr(self) -> float | None:
        return 100.0 * self.fcr_yes / self.fcr_n if self.fcr_n else None

    @property
    def csat(self) -> float | None:
        return 100.0 * self.csat_good / self.csat_n if self.csat_n else None

    @property
    def nps(self) -> int | None:
        if not self.nps_n:
            return None
        return round(100.0 * (self.nps_promoters - self.nps_detractors) / self.nps_n)

    @property
    def frt(self) -> float | None:
        return self.frt_median

    def value(self, metric: str) -> float | None:
        if metric == "volume":
            return float(self.volume)
        if metric == "backlog":
            return float(self.backlog)
        v = getattr(self, metric)
        return None if v is None else float(v)

    def sample(self, metric: str) -> int | None:
        return {"csat": self.csat_n, "nps": self.nps_n}.get(metric)

    def low_sample(self, metric: str) -> bool:
        n = self.sample(metric)
        return n is not None and 0 < n < LOW_SAMPLE


def scope_for(session: Session, team: Team, agent_id: str | None = None) -> store.Scope:
    """The team's members are read once per answer (see `one_answer`)."""
    assert team.id is not None
    team_id = team.id
    members = _once_per_answer(
        session, team_id, lambda: team_store.member_ids(session=session, team_id=team_id)
    )
    return store.Scope(
        workspace_id=team.workspace_id,
        team_key=team_key(team.name),
        members=tuple(members),
        agent_id=agent_id,
    )


def _once_per_answer(session: Session, key: Any, load: Callable[[], Any]) -> Any:
    """`load()`, kept for the rest of the answer when inside `one_answer`."""
    shared = session.info.get(SCOPE_CACHE)
    if shared is None:
        return load()
    if key not in shared:
        shared[key] = load()
    return shared[key]


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
) -> Report:
    """Every figure for [start, end); `now` decides which unanswered tickets are breached.
    `backlog` may be passed in when the caller already knows it (see `_summary`).

    The ticket figures come from the answer cache while no import changed the tickets
    (`store.data_version`) and they are under ANSWER_TTL old; escalations are always live.
    """
    scope = scope_for(session, team, agent_id)
    default_sla = sla_minutes(team)
    key = (scope, default_sla, start, ANSWERS.grid(end), detail, backlog)
    version = _once_per_answer(
        session,
        team.workspace_id,
        lambda: store.data_version(session=session, workspace_id=team.workspace_id),
    )
    report = ANSWERS.get(session, key, version, now)
    if report is not None:
        report = replace(report, start=start, end=end)
    if report is None:
        report = _ticket_report(
            session, scope=scope, default_sla=default_sla, start=start, end=end, now=now,
            detail=detail, backlog=backlog,
        )
        ANSWERS.put(session, key, version, now, report)
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
            default_sla_minutes=default_sla,
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


class AnswerCache:
    """Ticket figures already computed, per database, keyed by what they were computed
    from (scope, SLA, period, detail) and valid for the data version they saw and for
    ANSWER_TTL of `now` (unanswered tickets become breached as time passes). Replicas
    each keep their own; an import in any process bumps the version for all of them.

    Periods that end "now" (today so far, the same hours last week) move on every call;
    their end is put on the TTL's grid in the key, so an answer is reused for at most
    ANSWER_TTL (new tickets come with a new version anyway)."""

    def __init__(self, ttl: timedelta, size: int) -> None:
        self.ttl = ttl
        self.size = size
        self._by_db: weakref.WeakKeyDictionary[Any, OrderedDict[Any, tuple[int, datetime, Report]]] = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def grid(self, when: datetime) -> datetime:
        step = int(self.ttl.total_seconds())
        return when - timedelta(seconds=when.second % step, microseconds=when.microsecond)

    def get(self, session: Session, key: Any, version: int, now: datetime) -> Report | None:
        with self._lock:
            entries = self._by_db.get(session.get_bind().pool)
            found = entries.get(key) if entries is not None else None
            if found is not None and found[0] == version and timedelta(0) <= now - found[1] < self.ttl:
                entries.move_to_end(key)  # type: ignore[union-attr]
                self.hits += 1
                return found[2]
            self.misses += 1
            return None

    def clear(self) -> None:
        with self._lock:
            self._by_db.clear()

    def put(self, session: Session, key: Any, version: int, now: datetime, report: Report) -> None:
        with self._lock:
            entries = self._by_db.setdefault(session.get_bind().pool, OrderedDict())
            entries[key] = (version, now, report)
            entries.move_to_end(key)
            while len(entries) > self.size:
                entries.popitem(last=False)


ANSWER_TTL = timedelta(seconds=30)
SCOPE_CACHE = "kpis.scope"
ANSWERS = AnswerCache(ANSWER_TTL, size=512)


def metric_value(
    session: Session,
    *,
    team: Team,
    metric: str,
    start: datetime,
    end: datetime,
    agent_id: str | None = None,
    now: datetime | None = None,
) -> float | None:
    """One figure (see METRICS) for [start, end); None when there is no data."""
    if metric not in METRICS:
        raise InvalidInput("kpis.bad_metric", value=metric, metrics=", ".join(METRICS))
    report = compute(
        session, team=team, start=start, end=end, agent_id=agent_id,
        now=now or end, detail=False,
    )
    return report.value(metric)


def _median(values: list[float]) -> float | None:
    if not values:
        return None
    values = sorted(values)
    mid = len(values) // 2
    return values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2


@cache
def _escalation_statements() -> tuple[Any, Any]:
    """Built once with bound parameters: /kpis runs them on every answer, and building
    and keying the statements cost more than running them."""
    from sqlalchemy import bindparam, func, literal, select, union_all

    e = esc_store.Escalation.__table__.c
    base = e.team_id == bindparam("team")
    start, end, at = bindparam("start"), bindparam("end"), bindparam("at")

    def count(name: str, *where: Any) -> Any:
        return select(literal(name).label("k"), func.count().label("n")).where(base, *where)

    counts = union_all(
        count("opened", e.created_at >= start, e.created_at < end),
        count("acknowledged", e.acknowledged_at >= start, e.acknowledged_at < end),
        count("resolved", e.resolved_at >= start, e.resolved_at < end),
        count(
            "overdue",
            e.created_at < at,
            e.ack_deadline_at.is_not(None),
            e.ack_deadline_at < at,
            e.acknowledged_at.is_(None) | (e.acknowledged_at > at),
            e.resolved_at.is_(None) | (e.resolved_at > at),
        ),
    )

    def spans(name: str, later: Any) -> Any:
        return select(literal(name).label("k"), e.created_at, later.label("later")).where(
            base, later >= start, later < end
        )

    return counts, union_all(spans("ack", e.acknowledged_at), spans("resolve", e.resolved_at))


def escalation_figures(
    session: Session, team: Team, start: datetime, end: datetime, now: datetime
) -> EscalationFigures | None:
    """Escalations of the team in the period, or None before escalations exist. Two
    statements: the four counts, then the acknowledge/resolve spans (few per team and
    period, so the spans are read, not the whole table); each part keeps its index."""
    counts_stmt, spans_stmt = _escalation_statements()
    params = {"team": team.id, "start": start, "end": end, "at": min(end, now)}
    counts = dict(session.execute(counts_stmt, params).all())
    minutes: dict[str, list[float]] = {"ack": [], "resolve": []}
    for kind, a, b in session.execute(spans_stmt, params):
        if a is not None and b is not None:
            minutes[kind].append((b - a).total_seconds() / 60.0)
    return EscalationFigures(
        opened=int(counts.get("opened", 0)),
        acknowledged=int(counts.get("acknowledged", 0)),
        resolved=int(counts.get("resolved", 0)),
        median_ack_minutes=_median(minutes["ack"]),
        median_resolve_minutes=_median(minutes["resolve"]),
        overdue_open=int(counts.get("overdue", 0)),
    )


def kudos_count(session: Session, team: Team, start: datetime, end: datetime) -> int | None:
    """Kudos given in the team in [start, end), or None before kudos exist."""
    return int(kudos_store.count_kudos(session=session, team_id=team.id, since=start, until=end))


# ----- targets and comparisons ---------------------------------------------------------
def targets(team: Team) -> dict[str, float]:
    saved = teams.setting(team, "kpi_targets", {}) or {}
    return {**DEFAULT_TARGETS, **{k: float(v) for k, v in saved.items() if k in METRICS}}


def parse_target(metric: str, value: str) -> tuple[str, float]:
    metric = (metric or "").strip().lower()
    if metric not in TARGET_RANGES:
        raise InvalidInput("kpis.bad_metric", value=metric, metrics=", ".join(METRICS))
    text = (value or "").strip().rstrip("%")
    for suffix in ("min", "m"):
        if metric in ("frt", "aht") and text.endswith(suffix):
            text = text[: -len(suffix)]
            break
    try:
        number = float(text)
    except ValueError:
        raise InvalidInput("kpis.bad_target", value=value, metric=metric) from None
    low, high = TARGET_RANGES[metric]
    if not low <= number <= high or number != number:
        raise InvalidInput("kpis.bad_target", value=value, metric=metric)
    return metric, number


def set_target(
    session: Session, *, team: Team, user_id: str, metric: str, value: str, now: datetime
) -> tuple[str, float]:
    """Leaders only: store a team target (`kpi_targets` setting)."""
    teams.require_leader(session, team, user_id)
    metric, number = parse_target(metric, value)
    saved = dict(teams.setting(team, "kpi_targets", {}) or {})
    saved[metric] = int(number) if number == int(number) else number
    teams.update_team(session, team, now=now, settings={"kpi_targets": saved})
    return metric, number


def target_met(metric: str, value: float | None, target: float | None) -> bool | None:
    if value is None or target is None:
        return None
    return value <= target if metric in LOWER_IS_BETTER else value >= target


def change(current: float | None, previous: float | None) -> float | None:
    if current is None or previous is None:
        return None
    return current - previous


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


@contextmanager
def one_answer(session: Session) -> Iterator[None]:
    """Figures computed together share "open now" (the backlog's starting point), the
    team's member list (SCOPE_CACHE by team id) and the data version (by workspace id)."""
    session.info[store.OPEN_CACHE] = {}
    session.info[SCOPE_CACHE] = {}
    try:
        yield
    finally:
        session.info.pop(store.OPEN_CACHE, None)
        session.info.pop(SCOPE_CACHE, None)


def summary(
    session: Session, *, team: Team, period: Period, now: datetime, agent_id: str | None = None
) -> Summary:
    with one_answer(session):
        return _summary(session, team=team, period=period, now=now, agent_id=agent_id)


def _summary(
    session: Session, *, team: Team, period: Period, now: datetime, agent_id: str | None = None
) -> Summary:
    current = compute(session, team=team, start=period.start, end=period.end, now=now)
    previous = compute(
        session, team=team, start=period.prev_start, end=period.prev_end, now=now, detail=False,
        backlog=_backlog_before(current, period.prev_end, now),
        escalations=False,  # the answer shows the current period's escalations only
    )
    out = Summary(team, period, current, previous, targets(team), agent_id)
    if agent_id:
        out.agent = compute(
            session, team=team, start=period.start, end=period.end, agent_id=agent_id, now=now,
            detail=False,
        )
        out.agent_previous = compute(
            session, team=team, start=period.prev_start, end=period.prev_end,
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


# ----- the daily digest ----------------------------------------------------------------
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
    extra: dict[str, Any] = field(default_factory=dict)


def build_digest(session: Session, *, team: Team, day: date, now: datetime) -> Digest:
    with one_answer(session):
        return _build_digest(session, team=team, day=day, now=now)


def _build_digest(session: Session, *, team: Team, day: date, now: datetime) -> Digest:
    tz = team.timezone
    start, end = day_bounds(day, tz)
    report = compute(session, team=team, start=start, end=end, now=now)
    prev_start, prev_end = day_bounds(day - timedelta(days=1), tz)
    previous = compute(session, team=team, start=prev_start, end=prev_end, now=now, detail=False)
    days = [day - timedelta(days=i) for i in range(CHART_DAYS - 1, -1, -1)]
    series: dict[str, list[float | None]] = {m: [] for m in METRICS}
    for d in days:
        if d == day:
            r = report
        elif d == day - timedelta(days=1):
            r = previous
        else:
            s, e = day_bounds(d, tz)
            r = compute(session, team=team, start=s, end=e, now=now, detail=False)
        for m in METRICS:
            series[m].append(r.value(m))
    scope = scope_for(session, team)
    return Digest(
        team=team,
        day=day,
        report=report,
        previous=previous,
        targets=targets(team),
        trend={m: v[-TREND_DAYS:] for m, v in series.items()},
        chart_days=days,
        chart=series,
        fcr_by_category=store.fcr_by_category(session=session, scope=scope, start=start, end=end),
        kudos=kudos_count(session, team, start, end),
    )


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
    session: Session, *, team: Team, day: date, clock: Any, claim: bool = True
) -> bool:
    """Claim the team's digest for `day` and enqueue it; False when already done/no channel."""
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
        data={"team_id": team.id, "day": day.isoformat()},
        clock=clock,
        dedupe_key=f"kpis:digest:{team.id}:{day.isoformat()}" if claim else None,
    )
    return True


def run_digest(rt: Any, team_id: int, *, scheduled_for: datetime) -> None:
    """Job: the digest of one team for the day before `scheduled_for` (never twice)."""
    with rt.transaction() as session:
        team = team_store.get_team(session=session, team_id=team_id)
        if team is None or not team.digest_channel:
            return
        local = scheduled_for.astimezone(zone(team.timezone))
        if local.weekday() >= 5 or local.time().replace(second=0, microsecond=0) != digest_time(team):
            return  # the team's schedule changed since this job was installed
        day = digest_day(team, scheduled_for)
        if queue_digest(session, team=team, day=day, clock=rt.clock):
            log.info("digest queued for team %s, %s", team_id, day)
    rt.outbox.kick()


def digest_trigger(team: Team) -> Any:
    from apscheduler.triggers.cron import CronTrigger

    at = digest_time(team)
    return CronTrigger(day_of_week="mon-fri", hour=at.hour, minute=at.minute, timezone=team.timezone)


def _job_id(team_id: int) -> str:
    return f"kpis.digest:{team_id}"


def sync_jobs(scheduler: Any, rt: Any, installed: dict[int, tuple[str, str]]) -> None:
    """(Re)install a digest job per team with a digest channel; drop removed ones."""
    with rt.transaction(readonly=True) as session:
        wanted = {
            t.id: (t.timezone, f"{digest_time(t):%H:%M}", t)
            for t in team_store.list_teams(session=session)
            if t.digest_channel and t.id is not None
        }
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
