"""Where each helpdesk sync stands: cursor, last sync, tickets seen, lag, last error.

One row per (workspace, source). The cursor moves in the same transaction as the page of
tickets it follows, so a crash resumes from the last committed page. A lease on the row
keeps two replicas (or `supportbot run` and a manual `supportbot sync`) from walking the
same helpdesk at once.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint, or_, update
from sqlmodel import Field, Session, SQLModel, col, select

from supportbot.storage.claims import insert_once
from supportbot.storage.types import UTCDateTime


class HelpdeskSync(SQLModel, table=True):
    __tablename__ = "helpdesk_sync"
    __table_args__ = (UniqueConstraint("workspace_id", "source", name="uq_helpdesk_sync"),)

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: str = Field(max_length=32)
    source: str = Field(max_length=16)  # "zendesk" | "freshdesk"
    cursor: str | None = Field(default=None, max_length=2000)  # Zendesk's after_cursor
    page: int = Field(default=1)  # Freshdesk: page within one second of updates
    resume_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # newest update committed
    deleted_resume_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    ratings_resume_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    backfill_from: datetime | None = Field(default=None, sa_type=UTCDateTime)
    synced_through: datetime | None = Field(default=None, sa_type=UTCDateTime)  # complete up to
    last_sync_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_success_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    tickets_seen: int = Field(default=0)
    last_error: str | None = Field(default=None, max_length=500)
    auth_failed: bool = Field(default=False)
    credentials: str | None = Field(default=None, max_length=32)  # fingerprint, not the secret
    lease_owner: str | None = Field(default=None, max_length=64)
    lease_until: datetime | None = Field(default=None, sa_type=UTCDateTime)


def get_state(*, session: Session, workspace_id: str, source: str) -> HelpdeskSync | None:
    return session.exec(
        select(HelpdeskSync).where(
            col(HelpdeskSync.workspace_id) == workspace_id, col(HelpdeskSync.source) == source
        )
    ).first()


def ensure_state(*, session: Session, workspace_id: str, source: str) -> HelpdeskSync:
    insert_once(session=session, row=HelpdeskSync(workspace_id=workspace_id, source=source))
    state = get_state(session=session, workspace_id=workspace_id, source=source)
    assert state is not None
    return state


def list_states(*, session: Session, workspace_id: str | None = None, source: str | None = None) -> list[HelpdeskSync]:
    query = select(HelpdeskSync)
    if workspace_id is not None:
        query = query.where(col(HelpdeskSync.workspace_id) == workspace_id)
    if source is not None:
        query = query.where(col(HelpdeskSync.source) == source)
    return list(session.exec(query.order_by(col(HelpdeskSync.source), col(HelpdeskSync.workspace_id))))


def take_lease(
    *, session: Session, state_id: int, owner: str, now: datetime, until: datetime, steal_from: str | None = None
) -> bool:
    """Conditional UPDATE: the lease is ours if it was free, expired, already ours, or
    held by `steal_from` (a process the caller knows to be dead)."""
    table = HelpdeskSync.__table__  # type: ignore[attr-defined]
    free = [table.c.lease_until.is_(None), table.c.lease_until < now, table.c.lease_owner == owner]
    if steal_from:
        free.append(table.c.lease_owner == steal_from)
    result = session.execute(
        update(table).where(table.c.id == state_id, or_(*free)).values(lease_owner=owner, lease_until=until)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def release_lease(*, session: Session, state_id: int, owner: str) -> None:
    table = HelpdeskSync.__table__  # type: ignore[attr-defined]
    session.execute(
        update(table)
        .where(table.c.id == state_id, table.c.lease_owner == owner)
        .values(lease_owner=None, lease_until=None)
    )
