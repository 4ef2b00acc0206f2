"""Coaching notes and goals: private to the leaders of the agent's team. The caller owns
the session and the transaction; who may read or write is decided in bot/coaching.py."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column, ForeignKey, Index, Integer, Text, update
from sqlmodel import Field, Session, SQLModel, col, select

from supportbot.storage.types import UTCDateTime

GOAL_OPEN, GOAL_DONE = "open", "done"


class CoachingNote(SQLModel, table=True):
    """A leader's private note about an agent; `text` is exactly what the leader typed."""

    __tablename__ = "coaching_note"
    __table_args__ = (
        Index("ix_coaching_note_team_agent", "team_id", "agent_id", "id"),
        Index("ix_coaching_note_follow_up", "follow_up_sent", "follow_up_on"),
    )

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: str = Field(max_length=32)
    team_id: int = Field(
        sa_column=Column(Integer, ForeignKey("team.id", ondelete="CASCADE"), nullable=False)
    )
    agent_id: str = Field(max_length=32)
    author_id: str = Field(max_length=32)
    text: str = Field(sa_type=Text)
    tags: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    follow_up_on: date | None = Field(default=None)
    follow_up_sent: bool = Field(default=False)
    source_link: str | None = Field(default=None, max_length=1000)
    created_at: datetime = Field(sa_type=UTCDateTime)


class Goal(SQLModel, table=True):
    """A goal for an agent: a KPI target (`metric op target`) or free text, due on a day."""

    __tablename__ = "coaching_goal"
    __table_args__ = (Index("ix_coaching_goal_team_agent", "team_id", "agent_id", "status"),)

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: str = Field(max_length=32)
    team_id: int = Field(
        sa_column=Column(Integer, ForeignKey("team.id", ondelete="CASCADE"), nullable=False)
    )
    agent_id: str = Field(max_length=32)
    author_id: str = Field(max_length=32)
    kind: str = Field(max_length=8)  # "kpi" | "text"
    metric: str | None = Field(default=None, max_length=16)
    op: str | None = Field(default=None, max_length=2)
    target: float | None = Field(default=None)
    text: str | None = Field(default=None, sa_type=Text)
    due_on: date
    status: str = Field(default=GOAL_OPEN, max_length=8)
    created_at: datetime = Field(sa_type=UTCDateTime)
    done_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


def notes_about(
    *, session: Session, team_id: int, agent_id: str, before_id: int | None = None, limit: int = 5
) -> Sequence[CoachingNote]:
    """Newest first; `before_id` pages to older notes."""
    query = select(CoachingNote).where(
        CoachingNote.team_id == team_id, CoachingNote.agent_id == agent_id
    )
    if before_id is not None:
        query = query.where(col(CoachingNote.id) < before_id)
    return session.exec(query.order_by(col(CoachingNote.id).desc()).limit(limit)).all()


def pending_follow_ups(*, session: Session, due_by: date) -> Sequence[CoachingNote]:
    """Follow-ups not yet reminded whose day is on or before `due_by`."""
    return session.exec(
        select(CoachingNote)
        .where(
            col(CoachingNote.follow_up_sent).is_(False),
            col(CoachingNote.follow_up_on).is_not(None),
            col(CoachingNote.follow_up_on) <= due_by,
        )
        .order_by(col(CoachingNote.follow_up_on), col(CoachingNote.id))
    ).all()


def follow_ups_by(*, session: Session, team_id: int, author_id: str) -> Sequence[CoachingNote]:
    """The author's follow-ups in a team that have not been reminded yet, soonest first."""
    return session.exec(
        select(CoachingNote)
        .where(
            CoachingNote.team_id == team_id,
            CoachingNote.author_id == author_id,
            col(CoachingNote.follow_up_sent).is_(False),
            col(CoachingNote.follow_up_on).is_not(None),
        )
        .order_by(col(CoachingNote.follow_up_on), col(CoachingNote.id))
    ).all()


def mark_follow_up_sent(*, session: Session, note_id: int) -> bool:
    """Conditional update: True for the one caller that flipped it."""
    result: Any = session.execute(
        update(CoachingNote)
        .where(col(CoachingNote.id) == note_id, col(CoachingNote.follow_up_sent).is_(False))
        .values(follow_up_sent=True)
    )
    return bool(result.rowcount)


def get_note(*, session: Session, note_id: int) -> CoachingNote | None:
    return session.get(CoachingNote, note_id)


def get_goal(*, session: Session, goal_id: int) -> Goal | None:
    return session.get(Goal, goal_id)


def goals_of(
    *, session: Session, team_id: int, agent_id: str, include_done: bool = False
) -> Sequence[Goal]:
    """Open goals first (soonest due), then done ones (latest first)."""
    query = select(Goal).where(Goal.team_id == team_id, Goal.agent_id == agent_id)
    if not include_done:
        query = query.where(Goal.status == GOAL_OPEN)
    rows = session.exec(query.order_by(col(Goal.due_on), col(Goal.id))).all()
    return [g for g in rows if g.status == GOAL_OPEN] + sorted(
        (g for g in rows if g.status != GOAL_OPEN), key=lambda g: g.id or 0, reverse=True
    )


def close_goal(*, session: Session, goal_id: int, now: datetime) -> bool:
    """Conditional update open -> done: False when it was already done."""
    result: Any = session.execute(
        update(Goal)
        .where(col(Goal.id) == goal_id, Goal.status == GOAL_OPEN)
        .values(status=GOAL_DONE, done_at=now)
    )
    return bool(result.rowcount)
