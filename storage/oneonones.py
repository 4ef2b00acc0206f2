"""1:1s: a recurring schedule per leader and agent, its meetings, talking points that carry
forward until discussed, and action items that show until done."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import UniqueConstraint, update
from sqlmodel import Field, Session, SQLModel, col, select

from supportbot.storage.claims import insert_once
from supportbot.storage.types import UTCDateTime


class OneOnOne(SQLModel, table=True):
    __tablename__ = "oneonone"
    __table_args__ = (
        UniqueConstraint("workspace_id", "leader_id", "agent_id", name="uq_oneonone_pair"),
    )

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: str = Field(index=True, max_length=32)
    team_id: int = Field(index=True)
    leader_id: str = Field(max_length=32)
    agent_id: str = Field(index=True, max_length=32)
    cadence: str = Field(max_length=8)  # weekly | biweekly
    weekday: int  # 0 = Monday
    time: str = Field(max_length=5)  # "15:00" in the team's zone
    lead_minutes: int = Field(default=30)
    anchor_on: date  # the first meeting day; biweekly counts weeks from it
    active: bool = Field(default=True)
    created_at: datetime = Field(sa_type=UTCDateTime)


class OneOnOneMeeting(SQLModel, table=True):
    __tablename__ = "oneonone_meeting"
    __table_args__ = (
        UniqueConstraint("oneonone_id", "scheduled_at", name="uq_oneonone_meeting"),
    )

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: str = Field(index=True, max_length=32)
    oneonone_id: int = Field(index=True)
    scheduled_at: datetime = Field(sa_type=UTCDateTime)  # the regular occurrence
    at: datetime = Field(sa_type=UTCDateTime, index=True)  # when it happens (moved or not)
    reminded_for: datetime | None = Field(default=None, sa_type=UTCDateTime)
    done_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(sa_type=UTCDateTime)


class OneOnOneTopic(SQLModel, table=True):
    __tablename__ = "oneonone_topic"

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: str = Field(index=True, max_length=32)
    oneonone_id: int = Field(index=True)
    author_id: str = Field(max_length=32)
    text: str = Field(max_length=1000)
    created_at: datetime = Field(sa_type=UTCDateTime)
    discussed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class OneOnOneAction(SQLModel, table=True):
    __tablename__ = "oneonone_action"

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: str = Field(index=True, max_length=32)
    oneonone_id: int = Field(index=True)
    meeting_id: int | None = Field(default=None)
    owner_id: str = Field(max_length=32)
    text: str = Field(max_length=1000)
    due_on: date
    created_at: datetime = Field(sa_type=UTCDateTime)
    done_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


def get(*, session: Session, oneonone_id: int) -> OneOnOne | None:
    return session.get(OneOnOne, oneonone_id)


def pair(*, session: Session, workspace_id: str, leader_id: str, agent_id: str) -> OneOnOne | None:
    return session.exec(
        select(OneOnOne).where(
            OneOnOne.workspace_id == workspace_id,
            OneOnOne.leader_id == leader_id,
            OneOnOne.agent_id == agent_id,
        )
    ).first()


def active(*, session: Session) -> Sequence[OneOnOne]:
    return session.exec(
        select(OneOnOne).where(OneOnOne.active == True).order_by(col(OneOnOne.id))  # noqa: E712
    ).all()


def of_user(*, session: Session, workspace_id: str, user_id: str) -> Sequence[OneOnOne]:
    """Active 1:1s the user leads or attends."""
    return session.exec(
        select(OneOnOne)
        .where(
            OneOnOne.workspace_id == workspace_id,
            OneOnOne.active == True,  # noqa: E712
            (OneOnOne.leader_id == user_id) | (OneOnOne.agent_id == user_id),
        )
        .order_by(col(OneOnOne.id))
    ).all()


def save(*, session: Session, row: SQLModel) -> None:
    session.add(row)
    session.flush()


def meeting_for(
    *, session: Session, meeting: OneOnOneMeeting
) -> tuple[OneOnOneMeeting, bool]:
    """The meeting of that occurrence, created once whichever replica comes first."""
    if insert_once(session=session, row=meeting):
        return meeting, True
    existing = session.exec(
        select(OneOnOneMeeting).where(
            OneOnOneMeeting.oneonone_id == meeting.oneonone_id,
            OneOnOneMeeting.scheduled_at == meeting.scheduled_at,
        )
    ).first()
    assert existing is not None
    return existing, False


def move_meeting(*, session: Session, meeting_id: int, from_at: datetime, to_at: datetime) -> bool:
    """Conditional: only a meeting still at `from_at` moves (double clicks move it once)."""
    result = session.execute(
        update(OneOnOneMeeting)
        .where(col(OneOnOneMeeting.id) == meeting_id, col(OneOnOneMeeting.at) == from_at)
        .values(at=to_at)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


def get_meeting(*, session: Session, meeting_id: int) -> OneOnOneMeeting | None:
    return session.get(OneOnOneMeeting, meeting_id)


def last_done(*, session: Session, oneonone_id: int, before: datetime) -> OneOnOneMeeting | None:
    return session.exec(
        select(OneOnOneMeeting)
        .where(
            OneOnOneMeeting.oneonone_id == oneonone_id,
            col(OneOnOneMeeting.done_at).is_not(None),
            col(OneOnOneMeeting.at) < before,
        )
        .order_by(col(OneOnOneMeeting.at).desc())
    ).first()


def moved_due(*, session: Session, until: datetime, since: datetime) -> Sequence[OneOnOneMeeting]:
    """Moved meetings whose reminder time has come and that were not reminded for it."""
    return session.exec(
        select(OneOnOneMeeting).where(
            col(OneOnOneMeeting.done_at).is_(None),
            col(OneOnOneMeeting.at) != col(OneOnOneMeeting.scheduled_at),
            col(OneOnOneMeeting.at) <= until,
            col(OneOnOneMeeting.at) > since,
        )
    ).all()


def mark_reminded(*, session: Session, meeting_id: int, at: datetime) -> bool:
    """True for the one caller that records the reminder for this meeting time."""
    result = session.execute(
        update(OneOnOneMeeting)
        .where(
            col(OneOnOneMeeting.id) == meeting_id,
            (col(OneOnOneMeeting.reminded_for).is_(None))
            | (col(OneOnOneMeeting.reminded_for) != at),
        )
        .values(reminded_for=at)
    )
    return (result.rowcount or 0) == 1  # type: ignore[attr-defined]


def open_topics(*, session: Session, oneonone_id: int) -> Sequence[OneOnOneTopic]:
    return session.exec(
        select(OneOnOneTopic)
        .where(OneOnOneTopic.oneonone_id == oneonone_id, col(OneOnOneTopic.discussed_at).is_(None))
        .order_by(col(OneOnOneTopic.id))
    ).all()


def open_actions(*, session: Session, oneonone_id: int) -> Sequence[OneOnOneAction]:
    return session.exec(
        select(OneOnOneAction)
        .where(OneOnOneAction.oneonone_id == oneonone_id, col(OneOnOneAction.done_at).is_(None))
        .order_by(col(OneOnOneAction.due_on), col(OneOnOneAction.id))
    ).all()
