"""Figures over tickets solved in a period: resolutions, handle time, FCR, CSAT, NPS."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, select
from sqlmodel import Session

from supportbot.storage.kpis.scope import (
    Scope,
    in_range,
    piece_filter,
    rollup_table,
    split_period,
    ticket_filter,
)
from supportbot.storage.kpis.tables import SOLVED_SUMS, Ticket


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


def solved_stats(*, session: Session, scope: Scope, start: datetime, end: datetime) -> SolvedStats:
    t = Ticket.__table__.c  # type: ignore[attr-defined]
    totals = [0] * len(SOLVED_SUMS)
    pieces, edges = split_period(start, end)
    for piece in pieces:
        ds = rollup_table("solved", piece.grain)
        row = session.connection().execute(
            select(*[func.sum(ds.c[name]) for name in SOLVED_SUMS]).where(piece_filter(ds, scope, piece))
        ).one()
        totals = [a + piece.sign * int(v or 0) for a, v in zip(totals, row, strict=True)]
    for lo, hi, sign in edges:
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
            ).where(t.workspace_id == scope.workspace_id, in_range(t.solved_at, lo, hi), ticket_filter(scope))
        ).one()
        totals = [a + sign * int(v or 0) for a, v in zip(totals, row, strict=True)]
    return SolvedStats(*totals)


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
            in_range(t.solved_at, start, end),
            t.agent_replies.is_not(None),
            ticket_filter(scope),
        )
        .group_by(t.category)
        .order_by(func.count(t.agent_replies).desc(), t.category)
        .limit(limit)
    ).all()
    return [(r[0], int(r[1]), int(r[2] or 0)) for r in rows]
