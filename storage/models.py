"""Foundation tables: teams, members, the outbox, job claims and event receipts.

Every table holding workspace data carries `workspace_id` (Slack's team id, `T...`).
Feature tables live beside their queries (`storage/escalations.py`, ...).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, ForeignKey, Integer, UniqueConstraint
from sqlmodel import Field, SQLModel

from supportbot.storage.types import UTCDateTime

ROLE_LEADER = "leader"
ROLE_MEMBER = "member"


class Team(SQLModel, table=True):
    __tablename__ = "team"
    __table_args__ = (UniqueConstraint("workspace_id", "name", name="uq_team_workspace_name"),)

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: str = Field(index=True, max_length=32)
    name: str = Field(max_length=80)
    escalation_channel: str = Field(max_length=32)
    digest_channel: str | None = Field(default=None, max_length=32)
    timezone: str = Field(default="UTC", max_length=64)
    language: str = Field(default="en", max_length=8)
    settings: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(sa_type=UTCDateTime)


class TeamMember(SQLModel, table=True):
    __tablename__ = "team_member"
    __table_args__ = (UniqueConstraint("team_id", "user_id", name="uq_team_member"),)

    id: int | None = Field(default=None, primary_key=True)
    team_id: int = Field(
        sa_column=Column(Integer, ForeignKey("team.id", ondelete="CASCADE"), nullable=False)
    )
    workspace_id: str = Field(index=True, max_length=32)
    user_id: str = Field(index=True, max_length=32)
    role: str = Field(default=ROLE_MEMBER, max_length=16)
    position: int = Field(default=0)
    created_at: datetime = Field(sa_type=UTCDateTime)


class OutboxMessage(SQLModel, table=True):
    """A Slack call that must happen: stored first, delivered (and retried) after."""

    __tablename__ = "outbox_message"

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: str = Field(index=True, max_length=32)
    kind: str = Field(max_length=64)
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    dedupe_key: str | None = Field(default=None, unique=True, max_length=255)
    status: str = Field(default="pending", index=True, max_length=16)
    attempts: int = Field(default=0)
    next_attempt_at: datetime = Field(sa_type=UTCDateTime, index=True)
    locked_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    locked_by: str | None = Field(default=None, max_length=128)
    last_error: str | None = Field(default=None, max_length=500)
    result: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    created_at: datetime = Field(sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class JobClaim(SQLModel, table=True):
    """One row per (job, scheduled time): whoever inserts it first does the work."""

    __tablename__ = "job_claim"

    key: str = Field(primary_key=True, max_length=255)
    claimed_at: datetime = Field(sa_type=UTCDateTime)
    owner: str = Field(default="", max_length=128)


class EventReceipt(SQLModel, table=True):
    """Slack event ids already handled, so a retried delivery is handled once."""

    __tablename__ = "event_receipt"

    event_id: str = Field(primary_key=True, max_length=64)
    workspace_id: str = Field(default="", max_length=32)
    received_at: datetime = Field(sa_type=UTCDateTime, index=True)
