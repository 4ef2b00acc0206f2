"""Exact first-response percentiles from the bucket histogram."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import and_, func, or_, select
from sqlmodel import Session

from supportbot.storage.kpis.fine import fine_counts, per_second
from supportbot.storage.kpis.scope import Scope, in_range, ticket_filter
from supportbot.storage.kpis.tables import Ticket, bucket_bounds, fine_bounds


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

    Exact: the bucket histogram finds the bucket holding each rank; then, in a big period,
    per-second counts of the period's tickets inside that bucket (ix_kpi_ticket_frt, one
    short range per second) give the value, and in a small one an ordered pass over the
    period's tickets in the bucket. A period with whole UTC months first narrows the
    bucket to one fine bucket (kpi_month_frt_fine, see `fine.fine_counts`), so the
    per-second counts read a few thousand tickets of a year instead of most of them. Quantile q uses linear interpolation between the two
    nearest ranks (q=0.5 is the usual median).
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
    values: dict[int, float] = {}
    # Wanted ranks in a narrow bucket of a big period: count the period's tickets at each
    # second of the bucket (one short range of ix_kpi_ticket_frt per second), walk the counts.
    ordered_buckets = []
    for b in buckets:
        low, high = bucket_bounds(b)
        count = next(c for bb, _first, c in cumulative if bb == b)
        if high is None or (high - low) * PROBE_COST + count > n:
            ordered_buckets.append(b)
            continue
        first = next(f for bb, f, _c in cumulative if bb == b)
        places = sorted(r - first for r in wanted if first <= r < first + count)  # 0 = the bucket's smallest
        fines = fine_counts(session, scope, start, end, b, count, n) if count >= FINE_FROM else None
        if fines is None:  # no whole month in the period: per-second counts over the bucket
            found = _walk_seconds(session, scope, start, end, low + 1, high, count, places)
        else:
            found = _walk_fine(session, scope, start, end, fines, count, places)
        if found is None:  # the rollups and the tickets disagree: read the bucket's tickets instead
            ordered_buckets.append(b)
        else:
            values.update({first + place: float(second) for place, second in found.items()})
    buckets = ordered_buckets
    if not buckets:
        return n, _interpolate(positions, values)
    union_start = {}
    total = 0
    for b, _first, c in cumulative:
        if b in buckets:
            union_start[b] = total
            total += c
    by_row = {}
    for r in wanted:
        b, first, _c = bucket_of(r)
        if b in buckets:
            by_row[union_start[b] + (r - first) + 1] = r
    # Other buckets: one ordered pass over just the period's tickets in them: within their
    # union, a rank's position is the sizes of the buckets before it plus its place in its own.
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
    for v, rn in session.connection().execute(
        select(ordered.c.v, ordered.c.rn).where(ordered.c.rn.in_(sorted(by_row)))
    ):
        values[by_row[int(rn)]] = float(v)
    return n, _interpolate(positions, values)


# A per-second probe costs about this many index entries read; a bucket is read per second
# when its width times this, plus its tickets, is below the period's answered tickets.
PROBE_COST = 8


# The seconds of a bucket are counted in this many slices, from the end nearer the wanted
# ranks, stopping once they are found: on average a quarter of the bucket's tickets is read.
SLICES = 8


# From this many of the period's tickets in a bucket on, the fine rows narrow it first
# (below, counting the bucket's seconds reads about as much as the fine path's statements).
FINE_FROM = 20_000


def _walk_fine(
    session: Session, scope: Scope, start: datetime, end: datetime, fines: dict[int, int],
    count: int, places: list[int],
) -> dict[int, int] | None:
    """{place in the bucket: its first response in seconds}: the fine bucket holding each
    place from the period's fine counts, then per-second counts inside that fine bucket;
    None when the fine counts do not add up to the bucket's (the rollups disagree)."""
    if sum(fines.values()) != count or any(c < 0 for c in fines.values()):
        return None
    found: dict[int, int] = {}
    below = 0  # the bucket's tickets in the fine buckets before this one
    for fine in sorted(fines):
        here = fines[fine]
        mine = [p - below for p in places if below <= p < below + here]
        if mine:
            low, high = fine_bounds(fine)
            assert high is not None  # the open-ended bucket is read in order (see frt_quantiles)
            # (a fine bucket's few thousand tickets: one statement, or a few for a big one)
            got = _walk_seconds(session, scope, start, end, low + 1, high, here, mine, slices=min(SLICES, 1 + here // 20_000))
            if got is None:
                return None
            found.update({below + place: second for place, second in got.items()})
        below += here
    return found


def _walk_seconds(
    session: Session, scope: Scope, start: datetime, end: datetime, low: int, high: int,
    count: int, places: list[int], *, slices: int = 0,
) -> dict[int, int] | None:
    """{place in the bucket (0-based, ascending): its first response in seconds} for the
    bucket's seconds low..high holding `count` of the period's tickets; None when the
    per-second counts do not reach a place (the tickets and the rollups disagree)."""
    downward = count - 1 - places[-1] < places[0]  # nearer the top of the bucket
    # walking down, a place counts from the top: the bucket's largest is 0
    pending = sorted((count - 1 - p if downward else p, p) for p in places)
    width = max(1, -(-(high - low + 1) // (slices or SLICES)))
    found: dict[int, int] = {}
    seen = 0
    lo, hi = (high - width + 1, high) if downward else (low, low + width - 1)
    while pending and lo <= high and hi >= low:
        rows = session.connection().execute(
            per_second(scope, start, end, max(lo, low), min(hi, high), descending=downward)
        ).all()
        for second, at in rows:
            at = int(at or 0)
            while pending and pending[0][0] < seen + at:
                found[pending.pop(0)[1]] = int(second)
            seen += at
        lo, hi = (lo - width, hi - width) if downward else (lo + width, hi + width)
    return None if pending else found


def _interpolate(positions: list[tuple[int, int, float]], values: dict[int, float]) -> list[float | None]:
    out: list[float | None] = []
    for lo, hi, frac in positions:
        low = values[lo]
        out.append(low if frac == 0 or hi == lo else low + (values[hi] - low) * frac)
    return out
