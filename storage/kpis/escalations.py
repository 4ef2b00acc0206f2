"""The escalation figures /kpis shows next to the ticket figures: four counts and the
acknowledge/resolve spans of a team's escalations in a period."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import bindparam, func, literal, select, union_all
from sqlmodel import Session

from supportbot.storage.escalations import WITHDRAWN, Escalation


@cache
def _statements() -> tuple[Any, Any]:
    """Built once with bound parameters: /kpis runs them on every answer, and building
    and keying the statements cost more than running them."""
    e = Escalation.__table__.c  # type: ignore[attr-defined]
    base = e.team_id == bindparam("team")
    start, end, at = bindparam("start"), bindparam("end"), bindparam("at")

    def count(name: str, *where: Any) -> Any:
        return select(literal(name).label("k"), func.count().label("n")).where(base, *where)

    counts = union_all(
        count("opened", e.created_at >= start, e.created_at < end, e.status != WITHDRAWN),
        count("acknowledged", e.acknowledged_at >= start, e.acknowledged_at < end),
        count("resolved", e.resolved_at >= start, e.resolved_at < end),
        count(
            "overdue",
            e.created_at < at,
            e.ack_deadline_at.is_not(None),
            e.ack_deadline_at < at,
            e.acknowledged_at.is_(None) | (e.acknowledged_at > at),
            e.resolved_at.is_(None) | (e.resolved_at > at),
        ),
    )

    def spans(name: str, later: Any) -> Any:
        return select(literal(name).label("k"), e.created_at, later.label("later")).where(
            base, later >= start, later < end
        )

    return counts, union_all(spans("ack", e.acknowledged_at), spans("resolve", e.resolved_at))


def escalation_counts(
    *, session: Session, team_id: int | None, start: datetime, end: datetime, at: datetime
) -> dict[str, int]:
    """{"opened", "acknowledged", "resolved": in [start, end); "overdue": still
    unacknowledged and unresolved past their deadline at `at`} (missing keys are 0)."""
    counts_stmt, _spans = _statements()
    params = {"team": team_id, "start": start, "end": end, "at": at}
    return {k: int(n) for k, n in session.execute(counts_stmt, params).all()}


def escalation_spans(
    *, session: Session, team_id: int | None, start: datetime, end: datetime
) -> list[tuple[str, datetime, datetime]]:
    """("ack" | "resolve", created_at, acknowledged_at or resolved_at) for escalations
    acknowledged or resolved in [start, end): few per team and period, so the spans are
    read, not the whole table; each part keeps its index."""
    _counts, spans_stmt = _statements()
    params = {"team": team_id, "start": start, "end": end}
    return [(kind, a, b) for kind, a, b in session.execute(spans_stmt, params)]
