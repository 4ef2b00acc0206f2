"""Fine first-response counts of a period inside one bucket of FRT_EDGES: UTC months from
kpi_month_frt_fine, the rest (days of partial months, edge hours) from the tickets."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, literal, select
from sqlmodel import Session

from supportbot.storage.kpis.scope import (
    Piece,
    Scope,
    each_day,
    in_range,
    next_month,
    piece_filter,
    rollup_table,
    split_period,
    ticket_filter,
)
from supportbot.storage.kpis.tables import KpiMonthFrtFine, Ticket, bucket_bounds, fine_bucket

# A per-second probe costs about this many index entries read (see percentiles.PROBE_COST).
PROBE_COST = 8

Range = tuple[datetime, datetime, int, int | None]  # [lo, hi) of tickets, sign, bucket's tickets in it if known


def fine_counts(
    session: Session, scope: Scope, start: datetime, end: datetime, bucket: int, count: int, n: int
) -> dict[int, int] | None:
    """{fine bucket: tickets of the scope created in [start, end) with a first response in
    it} for the fine buckets of `bucket` (which holds `count` of the period's `n` answered
    tickets); None when no month's fine rows would be read (nothing to gain over counting
    the bucket's seconds).

    Each UTC month the period touches is read the cheaper way, by the day rows' count of
    the bucket's tickets: a whole month from its fine rows (one index range of
    ix_kpi_month_frt_fine_cover for all of them); the days a partial month counts either
    from their tickets, or from the month's fine rows minus the tickets of the days it
    leaves out; the edge hours from their tickets. Tickets are counted per second of the
    bucket (one short range of ix_kpi_ticket_frt each) when the range holds many, else all
    of the range's in one pass (ix_kpi_ticket_created)."""
    low, high = bucket_bounds(bucket)
    if high is None or end - start < timedelta(days=14):  # no month's rows could be worth reading
        return None
    pieces, edges = split_period(start, end)
    first_month = start.astimezone(UTC).date().replace(day=1)
    fines = _month_fines(session, scope, bucket, Piece("month", first_month, next_month(end.astimezone(UTC).date())))
    counted = _counted_days(pieces)
    out: dict[int, int] = {}
    ranges: list[Range] = [(lo, hi, sign, None) for lo, hi, sign in edges]
    used = False
    for month, rows in sorted(fines.items()):
        days = counted.get(month, set())
        inside = _runs(sorted(days))
        outside = _runs([d for d in each_day(month, next_month(month)) if d not in days])
        total = sum(rows.values())
        # the day rows of the shorter side say how the month's tickets in the bucket split
        if not outside:
            held_in, held_out = total, 0
        elif len(days) * 2 <= (next_month(month) - month).days:
            held_in = _held(session, scope, bucket, inside)
            held_out = total - held_in
        else:
            held_out = _held(session, scope, bucket, outside)
            held_in = total - held_out
        if outside and held_in <= held_out:  # the days' tickets
            ranges += [(*_datetimes(a, b), 1, held_in) for a, b in inside if held_in]
            continue
        used = True
        for fine, tickets in rows.items():
            out[fine] = out.get(fine, 0) + tickets
        ranges += [(*_datetimes(a, b), -1, held_out) for a, b in outside if held_out]
    # (a month without fine rows has none of the bucket's tickets: its days add nothing)
    if not used:
        return None
    period = max((end - start).total_seconds(), 1.0)
    for lo, hi, sign, held in ranges:
        share = (hi - lo).total_seconds() / period
        in_bucket = count * share if held is None else held
        all_answered = n * share if held is None else held * n / max(count, 1)
        if all_answered <= (high - low) * PROBE_COST + in_bucket:  # fewer tickets than probes: read them
            rows_: Any = session.connection().execute(_read_range(scope, lo, hi, low, high))
        else:
            rows_ = session.connection().execute(per_second(scope, lo, hi, low + 1, high))
        for second, tickets in rows_:
            if tickets:
                fine = fine_bucket(int(second))
                out[fine] = out.get(fine, 0) + sign * int(tickets)
    return {fine: tickets for fine, tickets in out.items() if tickets}


def _month_fines(session: Session, scope: Scope, bucket: int, months: Piece) -> dict[date, dict[int, int]]:
    """{month: {fine bucket: tickets}} of the scope in the bucket, for the months of the piece."""
    table: Any = KpiMonthFrtFine.__table__  # type: ignore[attr-defined]
    out: dict[date, dict[int, int]] = {}
    for month, fine, tickets in session.connection().execute(
        select(table.c.month, table.c.fine, func.sum(table.c.n))
        .where(piece_filter(table, scope, months), table.c.bucket == bucket)
        .group_by(table.c.month, table.c.fine)
    ):
        if tickets:
            out.setdefault(month, {})[int(fine)] = int(tickets)
    return out


def _counted_days(pieces: list[Piece]) -> dict[date, set[date]]:
    """{month: the UTC days the rollup pieces count in it} (each day once: the pieces add
    whole months and add or take away days)."""
    sign: dict[date, int] = {}
    for piece in pieces:
        if piece.grain == "month":
            month = piece.first
            while month < piece.end:
                for d in each_day(month, next_month(month)):
                    sign[d] = sign.get(d, 0) + piece.sign
                month = next_month(month)
        else:
            for d in each_day(piece.first, piece.end):
                sign[d] = sign.get(d, 0) + piece.sign
    out: dict[date, set[date]] = {}
    for d, s in sign.items():
        assert s in (0, 1), (d, s)
        if s:
            out.setdefault(d.replace(day=1), set()).add(d)
    return out


def _held(session: Session, scope: Scope, bucket: int, runs: list[tuple[date, date]]) -> int:
    """The bucket's tickets in the runs of days, from the day rows."""
    day_frt = rollup_table("frt", "day")
    total = 0
    for a, b in runs:
        total += int(
            session.connection().execute(
                select(func.sum(day_frt.c.n)).where(piece_filter(day_frt, scope, Piece("day", a, b)), day_frt.c.bucket == bucket)
            ).scalar_one()
            or 0
        )
    return total


def _runs(days: list[date]) -> list[tuple[date, date]]:
    """Sorted days as runs [first, day after the last)."""
    runs: list[tuple[date, date]] = []
    for d in days:
        if runs and runs[-1][1] == d:
            runs[-1] = (runs[-1][0], d + timedelta(days=1))
        else:
            runs.append((d, d + timedelta(days=1)))
    return runs


def _datetimes(first: date, end: date) -> tuple[datetime, datetime]:
    return datetime.combine(first, time(), tzinfo=UTC), datetime.combine(end, time(), tzinfo=UTC)


def _read_range(scope: Scope, lo: datetime, hi: datetime, low: int, high: int) -> Any:
    """(second, tickets) of the scope created in [lo, hi) with low < first response <= high,
    reading the range's tickets in one pass."""
    t = Ticket.__table__.c  # type: ignore[attr-defined]
    # (through coalesce: a plain range on frt_seconds makes SQLite read the bucket's tickets
    # of all time from ix_kpi_ticket_frt instead of the range's from ix_kpi_ticket_created)
    frt = func.coalesce(t.frt_seconds, -1)
    return (
        select(t.frt_seconds, func.count())
        .where(t.workspace_id == scope.workspace_id, in_range(t.created_at, lo, hi), frt > low, frt <= high, ticket_filter(scope))
        .group_by(t.frt_seconds)
    )


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
