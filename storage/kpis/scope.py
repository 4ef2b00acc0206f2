"""Which tickets a figure counts (a team, its members, maybe one agent) and how a period
splits into whole UTC months and days (rollups) and partial edge days (tickets)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import and_, case, literal, literal_column
from sqlalchemy.sql.elements import ColumnElement

from supportbot.storage.kpis.tables import FRT_EDGES, ROLLUPS, Ticket


@dataclass(frozen=True)
class Scope:
    """Which tickets count: a team by name, else by its members as agents; maybe one agent."""

    workspace_id: str
    team_key: str | None
    members: tuple[str, ...] = ()
    agent_id: str | None = None


def owned(team_col: Any, agent_col: Any, no_team: Any, scope: Scope) -> ColumnElement[bool]:
    """The team named on the ticket, else the team of its agent. Written as a CASE: one
    test per row instead of an OR of ANDs, which matters on year-long scans."""
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


def ticket_filter(scope: Scope) -> ColumnElement[bool]:
    t = Ticket.__table__.c  # type: ignore[attr-defined]
    return owned(t.team_key, t.agent_id, t.team_key.is_(None), scope)


def in_range(column: Any, start: datetime, end: datetime) -> ColumnElement[bool]:
    return and_(column >= start, column < end)


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


@dataclass(frozen=True)
class Piece:
    """Rows of one rollup grain ("month" or "day") with first <= month/day < end, added
    (sign 1) or taken away (sign -1)."""

    grain: str
    first: date
    end: date
    sign: int = 1


def next_month(d: date) -> date:
    """The first day of the month after d's."""
    return date(d.year + d.month // 12, d.month % 12 + 1, 1)


Edge = tuple[datetime, datetime, int]  # [lo, hi) of tickets, added (1) or taken away (-1)


def split_period(start: datetime, end: datetime) -> tuple[list[Piece], list[Edge]]:
    """[start, end) as rollup pieces plus signed ranges of tickets.

    Whole UTC months come from the per-month rows. A month the period covers only in part
    comes from its days, or, when it covers most of the month, from the month's row minus
    the days it leaves out (the current month: minus days that have no rows yet). A
    partial UTC day at either end comes from its tickets, or, when it covers more than
    half the day of a period with whole days, from the day's row minus the tickets of the
    hours it leaves out (a period shorter than that reads its tickets: fewer than a day's
    rows). So a year reads about a dozen month rows per team and agent, at most half a
    month of day rows and half a day of tickets at each end.
    """
    days, raw_edges = split_days(start, end)
    by_day: dict[date, int] = {}  # day-grain pieces, per day, signed
    pieces: list[Piece] = []
    if days is not None:
        first, last = days
        whole_first = first if first.day == 1 else next_month(first)
        whole_end = last.replace(day=1)
        partial = []  # (month, first day inside, day after the last inside)
        if whole_first >= whole_end:  # no whole month: the days of one or two months
            month = first.replace(day=1)
            while month < last:
                partial.append((month, max(first, month), min(last, next_month(month))))
                month = next_month(month)
        else:
            pieces.append(Piece("month", whole_first, whole_end))  # every whole month at once
            if first < whole_first:
                partial.append((first.replace(day=1), first, whole_first))
            if whole_end < last:
                partial.append((whole_end, whole_end, last))
        for month, lo, hi in partial:
            after = next_month(month)
            inside = (hi - lo).days
            outside = (after - month).days - inside
            if outside < inside:
                pieces.append(Piece("month", month, after))
                for d in each_day(month, lo) + each_day(hi, after):
                    by_day[d] = by_day.get(d, 0) - 1
            else:
                for d in each_day(lo, hi):
                    by_day[d] = by_day.get(d, 0) + 1
        pieces.sort(key=lambda piece: piece.first)  # months in order, so neighbours merge
    edges: list[Edge] = []
    for lo, hi in raw_edges:
        while lo < hi:  # one UTC day at a time
            day = lo.date()
            day_start = datetime.combine(day, time(), tzinfo=UTC)
            day_end = day_start + timedelta(days=1)
            part_end = min(hi, day_end)
            if days is not None and (part_end - lo) * 2 > day_end - day_start:
                by_day[day] = by_day.get(day, 0) + 1
                edges += [(a, b, -1) for a, b in ((day_start, lo), (part_end, day_end)) if a < b]
            else:
                edges.append((lo, part_end, 1))
            lo = part_end
    # runs of consecutive days with the same sign become one range
    for d in sorted(by_day):
        sign = by_day[d]
        if not sign:
            continue
        assert sign in (1, -1), by_day
        prev = pieces[-1] if pieces else None
        if prev and prev.grain == "day" and prev.sign == sign and prev.end == d:
            pieces[-1] = Piece("day", prev.first, d + timedelta(days=1), sign)
        else:
            pieces.append(Piece("day", d, d + timedelta(days=1), sign))
    return _merge_months(pieces), edges


def each_day(first: date, end: date) -> list[date]:
    """The days from `first` up to, not including, `end`."""
    return [first + timedelta(days=i) for i in range((end - first).days)]


def _merge_months(pieces: list[Piece]) -> list[Piece]:
    out: list[Piece] = []
    for piece in pieces:
        prev = next((p for p in reversed(out) if p.grain == piece.grain == "month"), None)
        if prev and prev.end == piece.first:
            out[out.index(prev)] = Piece("month", prev.first, piece.end)
        else:
            out.append(piece)
    return out


def piece_filter(table: Any, scope: Scope, piece: Piece) -> ColumnElement[bool]:
    """Rows of a rollup table (day or month grain) in the piece, for the scope."""
    column = table.c[piece.grain]
    return and_(rollup_filter(table, scope), column >= piece.first, column < piece.end)


def rollup_table(kind: str, grain: str) -> Any:
    """The table of rollup `kind` ("count", "frt", "solved") at `grain` ("day", "month")."""
    day, month = ROLLUPS[kind]
    return (month if grain == "month" else day).__table__  # type: ignore[attr-defined]


def rollup_filter(table: Any, scope: Scope) -> ColumnElement[bool]:
    c = table.c
    return and_(c.workspace_id == scope.workspace_id, owned(c.team_key, c.agent_id, c.team_key == "", scope))


def bucket_case(column: Any) -> Any:
    # literal constants, so SELECT and GROUP BY render the same text (PostgreSQL insists)
    return case(
        *[(column <= literal_column(str(edge)), literal_column(str(i))) for i, edge in enumerate(FRT_EDGES)],
        else_=literal_column(str(len(FRT_EDGES))),
    )
