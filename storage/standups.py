"""Stand-ups: one schedule per team, a run per scheduled day, a prompt (and answer) per
member and run, and the time zone each member wants their prompt in."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column, UniqueConstraint, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Field, Session, SQLModel, col, select

from supportbot.storage.claims import insert_once
from supportbot.storage.types import UTCDateTime

PROMPTED = "prompted"
AWAY = "away"


class StandupSchedule(SQLModel, table=True):
    __tablename__ = "standup_schedule"
    __table_args__ = (UniqueConstraint("team_id", name="uq_standup_schedule_team"),)

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: str = Field(index=True, max_length=32)
    team_id: int = Field(index=True)
    days: str = Field(max_length=32)  # "mon,tue,wed,thu,fri"
    time: str = Field(max_length=5)  # "09:30", in each member's zone
    channel_id: str | None = Field(default=None, max_length=32)
    questions: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    blocker_question: str | None = Field(default=None, max_length=300)
    cutoff_minutes: int = Field(default=120)
    reminder_minutes: int = Field(default=60)
    paused: bool = Field(default=False)
    skip_days: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    created_by: str = Field(max_length=32)
    created_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)


class MemberTimezone(SQLModel, table=True):
    __tablename__ = "member_timezone"
    __table_args__ = (UniqueConstraint("workspace_id", "user_id", name="uq_member_timezone"),)

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: str = Field(index=True, max_length=32)
    user_id: str = Field(max_length=32)
    timezone: str = Field(max_length=64)
    source: str = Field(default="user", max_length=8)  # "user" (typed) or "slack"
    updated_at: datetime = Field(sa_type=UTCDateTime)


class StandupRun(SQLModel, table=True):
    """The stand-up of one day: its message in the team channel and its answers' thread."""

    __tablename__ = "standup_run"
    __table_args__ = (UniqueConstraint("schedule_id", "day", name="uq_standup_run_day"),)

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: str = Field(index=True, max_length=32)
    schedule_id: int = Field(index=True)
    team_id: int
    day: date
    channel_id: str = Field(max_length=32)
    ts: str | None = Field(default=None, max_length=32)
    questions: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    blocker_question: str | None = Field(default=None, max_length=300)
    closes_at: datetime = Field(sa_type=UTCDateTime, index=True)
    closed: bool = Field(default=False, index=True)
    created_at: datetime = Field(sa_type=UTCDateTime)


class StandupPrompt(SQLModel, table=True):
    """One member in one run: prompted (or away), reminded, and their answer."""

    __tablename__ = "standup_prompt"
    __table_args__ = (UniqueConstraint("run_id", "user_id", name="uq_standup_prompt"),)

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: str = Field(index=True, max_length=32)
    run_id: int = Field(index=True)
    user_id: str = Field(max_length=32)
    status: str = Field(default=PROMPTED, max_length=16)
    prompted_at: datetime = Field(sa_type=UTCDateTime)
    remind_at: datetime = Field(sa_type=UTCDateTime, index=True)
    cutoff_at: datetime = Field(sa_type=UTCDateTime)
    reminded: bool = Field(default=False)
    answers: list[str] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    blocker: str | None = Field(default=None, max_length=3000)
    mood: int | None = Field(default=None)
    answered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    version: int = Field(default=0)
    reply_ts: str | None = Field(default=None, max_length=32)
    dm_channel: str | None = Field(default=None, max_length=32)
    dm_ts: str | None = Field(default=None, max_length=32)


# ----- schedules ----------------------------------------------------------------------
def get_schedule(*, session: Session, schedule_id: int) -> StandupSchedule | None:
    return session.get(StandupSchedule, schedule_id)


def schedule_of_team(*, session: Session, team_id: int) -> StandupSchedule | None:
    return session.exec(select(StandupSchedule).where(StandupSchedule.team_id == team_id)).first()


def all_schedules(*, session: Session) -> Sequence[StandupSchedule]:
    return session.exec(select(StandupSchedule).order_by(col(StandupSchedule.id))).all()


def save(*, session: Session, row: SQLModel) -> Any:
    session.add(row)
    session.flush()
    return row


# ----- member time zones --------------------------------------------------------------
def timezone_of(*, session: Session, workspace_id: str, user_id: str) -> MemberTimezone | None:
    return session.exec(
        select(MemberTimezone).where(
            MemberTimezone.workspace_id == workspace_id, MemberTimezone.user_id == user_id
        )
    ).first()


def timezones_of(
    *, session: Session, workspace_id: str, user_ids: Sequence[str]
) -> dict[str, MemberTimezone]:
    if not user_ids:
        return {}
    rows = session.exec(
        select(MemberTimezone).where(
            MemberTimezone.workspace_id == workspace_id,
            col(MemberTimezone.user_id).in_(list(user_ids)),
        )
    ).all()
    return {r.user_id: r for r in rows}


def set_timezone(
    *, session: Session, workspace_id: str, user_id: str, timezone: str, source: str, now: datetime
) -> MemberTimezone:
    row = timezone_of(session=session, workspace_id=workspace_id, user_id=user_id)
    if row is None:
        row = MemberTimezone(workspace_id=workspace_id, user_id=user_id, timezone=timezone, source=source, updated_at=now)
        if insert_once(session=session, row=row):
            return row
        row = timezone_of(session=session, workspace_id=workspace_id, user_id=user_id)
        assert row is not None
    row.timezone, row.source, row.updated_at = timezone, source, now
    return save(session=session, row=row)


# ----- runs and prompts ---------------------------------------------------------------
def run_for_day(*, session: Session, schedule_id: int, day: date) -> StandupRun | None:
    return session.exec(
        select(StandupRun).where(StandupRun.schedule_id == schedule_id, StandupRun.day == day)
    ).first()


def get_or_create_run(*, session: Session, run: StandupRun) -> tuple[StandupRun, bool]:
    """The run of that day, created once whichever replica or zone comes first."""
    if insert_once(session=session, row=run):
        return run, True
    existing = run_for_day(session=session, schedule_id=run.schedule_id, day=run.day)
    assert existing is not None
    return existing, False


def get_run(*, session: Session, run_id: int) -> StandupRun | None:
    return session.get(StandupRun, run_id)


def get_prompt(*, session: Session, prompt_id: int) -> StandupPrompt | None:
    return session.get(StandupPrompt, prompt_id)


def add_prompt(*, session: Session, prompt: StandupPrompt) -> bool:
    """False when the member already has a prompt in this run."""
    return insert_once(session=session, row=prompt)


def add_prompts(
    *, session: Session, template: StandupPrompt, people: Sequence[tuple[str, str]]
) -> list[tuple[int, str, str]]:
    """Insert one prompt per (user_id, status), the rest as `template`, in one executemany
    (a 300-person fan-out stays one short transaction); -> (id, user_id, status) of those
    inserted. A member who already has a prompt in the run (a replica, a restart got there
    first) is left out."""
    session.flush()
    table = StandupPrompt.__table__  # type: ignore[attr-defined]
    insert = sqlite_insert if session.get_bind().dialect.name == "sqlite" else pg_insert
    base = template.model_dump(exclude={"id"})
    rows = [{**base, "user_id": user, "status": status} for user, status in people]
    if not rows:
        return []
    stmt = insert(table).on_conflict_do_nothing().returning(table.c.id, table.c.user_id, table.c.status)
    return [(i, user, status) for i, user, status in session.execute(stmt, rows).all()]


def prompts_of(*, session: Session, run_id: int) -> Sequence[StandupPrompt]:
    return session.exec(
        select(StandupPrompt).where(StandupPrompt.run_id == run_id).order_by(col(StandupPrompt.id))
    ).all()


def reminders_due(*, session: Session, now: datetime) -> Sequence[StandupPrompt]:
    return session.exec(
        select(StandupPrompt).where(
            StandupPrompt.status == PROMPTED,
            col(StandupPrompt.answered_at).is_(None),
            StandupPrompt.reminded == False,  # noqa: E712
            col(StandupPrompt.remind_at) <= now,
            col(StandupPrompt.cutoff_at) > now,
        )
    ).all()


def mark_reminded(*, session: Session, prompt_id: int) -> bool:
    """True for the one caller (replica) that flips it."""
    result = session.execute(
        update(StandupPrompt)
        .where(col(StandupPrompt.id) == prompt_id, StandupPrompt.reminded == False)  # noqa: E712
        .values(reminded=True)
    )
    return (result.rowcount or 0) == 1  # type: ignore[attr-defined]


def runs_to_close(*, session: Session, now: datetime) -> Sequence[StandupRun]:
    return session.exec(
        select(StandupRun).where(
            StandupRun.closed == False,  # noqa: E712
            col(StandupRun.closes_at) <= now,
        )
    ).all()


def mark_closed(*, session: Session, run_id: int) -> bool:
    result = session.execute(
        update(StandupRun)
        .where(col(StandupRun.id) == run_id, StandupRun.closed == False)  # noqa: E712
        .values(closed=True)
    )
    return (result.rowcount or 0) == 1  # type: ignore[attr-defined]
