"""Helpdesk tickets and the aggregate queries KPIs are built from.

One row per (workspace, helpdesk ticket id). Durations are stored at import
(`frt_seconds`), so every figure is a single indexed range scan with SQL aggregates;
medians come from a per-minute histogram plus one exact lookup inside the right bucket.
Nothing here loads rows in bulk into Python.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import (
    Index,
    UniqueConstraint,
    and_,
    bindparam,
    case,
    func,
    literal,
    literal_column,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Field, Session, SQLModel, col
from sqlmodel import select as sm_select

from supportbot.storage.types import UTCDateTime


class Ticket(SQLModel, table=True):
    __tablename__ = "kpi_ticket"
    __table_args__ = (
        UniqueConstraint("workspace_id", "ticket_id", name="uq_kpi_ticket"),
        # Whole days come from the per-day tables; these serve the partial edge days,
        # the backlog of the current day and exact percentile lookups inside one bucket
        # (covering, and in insertion order, so a big import stays fast).
        Index(
            "ix_kpi_ticket_created",
            "workspace_id",
            "created_at",
            "frt_seconds",
            "team_key",
            "agent_id",
        ),
        Index("ix_kpi_ticket_solved", "workspace_id", "solved_at", "created_at", "team_key", "agent_id"),
        # unanswered tickets only (a few percent): SLA breaches without scanning the period
        Index(
            "ix_kpi_ticket_unanswered",
            "workspace_id",
            "created_at",
            "team_key",
            "agent_id",
            "sla_target_minutes",
            sqlite_where=text("frt_seconds IS NULL"),
            postgresql_where=text("frt_seconds IS NULL"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: str = Field(max_length=32)
    ticket_id: str = Field(max_length=128)
    created_at: datetime = Field(sa_type=UTCDateTime)
    first_response_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    solved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    frt_seconds: int | None = Field(default=None)
    status: str | None = Field(default=None, max_length=32)
    agent_id: str | None = Field(default=None, max_length=32)
    agent_email: str | None = Field(default=None, max_length=254)
    team: str | None = Field(default=None, max_length=80)
    team_key: str | None = Field(default=None, max_length=80)
    channel: str | None = Field(default=None, max_length=64)
    category: str | None = Field(default=None, max_length=80)
    priority: str | None = Field(default=None, max_length=32)
    csat: int | None = Field(default=None)
    csat_good: bool | None = Field(default=None)
    nps: int | None = Field(default=None)
    handle_time_seconds: int | None = Field(default=None)
    agent_replies: int | None = Field(default=None)
    sla_target_minutes: int | None = Field(default=None)
    updated_at: datetime = Field(sa_type=UTCDateTime)


class KpiDayCount(SQLModel, table=True):
    """Per UTC day, team column and agent: tickets created, by channel or by category."""

    __tablename__ = "kpi_day_count"
    __table_args__ = (
        UniqueConstraint(
            "workspace_id", "day", "dim", "team_key", "agent_id", "value", name="uq_kpi_day_count"
        ),
        Index("ix_kpi_day_count_cover", "workspace_id", "dim", "day", "team_key", "agent_id", "value", "n"),
    )

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: str = Field(max_length=32)
    day: date
    dim: str = Field(max_length=16)  # "channel" | "category"
    team_key: str = Field(default="", max_length=80)  # "" = none
    agent_id: str = Field(default="", max_length=32)
    value: str = Field(default="", max_length=80)
    n: int = Field(default=0)


class KpiDayFrt(SQLModel, table=True):
    """Per UTC day of creation, team column, agent and first-response bucket: how many,
    how many with their own SLA target, and how many of those met it."""

    __tablename__ = "kpi_day_frt"
    __table_args__ = (
        UniqueConstraint("workspace_id", "day", "team_key", "agent_id", "bucket", name="uq_kpi_day_frt"),
        Index("ix_kpi_day_frt_cover", "workspace_id", "day", "team_key", "agent_id", "bucket", "n", "n_target", "met_target"),
    )

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: str = Field(max_length=32)
    day: date
    team_key: str = Field(default="", max_length=80)
    agent_id: str = Field(default="", max_length=32)
    bucket: int
    n: int = Field(default=0)
    n_target: int = Field(default=0)
    met_target: int = Field(default=0)


SOLVED_SUMS = (
    "solved",
    "handle_n",
    "handle_sum",
    "fcr_n",
    "fcr_yes",
    "csat_n",
    "csat_good",
    "nps_n",
    "promoters",
    "detractors",
)


class KpiDaySolved(SQLModel, table=True):
    """Per UTC day of solving, team column and agent: the sums solved-ticket figures need."""

    __tablename__ = "kpi_day_solved"
    __table_args__ = (
        UniqueConstraint("workspace_id", "day", "team_key", "agent_id", name="uq_kpi_day_solved"),
    )

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: str = Field(max_length=32)
    day: date
    team_key: str = Field(default="", max_length=80)
    agent_id: str = Field(default="", max_length=32)
    solved: int = Field(default=0)
    handle_n: int = Field(default=0)
    handle_sum: int = Field(default=0)
    fcr_n: int = Field(default=0)
    fcr_yes: int = Field(default=0)
    csat_n: int = Field(default=0)
    csat_good: int = Field(default=0)
    nps_n: int = Field(default=0)
    promoters: int = Field(default=0)
    detractors: int = Field(default=0)


class KpiDataVersion(SQLModel, table=True):
    """Counts the imports that changed a workspace's tickets: figures computed from an
    older version are stale (see bot.kpis's answer cache)."""

    __tablename__ = "kpi_data_version"

    workspace_id: str = Field(primary_key=True, max_length=32)
    version: int = Field(default=0)


def data_version(*, session: Session, workspace_id: str) -> int:
    found = session.execute(_DATA_VERSION, {"workspace_id": workspace_id}).scalar()
    return int(found or 0)


_DATA_VERSION = (  # built once: every /kpis answer checks it
    select(KpiDataVersion.__table__.c.version)  # type: ignore[attr-defined]
    .where(KpiDataVersion.__table__.c.workspace_id == bindparam("workspace_id"))  # type: ignore[attr-defined]
)


# First-response buckets: bucket i holds FRT_EDGES[i-1] < seconds <= FRT_EDGES[i];
# the last bucket (len(FRT_EDGES)) holds everything longer.
FRT_EDGES = tuple(
    m * 60
    for m in (1, 2, 3, 5, 7, 10, 15, 20, 30, 45, 60, 90, 120, 180, 240, 360, 480, 720, 1080,
              1440, 2880, 4320, 10080, 43200)
)


def frt_bucket(seconds: int) -> int:
    return bisect_left(FRT_EDGES, seconds)


def bucket_bounds(bucket: int) -> tuple[int, int | None]:
    """(exclusive low, inclusive high or None) in seconds."""
    low = FRT_EDGES[bucket - 1] if bucket > 0 else -1
    high = FRT_EDGES[bucket] if bucket < len(FRT_EDGES) else None
    return low, high


TICKET_FIELDS = (
    "created_at",
    "first_response_at",
    "solved_at",
    "frt_seconds",
    "status",
    "agent_id",
    "agent_email",
    "team",
    "team_key",
    "channel",
    "category",
    "priority",
    "csat",
    "csat_good",
    "nps",
    "handle_time_seconds",
    "agent_replies",
    "sla_target_minutes",
)


# ----- writing ----------------------------------------------------------------------
@dataclass
class UpsertResult:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0


def upsert_tickets(
    *, session: Session, workspace_id: str, rows: Sequence[dict[str, Any]], now: datetime
) -> UpsertResult:
    """Insert or update by (workspace, ticket_id); identical rows are left alone.

    One SELECT for the batch's existing rows, then one bulk INSERT and per-row UPDATEs only
    for rows that changed, so importing the same file twice writes nothing.
    """
    result = UpsertResult()
    if not rows:
        return result
    by_id: dict[str, dict[str, Any]] = {}
    for row in rows:
        by_id[row["ticket_id"]] = row  # the last occurrence in a batch wins
    table = Ticket.__table__  # type: ignore[attr-defined]
    cols = [table.c.id, table.c.ticket_id] + [table.c[name] for name in TICKET_FIELDS]
    existing: dict[str, Any] = {}
    ids = list(by_id)
    for start in range(0, len(ids), 900):
        chunk = ids[start : start + 900]
        for rec in session.execute(
            select(*cols).where(
                table.c.workspace_id == workspace_id, table.c.ticket_id.in_(chunk)
            )
        ):
            existing[rec.ticket_id] = rec
    inserts: list[dict[str, Any]] = []
    added: list[dict[str, Any]] = []
    removed: list[dict[str, Any]] = []
    for ticket_id, row in by_id.items():
        values = {"ticket_id": ticket_id, **{name: row.get(name) for name in TICKET_FIELDS}}
        old = existing.get(ticket_id)
        if old is None:
            inserts.append(values)
            added.append(values)
            continue
        if all(_same(getattr(old, name), values[name]) for name in TICKET_FIELDS):
            result.unchanged += 1
            continue
        session.execute(
            update(table)
            .where(table.c.id == old.id)
            .values(**{name: values[name] for name in TICKET_FIELDS}, updated_at=now)
        )
        removed.append({name: getattr(old, name) for name in TICKET_FIELDS})
        added.append(values)
        result.updated += 1
    if inserts:
        _bulk_insert(session, workspace_id, now, inserts)
        result.inserted = len(inserts)
    apply_rollups(session=session, workspace_id=workspace_id, added=added, removed=removed)
    if added:
        _apply(session, KpiDataVersion, workspace_id, (), ("version",), {(): [1]})
    return result


# ----- per-day rollups -----------------------------------------------------------------
Deltas = dict[tuple[Any, ...], list[int]]


def _contribute(row: dict[str, Any], sign: int, counts: Deltas, frts: Deltas, solved: Deltas) -> None:
    team = row.get("team_key") or ""
    agent = row.get("agent_id") or ""
    created_day = row["created_at"].astimezone(UTC).date()
    for dim in ("channel", "category"):
        key = (created_day, dim, team, agent, row.get(dim) or "")
        counts.setdefault(key, [0])[0] += sign
    frt = row.get("frt_seconds")
    if frt is not None:
        target = row.get("sla_target_minutes")
        acc = frts.setdefault((created_day, team, agent, frt_bucket(frt)), [0, 0, 0])
        acc[0] += sign
        if target is not None:
            acc[1] += sign
            if frt <= target * 60:
                acc[2] += sign
    if row.get("solved_at") is not None:
        acc = solved.setdefault((row["solved_at"].astimezone(UTC).date(), team, agent), [0] * 10)
        handle, replies, good, nps = (
            row.get("handle_time_seconds"), row.get("agent_replies"), row.get("csat_good"), row.get("nps")
        )
        acc[0] += sign
        if handle is not None:
            acc[1] += sign
            acc[2] += sign * handle
        if replies is not None:
            acc[3] += sign
            acc[4] += sign * (replies <= 1)
        if good is not None:
            acc[5] += sign
            acc[6] += sign * bool(good)
        if nps is not None:
            acc[7] += sign
            acc[8] += sign * (nps >= 9)
            acc[9] += sign * (nps <= 6)


def apply_rollups(
    *, session: Session, workspace_id: str, added: Sequence[dict[str, Any]], removed: Sequence[dict[str, Any]]
) -> None:
    """Keep the per-day tables in step with ticket rows (added minus removed)."""
    counts: Deltas = {}
    frts: Deltas = {}
    solved: Deltas = {}
    for row in removed:
        _contribute(row, -1, counts, frts, solved)
    for row in added:
        _contribute(row, 1, counts, frts, solved)
    _apply(session, KpiDayCount, workspace_id, ("day", "dim", "team_key", "agent_id", "value"), ("n",), counts)
    _apply(session, KpiDayFrt, workspace_id, ("day", "team_key", "agent_id", "bucket"), ("n", "n_target", "met_target"), frts)
    _apply(session, KpiDaySolved, workspace_id, ("day", "team_key", "agent_id"), SOLVED_SUMS, solved)


def _apply(
    session: Session,
    model: Any,
    workspace_id: str,
    keys: tuple[str, ...],
    values: tuple[str, ...],
    deltas: Deltas,
) -> None:
    """Add the deltas to the per-day rows: one INSERT ... ON CONFLICT DO UPDATE batch
    (SQLite 3.24+ and PostgreSQL), keyed by the table's unique constraint."""
    rows = [(key, delta) for key, delta in deltas.items() if any(delta)]
    if not rows:
        return
    table = model.__table__
    connection = session.connection()
    conflict = ("workspace_id", *keys)
    if connection.dialect.name == "sqlite":  # straight through the driver: big imports
        columns = (*conflict, *values)
        sets = ", ".join(f"{v} = {v} + excluded.{v}" for v in values)
        connection.exec_driver_sql(
            f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))}) "  # noqa: S608 - constant identifiers
            f"ON CONFLICT ({', '.join(conflict)}) DO UPDATE SET {sets}",
            [
                (workspace_id, *(k.isoformat() if isinstance(k, date) else k for k in key), *delta)
                for key, delta in rows
            ],
        )
        return
    from sqlalchemy.dialects.postgresql import insert as pg_insert

    statement = pg_insert(table)
    statement = statement.on_conflict_do_update(
        index_elements=list(conflict),
        set_={v: table.c[v] + statement.excluded[v] for v in values},
    )
    connection.execute(
        statement,
        [
            {"workspace_id": workspace_id, **dict(zip(keys, key, strict=True)), **dict(zip(values, delta, strict=True))}
            for key, delta in rows
        ],
    )


# The SQLite fast path writes these columns in this order; SQLAlchemy's SQLite DateTime
# stores "YYYY-MM-DD HH:MM:SS.ffffff" (UTC here), booleans as 0/1.
_PLAIN_COLUMNS = ("frt_seconds", "status", "agent_id", "agent_email", "team", "team_key", "channel", "category", "priority", "csat")
_PLAIN_COLUMNS_2 = ("nps", "handle_time_seconds", "agent_replies", "sla_target_minutes")
INSERT_COLUMNS = (
    "workspace_id", "ticket_id", "updated_at", "created_at", "first_response_at", "solved_at",
    *_PLAIN_COLUMNS, "csat_good", *_PLAIN_COLUMNS_2,
)
assert sorted(INSERT_COLUMNS) == sorted(("workspace_id", "ticket_id", "updated_at", *TICKET_FIELDS))


def _bulk_insert(session: Session, workspace_id: str, now: datetime, rows: list[dict[str, Any]]) -> None:
    """Bulk INSERT; on SQLite straight through the driver (values pre-converted exactly as
    SQLAlchemy would store them), which is 2-3x faster for big imports."""
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        session.execute(
            Ticket.__table__.insert(),  # type: ignore[attr-defined]
            [{"workspace_id": workspace_id, "updated_at": now, **row} for row in rows],
        )
        return

    def stamp(value: datetime | None) -> str | None:
        if value is None:
            return None
        if value.tzinfo is not UTC:
            value = value.astimezone(UTC)
        return value.isoformat(" ", "microseconds")[:-6]  # drop "+00:00"

    now_text = stamp(now)

    def convert(row: dict[str, Any]) -> tuple[Any, ...]:
        good = row["csat_good"]
        return (
            workspace_id,
            row["ticket_id"],
            now_text,
            stamp(row["created_at"]),
            stamp(row["first_response_at"]),
            stamp(row["solved_at"]),
            *[row[name] for name in _PLAIN_COLUMNS],
            None if good is None else int(good),
            *[row[name] for name in _PLAIN_COLUMNS_2],
        )

    sql = f"INSERT INTO kpi_ticket ({', '.join(INSERT_COLUMNS)}) VALUES ({', '.join('?' * len(INSERT_COLUMNS))})"  # noqa: S608 - constant identifiers
    # index pages for a big import: a larger page cache keeps random index inserts in memory
    connection.exec_driver_sql("PRAGMA cache_size = -32768")
    connection.exec_driver_sql(sql, [convert(row) for row in rows])


def _same(old: Any, new: Any) -> bool:
    return bool(old == new) if old is not None and new is not None else old is new


# ----- scope ------------------------------------------------------------------------
@dataclass(frozen=True)
class Scope:
    """Which tickets count: a team by name, else by its members as agents; maybe one agent."""

    workspace_id: str
    team_key: str | None
    members: tuple[str, ...] = ()
    agent_id: str | None = None


def _owned(team_col: Any, agent_col: Any, no_team: Any, scope: Scope) -> ColumnElement[bool]:
    """The team named on the ticket, else the team of its agent. Written as a CASE: one
    test per row instead of an OR of ANDs (a quarter cheaper on long scans)."""
    if scope.team_key and scope.members:
        cond: Any = case((no_team, agent_col.in_(scope.members)), else_=team_col == scope.team_key)
    elif scope.team_key:
        cond = team_col == scope.team_key
    elif scope.members:
        cond = and_(no_team, agent_col.in_(scope.members))
    else:
        cond = literal(False)
    if scope.agent_id:
        cond = and_(agent_col == scope.agent_id, cond)
    return cond  # type: ignore[no-any-return]


def _scope_filter(scope: Scope) -> ColumnElement[bool]:
    t = Ticket.__table__.c  # type: ignore[attr-defined]
    return _owned(t.team_key, t.agent_id, t.team_key.is_(None), scope)


def _in(column: Any, start: datetime, end: datetime) -> ColumnElement[bool]:
    return and_(column >= start, column < end)


# ----- aggregates -------------------------------------------------------------------
# A period [start, end) is read as whole UTC days from the per-day tables plus the partial
# days at either edge from the tickets themselves: exact in any time zone, and a year
# costs a few hundred thousand small rollup rows instead of a million tickets.


def split_days(start: datetime, end: datetime) -> tuple[tuple[date, date] | None, list[tuple[datetime, datetime]]]:
    """(first whole UTC day, day after the last) or None, and the raw edge ranges."""
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    first = datetime.combine(start.date(), time(), tzinfo=UTC)
    if first < start:
        first += timedelta(days=1)
    last = datetime.combine(end.date(), time(), tzinfo=UTC)
    if first >= last:
        return None, [(start, end)] if start < end else []
    edges = []
    if start < first:
        edges.append((start, first))
    if last < end:
        edges.append((last, end))
    return (first.date(), last.date()), edges


def _rollup_scope(table: Any, scope: Scope) -> ColumnElement[bool]:
    c = table.c
    return and_(c.workspace_id == scope.workspace_id, _owned(c.team_key, c.agent_id, c.team_key == "", scope))


def _bucket_case(column: Any) -> Any:
    # literal constants, so SELECT and GROUP BY render the same text (PostgreSQL insists)
    return case(
        *[(column <= literal_column(str(edge)), literal_column(str(i))) for i, edge in enumerate(FRT_EDGES)],
        else_=literal_column(str(len(FRT_EDGES))),
    )


@dataclass
class CreatedStats:
    volume: int
    responded: int
    sla_met: int
    sla_late: int
    histogram: list[tuple[int, int]]  # (bucket, tickets) in bucket order
    by_channel: list[tuple[str | None, int]]
    by_category: list[tuple[str | None, int]]


@dataclass
class SolvedStats:
    solved: int
    handle_n: int
    handle_sum: int
    fcr_n: int
    fcr_yes: int
    csat_n: int
    csat_good: int
    nps_n: int
    promoters: int
    detractors: int


def _top(counter: dict[str, int], limit: int) -> list[tuple[str | None, int]]:
    rows = sorted(((k, n) for k, n in counter.items() if n), key=lambda kv: (-kv[1], kv[0]))
    return [(k or None, n) for k, n in rows[:limit]]


def created_stats(
    *,
    session: Session,
    scope: Scope,
    start: datetime,
    end: datetime,
    default_sla_minutes: int,
    detail: bool = True,
    limit: int = 10,
) -> CreatedStats:
    """Tickets created in [start, end): volume (and breakdowns), first-response histogram
    and SLA among answered tickets (unanswered ones are `count_unanswered_breached`)."""
    t = Ticket.__table__.c  # type: ignore[attr-defined]
    days, edges = split_days(start, end)
    channels: dict[str, int] = {}
    categories: dict[str, int] = {}
    hist: dict[int, list[int]] = {}  # bucket -> [n, n_target, met_target]
    if days is not None:
        dc = KpiDayCount.__table__  # type: ignore[attr-defined]
        dims = ("channel", "category") if detail else ("channel",)
        for dim, value, n in session.connection().execute(
            select(dc.c.dim, dc.c.value, func.sum(dc.c.n))
            .where(_rollup_scope(dc, scope), dc.c.dim.in_(dims), dc.c.day >= days[0], dc.c.day < days[1])
            .group_by(dc.c.dim, dc.c.value)
        ):
            target = channels if dim == "channel" else categories
            target[value] = target.get(value, 0) + int(n or 0)
        df = KpiDayFrt.__table__  # type: ignore[attr-defined]
        for bucket, n, n_target, met in session.connection().execute(
            select(df.c.bucket, func.sum(df.c.n), func.sum(df.c.n_target), func.sum(df.c.met_target))
            .where(_rollup_scope(df, scope), df.c.day >= days[0], df.c.day < days[1])
            .group_by(df.c.bucket)
        ):
            acc = hist.setdefault(int(bucket), [0, 0, 0])
            acc[0] += int(n or 0)
            acc[1] += int(n_target or 0)
            acc[2] += int(met or 0)
    for lo, hi in edges:
        where = and_(t.workspace_id == scope.workspace_id, _in(t.created_at, lo, hi), _scope_filter(scope))
        if detail:
            for channel, category, n in session.connection().execute(
                select(t.channel, t.category, func.count()).where(where).group_by(t.channel, t.category)
            ):
                channels[channel or ""] = channels.get(channel or "", 0) + int(n)
                categories[category or ""] = categories.get(category or "", 0) + int(n)
        else:
            count = session.connection().execute(select(func.count()).where(where)).scalar_one()
            channels[""] = channels.get("", 0) + int(count)
        bucket = _bucket_case(t.frt_seconds)
        for b, n, n_target, met in session.connection().execute(
            select(
                bucket,
                func.count(),
                func.count(t.sla_target_minutes),
                func.sum(case((t.frt_seconds <= t.sla_target_minutes * 60, 1), else_=0)),
            )
            .where(where, t.frt_seconds.is_not(None))
            .group_by(bucket)
        ):
            acc = hist.setdefault(int(b), [0, 0, 0])
            acc[0] += int(n)
            acc[1] += int(n_target or 0)
            acc[2] += int(met or 0)
    responded = sum(v[0] for v in hist.values())
    met = sum(v[2] for v in hist.values())
    # answered tickets without their own target: against the team default, bucket by
    # bucket, with one exact count for the bucket the default falls inside
    limit_seconds = default_sla_minutes * 60
    for b, (n, n_target, _met) in hist.items():
        low, high = bucket_bounds(b)
        if high is not None and high <= limit_seconds:
            met += n - n_target
        elif low < limit_seconds and n - n_target > 0:
            met += int(
                session.connection().execute(
                    select(func.count()).where(
                        t.workspace_id == scope.workspace_id,
                        t.frt_seconds > low,
                        t.frt_seconds <= limit_seconds,
                        _in(t.created_at, start, end),
                        t.sla_target_minutes.is_(None),
                        _scope_filter(scope),
                    )
                ).scalar_one()
            )
    return CreatedStats(
        volume=sum(channels.values()),
        responded=responded,
        sla_met=met,
        sla_late=responded - met,
        histogram=[(b, hist[b][0]) for b in sorted(hist) if hist[b][0]],
        by_channel=_top(channels, limit) if detail else [],
        by_category=_top(categories, limit) if detail else [],
    )


def count_unanswered_breached(
    *,
    session: Session,
    scope: Scope,
    start: datetime,
    end: datetime,
    now: datetime,
    default_sla_minutes: int,
) -> int:
    """Unanswered tickets created in the period whose target has passed by `now`: a
    ticket with target T is breached when created_at <= now - T (partial index)."""
    t = Ticket.__table__.c  # type: ignore[attr-defined]
    base = and_(
        t.workspace_id == scope.workspace_id,
        t.frt_seconds.is_(None),
        _in(t.created_at, start, end),
        _scope_filter(scope),
    )
    targets = session.connection().execute(select(t.sla_target_minutes).where(base).distinct()).scalars().all()
    if not targets:
        return 0
    whens = []
    for target in targets:
        minutes = target if target is not None else default_sla_minutes
        own = t.sla_target_minutes.is_(None) if target is None else t.sla_target_minutes == target
        whens.append((and_(own, t.created_at <= now - timedelta(minutes=minutes)), 1))
    return int(session.connection().execute(select(func.sum(case(*whens, else_=0))).where(base)).scalar_one() or 0)


def frt_quantiles(
    *,
    session: Session,
    scope: Scope,
    start: datetime,
    end: datetime,
    histogram: list[tuple[int, int]],
    quantiles: Sequence[float],
) -> tuple[int, list[float | None]]:
    """(n, [seconds per quantile]) of first responses over tickets created in the period.

    Exact: the bucket histogram finds the bucket holding each rank, then one ordered
    lookup inside that bucket (index on frt_seconds) reads the value. Quantile q uses
    linear interpolation between the two nearest ranks (q=0.5 is the usual median).
    """
    t = Ticket.__table__.c  # type: ignore[attr-defined]
    n = sum(c for _, c in histogram)
    if n == 0:
        return 0, [None for _ in quantiles]
    where = and_(
        t.workspace_id == scope.workspace_id,
        _in(t.created_at, start, end),
        _scope_filter(scope),
    )
    cumulative: list[tuple[int, int, int]] = []  # (bucket, first rank, count)
    seen = 0
    for b, c in histogram:
        cumulative.append((b, seen, c))
        seen += c

    def bucket_of(rank: int) -> tuple[int, int, int]:
        for entry in cumulative:
            if entry[1] <= rank < entry[1] + entry[2]:
                return entry
        raise AssertionError("rank out of range")

    positions = []
    for q in quantiles:
        pos = q * (n - 1)
        positions.append((int(pos), min(int(pos) + 1, n - 1), pos - int(pos)))
    wanted = sorted({r for lo, hi, _ in positions for r in (lo, hi)})
    buckets = sorted({bucket_of(r)[0] for r in wanted})
    # One ordered pass over just the buckets holding the wanted ranks: within their union,
    # a rank's position is the sizes of the buckets before it plus its place in its own.
    union_start: dict[int, int] = {}
    total = 0
    for b, _first, c in cumulative:
        if b in buckets:
            union_start[b] = total
            total += c
    by_row: dict[int, int] = {}
    for r in wanted:
        b, first, _c = bucket_of(r)
        by_row[union_start[b] + (r - first) + 1] = r
    ranges = []
    for b in buckets:
        low, high = bucket_bounds(b)
        ranges.append(t.frt_seconds > low if high is None else and_(t.frt_seconds > low, t.frt_seconds <= high))
    ordered = (
        select(
            t.frt_seconds.label("v"),
            func.row_number().over(order_by=t.frt_seconds).label("rn"),
        )
        .where(where, or_(*ranges))
        .subquery()
    )
    values: dict[int, float] = {}
    for v, rn in session.connection().execute(
        select(ordered.c.v, ordered.c.rn).where(ordered.c.rn.in_(sorted(by_row)))
    ):
        values[by_row[int(rn)]] = float(v)
    out: list[float | None] = []
    for lo, hi, frac in positions:
        low = values[lo]
        out.append(low if frac == 0 or hi == lo else low + (values[hi] - low) * frac)
    return n, out


def solved_stats(*, session: Session, scope: Scope, start: datetime, end: datetime) -> SolvedStats:
    t = Ticket.__table__.c  # type: ignore[attr-defined]
    totals = [0] * len(SOLVED_SUMS)
    days, edges = split_days(start, end)
    if days is not None:
        ds = KpiDaySolved.__table__  # type: ignore[attr-defined]
        row = session.connection().execute(
            select(*[func.sum(ds.c[name]) for name in SOLVED_SUMS]).where(
                _rollup_scope(ds, scope), ds.c.day >= days[0], ds.c.day < days[1]
            )
        ).one()
        totals = [a + int(v or 0) for a, v in zip(totals, row, strict=True)]
    for lo, hi in edges:
        row = session.connection().execute(
            select(
                func.count(),
                func.count(t.handle_time_seconds),
                func.sum(t.handle_time_seconds),
                func.count(t.agent_replies),
                func.sum(case((t.agent_replies <= 1, 1), else_=0)),
                func.count(t.csat_good),
                func.sum(case((t.csat_good.is_(True), 1), else_=0)),
                func.count(t.nps),
                func.sum(case((t.nps >= 9, 1), else_=0)),
                func.sum(case((t.nps <= 6, 1), else_=0)),
            ).where(t.workspace_id == scope.workspace_id, _in(t.solved_at, lo, hi), _scope_filter(scope))
        ).one()
        totals = [a + int(v or 0) for a, v in zip(totals, row, strict=True)]
    return SolvedStats(*totals)


def count_created(*, session: Session, scope: Scope, start: datetime, end: datetime) -> int:
    t = Ticket.__table__.c  # type: ignore[attr-defined]
    days, edges = split_days(start, end)
    total = 0
    if days is not None:
        dc = KpiDayCount.__table__  # type: ignore[attr-defined]
        total += int(
            session.connection().execute(
                select(func.sum(dc.c.n)).where(
                    _rollup_scope(dc, scope), dc.c.dim == "channel", dc.c.day >= days[0], dc.c.day < days[1]
                )
            ).scalar_one()
            or 0
        )
    for lo, hi in edges:
        total += int(
            session.connection().execute(
                select(func.count()).where(
                    t.workspace_id == scope.workspace_id, _in(t.created_at, lo, hi), _scope_filter(scope)
                )
            ).scalar_one()
        )
    return total


OPEN_CACHE = "kpis.open_at"


def open_at(*, session: Session, scope: Scope, at: datetime) -> int:
    """Created before `at` and not solved by then, straight from the solved index: cheap
    when `at` is recent (open tickets plus those solved since)."""
    cache = session.info.get(OPEN_CACHE)  # set for the span of one answer (see bot.kpis)
    if cache is not None and (scope, at) in cache:
        return int(cache[(scope, at)])
    t = Ticket.__table__.c  # type: ignore[attr-defined]
    total = 0
    for still_open in (t.solved_at.is_(None), t.solved_at >= at):  # two index ranges
        total += int(
            session.connection().execute(
                select(func.count()).where(
                    t.workspace_id == scope.workspace_id,
                    still_open,
                    t.created_at < at,
                    _scope_filter(scope),
                )
            ).scalar_one()
        )
    if cache is not None:
        cache[(scope, at)] = total
    return total


def backlog_at(*, session: Session, scope: Scope, at: datetime, now: datetime) -> int:
    """Tickets created before `at` and not solved by then.

    For an `at` in the past: open now, minus created since, plus solved since; the
    "since" parts come from the per-day tables, so the cost follows how far back `at` is.
    """
    if at >= now:
        return open_at(session=session, scope=scope, at=at)
    solved = solved_stats(session=session, scope=scope, start=at, end=now).solved
    created = count_created(session=session, scope=scope, start=at, end=now)
    return open_at(session=session, scope=scope, at=now) - created + solved


def fcr_by_category(
    *, session: Session, scope: Scope, start: datetime, end: datetime, limit: int = 10
) -> list[tuple[str | None, int, int]]:
    """(category, tickets with agent_replies, of which <= 1) over tickets solved in the period."""
    t = Ticket.__table__.c  # type: ignore[attr-defined]
    rows = session.connection().execute(
        select(
            t.category,
            func.count(t.agent_replies),
            func.sum(case((t.agent_replies <= 1, 1), else_=0)),
        )
        .where(
            t.workspace_id == scope.workspace_id,
            _in(t.solved_at, start, end),
            t.agent_replies.is_not(None),
            _scope_filter(scope),
        )
        .group_by(t.category)
        .order_by(func.count(t.agent_replies).desc(), t.category)
        .limit(limit)
    ).all()
    return [(r[0], int(r[1]), int(r[2] or 0)) for r in rows]


def get_ticket(*, session: Session, workspace_id: str, ticket_id: str) -> Ticket | None:
    return session.exec(
        sm_select(Ticket).where(
            col(Ticket.workspace_id) == workspace_id, col(Ticket.ticket_id) == ticket_id
        )
    ).first()

