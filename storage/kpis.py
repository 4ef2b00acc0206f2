"""Helpdesk tickets and the aggregate queries KPIs are built from.

One row per (workspace, helpdesk ticket id). Durations are stored at import
(`frt_seconds`), so every figure is a single indexed range scan with SQL aggregates;
medians come from a per-minute histogram plus one exact lookup inside the right bucket.
Nothing here loads rows in bulk into Python.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Index, UniqueConstraint, and_, case, func, literal, or_, select, update
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Field, Session, SQLModel, col
from sqlmodel import select as sm_select

from storage.types import UTCDateTime


class Ticket(SQLModel, table=True):
    __tablename__ = "kpi_ticket"
    __table_args__ = (
        UniqueConstraint("workspace_id", "ticket_id", name="uq_kpi_ticket"),
        # Covering indexes: created-in-period and solved-in-period figures read only these.
        Index(
            "ix_kpi_ticket_created",
            "workspace_id",
            "created_at",
            "team_key",
            "agent_id",
            "frt_seconds",
            "sla_target_minutes",
            "solved_at",
            "channel",
            "category",
        ),
        Index(
            "ix_kpi_ticket_solved",
            "workspace_id",
            "solved_at",
            "team_key",
            "agent_id",
            "handle_time_seconds",
            "agent_replies",
            "csat_good",
            "nps",
        ),
        Index("ix_kpi_ticket_unanswered", "workspace_id", "frt_seconds", "created_at"),
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
    for ticket_id, row in by_id.items():
        values = {name: row.get(name) for name in TICKET_FIELDS}
        old = existing.get(ticket_id)
        if old is None:
            inserts.append(
                {"workspace_id": workspace_id, "ticket_id": ticket_id, "updated_at": now, **values}
            )
            continue
        if all(_same(getattr(old, name), values[name]) for name in TICKET_FIELDS):
            result.unchanged += 1
            continue
        session.execute(
            update(table).where(table.c.id == old.id).values(**values, updated_at=now)
        )
        result.updated += 1
    if inserts:
        session.execute(table.insert(), inserts)
        result.inserted = len(inserts)
    return result


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


def _scope_filter(scope: Scope) -> ColumnElement[bool]:
    t = Ticket.__table__.c  # type: ignore[attr-defined]
    parts: list[ColumnElement[bool]] = []
    if scope.team_key:
        parts.append(t.team_key == scope.team_key)
    if scope.members:
        parts.append(and_(t.team_key.is_(None), t.agent_id.in_(scope.members)))
    cond = or_(*parts) if parts else literal(False)
    if scope.agent_id:
        cond = and_(cond, t.agent_id == scope.agent_id)
    return cond


def _in(column: Any, start: datetime, end: datetime) -> ColumnElement[bool]:
    return and_(column >= start, column < end)


# ----- aggregates -------------------------------------------------------------------
@dataclass
class CreatedStats:
    volume: int
    responded: int
    sla_met: int
    sla_late: int


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


def created_stats(
    *, session: Session, scope: Scope, start: datetime, end: datetime, default_sla_minutes: int
) -> CreatedStats:
    t = Ticket.__table__.c  # type: ignore[attr-defined]
    target = func.coalesce(t.sla_target_minutes, default_sla_minutes) * 60
    row = session.execute(
        select(
            func.count(),
            func.count(t.frt_seconds),
            func.sum(case((t.frt_seconds <= target, 1), else_=0)),
            func.sum(case((t.frt_seconds > target, 1), else_=0)),
        ).where(t.workspace_id == scope.workspace_id, _in(t.created_at, start, end), _scope_filter(scope))
    ).one()
    return CreatedStats(int(row[0]), int(row[1]), int(row[2] or 0), int(row[3] or 0))


def count_unanswered_breached(
    *,
    session: Session,
    scope: Scope,
    start: datetime,
    end: datetime,
    now: datetime,
    default_sla_minutes: int,
) -> int:
    """Unanswered tickets created in the period whose target has passed by `now`.

    Counted in SQL per distinct target: a ticket with target T is breached when
    created_at <= now - T.
    """
    t = Ticket.__table__.c  # type: ignore[attr-defined]
    base = and_(
        t.workspace_id == scope.workspace_id,
        t.frt_seconds.is_(None),
        _in(t.created_at, start, end),
        _scope_filter(scope),
    )
    targets = session.execute(select(t.sla_target_minutes).where(base).distinct()).scalars().all()
    total = 0
    for target in targets:
        minutes = target if target is not None else default_sla_minutes
        target_cond = t.sla_target_minutes.is_(None) if target is None else t.sla_target_minutes == target
        total += int(
            session.execute(
                select(func.count()).where(
                    base, target_cond, t.created_at <= now - timedelta(minutes=minutes)
                )
            ).scalar_one()
        )
    return total


def frt_quantiles(
    *, session: Session, scope: Scope, start: datetime, end: datetime, quantiles: Sequence[float]
) -> tuple[int, list[float | None]]:
    """(n, [value per quantile]) of first-response seconds over tickets created in the period.

    Exact: a per-minute histogram finds the bucket holding each rank, then one ordered
    lookup inside that bucket reads the value. Quantile q uses linear interpolation between
    the two nearest ranks (q=0.5 is the usual median).
    """
    t = Ticket.__table__.c  # type: ignore[attr-defined]
    where = and_(
        t.workspace_id == scope.workspace_id,
        _in(t.created_at, start, end),
        t.frt_seconds.is_not(None),
        _scope_filter(scope),
    )
    bucket = (t.frt_seconds // 60).label("bucket")
    hist = session.execute(
        select(bucket, func.count()).where(where).group_by(bucket).order_by(bucket)
    ).all()
    n = sum(int(c) for _, c in hist)
    if n == 0:
        return 0, [None for _ in quantiles]
    cumulative: list[tuple[int, int, int]] = []  # (bucket, first rank, count)
    seen = 0
    for b, c in hist:
        cumulative.append((int(b), seen, int(c)))
        seen += int(c)
    cache: dict[int, float] = {}

    def value_at(rank: int) -> float:
        if rank in cache:
            return cache[rank]
        for b, first, c in cumulative:
            if first <= rank < first + c:
                offset = rank - first
                v = session.execute(
                    select(t.frt_seconds)
                    .where(where, t.frt_seconds >= b * 60, t.frt_seconds < (b + 1) * 60)
                    .order_by(t.frt_seconds)
                    .limit(1)
                    .offset(offset)
                ).scalar_one()
                cache[rank] = float(v)
                return cache[rank]
        raise AssertionError("rank out of range")

    out: list[float | None] = []
    for q in quantiles:
        pos = q * (n - 1)
        lo = int(pos)
        hi = min(lo + 1, n - 1)
        frac = pos - lo
        low = value_at(lo)
        out.append(low if frac == 0 or hi == lo else low + (value_at(hi) - low) * frac)
    return n, out


def solved_stats(*, session: Session, scope: Scope, start: datetime, end: datetime) -> SolvedStats:
    t = Ticket.__table__.c  # type: ignore[attr-defined]
    row = session.execute(
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
        ).where(t.workspace_id == scope.workspace_id, _in(t.solved_at, start, end), _scope_filter(scope))
    ).one()
    values = [int(v or 0) for v in row]
    return SolvedStats(*values)


def backlog_at(*, session: Session, scope: Scope, at: datetime) -> int:
    """Tickets created before `at` and not solved by then."""
    t = Ticket.__table__.c  # type: ignore[attr-defined]
    created = session.execute(
        select(func.count()).where(
            t.workspace_id == scope.workspace_id, t.created_at < at, _scope_filter(scope)
        )
    ).scalar_one()
    solved = session.execute(
        select(func.count()).where(
            t.workspace_id == scope.workspace_id,
            t.solved_at < at,  # solved_at >= created_at is checked at import
            _scope_filter(scope),
        )
    ).scalar_one()
    return int(created) - int(solved)


def counts_by(
    *, session: Session, scope: Scope, start: datetime, end: datetime, field: str, limit: int = 10
) -> list[tuple[str | None, int]]:
    """Tickets created in the period grouped by `channel` or `category`, biggest first."""
    t = Ticket.__table__.c  # type: ignore[attr-defined]
    column = t[field]
    rows = session.execute(
        select(column, func.count().label("n"))
        .where(t.workspace_id == scope.workspace_id, _in(t.created_at, start, end), _scope_filter(scope))
        .group_by(column)
        .order_by(func.count().desc(), column)
        .limit(limit)
    ).all()
    return [(r[0], int(r[1])) for r in rows]


def fcr_by_category(
    *, session: Session, scope: Scope, start: datetime, end: datetime, limit: int = 10
) -> list[tuple[str | None, int, int]]:
    """(category, tickets with agent_replies, of which <= 1) over tickets solved in the period."""
    t = Ticket.__table__.c  # type: ignore[attr-defined]
    rows = session.execute(
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


def count_tickets(*, session: Session, workspace_id: str) -> int:
    return int(
        session.execute(
            select(func.count()).select_from(Ticket).where(col(Ticket.workspace_id) == workspace_id)
        ).scalar_one()
    )


__all__ = [
    "CreatedStats",
    "Scope",
    "SolvedStats",
    "Ticket",
    "UpsertResult",
    "backlog_at",
    "count_tickets",
    "count_unanswered_breached",
    "counts_by",
    "created_stats",
    "fcr_by_category",
    "frt_quantiles",
    "get_ticket",
    "solved_stats",
    "upsert_tickets",
]
