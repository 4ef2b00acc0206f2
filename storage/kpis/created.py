"""Figures over tickets created in a period: volume and breakdowns, the first-response
histogram, SLA met and breached."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, case, func, select
from sqlmodel import Session

from supportbot.storage.kpis.scope import (
    Scope,
    bucket_case,
    in_range,
    piece_filter,
    rollup_table,
    split_period,
    ticket_filter,
)
from supportbot.storage.kpis.tables import Ticket, bucket_bounds


@dataclass
class CreatedStats:
    volume: int
    responded: int
    sla_met: int
    sla_late: int
    histogram: list[tuple[int, int]]  # (bucket, tickets) in bucket order
    by_channel: list[tuple[str | None, int]]
    by_category: list[tuple[str | None, int]]


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
    pieces, edges = split_period(start, end)
    channels: dict[str, int] = {}
    categories: dict[str, int] = {}
    hist: dict[int, list[int]] = {}  # bucket -> [n, n_target, met_target]
    dims = ("channel", "category") if detail else ("channel",)
    for piece in pieces:
        dc = rollup_table("count", piece.grain)
        for dim, value, n in session.connection().execute(
            select(dc.c.dim, dc.c.value, func.sum(dc.c.n))
            .where(piece_filter(dc, scope, piece), dc.c.dim.in_(dims))
            .group_by(dc.c.dim, dc.c.value)
        ):
            target = channels if dim == "channel" else categories
            target[value] = target.get(value, 0) + piece.sign * int(n or 0)
        df = rollup_table("frt", piece.grain)
        for bucket, n, n_target, met in session.connection().execute(
            select(df.c.bucket, func.sum(df.c.n), func.sum(df.c.n_target), func.sum(df.c.met_target))
            .where(piece_filter(df, scope, piece))
            .group_by(df.c.bucket)
        ):
            acc = hist.setdefault(int(bucket), [0, 0, 0])
            acc[0] += piece.sign * int(n or 0)
            acc[1] += piece.sign * int(n_target or 0)
            acc[2] += piece.sign * int(met or 0)
    for lo, hi, sign in edges:
        where = and_(t.workspace_id == scope.workspace_id, in_range(t.created_at, lo, hi), ticket_filter(scope))
        if detail:
            for channel, category, n in session.connection().execute(
                select(t.channel, t.category, func.count()).where(where).group_by(t.channel, t.category)
            ):
                channels[channel or ""] = channels.get(channel or "", 0) + sign * int(n)
                categories[category or ""] = categories.get(category or "", 0) + sign * int(n)
        else:
            count = session.connection().execute(select(func.count()).where(where)).scalar_one()
            channels[""] = channels.get("", 0) + sign * int(count)
        bucket = bucket_case(t.frt_seconds)
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
            acc[0] += sign * int(n)
            acc[1] += sign * int(n_target or 0)
            acc[2] += sign * int(met or 0)
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
                        in_range(t.created_at, start, end),
                        t.sla_target_minutes.is_(None),
                        ticket_filter(scope),
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
    unanswered: int | None = None,
) -> int:
    """Unanswered tickets created in the period whose target has passed by `now`: a
    ticket with target T is breached when created_at <= now - T (partial index).

    `unanswered`, the period's unanswered tickets when the caller has them from the
    rollups (`created_stats`: volume - responded): every one created before now minus the
    largest target (ix_kpi_ticket_unanswered_target: one lookup) is breached, so only the
    tickets created since then are read, instead of all of a long period's."""
    t = Ticket.__table__.c  # type: ignore[attr-defined]
    if unanswered is not None:
        longest = session.connection().execute(
            select(func.max(t.sla_target_minutes)).where(t.workspace_id == scope.workspace_id, t.frt_seconds.is_(None))
        ).scalar_one()
        cut = now - timedelta(minutes=max(default_sla_minutes, default_sla_minutes if longest is None else int(longest)))
        if cut >= end:
            return unanswered
        if cut > start:
            recent, breached = _unanswered(session, scope, cut, end, now, default_sla_minutes)
            return unanswered - recent + breached
    return _unanswered(session, scope, start, end, now, default_sla_minutes)[1]


def _unanswered(
    session: Session, scope: Scope, start: datetime, end: datetime, now: datetime, default_sla_minutes: int
) -> tuple[int, int]:
    """(unanswered tickets created in [start, end), of which breached by `now`)."""
    t = Ticket.__table__.c  # type: ignore[attr-defined]
    base = and_(
        t.workspace_id == scope.workspace_id,
        t.frt_seconds.is_(None),
        in_range(t.created_at, start, end),
        ticket_filter(scope),
    )
    # (a subquery ordered by created_at: SQLite then reads the covering partial index
    # ix_kpi_ticket_unanswered; a plain DISTINCT made it walk every ticket of the period)
    own_targets = select(t.sla_target_minutes.label("target")).where(base).order_by(t.created_at).subquery()
    targets = session.connection().execute(select(own_targets.c.target).distinct()).scalars().all()
    if not targets:
        return 0, 0
    whens = []
    for target in targets:
        minutes = target if target is not None else default_sla_minutes
        own = t.sla_target_minutes.is_(None) if target is None else t.sla_target_minutes == target
        whens.append((and_(own, t.created_at <= now - timedelta(minutes=minutes)), 1))
    total, breached = session.connection().execute(
        select(func.count(), func.sum(case(*whens, else_=0))).where(base)
    ).one()
    return int(total), int(breached or 0)


def count_created(*, session: Session, scope: Scope, start: datetime, end: datetime) -> int:
    t = Ticket.__table__.c  # type: ignore[attr-defined]
    pieces, edges = split_period(start, end)
    total = 0
    for piece in pieces:
        dc = rollup_table("count", piece.grain)
        total += piece.sign * int(
            session.connection().execute(
                select(func.sum(dc.c.n)).where(piece_filter(dc, scope, piece), dc.c.dim == "channel")
            ).scalar_one()
            or 0
        )
    for lo, hi, sign in edges:
        total += sign * int(
            session.connection().execute(
                select(func.count()).where(
                    t.workspace_id == scope.workspace_id, in_range(t.created_at, lo, hi), ticket_filter(scope)
                )
            ).scalar_one()
        )
    return total
