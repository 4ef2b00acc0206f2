"""Escalation tables and queries. The caller owns the session and the transaction.

State changes that two people (or two replicas) may attempt at once are conditional
UPDATEs (`... WHERE status = 'open'`): the one whose UPDATE matched a row did it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Column,
    ForeignKey,
    Index,
    Integer,
    Text,
    UniqueConstraint,
    bindparam,
    func,
    insert,
    or_,
    text,
    update,
)
from sqlmodel import Field, Session, SQLModel, col, select

from supportbot.storage.models import OutboxMessage
from supportbot.storage.outbox import PENDING, SENT
from supportbot.storage.types import UTCDateTime

OPEN, ACKNOWLEDGED, RESOLVED = "open", "acknowledged", "resolved"
WITHDRAWN = "withdrawn"  # by whoever raised it, before any leader acknowledged it
UNRESOLVED = (OPEN, ACKNOWLEDGED)


class Escalation(SQLModel, table=True):
    """A customer problem an agent raised to the team's leaders (shown as ESC-<number>)."""

    __tablename__ = "escalation"
    __table_args__ = (
        UniqueConstraint("workspace_id", "number", name="uq_escalation_workspace_number"),
        Index("ix_escalation_team_created", "team_id", "created_at"),
        Index("ix_escalation_team_acknowledged", "team_id", "acknowledged_at"),
        Index("ix_escalation_team_resolved", "team_id", "resolved_at"),
        Index("ix_escalation_status_deadline", "status", "ack_deadline_at"),
        Index("ix_escalation_workspace_reporter", "workspace_id", "reporter_id"),
        Index("ix_escalation_workspace_owner", "workspace_id", "owner_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: str = Field(max_length=32)
    team_id: int = Field(
        sa_column=Column(Integer, ForeignKey("team.id", ondelete="CASCADE"), nullable=False)
    )
    number: int
    severity: str = Field(max_length=16)
    category: str = Field(default="other", max_length=32)
    summary: str = Field(sa_type=Text)
    customer: str | None = Field(default=None, max_length=255)
    ticket_ref: str | None = Field(default=None, max_length=500)
    tried: str | None = Field(default=None, sa_type=Text)
    reporter_id: str = Field(max_length=32)
    owner_id: str | None = Field(default=None, max_length=32)
    status: str = Field(default=OPEN, max_length=16)
    created_at: datetime = Field(sa_type=UTCDateTime)
    acknowledged_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    acknowledged_by: str | None = Field(default=None, max_length=32)
    resolved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    resolved_by: str | None = Field(default=None, max_length=32)
    outcome: str | None = Field(default=None, max_length=32)
    resolution_note: str | None = Field(default=None, sa_type=Text)
    # Re-escalation: the step reached (0 = primary leader told) and when the next is due.
    level: int = Field(default=0)
    ack_deadline_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    overdue: bool = Field(default=False)
    channel_id: str | None = Field(default=None, max_length=32)
    message_ts: str | None = Field(default=None, max_length=32)

    @property
    def ref(self) -> str:
        return f"ESC-{self.number}"


class EscalationEvent(SQLModel, table=True):
    """History: who did what to an escalation, and when (kept for trends and 1:1s)."""

    __tablename__ = "escalation_event"
    __table_args__ = (Index("ix_escalation_event_workspace_at", "workspace_id", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: str = Field(max_length=32)
    escalation_id: int = Field(
        sa_column=Column(
            Integer,
            ForeignKey("escalation.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        )
    )
    actor_id: str | None = Field(default=None, max_length=32)
    action: str = Field(max_length=32)
    detail: str = Field(default="", sa_type=Text)
    at: datetime = Field(sa_type=UTCDateTime)


# ----- writing ---------------------------------------------------------------------
# Built once, and on the tables rather than the models: this is the /escalate ack path
# (see benchmarks/README.md for what the ORM's unit of work cost there).
_TABLE = Escalation.__table__  # type: ignore[attr-defined]
_LAST_NUMBER = select(func.coalesce(func.max(_TABLE.c.number), 0)).where(
    _TABLE.c.workspace_id == bindparam("workspace_id")
)
_NUMBER_LOCK = text("SELECT pg_advisory_xact_lock(hashtext(:key))")
_INSERT_MANY = insert(_TABLE).returning(_TABLE.c.id, sort_by_parameter_order=True)
_INSERT_EVENT = insert(EscalationEvent.__table__)  # type: ignore[attr-defined]
_INSERT_OUTBOX = insert(OutboxMessage.__table__)  # type: ignore[attr-defined]


def insert_many(*, session: Session, escalations: Sequence[Escalation]) -> list[Escalation]:
    """Insert with each workspace's next numbers, all rows in one statement. Numbers are
    counted under a lock held to the end of the transaction: on SQLite the writer lock
    (BEGIN IMMEDIATE), on PostgreSQL an advisory lock per workspace, so replicas number
    one after the other (the unique number is the safety net). Returns the given rows
    (never added to the session) with their ids and numbers set."""
    workspaces = sorted({e.workspace_id for e in escalations})  # one lock order everywhere
    postgres = session.get_bind().dialect.name == "postgresql"
    last: dict[str, int] = {}
    for workspace in workspaces:
        if postgres:
            session.execute(_NUMBER_LOCK, {"key": f"escalation-number:{workspace}"})
        last[workspace] = session.execute(_LAST_NUMBER, {"workspace_id": workspace}).scalar_one()
    values = []
    for escalation in escalations:
        last[escalation.workspace_id] += 1
        values.append({**escalation.model_dump(exclude={"id", "number"}), "number": last[escalation.workspace_id]})
    ids = session.execute(_INSERT_MANY, values).scalars().all()
    # The given rows become the stored ones (building new model instances cost more than
    # the INSERT); a batch retried after a failure numbers them afresh.
    for escalation, v, i in zip(escalations, values, ids, strict=True):
        escalation.id, escalation.number = i, v["number"]
    return list(escalations)


def add_event(
    *,
    session: Session,
    escalation: Escalation,
    actor_id: str | None,
    action: str,
    at: datetime,
    detail: str = "",
) -> None:
    assert escalation.id is not None
    session.execute(
        _INSERT_EVENT,
        {
            "workspace_id": escalation.workspace_id,
            "escalation_id": escalation.id,
            "actor_id": actor_id,
            "action": action,
            "detail": detail,
            "at": at,
        },
    )


def add_events(*, session: Session, events: Sequence[dict[str, Any]]) -> None:
    """Several history rows (dicts of EscalationEvent's columns) in one statement."""
    if events:
        session.execute(_INSERT_EVENT, list(events))


def transition(
    *,
    session: Session,
    escalation_id: int,
    from_statuses: Sequence[str],
    values: dict[str, Any],
    extra_where: Sequence[Any] = (),
) -> bool:
    """Change a row only if it is still in one of `from_statuses`; True when this call did."""
    result = session.execute(
        update(Escalation)
        .where(
            col(Escalation.id) == escalation_id,
            col(Escalation.status).in_(list(from_statuses)),
            *extra_where,
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


def owner_is(owner_id: str | None) -> Any:
    """A WHERE clause: the owner is still who the caller saw."""
    column = col(Escalation.owner_id)
    return column.is_(None) if owner_id is None else column == owner_id


def advance_level(
    *,
    session: Session,
    escalation_id: int,
    level: int,
    new_level: int,
    now: datetime,
    values: dict[str, Any],
) -> bool:
    """Move an open escalation from re-escalation step `level` on, once (replicas, restarts)."""
    return transition(
        session=session,
        escalation_id=escalation_id,
        from_statuses=(OPEN,),
        values={"level": new_level, **values},
        extra_where=(
            col(Escalation.level) == level,
            col(Escalation.ack_deadline_at).is_not(None),
            col(Escalation.ack_deadline_at) <= now,
        ),
    )


def set_message(*, session: Session, escalation_id: int, channel_id: str, ts: str) -> None:
    session.execute(
        update(Escalation)
        .where(col(Escalation.id) == escalation_id)
        .values(channel_id=channel_id, message_ts=ts)
        .execution_options(synchronize_session=False)
    )


# ----- reading ---------------------------------------------------------------------
def get_escalation(*, session: Session, escalation_id: int) -> Escalation | None:
    return session.get(Escalation, escalation_id, populate_existing=True)


def get_by_number(*, session: Session, workspace_id: str, number: int) -> Escalation | None:
    return session.exec(
        select(Escalation).where(
            Escalation.workspace_id == workspace_id, Escalation.number == number
        )
    ).first()


def list_unresolved(*, session: Session, team_id: int, limit: int = 100) -> Sequence[Escalation]:
    """The team's open and acknowledged escalations, oldest first."""
    return session.exec(
        select(Escalation)
        .where(Escalation.team_id == team_id, col(Escalation.status).in_(UNRESOLVED))
        .order_by(col(Escalation.created_at), col(Escalation.id))
        .limit(limit)
    ).all()


def list_withdrawn(*, session: Session, team_id: int, limit: int = 100) -> Sequence[Escalation]:
    """The team's withdrawn escalations, newest first."""
    return session.exec(
        select(Escalation)
        .where(Escalation.team_id == team_id, Escalation.status == WITHDRAWN)
        .order_by(col(Escalation.created_at).desc(), col(Escalation.id).desc())
        .limit(limit)
    ).all()


def count_withdrawn(*, session: Session, team_id: int) -> int:
    return int(
        session.exec(
            select(func.count())
            .select_from(Escalation)
            .where(Escalation.team_id == team_id, Escalation.status == WITHDRAWN)
        ).one()
    )


def sent_dms(*, session: Session, escalation_id: int) -> list[dict[str, Any]]:
    """The DMs about an escalation that reached Slack: each one's outbox data (who, why)
    and where it is (`channel`, `ts` from Slack's answer), oldest first."""
    rows = session.exec(
        select(OutboxMessage)
        .where(
            col(OutboxMessage.dedupe_key).like(f"esc:{escalation_id}:dm:%"),
            OutboxMessage.status == SENT,
        )
        .order_by(col(OutboxMessage.id))
    ).all()
    return [
        {**row.data, "channel": row.result["channel"], "ts": row.result["ts"]}
        for row in rows
        if row.result and row.result.get("channel") and row.result.get("ts")
    ]


def count_unresolved(*, session: Session, team_id: int) -> int:
    return int(
        session.exec(
            select(func.count())
            .select_from(Escalation)
            .where(Escalation.team_id == team_id, col(Escalation.status).in_(UNRESOLVED))
        ).one()
    )


def due_for_reescalation(*, session: Session, now: datetime, limit: int = 500) -> list[int]:
    return list(
        session.exec(
            select(Escalation.id)
            .where(
                Escalation.status == OPEN,
                col(Escalation.ack_deadline_at).is_not(None),
                col(Escalation.ack_deadline_at) <= now,
            )
            .order_by(col(Escalation.ack_deadline_at))
            .limit(limit)
        ).all()
    )


def events_of(*, session: Session, escalation_id: int) -> Sequence[EscalationEvent]:
    return session.exec(
        select(EscalationEvent)
        .where(EscalationEvent.escalation_id == escalation_id)
        .order_by(col(EscalationEvent.at), col(EscalationEvent.id))
    ).all()


def escalations_involving(
    *, session: Session, workspace_id: str, user_id: str, since: datetime, until: datetime
) -> Sequence[Escalation]:
    """Escalations the user raised, owned, acknowledged or resolved, with any of that
    happening in [since, until) - for the 1:1 agenda. Oldest first."""

    def within(column: Any) -> Any:
        return (col(column) >= since) & (col(column) < until)

    return session.exec(
        select(Escalation)
        .where(
            Escalation.workspace_id == workspace_id,
            or_(
                (col(Escalation.reporter_id) == user_id) & within(Escalation.created_at),
                (col(Escalation.acknowledged_by) == user_id) & within(Escalation.acknowledged_at),
                (col(Escalation.resolved_by) == user_id) & within(Escalation.resolved_at),
                (col(Escalation.owner_id) == user_id)
                & (
                    within(Escalation.created_at)
                    | within(Escalation.acknowledged_at)
                    | within(Escalation.resolved_at)
                    | ((col(Escalation.status) != RESOLVED) & (col(Escalation.created_at) < until))
                ),
            ),
        )
        .order_by(col(Escalation.created_at), col(Escalation.id))
    ).all()


def enqueue_new(
    *,
    session: Session,
    messages: Sequence[tuple[str, str, dict[str, Any], str]],
    now: datetime,
) -> None:
    """Outbox messages (workspace, kind, data, dedupe key) for just-stored escalations, all
    in one plain insert: their keys are new by construction, so no conflict handling is
    needed (`storage.outbox.add_message` inserts one at a time, ignoring a taken key).
    Same row shape; delivered by the same outbox."""
    session.execute(
        _INSERT_OUTBOX,
        [
            {
                "workspace_id": workspace_id,
                "kind": kind,
                "data": data,
                "dedupe_key": key,
                "status": PENDING,
                "attempts": 0,
                "next_attempt_at": now,
                "locked_until": None,
                "last_error": None,
                "result": None,
                "created_at": now,
                "sent_at": None,
            }
            for workspace_id, kind, data, key in messages
        ],
    )

