"""Fine first-response counts of a period inside one bucket of FRT_EDGES: whole UTC months
from kpi_month_frt_fine, the rest (partial months' days, edge hours) from the tickets."""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Any

from sqlalchemy import func, literal, select
from sqlmodel import Session

from supportbot.storage.kpis.scope import (
    Scope,
    in_range,
    piece_filter,
    rollup_table,
    split_period,
    ticket_filter,
)
from supportbot.storage.kpis.tables import KpiMonthFrtFine, Ticket, bucket_bounds, fine_bucket

# A per-second probe costs about this many index entries read (see percentiles.PROBE_COST).
PROBE_COST = 8


def fine_counts(
    session: Session, scope: Scope, start: datetime, end: datetime, bucket: int, count: int, n: int
) -> dict[int, int] | None:
    """{fine bucket: tickets of the scope created in [start, end) with a first response in
    it} for the fine buckets of `bucket` (which holds `count` of the period's `n` answered
    tickets); None when the period has no whole UTC month (nothing to gain over counting
    the bucket's seconds).

    The months the period covers come from their fine rows (one index range of
    ix_kpi_month_frt_fine_cover); each other range of tickets (the days of a partial
    month, added or taken away, and the edge hours) from its tickets: per second of the
    bucket (one short range of ix_kpi_ticket_frt each) when the range is long, else all
    its tickets in one pass (ix_kpi_ticket_created)."""
    low, high = bucket_bounds(bucket)
    pieces, edges = split_period(start, end)
    months = [piece for piece in pieces if piece.grain == "month"]
    if high is None or not months:
        return None
    fine_table: Any = KpiMonthFrtFine.__table__  # type: ignore[attr-defined]
    out: dict[int, int] = {}
    for piece in months:
        for fine, tickets in session.connection().execute(
            select(fine_table.c.fine, func.sum(fine_table.c.n))
            .where(piece_filter(fine_table, scope, piece), fine_table.c.bucket == bucket)
            .group_by(fine_table.c.fine)
        ):
            out[int(fine)] = out.get(int(fine), 0) + piece.sign * int(tickets or 0)
    ranges = list(edges)
    day_frt = rollup_table("frt", "day")
    for piece in pieces:
        if piece.grain != "day":
            continue
        # the day rows say how many of the bucket's tickets the days hold: none, no reading
        held = session.connection().execute(
            select(func.sum(day_frt.c.n)).where(piece_filter(day_frt, scope, piece), day_frt.c.bucket == bucket)
        ).scalar_one()
        if held:
            lo = datetime.combine(piece.first, time(), tzinfo=UTC)
            ranges.append((lo, datetime.combine(piece.end, time(), tzinfo=UTC), piece.sign))
    period = (end - start).total_seconds()
    for lo, hi, sign in ranges:
        share = (hi - lo).total_seconds() / period if period > 0 else 1.0
        width = high - low
        if n * share <= width * PROBE_COST + count * share:  # fewer tickets than probes: read them
            t = Ticket.__table__.c  # type: ignore[attr-defined]
            # (through coalesce: a plain range on frt_seconds makes SQLite read the bucket's
            # tickets of all time from ix_kpi_ticket_frt instead of the range's from ix_kpi_ticket_created)
            frt = func.coalesce(t.frt_seconds, -1)
            rows: Any = session.connection().execute(
                select(t.frt_seconds, func.count())
                .where(
                    t.workspace_id == scope.workspace_id,
                    in_range(t.created_at, lo, hi),
                    frt > low,
                    frt <= high,
                    ticket_filter(scope),
                )
                .group_by(t.frt_seconds)
            )
        else:
            rows = session.connection().execute(per_second(scope, lo, hi, low + 1, high))
        for second, tickets in rows:
            if tickets:
                fine = fine_bucket(int(second))
                out[fine] = out.get(fine, 0) + sign * int(tickets)
    return {fine: tickets for fine, tickets in out.items() if tickets}


def per_second(scope: Scope, start: datetime, end: datetime, first: int, last: int, *, descending: bool = False) -> Any:
    """(second, tickets of the scope created in the period with that first response) for
    every second from `first` to `last`, in order: a recursive sequence of seconds and one
    correlated count per second, each an index range on (workspace, frt_seconds, created_at)."""
    t = Ticket.__table__.c  # type: ignore[attr-defined]
    seq = select(literal(first).label("s")).cte("frt_second", recursive=True)
    seq = seq.union_all(select(seq.c.s + 1).where(seq.c.s < last))
    count = (
        select(func.count())
        .where(
            t.workspace_id == scope.workspace_id,
            t.frt_seconds == seq.c.s,
            in_range(t.created_at, start, end),
            ticket_filter(scope),
        )
        .scalar_subquery()
    )
    return select(seq.c.s, count).order_by(seq.c.s.desc() if descending else seq.c.s)
