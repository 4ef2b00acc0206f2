"""Outbox queries: rows are claimed with a conditional UPDATE so replicas never share one."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, func, select

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


def due_ids(*, session: Session, now: datetime, limit: int = 100) -> list[int]:
    return list(
        session.exec(
            select(OutboxMessage.id)
            .where(
                OutboxMessage.status == PENDING,
                col(OutboxMessage.next_attempt_at) <= now,
                (col(OutboxMessage.locked_until).is_(None))
                | (col(OutboxMessage.locked_until) < now),
            )
            .order_by(col(OutboxMessage.next_attempt_at), col(OutboxMessage.id))
            .limit(limit)
        ).all()
    )


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
