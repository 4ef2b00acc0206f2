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


def _next_month(d: date) -> date:
    return date(d.year + d.month // 12, d.month % 12 + 1, 1)


def split_period(start: datetime, end: datetime) -> tuple[list[Piece], list[tuple[datetime, datetime]]]:
    """[start, end) as rollup pieces plus the raw edge ranges (see `split_days`).

    Whole UTC months come from the per-month rows. A month the period covers only in part
    comes from its days, or, when it covers most of the month, from the month's row minus
    the days it leaves out (the current month: minus days that have no rows yet). So a
    year reads about a dozen month rows per team and agent plus at most half a month of
    day rows at each end, instead of 365 days of them.
    """
    days, edges = split_days(start, end)
    if days is None:
        return [], edges
    first, last = days
    pieces: list[Piece] = []
    month = first.replace(day=1)
    while month < last:
        after = _next_month(month)
        lo, hi = max(first, month), min(last, after)
        inside = (hi - lo).days
        if inside == (after - month).days:
            pieces.append(Piece("month", month, after))
        elif (after - month).days - inside < inside:
            pieces.append(Piece("month", month, after))
            if month < lo:
                pieces.append(Piece("day", month, lo, -1))
            if hi < after:
                pieces.append(Piece("day", hi, after, -1))
        else:
            pieces.append(Piece("day", lo, hi))
        month = after
    merged: list[Piece] = []  # one range per run of touching pieces of one grain and sign
    for piece in sorted(pieces, key=lambda p: (p.grain, p.sign, p.first)):
        prev = merged[-1] if merged else None
        if prev and (prev.grain, prev.sign) == (piece.grain, piece.sign) and prev.end == piece.first:
            merged[-1] = Piece(piece.grain, prev.first, piece.end, piece.sign)
        else:
            merged.append(piece)
    return merged, edges


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
