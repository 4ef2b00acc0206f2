"""Alerts raised from the helpdesk tickets: SLA-risk posts (one row per flagged ticket,
grouped under the channel message that named it) and ticket spikes (one row per spike).

"Once" is decided by the database, not by the scanner: a ticket is flagged by inserting
its (team, ticket row) pair, and a spike opens by inserting a row that a partial unique
index allows only once per (team, metric) while it is open. A second replica scanning at
the same moment inserts nothing and so sends nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import (
    JSON,
    Column,
    ForeignKey,
    Index,
    Integer,
    UniqueConstraint,
    and_,
    case,
    delete,
    func,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Field, Session, SQLModel, col
from sqlmodel import select as sm_select

from supportbot.storage.claims import insert_once
from supportbot.storage.kpis import Scope, Ticket
from supportbot.storage.kpis.scope import ticket_filter
from supportbot.storage.models import JobClaim
from supportbot.storage.types import UTCDateTime

# Helpdesk statuses of a ticket nobody needs to answer any more (Zendesk solved/closed,
# Freshdesk Resolved/Closed, and what CSV exports call them).
CLOSED_STATUSES = ("solved", "closed", "resolved", "deleted")

# Outcomes of a flagged ticket; None while it is still at risk.
ANSWERED = "answered"  # first reply within the target
BREACHED = "breached"  # target passed with no reply, or the reply came late
SOLVED = "solved"  # closed without a first reply, before the target
REMOVED = "removed"  # the ticket left the KPI store (deleted in the helpdesk)


class SlaAlertPost(SQLModel, table=True):
    """One channel message of one scan, naming the tickets it flagged."""

    __tablename__ = "alert_sla_post"
    __table_args__ = (Index("ix_alert_sla_post_team_created", "team_id", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: str = Field(max_length=32)
    team_id: int = Field(
        sa_column=Column(Integer, ForeignKey("team.id", ondelete="CASCADE"), nullable=False)
    )
    channel_id: str = Field(max_length=32)
    message_ts: str | None = Field(default=None, max_length=32)
    created_at: datetime = Field(sa_type=UTCDateTime)


class SlaAlertTicket(SQLModel, table=True):
    """A ticket flagged at risk of missing its first-response target, once per team."""

    __tablename__ = "alert_sla_ticket"
    __table_args__ = (
        UniqueConstraint("team_id", "ticket_row_id", name="uq_alert_sla_ticket"),
        Index("ix_alert_sla_ticket_post", "post_id"),
        Index("ix_alert_sla_ticket_team_flagged", "team_id", "flagged_at"),
        Index("ix_alert_sla_ticket_team_outcome", "team_id", "outcome", "outcome_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: str = Field(max_length=32)
    team_id: int = Field(
        sa_column=Column(Integer, ForeignKey("team.id", ondelete="CASCADE"), nullable=False)
    )
    post_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("alert_sla_post.id", ondelete="CASCADE"), nullable=False
        )
    )
    ticket_row_id: int  # kpi_ticket.id: the helpdesk's ticket id is only unique per helpdesk
    ticket_ref: str = Field(max_length=128)
    ticket_created_at: datetime = Field(sa_type=UTCDateTime)
    target_minutes: int
    agent_id: str | None = Field(default=None, max_length=32)
    agent_email: str | None = Field(default=None, max_length=254)
    flagged_at: datetime = Field(sa_type=UTCDateTime)
    outcome: str | None = Field(default=None, max_length=16)
    outcome_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    reply_seconds: int | None = Field(default=None)


class SpikeAlert(SQLModel, table=True):
    """One spike of new or unanswered tickets; open (ended_at NULL) while it lasts."""

    __tablename__ = "alert_spike"
    __table_args__ = (
        Index(
            "uq_alert_spike_open",
            "team_id",
            "metric",
            unique=True,
            sqlite_where=text("ended_at IS NULL"),
            postgresql_where=text("ended_at IS NULL"),
        ),
        Index("ix_alert_spike_team_started", "team_id", "started_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: str = Field(max_length=32)
    team_id: int = Field(
        sa_column=Column(Integer, ForeignKey("team.id", ondelete="CASCADE"), nullable=False)
    )
    metric: str = Field(max_length=16)  # "new" | "unanswered"
    started_at: datetime = Field(sa_type=UTCDateTime)
    last_above_at: datetime = Field(sa_type=UTCDateTime)
    ended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    value: int
    baseline: list[int] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    mean: float
    stdev: float
    line: float
    min_extra: int


# ----- which tickets are the team's ---------------------------------------------------
def owned(scope: Scope) -> ColumnElement[bool]:
    """The team's tickets in its workspace, by the rule /kpis counts them with."""
    t = Ticket.__table__.c  # type: ignore[attr-defined]
    return and_(t.workspace_id == scope.workspace_id, ticket_filter(scope))


def _not_closed() -> ColumnElement[bool]:
    t = Ticket.__table__.c  # type: ignore[attr-defined]
    return or_(t.status.is_(None), func.lower(t.status).not_in(CLOSED_STATUSES))


@dataclass(frozen=True)
class Waiting:
    """An open ticket with no first reply yet."""

    row_id: int
    ticket_id: str
    created_at: datetime
    sla_target_minutes: int | None
    agent_id: str | None
    agent_email: str | None


def waiting_tickets(
    *, session: Session, scope: Scope, since: datetime, until: datetime, limit: int
) -> list[Waiting]:
    """Open, unanswered tickets created in [since, until], newest first, so `limit` keeps
    the recent ones (partial index on unanswered tickets: a few percent of the table)."""
    t = Ticket.__table__.c  # type: ignore[attr-defined]
    rows = session.connection().execute(
        select(t.id, t.ticket_id, t.created_at, t.sla_target_minutes, t.agent_id, t.agent_email)
        .where(
            owned(scope),
            t.frt_seconds.is_(None),
            t.first_response_at.is_(None),
            t.solved_at.is_(None),
            t.created_at >= since,
            t.created_at <= until,
            _not_closed(),
        )
        .order_by(t.created_at.desc(), t.id.desc())
        .limit(limit)
    )
    return [Waiting(*row) for row in rows]


# ----- SLA-risk posts -----------------------------------------------------------------
def add_post(
    *, session: Session, workspace_id: str, team_id: int, channel_id: str, now: datetime
) -> SlaAlertPost:
    post = SlaAlertPost(
        workspace_id=workspace_id, team_id=team_id, channel_id=channel_id, created_at=now
    )
    session.add(post)
    session.flush()
    return post


def flag_ticket(*, session: Session, row: SlaAlertTicket) -> bool:
    """False (nothing written) when the team's alert already named this ticket."""
    return insert_once(session=session, row=row)


def already_flagged(*, session: Session, team_id: int, row_ids: Sequence[int]) -> set[int]:
    """Which of these ticket rows the team's alerts have named before."""
    if not row_ids:
        return set()
    s = SlaAlertTicket.__table__.c  # type: ignore[attr-defined]
    found = session.connection().execute(
        select(s.ticket_row_id).where(s.team_id == team_id, s.ticket_row_id.in_(list(row_ids)))
    )
    return {int(r) for r in found.scalars()}


def delete_post(*, session: Session, post: SlaAlertPost) -> None:
    session.delete(post)
    session.flush()


def get_post(*, session: Session, post_id: int) -> SlaAlertPost | None:
    return session.get(SlaAlertPost, post_id)


def set_post_message(*, session: Session, post_id: int, channel_id: str, ts: str) -> None:
    session.execute(
        update(SlaAlertPost)
        .where(col(SlaAlertPost.id) == post_id)
        .values(channel_id=channel_id, message_ts=ts)
    )


def post_tickets(*, session: Session, post_id: int) -> list[SlaAlertTicket]:
    return list(
        session.exec(
            sm_select(SlaAlertTicket)
            .where(col(SlaAlertTicket.post_id) == post_id)
            .order_by(col(SlaAlertTicket.ticket_created_at), col(SlaAlertTicket.id))
        ).all()
    )


def get_flagged(*, session: Session, flagged_id: int) -> SlaAlertTicket | None:
    return session.get(SlaAlertTicket, flagged_id)


def still_at_risk(
    *, session: Session, team_id: int
) -> list[tuple[SlaAlertTicket, Ticket | None]]:
    """The team's flagged tickets with no outcome yet, with the ticket's current row."""
    rows = session.exec(
        sm_select(SlaAlertTicket, Ticket)
        .join(Ticket, col(Ticket.id) == col(SlaAlertTicket.ticket_row_id), isouter=True)
        .where(col(SlaAlertTicket.team_id) == team_id, col(SlaAlertTicket.outcome).is_(None))
        .order_by(col(SlaAlertTicket.id))
    ).all()
    return [(flagged, ticket) for flagged, ticket in rows]


def set_outcome(
    *,
    session: Session,
    flagged_id: int,
    outcome: str,
    at: datetime,
    reply_seconds: int | None = None,
) -> bool:
    """Record how a flagged ticket ended; False when someone recorded it first."""
    result = session.execute(
        update(SlaAlertTicket)
        .where(col(SlaAlertTicket.id) == flagged_id, col(SlaAlertTicket.outcome).is_(None))
        .values(outcome=outcome, outcome_at=at, reply_seconds=reply_seconds)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


SCAN_CLAIM_PREFIX = "alerts:scan:"


def forget_scan_claims(*, session: Session, before: datetime) -> int:
    """Drop the per-minute scan claims older than `before` (only the last minute matters)."""
    result = session.execute(
        delete(JobClaim).where(
            col(JobClaim.key).startswith(SCAN_CLAIM_PREFIX), col(JobClaim.claimed_at) < before
        )
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


# ----- spikes -------------------------------------------------------------------------
def hour_counts(
    *, session: Session, scope: Scope, ends: Sequence[datetime], window: timedelta
) -> list[tuple[int, int]]:
    """For each end e: (tickets created in [e - window, e), those of them with no first
    reply and not solved at e). One range of the created index per window (an OR of the
    ranges makes SQLite scan the whole team)."""
    t = Ticket.__table__.c  # type: ignore[attr-defined]
    out = []
    for end in ends:
        waiting = and_(
            or_(t.first_response_at.is_(None), t.first_response_at > end),
            or_(t.solved_at.is_(None), t.solved_at > end),
        )
        found = session.connection().execute(
            select(func.count(), func.sum(case((waiting, 1), else_=0))).where(
                owned(scope), t.created_at >= end - window, t.created_at < end
            )
        ).one()
        out.append((int(found[0] or 0), int(found[1] or 0)))
    return out


def has_tickets_before(*, session: Session, scope: Scope, before: datetime) -> bool:
    t = Ticket.__table__.c  # type: ignore[attr-defined]
    found = session.connection().execute(
        select(t.id).where(owned(scope), t.created_at < before).limit(1)
    )
    return found.first() is not None


def touch_spike(*, session: Session, team_id: int, metric: str, now: datetime, value: int) -> bool:
    """The open spike is still above its line: True when there is one."""
    result = session.execute(
        update(SpikeAlert)
        .where(
            col(SpikeAlert.team_id) == team_id,
            col(SpikeAlert.metric) == metric,
            col(SpikeAlert.ended_at).is_(None),
        )
        .values(
            last_above_at=now,
            value=case((col(SpikeAlert.value) < value, value), else_=col(SpikeAlert.value)),
        )
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def open_spike_metrics(*, session: Session, team_id: int) -> set[str]:
    p = SpikeAlert.__table__.c  # type: ignore[attr-defined]
    found = session.connection().execute(
        select(p.metric).where(p.team_id == team_id, p.ended_at.is_(None))
    )
    return set(found.scalars())


def open_spike(*, session: Session, row: SpikeAlert) -> bool:
    """Start a spike; False when one is already open for the team and metric."""
    return insert_once(session=session, row=row)


def end_spikes(*, session: Session, team_id: int, metric: str, quiet_since: datetime, now: datetime) -> int:
    """Close the open spike whose count has not been above its line since `quiet_since`."""
    result = session.execute(
        update(SpikeAlert)
        .where(
            col(SpikeAlert.team_id) == team_id,
            col(SpikeAlert.metric) == metric,
            col(SpikeAlert.ended_at).is_(None),
            col(SpikeAlert.last_above_at) < quiet_since,
        )
        .values(ended_at=now)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def get_spike(*, session: Session, spike_id: int) -> SpikeAlert | None:
    return session.get(SpikeAlert, spike_id)


# ----- the daily digest ---------------------------------------------------------------
@dataclass(frozen=True)
class AlertCounts:
    at_risk: int  # tickets flagged at risk of missing the first-response target
    breached: int  # flagged tickets whose target passed (no reply, or a late one)
    spikes: int  # spikes of new or unanswered tickets


def alert_counts(
    *, session: Session, team_id: int, start: datetime, end: datetime
) -> AlertCounts:
    """What the team's alerts saw in [start, end): tickets flagged, flagged tickets that
    breached their target, and spikes started."""
    s = SlaAlertTicket.__table__.c  # type: ignore[attr-defined]
    flagged = session.connection().execute(
        select(func.count()).where(
            s.team_id == team_id, s.flagged_at >= start, s.flagged_at < end
        )
    ).scalar_one()
    breached = session.connection().execute(
        select(func.count()).where(
            s.team_id == team_id,
            s.outcome == BREACHED,
            s.outcome_at >= start,
            s.outcome_at < end,
        )
    ).scalar_one()
    p = SpikeAlert.__table__.c  # type: ignore[attr-defined]
    spikes = session.connection().execute(
        select(func.count()).where(
            p.team_id == team_id, p.started_at >= start, p.started_at < end
        )
    ).scalar_one()
    return AlertCounts(int(flagged), int(breached), int(spikes))
