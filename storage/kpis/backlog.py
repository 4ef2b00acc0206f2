"""Open tickets at a moment, and the backlog at the end of a period."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlmodel import Session

from supportbot.storage.kpis.created import count_created
from supportbot.storage.kpis.scope import Scope, ticket_filter
from supportbot.storage.kpis.solved import solved_stats
from supportbot.storage.kpis.tables import Ticket

OPEN_CACHE = "kpis.open_at"


def open_at(*, session: Session, scope: Scope, at: datetime) -> int:
    """Created before `at` and not solved by then, straight from the solved index: cheap
    when `at` is recent (open tickets plus those solved since)."""
    cache = session.info.get(OPEN_CACHE)  # set for the span of one answer (see bot.kpis)
    if cache is not None and (scope, at) in cache:
        return int(cache[(scope, at)])
    t = Ticket.__table__.c  # type: ignore[attr-defined]
    total = 0
    for still_open in (t.solved_at.is_(None), t.solved_at >= at):  # two index ranges
        total += int(
            session.connection().execute(
                select(func.count()).where(
                    t.workspace_id == scope.workspace_id,
                    still_open,
                    t.created_at < at,
                    ticket_filter(scope),
                )
            ).scalar_one()
        )
    if cache is not None:
        cache[(scope, at)] = total
    return total


def backlog_at(*, session: Session, scope: Scope, at: datetime, now: datetime) -> int:
    """Tickets created before `at` and not solved by then.

    For an `at` in the past: open now, minus created since, plus solved since; the
    "since" parts come from the per-day tables, so the cost follows how far back `at` is.
    """
    if at >= now:
        return open_at(session=session, scope=scope, at=at)
    solved = solved_stats(session=session, scope=scope, start=at, end=now).solved
    created = count_created(session=session, scope=scope, start=at, end=now)
    return open_at(session=session, scope=scope, at=now) - created + solved
