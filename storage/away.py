"""The away roster: who is out, from which day to which day (inclusive, local dates)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import bindparam
from sqlmodel import Field, Session, SQLModel, col, select

from supportbot.storage.types import UTCDateTime


class AwayPeriod(SQLModel, table=True):
    __tablename__ = "away_period"

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: str = Field(index=True, max_length=32)
    user_id: str = Field(index=True, max_length=32)
    start_on: date
    end_on: date = Field(index=True)
    note: str | None = Field(default=None, max_length=500)
    created_by: str = Field(max_length=32)
    created_at: datetime = Field(sa_type=UTCDateTime)


def add_period(*, session: Session, period: AwayPeriod) -> AwayPeriod:
    session.add(period)
    session.flush()
    return period


def covering_any(
    *, session: Session, workspace_id: str, user_ids: Sequence[str], first: date, last: date
) -> Sequence[AwayPeriod]:
    """Periods of these people that overlap the days first..last."""
    if not user_ids:
        return []
    params = {"workspace_id": workspace_id, "user_ids": list(user_ids), "first": first, "last": last}
    return session.exec(_COVERING_ANY, params=params).all()


_COVERING_ANY = select(AwayPeriod).where(  # built once: /escalate asks on every command
    AwayPeriod.workspace_id == bindparam("workspace_id"),
    col(AwayPeriod.user_id).in_(bindparam("user_ids", expanding=True)),
    col(AwayPeriod.start_on) <= bindparam("last"),
    col(AwayPeriod.end_on) >= bindparam("first"),
)


def upcoming(
    *, session: Session, workspace_id: str, user_ids: Sequence[str], from_day: date
) -> Sequence[AwayPeriod]:
    """Periods not over yet for these people, soonest first."""
    if not user_ids:
        return []
    return session.exec(
        select(AwayPeriod)
        .where(
            AwayPeriod.workspace_id == workspace_id,
            col(AwayPeriod.user_id).in_(list(user_ids)),
            col(AwayPeriod.end_on) >= from_day,
        )
        .order_by(col(AwayPeriod.start_on), col(AwayPeriod.id))
    ).all()


def delete_periods(*, session: Session, periods: Sequence[AwayPeriod]) -> None:
    for period in periods:
        session.delete(period)
