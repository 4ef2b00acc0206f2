"""Open tickets at a moment, and the backlog at the end of a period."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import and_, case, func, select
from sqlmodel import Session

from supportbot.storage.kpis.created import count_created
from supportbot.storage.kpis.scope import Scope, ticket_filter
from supportbot.storage.kpis.solved import solved_stats
from supportbot.storage.kpis.tables import Ticket

OPEN_CACHE = "kpis.open_at"


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)  # "ever": the rollups' months start here


def open_at(*, session: Session, scope: Scope, at: datetime) -> int:
    """Created before `at` and not solved by then: tickets created before `at`, minus those
    solved before `at`, both from the month and day rollups (a few thousand rows, however
    many tickets are open), plus the tickets solved before `at` but created after it (a
    helpdesk's solved time earlier than its created time: normally none, read through the
    partial index ix_kpi_ticket_inverted), which the subtraction took away wrongly."""
    cache = session.info.get(OPEN_CACHE)  # set for the span of one answer (see bot.kpis)
    if cache is not None and (scope, at) in cache:
        return int(cache[(scope, at)])
    t = Ticket.__table__.c  # type: ignore[attr-defined]
    created = count_created(session=session, scope=scope, start=EPOCH, end=at)
    solved = solved_stats(session=session, scope=scope, start=EPOCH, end=at).solved
    inverted = int(
        session.connection().execute(
            select(func.count()).where(
                t.workspace_id == scope.workspace_id,
                t.solved_at < t.created_at,
                t.solved_at < at,
                t.created_at >= at,
                ticket_filter(scope),
            )
        ).scalar_one()
    )
    total = created - solved + inverted
    if cache is not None:
        cache[(scope, at)] = total
    return total


def backlog_at(*, session: Session, scope: Scope, at: datetime, now: datetime) -> int:
    """Tickets created before `at` and not solved by then (`now` is kept for callers)."""
    return open_at(session=session, scope=scope, at=at)


def open_series(
    *, session: Session, scope: Scope, first: datetime, steps: list[tuple[datetime, int, int]]
) -> list[int]:
    """`open_at` at `first` and at the end of each step, for a caller that already counted
    each step's tickets (a digest's daily figures): a step is (end, created, solved), the
    tickets created and solved in [the previous end, end). One `open_at` and one read of
    the inverted tickets for all the moments, instead of an `open_at` each: open(b) =
    open(a) + created in [a, b) - solved in [a, b), corrected by the inverted tickets at
    a and at b (see `open_at`). -> [open at first, open at each step's end]."""
    t = Ticket.__table__.c  # type: ignore[attr-defined]
    ats = [first, *(end for end, _c, _s in steps)]
    if any(b <= a for a, b in zip(ats, ats[1:], strict=False)):
        raise ValueError("open_series: the moments must ascend")
    out = [open_at(session=session, scope=scope, at=first)]
    if not steps:
        return out
    # tickets solved before `at` but created at or after it, for every moment in one pass
    row = session.connection().execute(
        select(*[func.sum(case((and_(t.solved_at < at, t.created_at >= at), 1), else_=0)) for at in ats]).where(
            t.workspace_id == scope.workspace_id,
            t.solved_at < t.created_at,
            t.solved_at < ats[-1],
            t.created_at >= ats[0],
            ticket_filter(scope),
        )
    ).one()
    inverted = [int(v or 0) for v in row]
    for i, (_end, created, solved) in enumerate(steps, start=1):
        out.append(out[-1] + created - solved + inverted[i] - inverted[i - 1])
    return out
