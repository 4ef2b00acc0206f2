"""Claims and receipts: a unique key inserted once decides who does a piece of work."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from storage.models import EventReceipt, JobClaim


def try_claim(*, session: Session, key: str, now: datetime, owner: str = "") -> bool:
    """Insert the claim; False when someone (another replica, an earlier run) has it."""
    nested = session.begin_nested()
    try:
        session.add(JobClaim(key=key, claimed_at=now, owner=owner))
        session.flush()
        nested.commit()
        return True
    except IntegrityError:
        nested.rollback()
        return False


def is_claimed(*, session: Session, key: str) -> bool:
    return session.get(JobClaim, key) is not None


def record_event(*, session: Session, event_id: str, workspace_id: str, now: datetime) -> bool:
    """True the first time an event id is seen, False for a retried delivery."""
    nested = session.begin_nested()
    try:
        session.add(EventReceipt(event_id=event_id, workspace_id=workspace_id, received_at=now))
        session.flush()
        nested.commit()
        return True
    except IntegrityError:
        nested.rollback()
        return False


def forget_events_before(*, session: Session, before: datetime) -> int:
    result = session.execute(delete(EventReceipt).where(col(EventReceipt.received_at) < before))
    return result.rowcount or 0  # type: ignore[attr-defined]
