"""The anonymous pulse: a per-team settings/schedule row, one row per pulse, who was asked
(and whether they answered), and the answers, which carry nothing that leads to a person.

Why the answers cannot be tied to anyone is explained in `supportbot.bot.pulse`; the
rules it relies on at this layer:
- `PulseAnswer` has no user id, no timestamp and no sequence: its key is the SHA-256 of a
  random answer key only the member's Slack DM holds, with their user id (`key_hash`), or, once the pulse is
  sealed, a fresh random token. Nothing else in the database holds that key.
- `PulseRespondent` (who was asked, who answered) is inserted for everyone at once when the
  pulse opens and shares no column with an answer but the pulse id.
- `seal` rewrites a closed pulse's answers in random order under new random keys and
  touches every respondent row in one statement, so even storage order and row versions
  stop matching the order people answered in.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, UniqueConstraint, delete, func, update
from sqlmodel import Field, Session, SQLModel, col, select

from supportbot.storage.claims import insert_once
from supportbot.storage.standups import StandupPrompt, StandupRun
from supportbot.storage.types import UTCDateTime


class PulseSchedule(SQLModel, table=True):
    """A team's pulse settings: when it opens (none until scheduled), its wording, state."""

    __tablename__ = "pulse_schedule"
    __table_args__ = (UniqueConstraint("team_id", name="uq_pulse_schedule_team"),)

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: str = Field(index=True, max_length=32)
    team_id: int = Field(index=True)
    days: str | None = Field(default=None, max_length=32)  # "fri"; None: not scheduled
    time: str | None = Field(default=None, max_length=5)  # "15:00" in the team's zone
    questions: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    open_hours: int = Field(default=48)
    paused: bool = Field(default=False)
    updated_by: str = Field(max_length=32)
    updated_at: datetime = Field(sa_type=UTCDateTime)


class Pulse(SQLModel, table=True):
    """One pulse of one team: open from `opened_at` to `closes_at`."""

    __tablename__ = "pulse"
    __table_args__ = (Index("ix_pulse_team_opened", "team_id", "opened_at"),)

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: str = Field(index=True, max_length=32)
    team_id: int
    week: date  # the Monday of the week it opened in, in the team's zone
    questions: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    min_answers: int = Field(default=5)
    opened_at: datetime = Field(sa_type=UTCDateTime)
    remind_at: datetime = Field(sa_type=UTCDateTime)
    closes_at: datetime = Field(sa_type=UTCDateTime, index=True)
    reminded: bool = Field(default=False)
    closed: bool = Field(default=False, index=True)
    opened_by: str | None = Field(default=None, max_length=32)  # None: the schedule


class PulseRespondent(SQLModel, table=True):
    """A member asked in a pulse. Says whether they answered, never what."""

    __tablename__ = "pulse_respondent"
    __table_args__ = (UniqueConstraint("pulse_id", "user_id", name="uq_pulse_respondent"),)

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: str = Field(index=True, max_length=32)
    pulse_id: int = Field(index=True)
    user_id: str = Field(max_length=32)
    answered: bool = Field(default=False)
    sealed: bool = Field(default=False)
    dm_channel: str | None = Field(default=None, max_length=32)
    dm_ts: str | None = Field(default=None, max_length=32)
    reminder_ts: str | None = Field(default=None, max_length=32)


class PulseAnswer(SQLModel, table=True):
    """One anonymous answer: no user, no time, no sequence (see the module docstring)."""

    __tablename__ = "pulse_answer"

    key_hash: str = Field(primary_key=True, max_length=64)
    pulse_id: int = Field(index=True)
    mood: int
    workload: int
    enps: int
    comment: str | None = Field(default=None, max_length=2000)


def hash_key(key: str, user_id: str) -> str:
    """What an answer row keeps of the member's answer key: SHA-256 of the key and their
    user id. The key is 128 random bits nobody stores, so the hash cannot be recomputed
    for a member; the user id binds it, so a key passed on to someone else finds nothing."""
    return hashlib.sha256(f"{key}:{user_id}".encode()).hexdigest()


# ----- schedules ----------------------------------------------------------------------
def schedule_of_team(*, session: Session, team_id: int) -> PulseSchedule | None:
    return session.exec(select(PulseSchedule).where(PulseSchedule.team_id == team_id)).first()


def all_schedules(*, session: Session) -> Sequence[PulseSchedule]:
    return session.exec(
        select(PulseSchedule)
        .where(col(PulseSchedule.days).is_not(None), PulseSchedule.paused == False)  # noqa: E712
        .order_by(col(PulseSchedule.id))
    ).all()


def save(*, session: Session, row: SQLModel) -> Any:
    session.add(row)
    session.flush()
    return row


# ----- pulses -------------------------------------------------------------------------
def get_pulse(*, session: Session, pulse_id: int) -> Pulse | None:
    return session.get(Pulse, pulse_id)


def open_pulse_of_team(*, session: Session, team_id: int) -> Pulse | None:
    return session.exec(
        select(Pulse)
        .where(Pulse.team_id == team_id, Pulse.closed == False)  # noqa: E712
        .order_by(col(Pulse.opened_at).desc())
    ).first()


def closed_pulses(*, session: Session, team_id: int, limit: int) -> list[Pulse]:
    """The team's latest closed pulses, oldest first."""
    rows = session.exec(
        select(Pulse)
        .where(Pulse.team_id == team_id, Pulse.closed == True)  # noqa: E712
        .order_by(col(Pulse.opened_at).desc(), col(Pulse.id).desc())
        .limit(limit)
    ).all()
    return list(reversed(rows))


def add_respondents(*, session: Session, pulse: Pulse, user_ids: Sequence[str]) -> list[PulseRespondent]:
    assert pulse.id is not None
    added = []
    for uid in user_ids:
        row = PulseRespondent(workspace_id=pulse.workspace_id, pulse_id=pulse.id, user_id=uid)
        if insert_once(session=session, row=row):
            added.append(row)
    return added


def get_respondent(*, session: Session, respondent_id: int) -> PulseRespondent | None:
    return session.get(PulseRespondent, respondent_id)


def respondent(*, session: Session, pulse_id: int, user_id: str) -> PulseRespondent | None:
    return session.exec(
        select(PulseRespondent).where(
            PulseRespondent.pulse_id == pulse_id, PulseRespondent.user_id == user_id
        )
    ).first()


def respondents_of(*, session: Session, pulse_id: int) -> Sequence[PulseRespondent]:
    return session.exec(
        select(PulseRespondent)
        .where(PulseRespondent.pulse_id == pulse_id)
        .order_by(col(PulseRespondent.id))
    ).all()


def mark_answered(*, session: Session, respondent_id: int) -> bool:
    """True for the one submission that turns "asked" into "answered"."""
    result = session.execute(
        update(PulseRespondent)
        .where(col(PulseRespondent.id) == respondent_id, PulseRespondent.answered == False)  # noqa: E712
        .values(answered=True)
    )
    return (result.rowcount or 0) == 1  # type: ignore[attr-defined]


def count_answered(*, session: Session, pulse_id: int) -> tuple[int, int]:
    """(answered, asked)."""
    rows = session.exec(
        select(PulseRespondent.answered, func.count())
        .where(PulseRespondent.pulse_id == pulse_id)
        .group_by(PulseRespondent.answered)
    ).all()
    counts = {bool(a): int(n) for a, n in rows}
    return counts.get(True, 0), sum(counts.values())


def reminders_due(*, session: Session, now: datetime) -> Sequence[Pulse]:
    return session.exec(
        select(Pulse).where(
            Pulse.closed == False,  # noqa: E712
            Pulse.reminded == False,  # noqa: E712
            col(Pulse.remind_at) <= now,
            col(Pulse.closes_at) > now,
        )
    ).all()


def mark_reminded(*, session: Session, pulse_id: int) -> bool:
    result = session.execute(
        update(Pulse)
        .where(col(Pulse.id) == pulse_id, Pulse.reminded == False)  # noqa: E712
        .values(reminded=True)
    )
    return (result.rowcount or 0) == 1  # type: ignore[attr-defined]


def pulses_to_close(*, session: Session, now: datetime) -> Sequence[Pulse]:
    return session.exec(
        select(Pulse).where(Pulse.closed == False, col(Pulse.closes_at) <= now)  # noqa: E712
    ).all()


def mark_closed(*, session: Session, pulse_id: int) -> bool:
    result = session.execute(
        update(Pulse)
        .where(col(Pulse.id) == pulse_id, Pulse.closed == False)  # noqa: E712
        .values(closed=True)
    )
    return (result.rowcount or 0) == 1  # type: ignore[attr-defined]


# ----- answers ------------------------------------------------------------------------
def answer_by_key(*, session: Session, pulse_id: int, key_hash: str) -> PulseAnswer | None:
    row = session.get(PulseAnswer, key_hash)
    return row if row is not None and row.pulse_id == pulse_id else None


def add_answer(*, session: Session, answer: PulseAnswer) -> None:
    session.add(answer)
    session.flush()


def answers_of(*, session: Session, pulse_id: int) -> list[PulseAnswer]:
    """The pulse's answers, in key order (random: neither answer nor person order)."""
    return list(
        session.exec(
            select(PulseAnswer)
            .where(PulseAnswer.pulse_id == pulse_id)
            .order_by(col(PulseAnswer.key_hash))
        ).all()
    )


def seal(*, session: Session, pulse_id: int) -> int:
    """After closing: answers re-inserted in random order under new random keys (the keys
    members hold stop working), and every respondent row rewritten in one statement."""
    rows = answers_of(session=session, pulse_id=pulse_id)
    copies = [
        {"pulse_id": r.pulse_id, "mood": r.mood, "workload": r.workload, "enps": r.enps, "comment": r.comment}
        for r in rows
    ]
    session.execute(delete(PulseAnswer).where(col(PulseAnswer.pulse_id) == pulse_id))
    session.flush()
    shuffled = sorted(copies, key=lambda _row: secrets.token_bytes(16))
    for data in shuffled:
        session.add(PulseAnswer(key_hash="sealed-" + secrets.token_hex(24), **data))
    session.flush()
    session.execute(
        update(PulseRespondent).where(col(PulseRespondent.pulse_id) == pulse_id).values(sealed=True)
    )
    return len(shuffled)


# ----- stand-up mood ------------------------------------------------------------------
def standup_moods(
    *, session: Session, team_id: int, first: date, last: date
) -> list[tuple[date, str, int]]:
    """(day, user, mood) of the team's stand-up answers with a mood in [first, last]."""
    rows = session.exec(
        select(StandupRun.day, StandupPrompt.user_id, StandupPrompt.mood)
        .join(StandupRun, col(StandupRun.id) == col(StandupPrompt.run_id))
        .where(
            StandupRun.team_id == team_id,
            col(StandupRun.day) >= first,
            col(StandupRun.day) <= last,
            col(StandupPrompt.mood).is_not(None),
        )
    ).all()
    return [(d, u, int(m)) for d, u, m in rows if m is not None]
