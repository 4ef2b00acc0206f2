"""Claims and receipts: a unique key inserted once decides who does a piece of work."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, SQLModel, col

from storage.models import EventReceipt, JobClaim


def insert_once(*, session: Session, row: SQLModel) -> bool:
    """Insert a row whose key must be unique; False (and nothing written) when it exists."""
    nested = session.begin_nested()
    try:
        session.add(row)
        session.flush()
        nested.commit()
        return True
    except IntegrityError:
        nested.rollback()
        return False


def try_claim(*, session: Session, key: str, now: datetime, owner: str = "") -> bool:
    """Insert the claim; False when someone (another replica, an earlier run) has it."""
    return insert_once(session=session, row=JobClaim(key=key, claimed_at=now, owner=owner))


def is_claimed(*, session: Session, key: str) -> bool:
    return session.get(JobClaim, key) is not None


def record_event(*, session: Session, event_id: str, workspace_id: str, now: datetime) -> bool:
    """True the first time an event id is seen, False for a retried delivery."""
    receipt = EventReceipt(event_id=event_id, workspace_id=workspace_id, received_at=now)
    return insert_once(session=session, row=receipt)


def forget_events_before(*, session: Session, before: datetime) -> int:
    result = session.execute(delete(EventReceipt).where(col(EventReceipt.received_at) < before))
    return result.rowcount or 0  # type: ignore[attr-defined]
