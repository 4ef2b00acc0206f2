"""Outbox queries: rows are claimed with a conditional UPDATE so replicas never share one."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, delete, true, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Field, Session, SQLModel, col, func, select

from supportbot.storage.claims import insert_once
from supportbot.storage.models import OutboxMessage

PENDING, SENT, FAILED = "pending", "sent", "failed"


def add_message(
    *,
    session: Session,
    workspace_id: str,
    kind: str,
    data: dict[str, Any],
    now: datetime,
    dedupe_key: str | None = None,
    not_before: datetime | None = None,
) -> OutboxMessage | None:
    """Insert one message; with a dedupe_key already present, insert nothing (None)."""
    row = OutboxMessage(
        workspace_id=workspace_id,
        kind=kind,
        data=data,
        dedupe_key=dedupe_key,
        next_attempt_at=not_before or now,
        created_at=now,
    )
    return row if insert_once(session=session, row=row) else None


def add_messages(
    *, session: Session, workspace_id: str, kind: str, items: Sequence[tuple[dict[str, Any], str]], now: datetime
) -> int:
    """Insert many messages of one kind, each (data, dedupe_key), in one executemany; keys
    already present are skipped. -> how many were inserted."""
    table = OutboxMessage.__table__  # type: ignore[attr-defined]
    insert = sqlite_insert if session.get_bind().dialect.name == "sqlite" else pg_insert
    base = OutboxMessage(workspace_id=workspace_id, kind=kind, next_attempt_at=now, created_at=now).model_dump(exclude={"id"})
    rows = [{**base, "data": data, "dedupe_key": key} for data, key in items]
    if not rows:
        return 0
    stmt = insert(table).on_conflict_do_nothing().returning(table.c.id)
    return len(session.execute(stmt, rows).all())


def due(
    *,
    session: Session,
    now: datetime,
    limit: int = 100,
    urgent: Sequence[str] = (),
    bulk: Sequence[str] = (),
    exclude: Sequence[str] = (),
) -> list[tuple[int, str]]:
    """(id, kind) of messages to deliver now: urgent kinds first, bulk kinds last, each
    group oldest first, so an escalation never waits behind a 300-person fan-out; kinds
    in `exclude` (their rate budget is spent) are left out."""
    rank = case(
        (col(OutboxMessage.kind).in_(list(urgent) or [""]), 0),
        (col(OutboxMessage.kind).in_(list(bulk) or [""]), 2),
        else_=1,
    )
    rows = session.exec(
        select(OutboxMessage.id, OutboxMessage.kind)
        .where(
            OutboxMessage.status == PENDING,
            col(OutboxMessage.next_attempt_at) <= now,
            (col(OutboxMessage.locked_until).is_(None)) | (col(OutboxMessage.locked_until) < now),
            col(OutboxMessage.kind).not_in(list(exclude)) if exclude else true(),
        )
        .order_by(rank, col(OutboxMessage.next_attempt_at), col(OutboxMessage.id))
        .limit(limit)
    ).all()
    return [(i, k) for i, k in rows if i is not None]



def next_attempt(*, session: Session, after: datetime, newer_than: int = 0) -> datetime | None:
    """When the next delivery round is worth running: the earliest pending message not due
    at `after`, or one added after the round began (id above `newer_than`, not leased)."""
    pending = OutboxMessage.status == PENDING
    later = session.exec(
        select(func.min(OutboxMessage.next_attempt_at)).where(
            pending, col(OutboxMessage.next_attempt_at) > after
        )
    ).first()
    if newer_than:
        added = session.exec(
            select(func.min(OutboxMessage.next_attempt_at)).where(
                pending,
                col(OutboxMessage.id) > newer_than,
                (col(OutboxMessage.locked_until).is_(None)) | (col(OutboxMessage.locked_until) < after),
            )
        ).first()
        if added is not None and (later is None or added < later):
            return added
    return later


def claim(
    *, session: Session, message_id: int, now: datetime, lease: timedelta, owner: str = ""
) -> bool:
    """Lease one pending row; True when this caller got it."""
    result = session.execute(
        update(OutboxMessage)
        .where(
            col(OutboxMessage.id) == message_id,
            col(OutboxMessage.status) == PENDING,
            (col(OutboxMessage.locked_until).is_(None)) | (col(OutboxMessage.locked_until) < now),
        )
        .values(locked_until=now + lease, locked_by=owner)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


def leases_held(*, session: Session, owner_prefix: str, now: datetime) -> list[tuple[int, str]]:
    """(id, owner) of pending rows leased by owners whose id starts with the prefix."""
    rows = session.exec(
        select(OutboxMessage.id, OutboxMessage.locked_by).where(
            OutboxMessage.status == PENDING,
            col(OutboxMessage.locked_until) >= now,
            col(OutboxMessage.locked_by).startswith(owner_prefix),
        )
    ).all()
    return [(i, o or "") for i, o in rows if i is not None]


def release(*, session: Session, message_id: int) -> None:
    session.execute(
        update(OutboxMessage)
        .where(col(OutboxMessage.id) == message_id)
        .values(locked_until=None, locked_by=None)
    )


def release_row(message: OutboxMessage) -> None:
    """Drop the lease of a row being changed in the caller's session."""
    message.locked_until = None
    message.locked_by = None


def get_message(*, session: Session, message_id: int) -> OutboxMessage | None:
    return session.get(OutboxMessage, message_id)


def data_of(*, session: Session, message_ids: Sequence[int]) -> dict[int, tuple[str, str, dict[str, Any]]]:
    """{id: (workspace, kind, data)} of the given messages, in one query."""
    rows = session.exec(
        select(OutboxMessage.id, OutboxMessage.workspace_id, OutboxMessage.kind, OutboxMessage.data).where(
            col(OutboxMessage.id).in_(list(message_ids))
        )
    ).all()
    return {i: (w, k, d) for i, w, k, d in rows if i is not None}


def status_of(*, session: Session, dedupe_key: str) -> str | None:
    """Status of the message stored under `dedupe_key` (None when there is none)."""
    return session.exec(select(OutboxMessage.status).where(OutboxMessage.dedupe_key == dedupe_key)).first()


def counts_by_status(*, session: Session, workspace_id: str) -> dict[str, int]:
    rows = session.exec(
        select(OutboxMessage.status, func.count())
        .where(OutboxMessage.workspace_id == workspace_id)
        .group_by(OutboxMessage.status)
    ).all()
    return {status: n for status, n in rows}


def recent_failures(
    *, session: Session, workspace_id: str, limit: int = 10
) -> Sequence[OutboxMessage]:
    return session.exec(
        select(OutboxMessage)
        .where(OutboxMessage.workspace_id == workspace_id, OutboxMessage.status == FAILED)
        .order_by(col(OutboxMessage.id).desc())
        .limit(limit)
    ).all()


def oldest_pending(*, session: Session, workspace_id: str) -> OutboxMessage | None:
    return session.exec(
        select(OutboxMessage)
        .where(OutboxMessage.workspace_id == workspace_id, OutboxMessage.status == PENDING)
        .order_by(col(OutboxMessage.created_at))
        .limit(1)
    ).first()


# ----- Slack rate budgets shared by every replica ----------------------------------------
class SlackRate(SQLModel, table=True):
    """One Slack rate budget (a method in a workspace, or one channel's posting budget):
    when its next call may go (`tat`, the theoretical arrival time of GCRA) and until when
    a 429 paused it. Every replica's outbox reserves its call here before sending."""

    __tablename__ = "slack_rate"

    key: str = Field(primary_key=True, max_length=255)
    workspace_id: str = Field(default="", max_length=32)
    tat: float = Field(default=0.0)  # epoch seconds
    paused_until: float = Field(default=0.0)  # epoch seconds
    version: int = Field(default=0)


@dataclass(frozen=True)
class Budget:
    """A key's pacing: one call per `interval` seconds, up to `burst` at once."""

    key: str
    interval: float
    burst: int


def _rate_row(session: Session, key: str, workspace_id: str) -> SlackRate:
    row = session.get(SlackRate, key)
    if row is None:
        insert_once(session=session, row=SlackRate(key=key, workspace_id=workspace_id))
        row = session.get(SlackRate, key)
        assert row is not None
    return row


# Clocks and floats disagree by microseconds; a budget free within this is free now.
EPSILON = 1e-5


class Contended(Exception):
    """Another replica changed a budget between our read and our write; try again."""


@dataclass(frozen=True)
class Reservation:
    """`wait` 0.0: the call may go, and `free_at` says when each budget allows the next
    one. Else `wait` seconds until all allow one, and `short` the budget that is short."""

    wait: float
    short: str | None = None
    free_at: dict[str, float] | None = None


def reserve(
    *, session: Session, workspace_id: str, budgets: Sequence[Budget], now: float
) -> Reservation:
    """Take one call from every budget at once, or none (GCRA: a budget's `tat` moves one
    interval per call; a call is allowed while `tat` is at most `burst - 1` intervals
    ahead of now). Raises Contended when another replica won the race (the caller rolls
    back and tries again)."""
    rows = [(b, _rate_row(session, b.key, workspace_id)) for b in budgets]
    wait, short = 0.0, None
    for budget, row in rows:
        tolerance = (budget.burst - 1) * budget.interval
        allowed_at = max(row.paused_until, row.tat - tolerance)
        if allowed_at - now > wait:
            wait, short = allowed_at - now, budget.key
    if wait > EPSILON:
        return Reservation(wait, short)
    free_at = {}
    for budget, row in rows:
        tat = max(row.tat, now) + budget.interval
        result = session.execute(
            update(SlackRate)
            .where(col(SlackRate.key) == budget.key, col(SlackRate.version) == row.version)
            .values(tat=tat, version=row.version + 1)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            raise Contended(budget.key)
        free_at[budget.key] = max(row.paused_until, tat - (budget.burst - 1) * budget.interval)
    return Reservation(0.0, None, free_at)


def pause(*, session: Session, workspace_id: str, key: str, until: float) -> None:
    """Record a 429's Retry-After: no replica calls this budget before `until`."""
    row = _rate_row(session, key, workspace_id)
    session.execute(
        update(SlackRate)
        .where(col(SlackRate.key) == key)
        .values(
            paused_until=func.max(SlackRate.paused_until, until)
            if session.get_bind().dialect.name == "sqlite"
            else func.greatest(SlackRate.paused_until, until),
            version=row.version + 1,
        )
        .execution_options(synchronize_session=False)
    )


def paused(*, session: Session, workspace_id: str, now: float) -> dict[str, float]:
    """{key: paused_until} of the workspace's budgets paused at `now`."""
    rows = session.exec(
        select(SlackRate.key, SlackRate.paused_until).where(
            SlackRate.workspace_id == workspace_id, col(SlackRate.paused_until) > now
        )
    ).all()
    return {k: until for k, until in rows}


def forget_rates_before(*, session: Session, before: float) -> int:
    """Drop budgets nobody used since `before` (one row per DM channel adds up)."""
    result = session.execute(
        delete(SlackRate).where(col(SlackRate.tat) < before, col(SlackRate.paused_until) < before)
    )
    return result.rowcount or 0  # type: ignore[attr-defined]
