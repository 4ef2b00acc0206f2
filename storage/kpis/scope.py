"""Which tickets a figure counts (a team, its members, maybe one agent) and how a period
splits into whole UTC days (rollups) and partial edge days (tickets)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import and_, case, literal, literal_column
from sqlalchemy.sql.elements import ColumnElement

from supportbot.storage.kpis.tables import FRT_EDGES, Ticket


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


def rollup_filter(table: Any, scope: Scope) -> ColumnElement[bool]:
    c = table.c
    return and_(c.workspace_id == scope.workspace_id, owned(c.team_key, c.agent_id, c.team_key == "", scope))


def bucket_case(column: Any) -> Any:
    # literal constants, so SELECT and GROUP BY render the same text (PostgreSQL insists)
    return case(
        *[(column <= literal_column(str(edge)), literal_column(str(i))) for i, edge in enumerate(FRT_EDGES)],
        else_=literal_column(str(len(FRT_EDGES))),
    )
