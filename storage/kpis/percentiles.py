"""Exact first-response percentiles from the bucket histogram."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import and_, func, or_, select
from sqlmodel import Session

from supportbot.storage.kpis.scope import Scope, in_range, ticket_filter
from supportbot.storage.kpis.tables import Ticket, bucket_bounds


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
        in_range(t.created_at, start, end),
        ticket_filter(scope),
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
